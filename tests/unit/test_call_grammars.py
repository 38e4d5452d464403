"""Call grammars of every format whose markers are text, and the grammars of ``auto``.

One table: each format's writer puts calls in the format's own syntax (with
the value writers its wrapper renders past calls with). For every format,
llama.cpp's own grammar parser takes the grammar, and llama.cpp's grammar
sampler (tests/support/llama_grammar.py) is the judge of what matches:
valid calls of every argument set below are accepted and read back by the
wrapper to arguments valid under the schema; calls to unknown functions,
arguments of the wrong type, prose, and a second call where
``parallel_tool_calls`` is false are rejected. Under ``auto`` the same holds
from the format's call marker on (lazy grammar) or after free text
(text-or-call grammar).
"""

# ruff: noqa: RUF001  (DeepSeek's tokens use full-width bars)

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from tests.support.gbnf import Grammar
from tests.support.llama_grammar import (
    llama_cpp_accepts,
    llama_cpp_matches,
    llama_cpp_starts_with,
)
from wrappers.base import RenderOptions
from wrappers.conversation import CallRecord
from wrappers.gemma_values import write_value
from wrappers.grammar import text_or_calls_grammar, text_without
from wrappers.hy_arg_calls import HyTags
from wrappers.kimi_k3 import TOOLS_CLOSE, TOOLS_OPEN, call_xtml
from wrappers.minimax_m3_values import to_xml
from wrappers.olmo3 import template_value
from wrappers.python_calls import python_literal
from wrappers.registry import get_wrapper
from wrappers.xml_calls import text_value

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
NOTE = {
    "name": "save_note",
    "description": "Save a note.",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "stars": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "pinned": {"type": "boolean"},
            "where": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
                "additionalProperties": False,
            },
        },
        "required": ["title", "stars"],
        "additionalProperties": False,
    },
}
#: Keywords past types: an integer range, a string pattern, at most two items.
RATE = {
    "name": "rate",
    "description": "Rate a product.",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {
            "stars": {"type": "integer", "minimum": 1, "maximum": 5},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        },
        "required": ["stars", "code"],
        "additionalProperties": False,
    },
}
FUNCTIONS = [ALARM, NOTE, RATE]
SCHEMAS = {f["name"]: f["parameters"] for f in FUNCTIONS}
Call = tuple[str, dict[str, Any]]

ARGS = {"hour": 7, "label": "gym"}
#: Valid calls, in each schema's member order (required first): every type,
#: optional members present and left out, text that needs quoting in JSON.
VALID: list[Call] = [
    ("set_alarm", ARGS),
    ("save_note", {"title": 'He said "hi" & <b>left</b>', "stars": 3}),
    (
        "save_note",
        {
            "title": "Ünïcode ✓ note",
            "stars": -2,
            "tags": ["a", "b c"],
            "pinned": True,
            "where": {"lat": 1.5, "lon": -3},
        },
    ),
    ("save_note", {"title": "x", "stars": 0, "pinned": False}),
    ("rate", {"stars": 5, "code": "ABC"}),
    ("rate", {"stars": 1, "code": "XYZ", "tags": ["a", "b"]}),
]
#: Invalid: a wrong type, a value outside the enum, a required member missing,
#: an unknown member of a strict tool, a number out of range, a string that
#: breaks its pattern, one item too many.
INVALID: list[Call] = [
    ("set_alarm", {"hour": "seven", "label": "gym"}),
    ("set_alarm", {"hour": 7, "label": "nap"}),
    ("save_note", {"title": "x"}),
    ("save_note", {"title": "x", "stars": 1, "color": "red"}),
    ("rate", {"stars": 9, "code": "ABC"}),
    ("rate", {"stars": 3, "code": "abcd"}),
    ("rate", {"stars": 3, "code": "ABC", "tags": ["a", "b", "c"]}),
]
UNKNOWN: Call = ("rm_rf", {"hour": 7, "label": "gym"})


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def named(calls: list[Call], name_key: str = "name", args_key: str = "arguments") -> list[str]:
    return [dumps({name_key: n, args_key: a}) for n, a in calls]


def qwen_xml(calls: list[Call], open_tag: str, close_tag: str, nl: str) -> str:
    return "\n".join(
        f"{open_tag}\n<function={n}>\n"
        + "".join(f"<parameter={k}>{nl}{text_value(v)}{nl}</parameter>\n" for k, v in a.items())
        + f"</function>\n{close_tag}"
        for n, a in calls
    )


def json_text(value: Any) -> str:
    """A value as GLM's and DSML's templates print it: strings bare, the rest as JSON."""
    return value if isinstance(value, str) else dumps(value)


