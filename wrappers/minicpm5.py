"""MiniCPM5: ``<function name="f"><param name="k">v</param></function>``, values in CDATA.

The format of openbmb/MiniCPM5-1B's chat template (llama.cpp
``models/templates/openbmb-MiniCPM5-1B.jinja``, added with its ``minicpm5``
parser; vLLM ``vllm/tool_parsers/minicpm5xml_tool_parser.py``). ChatML turns;
the tools are JSON lines in ``<tools>`` in the system turn, followed by the
usage guidelines; results come back as ``<tool_response>`` blocks in a user
turn::

    <|im_start|>system
    # Tools

    You are provided with function signatures within <tools></tools> XML tags:
    <tools>
    {"type": "function", "function": {"name": "get_weather", ...}}
    </tools>

    Tool usage guidelines:
    ...<|im_end|>
    <|im_start|>user
    What is the weather in Paris?<|im_end|>
    <|im_start|>assistant

and the model answers, with no block around its calls::

    <function name="get_weather"><param name="city">Paris</param></function>

A value holding ``<``, ``&`` or a newline is wrapped in ``<![CDATA[...]]>``.
Values are text, typed by the request's schema (:mod:`wrappers.invoke_calls`)
and trimmed, as vLLM's parser does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count
from wrappers.invoke_calls import InvokeFormat, InvokeWrapper, invoke_grammar
from wrappers.registry import WrapperEntry
from wrappers.xml_calls import text_value

FUNCTION = "<function name="
TURN_END = "<|im_end|>"
FORM = InvokeFormat(
    prefix="",
    block_open="",
    block_close="",
    invoke_tag="function",
    parameter_tag="param",
    layout="",
)
TOOLS_HEADER = (
    "# Tools\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nTool usage guidelines:\n"
    "- You may call zero or more functions. If no function calls are needed, just answer "
    "normally and do not include any <function ... </function>.\n"
    "- When calling a function, return an XML object within <function ... </function> using:\n"
    '<function name="function-name"><param name="param-name">param-value</param></function>\n'
    "- param-value may be multi-line. If it contains <, & or newline characters, wrap it in a "
    'CDATA block: <param name="param-name"><![CDATA[...multi-line value...]]></param>'
)


def param_text(value: Any) -> str:
    """A value as the template writes it: text in CDATA where it holds ``<``, ``&`` or a newline."""
    text = text_value(value)
    if isinstance(value, str) and any(c in value for c in "<&\n"):
        return f"<![CDATA[{text}]]>"
    return text


def call_xml(call: CallRecord) -> str:
    params = "".join(
        f'<param name="{key}">{param_text(value)}</param>' for key, value in call.arguments.items()
    )
    return f'<function name="{call.name}">{params}</function>'


class MiniCPM5Wrapper(InvokeWrapper):
    form: ClassVar[InvokeFormat] = FORM
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = FUNCTION
    #: The grammar writes the tag whole (the model sometimes collapses it: read, not written).
    grammar_trigger: ClassVar[str] = '<function name="'
    # <function name= (Qwen3-Coder's is <function=NAME>); collapsed <functionname= too.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<function\s*name\s*=")
    stream_openers: ClassVar[tuple[str, ...]] = (r"<function\s*name",)
    stop: ClassVar[tuple[str, ...]] = (TURN_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if functions:
            tools = TOOLS_HEADER + "".join(
                "\n" + json.dumps({"type": "function", "function": dict(f)}, ensure_ascii=False)
                for f in functions
            )
            tools += TOOLS_FOOTER
            out = "<|im_start|>system\n" + (f"{system}\n\n{tools}" if system else tools)
            out += TURN_END + "\n"
        elif system:
            out = f"<|im_start|>system\n{system}{TURN_END}\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<|im_start|>user"
                out += f"\n<tool_response>\n{turn.content or ''}\n</tool_response>"
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += TURN_END + "\n"
            elif turn.kind == "assistant":
                content = turn.content or ""
                out += "<|im_start|>assistant\n" + content
                for number, call in enumerate(turn.calls):
                    out += ("\n" if number or content else "") + call_xml(call)
                out += TURN_END + "\n"
            else:
                out += f"<|im_start|>{turn.role}\n{turn.content or ''}{TURN_END}\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        calls = call_count(parallel, only)
        return invoke_grammar(functions, FORM, only, max_calls=calls)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="minicpm5",
        factory=MiniCPM5Wrapper,
        aliases=("minicpm", "minicpm-5", "minicpm5-1b"),
        description='MiniCPM5 <function name="f"><param name="k">v</param></function>, CDATA values',
        family="tool-call",
    )
]
