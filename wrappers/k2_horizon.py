"""K2 Horizon (MBZUAI IFM): GLM-style key / value calls in ``<ifm|tool_calls>``.

The output format of vLLM's ``vllm/tool_parsers/k2_horizon_tool_parser.py``::

    <ifm|tool_calls>
    <ifm|tool_call>get_weather
    <ifm|arg_key>city</ifm|arg_key>
    <ifm|arg_value>Paris</ifm|arg_value>
    </ifm|tool_call>
    </ifm|tool_calls>

(GLM's layout under IFM's tags, :mod:`wrappers.arg_key_calls`). The model's
other two call forms read too: an ``<ifm|arg_type>integer</ifm|arg_type>`` tag
between key and value (the ``xml_typed`` form; the request's schema types the
value) and a JSON body, ``<ifm|tool_call>{"name": ..., "arguments": {...}}
</ifm|tool_call>`` (``json``; sglang also reads a list of calls there). A call
without the group tags still reads.

Reasoning comes first: the prompt opens ``<ifm|think>`` (``<ifm|think_fast>``,
``<ifm|think_faster>`` at lower efforts) and the model closes it; everything
before the closer is reasoning. An output without a closer is content, as
vLLM's tool parser sees it; while streaming, such an output is held until
the closer or the end shows which it is.

K2 Horizon's chat template was not at hand. The prompt follows the IFM turn
layout as ports of that template render it (``<|ifm|im_start|>ROLE\\n...
<|ifm|im_end|>``, tools as a JSON list in ``<ifm|tools>`` with the XML call
instructions in a system turn, past turns with an empty think block, the
answer opened with ``<ifm|think>``): fcproxy's reconstruction, said here and
in docs/wrappers.md. With the model's template, use the ``jinja`` wrapper: its
marker detection picks this parser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers import arg_key_calls
from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import Turn
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, without_partial_suffix
from wrappers.tolerance import mend_json
from wrappers.tool_format import ExtractedCall, Extraction, call_from_object
from wrappers.xml_calls import XmlArgumentsWrapper

GROUP_OPEN = "<ifm|tool_calls>"
GROUP_CLOSE = "</ifm|tool_calls>"
CALL_OPEN = "<ifm|tool_call>"
TAGS = arg_key_calls.ArgKeyTags(
    CALL_OPEN,
    "</ifm|tool_call>",
    "<ifm|arg_key>",
    "</ifm|arg_key>",
    "<ifm|arg_value>",
    "</ifm|arg_value>",
    "<ifm|arg_type>",
    "</ifm|arg_type>",
)
BEGIN = "<|ifm|begin_of_text|>"
IM_START = "<|ifm|im_start|>"
IM_END = "<|ifm|im_end|>"
END_OF_TEXT = "<|ifm|endoftext|>"
THINK_OPEN = "<ifm|think>"
THINK_CLOSE = "</ifm|think>"
#: The reasoning tags of each effort (high, medium, low).
THINK_TAGS = (
    THINK_OPEN,
    THINK_CLOSE,
    "<ifm|think_fast>",
    "</ifm|think_fast>",
    "<ifm|think_faster>",
    "</ifm|think_faster>",
)
_THINK_OPENER = re.compile(r"<ifm\|think(?:_fast|_faster)?>")
_THINK_CLOSER = re.compile(r"</ifm\|think(?:_fast|_faster)?>")
TOOLS_HEADER = (
    "# Tools\nYou may call one or more tools to assist with the user query.\n\n"
    "Available tools are:\n\n<ifm|tools>\n"
)
CALL_INSTRUCTIONS = (
    "\n</ifm|tools>\n\nWhen calling tools, you MUST follow the tool-call format below:\n\n"
    f"Close thinking with {THINK_CLOSE} before any tool call or user-visible answer. Wrap all "
    f"tool calls in a single {GROUP_OPEN}{GROUP_CLOSE} block immediately after that close. "
    "Never describe a tool call in prose. For each call, write the function name at the start "
    f"of {CALL_OPEN}, followed by paired <ifm|arg_key> and <ifm|arg_value> tags for each "
    f"argument:\n\n{GROUP_OPEN}\n{CALL_OPEN}$FUNCTION_NAME\n"
    "<ifm|arg_key>$PARAMETER_NAME</ifm|arg_key>\n<ifm|arg_value>$PARAMETER_VALUE"
    f"</ifm|arg_value>\n...\n</ifm|tool_call>\n{GROUP_CLOSE}\n\nString and scalar parameters "
    "should be written as plain text. Array and object parameters should be written as "
    "JSON literals."
)


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def calls_block(calls: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """Calls as the model writes them: one group, a call per line, a pair per line."""
    out = GROUP_OPEN
    for name, arguments in calls:
        out += f"\n{CALL_OPEN}{name}\n"
        for key, value in arguments.items():
            out += f"<ifm|arg_key>{key}</ifm|arg_key>\n<ifm|arg_value>{_value(value)}</ifm|arg_value>\n"
        out += TAGS.call_close
    return out + "\n" + GROUP_CLOSE


# The group's tags and the layout inside the group (each call's own tags stay).
_GROUP_LAYOUT = re.compile(
    rf"{re.escape(GROUP_OPEN)}\s*|\s*{re.escape(GROUP_CLOSE)}"
    rf"|(?<={re.escape(TAGS.call_close)})\s+(?={re.escape(CALL_OPEN)})"
)


def _ungrouped(text: str) -> str:
    """``text`` without the group tags and the line breaks between its calls."""
    return _GROUP_LAYOUT.sub("", text)


def _json_body(body: str) -> list[ExtractedCall] | None:
    """The ``json`` form's call (or list of calls), or None for a name-and-pairs body."""
    text = body.strip()
    if not text.startswith(("{", "[")):
        return None
    try:
        value = json.loads(text, strict=False)
    except json.JSONDecodeError:
        value = mend_json(text)
        if value is None:
            raise WrapperParseError("an <ifm|tool_call> holds unreadable JSON", body) from None
    return [call_from_object(item) for item in (value if isinstance(value, list) else [value])]