def invokes(calls: list[Call], prefix: str, block: str, *, dsml: bool) -> str:
    value = json_text if dsml else text_value

    def attribute(v: Any) -> str:
        return f' string="{"true" if isinstance(v, str) else "false"}"' if dsml else ""

    body = "".join(
        f'<{prefix}invoke name="{n}">\n'
        + "".join(
            f'<{prefix}parameter name="{k}"{attribute(v)}>{value(v)}</{prefix}parameter>\n'
            for k, v in a.items()
        )
        + f"</{prefix}invoke>\n"
        for n, a in calls
    )
    return f"<{prefix}{block}>\n{body}</{prefix}{block}>"


def python_list(calls: list[Call]) -> str:
    return (
        "["
        + ", ".join(
            f"{n}(" + ", ".join(f"{k}={python_literal(v)}" for k, v in a.items()) + ")"
            for n, a in calls
        )
        + "]"
    )


def gemma(calls: list[Call], open_tag: str, close_tag: str, quote: str) -> str:
    return "".join(
        f"{open_tag}call:{n}{{"
        # The template writes keys in sorted order, the grammar asks for it.
        + ",".join(f"{k}:{write_value(v, quote)}" for k, v in sorted(a.items()))
        + f"}}{close_tag}"
        for n, a in calls
    )


DS = "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>"
DS_END = "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>"
DSML = "｜DSML｜"
STEP3 = "<｜tool_calls_begin｜>", "<｜tool_call_begin｜>function<｜tool_sep｜>"
STEP3_END = "<｜tool_call_end｜>", "<｜tool_calls_end｜>"
M3 = "]<]minimax[>["


def hermes(calls: list[Call], open_tag: str, close_tag: str, nl: str = "\n") -> str:
    return "\n".join(f"{open_tag}{nl}{j}{nl}{close_tag}" for j in named(calls))


def arg_key_pairs(
    calls: list[Call], call_tags: tuple[str, str], prefix: str = "", layout: str = ""
) -> str:
    """GLM's name-then-pairs calls, one per line, with a family's tags (``prefix``: ``ifm|``)."""
    key, value = f"<{prefix}arg_key>", f"<{prefix}arg_value>"
    return "\n".join(
        f"{call_tags[0]}{n}"
        + "".join(
            f"{layout}{key}{k}</{key[1:]}{layout}{value}{json_text(v)}</{value[1:]}"
            for k, v in a.items()
        )
        + f"{layout}{call_tags[1]}"
        for n, a in calls
    )


def json_list(calls: list[Call], open_tag: str, close_tag: str) -> str:
    return f"{open_tag}[" + ", ".join(named(calls)) + f"]{close_tag}"


