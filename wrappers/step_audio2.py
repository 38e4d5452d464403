"""StepFun Step-Audio 2: ``<tool_call>function\\nNAME\\n{...}</tool_call>``.

The format of vLLM's ``vllm/tool_parsers/step_audio_2_tool_parser.py``; the
prompt is what vLLM's Step-Audio 2 tokenizer renders
(``vllm/tokenizers/step_audio_2.py``, ``apply_chat_template_no_trans``; the
model ships no Jinja template). Turns are ``<|BOT|>ROLE\\n...<|EOT|>`` with the
user as ``human``; with tools, the system turn is followed by a
``tool_json_schemas`` turn holding the request's tools as one JSON list::

    <|BOT|>system
    You are a helpful assistant.<|EOT|><|BOT|>tool_json_schemas
    [{"type": "function", "function": {"name": "get_weather", ...}}]<|EOT|><|BOT|>human
    What is the weather in Paris?<|EOT|><|BOT|>assistant

and the model answers with one tag per call, the calls back to back::

    <tool_call>function
    get_weather
    {"city": "Paris"}</tool_call>

Results come back as ``function_output`` turns named after the function
(``<|BOT|>function_output\\nget_weather\\nsunny<|EOT|>``). The Think model
reasons first in ``<think>...</think>``, which goes to ``reasoning_content``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, marked_calls_grammar
from wrappers.marked_json_calls import headed_json_calls, headed_json_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

TOOL_CALL = "<tool_call>"
TOOL_CALL_END = "</tool_call>"
EOT = "<|EOT|>"
CALL_HEAD = TOOL_CALL + "function\n"
# The type line, then the name on a line of its own; the arguments' "{" follows.
_HEAD = re.compile(r"<tool_call>[ \t]*(?:function[ \t]*\n)?[ \t]*([^\s{<]+)[ \t]*\n\s*(?=\{)")


def extract_step_audio_calls(text: str) -> Extraction:
    """Every ``<tool_call>function`` call in ``text`` and the text around them."""
    return headed_json_calls(text, _HEAD, TOOL_CALL_END, (TOOL_CALL_END, TOOL_CALL))


def step_audio_calls_so_far(region: str) -> list[PartialCall]:
    """The calls in ``region`` as far as they are written (arguments as a JSON prefix)."""
    return headed_json_calls_so_far(region, _HEAD, TOOL_CALL_END, end_required=True)


class StepAudio2Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALL
    grammar_trigger: ClassVar[str] = TOOL_CALL
    #: A Step-Audio 2 call: the name on its own line before the JSON (Hermes'
    #: ``<tool_call>`` holds a JSON object, GLM's the name and tags).
    call_pattern: ClassVar[re.Pattern[str]] = _HEAD
    stream_openers: ClassVar[tuple[str, ...]] = (_HEAD.pattern,)
    stop: ClassVar[tuple[str, ...]] = (EOT,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if functions:
            tools = [{"type": "function", "function": dict(f)} for f in functions]
            out += "<|BOT|>system\n" + (system + EOT if system else "")
            out += f"<|BOT|>tool_json_schemas\n{json.dumps(tools, ensure_ascii=False)}{EOT}"
        elif system:
            out += f"<|BOT|>system\n{system}{EOT}"
        called: list[str] = []
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                out += "<|BOT|>assistant\n" + content
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += f"{CALL_HEAD}{call.name}\n{arguments}{TOOL_CALL_END}"
                called = [call.name for call in turn.calls]
                out += EOT
            elif turn.kind == "function":
                # vLLM names a result after the call its id answers; here, by position.
                position = index - next(
                    i for i in range(index, -1, -1) if i == 0 or turns[i - 1].kind != "function"
                )
                name = turn.name or (called[position] if position < len(called) else "tool")
                out += f"<|BOT|>function_output\n{name}\n{content}{EOT}"
            elif turn.kind == "user":
                out += f"<|BOT|>human\n{content}{EOT}"
            else:
                out += f"<|BOT|>{turn.role}\n{content}{EOT}"
        return out + "<|BOT|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return marked_calls_grammar(
            functions,
            call_open=CALL_HEAD,
            name_sep="\n",
            call_close=TOOL_CALL_END,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_step_audio_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return step_audio_calls_so_far(region)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="step-audio-2",
        factory=StepAudio2Wrapper,
        aliases=("step_audio_2", "step-audio2", "stepaudio2", "step-audio-2-mini"),
        description="StepFun Step-Audio 2 <tool_call>function\\nNAME\\n{...}</tool_call>, <|BOT|> turns",
        family="tool-call",
    )
]
