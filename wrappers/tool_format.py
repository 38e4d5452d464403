"""Base of the modern formats: models trained to mark their own tool calls.

Since 2024 most instruct models have a tool-call format of their own
(Hermes/Qwen ``<tool_call>{...}</tool_call>``, Mistral ``[TOOL_CALLS][...]``,
Llama 3.1 JSON, ...). A format is one subclass of :class:`ToolFormatWrapper`
holding only what is specific to it, in the spirit of sglang's detectors:

- :meth:`ToolFormatWrapper.render_chat` lays out system prompt, tools and
  turns the way the model's chat template does;
- :meth:`ToolFormatWrapper.extract_calls` finds the calls in the output and
  returns the text around them;
- ``call_start`` is the marker that opens a call (``auto`` detection and
  streaming use it).

Everything else is shared here: reasoning blocks (``<think>...</think>``)
go to ``reasoning_content`` and are never parsed as calls; MemGPT's
two-method API is implemented on top; parallel calls are the default.
"""

from __future__ import annotations

import json
import re
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, ClassVar

import regex

from wrappers.base import (
    FunctionSchema,
    Message,
    NativeWrapper,
    ParsedOutput,
    Prompt,
    RenderOptions,
    ToolCall,
    WrapperParseError,
    arguments_as_json_string,
)
from wrappers.conversation import Turn, merge_parallel_calls, split_conversation
from wrappers.grammar import reasoning_first, text_or_calls_grammar
from wrappers.json_key import json_key
from wrappers.streaming import (
    PartialCall,
    Snapshot,
    compile_opener,
    find_opener,
    held_text,
    partial_match_start,
    safe_content_end,
    split_reasoning_partial,
)