#: Each format's calls as its model writes them.
WRITERS: dict[str, Callable[[list[Call]], str]] = {
    "hermes": lambda c: hermes(c, "<tool_call>", "</tool_call>"),
    # Hermes' blocks, in their own roles (ERNIE 4.5 after its reasoning).
    "granite4": lambda c: hermes(c, "<tool_call>", "</tool_call>"),
    "ernie4.5": lambda c: hermes(c, "<tool_call>", "</tool_call>"),
    "qwen2.5-coder": lambda c: hermes(c, "<tools>", "</tools>"),
    # Flush against its tags (vLLM's tests of its parser).
    "longcat": lambda c: hermes(c, "<longcat_tool_call>", "</longcat_tool_call>", ""),
    # One block, an object per line.
    "minimax-m1": lambda c: (
        "<tool_calls>\n" + "".join(j + "\n" for j in named(c)) + "</tool_calls>"
    ),
    "granite-20b-fc": lambda c: "\n".join(f"<function_call> {j}" for j in named(c)),
    # A message of its own after the assistant's (here empty) text.
    "gigachat3": lambda c: "".join(
        f"<|message_sep|>\n\nfunction call<|role_sep|>\n{j}" for j in named(c)
    ),
    "hyperclovax-seed-think": lambda c: json_list(c, " -> tool/function_call\n", "<|im_end|>"),
    "step3": lambda c: (
        STEP3[0]
        + "".join(
            f'{STEP3[1]}<steptml:invoke name="{n}">'
            + "".join(
                f'<steptml:parameter name="{k}">{json_text(v)}</steptml:parameter>'
                for k, v in a.items()
            )
            + f"</steptml:invoke>{STEP3_END[0]}"
            for n, a in c
        )
        + STEP3_END[1]
    ),
    "mistral": lambda c: "[TOOL_CALLS][" + ", ".join(named(c)) + "]",
    "mistral-v11": lambda c: "".join(f"[TOOL_CALLS]{n}[ARGS]{dumps(a)}" for n, a in c),
    "granite": lambda c: "<|tool_call|>[" + ", ".join(named(c)) + "]",
    "deepseek": lambda c: (
        DS[0]
        + "\n".join(f"{DS[1]}function{DS[2]}{n}\n```json\n{dumps(a)}\n```{DS_END[0]}" for n, a in c)
        + DS_END[1]
    ),
    "deepseek-v3.1": lambda c: (
        DS[0] + "".join(f"{DS[1]}{n}{DS[2]}{dumps(a)}{DS_END[0]}" for n, a in c) + DS_END[1]
    ),
    "functionary-v3.1": lambda c: "".join(f"<function={n}>{dumps(a)}</function>" for n, a in c),
    "command-r": lambda c: (
        "Action: ```json\n" + dumps([{"tool_name": n, "parameters": a} for n, a in c]) + "\n```"
    ),
    "command-r7b": lambda c: (
        "<|START_ACTION|>"
        + dumps([{"tool_name": n, "parameters": a} for n, a in c])
        + "<|END_ACTION|>"
    ),
    "qwen3-coder": lambda c: qwen_xml(c, "<tool_call>", "</tool_call>", "\n"),
    "seed-oss": lambda c: qwen_xml(c, "<seed:tool_call>", "</seed:tool_call>", ""),
    "zaya": lambda c: qwen_xml(c, "<zyphra_tool_call>", "</zyphra_tool_call>", "\n"),
    # One block per call, the server the template files the tool under.
    "mirothinker": lambda c: "\n".join(
        f"<use_mcp_tool>\n<server_name>generic-extras</server_name>\n<tool_name>{n}</tool_name>\n"
        f"<arguments>\n{json.dumps(a)}\n</arguments>\n</use_mcp_tool>"
        for n, a in c
    ),
    "glm4": lambda c: "\n".join(
        f"<tool_call>{n}"
        + "".join(
            f"\n<arg_key>{k}</arg_key>\n<arg_value>{json_text(v)}</arg_value>" for k, v in a.items()
        )
        + "\n</tool_call>"
        for n, a in c
    ),
    "minimax-m2": lambda c: invokes(c, "", "minimax:tool_call", dsml=False),
    "deepseek-dsml": lambda c: invokes(c, DSML, "function_calls", dsml=True),
    # V4 names the block tool_calls; V4.1 writes a space after the DSML token.
    "deepseek-v4": lambda c: invokes(c, DSML, "tool_calls", dsml=True),
    "deepseek-v4.1": lambda c: invokes(c, DSML + " ", "calls", dsml=True),
    "kimi-k2": lambda c: (
        "<|tool_calls_section_begin|>"
        + "".join(
            f"<|tool_call_begin|>functions.{n}:{i}<|tool_call_argument_begin|>{dumps(a)}"
            "<|tool_call_end|>"
            for i, (n, a) in enumerate(c)
        )
        + "<|tool_calls_section_end|>"
    ),
    "harmony": lambda c: "".join(
        f"<|channel|>commentary to=functions.{n} <|constrain|>json<|message|>{dumps(a)}<|call|>"
        for n, a in c
    ),
    # The same wrapper (an alias), the recipient in the role slot after the
    # prompt's "<|start|>assistant", as its template writes past calls
    # (llama.cpp tests/test-chat.cpp, GPT-OSS "tool calling in role header").
    "gpt-oss": lambda c: "".join(
        f" to=functions.{n}<|channel|>commentary json<|message|>{dumps(a)}<|call|>" for n, a in c
    ),
    "apertus": lambda c: (
        "<|tools_prefix|>[" + ", ".join(dumps({n: a}) for n, a in c) + "]<|tools_suffix|>"
    ),
    "phi4": lambda c: "functools[" + ", ".join(named(c)) + "]",
    "generic-json": lambda c: named(c)[0] if len(c) == 1 else "[" + ", ".join(named(c)) + "]",
    "llama3-json": lambda c: ";".join(named(c, args_key="parameters")),
    "internlm2": lambda c: "".join(
        f"<|action_start|><|plugin|>\n{j}<|action_end|>" for j in named(c, args_key="parameters")
    ),
    "xlam": lambda c: "[" + ", ".join(named(c)) + "]",
    "hunyuan-a13b": lambda c: json_list(c, "<tool_calls>", "</tool_calls>"),
    "jamba": lambda c: json_list(c, "<tool_calls>", "</tool_calls>"),
    "apriel": lambda c: json_list(c, "<tool_calls>", "</tool_calls>"),
    # A call message each, named after its function; the payload's arguments are "args".
    "inkling": lambda c: "".join(
        f"<|message_model|>{n}<|content_invoke_tool_json|>"
        + json.dumps({"name": n, "args": a})
        + "<|end_message|>"
        for n, a in c
    ),
    "minicpm5": lambda c: "".join(
        f'<function name="{n}">'
        + "".join(f'<param name="{k}">{text_value(v)}</param>' for k, v in a.items())
        + "</function>"
        for n, a in c
    ),
    "olmo3": lambda c: (
        "<function_calls>\n"
        + "\n".join(
            f"{n}(" + ", ".join(f"{k}={template_value(v)}" for k, v in a.items()) + ")"
            for n, a in c
        )
        + "\n</function_calls>"
    ),
    "kimi-k3": lambda c: (
        TOOLS_OPEN
        + "".join(call_xtml(CallRecord(n, a), i + 1) for i, (n, a) in enumerate(c))
        + TOOLS_CLOSE
    ),
    "nemotron": lambda c: "<TOOLCALL>[" + ", ".join(named(c)) + "]</TOOLCALL>",
    "pythonic": python_list,
    "llama4-pythonic": python_list,
    "gemma": python_list,
    "lfm2": lambda c: f"<|tool_call_start|>{python_list(c)}<|tool_call_end|>",
    "gemma4": lambda c: gemma(c, "<|tool_call>", "<tool_call|>", '<|"|>'),
    "functiongemma": lambda c: gemma(c, "<start_function_call>", "<end_function_call>", "<escape>"),
    # DSML's syntax with GigaChat's prefix.
    "gigachat3.5": lambda c: invokes(c, "｜GCML｜", "tool_calls", dsml=True),
    # Arguments as tags after MiniMax's token (the template's to_xml).
    "minimax-m3": lambda c: (
        f"{M3}<tool_call>\n"
        + "".join(f'{M3}<invoke name="{n}">{to_xml(a)}{M3}</invoke>\n' for n, a in c)
        + f"{M3}</tool_call>"
    ),
    # GLM's argument tags in a <tool_calls> block: v3 a tag a line after <tool_sep>, v4 flush.
    "hunyuan-v3": lambda c: HyTags().calls(c),
    "hunyuan-v4": lambda c: HyTags(separated=False).calls(c),
    "step-audio-2": lambda c: "".join(
        f"<tool_call>function\n{n}\n{dumps(a)}</tool_call>" for n, a in c
    ),
    # Non-string values as JSON.
    "dots": lambda c: (
        "<dots_function_call>\n"
        + "".join(
            f'<invoke name="{n}">\n'
            + "".join(f'<parameter name="{k}">{json_text(v)}</parameter>\n' for k, v in a.items())
            + "</invoke>\n"
            for n, a in c
        )
        + "</dots_function_call>"
    ),
    "solar-open2": lambda c: "\n".join(
        f"<|tool_call:start|>{n}\n"
        + "".join(
            f"<|tool_arg:start|>{k}<|tool_arg:value|>{json_text(v)}<|tool_arg:end|>\n"
            for k, v in a.items()
        )
        + "<|tool_call:end|>"
        for n, a in c
    ),
    "plamo3": lambda c: (
        "<|plamo:begin_tool_requests:plamo|>"
        + "".join(
            f"<|plamo:begin_tool_request:plamo|><|plamo:begin_tool_name:plamo|>{n}"
            "<|plamo:end_tool_name:plamo|><|plamo:begin_tool_arguments:plamo|>"
            f"<|plamo:constrain|>json<|plamo:msg|>{dumps(a)}<|plamo:end_tool_arguments:plamo|>"
            "<|plamo:end_tool_request:plamo|>"
            for n, a in c
        )
        + "<|plamo:end_tool_requests:plamo|>"
    ),
    # The JSON-object input (a text input fits one string parameter only).
    "cwm": lambda c: "\n".join(f"<tool: {n}>\n{dumps(a)}\n</tool>" for n, a in c),
    "iquest-coder-v2": lambda c: arg_key_pairs(
        c, ("<iquestcoder_tool_call>", "</iquestcoder_tool_call>")
    ),
    "hyperclovax-seed-think-32b": lambda c: "\n".join(
        f"<tool_call>{n}"
        + "".join(
            f"\n<arg_key>{k}</arg_key>\n<arg_value>{dumps(v)}</arg_value>" for k, v in a.items()
        )
        + "\n</tool_call>"
        for n, a in c
    ),
    "pangu": lambda c: json_list(c, "[unused11]", "[unused12]"),
    "rwkv": lambda c: "\n".join(f"**Tool Call:**\n```json\n{j}\n```" for j in named(c)),
    "k2-horizon": lambda c: (
        "<ifm|tool_calls>\n"
        + arg_key_pairs(c, ("<ifm|tool_call>", "</ifm|tool_call>"), "ifm|", "\n")
        + "\n</ifm|tool_calls>"
    ),
}
#: Formats with a call grammar for required calls only (no marker to trigger on).
REQUIRED_ONLY: dict[str, Callable[[list[Call]], str]] = {
    # The prompt ends with ">>>"; ">>>all" (a message) starts like a call.
    "functionary-v3": lambda c: ">>>".join(f"{n}\n{dumps(a)}" for n, a in c),
    # It asks for generic-json's calls (and reads any format).
    "auto": WRITERS["generic-json"],
    # A message per call; its reasoning header (" to=self") starts like a call's.
    "muse-glimmer": lambda c: "<|eom|><|start|>assistant".join(
        f' to={n}<|message|><atem:function_calls>\n<atem:invoke name="{n}">\n'
        + "".join(
            f'<atem:parameter name="{k}">{json_text(v)}</atem:parameter>\n' for k, v in a.items()
        )
        + "</atem:invoke>\n</atem:function_calls>"
        for n, a in c
    ),
    # No marker: one Python call a line.
    "granite-pythonic": lambda c: "\n".join(
        f"{n}(" + ", ".join(f"{k}={python_literal(v)}" for k, v in a.items()) + ")" for n, a in c
    ),
    # A calls message: each call's id (any short one), name and JSON arguments.
    "solar-open-100b": lambda c: (
        "<|tool_calls|>"
        + "".join(
            f"<|tool_call:begin|>{i}<|tool_call:name|>{n}<|tool_call:args|>{dumps(a)}"
            "<|tool_call:end|>"
            for i, (n, a) in enumerate(c)
        )
        + "<|calls|>"
    ),
}
#: Formats whose answer holds one call at most (generation stops at its end).
#: (GigaChat 3's template writes one call message per assistant turn.)
ONE_CALL = {"harmony", "gpt-oss", "llama3-json", "internlm2", "gigachat3"}
#: What a model writes before its calls when a call is required: the rest
#: of the reasoning block its prompt opened.
REQUIRED_PREFIX = {
    "minimax-m2": "The user wants an alarm.\n</think>\n\n",
    "kimi-k3": "Setting it.<|close|>response<|sep|>",
    "k2-horizon": "The user wants an alarm.</ifm|think>\n",
    "hyperclovax-seed-think-32b": "The user wants an alarm.</think>\n\n",
}
#: ... or a reasoning block it may write first.
REASONING = {
    "kimi-k2": "<think>An alarm.</think>",
    "glm4": "<think>An alarm.</think>\n",
    "seed-oss": "<seed:think>An alarm.</seed:think>",
    "harmony": "<|channel|>analysis<|message|>An alarm.<|end|><|start|>assistant",
    "gpt-oss": "<|channel|>analysis<|message|>An alarm.<|end|><|start|>assistant",
    "minimax-m1": "<think>An alarm.</think>\n\n",
    # Its answer channel opens as the reasoning closes (vLLM's reasoning parser).
    "hunyuan-a13b": "<think>\nAn alarm.\n</think>\n<answer>\n",
    "minimax-m3": "<mm:think>An alarm.</mm:think>\n",
    "muse-glimmer": " to=self<|message|>An alarm.<|eom|><|start|>assistant",
    # Its template opens the block: the answer starts inside it (vLLM's tests).
    "ernie4.5": "An alarm.\n</think>\n\n\n",
    "apriel": "Here are my reasoning steps:\nAn alarm.\n[BEGIN FINAL RESPONSE]\n",
    "hyperclovax-seed-think": "/think\nAn alarm.<|im_end|>\n<|im_start|>assistant",
    "inkling": "<|message_model|><|content_thinking|>An alarm.<|end_message|>",
    "mirothinker": "<think>\nAn alarm.\n</think>\n\n",
    "solar-open2": "<|think:start|>An alarm.<|think:end|>",
    "plamo3": "<|plamo:begin_think:plamo|>An alarm.<|plamo:end_think:plamo|>",
    "solar-open-100b": "<|think|>An alarm.<|end|><|begin|>assistant",
    "mistral-v11": "[THINK]An alarm.[/THINK]",
}
ALL = WRITERS | REQUIRED_ONLY
#: Formats whose lazy grammar starts at ``[name(`` (a ``[`` alone is prose).
NAMED_TRIGGERS = {"pythonic", "llama4-pythonic", "gemma", "inkling"}
PROSE = "Good morning! [1] <b>bold</b> {x} call: f(x)"


