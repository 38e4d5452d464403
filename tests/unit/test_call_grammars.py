"""Call grammars of the formats whose markers are text, and the grammars of ``auto``.

Each is parsed by llama.cpp's own grammar parser, matches the format's
valid answers (and the wrapper's parser reads them back), and rejects calls
to unknown functions, arguments that break the schema, and a second call
where ``parallel_tool_calls`` is false.
"""

from __future__ import annotations

import json

import pytest

from tests.support.gbnf import Grammar
from tests.support.llama_grammar import llama_cpp_accepts
from wrappers.base import RenderOptions
from wrappers.grammar import text_or_calls_grammar, text_without
from wrappers.registry import get_wrapper

ALARM = {
    "name": "set_alarm",
    "description": "Set an alarm.",
    "parameters": {
        "type": "object",
        "properties": {
            "hour": {"type": "integer"},
            "label": {"type": "string", "enum": ["work", "gym"]},
        },
        "required": ["hour", "label"],
    },
}
FUNCTIONS = [ALARM]
ARGS = {"hour": 7, "label": "gym"}
BAD_ARGS = {"hour": "seven", "label": "gym"}

CALLS = {
    "hermes": lambda a: (
        f"<tool_call>\n{json.dumps({'name': 'set_alarm', 'arguments': a})}\n</tool_call>"
    ),
    "mistral": lambda a: f"[TOOL_CALLS][{json.dumps({'name': 'set_alarm', 'arguments': a})}]",
    "mistral-v11": lambda a: f"[TOOL_CALLS]set_alarm[ARGS]{json.dumps(a)}",
    "granite": lambda a: f"<|tool_call|>[{json.dumps({'name': 'set_alarm', 'arguments': a})}]",
    "deepseek": lambda a: (
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>set_alarm\n```json\n"  # noqa: RUF001
        f"{json.dumps(a)}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>"  # noqa: RUF001
    ),
    "deepseek-v3.1": lambda a: (
        "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>set_alarm<｜tool▁sep｜>"  # noqa: RUF001
        f"{json.dumps(a)}<｜tool▁call▁end｜><｜tool▁calls▁end｜>"  # noqa: RUF001
    ),
    "functionary-v3.1": lambda a: f"<function=set_alarm>{json.dumps(a)}</function>",
    "command-r": lambda a: (
        "Action: ```json\n" + json.dumps([{"tool_name": "set_alarm", "parameters": a}]) + "\n```"
    ),
    "command-r7b": lambda a: (
        "<|START_ACTION|>"
        + json.dumps([{"tool_name": "set_alarm", "parameters": a}])
        + "<|END_ACTION|>"
    ),
    "qwen3-coder": lambda a: (
        "<tool_call>\n<function=set_alarm>\n"
        + "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in a.items())
        + "</function>\n</tool_call>"
    ),
}
#: Formats with a call grammar for required calls only (no marker to trigger on).
REQUIRED_ONLY = {
    # The prompt ends with ">>>"; ">>>all" (a message) starts like a call.
    "functionary-v3.2": lambda a: f"set_alarm\n{json.dumps(a)}",
}
TWO_CALLS = {
    "hermes": CALLS["hermes"](ARGS) + "\n" + CALLS["hermes"](ARGS),
    "mistral": "[TOOL_CALLS]["
    + ", ".join([json.dumps({"name": "set_alarm", "arguments": ARGS})] * 2)
    + "]",
    "mistral-v11": CALLS["mistral-v11"](ARGS) * 2,
    "functionary-v3.2": REQUIRED_ONLY["functionary-v3.2"](ARGS)
    + ">>>"
    + REQUIRED_ONLY["functionary-v3.2"](ARGS),
}


def required(name: str, *, parallel: bool = True) -> str:
    wrapper = get_wrapper(name)
    options = RenderOptions(grammar=True, call_required=True, parallel_calls=parallel)
    grammar = wrapper.render([{"role": "user", "content": "7am gym"}], FUNCTIONS, options).grammar
    assert grammar is not None
    return grammar


@pytest.mark.parametrize("name", sorted(CALLS | REQUIRED_ONLY))
def test_required_call_grammar_matches_valid_calls_only(name: str) -> None:
    text = required(name)
    assert llama_cpp_accepts(text)
    grammar = Grammar(text)
    write = (CALLS | REQUIRED_ONLY)[name]
    good = write(ARGS)
    assert grammar.matches(good)
    [call] = get_wrapper(name).parse(good, FUNCTIONS).tool_calls
    assert (call.name, json.loads(call.arguments)) == ("set_alarm", ARGS)
    assert not grammar.matches(write(BAD_ARGS))
    assert not grammar.matches(good.replace("set_alarm", "rm_rf"))
    assert not grammar.matches("Sure, 7am.")


@pytest.mark.parametrize("name", sorted(TWO_CALLS))
def test_parallel_calls_only_where_allowed(name: str) -> None:
    assert Grammar(required(name)).matches(TWO_CALLS[name])
    assert not Grammar(required(name, parallel=False)).matches(TWO_CALLS[name])


@pytest.mark.parametrize("name", sorted(CALLS))
def test_auto_lazy_grammar_is_the_call_grammar_with_its_marker_as_trigger(name: str) -> None:
    wrapper = get_wrapper(name)
    options = RenderOptions(grammar=True, auto_grammar="lazy")
    prompt = wrapper.render([{"role": "user", "content": "hi"}], FUNCTIONS, options)
    assert prompt.grammar is not None and llama_cpp_accepts(prompt.grammar)
    [trigger] = prompt.grammar_triggers
    assert CALLS[name](ARGS).startswith(trigger)
    assert Grammar(prompt.grammar).matches(CALLS[name](ARGS))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_auto_text_or_call_grammar_allows_prose_or_a_valid_call(name: str) -> None:
    wrapper = get_wrapper(name)
    options = RenderOptions(grammar=True, auto_grammar="text-or-call")
    prompt = wrapper.render([{"role": "user", "content": "hi"}], FUNCTIONS, options)
    assert prompt.grammar is not None and not prompt.grammar_triggers
    assert llama_cpp_accepts(prompt.grammar)
    grammar = Grammar(prompt.grammar)
    assert grammar.matches("Good morning! [1] <b>bold</b> {x}")
    assert grammar.matches("Setting it. " + CALLS[name](ARGS))
    assert not grammar.matches("Setting it. " + CALLS[name](BAD_ARGS))


def test_auto_without_an_auto_grammar_stays_free() -> None:
    prompt = get_wrapper("hermes").render(
        [{"role": "user", "content": "hi"}], FUNCTIONS, RenderOptions(grammar=True)
    )
    assert prompt.grammar is None


@pytest.mark.parametrize("marker", ["<tool_call>", "[TOOL_CALLS]", "<|tool_call|>"])
def test_text_without_never_contains_the_marker(marker: str) -> None:
    grammar = Grammar(f"root ::= {text_without(marker)}")
    assert grammar.matches("plain words " + marker[:-1] + "x")
    assert not grammar.matches("a " + marker + " b")
    assert not grammar.matches(marker)


def test_text_or_calls_needs_a_root() -> None:
    with pytest.raises(ValueError):
        text_or_calls_grammar('x ::= "x"\n', "<x>")
