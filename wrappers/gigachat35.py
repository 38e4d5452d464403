"""Sber GigaChat 3.5: GCML ``<｜GCML｜tool_calls>`` blocks of ``invoke`` / ``parameter`` tags.

The format of GigaChat 3.5's chat template (llama.cpp
``models/templates/GigaChat3.5.jinja``; parser
``vllm/tool_parsers/gigachat35_tool_parser.py``). Messages are GigaChat 3's
``ROLE<|role_sep|>\\nTEXT<|message_sep|>\\n\\n``: a short ``developer
system`` message (call order, date, knowledge cutoff), the client's
``system`` message (empty when there is none), the tools as a TypeScript
``namespace functions`` in a ``function descriptions`` message before the
first user message (:mod:`wrappers.gigachat35_typescript`), and after every
user message and every result an ``available functions`` message listing
the tool names::

    user<|role_sep|>
    What is the weather in Paris?<|message_sep|>

    available functions<|role_sep|>
    ["get_weather"]<|message_sep|>

    assistant<|role_sep|>

The calls close the assistant's own message, after its text and a blank
line, written as DeepSeek's DSML with GigaChat's tag prefix (strings as they
are, everything else as JSON with ``string="false"``)::

    Let me check.

    <｜GCML｜tool_calls>
    <｜GCML｜invoke name="get_weather">
    <｜GCML｜parameter name="city" string="true">Paris</｜GCML｜parameter>
    </｜GCML｜invoke>
    </｜GCML｜tool_calls><|message_sep|>

Results come back in one ``function result`` message, a
``<function_response name="get_weather">...</function_response>`` per call.
The Reasoning release writes its thoughts up to ``</think>`` first (its
template opens the block); they go to ``reasoning_content``.

Left out of the rendering: the template's ``current_date`` is empty unless
given (``GigaChat35Wrapper(current_date=...)``), as servers render it when
the client passes no ``chat_template_kwargs``; tools' ``few_shot_examples``
and past reasoning are not written (fcproxy's conversation carries neither).
"""
# ruff: noqa: RUF001, RUF002  (GigaChat's tokens use full-width bars)

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.deepseek_dsml import dsml_parameter
from wrappers.gigachat3 import MESSAGE_SEP, message
from wrappers.gigachat35_typescript import tool_namespace
from wrappers.grammar import call_count
from wrappers.invoke_calls import InvokeFormat, extract_invokes, invoke_grammar, invokes_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction
from wrappers.xml_calls import XmlArgumentsWrapper

GCML = "\uff5cGCML\uff5c"
TOOL_CALLS = f"<{GCML}tool_calls>"
TOOL_CALLS_END = f"</{GCML}tool_calls>"
EOS = "</s>"
FORM = InvokeFormat(
    prefix=GCML, block_open=TOOL_CALLS, block_close=TOOL_CALLS_END, strip_values=False
)
DEVSYSTEM = (
    "Вызов функций: последовательный\n"
    "Безопасность: соответствует законодательству РФ.\n"
    "Текущая дата: {date}\n"
    "Ограничение знаний: Декабрь, 2025.\n"
    "Ты сделан на базе нейросети GigaChat."
)


def gcml_tool_calls(turn: Turn) -> str:
    """The template's ``render_gcml_tool_calls``: the block of a past turn's calls."""
    invokes = []
    for call in turn.calls:
        parameters = "".join(dsml_parameter(k, v, GCML) + "\n" for k, v in call.arguments.items())
        invokes.append(f'<{GCML}invoke name="{call.name}">\n{parameters}</{GCML}invoke>')
    return f"{TOOL_CALLS}\n" + "\n".join(invokes) + f"\n{TOOL_CALLS_END}"


class GigaChat35Wrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALLS
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        re.escape(TOOL_CALLS) + "|" + re.escape(f"<{GCML}invoke")
    )
    stream_openers: ClassVar[tuple[str, ...]] = (
        re.escape(TOOL_CALLS),
        re.escape(f"<{GCML}invoke"),
    )
    #: The assistant's message ends with <|message_sep|> (the calls are inside it).
    stop: ClassVar[tuple[str, ...]] = (EOS, "<|message_sep|>")

    def __init__(self, current_date: str = "") -> None:
        self.current_date = current_date

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = message("developer system", DEVSYSTEM.replace("{date}", self.current_date))
        out += message("system", system)
        # The template lists each name once, in the order the tools come.
        names = json.dumps(list(dict.fromkeys(f["name"] for f in functions)), ensure_ascii=False)
        available = message("available functions", names)
        described = not functions
        called: list[str] = []
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "function":
                if index and turns[index - 1].kind == "function":
                    continue  # already in the run's one message
                out += self._results(turns[index:], called) + available
            elif turn.kind == "assistant":
                parts = [content] if content else []
                if turn.calls:
                    parts.append(gcml_tool_calls(turn))
                    called = [call.name for call in turn.calls]
                out += "assistant<|role_sep|>\n" + "\n\n".join(parts) + MESSAGE_SEP
            elif turn.kind == "user":
                if not described:
                    out += message("function descriptions", tool_namespace(functions) + "\n\n")
                    described = True
                out += message("user", content) + available
            else:
                out += message(turn.role, content)
        if turns and turns[-1].kind == "assistant":
            return out
        return out + "assistant<|role_sep|>\n"

    @staticmethod
    def _results(run: list[Turn], names: list[str]) -> str:
        """One ``function result`` message for the results from ``run[0]`` on.

        Results pair with the last turn's calls by position, as the template
        pairs them; one past those takes its message's name.
        """
        responses = []
        for position, turn in enumerate(run):
            if turn.kind != "function":
                break
            name = names[position] if position < len(names) else turn.name or ""
            responses.append(
                f'<function_response name="{name}">{turn.content or ""}</function_response>'
            )
        return message("function result", "\n".join(responses))

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        calls = call_count(parallel, only)
        return invoke_grammar(functions, FORM, only, max_calls=calls, string_attribute=True)

    def extract_calls(self, text: str) -> Extraction:
        return extract_invokes(text, FORM)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return invokes_so_far(region, FORM, functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="gigachat3.5",
        factory=GigaChat35Wrapper,
        aliases=("gigachat35", "gigachat-3.5", "gigachat3.5-432b-a28b", "gcml"),
        description="Sber GigaChat 3.5 <｜GCML｜tool_calls> invoke/parameter blocks",
        family="tool-call",
    )
]
