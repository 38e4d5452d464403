"""Reading a model's output while it is being written.

One parser per format serves both paths. A wrapper's one-shot
:meth:`~wrappers.base.LLMChatCompletionWrapper.parse` stays the reference; a
wrapper adds :meth:`~wrappers.base.LLMChatCompletionWrapper.stream_snapshot`,
which says what is already certain about a *prefix* of the output: the
content, reasoning and calls so far, each a prefix of what ``parse`` will
return for the whole output. :class:`StreamParser` turns successive snapshots
into deltas (vLLM compares previous and current text the same way; llama.cpp
diffs two partial parses in ``common_chat_msg_diff::compute_diffs``)::

    parser = StreamParser(wrapper, functions, options)
    for piece in upstream_pieces:
        for delta in parser.feed(piece):
            send(delta)          # content / reasoning text, a call's name, argument fragments
    tail, parsed = parser.finish()   # parsed == wrapper.parse(whole text)

:meth:`StreamParser.finish` runs the one-shot ``parse`` on the whole text and
sends whatever the snapshots had not yet shown, so the deltas always add up
to the one-shot result. A snapshot that was wrong (it showed text the final
parse did not keep) is recorded in :attr:`StreamParser.divergence`; the
contract test (tests/unit/test_stream_contract.py) feeds every format's case
table in every split to keep that from happening.

Text that might be the start of a call marker is held back until it is
clearly one or clearly not (:func:`safe_content_end`, with partial regular
expression matching from the ``regex`` package), as sglang's
``_ends_with_partial_token`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import regex

from wrappers.base import (
    FunctionSchema,
    ParsedOutput,
    RenderOptions,
    ToolCall,
    WrapperParseError,
    new_call_id,
)
from wrappers.partial_json import is_open, stable_dumps

DeltaKind = Literal["content", "reasoning", "call", "arguments"]

#: Past this many characters snapshots stop (the one-shot parse at the end
#: still reads everything): a snapshot re-reads the output, and a runaway
#: generation should not cost quadratic time.
MAX_SNAPSHOT_CHARS = 64_000


@dataclass(frozen=True)
class OutputDelta:
    """One piece of an answer as it is written.

    ``content`` / ``reasoning``: ``text`` is the next piece. ``call``: a new
    call ``index`` named ``name`` (its ``call_id`` is fixed from here on).
    ``arguments``: ``text`` is the next fragment of call ``index``'s
    arguments (a JSON string once all fragments are joined).
    """

    kind: DeltaKind
    text: str = ""
    index: int = 0
    name: str = ""
    call_id: str = ""


@dataclass(frozen=True)
class PartialCall:
    """A call being written: its name, and a prefix of its arguments' JSON."""

    name: str
    arguments: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What is certain about an output so far; each field a prefix of its final value."""

    content: str = ""
    reasoning: str = ""
    calls: list[PartialCall] = field(default_factory=list)


EMPTY = Snapshot()


class OutputReader(Protocol):
    """What :class:`StreamParser` needs of a wrapper: its one-shot parse and its snapshots."""

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput: ...

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot: ...


class PlainText:
    """An answer that is only text (no functions offered): the whole output, stripped."""

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        return ParsedOutput(content=raw.strip() or None)

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        return Snapshot(content=held_text(text))


@dataclass
class _Sent:
    content: str = ""
    reasoning: str = ""
    calls: list[PartialCall] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


class StreamParser:
    """Feeds a wrapper's snapshots of a growing output and yields the deltas between them."""

    def __init__(
        self,
        wrapper: OutputReader,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
        *,
        starts_in_reasoning: bool = False,
    ) -> None:
        self.wrapper = wrapper
        self.functions = functions
        self.options = options or RenderOptions()
        self.starts_in_reasoning = starts_in_reasoning
        self.text = ""
        self._sent = _Sent()
        #: Why the deltas sent differ from the one-shot parse, if they do.
        self.divergence: str | None = None

    def feed(self, piece: str) -> list[OutputDelta]:
        """The deltas that ``piece`` (the next text from the model) makes certain."""
        if not piece:
            return []
        self.text += piece
        if len(self.text) > MAX_SNAPSHOT_CHARS:
            return []
        snapshot = self.wrapper.stream_snapshot(
            self.text, self.functions, self.options, starts_in_reasoning=self.starts_in_reasoning
        )
        return self._advance(snapshot, final=False)

    def finish(self) -> tuple[list[OutputDelta], ParsedOutput | WrapperParseError]:
        """The remaining deltas, and the one-shot parse of the whole output (or why it failed).

        The parse's call ids are those the deltas announced.
        """
        try:
            parsed = self.wrapper.parse(self.text, self.functions, self.options)
        except WrapperParseError as exc:
            return [], exc
        except (ValueError, KeyError, TypeError) as exc:
            return [], WrapperParseError(f"{type(exc).__name__}: {exc}", self.text)
        final = Snapshot(
            content=parsed.content or "",
            reasoning=parsed.reasoning_content or "",
            calls=[PartialCall(c.name, c.arguments) for c in parsed.tool_calls],
        )
        deltas = self._advance(final, final=True)
        ids = self._sent.ids
        calls = [
            ToolCall(name=c.name, arguments=c.arguments, id=ids[i]) if i < len(ids) else c
            for i, c in enumerate(parsed.tool_calls)
        ]
        return deltas, ParsedOutput(
            content=parsed.content, tool_calls=calls, reasoning_content=parsed.reasoning_content
        )

    @property
    def sent_anything(self) -> bool:
        sent = self._sent
        return bool(sent.content or sent.reasoning or sent.calls)

    def _advance(self, snapshot: Snapshot, *, final: bool) -> list[OutputDelta]:
        sent = self._sent
        deltas: list[OutputDelta] = []
        for kind in ("reasoning", "content"):
            before: str = getattr(sent, kind)
            now: str = getattr(snapshot, kind)
            if now.startswith(before):
                if len(now) > len(before):
                    deltas.append(OutputDelta(kind, now[len(before) :]))
                    setattr(sent, kind, now)
            elif final:
                self._diverged(f"{kind} sent as {before[-40:]!r} became {now[-40:]!r}")
        for index, call in enumerate(snapshot.calls):
            if index < len(sent.calls):
                previous = sent.calls[index]
                if call.name != previous.name or not call.arguments.startswith(previous.arguments):
                    if final:
                        self._diverged(f"call {index} sent as {previous.name!r} changed")
                    break
                fragment = call.arguments[len(previous.arguments) :]
            else:
                # The id is the stream's from a call's first sight on.
                call_id = new_call_id()
                sent.ids.append(call_id)
                deltas.append(OutputDelta("call", index=index, name=call.name, call_id=call_id))
                sent.calls.append(PartialCall(call.name))
                fragment = call.arguments
            if fragment:
                deltas.append(OutputDelta("arguments", fragment, index=index))
            sent.calls[index] = call
        if final and len(snapshot.calls) < len(sent.calls):
            self._diverged(
                f"{len(sent.calls)} calls were sent, the output holds {len(snapshot.calls)}"
            )
        return deltas

    def _diverged(self, why: str) -> None:
        if self.divergence is None:
            self.divergence = why