def render(name: str, functions: list[dict[str, Any]] = FUNCTIONS, **options: Any) -> Any:
    prompt = get_wrapper(name).render(
        [{"role": "user", "content": "7am gym"}], functions, RenderOptions(grammar=True, **options)
    )
    assert prompt.grammar is not None and llama_cpp_accepts(prompt.grammar)
    return prompt


def required(name: str, *, parallel: bool = True, only: str | None = None) -> str:
    grammar = render(
        name, call_required=True, parallel_calls=parallel, forced_function=only
    ).grammar
    assert isinstance(grammar, str)
    return grammar


def answer(name: str, calls: list[Call]) -> str:
    """The whole answer of a required call: ``calls`` after what must come first."""
    return REQUIRED_PREFIX.get(name, "") + ALL[name](calls)


def reads_back(name: str, text: str, calls: list[Call]) -> None:
    """The wrapper's own parser reads ``text`` as ``calls``, each valid under its schema."""
    parsed = get_wrapper(name).parse(text, FUNCTIONS).tool_calls
    got = [(c.name, json.loads(c.arguments)) for c in parsed]
    assert got == calls
    for function, arguments in got:
        jsonschema.validate(arguments, SCHEMAS[function])


def test_every_format_with_text_markers_has_a_call_grammar() -> None:
    from wrappers.registry import list_wrappers
    from wrappers.tool_format import ToolFormatWrapper

    formats = {
        e.name for e in list_wrappers() if isinstance(get_wrapper(e.name), ToolFormatWrapper)
    }
    # A new format joins the table (a writer of its calls) with its grammar.
    assert formats <= set(ALL), f"formats without a call grammar test: {formats - set(ALL)}"
    assert all(required(name) for name in formats)


