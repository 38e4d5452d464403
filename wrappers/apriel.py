"""ServiceNow Apriel 1.5 Thinker: reasoning, then ``[BEGIN FINAL RESPONSE]`` and ``<tool_calls>[...]</tool_calls>``.

The format of Apriel 1.5's chat template (llama.cpp
``models/templates/unsloth-Apriel-1.5.jinja``, which llama.cpp's
``tests/test-chat.cpp`` runs as "Apriel 1.5"). The system turn asks for
step-by-step reasoning and a final answer between ``[BEGIN FINAL
RESPONSE]`` and ``[END FINAL RESPONSE]``; the tools are Python dicts in
``<available_tools>``, and calls are one JSON list::

    <|system|>
    You are a thoughtful and systematic AI assistant built by ServiceNow ... [END FINAL RESPONSE].You are provided with function signatures within <available_tools></available_tools> XML tags. ...
    <available_tools>
    {'type': 'function', 'function': {'name': 'get_weather', ...}}
    </available_tools>
    Return all function calls as a list of json objects ...
    <|end|>
    <|user|>
    What is the weather in Paris?
    <|end|>
    <|assistant|>

and the model answers::

    Here are my reasoning steps:
    The user wants the weather in Paris.
    [BEGIN FINAL RESPONSE]
    <tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>
    [END FINAL RESPONSE]

An answer that opens with "Here are my reasoning steps:" is reasoning up to
``[BEGIN FINAL RESPONSE]`` (or a call list, should the marker be missing),
and so is a ``<thinking>`` block; the markers are not content. Results come back as ``<|tool_result|>`` turns.
The template's quirks are kept (without a system message and with tools it
writes two system turns; with both, the call instructions are left out);
what it writes that fcproxy cannot: the ids of past calls (the conversation
fcproxy renders carries none) and the ``eos_token`` after each assistant
turn (left to the server, as the golden renders it with an empty one).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.hunyuan import (
    TOOL_CALLS,
    TOOL_CALLS_END,
    extract_tool_calls_list,
    tool_calls_list_grammar,
    tool_calls_list_so_far,
)
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tool_format import Extraction, ToolFormatWrapper

END = "<|end|>"
BEGIN_FINAL = "[BEGIN FINAL RESPONSE]"
END_FINAL = "[END FINAL RESPONSE]"
REASONING_OPENER = "Here are my reasoning steps:"
REASONING_PROMPT = (
    "You are a thoughtful and systematic AI assistant built by ServiceNow Language Models (SLAM) "
    "lab. Before providing an answer, analyze the problem carefully and present your reasoning "
    "step by step. After explaining your thought process, provide the final solution in the "
    "following format: [BEGIN FINAL RESPONSE] ... [END FINAL RESPONSE]."
)
TOOLS_INTRO = (
    "You are provided with function signatures within <available_tools></available_tools> XML "
    "tags. You may call one or more functions to assist with the user query. Don't make "
    "assumptions about the arguments. You should infer the argument values from previous user "
    "responses and the system message. Here are the available tools:\n<available_tools>\n"
)
CALL_INSTRUCTIONS = (
    "Return all function calls as a list of json objects within <tool_call></tool_call> XML "
    "tags. Each json object should contain a function name and arguments as follows:\n"
    '<tool_calls>[{"name": <function-name-1>, "arguments": <args-dict-1>}, '
    '{"name": <function-name-2>, "arguments": <args-dict-2>},...]</tool_calls>'
)


def available_tools(functions: Sequence[FunctionSchema]) -> str:
    # The template prints each tool with Jinja's |string: Python's str() of the dict.
    listed = "".join(str({"type": "function", "function": dict(f)}) + "\n" for f in functions)
    return f"{TOOLS_INTRO}{listed}</available_tools>"


THINKING_TAGS = ("<thinking>", "</thinking>")


def as_think_block(text: str) -> str:
    """The answer with its reasoning as a ``<think>`` block and Apriel's markers removed.

    Reasoning is Apriel's "Here are my reasoning steps:" up to the final
    response, or a ``<thinking>`` block (llama.cpp's Apriel 1.5 parser reads
    those: the template asks for them when ``add_thoughts`` is set).
    """
    text = text.replace("<thinking>", "<think>").replace("</thinking>", "</think>")
    stripped = text.lstrip()
    if stripped.startswith(REASONING_OPENER):
        text = "<think>" + stripped[len(REASONING_OPENER) :].replace(BEGIN_FINAL, "</think>", 1)
    return text.replace(BEGIN_FINAL, "").replace(END_FINAL, "")


class AprielWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = TOOL_CALLS
    grammar_trigger: ClassVar[str] = TOOL_CALLS
    #: Calls written before the final-response marker still count.
    calls_end_reasoning: ClassVar[bool] = True
    stop: ClassVar[tuple[str, ...]] = (END,)
    #: Its reasoning steps, then the final response's calls.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (
        REASONING_OPENER,
        BEGIN_FINAL,
        False,
    )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if functions and not system:
            out += f"<|system|>\n{REASONING_PROMPT}{available_tools(functions)}\n{CALL_INSTRUCTIONS}\n{END}\n"
        if not system:
            out += f"<|system|>\n{REASONING_PROMPT}\n{END}\n"
        elif functions:
            out += f"<|system|>\n{REASONING_PROMPT}{system}\n{available_tools(functions)}\n{END}\n"
        else:
            out += f"<|system|>\n{REASONING_PROMPT}{system}\n{END}\n"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += f"<|tool_result|>\n{content}\n{END}\n"
            elif turn.kind == "assistant":
                if turn.calls:
                    calls = ", ".join(
                        f'{{"name": "{c.name}", "arguments": {json.dumps(c.arguments, ensure_ascii=False)}}}'
                        for c in turn.calls
                    )
                    content += f"\n{TOOL_CALLS}[{calls}]{TOOL_CALLS_END}"
                out += f"<|assistant|>\n{content}\n{END}\n"
            else:
                out += f"<|user|>\n{content}\n{END}\n"
        if turns and turns[-1].kind == "assistant":
            return out
        return out + "<|assistant|>\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return tool_calls_list_grammar(functions, only, parallel=parallel)

    def rewrite_output(self, text: str) -> str:
        return as_think_block(text)

    def whole_tokens(self, text: str) -> str | None:
        if REASONING_OPENER.startswith(text.lstrip()):
            return None  # reasoning or content: the opener decides
        return without_partial_suffix(text, (BEGIN_FINAL, END_FINAL, *THINKING_TAGS))

    def extract_calls(self, text: str) -> Extraction:
        return extract_tool_calls_list(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return tool_calls_list_so_far(region)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="apriel",
        factory=AprielWrapper,
        aliases=("apriel-1.5", "apriel-1.5-15b-thinker", "apriel-thinker"),
        description="ServiceNow Apriel 1.5 reasoning, [BEGIN FINAL RESPONSE], <tool_calls>[...]</tool_calls>",
        family="tool-call",
    )
]
