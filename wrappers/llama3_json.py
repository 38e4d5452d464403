"""Llama 3.1 / 3.2 / 3.3 JSON tool calls: ``{"name": ..., "parameters": {...}}``.

The format of Meta's own chat template (``tokenizer_config.json`` of
meta-llama/Llama-3.1-8B-Instruct, unchanged in Llama-3.3-70B-Instruct).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError, arguments_as_json_string
from wrappers.conversation import Turn
from wrappers.grammar import json_call_grammar
from wrappers.json_calls import CALL_START, find_json_calls, json_calls_so_far
from wrappers.llama3_layout import (
    BEGIN_OF_TEXT,
    DEFAULT_DATE,
    END_OF_TEXT,
    EOM,
    EOT,
    PYTHON_TAG,
    code_call,
    header,
    indented_tools,
    system_preamble,
)
from wrappers.python_calls import (
    CALL_LIST_START,
    NotACallList,
    find_call_lists,
    parse_call_list,
)
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

TOOLS_INSTRUCTIONS = (
    "Given the following functions, please respond with a JSON for a function call "
    "with its proper arguments that best answers the given prompt.\n\n"
    'Respond in the format {"name": function name, "parameters": dictionary of argument '
    "name and its value}.Do not use variables.\n\n"
)
_JSON_START = re.compile(r"\s*\[?\s*\{")
# Llama 3.1's built-in tools: <|python_tag|>brave_search.call(query="...").
_BUILTIN_CALL = re.compile(r"\s*[A-Za-z_]\w*\.call\s*\(")


class Llama3JSONWrapper(ToolFormatWrapper):
    """Llama 3.1-3.3 with custom tools, as Meta's chat template lays them out.

    The tools go into the *first user message* (the template's default
    ``tools_in_user_message``), the system turn announces ``Environment:
    ipython``::

        <|begin_of_text|><|start_header_id|>system<|end_header_id|>

        Environment: ipython
        Cutting Knowledge Date: December 2023
        Today Date: 26 Jul 2024

        {system prompt}<|eot_id|><|start_header_id|>user<|end_header_id|>

        Given the following functions, please respond with a JSON for a function call with its proper arguments that best answers the given prompt.

        Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.Do not use variables.

        {
            "type": "function",
            "function": {
                "name": "get_weather",
                ...
            }
        }

        What is the weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>

    The model answers with one JSON object, often after ``<|python_tag|>``
    and ending in ``<|eom_id|>``; several calls are joined by ``;``::

        <|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}<|eom_id|>
        {"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {"tz": "UTC"}}

    Results go back as ``ipython`` turns (the content JSON-encoded, as the
    template does with a string). ``<|python_tag|>`` followed by code rather
    than JSON is a call to ``python`` with ``{"code": ...}``, and a built-in
    tool call (``brave_search.call(query="...")``) a call to ``brave_search``.
    Bare JSON calls written before a ``<|python_tag|>`` are calls too.

    Where this differs from the template, on purpose: the template accepts
    one call per assistant message and raises on more, so parallel calls in
    the history become consecutive assistant turns (as fcproxy hands them
    over); the text of an assistant turn with calls is dropped, as the
    template drops it; when the conversation does not start with a user
    message (MemGPT starts with the agent's own call), the tools get a user
    turn of their own instead of being glued to that message.
    """

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "<\\|python_tag\\|>",
        "\\{",
        "\\[",
        "```",
    )

    call_start: ClassVar[str] = PYTHON_TAG
    stop: ClassVar[tuple[str, ...]] = (EOT, EOM, END_OF_TEXT)
    tolerates_bare_json: ClassVar[bool] = False  # its calls are bare JSON
    #: The call object starts so (after <|python_tag|> or not): under auto, prose
    #: is free and an object that starts like a call is held to the grammar.
    grammar_trigger: ClassVar[str] = '{"name"'

    def __init__(self, date: str = DEFAULT_DATE) -> None:
        self.date = date

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BEGIN_OF_TEXT + header("system")
        out += system_preamble(self.date, ipython=bool(functions)) + system.strip() + EOT
        if functions:
            first = ""
            if turns and turns[0].kind == "user":
                first, turns = (turns[0].content or "").strip(), turns[1:]
            out += header("user") + TOOLS_INSTRUCTIONS + indented_tools(functions) + first + EOT
        for turn in turns:
            out += self.render_turn(turn)
        return out + header("assistant")

    def render_turn(self, turn: Turn) -> str:
        if turn.kind == "function":
            # The template tojson's a string result (a string "is iterable").
            return header("ipython") + json.dumps(turn.content or "", ensure_ascii=False) + EOT
        if turn.kind == "assistant" and turn.calls:
            return "".join(
                header("assistant")
                + f'{{"name": "{call.name}", "parameters": '
                + json.dumps(call.arguments, ensure_ascii=False)
                + "}"
                + EOT
                for call in turn.calls
            )
        return header(turn.role) + (turn.content or "").strip() + EOT

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # Llama 3.1's documented JSON call: {"name": ..., "parameters": {...}}, one a turn.
        return json_call_grammar(
            functions, prefix="", suffix="", only=only, arguments_key="parameters"
        )

    def extract_calls(self, text: str) -> Extraction:
        tag = text.find(PYTHON_TAG)
        if tag == -1:
            # Bare JSON is this format's own call: broken JSON is mended here
            # (wrappers.tolerance's fallback is off for it).
            found = find_json_calls(text, repair=True)
            # Llama 3.2 1B/3B often answer in their pythonic style even when asked for JSON.
            return found if found.calls else find_call_lists(text)
        before, after = text[:tag], text[tag + len(PYTHON_TAG) :]
        earlier = _json_calls_before_tag(before)
        if _JSON_START.match(after):
            found = _json_calls_after_tag(after, text)
        elif CALL_LIST_START.match(after.lstrip()):
            found = find_call_lists(after)
        elif _BUILTIN_CALL.match(after):
            found = Extraction("", [_builtin_call(after, text)])
        else:
            found = Extraction("", [code_call(after)])
        if not found.calls:
            raise WrapperParseError("no call after <|python_tag|>", text)
        return Extraction(earlier.content + found.content, earlier.calls + found.calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        tag = region.find(PYTHON_TAG)
        if tag == -1:
            # A tag still being written would end the JSON before it.
            return json_calls_so_far(without_partial_suffix(region, (PYTHON_TAG,)), repair=True)
        earlier = [
            PartialCall(call.name, arguments_as_json_string(call.arguments))
            for call in _json_calls_before_tag(region[:tag]).calls
        ]
        after = region[tag + len(PYTHON_TAG) :]
        if not _JSON_START.match(after):
            return earlier  # code, a pythonic list or a built-in call: sent at the end
        return earlier + json_calls_so_far(after)


def _json_calls_after_tag(after: str, text: str) -> Extraction:
    """The JSON call(s) after ``<|python_tag|>``, mended as
    :func:`wrappers.tolerance.read_marked_json` does: closed JSON (trailing
    commas, single quotes, Python literals, a missing final brace), not JSON
    cut off mid-way."""
    try:
        return find_json_calls(after, repair=False)
    except WrapperParseError:
        pass
    if len(CALL_START.findall(after)) > 1:
        # A call cut off after complete ones: mended, what was sent of it stays true.
        mended = find_json_calls(after, repair=True)
        if len(mended.calls) > 1:
            return mended
    try:
        value, end = read_marked_json(after, 0)
    except json.JSONDecodeError:
        raise WrapperParseError("unreadable JSON call after <|python_tag|>", text) from None
    mended = find_json_calls(json.dumps(value, ensure_ascii=False), repair=False)
    return Extraction(after[end:], mended.calls)


def _json_calls_before_tag(text: str) -> Extraction:
    """JSON calls written before ``<|python_tag|>`` (bare, as Llama 3.1 writes
    custom-tool calls): calls too, so that a call streamed before a tag came
    stays one. Text there that cannot be read as calls is content."""
    try:
        return find_json_calls(text, repair=False)
    except WrapperParseError:
        return Extraction(text)


def _builtin_call(source: str, text: str) -> ExtractedCall:
    """``brave_search.call(query="...")``: a call to ``brave_search``."""
    try:
        calls = parse_call_list(source)
    except NotACallList as exc:
        raise WrapperParseError(f"unreadable built-in tool call: {exc}", text) from exc
    if len(calls) != 1:
        raise WrapperParseError("a built-in tool call is one call", text)
    return ExtractedCall(name=calls[0].name.removesuffix(".call"), arguments=calls[0].arguments)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="llama3-json",
        factory=Llama3JSONWrapper,
        aliases=(
            "llama3.1",
            "llama-3.1",
            "llama3.2",
            "llama-3.2",
            "llama3.3",
            "llama-3.3",
            "llama3.1-json",
            "llama3.2-json",
            "llama3.3-json",
        ),
        description='Llama 3.1-3.3 {"name", "parameters"} JSON calls (<|python_tag|>, ";"-joined), Meta\'s template',
        family="tool-call",
    )
]
