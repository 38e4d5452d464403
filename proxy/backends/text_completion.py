"""What the webui and LM Studio backends share: one JSON POST per generation.

Those dialects differ from each other only in a table of names (where to POST,
what the max-tokens / stop / context-window / grammar fields are called, where
the text sits in the answer), so a backend built on
:class:`TextCompletionBackend` is mostly class attributes::

    class LMStudioBackend(TextCompletionBackend):
        name = "lmstudio"
        generate_path = "/v1/completions"
        sends_model = True
        # max_tokens, stop, no per-request context window, no grammar: the defaults

The request body holds only what the caller set: a ``None`` parameter (and an
empty stop list) is left out, so the upstream applies its own default.

Streaming (:meth:`TextCompletionBackend.stream`) sends the same body, built by
the same :meth:`~TextCompletionBackend.request_body`, plus the dialect's
stream flag (:meth:`~TextCompletionBackend.stream_fields`), and reads the
answer's events (:mod:`proxy.backends.event_stream`) with
:meth:`~TextCompletionBackend.read_stream_event`. OpenAI's framing is the
default here::

    POST /v1/completions  {...the same body..., "stream": true,
                           "stream_options": {"include_usage": true}}
    -> data: {"choices": [{"text": "Hel", "finish_reason": null}]}
       data: {"choices": [{"text": "lo", "finish_reason": "stop"}]}
       data: {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}}
       data: [DONE]

``include_usage`` asks for the usage chunk where the server knows it (vLLM,
webui, LM Studio, koboldcpp's and llama-server's ``/v1``); the others
(llama-cpp-python) ignore it and the usage stays unknown.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, ClassVar

from proxy.backends.base import (
    Completion,
    Embeddings,
    GenerationParams,
    HTTPBackend,
    TextDelta,
    collect,
    looks_like_context_overflow,
    require_text,
)
from proxy.backends.embeddings import read_vectors
from proxy.backends.event_stream import Framing, StreamEvent, read_events
from proxy.backends.exchange import Exchange
from proxy.backends.stops import cut_at_stops, cut_completion
from proxy.errors import ContextLengthExceeded, EmbeddingsNotSupported, UpstreamError

Path = tuple[str | int, ...]


@dataclass
class StreamEnd:
    """What a stream said about its end, gathered event by event."""

    #: The dialect's terminator arrived (``[DONE]``, ``"stop": true``, ``"done": true``).
    done: bool = False
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    stop_word: str | None = None

    def delta(self) -> TextDelta:
        """The last delta of the stream: no text, the finish reason and the usage."""
        return TextDelta(
            text="",
            finish_reason=self.finish_reason,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            stop_word=self.stop_word,
        )


class TextCompletionBackend(HTTPBackend):
    """An upstream that turns one prompt into one text with a single JSON POST."""

    generate_path: ClassVar[str] = "/v1/completions"
    max_tokens_field: ClassVar[str] = "max_tokens"
    stop_field: ClassVar[str] = "stop"
    #: ``None`` where the context window is fixed when the model loads, not per request.
    context_window_field: ClassVar[str | None] = None
    #: ``None`` where the dialect takes no GBNF grammar.
    grammar_field: ClassVar[str | None] = None
    #: True where the dialect takes OpenAI's ``response_format: {"type": "json_schema",
    #: ...}`` on its completions (LM Studio, vLLM): the output schema goes there.
    takes_response_format: ClassVar[bool] = False
    #: Whether ``GenerationParams.grammar_lazy`` / ``grammar_triggers`` reach the
    #: upstream (llama-server); where not, a lazy grammar is not sent at all.
    supports_lazy_grammar: ClassVar[bool] = False
    #: GenerationParams attributes the dialect takes under the same name.
    sampling_fields: ClassVar[tuple[str, ...]] = (
        "temperature",
        "top_p",
        "top_k",
        "seed",
        "presence_penalty",
        "frequency_penalty",
    )
    #: Whether to send ``model`` (servers that route by it, like LM Studio).
    sends_model: ClassVar[bool] = False
    #: Where the one choice sits in the answer, and the text inside that choice.
    choice_path: ClassVar[Path] = ("choices", 0)
    text_in_choice: ClassVar[Path] = ("text",)
    #: Where OpenAI-shaped embeddings are served; ``None`` where the dialect has none.
    embeddings_path: ClassVar[str | None] = None
    #: How a streamed answer is framed; ``None`` where the dialect cannot stream
    #: (``stream()`` then yields the whole answer as one delta).
    stream_framing: ClassVar[Framing | None] = "sse"
    #: Where a streamed generation goes; ``None``: ``generate_path`` (with the stream flag).
    stream_path: ClassVar[str | None] = None
    #: Where the text sits in a streamed event's choice.
    stream_text_in_choice: ClassVar[Path] = ("text",)
    #: Whether the answer names the stop string that ended it (llama-server's
    #: ``stopping_word``): then the client's stop sequences go upstream; else
    #: fcproxy applies them itself (proxy/backends/stops.py).
    reports_stop_word: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Derived rather than declared, so the flag and the field cannot disagree.
        cls.supports_grammar = cls.grammar_field is not None
        if cls.takes_response_format:
            cls.supports_json_schema = True

    async def complete(self, prompt: str, params: GenerationParams) -> Completion:
        if self.applies_stop_sequences(params):
            if self.stream_framing is not None:
                # Streamed, so that a match stops the generation at once.
                return await collect(self.stream(prompt, params))
            return cut_completion(await self._complete(prompt, params), params.stop_sequences)
        return await self._complete(prompt, params)

    async def _complete(self, prompt: str, params: GenerationParams) -> Completion:
        data = await self.post_json(self.generate_path, await self.request_body(prompt, params))
        return self.parse_answer(data)

    def applies_stop_sequences(self, params: GenerationParams) -> bool:
        """Whether fcproxy cuts at the client's stop sequences (the upstream cannot say which)."""
        return bool(params.stop_sequences) and not self.reports_stop_word

    async def request_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        """The body of a generation request, streamed or not (the stream adds its flag).

        :meth:`build_body`, plus what needs asking the upstream first (the
        model to name, for Ollama and vLLM).
        """
        return self.build_body(prompt, params)

    # ---- streaming ----

    def stream_fields(self) -> dict[str, Any]:
        """What makes the generation request a streamed one (merged into the same body)."""
        return {"stream": True, "stream_options": {"include_usage": True}}

    def stream(self, prompt: str, params: GenerationParams) -> AsyncGenerator[TextDelta, None]:
        """The generation as the upstream writes it: text deltas, then one with the end.

        Every delta but the last has text; the last has none and carries the
        finish reason and the token counts (where the upstream said them).
        An error status before the stream starts raises as :meth:`complete`
        does; an error event inside it, or a stream that ends without its
        terminator, raises :class:`UpstreamError`.
        """
        if self.stream_framing is None:
            return super().stream(prompt, params)
        deltas = self._stream(prompt, params)
        if self.applies_stop_sequences(params):
            return cut_at_stops(deltas, params.stop_sequences)
        return deltas

    async def _stream(
        self, prompt: str, params: GenerationParams
    ) -> AsyncGenerator[TextDelta, None]:
        body = {**await self.request_body(prompt, params), **self.stream_fields()}
        path = self.stream_path or self.generate_path
        end = StreamEnd()
        async with self.exchange("POST", path, body) as answer:
            if answer.response.status_code >= 400 or _is_json(answer.response):
                # An error, or a whole answer: a server that ignored the stream
                # flag, or LM Studio's error that comes with status 200.
                whole = answer.whole(await answer.read())
                completion = self.parse_answer(self.read_json("POST", path, whole))
                answer.progress(len(completion.text.encode("utf-8", "surrogatepass")))
                if completion.text:
                    yield TextDelta(text=completion.text)
                yield single_end(completion).delta()
                return
            async with contextlib.aclosing(self._stream_deltas(answer, path, end)) as deltas:
                async for delta in deltas:
                    yield delta
                    # The time the caller took with it is not the upstream's silence.
                    answer.progress()
        end = await self.finish_stream(end, params)
        yield end.delta()

    async def _stream_deltas(
        self, answer: Exchange, path: str, end: StreamEnd
    ) -> AsyncGenerator[TextDelta, None]:
        events = read_events(answer.chunks(), self.stream_framing or "sse", answer.limits.max_bytes)
        async with contextlib.aclosing(events):
            async for event in events:
                text = self.read_stream_event(event, end, path)
                if text:
                    answer.progress(len(text.encode("utf-8", "surrogatepass")))
                    yield TextDelta(text=text)
                if end.done:
                    return
        raise UpstreamError(
            f"The {answer.upstream} closed the stream before it finished (no end of "
            f"{answer.request}'s answer arrived)."
        )

    def read_stream_event(self, event: StreamEvent, end: StreamEnd, path: str) -> str:
        """The text of one streamed event; what it says of the end goes into ``end``.

        OpenAI's chunks here: ``choices[0].text`` (or ``stream_text_in_choice``),
        ``finish_reason``, a ``usage`` chunk, ``[DONE]``; ``{"error": ...}`` raises.
        """
        if event.data.strip() == "[DONE]":
            end.done = True
            return ""
        data = self.event_json(event, path)
        if isinstance(data, dict) and data.get("object") == "error":
            # vLLM before 0.10 sent its errors flat: {"object": "error", "message", ...}.
            self.raise_stream_error(data.get("message", data), path)
        self.raise_for_error_answer(data, path)
        prompt_tokens, completion_tokens = self.usage_in(data)
        end.prompt_tokens = prompt_tokens or end.prompt_tokens
        if completion_tokens is not None:
            end.completion_tokens = completion_tokens
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or not choices:
            return ""  # the usage chunk, or a keep-alive
        choice = choices[0]
        finish_reason = choice.get("finish_reason") if isinstance(choice, dict) else None
        if isinstance(finish_reason, str):
            end.finish_reason = finish_reason
        return self.event_text(dig(choice, self.stream_text_in_choice))

    def event_json(self, event: StreamEvent, path: str) -> Any:
        """The JSON of an event; an ``error`` event or non-JSON raises UpstreamError."""
        if event.event == "error":
            self.raise_stream_error(event.data, path)
        try:
            return json.loads(event.data)
        except json.JSONDecodeError:
            raise UpstreamError(
                f"The upstream {self.name} server at {self.base_url} streamed an event that "
                f"is not JSON in answer to {path}: {self.redactor.redact(event.data)[:300]!r}"
            ) from None

    def event_text(self, text: Any) -> str:
        """A streamed event's text: a string, else nothing (None, a role-only delta)."""
        if text is None:
            return ""
        if not isinstance(text, str):
            raise UpstreamError(
                f"Unexpected upstream answer: the streamed text is not text: {str(text)[:300]}"
            )
        return text

    def raise_stream_error(self, error: Any, path: str) -> None:
        """Raise for an error the upstream reported inside its stream."""
        if isinstance(error, dict):
            inner = error.get("error", error)
            error = inner.get("message", inner) if isinstance(inner, dict) else inner
        detail = self.redactor.redact(str(error))
        if looks_like_context_overflow(detail):
            raise ContextLengthExceeded(detail=detail)
        raise UpstreamError(
            f"The upstream {self.name} server at {self.base_url} reported an error in its "
            f"stream answering {path}: {detail[:500]}"
        )

    async def finish_stream(self, end: StreamEnd, params: GenerationParams) -> StreamEnd:
        """The end of a stream as the caller gets it (koboldcpp asks for what it left out)."""
        return end

    def build_body(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        """The JSON body of a generation request, in this dialect's field names."""
        fields: dict[str, Any] = {
            self.max_tokens_field: params.max_tokens,
            self.stop_field: self.upstream_stops(params) or None,
        }
        fields.update({name: getattr(params, name) for name in self.sampling_fields})
        if self.context_window_field is not None:
            fields[self.context_window_field] = params.context_window
        if self.grammar_field is not None and (
            self.supports_lazy_grammar or not params.grammar_lazy
        ):
            fields[self.grammar_field] = params.grammar
        if self.takes_response_format and params.json_schema is not None:
            fields["response_format"] = response_format_field(params.json_schema)
        if self.sends_model:
            fields["model"] = params.model or self.config.model
        body = self.prompt_fields(prompt)
        body.update({key: value for key, value in fields.items() if value is not None})
        return body

    def upstream_stops(self, params: GenerationParams) -> list[str]:
        """The stops the upstream applies: the client's too where it says which matched."""
        if self.reports_stop_word:
            return [*params.stop, *(s for s in params.stop_sequences if s not in params.stop)]
        return list(params.stop)

    def prompt_fields(self, prompt: str) -> dict[str, Any]:
        """The part of the body that carries the prompt."""
        return {"prompt": prompt}

    def parse_answer(self, data: Any) -> Completion:
        """Text, usage and finish reason out of a generation answer."""
        self.raise_for_error_answer(data, self.generate_path)
        text = require_text(data, *self.choice_path, *self.text_in_choice)
        prompt_tokens, completion_tokens = self.usage_in(data)
        return Completion(
            text=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=self.finish_reason_in(data),
        )

    def usage_in(self, data: Any) -> tuple[int | None, int | None]:
        """(prompt_tokens, completion_tokens) of a generation answer; OpenAI's ``usage`` here."""
        return read_usage(data)

    def finish_reason_in(self, data: Any) -> str | None:
        """The finish reason ("stop" or "length") where the answer says; OpenAI's here."""
        # parse_answer found the text in the choice, so the choice exists.
        choice = dig(data, self.choice_path)
        finish_reason = choice.get("finish_reason") if isinstance(choice, dict) else None
        return finish_reason if isinstance(finish_reason, str) else None

    def raise_for_error_answer(self, data: Any, path: str) -> None:
        """Raise for an error that came back with HTTP 200.

        LM Studio 0.4 answers an over-long prompt with status 200 and an
        ``error`` body (lmstudio-bug-tracker#2322); without this it would
        surface as "no choices in the answer" instead of a context overflow.
        """
        if not isinstance(data, dict) or "error" not in data or data.keys() & _ANSWER_KEYS:
            return
        error = data["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        detail = self.redactor.redact(str(message))
        if looks_like_context_overflow(detail):
            raise ContextLengthExceeded(detail=detail)
        raise UpstreamError(
            f"The upstream {self.name} server at {self.base_url} answered "
            f"{path} with an error: {detail[:500]}"
        )

    async def embed(self, inputs: list[str], model: str | None) -> Embeddings:
        """OpenAI's ``POST /v1/embeddings`` at ``embeddings_path``, pooled to flat vectors."""
        if self.embeddings_path is None:
            return await super().embed(inputs, model)
        return await self.post_embeddings(self.embeddings_path, inputs, model)

    async def post_embeddings(
        self, path: str, inputs: list[str], model: str | None, field: str = "input"
    ) -> Embeddings:
        """POST ``inputs`` (under ``field``) to ``path`` and read the vectors back.

        ``model`` (else the configured upstream model) is sent when known: LM
        Studio picks its embedding model by it; the others ignore it or fall
        back to the model they serve.
        """
        if not inputs:
            return Embeddings(vectors=[])
        body: dict[str, Any] = {field: list(inputs)}
        if model := model or self.config.model:
            body["model"] = model
        response = await self.send("POST", path, body)
        if response.status_code >= 400 and _NO_EMBEDDINGS.search(response.text):
            raise EmbeddingsNotSupported(
                f"The upstream {self.name} server at {self.base_url} cannot compute "
                f"embeddings as started: {self.redactor.redact(response.text)[:300]}"
            )
        data = self.read_json("POST", path, response)
        self.raise_for_error_answer(data, path)
        # webui's usage always says 0, read (as everywhere) as "not counted".
        prompt_tokens, _ = read_usage(data)
        return Embeddings(vectors=read_vectors(data, len(inputs)), prompt_tokens=prompt_tokens)


#: Keys of a successful answer: an "error" beside one of them is not an error answer.
_ANSWER_KEYS = frozenset({"choices", "results", "content", "data", "response", "embeddings"})

#: What servers say when they were started without embeddings: llama-server
#: ("Start it with `--embeddings`"), llama-cpp-python ("Llama model must be
#: created with embedding=True"), vLLM serving a generative model ("The model
#: does not support Embeddings API").
_NO_EMBEDDINGS = re.compile(
    r"embedding=True|--embeddings?\b|does not support embeddings", re.IGNORECASE
)


def single_end(completion: Completion) -> StreamEnd:
    """The end of a stream that came as one whole answer."""
    return StreamEnd(
        done=True,
        finish_reason=completion.finish_reason,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        stop_word=completion.stop_word,
    )


def _is_json(response: Any) -> bool:
    """Whether an answer is one JSON document rather than a stream."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(media_type == "application/json")


def dig(data: Any, path: Path) -> Any:
    """``data[path...]``, or None where the path does not exist."""
    node = data
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def require_count(data: Any, *path: str | int) -> int:
    """A token count at ``data[path...]``, or UpstreamError (the int twin of require_text)."""
    count = as_count(dig(data, path))
    if count is None:
        raise UpstreamError(
            f"Unexpected upstream answer: no token count at {'/'.join(map(str, path))} "
            f"in {str(data)[:300]}"
        )
    return count


def read_usage(data: Any) -> tuple[int | None, int | None]:
    """(prompt_tokens, completion_tokens) from an OpenAI-style ``usage``, None where absent."""
    usage = dig(data, ("usage",))
    if not isinstance(usage, dict):
        return None, None
    # No prompt is zero tokens: a 0 here means the server did not count (MemGPT
    # saw webui and LM Studio report 0), so `or None` lets the caller count instead.
    prompt_tokens = as_count(usage.get("prompt_tokens")) or None
    return prompt_tokens, as_count(usage.get("completion_tokens"))


def as_text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def as_count(value: Any) -> int | None:
    """``value`` when it is a token count (a non-negative int), else None."""
    # bool is an int subclass, but True is not a token count.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def response_format_field(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's ``response_format`` holding ``schema`` (LM Studio's and vLLM's field)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "response", "strict": True, "schema": schema},
    }
