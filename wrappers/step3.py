"""StepFun Step3: ``<｜tool_calls_begin｜>`` blocks of ``<steptml:invoke>`` calls.

The output format of vLLM's ``vllm/tool_parsers/step3_tool_parser.py``::

    <｜tool_calls_begin｜><｜tool_call_begin｜>function<｜tool_sep｜><steptml:invoke name="get_weather">
    <steptml:parameter name="city">Paris</steptml:parameter></steptml:invoke><｜tool_call_end｜>
    <｜tool_calls_end｜>

Each call is ``<｜tool_call_begin｜>`` (optionally ``function<｜tool_sep｜>``
and the name), the invoke block, ``<｜tool_call_end｜>``; calls are
separated by nothing or ``<｜tool_sep｜>``. Values are text, typed by the
request's schema (as vLLM's parser casts them); a string value keeps its
spaces.

Step3's chat template was not at hand. The prompt uses StepFun's
``<|BOT|>ROLE\\n...<|EOT|>`` turns, with the tools as JSON lines and the
call format stated in the system turn: fcproxy's rendering of the documented
output format, said here and in docs/wrappers.md. (Step 3.5 / 3.7 Flash
write Qwen3-Coder's ``<function=...>`` calls: ``qwen3-coder`` reads them.)
"""
# ruff: noqa: RUF001, RUF002  (StepFun's tokens use full-width bars)

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count
from wrappers.invoke_calls import InvokeFormat, extract_invokes, invoke_grammar, invokes_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, tools_json_lines
from wrappers.xml_calls import XmlArgumentsWrapper

CALLS_BEGIN = "<｜tool_calls_begin｜>"
CALLS_END = "<｜tool_calls_end｜>"
CALL_BEGIN = "<｜tool_call_begin｜>"
CALL_END = "<｜tool_call_end｜>"
SEP = "<｜tool_sep｜>"
EOT = "<|EOT|>"
FORM = InvokeFormat(
    prefix="steptml:",
    block_open=CALLS_BEGIN,
    block_close=CALLS_END,
    strip_values=False,
    layout="",
    # The grammar writes each call as the prompt's instructions and past calls do.
    call_open=f"{CALL_BEGIN}function{SEP}",
    call_close=CALL_END,
    python_constants=False,
)
# Each call's own wrapper; the invoke block inside it is the call.
_CALL_WRAPPER = re.compile(
    re.escape(CALL_BEGIN) + r"(?:\s*function\s*" + re.escape(SEP) + r"[^<]*)?"
    rf"|{re.escape(CALL_END)}|{re.escape(SEP)}"
)
CALL_INSTRUCTIONS = (
    "\n\n# Tools\n\nYou may call one or more functions. The available functions, in JSONSchema "
    "format:\n" + "{tools}" + "\n\nTo call functions, answer with:\n"
    f"{CALLS_BEGIN}{CALL_BEGIN}function{SEP}"
    '<steptml:invoke name="function-name"><steptml:parameter name="parameter-name">value'
    f"</steptml:parameter></steptml:invoke>{CALL_END}{CALLS_END}"
)


def unwrapped(text: str) -> str:
    """``text`` with each call's own wrapper tokens removed (the block's stay)."""
    return _CALL_WRAPPER.sub("", text)


class Step3Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALLS_BEGIN
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        re.escape(CALLS_BEGIN) + "|<steptml:invoke name="
    )
    stream_openers: ClassVar[tuple[str, ...]] = (
        re.escape(CALLS_BEGIN),
        re.escape(CALL_BEGIN),
        r"<steptml:invoke\s+name",
    )
    grammar_trigger: ClassVar[str] = CALLS_BEGIN
    stop: ClassVar[tuple[str, ...]] = (EOT,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            system += CALL_INSTRUCTIONS.replace("{tools}", tools_json_lines(functions))
        out = f"<|BOT|>system\n{system.lstrip()}{EOT}" if system else ""
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += f"<|BOT|>tool_response\n{content}{EOT}"
            elif turn.kind == "assistant":
                if turn.calls:
                    content += CALLS_BEGIN
                    for call in turn.calls:
                        content += f'{CALL_BEGIN}function{SEP}<steptml:invoke name="{call.name}">'
                        for key, value in call.arguments.items():
                            text = (
                                value
                                if isinstance(value, str)
                                else json.dumps(value, ensure_ascii=False)
                            )
                            content += f'<steptml:parameter name="{key}">{text}</steptml:parameter>'
                        content += f"</steptml:invoke>{CALL_END}"
                    content += CALLS_END
                out += f"<|BOT|>assistant\n{content}{EOT}"
            else:
                out += f"<|BOT|>{turn.role if turn.kind == 'other' else 'user'}\n{content}{EOT}"
        return out + "<|BOT|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return invoke_grammar(functions, FORM, only, max_calls=call_count(parallel, only))

    def extract_calls(self, text: str) -> Extraction:
        return extract_invokes(unwrapped(text), FORM)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return invokes_so_far(unwrapped(region), FORM, functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="step3",
        factory=Step3Wrapper,
        aliases=("step-3", "stepfun-step3", "steptml"),
        description='StepFun Step3 <｜tool_calls_begin｜><steptml:invoke name="f"><steptml:parameter name="k">',
        family="tool-call",
    )
]
