"""Tencent Hunyuan A13B: ``<tool_calls>[{"name": ..., "arguments": {...}}]</tool_calls>``.

The format of Hunyuan-A13B-Instruct's tool template (vLLM
``examples/tool_chat_template_hunyuan_a13b.jinja``; parser
``vllm/tool_parsers/hunyuan_a13b_tool_parser.py``). The first message carries
the (Chinese) tool instructions, the tools as one JSON list and the current
time; turns are ``用户：...<|extra_0|>`` and ``助手：...<|eos|>``, results
``<tool_response>...</tool_response><|extra_0|>``. There is no assistant
header: the model writes right after the user's ``<|extra_0|>``::

    <|startoftext|>你是一位函数组合专家。...
    [{"type": "function", "function": {"name": "get_weather", ...}}]
    ...当前时间：2025-07-26 00:00:00 星期六<|extra_4|>用户：北京天气如何？<|extra_0|>

and the model answers (after its ``<think>`` block, in ``<answer>`` tags)::

    <tool_calls>[{"name": "get_weather", "arguments": {"city": "北京"}}]</tool_calls>

A plain answer starts with ``助手：``, which is not content.
"""
# ruff: noqa: RUF001, RUF002  (the template is Chinese: full-width punctuation)

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call, json_list_grammar, literal
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import Extraction, ToolFormatWrapper

TOOL_CALLS = "<tool_calls>"
TOOL_CALLS_END = "</tool_calls>"
START = "<|startoftext|>"
SYSTEM_END = "<|extra_4|>"
TURN_END = "<|extra_0|>"
EOS = "<|eos|>"
USER = "用户："
ASSISTANT = "助手："
CALL_FORMAT = (
    '<tool_calls>[{"name": "func_name1", "arguments": {"argument1": "value1", '
    '"argument2": "value2"}},...]</tool_calls>'
)
INTRO = (
    "你是一位函数组合专家。你会得到一个问题和一组可能的函数。根据问题，你需要进行一个或多个函数/工具调用以实现目的。\n"
    "如果没有一个函数可以使用，请直接使用自然语言回复用户，以助手：开头。\n"
    "如果给定的问题缺少函数所需的参数，请使用自然语言进行提问，向用户询问必要信息，以助手：开头。\n"
    "如果调用结果已经足够回答用户问题，请对历史结果进行总结，使用自然语言回复用户，以助手：开头。\n"
    f"你应该只在工具调用部分返回函数调用。如果你决定调用任何函数，你必须将其格式化为{CALL_FORMAT}。"
    "你不应该在回复中包含任何其他文本。以下是你可以调用的函数列表，格式为JSON。\n"
)
WITH_SYSTEM = (
    "\n\n如果你决定返回函数调用，请将其格式化为"
    f"{CALL_FORMAT}，不得包含其他文本。如果额外要求里有格式要求，请忽略，以此处为准。\n"
    "否则，请参考开头说的三种情况，以助手：开头进行回复。\n\n"
    "如果额外要求里有时间信息，就以额外要求里的时间为准，否则，参考当前时间："
)
WITH_USER = (
    f"\n如果你决定返回函数调用，请将其格式化为{CALL_FORMAT}，不得包含其他文本。\n"
    "否则，请参考开头说的三种情况，以助手：开头进行回复。\n\n当前时间："
)
WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
# Hunyuan's answer channel; its tags are layout, not content.
ANSWER_TAGS = ("<answer>", "</answer>")
THINK, THINK_END = "<think>", "</think>"
_CALLS = re.compile(re.escape(TOOL_CALLS))


def without_answer_tags(text: str) -> str:
    for tag in ANSWER_TAGS:
        text = text.replace(tag, "")
    return text


def extract_tool_calls_list(text: str) -> Extraction:
    """The calls of every ``<tool_calls>[...]</tool_calls>`` list in ``text`` (Hunyuan's,
    Jamba's and Apriel's) and the text around them."""
    return json_calls_after_markers(text, (_CALLS,), end_markers=(TOOL_CALLS_END,))


def tool_calls_list_so_far(region: str) -> list[PartialCall]:
    """:func:`extract_tool_calls_list` on an output still being written."""
    return marked_calls_so_far(region, (_CALLS,), end_markers=(TOOL_CALLS_END,))


