"""dots.llm (rednote-hilab): ``<dots_function_call>`` blocks of ``<invoke>`` calls.

The output format of vLLM's ``vllm/tool_parsers/dots_tool_parser.py``::

    <dots_function_call>
    <invoke name="search">
    <parameter name="query">weather in Shanghai</parameter>
    </invoke>
    </dots_function_call>

A block holds one or more invoke elements, or a JSON call object
(``{"name": ..., "arguments"|"parameters": {...}}``); an answer may hold
several blocks. Values are text, trimmed and typed by the request's schema
(:mod:`wrappers.invoke_calls`), as the reference parser does.

The chat template was not at hand. The prompt is fcproxy's reconstruction
of the dots turns: ``<|system|>...<|endofsystem|>``, ``<|user|>...<|endofuser|>``,
``<|assistant|>...<|endofassistant|>`` (the tokens its tokenizer defines), the
tools as JSON lines in ``<tools>`` in the system turn with the call format, past
calls written as above with each value on a line of its own, and results as
``<dots_function_response>`` blocks in a user turn; docs/wrappers.md says so too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError, arguments_as_json_string
from wrappers.conversation import Turn
from wrappers.grammar import call_count
from wrappers.invoke_calls import InvokeFormat, extract_invokes, invoke_grammar
from wrappers.json_calls import calls_in_value
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, call_from_object, tools_json_lines
from wrappers.xml_calls import XmlArgumentsWrapper, typed_arguments

CALL = "<dots_function_call>"
CALL_END = "</dots_function_call>"
RESPONSE, RESPONSE_END = "<dots_function_response>", "</dots_function_response>"
SYSTEM, SYSTEM_END = "<|system|>", "<|endofsystem|>"
USER, USER_END = "<|user|>", "<|endofuser|>"
ASSISTANT, ASSISTANT_END = "<|assistant|>", "<|endofassistant|>"
DEFAULT_SYSTEM = "You are a helpful assistant."
# Non-string values as JSON (``true``, not Python's ``True``), as the prompt shows them.
FORM = InvokeFormat(prefix="", block_open=CALL, block_close=CALL_END, python_constants=False)
# A block whose body is JSON: the reference parser's fallback.
_JSON_BLOCK = re.compile(re.escape(CALL) + r"\s*(?=[{\[])")
TOOLS_HEADER = (
    "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
)
TOOLS_FOOTER = (
    "\n</tools>\n\nWhen making tool calls, use XML format to invoke tools and pass parameters:\n\n"
    f'{CALL}\n<invoke name="tool-name-1">\n<parameter name="param-key-1">\nparam-value-1\n'
    '</parameter>\n<parameter name="param-key-2">\nparam-value-2\n</parameter>\n...\n'
    f"</invoke>\n{CALL_END}"
)


def _json_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def extract_dots_calls(text: str) -> Extraction:
    """Every call in ``text``: invoke blocks, and blocks holding a JSON call, in order."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (block := _JSON_BLOCK.search(text, position)) is not None:
        before = extract_invokes(text[position : block.start()], FORM)
        content += before.content
        calls += before.calls
        # Broken JSON is mended where the block is closed; cut off, it is unreadable.
        value, end = read_marked_json(text, block.end(), (CALL_END,))
        calls += calls_in_value(value) or [call_from_object(value)]
        while end < len(text) and text[end].isspace():
            end += 1
        position = end + len(CALL_END) if text.startswith(CALL_END, end) else end
    rest = extract_invokes(text[position:], FORM)
    return Extraction(content + rest.content, calls + rest.calls)


class DotsWrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALL
    grammar_trigger: ClassVar[str] = CALL
    # A model that drops the block still opens each call with <invoke name= (read,
    # but not claimed by detection: bare invokes are MiniMax M2's).
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(CALL), r"<invoke\s+name")
    stop: ClassVar[tuple[str, ...]] = (ASSISTANT_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = SYSTEM + (system or DEFAULT_SYSTEM)
        if functions:
            out += TOOLS_HEADER + tools_json_lines(functions) + TOOLS_FOOTER
        out += SYSTEM_END
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += USER
                out += f"\n{RESPONSE}\n{turn.content or ''}\n{RESPONSE_END}"
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += USER_END
            elif turn.kind == "assistant":
                out += ASSISTANT + (turn.content or "")
                for call in turn.calls:
                    out += f'\n{CALL}\n<invoke name="{call.name}">'
                    out += "".join(
                        f'\n<parameter name="{key}">\n{_json_text(value)}\n</parameter>'
                        for key, value in call.arguments.items()
                    )
                    out += f"\n</invoke>\n{CALL_END}"
                out += ASSISTANT_END
            else:
                out += f"{USER}{turn.content or ''}{USER_END}"
        return out + ASSISTANT

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return invoke_grammar(functions, FORM, only, max_calls=call_count(parallel, only))

    def extract_calls(self, text: str) -> Extraction:
        return extract_dots_calls(text)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Each call leaves whole, once the invoke or block that holds it is closed.
        end = max(region.rfind(CALL_END), region.rfind(FORM.invoke_close))
        if end == -1:
            return []
        complete = region[: region.index(">", end) + 1]
        try:
            found = extract_dots_calls(complete)
        except (WrapperParseError, ValueError):
            return []
        if found.content.replace(CALL, "").replace(CALL_END, "").strip():
            return []  # text between calls: parse() decides what it is
        schemas = {f.get("name"): f for f in functions}
        # As XmlArgumentsWrapper.parse types them.
        return [
            PartialCall(
                call.name,
                json.dumps(
                    typed_arguments(
                        json.loads(arguments_as_json_string(call.arguments)),
                        schemas.get(call.name),
                    ),
                    ensure_ascii=False,
                ),
            )
            for call in found.calls
        ]


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="dots",
        factory=DotsWrapper,
        aliases=("dots.llm", "dots-llm", "dots.llm1", "dots3"),
        description='dots.llm <dots_function_call><invoke name="f"><parameter name="k">',
        family="tool-call",
    )
]