# ---- building blocks for snapshots ----


def held_text(text: str) -> str:
    """A prefix of ``(text + more).strip()`` whatever ``more`` is.

    The one-shot parsers strip content: leading whitespace never shows, and
    trailing whitespace waits to see whether more text follows it.
    """
    return text.strip()


def compile_opener(pattern: str) -> regex.Pattern[str]:
    """A call opener for :func:`safe_content_end` (``regex`` syntax, which takes ``re``'s)."""
    return regex.compile(pattern)


def safe_content_end(text: str, openers: Sequence[regex.Pattern[str]], start: int = 0) -> int:
    """Where the text that is certainly not a call opener ends.

    An opener matched in full, or matched partially by the text's end,
    starts at the returned index; text before it is safe to show.
    """
    end = len(text)
    for opener in openers:
        found = opener.search(text, start, partial=True)
        if found is not None:
            end = min(end, found.start())
    return end


def without_partial_suffix(text: str, tokens: Sequence[str]) -> str:
    """``text`` minus an end that is the start of one of ``tokens`` (still being written).

    The longest such end: ``...<|close|>response<`` may be the start of one
    marker (``<``) and the middle of another (``<|close|>response<|sep|>``).
    """
    cut = 0
    for token in tokens:
        for size in range(min(len(token) - 1, len(text)), cut, -1):
            if text.endswith(token[:size]):
                cut = size
                break
    return text[:-cut] if cut else text


