"""IBM Granite 3.3 / 4.0 H-Small as vLLM's ``granite_pythonic`` parser reads them: bare Python calls.

The output format of vLLM's ``vllm/tool_parsers/granite_pythonic_tool_parser.py``
(served with vLLM's ``examples/tool_chat_template_granite.jinja``)::

    get_weather(location="San Francisco", unit="celsius")
    search_web(query="vLLM release notes")

one call per line, keyword arguments with literal values, no marker; every
other line is content. Granite's own ``<|tool_call|>[...]`` list reads too
(:class:`~wrappers.granite.GraniteWrapper`, whose prompt this is: Granite's
role turns and ``available_tools`` turn). Past calls are written back as lines.

Without a marker, ``auto`` takes these calls only from an answer that is
nothing but call lines (a code line in prose is not a call there); the
template is Granite's own, so the ``jinja`` wrapper's detection picks
``granite``: name this wrapper to read the lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import CallRecord
from wrappers.grammar import call_count, calls_grammar, literal
from wrappers.granite import GraniteWrapper
from wrappers.python_calls import NotACallList, parse_call_list, python_call, python_literal
from wrappers.registry import WrapperEntry
from wrappers.tool_format import ExtractedCall, Extraction

_CALL_LINE = re.compile(r"[ \t]*[A-Za-z_][\w.]*\(.*\)[ \t]*")


def call_line(call: CallRecord) -> str:
    """``f(a=1, b="x")``: a call from the history as the model writes it."""
    arguments = ", ".join(f"{key}={python_literal(value)}" for key, value in call.arguments.items())
    return f"{call.name}({arguments})"


def call_lines(text: str) -> Extraction:
    """Each line that is one Python call with literal keyword arguments is a call;
    the other lines are content (``print(x)`` among them)."""
    content: list[str] = []
    calls: list[ExtractedCall] = []
    for line in text.split("\n"):
        if _CALL_LINE.fullmatch(line):
            try:
                calls.extend(parse_call_list(line))
                continue
            except (NotACallList, WrapperParseError):
                pass
        content.append(line)
    return Extraction("\n".join(content), calls)


class GranitePythonicWrapper(GraniteWrapper):
    call_start: ClassVar[str] = "("
    #: What ``auto`` takes without a marker: an answer of call lines only.
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"\A\s*(?:[A-Za-z_][\w.]*\([^\n]*\)[ \t]*(?:\n\s*|\Z))+\Z"
    )
    # Markerless: no grammar under auto; a required call is held to call lines.
    grammar_trigger: ClassVar[str] = ""
    stream_openers: ClassVar[tuple[str, ...]] = (
        *GraniteWrapper.stream_openers,
        r"(?m)^[ \t]*[A-Za-z_][\w.]*\(",
    )

    def past_calls(self, calls: Sequence[CallRecord]) -> str:
        return "\n".join(call_line(call) for call in calls)

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return calls_grammar(
            functions,
            python_call(),
            only=only,
            max_calls=call_count(parallel, only),
            separator=literal("\n"),
        )

    def extract_calls(self, text: str) -> Extraction:
        found = super().extract_calls(text)
        if found.calls:
            return found
        return call_lines(found.content)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="granite-pythonic",
        factory=GranitePythonicWrapper,
        aliases=("granite_pythonic", "granite-3.3-pythonic", "granite-4.0-h-small-pythonic"),
        description='IBM Granite one Python call per line: get_weather(city="Paris")',
        family="tool-call",
    )
]
