"""GBNF grammars for constrained calls: accepted by llama.cpp, and they match
exactly the answers the parsers expect (checked with tests/support/gbnf.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.llama_grammar import LlamaCppGrammar, llama_cpp_accepts, llama_cpp_matches
from tests.support.shared import fixture
from wrappers.base import RenderOptions
from wrappers.grammar import memgpt_call_grammar, memgpt_call_schema
from wrappers.registry import get_wrapper

MEMGPT_FUNCTIONS = [t["function"] for t in fixture("memgpt-0.3.25-tools.json")["tools"]]
WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
            "hourly": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "where": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
            },
            "extra": {},
        },
        "required": ["city"],
    },
}


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


SEND = {"function": "send_message", "params": {"inner_thoughts": "Greet.", "message": "Hi 👋"}}


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        (SEND, True),
        (
            {
                "function": "send_message",
                "params": {"inner_thoughts": "x", "message": 'a "quoted"\nline'},
            },
            True,
        ),
        ({"function": "pause_heartbeats", "params": {"inner_thoughts": "t", "minutes": 5}}, True),
        (
            {
                "function": "conversation_search",
                "params": {
                    "inner_thoughts": "t",
                    "query": "q",
                    "request_heartbeat": True,
                    "page": 2,
                },
            },
            True,
        ),
        (  # optional "page" left out
            {
                "function": "conversation_search",
                "params": {"inner_thoughts": "t", "query": "q", "request_heartbeat": False},
            },
            True,
        ),
        ({"function": "send_message", "params": {"message": "no thoughts"}}, False),
        ({"function": "rm_rf", "params": {"inner_thoughts": "t"}}, False),
        (
            {"function": "pause_heartbeats", "params": {"inner_thoughts": "t", "minutes": "five"}},
            False,
        ),
        ({"function": "send_message", "params": {"inner_thoughts": "t"}}, False),
    ],
)
def test_memgpt_grammar_matches_exactly_valid_calls(answer: dict[str, Any], ok: bool) -> None:
    grammar = LlamaCppGrammar(memgpt_call_grammar(MEMGPT_FUNCTIONS, inner_thoughts="params"))
    assert grammar.matches(pretty(answer)) is ok
    assert grammar.matches(json.dumps(answer, ensure_ascii=False)) is ok


def test_prose_and_trailing_text_do_not_match() -> None:
    grammar = LlamaCppGrammar(memgpt_call_grammar(MEMGPT_FUNCTIONS, inner_thoughts="params"))
    assert not grammar.matches("Hello there!")
    assert not grammar.matches(pretty(SEND) + " and more")


def test_only_restricts_to_one_function() -> None:
    grammar = LlamaCppGrammar(
        memgpt_call_grammar(MEMGPT_FUNCTIONS, inner_thoughts="params", only="pause_heartbeats")
    )
    assert not grammar.matches(pretty(SEND))
    assert grammar.matches(
        pretty({"function": "pause_heartbeats", "params": {"inner_thoughts": "t", "minutes": 1}})
    )


@pytest.mark.parametrize(
    ("placement", "answer"),
    [
        (
            "top-level",
            {"inner_thoughts": "t", "function": "get_weather", "params": {"city": "Oslo"}},
        ),
        ("none", {"function": "get_weather", "params": {"city": "Oslo", "unit": "celsius"}}),
        (
            "none",
            {
                "function": "get_weather",
                "params": {
                    "city": "Oslo",
                    "days": -3,
                    "hourly": False,
                    "tags": ["a", "b"],
                    "where": {"lat": 59.9, "lon": 10.75},
                    "extra": {"any": [1, None, "x"]},
                },
            },
        ),
    ],
)
def test_inner_thoughts_placements_and_schema_types(placement: Any, answer: dict[str, Any]) -> None:
    grammar = LlamaCppGrammar(memgpt_call_grammar([WEATHER], inner_thoughts=placement))
    assert grammar.matches(pretty(answer))


@pytest.mark.parametrize(
    "params",
    [
        {"city": "Oslo", "unit": "kelvin"},  # not in the enum
        {"city": 7},
        {"city": "Oslo", "where": {"lat": 1}},  # nested required missing
        {"unit": "celsius"},  # required city missing
    ],
)
def test_schema_violations_do_not_match(params: dict[str, Any]) -> None:
    grammar = LlamaCppGrammar(memgpt_call_grammar([WEATHER], inner_thoughts="none"))
    assert not grammar.matches(pretty({"function": "get_weather", "params": params}))


def test_schema_declaring_inner_thoughts_is_not_asked_twice() -> None:
    functions = fixture("memgpt-0.1-functions.json")["functions"]
    grammar = LlamaCppGrammar(memgpt_call_grammar(functions, inner_thoughts="params"))
    assert grammar.matches(
        pretty({"function": "send_message", "params": {"inner_thoughts": "t", "message": "m"}})
    )


@pytest.mark.parametrize("placement", ["params", "top-level", "none"])
@pytest.mark.parametrize("functions", [MEMGPT_FUNCTIONS, [WEATHER]], ids=["memgpt", "weather"])
def test_every_grammar_is_accepted_by_llama_cpp(
    placement: Any, functions: list[dict[str, Any]]
) -> None:
    text = memgpt_call_grammar(functions, inner_thoughts=placement)
    assert llama_cpp_accepts(text)
    answer = {"function": functions[0]["name"], "params": {}}
    assert not llama_cpp_matches(text, pretty(answer) + " trailing prose")


@pytest.mark.parametrize(
    "broken",
    [
        'root ::= "a" undefined-rule',  # a rule that is never defined
        'root ::= "a" ( "b" | "c"',  # an unclosed group
        "root ::= [a-",  # an unclosed character class
        'call ::= "x"',  # no root rule
    ],
)
def test_llama_cpp_check_rejects_a_broken_grammar(broken: str) -> None:
    # LlamaGrammar.from_string stores any text; this check must be able to fail.
    assert not llama_cpp_accepts(broken)


@pytest.mark.parametrize(
    "name", ["chatml", "airoboros-l2-70b-2.1", "zephyr-7B", "llama3", "dolphin"]
)
def test_wrappers_with_grammar_drop_the_prefill_and_their_parser_reads_the_constrained_answer(
    name: str,
) -> None:
    wrapper = get_wrapper(name)
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    options = RenderOptions(grammar=True)
    prompt = wrapper.render(messages, MEMGPT_FUNCTIONS, options)
    assert prompt.grammar is not None
    plain = wrapper.render(messages, MEMGPT_FUNCTIONS, RenderOptions())
    assert plain.grammar is None
    assert plain.text.startswith(prompt.text) and len(plain.text) > len(prompt.text)

    answer = (
        dict(SEND)
        if name != "dolphin"
        else {"function": "send_message", "params": {"message": "Hi"}}
    )
    assert LlamaCppGrammar(prompt.grammar).matches(pretty(answer))
    [call] = wrapper.parse(pretty(answer), MEMGPT_FUNCTIONS, options).tool_calls
    assert json.loads(call.arguments)["message"] == answer["params"]["message"]


def test_noforce_wrapper_stays_free_under_auto_but_is_constrained_when_required() -> None:
    wrapper = get_wrapper("chatml-noforce")
    messages = [{"role": "user", "content": "hi"}]
    assert wrapper.render(messages, MEMGPT_FUNCTIONS, RenderOptions(grammar=True)).grammar is None
    required = RenderOptions(grammar=True, call_required=True)
    assert wrapper.render(messages, MEMGPT_FUNCTIONS, required).grammar is not None


def test_first_message_grammar_forces_send_message() -> None:
    wrapper = get_wrapper("chatml")
    options = RenderOptions(grammar=True, first_message=True)
    prompt = wrapper.render([{"role": "user", "content": "hi"}], MEMGPT_FUNCTIONS, options)
    assert prompt.grammar is not None
    grammar = LlamaCppGrammar(prompt.grammar)
    assert grammar.matches(pretty(SEND))
    assert not grammar.matches(
        pretty({"function": "pause_heartbeats", "params": {"inner_thoughts": "t", "minutes": 1}})
    )


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        (SEND, True),
        ({"function": "pause_heartbeats", "params": {"inner_thoughts": "t", "minutes": 5}}, True),
        ({"function": "send_message", "params": {"message": "no thoughts"}}, False),
        ({"function": "rm_rf", "params": {"inner_thoughts": "t"}}, False),
        (
            {"function": "pause_heartbeats", "params": {"inner_thoughts": "t", "minutes": "5"}},
            False,
        ),
        ({"params": {"inner_thoughts": "t", "message": "m"}}, False),
    ],
)
def test_memgpt_json_schema_accepts_exactly_valid_calls(answer: dict[str, Any], ok: bool) -> None:
    import jsonschema

    schema = memgpt_call_schema(MEMGPT_FUNCTIONS, inner_thoughts="params")
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.Draft202012Validator(schema).is_valid(answer) is ok


def test_json_schema_option_gives_a_schema_instead_of_a_grammar() -> None:
    wrapper = get_wrapper("chatml")
    messages = [{"role": "user", "content": "hi"}]
    prompt = wrapper.render(messages, MEMGPT_FUNCTIONS, RenderOptions(json_schema=True))
    assert prompt.grammar is None and prompt.json_schema is not None
    assert not prompt.text.endswith('"function":')  # no prefill before a constrained answer
    forced = wrapper.render(
        messages, MEMGPT_FUNCTIONS, RenderOptions(json_schema=True, forced_function="send_message")
    )
    assert forced.json_schema is not None
    assert forced.json_schema["properties"]["function"]["const"] == "send_message"


def test_hermes_grammar_when_a_call_is_required_matches_its_own_call_format() -> None:
    wrapper = get_wrapper("hermes")
    messages = [{"role": "user", "content": "Weather in Oslo?"}]
    assert wrapper.render(messages, [WEATHER], RenderOptions(grammar=True)).grammar is None
    prompt = wrapper.render(messages, [WEATHER], RenderOptions(grammar=True, call_required=True))
    assert prompt.grammar is not None
    grammar = LlamaCppGrammar(prompt.grammar)
    one = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
    assert grammar.matches(one)
    assert grammar.matches(one + "\n" + one)  # parallel calls
    assert not grammar.matches("It is sunny in Oslo.")
    assert not grammar.matches(one.replace("get_weather", "get_time"))
    [call] = wrapper.parse(one, [WEATHER]).tool_calls
    assert json.loads(call.arguments) == {"city": "Oslo"}


def test_forced_hermes_call_is_exactly_one_call_to_that_function() -> None:
    options = RenderOptions(grammar=True, call_required=True, forced_function="get_weather")
    prompt = get_wrapper("hermes").render([{"role": "user", "content": "x"}], [WEATHER], options)
    assert prompt.grammar is not None
    one = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
    assert LlamaCppGrammar(prompt.grammar).matches(one)
    assert not LlamaCppGrammar(prompt.grammar).matches(one + "\n" + one)


def test_llama3_json_grammar_is_one_documented_json_call() -> None:
    wrapper = get_wrapper("llama3-json")
    options = RenderOptions(grammar=True, call_required=True)
    prompt = wrapper.render([{"role": "user", "content": "Oslo?"}], [WEATHER], options)
    assert prompt.grammar is not None
    grammar = LlamaCppGrammar(prompt.grammar)
    call = '{"name": "get_weather", "parameters": {"city": "Oslo"}}'
    assert grammar.matches(call)
    assert not grammar.matches(call + "; " + call)
    assert not grammar.matches('{"name": "get_weather", "arguments": {"city": "Oslo"}}')
    [parsed] = wrapper.parse(call, [WEATHER]).tool_calls
    assert json.loads(parsed.arguments) == {"city": "Oslo"}
    assert llama_cpp_accepts(prompt.grammar)
    assert llama_cpp_matches(prompt.grammar, call)