@dataclass(frozen=True)
class ExtractedCall:
    """A call as the model wrote it: arguments as an object, or as raw JSON text."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)


@dataclass(frozen=True)
class Extraction:
    """The calls in an output and the text outside them (``""`` when none)."""

    content: str
    calls: list[ExtractedCall] = field(default_factory=list)


_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


def split_reasoning(text: str) -> tuple[str | None, str]:
    """``(reasoning, rest)``: the ``<think>`` block, and what follows it.

    Templates that open the block themselves (DeepSeek R1, Qwen3 with
    thinking) leave the output starting inside it: a ``</think>`` with no
    ``<think>`` before it closes a block that began at the start. An
    unclosed ``<think>`` (output cut off) is all reasoning.
    """
    close = text.find(_THINK_CLOSE)
    open_ = text.find(_THINK_OPEN)
    if open_ != -1 and (close == -1 or open_ < close):
        before = text[:open_]
        if close == -1:
            return text[open_ + len(_THINK_OPEN) :].strip() or None, before.strip()
        reasoning = text[open_ + len(_THINK_OPEN) : close]
        return reasoning.strip() or None, (before + text[close + len(_THINK_CLOSE) :]).strip()
    if close != -1:
        return text[:close].strip() or None, text[close + len(_THINK_CLOSE) :].strip()
    return None, text.strip()


def decode_json_at(text: str, start: int) -> tuple[Any, int]:
    """The JSON value starting at ``text[start]`` (after whitespace) and where it ends.

    ``raw_decode`` rather than a regex up to a closing marker: an argument
    string may itself contain ``</tool_call>`` or ``]``.
    """
    while start < len(text) and text[start].isspace():
        start += 1
    value, end = json.JSONDecoder(strict=False).raw_decode(text, start)
    return value, end


class ToolFormatWrapper(NativeWrapper):
    """A chat format with its own tool-call markers. Subclasses: one format each."""

    supports_parallel_calls: ClassVar[bool] = True
    #: The text that opens a call in the output (``"<tool_call>"``).
    call_start: ClassVar[str] = ""
    #: The text every answer's calls start with, and that :meth:`call_grammar`'s
    #: grammar starts with: under ``auto`` the grammar applies from it on.
    #: Empty: the format is not constrained under ``auto``.
    grammar_trigger: ClassVar[str] = ""
    #: A reasoning block the model writes before its calls (``("<think>",
    #: "</think>", opened)``; ``opened``: the prompt ends inside it). A grammar
    #: for a required call lets it come first, as free text.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = None
    #: End-of-turn strings; generation stops there.
    stop: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        """The prompt: system prompt and tools, the turns, and the open assistant turn.

        ``turns`` have parallel calls merged back into one assistant turn.
        ``functions`` is empty when calls are not allowed (``tool_choice: none``).
        """

    @abstractmethod
    def extract_calls(self, text: str) -> Extraction:
        """The calls in ``text`` (reasoning already removed) and the text around them.

        No call: ``Extraction(text, [])``. A call marker whose JSON cannot be
        read: raise :class:`WrapperParseError` (the pipeline retries).
        """

    # ---- streaming ----

    #: Where content ends and a call begins while streaming (``regex`` patterns).
    #: Default: ``call_start``. It must agree with :meth:`extract_calls`: text
    #: before the first match is content there too.
    stream_openers: ClassVar[tuple[str, ...]] = ()
    #: Does :meth:`stream_snapshot` read this format as it is written? Turned on
    #: per format once its whole case table streams exactly as it parses
    #: (tests/unit/test_stream_contract.py); until then its answer is sent at the end.
    streams_content: ClassVar[bool] = False
    #: Does :meth:`parse` fall back on calls written as bare JSON, without the
    #: format's markers (:func:`wrappers.tolerance.bare_json_calls`)? Formats
    #: whose own reader finds bare JSON anyway turn it off.
    tolerates_bare_json: ClassVar[bool] = True
    #: Does a call opener end an unclosed ``<think>`` block? Kimi K2 Thinking
    #: sometimes starts its calls without writing ``</think>`` first (vLLM's
    #: ``KimiK2ReasoningParser`` ends the reasoning at the call section).
    #: Calls inside a *closed* block are never taken.
    calls_end_reasoning: ClassVar[bool] = False

    def stream_opener_patterns(self) -> tuple[str, ...]:
        """The patterns of :attr:`stream_openers`, or ``call_start`` when none are declared."""
        if self.stream_openers:
            return self.stream_openers
        return (re.escape(self.call_start),) if self.call_start else ()

    def close_reasoning_at_a_call(self, text: str, *, partial: bool = False) -> str:
        """``text`` with ``</think>`` put before a call opener inside an unclosed ``<think>``.

        ``partial``: the text is still being written; an opener still being
        written at its end is cut off (it may yet end the reasoning).
        """
        if not self.calls_end_reasoning:
            return text
        start = text.find(_THINK_OPEN)
        if start == -1 or _THINK_CLOSE in text[start:]:
            return text
        first = find_opener(text[start:], self._openers)
        if first == -1:
            return text[: partial_match_start(text, self._openers)] if partial else text
        at = start + first
        return text[:at] + _THINK_CLOSE + text[at:]

    def stream_end_tokens(self) -> tuple[str, ...]:
        """End-of-turn tokens that :meth:`parse` removes from the end of the output."""
        return self.stop

    @cached_property
    def _openers(self) -> tuple[regex.Pattern[str], ...]:
        return tuple(compile_opener(p) for p in self.stream_opener_patterns())

    @cached_property
    def _bare_openers(self) -> tuple[regex.Pattern[str], ...]:
        """Where a bare JSON call may begin: content is held from there, the call sent at the end."""
        if not self.tolerates_bare_json:
            return ()
        # Imported here: wrappers.tolerance builds on this module.
        from wrappers.tolerance import BARE_CALL_OPENER

        return (compile_opener(BARE_CALL_OPENER),)

    @cached_property
    def _stop_suffixes(self) -> tuple[regex.Pattern[str], ...]:
        # parse() cuts these off the end only: hold them back while they end the text.
        tokens = self.stream_end_tokens()
        return tuple(compile_opener(re.escape(token) + r"\s*\Z") for token in tokens)

    def rewrite_output(self, text: str) -> str:
        """The output in the shape the shared reader takes (as it is, by default).

        For a family that writes its reasoning or answer with tokens of its own
        (Kimi K3's channels, Gemma 4's thought channel, Hunyuan's ``<answer>``,
        Command R7B's plan): one rewrite, which :meth:`parse` applies to the
        whole output and :meth:`stream_snapshot` to the text so far, once
        :meth:`whole_tokens` has held back a token still being written.
        """
        return text

    def whole_tokens(self, text: str) -> str | None:
        """``text`` without a trailing token of :meth:`rewrite_output`'s that is
        still being written (it waits until it is whole, or clearly not one).
        None: the text so far cannot tell reasoning from an answer yet."""
        return text

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        whole = self.whole_tokens(text)
        if whole is None:
            return Snapshot()
        text = self.rewrite_output(whole)
        if not self.streams_content:
            return super().stream_snapshot(text, functions, options)
        closed = self.close_reasoning_at_a_call(text, partial=True)
        if len(closed) > len(text):
            # Closed at a call: a </think> may still come and put the call back
            # in the reasoning. Only the reasoning is certain; the rest waits.
            split = split_reasoning_partial(closed, starts_inside=starts_in_reasoning)
            return Snapshot(reasoning=split.reasoning)
        split = split_reasoning_partial(closed, starts_inside=starts_in_reasoning)
        content, calls = self.stream_answer(split.rest, functions, in_reasoning=split.inside)
        return Snapshot(content=content, reasoning=split.reasoning, calls=calls)

    def stream_answer(
        self, rest: str, functions: Sequence[FunctionSchema], *, in_reasoning: bool
    ) -> tuple[str, list[PartialCall]]:
        """Content and calls known so far in ``rest``, the output outside its reasoning block.

        ``in_reasoning``: the output still ends inside the block (``rest`` is
        what came before it). Default: content up to the first call opener,
        then :meth:`partial_calls`. Formats whose content is more than the
        text before the first call (Functionary's ``>>>all`` messages)
        override it.
        """
        first = find_opener(rest, self._openers)
        end = self.content_end(rest)
        if first == -1:
            return held_text(rest[:end]), []
        calls = [] if in_reasoning else self.partial_calls(rest[first:], functions)
        return held_text(rest[: min(first, end)]), calls

    def content_end(self, rest: str) -> int:
        """Where the content certain so far ends in ``rest``: before any opener
        (also one still being written, which may start before the first whole
        one), a bare JSON call's start, or an end token that may end the text."""
        end = safe_content_end(rest, (*self._openers, *self._bare_openers, *self._stop_suffixes))
        bare = find_opener(rest, self._bare_openers) if self._bare_openers else -1
        # A bare call's text is not content; the call comes whole at the end.
        return end if bare == -1 else min(end, bare)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        """The calls known so far in ``region``, the output from its first call opener on.

        Each call's arguments are a prefix of the JSON string :meth:`parse`
        will give it (``functions``: the request's, for formats that type
        values by their schemas). Default: none until the output is
        complete (the calls then come whole); formats override it so that
        arguments leave as they are written.
        """
        return []

    # ---- the shared parts ----

    def stop_sequences(self) -> list[str]:
        return list(self.stop)

    def render(
        self,
        messages: list[Message],
        functions: list[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> Prompt:
        options = options or RenderOptions()
        system, turns = split_conversation(messages)
        offered = functions if options.allow_calls else []
        grammar = None
        triggers: list[str] = []
        if options.grammar and options.call_required and offered:
            grammar = self._call_grammar_of(
                offered, options.forced_function, options.parallel_calls
            )
            if grammar and self.grammar_reasoning:
                open_tag, close_tag, opened = self.grammar_reasoning
                grammar = reasoning_first(grammar, open_tag, close_tag, opened=opened)
        elif options.grammar and offered and self.grammar_trigger:
            # Under "auto" the model may answer in prose; a call it starts is
            # held to the grammar to its end.
            calls = (
                self._call_grammar_of(offered, None, options.parallel_calls)
                if options.auto_grammar != "none"
                else None
            )
            if calls and options.auto_grammar == "lazy":
                grammar, triggers = calls, self.lazy_grammar_triggers(offered)
            elif calls:
                grammar = text_or_calls_grammar(calls, self.grammar_trigger)
        return Prompt(
            text=self.render_chat(system, merge_parallel_calls(turns), offered),
            stop=self.stop_sequences(),
            grammar=grammar,
            grammar_triggers=triggers,
        )

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        """A GBNF grammar for an answer that is only calls, where the format has one."""
        return None

    def _strictly_held(
        self, functions: Sequence[FunctionSchema], options: RenderOptions | None
    ) -> bool:
        """Was the answer constrained under ``auto`` for a ``strict`` tool?

        Then a call counts only where the grammar shaped it (after the call
        marker): a call written as bare JSON in the free prose was not held
        to the schema, and a strict tool's arguments must be valid by
        construction. (A small model echoing the tool list writes one.)
        """
        return bool(
            options is not None
            and options.grammar
            and options.auto_grammar != "none"
            and self.grammar_trigger
            and any(f.get("strict") is True for f in functions)
        )

    def _call_grammar_of(
        self, functions: Sequence[FunctionSchema], only: str | None, parallel: bool
    ) -> str | None:
        # Clients send the same tools every turn: each grammar is built once.
        return _cached_call_grammar(self, json_key(functions), only, parallel)

    def lazy_grammar_triggers(self, functions: Sequence[FunctionSchema]) -> list[str]:
        """The words from which a lazy grammar applies: :attr:`grammar_trigger`.

        A format whose call marker alone is too common in prose (pythonic's
        ``[``) names one trigger per function instead (``[get_weather(``).
        """
        return [self.grammar_trigger]

    def type_arguments(self, arguments: str, function: FunctionSchema | None) -> str:
        """A call's arguments (JSON text) typed by its function's schema; here, as written.

        Formats that write values as text (XML parameters: ``"1"`` for an
        integer) override it; :meth:`parse` applies it to every call it reads.
        """
        return arguments

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        raw = self.rewrite_output(raw)
        reasoning, text = split_reasoning(self.close_reasoning_at_a_call(raw))
        for token in self.stop:
            text = text.removesuffix(token).rstrip()
        try:
            extraction = self.extract_calls(text)
        except (ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, WrapperParseError):
                raise
            raise WrapperParseError(
                f"a {self.call_start or 'tool'} call is unreadable: {exc}", raw
            ) from exc
        if (
            not extraction.calls
            and self.tolerates_bare_json
            and not self._strictly_held(functions, options)
        ):
            # Imported here: wrappers.tolerance builds on this module.
            from wrappers.tolerance import bare_json_calls

            extraction = bare_json_calls(extraction.content, functions) or extraction
        schemas = {f.get("name"): f for f in functions} if extraction.calls else {}
        calls = [
            ToolCall(
                name=call.name,
                arguments=self.type_arguments(
                    arguments_as_json_string(call.arguments), schemas.get(call.name)
                ),
            )
            for call in extraction.calls
        ]
        return ParsedOutput(
            content=extraction.content.strip() or None,
            tool_calls=calls,
            reasoning_content=reasoning,
        )


@lru_cache(maxsize=128)
def _cached_call_grammar(
    wrapper: ToolFormatWrapper, functions_json: str, only: str | None, parallel: bool
) -> str | None:
    functions: list[FunctionSchema] = json.loads(functions_json)
    return wrapper.call_grammar(functions, only, parallel=parallel)


def call_from_object(
    value: Any,
    *,
    name_keys: Sequence[str] = ("name",),
    argument_keys: Sequence[str] = ("arguments", "parameters"),
) -> ExtractedCall:
    """``{"name": ..., "arguments": {...}}`` (or the format's own keys) as a call."""
    if not isinstance(value, dict):
        raise WrapperParseError(f"a call must be a JSON object, got {type(value).__name__}")
    name = next((value[k] for k in name_keys if isinstance(value.get(k), str)), None)
    if not name:
        raise WrapperParseError(f"a call has no name ({'/'.join(name_keys)})")
    arguments: Any = next((value[k] for k in argument_keys if k in value), {})
    if isinstance(arguments, str):
        # Some models double-encode the arguments object.
        try:
            decoded = json.loads(arguments)
        except json.JSONDecodeError:
            decoded = None
        arguments = decoded if isinstance(decoded, dict) else arguments
    if not isinstance(arguments, dict | str):
        raise WrapperParseError(f"the arguments of {name!r} are not an object")
    return ExtractedCall(name=name, arguments=arguments)


def tools_json_lines(functions: Sequence[FunctionSchema]) -> str:
    """One ``{"type": "function", "function": {...}}`` per line, as HF templates print them."""
    return "\n".join(
        json.dumps({"type": "function", "function": dict(f)}, ensure_ascii=False) for f in functions
    )
