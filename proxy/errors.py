"""One exception tree, each mapped to an OpenAI error envelope and status code.

Everything the server raises on purpose is a :class:`ProxyError`; ``app.py``
turns it into ``{"error": {"message", "type", "param", "code"}}``. Anything
else is a bug: it is logged with its traceback and answered with a 500 in the
same envelope, and the server keeps serving.
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """The configuration is wrong; the message tells the user what to fix.

    Raised at start-up (by config loading, routing, or a backend that cannot
    be set up), never while serving.
    """


class ProxyError(Exception):
    """Base of every error the server answers on purpose."""

    status_code: int = 500
    error_type: str = "server_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the envelope (``Retry-After``, ...)."""
        return {}

    def to_body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequestError(ProxyError):
    status_code = 400
    error_type = "invalid_request_error"


class ContextLengthExceeded(InvalidRequestError):
    """The prompt does not fit the model's context window.

    The message must contain "maximum context length": MemGPT matches that
    exact phrase to decide to summarize its memory and retry.
    """

    code = "context_length_exceeded"

    def __init__(
        self,
        *,
        context_window: int | None = None,
        prompt_tokens: int | None = None,
        detail: str | None = None,
    ) -> None:
        if context_window is not None and prompt_tokens is not None:
            message = (
                f"This model's maximum context length is {context_window} tokens. "
                f"However, your messages resulted in {prompt_tokens} tokens. "
                "Please reduce the length of the messages."
            )
        else:
            message = (
                "This model's maximum context length was exceeded: the upstream rejected "
                "the prompt as too long. Please reduce the length of the messages."
            )
        if detail:
            message += f" (upstream said: {detail[:300]})"
        super().__init__(message, param="messages")
        self.context_window = context_window
        self.prompt_tokens = prompt_tokens


class AuthenticationError(ProxyError):
    status_code = 401
    error_type = "invalid_request_error"
    code = "invalid_api_key"


class ModelNotFound(ProxyError):
    status_code = 404
    error_type = "invalid_request_error"
    code = "model_not_found"

    def __init__(self, model: str, available: list[str]) -> None:
        listed = ", ".join(available) if available else "(none)"
        super().__init__(
            f"The model {model!r} does not exist. Models served here: {listed}",
            param="model",
        )


class NotFound(ProxyError):
    status_code = 404
    error_type = "invalid_request_error"
    code = "not_found"


class UnsupportedMediaType(ProxyError):
    """A POST body that is not declared JSON (a form or text/plain: what a
    foreign web page can send without the browser asking first)."""

    status_code = 415
    error_type = "invalid_request_error"
    code = "unsupported_media_type"


class HostNotAllowed(InvalidRequestError):
    """The Host header names no host of ``allowed_hosts`` (DNS rebinding)."""

    code = "host_not_allowed"


class EmbeddingsNotSupported(InvalidRequestError):
    """The upstream behind this model cannot compute embeddings."""

    code = "embeddings_not_supported"


class RequestTimeout(ProxyError):
    """The client did not send its request body within ``body_timeout`` seconds.

    The connection is closed after the answer: what is left of the body may
    still be on its way, and reading it would hold the connection open again.
    """

    status_code = 408
    error_type = "invalid_request_error"
    code = "request_timeout"

    @property
    def headers(self) -> dict[str, str]:
        return {"Connection": "close"}


class UpstreamBusy(ProxyError):
    """The upstream's slots and its queue are full, or the queue wait ran out.

    OpenAI's own rate-limit answer (type ``requests``, code
    ``rate_limit_exceeded``), so clients that back off on it (the OpenAI SDK
    honours ``Retry-After``) do so here too.
    """

    status_code = 429
    error_type = "requests"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class TooManyConnections(ProxyError):
    """Every client connection slot is busy with a request (``max_client_connections``)."""

    status_code = 503
    error_type = "server_error"
    code = "too_many_connections"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1", "Connection": "close"}


class PayloadTooLarge(ProxyError):
    status_code = 413
    error_type = "invalid_request_error"
    code = "request_too_large"


class UpstreamError(ProxyError):
    """The upstream LLM server answered with an error or nonsense."""

    status_code = 502
    error_type = "upstream_error"
    code = "upstream_error"


class UpstreamUnavailable(UpstreamError):
    code = "upstream_unavailable"


class UpstreamTimeout(UpstreamError):
    status_code = 504
    code = "upstream_timeout"


class OutputParseError(UpstreamError):
    """The model's output holds no usable call although one was required."""

    code = "output_parse_error"

    def __init__(
        self, reason: str, raw: str, *, attempts: int = 1, expected: str = "a function call"
    ) -> None:
        head = raw[:500]
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"The model's output could not be parsed as {expected}{tried}: {reason}. "
            f"Start of the raw output: {head!r}"
        )
        self.reason = reason
        self.raw = raw
        self.attempts = attempts

    @property
    def headers(self) -> dict[str, str]:
        # As on a successful answer: how many generations the answer cost.
        return {"x-fcproxy-attempts": str(self.attempts)}