@pytest.mark.parametrize("name", sorted(ALL))
def test_required_grammar_accepts_valid_calls_that_read_back_schema_valid(name: str) -> None:
    grammar = required(name)
    for call in VALID:
        text = answer(name, [call])
        assert llama_cpp_matches(grammar, text), text
        reads_back(name, text, [call])
    if name in REASONING:
        assert llama_cpp_matches(grammar, REASONING[name] + answer(name, VALID[:1]))


@pytest.mark.parametrize("name", sorted(ALL))
def test_required_grammar_rejects_unknown_names_wrong_arguments_and_prose(name: str) -> None:
    grammar = required(name)
    for call in [*INVALID, UNKNOWN]:
        assert not llama_cpp_matches(grammar, answer(name, [call])), call
    assert not llama_cpp_matches(grammar, PROSE)
    assert not llama_cpp_matches(grammar, answer(name, VALID[:1]) + " Done.")


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_named_function_is_the_only_one_allowed(name: str) -> None:
    grammar = required(name, only="save_note")
    assert llama_cpp_matches(grammar, answer(name, [VALID[1]]))
    assert not llama_cpp_matches(grammar, answer(name, [VALID[0]]))


@pytest.mark.parametrize("name", sorted(set(ALL) - ONE_CALL))
def test_parallel_calls_only_where_allowed(name: str) -> None:
    text = answer(name, VALID[:2])
    assert llama_cpp_matches(required(name), text)
    reads_back(name, text, VALID[:2])
    assert not llama_cpp_matches(required(name, parallel=False), text)


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_auto_lazy_grammar_holds_a_call_to_the_grammar_from_its_trigger_on(name: str) -> None:
    prompt = render(name, auto_grammar="lazy")
    triggers, write = prompt.grammar_triggers, WRITERS[name]
    assert triggers and all(t for t in triggers)
    # llama.cpp feeds the grammar its trigger: a grammar that cannot start so
    # fails every answer that triggers it (a trigger inherited by mistake).
    assert all(llama_cpp_starts_with(prompt.grammar, "root", t) for t in triggers)
    assert any(write(VALID[:1]).startswith(t) for t in triggers)
    prose = PROSE.replace("{x}", "x") if "{" in triggers else PROSE
    assert llama_cpp_matches(prompt.grammar, prose, triggers=triggers)
    for call in VALID:
        assert llama_cpp_matches(prompt.grammar, "Setting it. " + write([call]), triggers=triggers)
    # Where the triggers name the functions, a call to another one is prose
    # to the grammar (the pipeline drops a call to an unknown function).
    unknown = [] if name in NAMED_TRIGGERS else [UNKNOWN]
    for call in [*INVALID, *unknown]:
        assert not llama_cpp_matches(
            prompt.grammar, "Setting it. " + write([call]), triggers=triggers
        ), call


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_auto_text_or_call_grammar_allows_prose_or_a_valid_call(name: str) -> None:
    prompt = render(name, auto_grammar="text-or-call")
    assert not prompt.grammar_triggers
    write = WRITERS[name]
    assert llama_cpp_matches(prompt.grammar, "Good morning! <b>bold</b> x = 1.")
    for call in VALID:
        text = "Setting it. " + write([call])
        assert llama_cpp_matches(prompt.grammar, text)
        reads_back(name, text, [call])
    for call in [*INVALID, UNKNOWN]:
        assert not llama_cpp_matches(prompt.grammar, "Setting it. " + write([call])), call


