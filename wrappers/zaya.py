"""Zyphra ZAYA1: Qwen3-Coder's XML calls under ``<zyphra_tool_call>`` tags.

vLLM's ``zaya_xml`` parser (``vllm/tool_parsers/zaya_tool_parser.py``) is
its Qwen3 XML parser with Zyphra's tags, which ZAYA1's tokenizer holds as
tokens of their own (``<zyphra_tool_call>``, ``<zyphra_tool_response>``)::

    <zyphra_tool_call>
    <function=get_weather>
    <parameter=city>
    Paris
    </parameter>
    </function>
    </zyphra_tool_call>

Values are text typed by the tool's schema, as in :mod:`wrappers.qwen3_coder`,
whose reader, streaming and grammar serve here with these tags. The chat
template was not at hand: the prompt is Qwen3-Coder's layout (ChatML, the
tools as XML in the system turn) with Zyphra's call and result tags and no
default system text (Qwen's names the model).
"""

from __future__ import annotations

import re
from typing import ClassVar

from wrappers.qwen3_coder import Qwen3CoderWrapper
from wrappers.registry import WrapperEntry
from wrappers.xml_calls import FUNCTION_OPEN

TOOL_CALL = "<zyphra_tool_call>"
TOOL_CALL_END = "</zyphra_tool_call>"


class ZayaWrapper(Qwen3CoderWrapper):
    call_tags: ClassVar[tuple[str, str]] = (TOOL_CALL, TOOL_CALL_END)
    response_tags: ClassVar[tuple[str, str]] = ("<zyphra_tool_response>", "</zyphra_tool_response>")
    default_system: ClassVar[str] = ""
    call_start: ClassVar[str] = TOOL_CALL + "\n" + FUNCTION_OPEN
    #: Its own tag is the mark (bare <function= blocks are Qwen3-Coder's to claim).
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(TOOL_CALL))
    stream_openers: ClassVar[tuple[str, ...]] = (TOOL_CALL, FUNCTION_OPEN)
    grammar_trigger: ClassVar[str] = TOOL_CALL


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="zaya",
        factory=ZayaWrapper,
        aliases=("zaya1", "zaya1-8b", "zaya-xml", "zyphra-zaya"),
        description="Zyphra ZAYA1 <zyphra_tool_call><function=name><parameter=k>v</parameter>",
        family="tool-call",
    )
]