def partial_match_start(text: str, patterns: Sequence[regex.Pattern[str]]) -> int:
    """Where a match of one of ``patterns`` that the text's end leaves unfinished starts.

    ``len(text)`` when there is none. Text that a one-shot parser rewrites
    wherever a pattern matches (citation tags, special tokens) is cut there
    until the match is whole or has failed.
    """
    end = len(text)
    for pattern in patterns:
        for found in pattern.finditer(text, partial=True):
            if found.partial:
                end = min(end, found.start())
    return end


def find_opener(text: str, openers: Sequence[regex.Pattern[str]]) -> int:
    """Where the first opener matched in full starts (-1: none yet)."""
    best = -1
    for opener in openers:
        found = opener.search(text)
        if found is not None and (best == -1 or found.start() < best):
            best = found.start()
    return best


_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"
_THINK_OPENERS = (compile_opener(regex.escape(_THINK_OPEN)),)
_THINK_CLOSERS = (compile_opener(regex.escape(_THINK_CLOSE)),)


@dataclass(frozen=True)
class ReasoningSplit:
    """An output so far, split as :func:`wrappers.tool_format.split_reasoning` will split it."""

    #: Reasoning so far, as the one-shot parser will strip it (a prefix of it).
    reasoning: str
    #: The text outside the reasoning block known so far (not stripped).
    rest: str
    #: The text still ends inside the reasoning block.
    inside: bool


def split_reasoning_partial(text: str, *, starts_inside: bool) -> ReasoningSplit:
    """``<think>...</think>`` handling for a prefix of the output.

    ``starts_inside``: the prompt opened the block (its text ends in
    ``<think>``), so the output starts in it.
    """
    if starts_inside and _THINK_OPEN not in text[: text.find(_THINK_CLOSE) + 1 or None]:
        close = text.find(_THINK_CLOSE)
        if close == -1:
            end = safe_content_end(text, _THINK_CLOSERS)
            return ReasoningSplit(held_text(text[:end]), "", inside=True)
        return ReasoningSplit(text[:close].strip(), text[close + len(_THINK_CLOSE) :], inside=False)
    open_ = text.find(_THINK_OPEN)
    if open_ == -1:
        end = safe_content_end(text, _THINK_OPENERS)
        return ReasoningSplit("", text[:end], inside=False)
    before = text[:open_]
    body_start = open_ + len(_THINK_OPEN)
    close = text.find(_THINK_CLOSE, body_start)
    if close == -1:
        end = safe_content_end(text, _THINK_CLOSERS, body_start)
        return ReasoningSplit(held_text(text[body_start:end]), before, inside=True)
    return ReasoningSplit(
        text[body_start:close].strip(), before + text[close + len(_THINK_CLOSE) :], inside=False
    )


def partial_call(
    value: dict[str, Any],
    *,
    name_keys: Sequence[str] = ("name",),
    argument_keys: Sequence[str] = ("arguments", "parameters"),
) -> PartialCall | None:
    """The call in a (possibly open) ``{"name": ..., "arguments": {...}}`` object.

    None until the name is complete; arguments are shown while they are an object.
    """
    name = next((value[k] for k in name_keys if isinstance(value.get(k), str)), None)
    if not name or is_open(name):
        return None
    present = [k for k in argument_keys if k in value]
    if not present:
        # The arguments may still come; an object closed without them has none.
        return PartialCall(name, "" if is_open(value) else "{}")
    arguments = value[present[0]]
    if isinstance(arguments, dict):
        return PartialCall(name, stable_dumps(arguments))
    return PartialCall(name)