def tool_calls_list_grammar(
    functions: Sequence[FunctionSchema],
    only: str | None,
    *,
    parallel: bool,
    around: tuple[str, str] = ("", ""),
) -> str:
    """``<tool_calls>[{"name": ..., "arguments": {...}}, ...]</tool_calls>``: Hunyuan's
    calls, and Jamba's and Apriel's (their readers are the same). ``around``: GBNF
    of what may come before and after them."""
    return json_list_grammar(
        functions,
        json_call(),
        prefix=TOOL_CALLS,
        suffix=TOOL_CALLS_END,
        only=only,
        max_calls=call_count(parallel, only),
        around=around,
    )


class HunyuanWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALLS
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    # The model thinks first, then answers in its answer channel:
    # "<think>\n...\n</think>\n<answer>\n<tool_calls>[...]</tool_calls>\n</answer>"
    # (vLLM's hunyuan_a13b reasoning parser; "<think>\n\n</think>" when it does
    # not think). The calls' grammar takes the answer tags around them.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (THINK, THINK_END, False)
    stop: ClassVar[tuple[str, ...]] = (EOS, TURN_END)

    def __init__(self, now: datetime | None = None) -> None:
        #: The time the prompt states (the template's strftime_now); None: now.
        self.now = now

    def current_time(self) -> str:
        now = self.now or datetime.now()
        return now.strftime("%Y-%m-%d %H:%M:%S") + " " + WEEKDAYS[now.weekday()]

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if not functions:
            return self._render_plain(system, turns)
        tools = json.dumps(
            [{"type": "function", "function": dict(f)} for f in functions], ensure_ascii=False
        )
        head = f"{INTRO}\n{tools}\n"
        out = ""
        rest = turns
        if system:
            out = START + head + "\n额外要求：\n" + system + WITH_SYSTEM + self.current_time()
            out += SYSTEM_END
        elif turns and turns[0].kind == "user":
            out = START + head + WITH_USER + self.current_time() + SYSTEM_END
            out += f"{USER}{turns[0].content or ''}{TURN_END}"
            rest = turns[1:]
        for turn in rest:
            content = turn.content or ""
            if turn.kind == "assistant" and turn.calls:
                calls = ", ".join(
                    f'{{"name": "{c.name}", "arguments": {json.dumps(c.arguments, ensure_ascii=False)}}}'
                    for c in turn.calls
                )
                out += f"{content}{TOOL_CALLS}[{calls}]{TOOL_CALLS_END}{EOS}"
            elif turn.kind == "assistant":
                out += f"{ASSISTANT}{content}{EOS}"
            elif turn.kind == "function":
                out += f"<tool_response>{content}</tool_response>{TURN_END}"
            else:
                out += f"{USER}{content}{TURN_END}"
        return out

    def _render_plain(self, system: str, turns: list[Turn]) -> str:
        """The template without tools: the turns' text between its tokens."""
        out = f"{START}{system}{SYSTEM_END}" if system else ""
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                out += content + EOS
            elif turn.kind == "function":
                out += content + TURN_END
            elif index == 0 and system:
                out += content + TURN_END  # the template's has_head case
            else:
                out += START + content + TURN_END
        return out

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        opening, closing = (literal(tag) for tag in ANSWER_TAGS)
        around = (f'( {opening} "\\n"? )?', f'( "\\n"? {closing} )?')
        return tool_calls_list_grammar(functions, only, parallel=parallel, around=around)

    def rewrite_output(self, text: str) -> str:
        return _answer_text(text)

    def whole_tokens(self, text: str) -> str | None:
        return without_partial_suffix(text, (*ANSWER_TAGS, ASSISTANT))

    def extract_calls(self, text: str) -> Extraction:
        return extract_tool_calls_list(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return tool_calls_list_so_far(region)


def _answer_text(text: str) -> str:
    """The output without its ``<answer>`` tags and the ``助手：`` a plain answer opens with."""
    text = without_answer_tags(text)
    close = text.find(THINK_END)
    at = close + len(THINK_END) if close != -1 else 0
    head, body = text[:at], text[at:]
    stripped = body.lstrip()
    if stripped.startswith(ASSISTANT):
        body = stripped[len(ASSISTANT) :]
    return head + body


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="hunyuan-a13b",
        factory=HunyuanWrapper,
        aliases=("hunyuan", "hunyuan-a13b-instruct"),
        description='Tencent Hunyuan A13B <tool_calls>[{"name", "arguments"}]</tool_calls>',
        family="tool-call",
    )
]