@pytest.mark.parametrize("name", sorted(set(WRITERS) - ONE_CALL))
def test_parallel_tool_calls_false_holds_under_auto_too(name: str) -> None:
    prompt = render(name, auto_grammar="lazy", parallel_calls=False)
    one, two = WRITERS[name](VALID[:1]), WRITERS[name](VALID[:2])
    assert llama_cpp_matches(prompt.grammar, "Ok. " + one, triggers=prompt.grammar_triggers)
    assert not llama_cpp_matches(prompt.grammar, "Ok. " + two, triggers=prompt.grammar_triggers)


def test_auto_without_an_auto_grammar_stays_free() -> None:
    prompt = get_wrapper("hermes").render(
        [{"role": "user", "content": "hi"}], FUNCTIONS, RenderOptions(grammar=True)
    )
    assert prompt.grammar is None


@pytest.mark.parametrize("marker", ["<tool_call>", "[TOOL_CALLS]", "<|tool_call|>"])
def test_text_without_never_contains_the_marker(marker: str) -> None:
    grammar = f"root ::= {text_without(marker)}"
    assert llama_cpp_matches(grammar, "plain words " + marker[:-1] + "x")
    assert not llama_cpp_matches(grammar, "a " + marker + " b")
    assert not llama_cpp_matches(grammar, marker)
    assert Grammar(grammar).matches("plain words " + marker[:-1] + "x")


