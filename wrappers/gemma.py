"""Gemma 2 / 3 function calling: a Python list of calls, as Google documents it.

Gemma has no tool tokens; Google's guide ("Function calling with Gemma",
ai.google.dev/gemma/docs/capabilities/function-calling) prompts it with the
functions as JSON and asks for calls in the format
``[func_name1(params_name1=params_value1, ...), func_name2(params)]``. The
prompt here is the Gemma 3 chat template with that instruction, as vLLM ships
it (``examples/tool_chat_template_gemma3_pythonic.jinja``)::

    <bos><start_of_turn>user
    {system prompt}

    Tools (functions) are available. If you decide to invoke one or more of the tools, ...
    Here is a list of functions in JSON format that you can invoke.
    [{"type": "function", "function": {...}}]

    What is the weather in Paris?<end_of_turn>
    <start_of_turn>model

and the model answers ``[get_weather(city="Paris")]``. Gemma also writes its
calls in ```` ```tool_code ```` blocks (``print(get_weather(city="Paris"))``,
the style of Google's Gemma cookbook), or as the JSON
``{"name": ..., "parameters": {...}}`` of the guide's second prompt; all three
are read. Results go back as user turns in ``<tool_response>`` tags.

Where this differs from the template, on purpose: past calls separate their
arguments with ", " and write Python literals (the template's loop loses the
separator, ``city="Paris"unit="celsius"``, and writes ``true`` for ``True``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.grammar import call_count
from wrappers.json_calls import CALL_START, find_json_calls
from wrappers.python_calls import (
    CALL_LIST_START,
    LIST_MARKERS,
    NotACallList,
    call_list_triggers,
    find_call_lists,
    parse_call_list,
    python_calls_grammar,
)
from wrappers.pythonic import call_list
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, compile_opener
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

TOOL_CODE = "```tool_code"
END_OF_TURN = "<end_of_turn>"
TOOLS_INSTRUCTIONS = (
    "Tools (functions) are available. If you decide to invoke one or more of the tools, you "
    "must respond with a python list of the function calls.\n"
    "Example Format: [func_name1(params_name1=params_value1, params_name2=params_value2...), "
    "func_name2(params)] \n"
    "Do not use variables. DO NOT USE MARKDOWN SYNTAX. You SHOULD NOT include any other text "
    "in the response if you call a function. If none of the functions can be used, point it "
    "out. If you lack the parameters required by the function, also point it out.\n"
    "Here is a list of functions in JSON format that you can invoke.\n"
)
_TOOL_CODE_BLOCK = re.compile(r"```tool_code[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_PRINT = re.compile(r"\s*print\((.*)\)\s*", re.DOTALL)
# An answer that starts like a bare call (get_weather(city="Paris")) is one
# if that call is the whole answer: known only at its end.
_BARE_CALL_START = compile_opener(r"\s*[A-Za-z_][\w.]*\s*\(")


def tool_code_calls(block: str) -> list[ExtractedCall]:
    """The calls of a ``tool_code`` block: one list, or one call (maybe printed) per line."""
    try:
        return parse_call_list(_unprint(block))
    except (NotACallList, WrapperParseError):
        pass
    calls: list[ExtractedCall] = []
    for line in block.splitlines():
        if line.strip():
            try:
                calls.extend(parse_call_list(_unprint(line)))
            except NotACallList as exc:
                raise WrapperParseError(f"unreadable tool_code block: {exc}", block) from exc
    if not calls:
        raise WrapperParseError("an empty tool_code block", block)
    return calls


def _unprint(code: str) -> str:
    match = _PRINT.fullmatch(code)
    return match.group(1) if match else code


class GemmaWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call
    #: (a code fence, a call list, a JSON call object) or rewrites the text (a
    #: Llama marker). The calls themselves are sent whole at the end.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "```",
        CALL_LIST_START.pattern,
        CALL_START.pattern,
        *(re.escape(marker) for marker in LIST_MARKERS),
    )
    call_start: ClassVar[str] = TOOL_CODE
    #: Constrained, the answer is a call list (the prompt's own example).
    grammar_trigger: ClassVar[str] = "["
    stop: ClassVar[tuple[str, ...]] = (END_OF_TURN,)
    tolerates_bare_json: ClassVar[bool] = False  # JSON calls are one of its own shapes

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        prefix = system + "\n\n" if system else ""
        if functions:
            tools = [{"type": "function", "function": dict(f)} for f in functions]
            prefix += TOOLS_INSTRUCTIONS + json.dumps(tools, indent=4, ensure_ascii=False) + "\n\n"
        out = "<bos>"
        for index, turn in enumerate(turns):
            role = {"assistant": "model", "function": "user"}.get(turn.kind, turn.role)
            out += f"<start_of_turn>{role}\n" + (prefix if index == 0 else "")
            if turn.kind == "assistant" and turn.calls:
                out += call_list(turn.calls)
            content = (turn.content or "").strip()
            if turn.kind == "function":
                content = f"<tool_response>\n{content}</tool_response>"
            out += content + END_OF_TURN + "\n"
        return out + "<start_of_turn>model\n"

    def stream_answer(
        self, rest: str, functions: Sequence[FunctionSchema], *, in_reasoning: bool
    ) -> tuple[str, list[PartialCall]]:
        if _BARE_CALL_START.match(rest, partial=True):
            return "", []
        return super().stream_answer(rest, functions, in_reasoning=in_reasoning)

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return python_calls_grammar(functions, only=only, max_calls=call_count(parallel, only))

    def lazy_grammar_triggers(self, functions: Sequence[FunctionSchema]) -> list[str]:
        return call_list_triggers(functions)

    def extract_calls(self, text: str) -> Extraction:
        calls: list[ExtractedCall] = []
        for block in _TOOL_CODE_BLOCK.finditer(text):
            calls.extend(tool_code_calls(block.group(1)))
        text = _TOOL_CODE_BLOCK.sub("", text)
        found = find_call_lists(text)
        if calls or found.calls:
            return Extraction(found.content, calls + found.calls)
        # JSON call objects are one of this format's own shapes: mended here
        # (wrappers.tolerance's fallback is off for it); they are sent whole at the end.
        return find_json_calls(text, repair=True)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="gemma",
        factory=GemmaWrapper,
        aliases=("gemma3", "gemma-3", "gemma2", "gemma-2"),
        description="Gemma 2/3 Python-list calls [f(a=1)] (also ```tool_code and JSON), Gemma turns",
        family="tool-call",
    )
]
