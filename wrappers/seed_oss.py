"""ByteDance Seed-OSS tool calls: Qwen3-Coder's XML inside ``<seed:tool_call>``.

The prompt is Seed-OSS-36B-Instruct's chat template: ``<seed:bos>role ...
<seed:eos>`` turns, each tool as a Python signature with a docstring in the
system turn, and the model answers::

    <seed:tool_call>
    <function=get_weather>
    <parameter=city>Paris</parameter>
    </function>
    </seed:tool_call>

Values are text, converted by the function's schema (:mod:`wrappers.xml_calls`).
Seed-OSS reasons in ``<seed:think>...</seed:think>`` (with
``<seed:cot_budget_reflect>`` notes inside); that block is moved to
``reasoning_content`` and never parsed, although it often quotes a call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions
from wrappers.conversation import Turn
from wrappers.grammar import call_count, xml_calls_grammar
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, Snapshot, without_partial_suffix
from wrappers.tool_format import Extraction
from wrappers.xml_calls import (
    FUNCTION_OPEN,
    XmlArgumentsWrapper,
    extract_function_blocks,
    function_blocks_so_far,
    text_value,
)

BOS = "<seed:bos>"
EOS = "<seed:eos>"
TOOL_CALL = "<seed:tool_call>"
TOOL_CALL_END = "</seed:tool_call>"
THINK = "<seed:think>"
THINK_END = "</seed:think>"
DEFAULT_SYSTEM = (
    "You are Doubao, a helpful AI assistant. You may call one or more functions to assist "
    "with the user query."
)
CALL_FORMAT = (
    "工具调用请遵循如下格式:\n<seed:tool_call>\n<function=example_function_name>\n"
    "<parameter=example_parameter_1>value_1</parameter>\n<parameter=example_parameter_2>"
    "This is the value for the second parameter\nthat can span\nmultiple lines</parameter>\n"
    "</function>\n</seed:tool_call>\n"
)
_PY_TYPES = {"string": "str", "number": "int", "integer": "int", "boolean": "bool", "array": "list"}


def py_type(spec: Any) -> str:
    """The template's ``py_type``: JSON schema type -> Python annotation (numbers are ``int``)."""
    declared = spec.get("type") if isinstance(spec, dict) else None
    return _PY_TYPES.get(declared, "Any") if isinstance(declared, str) else "Any"


def render_function(function: FunctionSchema) -> str:
    parameters = function.get("parameters") or {}
    properties: dict[str, Any] = parameters.get("properties") or {}
    required = parameters.get("required") or []
    signature = ",".join(f"{name}: {py_type(spec)}" for name, spec in properties.items())
    out = f'\n\nFunction:\ndef {function["name"]}({signature}):\n    """\n'
    out += f"    {str(function.get('description') or '').strip()}\n\n"
    if properties:
        out += "    Args:"
        for name, spec in properties.items():
            mark = "[必填]" if name in required else "[选填]"
            description = (spec.get("description") if isinstance(spec, dict) else None) or ""
            out += f"\n    - {name} ({py_type(spec)}) {mark}: {description}"
        out += "\n\n"
    return out + '    """'


class SeedOssWrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call
    #: (models drop the wrapper tag, or write no newline after it).
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(TOOL_CALL), re.escape(FUNCTION_OPEN))
    # The whole opener: detection tries longer openers first, and Qwen3-Coder's
    # (``<tool_call>\n<function=``) would otherwise claim the function blocks inside.
    call_start: ClassVar[str] = TOOL_CALL + "\n" + "<function="
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(TOOL_CALL))
    grammar_trigger: ClassVar[str] = TOOL_CALL
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, THINK_END, False)
    stop: ClassVar[tuple[str, ...]] = (EOS,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if system or functions:
            out = f"{BOS}system\n{system or DEFAULT_SYSTEM}"
            out += "".join(render_function(f) for f in functions)
            if functions:
                out += "\n" + CALL_FORMAT
            out += EOS
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                out += BOS + "assistant"
                if content.strip():
                    out += "\n" + content.strip() + ("\n" if turn.calls else EOS)
                for call in turn.calls:
                    out += f"\n{TOOL_CALL}\n<function={call.name}>\n"
                    out += "".join(
                        f"<parameter={key}>{text_value(value)}</parameter>\n"
                        for key, value in call.arguments.items()
                    )
                    out += f"</function>\n{TOOL_CALL_END}"
                if turn.calls:
                    out += EOS
            else:
                role = {"function": "tool", "user": "user"}.get(turn.kind, turn.role)
                out += f"{BOS}{role}\n{content}{EOS}"
        return out + BOS + "assistant\n"

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        # Seed's reasoning tags, spelled as the base class knows them.
        raw = raw.replace(THINK, "<think>").replace(THINK_END, "</think>")
        return super().parse(raw, functions, options)

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        # As parse() does; a tag still being written waits until it is whole.
        text = without_partial_suffix(text, (THINK, THINK_END))
        text = text.replace(THINK, "<think>").replace(THINK_END, "</think>")
        return super().stream_snapshot(
            text, functions, options, starts_in_reasoning=starts_in_reasoning
        )

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return function_blocks_so_far(region, TOOL_CALL_END, functions)

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return xml_calls_grammar(
            functions,
            only=only,
            max_calls=call_count(parallel, only),
            call_open=TOOL_CALL + "\n",
            call_close=TOOL_CALL_END,
            value_newlines=False,
            write=text_value,
        )

    def extract_calls(self, text: str) -> Extraction:
        # parse() has moved <seed:think> aside; a caller that skips it (the auto
        # wrapper) must still not read the calls a thought quotes.
        thought_end = text.rfind(THINK_END) + len(THINK_END) if THINK_END in text else 0
        if THINK not in text[thought_end:]:
            found = extract_function_blocks(text[thought_end:], TOOL_CALL, TOOL_CALL_END)
            return Extraction(text[:thought_end] + found.content, found.calls)
        return Extraction(text)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="seed-oss",
        factory=SeedOssWrapper,
        aliases=("seed-oss-36b", "seed-oss-36b-instruct"),
        description="ByteDance Seed-OSS <seed:tool_call><function=name><parameter=k>v</parameter>",
        family="tool-call",
    )
]
