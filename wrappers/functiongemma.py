"""FunctionGemma: ``<start_function_call>call:NAME{key:<escape>text<escape>}<end_function_call>``.

Google's FunctionGemma (a Gemma 3 270M tuned for function calling) writes
Gemma 4's call syntax (:mod:`wrappers.gemma4`, :mod:`wrappers.gemma_values`)
with its own markers and ``<escape>`` as the string quote, on Gemma 3 turns.
Tools are declared in a ``developer`` turn; results come back as
``<start_function_response>response:NAME{value:<escape>...<escape>}<end_function_response>``::

    <bos><start_of_turn>developer
    You are a model that can do function calling with the following functions<start_function_declaration>declaration:get_weather{description:<escape>Get the weather<escape>,parameters:{properties:{city:{type:<escape>STRING<escape>}},type:<escape>OBJECT<escape>}}<end_function_declaration><end_of_turn>
    <start_of_turn>user
    Weather in Paris?<end_of_turn>
    <start_of_turn>model

and the model answers ``<start_function_call>call:get_weather{city:<escape>Paris<escape>}<end_function_call>``.

Its values are mostly all quoted, numbers too (vLLM's
``functiongemma_tool_parser`` tests: ``count:<escape>42<escape>`` is 42), so
text values are typed by the request's schema.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.gemma4 import Gemma4Wrapper, declare_function
from wrappers.gemma_values import write_arguments, write_value
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import ExtractedCall
from wrappers.xml_calls import schema_typed_json, typed_arguments

ESCAPE = "<escape>"
CALL = "<start_function_call>"
CALL_END = "<end_function_call>"
END_OF_TURN = "<end_of_turn>"
DEVELOPER_PROMPT = "You are a model that can do function calling with the following functions"


class FunctionGemmaWrapper(Gemma4Wrapper):
    call_start: ClassVar[str] = CALL
    grammar_trigger: ClassVar[str] = CALL
    call_end: ClassVar[str] = CALL_END
    quote: ClassVar[str] = ESCAPE
    stop: ClassVar[tuple[str, ...]] = (END_OF_TURN, "<eos>")

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = "<bos>"
        if system or functions:
            out += "<start_of_turn>developer\n" + (system.strip() or DEVELOPER_PROMPT)
            out += "".join(
                f"<start_function_declaration>{declare_function(f, ESCAPE)}"
                "<end_function_declaration>"
                for f in functions
            )
            out += END_OF_TURN + "\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                value = write_value(turn.content or "", ESCAPE)
                out += (
                    f"<start_function_response>response:{turn.name or 'unknown'}"
                    f"{{value:{value}}}<end_function_response>"
                )
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += END_OF_TURN + "\n"
                continue
            if turn.kind == "assistant":
                out += "<start_of_turn>model\n"
                out += "".join(
                    f"{CALL}call:{c.name}{write_arguments(c.arguments, ESCAPE)}{CALL_END}"
                    for c in turn.calls
                )
                out += (turn.content or "").strip()
                if not (
                    turn.calls and index + 1 < len(turns) and turns[index + 1].kind == "function"
                ):
                    out += END_OF_TURN + "\n"
                continue
            out += f"<start_of_turn>user\n{(turn.content or '').strip()}{END_OF_TURN}\n"
        return out + "<start_of_turn>model\n"

    def type_arguments(self, arguments: str, function: FunctionSchema | None) -> str:
        return schema_typed_json(arguments, function)

    def partial_call(self, call: ExtractedCall, functions: Sequence[FunctionSchema]) -> PartialCall:
        schema = next((f for f in functions if f.get("name") == call.name), None)
        arguments = call.arguments if isinstance(call.arguments, dict) else {}
        return PartialCall(
            call.name, json.dumps(typed_arguments(arguments, schema), ensure_ascii=False)
        )


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="functiongemma",
        factory=FunctionGemmaWrapper,
        aliases=("function-gemma", "functiongemma-270m"),
        description="FunctionGemma <start_function_call>call:name{key:<escape>text<escape>}<end_function_call>",
        family="tool-call",
    )
]