def as_think_block(text: str) -> str:
    """The output with IFM's reasoning tags of every effort as ``<think>`` / ``</think>``."""
    return _THINK_CLOSER.sub("</think>", _THINK_OPENER.sub("<think>", text))


class K2HorizonWrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALL_OPEN
    grammar_trigger: ClassVar[str] = GROUP_OPEN
    # The prompt opened the block (as <ifm|think>, written <think> here after the rewrite).
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = ("", THINK_CLOSE, True)
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(GROUP_OPEN), re.escape(CALL_OPEN))
    stop: ClassVar[tuple[str, ...]] = (IM_END, END_OF_TEXT)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BEGIN
        if functions:
            tools = json.dumps(
                [{"type": "function", "function": dict(f)} for f in functions], ensure_ascii=False
            )
            extra = f"\n\n{system}" if system else ""
            out += f"{IM_START}system\n{TOOLS_HEADER}{tools}{CALL_INSTRUCTIONS}{extra}{IM_END}"
        elif system:
            out += f"{IM_START}system\n{system}{IM_END}"
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "assistant":
                calls = [(c.name, c.arguments) for c in turn.calls]
                block = "\n" + calls_block(calls) if calls else ""
                out += f"{IM_START}assistant\n{THINK_OPEN}\n{THINK_CLOSE}{content}{block}{IM_END}"
            elif turn.kind == "function":
                out += f"{IM_START}tool\n{content}{IM_END}"
            else:
                role = turn.role if turn.kind == "other" else "user"
                out += f"{IM_START}{role}\n{content}{IM_END}"
        return out + f"{IM_START}assistant\n{THINK_OPEN}\n"

    def rewrite_output(self, text: str) -> str:
        return as_think_block(text)

    def whole_tokens(self, text: str) -> str | None:
        if not _THINK_CLOSER.search(text) and not _THINK_OPENER.match(text.lstrip()):
            return None  # reasoning or content: a closer decides (or the end)
        return without_partial_suffix(text, THINK_TAGS)

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return arg_key_calls.call_grammar(
            functions,
            TAGS,
            only,
            parallel=parallel,
            start=GROUP_OPEN + "\n",
            end="\n" + GROUP_CLOSE,
        )

    def extract_calls(self, text: str) -> Extraction:
        found = arg_key_calls.extract_calls(_ungrouped(text), TAGS, _json_body)
        if not found.calls and GROUP_OPEN in text:
            raise WrapperParseError(f"a {GROUP_OPEN} block holds no call", text)
        return found

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return arg_key_calls.calls_so_far(_ungrouped(region), TAGS, functions, _json_body)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="k2-horizon",
        factory=K2HorizonWrapper,
        aliases=("k2_horizon", "k2-horizon-mova", "ifm"),
        description="K2 Horizon <ifm|tool_calls><ifm|tool_call>f<ifm|arg_key>k</ifm|arg_key>...",
        family="tool-call",
    )
]
