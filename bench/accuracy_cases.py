"""The accuracy benchmark's prompts (bench/accuracy.py): the project's own, 66 of them.

Each case is one request: the tools it offers (or a ``response_format``), the
user's words, and what a right answer is: the function a call must name
(``expect``), ``None`` where no tool fits and the right answer is prose, or
``"json"`` for a structured-output prompt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MEMGPT_TOOLS: list[dict[str, Any]] = json.loads(
    (ROOT / "tests/fixtures/shared/memgpt-0.3.25-tools.json").read_text()
)["tools"]


def tool(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


WEATHER = tool(
    "get_weather",
    "Current weather in a city.",
    {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    },
    ["city"],
)
ALARM = tool(
    "set_alarm",
    "Set an alarm.",
    {
        "hour": {"type": "integer", "minimum": 0, "maximum": 23},
        "minute": {"type": "integer", "minimum": 0, "maximum": 59},
        "label": {"type": "string"},
    },
    ["hour", "minute"],
)
EMAIL = tool(
    "send_email",
    "Send an email.",
    {
        "to": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "subject": {"type": "string"},
        "body": {"type": "string"},
    },
    ["to", "subject", "body"],
)
ORDER = tool(
    "create_order",
    "Order products for delivery.",
    {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "product": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                },
                "required": ["product", "quantity"],
                "additionalProperties": False,
            },
            "minItems": 1,
        },
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
            "required": ["street", "city"],
            "additionalProperties": False,
        },
        "priority": {"type": "string", "enum": ["standard", "express"]},
    },
    ["items", "address"],
)
CONVERT = tool(
    "convert_currency",
    "Convert an amount between currencies.",
    {
        "amount": {"type": "number"},
        "from_currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "JPY"]},
        "to_currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "JPY"]},
    },
    ["amount", "from_currency", "to_currency"],
)
SEARCH = tool(
    "search_web",
    "Search the web.",
    {"query": {"type": "string"}, "max_results": {"type": "integer", "minimum": 1}},
    ["query"],
)
EVENT = tool(
    "add_calendar_event",
    "Add an event to the calendar.",
    {
        "title": {"type": "string"},
        "date": {"type": "string", "description": "YYYY-MM-DD"},
        "attendees": {"type": "array", "items": {"type": "string"}},
        "reminder": {
            "type": "object",
            "properties": {
                "minutes_before": {"type": "integer"},
                "method": {"type": "string", "enum": ["popup", "email"]},
            },
            "required": ["minutes_before"],
            "additionalProperties": False,
        },
    },
    ["title", "date"],
)
ASSISTANT_TOOLS = [WEATHER, ALARM, EMAIL, CONVERT, SEARCH]


@dataclass(frozen=True)
class Case:
    group: str
    user: str
    tools: list[dict[str, Any]] = field(default_factory=list)
    #: The function a right answer calls; None: no tool fits; "json": structured output.
    expect: str | None = None
    response_format: dict[str, Any] | None = None
    system: str = "You are a helpful assistant."
    parallel: bool = False


def _schema_case(name: str, schema: dict[str, Any], user: str) -> Case:
    return Case(
        "structured output",
        user,
        expect="json",
        response_format={
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True},
        },
    )


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }


MEMGPT_SYSTEM = (
    "You are MemGPT, a digital companion. Use send_message to talk to the user and the "
    "memory functions to remember things."
)

CASES: list[Case] = [
    # -- MemGPT's functions ----------------------------------------------------
    Case("memgpt", "Hi! How are you today?", MEMGPT_TOOLS, "send_message", system=MEMGPT_SYSTEM),
    Case(
        "memgpt",
        "Please tell me a fun fact about octopuses.",
        MEMGPT_TOOLS,
        "send_message",
        system=MEMGPT_SYSTEM,
    ),
    Case(
        "memgpt",
        "Remember that my name is Chad and I live in Oslo. Add it to your core memory.",
        MEMGPT_TOOLS,
        "core_memory_append",
        system=MEMGPT_SYSTEM,
    ),
    Case(
        "memgpt",
        "Store this in archival memory: the wifi password is tulip42.",
        MEMGPT_TOOLS,
        "archival_memory_insert",
        system=MEMGPT_SYSTEM,
    ),
    Case(
        "memgpt",
        "Search your archival memory for what I said about my cat.",
        MEMGPT_TOOLS,
        "archival_memory_search",
        system=MEMGPT_SYSTEM,
    ),
    Case(
        "memgpt",
        "Search our conversation history for the word 'vacation'.",
        MEMGPT_TOOLS,
        "conversation_search",
        system=MEMGPT_SYSTEM,
    ),
    Case(
        "memgpt",
        "Pause heartbeats for 10 minutes.",
        MEMGPT_TOOLS,
        "pause_heartbeats",
        system=MEMGPT_SYSTEM,
    ),
    Case(
        "memgpt",
        "In your core memory, replace 'likes tea' with 'likes coffee' in the human section.",
        MEMGPT_TOOLS,
        "core_memory_replace",
        system=MEMGPT_SYSTEM,
    ),
    Case("memgpt", "Say good night to me.", MEMGPT_TOOLS, "send_message", system=MEMGPT_SYSTEM),
    Case(
        "memgpt",
        "Find messages we exchanged between 2024-01-01 and 2024-01-31.",
        MEMGPT_TOOLS,
        "conversation_search_date",
        system=MEMGPT_SYSTEM,
    ),
    # -- one tool, flat arguments (strings, enums, integers) ---------------------
    Case("single tool", "What's the weather in Paris?", [WEATHER], "get_weather"),
    Case("single tool", "Weather in Tokyo in fahrenheit please.", [WEATHER], "get_weather"),
    Case("single tool", "Is it raining in London right now?", [WEATHER], "get_weather"),
    Case("single tool", "Set an alarm for 7:30.", [ALARM], "set_alarm"),
    Case("single tool", "Wake me up at 6 in the morning, label it gym.", [ALARM], "set_alarm"),
    Case("single tool", "Alarm at 22:15 please.", [ALARM], "set_alarm"),
    Case("single tool", "Convert 100 USD to EUR.", [CONVERT], "convert_currency"),
    Case("single tool", "How many yen is 20 pounds?", [CONVERT], "convert_currency"),
    Case(
        "single tool",
        "Search the web for the tallest building in the world.",
        [SEARCH],
        "search_web",
    ),
    Case("single tool", "Look up three results about Rust async runtimes.", [SEARCH], "search_web"),
    # -- nested objects and arrays ------------------------------------------------
    Case(
        "nested",
        "Email bob@example.com with subject Lunch and body 'Noon at the cafe?'.",
        [EMAIL],
        "send_email",
    ),
    Case(
        "nested",
        "Send an email to ann@x.org and joe@x.org saying the meeting moved to 3pm, subject Meeting.",
        [EMAIL],
        "send_email",
    ),
    Case(
        "nested", "Order 2 apples and 1 bread to 5 Main St, Springfield.", [ORDER], "create_order"
    ),
    Case(
        "nested",
        "Express delivery of 3 notebooks to 10 Downing Street, London.",
        [ORDER],
        "create_order",
    ),
    Case(
        "nested", "I need 12 eggs delivered to 221B Baker Street, London.", [ORDER], "create_order"
    ),
    Case(
        "nested",
        "Add 'Dentist' on 2025-03-14 with a popup reminder 30 minutes before.",
        [EVENT],
        "add_calendar_event",
    ),
    Case(
        "nested",
        "Put a team lunch on 2025-06-01 with Ann and Bo in the calendar.",
        [EVENT],
        "add_calendar_event",
    ),
    Case("nested", "Schedule 'Project review' for 2025-09-09.", [EVENT], "add_calendar_event"),
    # -- several tools to choose from ----------------------------------------------
    Case("choose", "What's the weather like in Berlin?", ASSISTANT_TOOLS, "get_weather"),
    Case("choose", "Set an alarm at 5:45.", ASSISTANT_TOOLS, "set_alarm"),
    Case(
        "choose",
        "Email carl@example.com: subject Hi, body Hello Carl.",
        ASSISTANT_TOOLS,
        "send_email",
    ),
    Case("choose", "Convert 50 EUR into GBP.", ASSISTANT_TOOLS, "convert_currency"),
    Case("choose", "Search the web for pancake recipes.", ASSISTANT_TOOLS, "search_web"),
    Case("choose", "Do I need an umbrella in Seattle today?", ASSISTANT_TOOLS, "get_weather"),
    Case("choose", "Wake me at 8:00 tomorrow.", ASSISTANT_TOOLS, "set_alarm"),
    Case("choose", "How much is 1000 JPY in USD?", ASSISTANT_TOOLS, "convert_currency"),
    Case("choose", "Find news about the Mars rover on the web.", ASSISTANT_TOOLS, "search_web"),
    Case(
        "choose",
        "Send an email to dev@team.io, subject Build, body The build is green.",
        ASSISTANT_TOOLS,
        "send_email",
    ),
    # -- parallel calls -----------------------------------------------------------
    Case(
        "parallel",
        "What's the weather in Paris and in Rome?",
        ASSISTANT_TOOLS,
        "get_weather",
        parallel=True,
    ),
    Case(
        "parallel", "Set alarms at 6:00 and at 6:30.", ASSISTANT_TOOLS, "set_alarm", parallel=True
    ),
    Case(
        "parallel",
        "Convert 10 USD to EUR and 10 USD to GBP.",
        ASSISTANT_TOOLS,
        "convert_currency",
        parallel=True,
    ),
    Case(
        "parallel",
        "Weather in Madrid, Lisbon and Athens?",
        ASSISTANT_TOOLS,
        "get_weather",
        parallel=True,
    ),
    Case(
        "parallel",
        "Search the web for 'llama.cpp' and for 'vLLM'.",
        ASSISTANT_TOOLS,
        "search_web",
        parallel=True,
    ),
    # -- no tool fits ---------------------------------------------------------------
    Case("no call", "Write a haiku about autumn.", ASSISTANT_TOOLS, None),
    Case("no call", "What is 2 + 2?", ASSISTANT_TOOLS, None),
    Case("no call", "Tell me a joke about cats.", ASSISTANT_TOOLS, None),
    Case("no call", "Thanks, that's all!", ASSISTANT_TOOLS, None),
    Case("no call", "Who wrote Romeo and Juliet?", [WEATHER, ALARM], None),
    Case("no call", "Translate 'good morning' into French.", [WEATHER, CONVERT], None),
    Case("no call", "Hello!", [ORDER], None),
    Case("no call", "Explain what a noun is in one sentence.", [EMAIL, SEARCH], None),
    # -- structured outputs ---------------------------------------------------------
    _schema_case(
        "person",
        _obj({"name": {"type": "string"}, "age": {"type": "integer"}}),
        "Ada Lovelace died at 36. Give her name and age.",
    ),
    _schema_case(
        "city",
        _obj(
            {
                "city": {"type": "string"},
                "country": {"type": "string"},
                "population": {"type": "integer"},
            }
        ),
        "Describe Paris: city, country and population.",
    ),
    _schema_case(
        "sentiment",
        _obj({"sentiment": {"type": "string", "enum": ["positive", "negative", "neutral"]}}),
        "Classify the sentiment: 'I love this phone!'",
    ),
    _schema_case(
        "todo",
        _obj(
            {"tasks": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5}}
        ),
        "List three things to pack for a beach trip.",
    ),
    _schema_case(
        "book",
        _obj(
            {"title": {"type": "string"}, "author": {"type": "string"}, "year": {"type": "integer"}}
        ),
        "Give the title, author and year of '1984'.",
    ),
    _schema_case(
        "point",
        _obj({"x": {"type": "number"}, "y": {"type": "number"}}),
        "Give a point on the line y = 2x.",
    ),
    _schema_case(
        "recipe",
        _obj(
            {
                "dish": {"type": "string"},
                "ingredients": {
                    "type": "array",
                    "items": _obj({"name": {"type": "string"}, "grams": {"type": "integer"}}),
                },
            }
        ),
        "A simple pancake recipe with ingredient weights.",
    ),
    _schema_case(
        "answer",
        _obj({"answer": {"type": "boolean"}, "reason": {"type": "string"}}),
        "Is the sky green? Answer with a boolean and a reason.",
    ),
    _schema_case(
        "contact",
        _obj(
            {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "phone": {"type": ["string", "null"]},
            }
        ),
        "Make a contact card for Jane Doe, jane@doe.org, no phone.",
    ),
    _schema_case(
        "event",
        {
            "$defs": {"Person": _obj({"name": {"type": "string"}})},
            **_obj(
                {
                    "title": {"type": "string"},
                    "people": {"type": "array", "items": {"$ref": "#/$defs/Person"}},
                }
            ),
        },
        "A birthday party with Ann and Bo.",
    ),
    _schema_case(
        "rating",
        _obj(
            {"movie": {"type": "string"}, "stars": {"type": "integer", "minimum": 1, "maximum": 5}}
        ),
        "Rate the movie Inception out of 5 stars.",
    ),
    _schema_case(
        "choice",
        {"anyOf": [_obj({"yes": {"type": "string"}}), _obj({"no": {"type": "string"}})]},
        "Should I learn Python? Answer yes or no with a short note.",
    ),
    Case(
        "structured output",
        "Give me a JSON object describing a cat (name, color).",
        expect="json",
        response_format={"type": "json_object"},
    ),
]
