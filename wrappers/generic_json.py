"""``generic-json``: function calling for any model, by asking for a JSON object.

For a model with no tool-call format of its own (or one nobody configured):
ChatML turns, the functions listed as JSON in the system prompt, and the
request to answer with ``{"name": ..., "arguments": {...}}``. The parser is
forgiving, as it must be with a model that was never trained on this: the
object may sit anywhere in the text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.json_calls import find_json_calls, json_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"

TOOLS_HEADER = (
    "# Tools\n\n"
    "You can call the following functions. Each is described by a JSON object with its "
    "name, its description and its parameters (a JSON schema):\n"
)
TOOLS_FOOTER = (
    "\n\nTo call a function, answer with a JSON object and nothing else:\n"
    '{"name": "<function name>", "arguments": {<the arguments as a JSON object>}}\n'
    "To call several functions at once, answer with a JSON list of such objects. "
    "Function results come back in `tool` turns, in the order of the calls. "
    "If no function is needed, answer in plain text."
)


def tools_system_prompt(system: str, functions: Sequence[FunctionSchema]) -> str:
    """The system prompt with the functions and the call instructions after it."""
    if not functions:
        return system
    listing = "\n".join(json.dumps(dict(f), ensure_ascii=False) for f in functions)
    tools = TOOLS_HEADER + listing + TOOLS_FOOTER
    return f"{system}\n\n{tools}" if system else tools


def calls_as_json(turn: Turn) -> str:
    """An assistant turn's calls as the prompt asks for them: one object, or a list."""
    objects = [{"name": call.name, "arguments": call.arguments} for call in turn.calls]
    value = objects[0] if len(objects) == 1 else objects
    return json.dumps(value, ensure_ascii=False)


class GenericJSONWrapper(ToolFormatWrapper):
    """Any model: ChatML turns, calls asked for as JSON objects.

    The prompt::

        <|im_start|>system
        {system prompt}

        # Tools

        You can call the following functions. Each is described by a JSON object with its name, its description and its parameters (a JSON schema):
        {"name": "get_weather", "description": "...", "parameters": {...}}

        To call a function, answer with a JSON object and nothing else:
        {"name": "<function name>", "arguments": {<the arguments as a JSON object>}}
        To call several functions at once, answer with a JSON list of such objects. Function results come back in `tool` turns, in the order of the calls. If no function is needed, answer in plain text.<|im_end|>
        <|im_start|>user
        What is the weather in Paris?<|im_end|>
        <|im_start|>assistant

    The parser finds ``{"name": ..., "arguments"|"parameters": {...}}``
    objects (or a list of them) anywhere: alone, in a code fence, between
    sentences; broken JSON is mended (trailing commas, single quotes, a
    cut-off end)::

        Sure! ```json
        {"name": "get_weather", "arguments": {"city": "Paris"}}
        ```

    History: an assistant's calls as the same JSON (a list for several),
    results as ``tool`` turns.
    """

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "\\{",
        "\\[",
        "```",
    )

    stop: ClassVar[tuple[str, ...]] = (IM_END, "<|endoftext|>")
    tolerates_bare_json: ClassVar[bool] = False  # its calls are bare JSON
    #: Any object in the answer is read as a call, so under auto every "{"
    #: starts one held to the grammar (prose has no braces of its own then).
    grammar_trigger: ClassVar[str] = "{"

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        system_prompt = tools_system_prompt(system, functions)
        if system_prompt:
            out += f"{IM_START}system\n{system_prompt}{IM_END}\n"
        for turn in turns:
            if turn.kind == "function":
                out += f"{IM_START}tool\n{turn.content or ''}{IM_END}\n"
            elif turn.kind == "assistant" and turn.calls:
                text = f"{turn.content}\n" if turn.content else ""
                out += f"{IM_START}assistant\n{text}{calls_as_json(turn)}{IM_END}\n"
            else:
                out += f"{IM_START}{turn.role}\n{turn.content or ''}{IM_END}\n"
        return out + f"{IM_START}assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        calls = call_count(parallel, only)
        if calls == 1:
            return json_call_grammar(functions, prefix="", suffix="", only=only)
        # One call is an object, several a list (as the prompt asks).
        as_list = json_call_grammar(
            functions, prefix="", suffix="", only=only, max_calls=calls, as_list=True
        )
        return as_list.replace("root ::= ", "root ::= one-call | ", 1)

    def extract_calls(self, text: str) -> Extraction:
        return find_json_calls(text, repair=True)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Only valid JSON leaves early; what the repairs make of the rest is
        # known when the output is complete.
        return json_calls_so_far(region, repair=True)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="generic-json",
        factory=GenericJSONWrapper,
        aliases=("generic", "json-generic"),
        description='Any model: ChatML, asks for {"name", "arguments"} JSON, finds it anywhere',
        family="fallback",
    )
]
