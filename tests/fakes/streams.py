"""How each fake upstream streams a generation: the real servers' framing, token by token.

:class:`tests.fakes.upstream.FakeUpstream` builds a generation's whole answer
first (its usual JSON), then, when the request asked for a stream, sends it
the way that server streams: :func:`frame` turns the answer into the events,
the fake paces and breaks them. A token is a whitespace-separated word with
the whitespace before it (:func:`split_tokens`), so the pieces add up to the
text exactly. From the servers' sources:

- ``webui``: ``modules/api/script.py`` (``EventSourceResponse(..., sep="\\n")``,
  ``data: [DONE]`` at the end) and ``completions.py`` ``completions_common``:
  a first chunk with the (empty) echo prefix, one chunk per new piece of
  text, a last one with the (empty) suffix and the finish reason; with
  ``stream_options.include_usage`` every chunk has ``"usage": null`` and a
  last chunk ``{"choices": [], "usage": {...}}`` follows. No error event: a
  failure ends the stream without ``[DONE]``.
- ``lmstudio`` / ``lmstudio-legacy``: OpenAI's text / chat chunks (the chat's
  first chunk holds only the role), the finish reason on the last one, the
  usage chunk when asked, ``data: [DONE]``.
- ``llama-server``: ``/completion`` with ``stream``: ``server-task.cpp``
  (``server_task_result_cmpl_partial::to_json_non_oaicompat``: ``content``,
  ``"stop": false``, ``tokens_predicted``, ``tokens_evaluated``; the final
  result's ``to_json_non_oaicompat`` with ``"content": ""`` in stream mode and
  ``"stop": true``), ``server.cpp`` ``handle_completions_impl`` (``data: ...``
  per result, no ``[DONE]`` for ``/completion``, an error after the first
  result as ``data: {"error": {...}}`` and the end of the stream).
- ``llama-cpp-python``: ``llama_cpp/server/app.py`` ``get_event_publisher``
  (``data: [DONE]`` at the end) and ``llama.py`` ``_create_completion`` (one
  chunk per token, a last chunk with ``"text": ""`` and the finish reason, no
  usage). It checks the prompt's length inside the stream: an over-long
  prompt breaks the stream off (:attr:`Framing.broken_off`).
- ``koboldcpp``: ``koboldcpp.py`` ``handle_sse_stream`` (1.10x):
  ``event: message`` / ``data: {"token", "finish_reason": null}``, the last
  one ``{"token": "", "finish_reason": "stop" | "length" | "error"}``, then the
  connection closes.
- ``ollama``: ``server/routes.go`` ``GenerateHandler`` / ``streamResponse``:
  NDJSON, ``{"model", "created_at", "response", "done": false}`` per token, the
  final object with ``"done": true``, ``done_reason`` and the counts, a failure
  as a line ``{"error": "..."}``.
- ``vllm``: ``serving_completion.py`` ``completion_stream_generator``: the
  finish reason on the chunk of the last text, the usage chunk
  (``"choices": []``) when asked, a failure as ``data: {"error": {...}}``
  followed by ``data: [DONE]``.
- ``openai-completions``: OpenAI's own stream, as vLLM's.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r"\s*\S+")

SSE = "text/event-stream; charset=utf-8"


@dataclass(frozen=True)
class Framing:
    """One streamed answer, in parts: what comes before, one part per token, the end."""

    media_type: str
    head: list[bytes] = field(default_factory=list)
    tokens: list[bytes] = field(default_factory=list)
    tail: list[bytes] = field(default_factory=list)
    #: How the server reports a failure in the middle; None: it just breaks off.
    error: list[bytes] | None = None
    #: The server breaks this stream off before its first token (llama-cpp-python's
    #: over-long prompt).
    broken_off: bool = False


def split_tokens(text: str) -> list[str]:
    """The fake's tokens of ``text``: each word with the whitespace before it.

    Whitespace after the last word goes with the last token, so
    ``"".join(split_tokens(text)) == text``.
    """
    tokens = _TOKEN.findall(text)
    rest = text[sum(len(token) for token in tokens) :]
    if rest:
        if tokens:
            tokens[-1] += rest
        else:
            tokens = [rest]
    return tokens


def frame(dialect: str, answer: dict[str, Any], body: dict[str, Any], failure: str) -> Framing:
    """``answer`` (the dialect's whole answer) as ``dialect`` streams it.

    ``failure`` is the message of an error event, should the stream fail.
    """
    if dialect == "llama-server":
        return _llama_server(answer, failure)
    if dialect == "koboldcpp":
        return _koboldcpp(answer)
    if dialect == "ollama":
        return _ollama(answer, failure)
    if answer.get("object") == "chat.completion":  # LM Studio's chat endpoint
        return _openai_chat(answer, body)
    return _openai_text(dialect, answer, body, failure)


def sse(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event: ``data: <json>`` (and its ``event:`` line), then an empty line."""
    text = data if isinstance(data, str) else json.dumps(data)
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _openai_text(
    dialect: str, answer: dict[str, Any], body: dict[str, Any], failure: str
) -> Framing:
    choice = answer["choices"][0]
    tokens = split_tokens(choice["text"])
    usage_asked = _include_usage(body) and dialect != "llama-cpp-python"

    def chunk(text: str, finish_reason: str | None) -> dict[str, Any]:
        data = {
            "id": answer["id"],
            "object": "text_completion",
            "created": answer["created"],
            "model": answer["model"],
            "choices": [
                {"index": 0, "text": text, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if usage_asked:
            data["usage"] = None
        return data

    finish_reason = choice["finish_reason"]
    head: list[bytes] = []
    parts = [chunk(token, None) for token in tokens]
    tail: list[dict[str, Any]] = []
    if dialect == "webui":
        # The echo prefix first, the suffix with the finish reason last (both empty).
        head = [sse(chunk("", None))]
        tail.append(chunk("", finish_reason))
    elif dialect in ("vllm", "openai-completions") and parts:
        parts[-1]["choices"][0]["finish_reason"] = finish_reason
    else:
        tail.append(chunk("", finish_reason))
    if usage_asked:
        tail.append({**chunk("", None), "choices": [], "usage": answer["usage"]})
    error = None
    if dialect in ("vllm", "openai-completions"):
        message = {"message": failure, "type": "InternalServerError", "param": None, "code": 500}
        error = [sse({"error": message}), sse("[DONE]")]
    return Framing(
        media_type=SSE,
        head=head,
        tokens=[sse(part) for part in parts],
        tail=[*(sse(part) for part in tail), sse("[DONE]")],
        error=error,
    )


def _openai_chat(answer: dict[str, Any], body: dict[str, Any]) -> Framing:
    choice = answer["choices"][0]

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
        return sse(
            {
                "id": answer["id"],
                "object": "chat.completion.chunk",
                "created": answer["created"],
                "model": answer["model"],
                "system_fingerprint": answer.get("system_fingerprint"),
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
        )

    tail = [chunk({}, choice["finish_reason"])]
    if _include_usage(body):
        tail.append(
            sse(
                {
                    "id": answer["id"],
                    "object": "chat.completion.chunk",
                    "created": answer["created"],
                    "model": answer["model"],
                    "choices": [],
                    "usage": answer["usage"],
                }
            )
        )
    return Framing(
        media_type=SSE,
        head=[chunk({"role": "assistant", "content": ""}, None)],
        tokens=[
            chunk({"content": token}, None) for token in split_tokens(choice["message"]["content"])
        ],
        tail=[*tail, sse("[DONE]")],
    )


def _llama_server(answer: dict[str, Any], failure: str) -> Framing:
    tokens = split_tokens(answer["content"])
    parts = [
        {
            "index": 0,
            "content": token,
            "tokens": [],
            "stop": False,
            "id_slot": 0,
            "tokens_predicted": i + 1,
            "tokens_evaluated": answer["tokens_evaluated"],
        }
        for i, token in enumerate(tokens)
    ]
    # In stream mode the final result's content is empty: it was all in the partials.
    final = {**answer, "content": ""}
    error = {"code": 500, "message": failure, "type": "server_error"}
    return Framing(
        media_type=SSE,
        tokens=[sse(part) for part in parts],
        tail=[sse(final)],
        error=[sse({"error": error})],
    )


def _koboldcpp(answer: dict[str, Any]) -> Framing:
    result = answer["results"][0]
    return Framing(
        media_type="text/event-stream",
        tokens=[
            sse({"token": token, "finish_reason": None}, event="message")
            for token in split_tokens(result["text"])
        ],
        tail=[sse({"token": "", "finish_reason": result["finish_reason"]}, event="message")],
        error=[sse({"token": "", "finish_reason": "error"}, event="message")],
    )


def _ollama(answer: dict[str, Any], failure: str) -> Framing:
    def line(data: dict[str, Any]) -> bytes:
        return (json.dumps(data) + "\n").encode()

    created = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
    parts = [
        {"model": answer["model"], "created_at": created, "response": token, "done": False}
        for token in split_tokens(answer["response"])
    ]
    return Framing(
        media_type="application/x-ndjson",
        tokens=[line(part) for part in parts],
        tail=[line({**answer, "response": ""})],
        error=[line({"error": failure})],
    )