def test_text_or_calls_needs_a_root() -> None:
    with pytest.raises(ValueError):
        text_or_calls_grammar('x ::= "x"\n', "<x>")


def test_an_xml_value_ends_at_its_closing_tag_with_or_without_the_layout_newline() -> None:
    # SmolLM2 under this grammar wrote "Paris</parameter>" and, when the value
    # could run on past the tag, went on until max_tokens (tests/e2e).
    grammar = required("qwen3-coder")
    flush = "<tool_call>\n<function=set_alarm>\n<parameter=hour>\n7</parameter>\n"
    flush += "<parameter=label>\ngym</parameter>\n</function>\n</tool_call>"
    assert llama_cpp_matches(grammar, flush)
    reads_back("qwen3-coder", flush, [("set_alarm", ARGS)])
    run_on = WRITERS["qwen3-coder"]([("save_note", {"title": "a</parameter>b", "stars": 1})])
    assert not llama_cpp_matches(grammar, run_on)


#: A string's lengths and formats (what formats that write values as text
#: could not hold to before): a code of 2 to 4 characters, a day, an id, a
#: note of at most 5.
BOOK = {
    "name": "book",
    "strict": True,
    "parameters": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "minLength": 2, "maxLength": 4},
            "day": {"type": "string", "format": "date"},
            "id": {"type": "string", "format": "uuid"},
            "note": {"type": "string", "maxLength": 5},
        },
        "required": ["code", "day"],
        "additionalProperties": False,
    },
}
UUID = "123e4567-e89b-12d3-a456-426614174000"
BOOKED: list[dict[str, Any]] = [
    {"code": "AB", "day": "2026-12-07"},
    {"code": "A b!", "day": "2026-01-31", "id": UUID, "note": "x y z"},
    {"code": "a&b", "day": "1999-10-09", "note": ""},
]
#: Too short, too long, not a date, no month 13, not a uuid, a note too long.
MISBOOKED: list[dict[str, Any]] = [
    {"code": "A", "day": "2026-12-07"},
    {"code": "ABCDE", "day": "2026-12-07"},
    {"code": "AB", "day": "7 Dec"},
    {"code": "AB", "day": "2026-13-01"},
    {"code": "AB", "day": "2026-12-07", "id": "not-a-uuid"},
    {"code": "AB", "day": "2026-12-07", "note": "far too long"},
]


@pytest.mark.parametrize("name", sorted(ALL))
def test_string_lengths_and_formats_hold_in_every_format(name: str) -> None:
    # Formats that write values as text held a string to its pattern only:
    # a code of 9 letters got through to the argument check and a retry.
    grammar = render(name, [BOOK], call_required=True).grammar
    checker = jsonschema.Draft202012Validator(
        BOOK["parameters"], format_checker=jsonschema.FormatChecker()
    )
    for arguments in BOOKED:
        text = answer(name, [("book", arguments)])
        assert llama_cpp_matches(grammar, text), text
        [call] = get_wrapper(name).parse(text, [BOOK]).tool_calls
        assert json.loads(call.arguments) == arguments
        checker.validate(arguments)
    for arguments in MISBOOKED:
        assert not checker.is_valid(arguments)
        assert not llama_cpp_matches(grammar, answer(name, [("book", arguments)])), arguments


