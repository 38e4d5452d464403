"""DeepSeek V4 / V4.1: DSML calls in a ``<｜DSML｜tool_calls>`` (V4.1: ``<｜DSML｜ calls>``) block.

The calls are DeepSeek V3.2's (:mod:`wrappers.deepseek_dsml`: ``invoke`` /
``parameter`` tags, ``string="true|false"``, values typed by the schema);
what changed is their spelling and the prompt. V4 names the block
``tool_calls``; V4.1 writes a space after the DSML token and names it
``calls`` (vLLM ``vllm/parser/deepseek_v4.py``, ``deepseek_v41.py``). Each
reads the others' spellings too. The prompt is DeepSeek's V4 encoder
(``encoding/encoding_dsv4.py`` of the model repository, vLLM
``vllm/tokenizers/deepseek_v4_encoding.py``) in chat mode (thinking off: the
turn opens with ``</think>``), tools given as vLLM gives them::

    <｜begin▁of▁sentence｜>

    ## Tools

    You have access to a set of tools to help answer the user's question. ...
    ### Available Tool Schemas

    {"name": "get_weather", "description": "Get the weather", "parameters": {...}}

    You MUST strictly follow the above defined tool name and parameter schemas to invoke tool calls.
    Be brief.<｜User｜>What is the weather in Paris?<｜Assistant｜></think>

and the model answers::

    <｜DSML｜tool_calls>
    <｜DSML｜invoke name="get_weather">
    <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
    </｜DSML｜invoke>
    </｜DSML｜tool_calls>

Results come back in the next user message as ``<tool_result>`` blocks
(joined with the user's text by blank lines, as the encoder merges them).
V4.1 (vLLM ``deepseek_v41_encoding.py``) opens a system message with
``<｜System｜>`` and puts the tools after the client's system text. What
fcproxy writes that the encoders do not: a turn for the model to answer
when the conversation ends with the assistant's (``<｜User｜><｜Assistant｜>``),
and a mid-conversation system message as user text.
"""
# ruff: noqa: RUF001, RUF002, RUF003  (DeepSeek's tokens use full-width bars)

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.deepseek_dsml import (
    ASSISTANT,
    BOS,
    EOS,
    FORM_V4,
    FORM_V41,
    USER,
    DeepSeekDSMLWrapper,
    dsml_parameter,
)
from wrappers.invoke_calls import InvokeFormat
from wrappers.registry import WrapperEntry

SYSTEM_V41 = "<｜System｜>"


def tools_text(form: InvokeFormat) -> str:
    """The encoder's tool instructions, in ``form``'s spelling (without the schemas)."""
    p, block = form.prefix, form.block_open
    return (
        "## Tools\n\nYou have access to a set of tools to help answer the user's question. You "
        f'can invoke tools by writing a "{block}" block like the following:\n\n'
        f'{block}\n<{p}invoke name="$TOOL_NAME">\n'
        f'<{p}parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE'
        f'</{p}parameter>\n...\n</{p}invoke>\n<{p}invoke name="$TOOL_NAME2">\n...\n'
        f"</{p}invoke>\n{form.block_close}\n\n"
        'String parameters should be specified as is and set `string="true"`. For all other '
        "types (numbers, booleans, arrays, objects), pass the value in JSON format and set "
        '`string="false"`.\n\n'
        "If thinking_mode is enabled (triggered by <think>), you MUST output your complete "
        "reasoning inside <think>...</think> BEFORE any tool calls or final response.\n\n"
        "Otherwise, output directly after </think> with tool calls or final response.\n\n"
        "### Available Tool Schemas\n\n"
    )


def render_tools(form: InvokeFormat, functions: Sequence[FunctionSchema]) -> str:
    schemas = "\n".join(json.dumps(dict(f), ensure_ascii=False) for f in functions)
    return (
        tools_text(form) + schemas + "\n\nYou MUST strictly follow the above defined tool name "
        "and parameter schemas to invoke tool calls.\n"
    )


class DeepSeekV4Wrapper(DeepSeekDSMLWrapper):
    form: ClassVar[InvokeFormat] = FORM_V4
    call_start: ClassVar[str] = FORM_V4.block_open
    grammar_trigger: ClassVar[str] = FORM_V4.block_open
    #: V4.1's ``<｜System｜>`` before the system message (V4 writes none).
    system_token: ClassVar[str] = ""

    def render_system(self, system: str, functions: Sequence[FunctionSchema]) -> str:
        # V4: the tools are a system message of their own, ahead of the client's.
        return ("\n\n" + render_tools(self.form, functions) if functions else "") + system

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BOS + self.render_system(system, functions)
        pending: list[str] = []  # the user message being merged: text and results
        for turn in turns:
            if turn.kind == "assistant":
                if pending:
                    out += USER + "\n\n".join(pending) + ASSISTANT + "</think>"
                    pending = []
                out += (turn.content or "") + self.calls_block(turn) + EOS
            elif turn.kind == "function":
                pending.append(f"<tool_result>{turn.content or ''}</tool_result>")
            else:
                pending.append(turn.content or "")
        # The encoder ends with the generation header after a user message; after the
        # assistant's turn (or none) fcproxy opens an empty one for the model to answer.
        return out + USER + "\n\n".join(pending) + ASSISTANT + "</think>"

    def calls_block(self, turn: Turn) -> str:
        if not turn.calls:
            return ""
        p = self.form.prefix
        invokes = "\n".join(
            f'<{p}invoke name="{call.name}">\n'
            + "\n".join(dsml_parameter(k, v, p) for k, v in call.arguments.items())
            + f"\n</{p}invoke>"
            for call in turn.calls
        )
        return f"\n\n{self.form.block_open}\n{invokes}\n{self.form.block_close}"


class DeepSeekV41Wrapper(DeepSeekV4Wrapper):
    form: ClassVar[InvokeFormat] = FORM_V41
    call_start: ClassVar[str] = FORM_V41.block_open
    grammar_trigger: ClassVar[str] = FORM_V41.block_open

    def render_system(self, system: str, functions: Sequence[FunctionSchema]) -> str:
        # V4.1: one system message, the tools after the client's text.
        if not system and not functions:
            return ""
        tools = "\n\n" + render_tools(self.form, functions) if functions else ""
        return SYSTEM_V41 + system + tools


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="deepseek-v4",
        factory=DeepSeekV4Wrapper,
        aliases=("deepseek-v4-flash", "deepseek-v4-pro", "dsml-v4"),
        description="DeepSeek V4 <｜DSML｜tool_calls> invoke/parameter blocks, <tool_result> results",
        family="tool-call",
    ),
    WrapperEntry(
        name="deepseek-v4.1",
        factory=DeepSeekV41Wrapper,
        aliases=("deepseek-v41", "dsml-v4.1"),
        description="DeepSeek V4.1 spaced DSML: <｜DSML｜ calls><｜DSML｜ invoke name=...>",
        family="tool-call",
    ),
]
