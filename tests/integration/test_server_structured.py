"""``response_format`` end to end: fcproxy before each backend dialect's fake upstream.

Every dialect gets the constraint in its own field (a GBNF grammar, Ollama's
``format``, OpenAI's ``response_format``); an answer that does not validate is
re-asked with what was wrong, and a 502 ``output_parse_error`` comes only when
every attempt failed.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from pydantic import BaseModel

from tests.fakes.upstream import DIALECTS, FakeUpstream
from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.gbnf import Grammar

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "person", "schema": PERSON, "strict": True},
}
MESSAGES = [{"role": "user", "content": "Ada Lovelace was 36. Who and how old?"}]
GOOD = '{"name": "Ada Lovelace", "age": 36}'
BAD = '{"name": "Ada Lovelace", "age": "thirty-six"}'


def chat(proxy: RunningProxy, **fields: Any) -> httpx.Response:
    body = {"model": "local-model", "messages": MESSAGES, "response_format": FORMAT, **fields}
    return httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=30)


def constraint_sent(fake: FakeUpstream, index: int = 0) -> tuple[str, Any]:
    """The field that carried the constraint in generation request ``index``, and its value."""
    body = fake.generation_requests[index].json or {}
    for key in ("grammar", "grammar_string", "format", "response_format"):
        if body.get(key) is not None:
            return key, body[key]
    return "", None


#: Where each dialect takes an output constraint.
FIELD = {
    "webui": "grammar_string",
    "webui-legacy": "grammar_string",
    "lmstudio": "response_format",
    "lmstudio-legacy": "response_format",
    "llama-server": "grammar",
    "llama-cpp-python": "grammar",
    "koboldcpp": "grammar",
    "ollama": "format",
    "vllm": "response_format",
    "openai-completions": "response_format",
}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_each_dialect_gets_the_schema_in_its_own_field_and_the_content_is_the_json(
    make_proxy: MakeProxy, dialect: str
) -> None:
    proxy = make_proxy(dialect, max_retries=0)
    assert proxy.upstream is not None
    proxy.upstream.reply(GOOD)

    response = chat(proxy)

    assert response.status_code == 200, response.text
    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {
        "name": "Ada Lovelace",
        "age": 36,
    }
    key, value = constraint_sent(proxy.upstream)
    assert key == FIELD[dialect]
    if key in ("grammar", "grammar_string"):
        grammar = Grammar(value)
        assert grammar.matches(GOOD) and not grammar.matches(BAD)
    elif key == "format":
        assert value == PERSON
    else:
        assert value == {
            "type": "json_schema",
            "json_schema": {"name": "response", "strict": True, "schema": PERSON},
        }
    # The prompt states the schema too: a constraint alone makes small models write filler.
    assert '"age": {"type": "integer"}' in proxy.upstream.prompts_seen[0]


def test_json_object_is_constrained_to_any_object(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server")
    assert proxy.upstream is not None
    proxy.upstream.reply('{"anything": [1, 2]}')

    response = chat(proxy, response_format={"type": "json_object"})

    assert json.loads(response.json()["choices"][0]["message"]["content"]) == {"anything": [1, 2]}
    grammar = Grammar(constraint_sent(proxy.upstream)[1])
    assert grammar.matches('{"a": {"b": null}}') and not grammar.matches("[1]")


def test_text_format_sends_no_constraint(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server")
    assert proxy.upstream is not None
    proxy.upstream.reply("Just prose.")

    response = chat(proxy, response_format={"type": "text"})

    assert response.json()["choices"][0]["message"]["content"] == "Just prose."
    assert constraint_sent(proxy.upstream) == ("", None)


def test_without_a_constraint_a_wrong_answer_is_re_asked_with_what_was_wrong(
    make_proxy: MakeProxy,
) -> None:
    proxy = make_proxy("llama-server", grammar=False, max_retries=2)
    assert proxy.upstream is not None
    proxy.upstream.reply(BAD, GOOD)

    response = chat(proxy)

    assert response.status_code == 200, response.text
    assert response.headers["x-fcproxy-attempts"] == "2"
    assert json.loads(response.json()["choices"][0]["message"]["content"])["age"] == 36
    first, second = proxy.upstream.prompts_seen
    assert BAD in second and BAD not in first
    assert "at $.age" in second and "is not of type 'integer'" in second
    assert constraint_sent(proxy.upstream, 1) == ("", None)
    # Usage sums both attempts (the fake counts a token per word).
    usage = response.json()["usage"]
    words = sum(len(p.split()) for p in (first, second))
    assert usage["prompt_tokens"] == words
    assert usage["completion_tokens"] == len(BAD.split()) + len(GOOD.split())


def test_json_inside_prose_or_a_fence_is_taken_alone(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", grammar=False, max_retries=0)
    assert proxy.upstream is not None
    proxy.upstream.reply(f"Sure! Here it is:\n```json\n{GOOD}\n```")

    response = chat(proxy)

    assert json.loads(response.json()["choices"][0]["message"]["content"])["age"] == 36


def test_every_attempt_failing_is_a_502_output_parse_error(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", grammar=False, max_retries=1)
    assert proxy.upstream is not None
    proxy.upstream.reply("no JSON here", BAD)

    response = chat(proxy)

    assert response.status_code == 502
    assert response.headers["x-fcproxy-attempts"] == "2"
    error = response.json()["error"]
    assert error["code"] == "output_parse_error"
    assert "at $.age" in error["message"] and "response_format" in error["message"]
    assert len(proxy.upstream.generation_requests) == 2


def test_constrain_never_on_a_model_sends_no_constraint(make_proxy: MakeProxy) -> None:
    proxy = make_proxy(
        "llama-server",
        models=[{"name": "plain", "constrain": "never"}],
        max_retries=0,
    )
    assert proxy.upstream is not None
    proxy.upstream.reply(GOOD)

    response = chat(proxy, model="plain")

    assert response.status_code == 200, response.text
    assert constraint_sent(proxy.upstream) == ("", None)


@pytest.mark.parametrize(
    ("response_format", "param"),
    [
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema"}, "response_format.json_schema"),
        (
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "http://e/x"}}},
            "response_format.json_schema.schema",
        ),
        (
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 5}}},
            "response_format.json_schema.schema",
        ),
        ("json", "response_format"),
    ],
)
def test_a_malformed_response_format_is_a_400_naming_it(
    make_proxy: MakeProxy, response_format: Any, param: str
) -> None:
    proxy = make_proxy("llama-server")

    response = chat(proxy, response_format=response_format)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


class Person(BaseModel):
    name: str
    age: int


def test_openai_sdk_parse_returns_the_parsed_model(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server")
    assert proxy.upstream is not None
    proxy.upstream.reply(GOOD)
    client = openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, timeout=30)

    completion = client.chat.completions.parse(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=Person,
    )

    assert completion.choices[0].message.parsed == Person(name="Ada Lovelace", age=36)
    grammar = Grammar(constraint_sent(proxy.upstream)[1])
    assert grammar.matches(GOOD)


def test_with_tools_a_call_or_valid_content_both_pass(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", max_retries=0)
    assert proxy.upstream is not None
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
    ]
    proxy.upstream.reply('<tool_call>\n{"name": "lookup", "arguments": {"q": "Ada"}}\n</tool_call>')
    called = chat(proxy, tools=tools).json()["choices"][0]
    assert called["message"]["tool_calls"][0]["function"]["name"] == "lookup"

    proxy.upstream.reply(GOOD)
    answered = chat(proxy, tools=tools).json()["choices"][0]
    assert json.loads(answered["message"]["content"])["age"] == 36


def test_streamed_unconstrained_json_is_held_and_re_asked(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", grammar=False, max_retries=1)
    assert proxy.upstream is not None
    proxy.upstream.reply(BAD, f"Here: {GOOD}")
    client = openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, timeout=30)

    stream = client.chat.completions.create(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=FORMAT,  # type: ignore[arg-type]
        stream=True,
    )
    content = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert json.loads(content) == {"name": "Ada Lovelace", "age": 36}
    assert len(proxy.upstream.generation_requests) == 2


def test_streamed_constrained_json_leaves_as_written(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server")
    assert proxy.upstream is not None
    proxy.upstream.reply(GOOD)
    client = openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, timeout=30)

    stream = client.chat.completions.create(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
        response_format=FORMAT,  # type: ignore[arg-type]
        stream=True,
    )
    pieces = [
        c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content
    ]

    assert len(pieces) > 1  # as written, not held to the end
    assert "".join(pieces) == GOOD


def test_a_spent_retry_budget_stops_the_retries(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", grammar=False, max_retries=3, retry_budget_s=0.001)
    assert proxy.upstream is not None
    proxy.upstream.reply(BAD, GOOD)

    response = chat(proxy)

    assert response.status_code == 502
    assert len(proxy.upstream.generation_requests) == 1


ALARM_TOOL = {
    "type": "function",
    "function": {
        "name": "set_alarm",
        "parameters": {
            "type": "object",
            "properties": {"hour": {"type": "integer"}},
            "required": ["hour"],
            "additionalProperties": False,
        },
    },
}
ALARM_CALL = '<tool_call>\n{"name": "set_alarm", "arguments": {"hour": 7}}\n</tool_call>'


def tool_chat(proxy: RunningProxy, **fields: Any) -> httpx.Response:
    body = {
        "model": "local-model",
        "messages": [{"role": "user", "content": "Wake me at 7."}],
        "tools": [ALARM_TOOL],
        **fields,
    }
    return httpx.post(f"{proxy.base_url}/chat/completions", json=body, timeout=30)


def test_auto_on_llama_server_sends_a_lazy_grammar_triggered_by_the_call_marker(
    make_proxy: MakeProxy,
) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply("Hello.", ALARM_CALL)

    tool_chat(proxy)  # the first request finds out which llama.cpp server this is
    response = tool_chat(proxy)

    assert response.json()["choices"][0]["message"]["tool_calls"][0]["function"]["name"] == (
        "set_alarm"
    )
    body = proxy.upstream.generation_requests[-1].json or {}
    assert body["grammar_lazy"] is True
    assert body["grammar_triggers"] == [{"type": 1, "value": "<tool_call>"}]
    assert body["preserved_tokens"] == ["<tool_call>"]
    grammar = Grammar(body["grammar"])
    assert grammar.matches(ALARM_CALL)
    assert not grammar.matches(ALARM_CALL.replace("7", '"seven"'))


def test_parallel_tool_calls_false_is_in_the_grammar(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(ALARM_CALL, ALARM_CALL)

    tool_chat(proxy, tool_choice="required", parallel_tool_calls=False)

    grammar = Grammar(proxy.upstream.grammars[0] or "")
    assert grammar.matches(ALARM_CALL)
    assert not grammar.matches(ALARM_CALL + "\n" + ALARM_CALL)


@pytest.mark.parametrize(("constrain", "constrained"), [("auto", False), ("always", True)])
def test_auto_without_lazy_grammars_is_constrained_only_when_asked(
    make_proxy: MakeProxy, constrain: str, constrained: bool
) -> None:
    proxy = make_proxy("webui", wrapper="hermes", constrain=constrain)
    assert proxy.upstream is not None
    proxy.upstream.reply(ALARM_CALL)

    response = tool_chat(proxy)

    assert response.status_code == 200
    [grammar] = proxy.upstream.grammars
    assert (grammar is not None) == constrained
    if grammar is not None:
        body = proxy.upstream.generation_requests[0].json or {}
        assert "grammar_lazy" not in body
        assert Grammar(grammar).matches("Sure. " + ALARM_CALL)
        assert Grammar(grammar).matches("Just prose.")


def test_llama_cpp_python_gets_no_lazy_grammar(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-cpp-python", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply("Hello.", "Hello again.")

    tool_chat(proxy)
    tool_chat(proxy)

    assert proxy.upstream.grammars == [None, None]


def test_a_required_call_is_not_replaced_by_json_content(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("llama-server", wrapper="hermes", grammar=False, max_retries=0)
    assert proxy.upstream is not None
    proxy.upstream.reply(GOOD)

    response = tool_chat(proxy, tool_choice="required", response_format=FORMAT)

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "output_parse_error"


def test_a_strict_tool_under_auto_gets_a_text_or_call_grammar_without_triggers(
    make_proxy: MakeProxy,
) -> None:
    proxy = make_proxy("webui", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(ALARM_CALL, ALARM_CALL)
    strict = {**ALARM_TOOL, "function": {**ALARM_TOOL["function"], "strict": True}}

    tool_chat(proxy, tools=[strict])
    tool_chat(proxy)

    strict_grammar, loose_grammar = proxy.upstream.grammars
    assert loose_grammar is None
    grammar = Grammar(strict_grammar or "")
    assert grammar.matches("Sure. " + ALARM_CALL)
    assert not grammar.matches("Sure. " + ALARM_CALL.replace("7", '"seven"'))