LOOKAHEAD = {
    "name": "tag",
    "parameters": {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": "^(?!x)[a-z]+$"}},
        "required": ["code"],
    },
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_pattern_the_converter_cannot_express_leaves_the_string_to_the_check(
    name: str,
) -> None:
    # The converter has no lookahead: the string is then any string of the
    # format (Python's and Gemma's were quoted twice, so no call fit).
    grammar = render(name, [LOOKAHEAD], call_required=True).grammar
    text = answer(name, [("tag", {"code": "abc"})])
    assert llama_cpp_matches(grammar, text), text
    [call] = get_wrapper(name).parse(text, [LOOKAHEAD]).tool_calls
    assert json.loads(call.arguments) == {"code": "abc"}


def test_a_counted_xml_value_cannot_hide_whitespace_its_parser_strips() -> None:
    # MiniMax M2's parser strips a value: " A " is read back as "A", too short.
    grammar = render("minimax-m2", [BOOK], call_required=True).grammar
    padded = answer("minimax-m2", [("book", {"code": " A ", "day": "2026-12-07"})])
    assert get_wrapper("minimax-m2").parse(padded, [BOOK]).tool_calls[0].arguments == (
        '{"code": "A", "day": "2026-12-07"}'
    )
    assert not llama_cpp_matches(grammar, padded)


TREE = {
    "name": "plant",
    "parameters": {
        "type": "object",
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "v": {"type": "integer"},
                    "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["v"],
            }
        },
        "properties": {"root": {"$ref": "#/$defs/node"}},
        "required": ["root"],
    },
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_local_references_are_followed_even_where_they_recurse(name: str) -> None:
    grammar = render(name, [TREE], call_required=True).grammar
    tree = {"root": {"v": 1, "kids": [{"v": 2}, {"v": 3, "kids": []}]}}
    text = REQUIRED_PREFIX.get(name, "") + ALL[name]([("plant", tree)])
    assert llama_cpp_matches(grammar, text)
    [call] = get_wrapper(name).parse(text, [TREE]).tool_calls
    assert json.loads(call.arguments) == tree
    wrong = REQUIRED_PREFIX.get(name, "") + ALL[name]([("plant", {"root": {"kids": [{"v": "x"}]}})])
    assert not llama_cpp_matches(grammar, wrong)


@pytest.mark.parametrize("strict", [True, False])
def test_a_bare_json_call_in_constrained_prose_counts_only_for_tools_that_are_not_strict(
    strict: bool,
) -> None:
    # SmolLM2 under a text-or-call grammar echoed the tool list as prose: read
    # as a bare JSON call, its "arguments" were the schema. A strict tool's
    # call counts only where the grammar shaped it (after the marker).
    tool = {**ALARM, "strict": strict}
    echoed = 'Tools: {"name": "set_alarm", "arguments": {"type": "object"}}'
    options = RenderOptions(grammar=True, auto_grammar="text-or-call")
    parsed = get_wrapper("hermes").parse(echoed, [tool], options)
    assert bool(parsed.tool_calls) is not strict
    marked = "Ok. " + WRITERS["hermes"]([("set_alarm", ARGS)])
    assert get_wrapper("hermes").parse(marked, [tool], options).tool_calls


ODD = {
    "name": "odd",
    "parameters": {
        "type": "object",
        "properties": {
            "x": {"type": "float"},  # not JSON Schema; tools send it
            "y": {"$ref": True},
            "z": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 3}},
        },
        "required": ["x"],
    },
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_schema_the_converter_refuses_still_gets_a_grammar_llama_cpp_takes(name: str) -> None:
    # llama.cpp's converter asserts on "float" and trips over "$ref": true; the
    # hand-built rules stand in (tests/integration/test_fuzz.py found both).
    grammar = render(name, [ODD], call_required=True).grammar
    assert "odd" in grammar


def test_a_lazy_grammar_that_cannot_start_at_its_trigger_matches_nothing_past_it() -> None:
    # llama.cpp aborts the process there; the matcher answers no instead.
    grammar = 'root ::= "[" "x" "]"'
    assert not llama_cpp_matches(grammar, "ok {x}", triggers=["{"])
    assert llama_cpp_matches(grammar, "ok x", triggers=["{"])
