"""MiniMax M3: ``]<]minimax[>[<tool_call>`` blocks of invokes whose arguments are tags.

The format of vLLM's ``minimax_m3`` parser (``vllm/tool_parsers/_llm_nom/m3_text.py``;
sglang ``python/sglang/srt/function_call/minimax_m3.py``). Every tag of a
call follows the namespace token ``]<]minimax[>[``; each argument is a tag
named after it, objects nest tags and lists repeat ``<item>``
(:mod:`wrappers.minimax_m3_values`); several invokes share one block::

    Let me check.
    ]<]minimax[>[<tool_call>
    ]<]minimax[>[<invoke name="get_weather">]<]minimax[>[<city>Paris]<]minimax[>[</city>]<]minimax[>[</invoke>
    ]<]minimax[>[</tool_call>

Reasoning comes first in ``<mm:think>...</mm:think>`` and goes to
``reasoning_content``. Turns are MiniMax M2's (``]~b]ROLE ...[e~[``, the
tools as ``<tool>{...}</tool>`` lines in the system turn; the template's
first part, its special tokens, ``to_xml`` and tool list, was at hand).
The rest of M3's template was not: the call instructions after the tools,
the layout of past calls and results, and the generation prompt
(``]~b]ai\\n``, the model opening its own ``<mm:think>``) are fcproxy's,
following M2's template with M3's tokens.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions, WrapperParseError
from wrappers.conversation import CallRecord
from wrappers.grammar import GrammarBuilder, call_count, calls_grammar, literal
from wrappers.minimax import MiniMaxM2Wrapper
from wrappers.minimax_m3_values import NS, arguments_rule, read_arguments, to_xml, typed_arguments
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

TOOL_CALL = f"{NS}<tool_call>"
TOOL_CALL_END = f"{NS}</tool_call>"
THINK, THINK_END = "<mm:think>", "</mm:think>"
_NS = re.escape(NS)
# sglang's reader takes whitespace between the token and its tag.
_INVOKE = re.compile(_NS + r"""\s*<invoke\s+name\s*=\s*["']?([^"'<>]+?)["']?\s*>""")
_INVOKE_END = re.compile(_NS + r"\s*</invoke>")
_SPACING = re.compile(_NS + r"[ \t\r\n]+(?=<)")
# The block's tags; a model sometimes drops the token before them.
_BLOCK_OPEN = re.compile(rf"(?:{_NS})?\s*<tool_call>\s*\Z")
_BLOCK_CLOSE = re.compile(rf"\s*(?:{_NS})?\s*</tool_call>")
_BLOCK_TAGS = re.compile(rf"(?:{_NS})?\s*</?tool_call>")
TOOLS_FOOTER = (
    "</tools>\n\nWhen making tool calls, use XML format to invoke tools and pass parameters:\n"
    f'\n{TOOL_CALL}\n{NS}<invoke name="tool-name-1">{NS}<param-key-1>param-value-1'
    f"{NS}</param-key-1>{NS}<param-key-2>{NS}<item>param-value-2{NS}</item>{NS}</param-key-2>"
    f"...{NS}</invoke>\n{TOOL_CALL_END}"
)


def _read_invoke(text: str, match: re.Match[str]) -> tuple[ExtractedCall, int]:
    close = _INVOKE_END.search(text, match.end())
    name = match.group(1).strip()
    if close is None:
        raise WrapperParseError(f"the call to {name} is cut off (no {NS}</invoke>)", text)
    body = _SPACING.sub(NS, text[match.end() : close.start()])
    end = close.end()
    block_close = _BLOCK_CLOSE.match(text, end)
    return ExtractedCall(name, read_arguments(body)), block_close.end() if block_close else end


def extract_m3_calls(text: str) -> Extraction:
    """Every invoke in ``text`` (its block's tags optional) and the text around them."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (match := _INVOKE.search(text, position)) is not None:
        before = text[position : match.start()]
        opener = _BLOCK_OPEN.search(before)
        content += before[: opener.start()] if opener else before
        call, position = _read_invoke(text, match)
        calls.append(call)
    rest = text[position:]
    if TOOL_CALL in rest:
        raise WrapperParseError(f"{TOOL_CALL} holds no complete call", text)
    return Extraction(content + rest, calls)


def m3_calls_so_far(region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
    """The calls complete so far in ``region`` (the output from its first call on), typed."""
    schemas = {f.get("name"): f for f in functions}
    calls: list[PartialCall] = []
    position = 0
    while (match := _INVOKE.search(region, position)) is not None:
        if _BLOCK_TAGS.sub("", region[position : match.start()]).strip():
            break  # text between calls: parse() decides what it is
        if _INVOKE_END.search(region, match.end()) is None:
            break
        call, position = _read_invoke(region, match)
        raw = call.arguments if isinstance(call.arguments, dict) else {}
        arguments = typed_arguments(raw, schemas.get(call.name))
        calls.append(PartialCall(call.name, json.dumps(arguments, ensure_ascii=False)))
    return calls


class MiniMaxM3Wrapper(MiniMaxM2Wrapper):
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    # The model opens its own reasoning block; a required call may follow one.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, THINK_END, False)
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(_NS + r"\s*<(?:tool_call|invoke\s)")
    stream_openers: ClassVar[tuple[str, ...]] = (
        rf"(?:{_NS})?<tool_call>\s*{_NS}\s*<invoke\s",
        re.escape(TOOL_CALL),
        _NS + r"\s*<invoke\s",
    )
    tools_footer: ClassVar[str] = TOOLS_FOOTER
    generation_prompt: ClassVar[str] = "]~b]ai\n"

    def calls_text(self, calls: Sequence[CallRecord]) -> str:
        invokes = "".join(
            f'{NS}<invoke name="{call.name}">{to_xml(call.arguments)}{NS}</invoke>\n'
            for call in calls
        )
        return f"\n{TOOL_CALL}\n{invokes}{TOOL_CALL_END}"

    def rewrite_output(self, text: str) -> str:
        return text.replace(THINK, "<think>").replace(THINK_END, "</think>")

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (THINK, THINK_END))

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        def write(builder: GrammarBuilder, index: int, function: FunctionSchema) -> str:
            name = function["name"]
            arguments = arguments_rule(builder, function, f"arguments-{index}-{name}")
            head = literal(f'{NS}<invoke name="{name}">')
            tail = literal(f"{NS}</invoke>\n")
            return " ".join(part for part in (head, arguments, tail) if part)

        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(TOOL_CALL + "\n"),
            end=literal(TOOL_CALL_END),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_m3_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return m3_calls_so_far(region, functions)

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        # Nested values are typed all the way down, not only the top-level text.
        parsed = ToolFormatWrapper.parse(self, raw, functions, options)
        by_name = {f.get("name"): f for f in functions}
        calls = [
            dataclasses.replace(
                call,
                arguments=json.dumps(
                    typed_arguments(json.loads(call.arguments), by_name.get(call.name)),
                    ensure_ascii=False,
                ),
            )
            for call in parsed.tool_calls
        ]
        return dataclasses.replace(parsed, tool_calls=calls)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="minimax-m3",
        factory=MiniMaxM3Wrapper,
        aliases=("minimax_m3", "minimax-m3.1", "minimax-m3.1-flash"),
        description="MiniMax M3 ]<]minimax[>[<tool_call> invokes, arguments as nested tags",
        family="tool-call",
    )
]
