"""``auto``: for a model nobody configured, read whatever call format it writes.

It renders like ``generic-json`` (ChatML, functions as JSON, "answer with a
JSON object"): the plainest instruction, which any instruct model can
follow and which the JSON fallback reads wherever it lands. But a model
trained on a format of its own often answers in that format regardless, so
the parser first looks for the markers of every registered tool-call format
(:mod:`wrappers.detection`) and lets that format's parser read the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import ClassVar

from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions
from wrappers.detection import MarkedFormat, marked_formats, read_any_format
from wrappers.generic_json import GenericJSONWrapper
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, split_reasoning


class AutoWrapper(GenericJSONWrapper):
    """Prompt of :class:`~wrappers.generic_json.GenericJSONWrapper`; reads any format.

    The parser tries, in order:

    1. each registered wrapper of family ``"tool-call"`` whose call marker
       occurs in the text, most specific marker first (``<|python_tag|>``
       before ``[TOOL_CALLS]`` before ``<tool_call>`` ... before pythonic's
       ``[f(``), so formats other modules register are picked up too;
    2. a ``{"name", "arguments"|"parameters"}`` JSON object (or list) anywhere.

    The first that finds calls wins (:func:`~wrappers.detection.read_any_format`).
    A format that finds its marker but cannot read the call after it does
    not stop the search; if nothing finds a call, its error is raised, so
    the pipeline retries a broken call instead of answering with it as
    text. End-of-turn tokens of every format are ignored at the end.
    """

    #: A call is required: generic-json's grammar, the shape the prompt asks for.
    #: Under auto nothing is constrained: a model may answer in a format of its
    #: own, and generic-json's trigger ({"name") would fire inside its call.
    grammar_trigger: ClassVar[str] = ""

    @cached_property
    def candidates(self) -> list[MarkedFormat]:
        # Built on first use, not in __init__: the registry builds this wrapper.
        return [c for c in marked_formats() if not isinstance(c.wrapper, AutoWrapper)]

    @cached_property
    def end_tokens(self) -> tuple[str, ...]:
        tokens = {token for c in self.candidates for token in c.wrapper.stop}
        return tuple(sorted(tokens | set(self.stop), key=len, reverse=True))

    def stream_opener_patterns(self) -> tuple[str, ...]:
        patterns = [p for c in self.candidates for p in c.wrapper.stream_opener_patterns()]
        return tuple(dict.fromkeys([*patterns, *super().stream_opener_patterns()]))

    def stream_end_tokens(self) -> tuple[str, ...]:
        return self.end_tokens

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Which format reads the calls is known at the end; they are sent then.
        return []

    def extract_calls(self, text: str) -> Extraction:
        reading = read_any_format(self._strip_end_tokens(text), self.candidates)
        if reading.extraction is not None:
            return reading.extraction
        if reading.error is not None:
            raise reading.error
        return Extraction(text)

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        """Once the format is known, its own ``parse`` reads the output.

        That parser types values by the request's schemas (XML formats such
        as qwen3-coder carry every value as text) and knows the format's own
        reasoning blocks; ``extract_calls`` alone cannot.
        """
        _, text = split_reasoning(raw)
        reading = read_any_format(self._strip_end_tokens(text), self.candidates)
        if reading.extraction is not None and reading.extraction.calls:
            own = next((c.wrapper for c in self.candidates if c.name == reading.name), None)
            if own is not None:
                return own.parse(raw, functions, options)
        return super().parse(raw, functions, options)

    def _strip_end_tokens(self, text: str) -> str:
        stripped = True
        while stripped:
            stripped = False
            for token in self.end_tokens:
                if text.endswith(token):
                    text, stripped = text[: -len(token)].rstrip(), True
        return text


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="auto",
        factory=AutoWrapper,
        aliases=("auto-detect",),
        description="Any model: generic-json's prompt; reads every registered call format",
        family="fallback",
    )
]
