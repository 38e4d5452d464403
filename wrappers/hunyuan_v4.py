"""Tencent HY v4: HY v3's calls without ``<tool_sep>``, flush, tokens with a checkpoint suffix.

The format of vLLM's ``vllm/tool_parsers/hy_v4_tool_parser.py``: every
structural token may carry the checkpoint's suffix (``<tool_call:opensource>``,
read from the tokenizer's vocabulary; none on some checkpoints), the name
runs up to the first ``<arg_key>``, and reasoning is a ``<think>`` block
spelled with the same suffix::

    <tool_calls:opensource><tool_call:opensource>get_weather<arg_key:opensource>city</arg_key:opensource><arg_value:opensource>Paris</arg_value:opensource></tool_call:opensource></tool_calls:opensource>

The reader takes any suffix (:mod:`wrappers.hy_arg_calls`). HY v4's chat
template was not at hand: the prompt is HY v3's layout (:mod:`wrappers.hunyuan_v3`)
with v4's spelling of the tokens, the suffix given as ``token_suffix``
(``HunyuanV4Wrapper(token_suffix=":opensource")``; none by default) so that
the prompt's tokens are the checkpoint's special tokens.
"""

from __future__ import annotations

import re
from typing import ClassVar

from wrappers.hunyuan_v3 import HunyuanV3Wrapper
from wrappers.hy_arg_calls import SUFFIX, HyTags
from wrappers.registry import WrapperEntry
from wrappers.streaming import compile_opener, partial_match_start

_THINK = re.compile(rf"<(/?)think{SUFFIX}>")
_PARTIAL_THINK = compile_opener(rf"</?think{SUFFIX}>")


class HunyuanV4Wrapper(HunyuanV3Wrapper):
    #: A suffixed call, or a call in its block whose name is not closed by <tool_sep>.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"<tool_call:[^\s<>]+>|<tool_calls>\s*<tool_call>\s*[^\s<{\[]+\s*(?:<arg_key>|</tool_call>)"
    )

    def __init__(self, token_suffix: str = "", reasoning_effort: str = "no_think") -> None:
        super().__init__(reasoning_effort)
        self.token_suffix = token_suffix

    @property
    def tags(self) -> HyTags:
        return HyTags(self.token_suffix, separated=False)

    def rewrite_output(self, text: str) -> str:
        # The checkpoint's reasoning tokens read as the shared <think> block.
        return _THINK.sub(r"<\1think>", text)

    def whole_tokens(self, text: str) -> str | None:
        return text[: partial_match_start(text, (_PARTIAL_THINK,))]


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="hunyuan-v4",
        factory=HunyuanV4Wrapper,
        aliases=("hy4", "hy_v4", "hy-v4", "hunyuan4"),
        description="Tencent HY v4 <tool_calls:SUFFIX><tool_call:SUFFIX>NAME<arg_key:SUFFIX>k<arg_value:SUFFIX>v",
        family="tool-call",
    )
]
