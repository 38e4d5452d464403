"""Qwen3-Coder tool calls: one XML tag per argument, values as plain text.

The prompt is Qwen3-Coder's chat template (``Qwen/Qwen3-Coder-30B-A3B-Instruct``):
ChatML turns, the tools as XML in the system turn, and the model answers::

    <tool_call>
    <function=get_weather>
    <parameter=city>
    Paris
    </parameter>
    </function>
    </tool_call>

with one ``<tool_call>`` per call (parallel calls follow each other). Values
are text; they are converted to the types the function's schema declares
(:mod:`wrappers.xml_calls`). Results go back as one user turn of
``<tool_response>`` blocks, as in Qwen 2.5.

Telling it apart from its neighbours (``auto`` detection, :mod:`wrappers.detection`):
Hermes / Qwen 2.5 open their JSON calls with ``<tool_call>`` too, and
Functionary v3.1 writes ``<function=name>{...}``. ``call_start`` is the whole
opener Qwen3-Coder writes, ``<tool_call>\n<function=`` (detection tries longer
openers first, so this format is tried before Hermes), and ``call_pattern``,
what detection actually matches, requires a ``<parameter=`` (or an empty
body) after the function tag.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, xml_calls_grammar
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction
from wrappers.xml_calls import (
    FUNCTION_OPEN,
    XmlArgumentsWrapper,
    extract_function_blocks,
    function_blocks_so_far,
    text_value,
)

TOOL_CALL = "<tool_call>"
TOOL_CALL_END = "</tool_call>"
IM_END = "<|im_end|>"
DEFAULT_SYSTEM = (
    "You are Qwen, a helpful AI assistant that can interact with a computer to solve tasks."
)
TOOLS_HEADER = "\n\n# Tools\n\nYou have access to the following functions:\n\n<tools>"
TOOLS_INSTRUCTIONS = (
    "\n</tools>\n\nIf you choose to call a function ONLY reply in the following format with NO "
    "suffix:\n\n<tool_call>\n<function=example_function_name>\n<parameter=example_parameter_1>\n"
    "value_1\n</parameter>\n<parameter=example_parameter_2>\nThis is the value for the second "
    "parameter\nthat can span\nmultiple lines\n</parameter>\n</function>\n</tool_call>\n\n"
    "<IMPORTANT>\nReminder:\n- Function calls MUST follow the specified format: an inner "
    "<function=...></function> block must be nested within <tool_call></tool_call> XML tags\n"
    "- Required parameters MUST be specified\n- You may provide optional reasoning for your "
    "function call in natural language BEFORE the function call, but NOT after\n- If there is "
    "no function call available, answer the question like normal with your current knowledge "
    "and do not tell the user about function calls\n</IMPORTANT>"
)


def _extra_keys(spec: Any, handled: tuple[str, ...]) -> str:
    """The template's ``render_extra_keys``: other schema keys as ``<key>value</key>``."""
    if not isinstance(spec, dict):
        return ""
    return "".join(
        f"\n<{key}>{text_value(value)}</{key}>" for key, value in spec.items() if key not in handled
    )


def render_tools(
    functions: Sequence[FunctionSchema], call_tags: tuple[str, str] = (TOOL_CALL, TOOL_CALL_END)
) -> str:
    """The tools and the call instructions, which show the calls in ``call_tags``."""
    out = TOOLS_HEADER
    for function in functions:
        out += f"\n<function>\n<name>{function['name']}</name>"
        if "description" in function:
            out += f"\n<description>{str(function['description']).strip()}</description>"
        out += "\n<parameters>"
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, dict) else None
        if isinstance(properties, dict):
            for name, spec in properties.items():
                out += f"\n<parameter>\n<name>{name}</name>"
                if isinstance(spec, dict) and "type" in spec:
                    out += f"\n<type>{_jinja_string(spec['type'])}</type>"
                if isinstance(spec, dict) and "description" in spec:
                    out += f"\n<description>{str(spec['description']).strip()}</description>"
                out += _extra_keys(spec, ("name", "type", "description")) + "\n</parameter>"
        out += _extra_keys(parameters, ("type", "properties")) + "\n</parameters>"
        out += _extra_keys(function, ("type", "name", "description", "parameters"))
        out += "\n</function>"
    return out + TOOLS_INSTRUCTIONS.replace(TOOL_CALL, call_tags[0]).replace(
        TOOL_CALL_END, call_tags[1]
    )


def _jinja_string(value: Any) -> str:
    """Jinja's ``| string``: Python's ``str()``."""
    return str(value)


def render_calls(turn: Turn, call_tags: tuple[str, str] = (TOOL_CALL, TOOL_CALL_END)) -> str:
    out = ""
    for call in turn.calls:
        out += f"\n{call_tags[0]}\n<function={call.name}>\n"
        for key, value in call.arguments.items():
            out += f"<parameter={key}>\n{text_value(value)}\n</parameter>\n"
        out += f"</function>\n{call_tags[1]}"
    return out


class Qwen3CoderWrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "<tool_call>",
        "<function=",
    )
    call_start: ClassVar[str] = TOOL_CALL + "\n" + FUNCTION_OPEN
    #: What detection matches (``call_start`` only ranks it): a function block with
    #: XML parameters, wrapped or not. Functionary v3.1's ``<function=name>{json}`` is not.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"<function=[^>\n]+>\s*(?:<parameter=|</function>)"
    )
    stop: ClassVar[tuple[str, ...]] = (IM_END, "<|endoftext|>")
    grammar_trigger: ClassVar[str] = TOOL_CALL
    #: The tags around each call, and around each result.
    call_tags: ClassVar[tuple[str, str]] = (TOOL_CALL, TOOL_CALL_END)
    response_tags: ClassVar[tuple[str, str]] = ("<tool_response>", "</tool_response>")
    #: The system prompt the template writes when the client sends none.
    default_system: ClassVar[str] = DEFAULT_SYSTEM

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return xml_calls_grammar(
            functions,
            only=only,
            max_calls=call_count(parallel, only),
            call_open=self.call_tags[0] + "\n",
            call_close=self.call_tags[1],
            write=text_value,
        )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = ""
        if system or functions:
            out = "<|im_start|>system\n" + (system or self.default_system)
            if functions:
                out += render_tools(functions, self.call_tags)
            out += IM_END + "\n"
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "function":
                if index > 0 and turns[index - 1].kind != "function":
                    out += "<|im_start|>user\n"
                out += f"{self.response_tags[0]}\n{content}\n{self.response_tags[1]}\n"
                if index == len(turns) - 1 or turns[index + 1].kind != "function":
                    out += IM_END + "\n"
            elif turn.kind == "assistant" and turn.calls:
                out += "<|im_start|>assistant"
                if content.strip():
                    out += "\n" + content.strip() + "\n"
                out += render_calls(turn, self.call_tags) + IM_END + "\n"
            else:
                role = turn.role if turn.kind == "other" else turn.kind
                out += f"<|im_start|>{role}\n{content}{IM_END}\n"
        return out + "<|im_start|>assistant\n"

    def extract_calls(self, text: str) -> Extraction:
        return extract_function_blocks(text, *self.call_tags)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return function_blocks_so_far(region, self.call_tags[1], functions)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="qwen3-coder",
        factory=Qwen3CoderWrapper,
        aliases=("qwen3coder", "qwen3-coder-30b-a3b", "qwen3-coder-480b-a35b"),
        description="Qwen3-Coder <tool_call><function=name><parameter=k>v</parameter>, ChatML turns",
        family="tool-call",
    )
]
