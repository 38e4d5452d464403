"""IBM granite-20b-functioncalling: ``<function_call> {"name": ..., "arguments": {...}}``.

The format of vLLM's template for the model
(``examples/tool_chat_template_granite_20b_fc.jinja``; parser
``vllm/tool_parsers/granite_20b_fc_tool_parser.py``). ``SYSTEM:`` /
``USER:`` / ``ASSISTANT:`` lines; the tools are JSON lines after
``<|function_call_library|>``, with the instruction to call ``no_function``
when none fits::

    SYSTEM: You are a helpful assistant with access to the following function calls. ...
    <|function_call_library|>{"name": "get_weather", "description": "Get the weather, "parameters": {...}}If none of the functions are relevant ...



    USER: What is the weather in Tokyo?

    ASSISTANT:

and the model answers with one marker per call, no closing tag::

    <function_call> {"name": "get_weather", "arguments": {"city": "Tokyo"}}
    <function_call> {"name": "get_time", "arguments": {"timezone": "Asia/Tokyo"}}

A ``no_function`` call is the model declining, not a call. Results come back
as ``<function_response>`` text. Where fcproxy differs from the template on
purpose: the template raises on a system message and drops an assistant's
text next to its calls; fcproxy puts the system message in the ``SYSTEM:``
line and keeps the text. (The template's unclosed ``"description"`` string is
kept: it is what the model is prompted with under vLLM.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

FUNCTION_CALL = "<function_call>"
END = "<|endoftext|>"
LIBRARY = "<|function_call_library|>"
DEFAULT_SYSTEM = (
    "You are a helpful assistant with access to the following function calls. Your task is to "
    "understand the given conversation with function calls and responses and generate natural "
    "language response as the ASSISTANT to continue the conversation. You may use the following "
    "function calls to understand how to respond to the user query."
)
NO_FUNCTION_LINE = (
    "If none of the functions are relevant or the given question lacks the parameters required "
    'by the function, please output \\"<function_call> {\\"name\\": \\"no_function\\", '
    '\\"arguments\\": {}}\\".'
)
#: The model's way of saying no function fits.
NO_FUNCTION = "no_function"
# Not OLMo 3's <function_calls>.
_MARKER = re.compile(re.escape(FUNCTION_CALL) + r"(?!s)")


def tool_line(function: FunctionSchema) -> str:
    """One tool as the template writes it (its description string is left unclosed)."""
    parameters = function.get("parameters") or {}
    written = json.dumps(parameters, ensure_ascii=False) if parameters.get("properties") else "{}"
    description = function.get("description") or ""
    return (
        f'{{"name": "{function["name"]}", "description": "{description}, "parameters": {written}}}'
    )


class Granite20bFCWrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = FUNCTION_CALL
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(FUNCTION_CALL) + r"\s*[{\[]")
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(FUNCTION_CALL) + r"(?!s)",)
    grammar_trigger: ClassVar[str] = FUNCTION_CALL
    stop: ClassVar[tuple[str, ...]] = (END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = f"\nSYSTEM: {system or DEFAULT_SYSTEM}\n"
        if functions:
            out += LIBRARY + "\n".join(tool_line(f) for f in functions) + NO_FUNCTION_LINE
        out += "\n\n\n"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += f"<function_response> {content}"
            elif turn.kind == "assistant" and turn.calls:
                out += "\nASSISTANT:" + (f" {content}" if content else "") + "\n"
                for call in turn.calls:
                    written = json.dumps(
                        {"name": call.name, "arguments": call.arguments}, ensure_ascii=False
                    )
                    out += f"{FUNCTION_CALL} {written}\n"
                out += f"{END}\n"
            elif turn.kind == "assistant":
                out += f"\nASSISTANT: {content} {END}\n"
            else:
                out += f"\nUSER: {content}\n"
        return out + "\nASSISTANT: \n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=f"{FUNCTION_CALL} ",
            suffix="",
            only=only,
            max_calls=call_count(parallel, only),
        )

    def extract_calls(self, text: str) -> Extraction:
        found = json_calls_after_markers(text, (_MARKER,))
        calls = [call for call in found.calls if call.name != NO_FUNCTION]
        return Extraction(found.content, calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        calls = marked_calls_so_far(region, (_MARKER,))
        return [call for call in calls if call.name != NO_FUNCTION]


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="granite-20b-fc",
        factory=Granite20bFCWrapper,
        aliases=("granite-20b-functioncalling", "granite-20b-fc-8k"),
        description='IBM granite-20b-functioncalling <function_call> {"name", "arguments"}, one per call',
        family="tool-call",
    )
]
