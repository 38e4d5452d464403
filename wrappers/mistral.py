"""Mistral tool calls: ``[TOOL_CALLS][{...}]`` (v3) and ``[TOOL_CALLS]name[ARGS]{...}`` (v11+).

Two generations of Mistral's tokenizer, two call formats; the parser reads
both, the renderers lay out each generation's prompt.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count, json_call_grammar, marked_calls_grammar
from wrappers.json_calls import (
    call_from_json,
    is_call_object,
    object_calls_so_far,
    read_object_list,
)
from wrappers.partial_json import parse_prefix, stable_dumps
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import (
    ExtractedCall,
    Extraction,
    ToolFormatWrapper,
)

BOS = "<s>"
EOS = "</s>"
TOOL_CALLS = "[TOOL_CALLS]"
# Magistral and Ministral 3 Reasoning think first between these tokens.
THINK, THINK_END = "[THINK]", "[/THINK]"
#: Calls a grammar allows in one answer (as Hermes).
# v11: [TOOL_CALLS]name[ARGS]{...}; history also carries [CALL_ID]id before
# [ARGS], and servers that drop special tokens leave name{...}.
_NAMED_CALL = re.compile(
    r"\s*([A-Za-z_][\w.\-]*)\s*(?:\[CALL_ID\]\s*\w*\s*)?(?:\[ARGS\])?(?=\s*\{)"
)


def call_id(index: int) -> str:
    """The id of the ``index``-th call of a conversation: 9 alphanumeric characters.

    Mistral's templates require such ids and pair results with calls by
    them. fcproxy's wrappers never see the client's ids, so they are made
    up, the same on every request (the upstream's prompt cache keeps working).
    """
    return hashlib.sha256(f"fcproxy-call-{index}".encode()).hexdigest()[:9]


class MistralWrapper(ToolFormatWrapper):
    """Mistral v3 tokenizer models: Mistral 7B Instruct v0.3, Mixtral 8x22B, Mistral Nemo.

    Laid out as Mistral Nemo's chat template (``tokenizer_config.json`` of
    mistralai/Mistral-Nemo-Instruct-2407): the tools as a JSON list before
    the *last* user message, whose ``[INST]`` also carries the system prompt::

        <s>[INST]What is the weather in Paris?[/INST][TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "a1b2c3d4e"}]</s>[TOOL_RESULTS]{"content": {"temperature": 18}, "call_id": "a1b2c3d4e"}[/TOOL_RESULTS]It is 18 degrees.</s>[AVAILABLE_TOOLS][{"type": "function", "function": {"name": "get_weather", ...}}][/AVAILABLE_TOOLS][INST]{system prompt}

        And in Tokyo?[/INST]

    The model answers with a JSON list, several calls at once::

        [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "get_time", "arguments": {"tz": "Europe/Paris"}}]

    Call ids (9 alphanumeric characters, which the template insists on) are
    made up by :func:`call_id`. Where this differs from the template, on
    purpose: the system prompt goes into the last user message even when the
    conversation ends with tool results (the template then drops it;
    mistral-common, Mistral's reference tokenizer, does not), and a tool
    result that is not JSON is written as a JSON string (the template would
    write it bare, breaking the JSON around it).
    """

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "\\[TOOL_CALLS\\]",
        "\\[",
        "\\{",
        "[\\w.\\-]+\\[ARGS\\]",
    )

    call_start: ClassVar[str] = TOOL_CALLS
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, THINK_END, False)
    stop: ClassVar[tuple[str, ...]] = (EOS,)

    def rewrite_output(self, text: str) -> str:
        # The [THINK] block is reasoning, as llama.cpp's Ministral 3 handler reads it;
        # a [TOOL_CALLS] quoted inside it is not a call.
        return text.replace(THINK, "<think>").replace(THINK_END, "</think>")

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (THINK, THINK_END))

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=TOOL_CALLS,
            suffix="",
            only=only,
            as_list=True,
            max_calls=call_count(parallel, only),
        )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        last_user = max((i for i, turn in enumerate(turns) if turn.kind == "user"), default=-1)
        pending: list[str] = []
        calls_so_far = 0
        out = self.begin(system)
        for index, turn in enumerate(turns):
            if turn.kind == "user":
                if functions and index == last_user:
                    out += self.available_tools(functions)
                content = turn.content or ""
                if index == last_user and system and self.system_in_last_user:
                    content = f"{system}\n\n{content}"
                out += f"[INST]{content}[/INST]"
            elif turn.kind == "assistant" and turn.calls:
                ids = [call_id(calls_so_far + n) for n in range(len(turn.calls))]
                calls_so_far += len(turn.calls)
                pending = ids
                out += self.tool_calls(turn.calls, ids) + EOS
            elif turn.kind == "assistant":
                out += (turn.content or "") + EOS
            elif turn.kind == "function":
                if pending:
                    result_id = pending.pop(0)
                else:  # a result with no call before it
                    result_id = call_id(calls_so_far)
                    calls_so_far += 1
                out += self.tool_result(turn.content or "", result_id)
            else:
                out += self.other_turn(turn)
        return out

    # ---- what differs between the tokenizer versions ----

    system_in_last_user: ClassVar[bool] = True

    def begin(self, system: str) -> str:
        return BOS

    def available_tools(self, functions: Sequence[FunctionSchema]) -> str:
        tools = [
            {"type": "function", "function": {k: v for k, v in f.items() if k != "return"}}
            for f in functions
        ]
        return f"[AVAILABLE_TOOLS]{json.dumps(tools, ensure_ascii=False)}[/AVAILABLE_TOOLS]"

    def tool_calls(self, calls: Sequence[CallRecord], ids: Sequence[str]) -> str:
        objects = [
            json.dumps({"name": call.name, "arguments": call.arguments}, ensure_ascii=False)[:-1]
            + f', "id": "{id_}"}}'
            for call, id_ in zip(calls, ids, strict=True)
        ]
        return TOOL_CALLS + "[" + ", ".join(objects) + "]"

    def tool_result(self, content: str, result_id: str) -> str:
        return f'[TOOL_RESULTS]{{"content": {_json_text(content)}, "call_id": "{result_id}"}}[/TOOL_RESULTS]'

    def other_turn(self, turn: Turn) -> str:
        # v3 has no role for a system message in the middle: an instruction turn.
        return f"[INST]{turn.content or ''}[/INST]"

    # ---- parsing: both formats ----

    def extract_calls(self, text: str) -> Extraction:
        first = text.find(TOOL_CALLS)
        if first == -1:
            return _without_marker(text)
        content = text[:first]
        calls: list[ExtractedCall] = []
        position: int = first
        while position != -1:
            found, end = _calls_after_marker(
                text, position + len(TOOL_CALLS), after_calls=bool(calls)
            )
            calls.extend(found)
            position = text.find(TOOL_CALLS, end)
            content += text[end : position if position != -1 else len(text)]
        return Extraction(content, calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        if not region.startswith(TOOL_CALLS):
            # Calls without the marker (a server dropped it) would read differently
            # if a [TOOL_CALLS] followed: they are sent whole at the end.
            return []
        calls: list[PartialCall] = []
        position = 0
        while position != -1:
            found, end = _calls_so_far(region, position + len(TOOL_CALLS))
            calls.extend(found)
            if end is None:
                break
            position = region.find(TOOL_CALLS, end)
        return calls


class MistralV11Wrapper(MistralWrapper):
    """Mistral v11+ tokenizer models: Mistral Small 3.2, Magistral, Devstral.

    Laid out as Mistral Small 3.2's chat template
    (mistralai/Mistral-Small-3.2-24B-Instruct-2506): the system prompt in
    ``[SYSTEM_PROMPT]``, the tools before the last user message, calls and
    results marked by tokens instead of JSON keys::

        <s>[SYSTEM_PROMPT]{system prompt}[/SYSTEM_PROMPT][INST]What is the weather in Paris?[/INST][TOOL_CALLS]get_weather[CALL_ID]a1b2c3d4e[ARGS]{"city": "Paris"}</s>[TOOL_RESULTS]a1b2c3d4e[TOOL_CONTENT]{"temperature": 18}[/TOOL_RESULTS]It is 18 degrees.</s>[AVAILABLE_TOOLS][{"type": "function", "function": {...}}][/AVAILABLE_TOOLS][INST]And in Tokyo?[/INST]

    The model answers with one ``[TOOL_CALLS]`` per call::

        [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]get_time[ARGS]{"tz": "Asia/Tokyo"}

    (the parser also reads the v3 list form). Where this differs from the
    template, on purpose: without a system prompt no ``[SYSTEM_PROMPT]`` is
    written (the template writes Mistral Small 3's own long default, dated
    today, which would be wrong for Magistral and Devstral).
    """

    system_in_last_user: ClassVar[bool] = False

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return marked_calls_grammar(
            functions,
            call_open=TOOL_CALLS,
            name_sep="[ARGS]",
            only=only,
            max_calls=call_count(parallel, only),
        )

    def begin(self, system: str) -> str:
        return BOS + (f"[SYSTEM_PROMPT]{system}[/SYSTEM_PROMPT]" if system else "")

    def available_tools(self, functions: Sequence[FunctionSchema]) -> str:
        tools = [{"type": "function", "function": dict(f)} for f in functions]
        return f"[AVAILABLE_TOOLS]{json.dumps(tools, ensure_ascii=False)}[/AVAILABLE_TOOLS]"

    def tool_calls(self, calls: Sequence[CallRecord], ids: Sequence[str]) -> str:
        return "".join(
            f"{TOOL_CALLS}{call.name}[CALL_ID]{id_}[ARGS]"
            + json.dumps(call.arguments, ensure_ascii=False)
            for call, id_ in zip(calls, ids, strict=True)
        )

    def tool_result(self, content: str, result_id: str) -> str:
        return f"[TOOL_RESULTS]{result_id}[TOOL_CONTENT]{content}[/TOOL_RESULTS]"

    def other_turn(self, turn: Turn) -> str:
        return f"[SYSTEM_PROMPT]{turn.content or ''}[/SYSTEM_PROMPT]"


def _json_text(content: str) -> str:
    """A tool result inside v3's JSON: as it is when it is JSON, else as a JSON string."""
    try:
        json.loads(content)
    except json.JSONDecodeError:
        return json.dumps(content, ensure_ascii=False)
    return content.strip()


def _calls_after_marker(
    text: str, position: int, *, after_calls: bool = False
) -> tuple[list[ExtractedCall], int]:
    """The calls right after one ``[TOOL_CALLS]`` and where they end.

    Broken JSON is mended as :func:`wrappers.tolerance.read_marked_json`
    does; a cut-off call is mended only after complete ones (``after_calls``:
    an earlier ``[TOOL_CALLS]`` held calls; in a list, earlier items).
    """
    start = position
    while start < len(text) and text[start].isspace():
        start += 1
    if text.startswith("[", start):
        items, end = _call_list_at(text, start)
        if not items:
            raise WrapperParseError("an empty list after [TOOL_CALLS]", text)
        return [call_from_json(item) for item in items], end
    named = _NAMED_CALL.match(text, position)
    if named is None:
        raise WrapperParseError("[TOOL_CALLS] is followed by neither a list nor name[ARGS]", text)
    try:
        arguments, end = read_marked_json(text, named.end(), (TOOL_CALLS,), cut_off=after_calls)
    except json.JSONDecodeError as exc:
        raise WrapperParseError(f"unreadable arguments after [ARGS]: {exc}", text) from exc
    if not isinstance(arguments, dict):
        raise WrapperParseError(f"the arguments of {named.group(1)!r} are not an object", text)
    return [ExtractedCall(name=named.group(1), arguments=arguments)], end


def _call_list_at(text: str, start: int) -> tuple[list[Any], int]:
    """The list of call objects at ``text[start]``, mended where it is broken.

    A list cut off mid-way is mended only when it holds a complete call
    before the cut one (that one stands; the cut one keeps what was written).
    """
    try:
        return read_object_list(text, start)
    except json.JSONDecodeError as exc:
        error = exc
    for cut_off in (False, True):
        try:
            value, end = read_marked_json(text, start, (TOOL_CALLS,), cut_off=cut_off)
        except json.JSONDecodeError:
            continue
        if isinstance(value, list) and (not cut_off or len(value) > 1):
            return value, end
    raise WrapperParseError(f"unreadable JSON after [TOOL_CALLS]: {error}", text) from error


def _calls_so_far(text: str, position: int) -> tuple[list[PartialCall], int | None]:
    """:func:`_calls_after_marker` on an output still being written: the calls so
    far, and where they end (None: not yet)."""
    start = position
    while start < len(text) and text[start].isspace():
        start += 1
    if text.startswith("[", start):
        calls, end, complete = object_calls_so_far(text, start, unwrap_function=True)
        return calls, end if complete else None
    named = _NAMED_CALL.match(text, position)
    if named is None:
        return [], None
    found = parse_prefix(text, named.end())
    if found is None or not isinstance(found.value, dict):
        return [], None
    call = PartialCall(named.group(1), stable_dumps(found.value))
    return [call], found.end if found.complete else None


def _without_marker(text: str) -> Extraction:
    """Servers that drop special tokens leave the calls without ``[TOOL_CALLS]``."""
    stripped = text.lstrip()
    offset = len(text) - len(stripped)
    if stripped.startswith("[{"):
        try:
            items, end = read_object_list(text, offset)
        except json.JSONDecodeError:
            return Extraction(text)
        if items and all(is_call_object(item) for item in items):
            return Extraction(text[end:], [call_from_json(item) for item in items])
        return Extraction(text)
    named = _NAMED_CALL.match(stripped)
    if named and "[ARGS]" in named.group(0):  # a bare name{...} could be anything
        calls, end = _calls_after_marker(text, offset)
        return Extraction(text[end:], calls)
    return Extraction(text)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="mistral",
        factory=MistralWrapper,
        aliases=(
            "mistral-v3",
            "mistral-nemo",
            "mistral-7b-v0.3",
            "mistral-7b-instruct-v0.3",
            "mixtral",
            "mixtral-8x22b",
        ),
        description="Mistral v3 [TOOL_CALLS][{...}] (7B v0.3, Mixtral 8x22B, Nemo), parallel calls",
        family="tool-call",
    ),
    WrapperEntry(
        name="mistral-v11",
        factory=MistralV11Wrapper,
        aliases=("mistral-small-3.2", "magistral", "devstral", "mistral-small"),
        description="Mistral v11+ [TOOL_CALLS]name[ARGS]{...} (Small 3.2, Magistral, Devstral)",
        family="tool-call",
    ),
]
