"""Prometheus metrics (``GET /metrics``) and the request id of every answer.

One :class:`Metrics` per app, in its own registry (tests build many apps in
one process). Names are prefixed ``fcproxy_``:

==============================================  =========================================
``fcproxy_requests_total``                      answers, by route, model and status
``fcproxy_request_duration_seconds``            whole request, by route (streams: to the end)
``fcproxy_queue_wait_seconds``                  waiting for an upstream slot, by upstream
``fcproxy_upstream_duration_seconds``           one generation upstream, by upstream
``fcproxy_parse_duration_seconds``              parse + check of one output, by wrapper
``fcproxy_parse_outcomes_total``                by wrapper and outcome: ok, repaired,
                                                retried, failed, no_call
``fcproxy_attempts``                            generations per answered request
``fcproxy_upstream_errors_total``               failed upstream calls, by upstream
``fcproxy_upstream_in_flight`` / ``_queued``    the capacity gate's counts, by upstream
``fcproxy_upstream_up``                         1 while an upstream is in rotation
``fcproxy_tokens_total``                        by model and direction (prompt, completion)
==============================================  =========================================

Label values are bounded: routes are the app's route templates (anything else
is ``other``), models are the first :data:`MAX_MODEL_LABELS` names seen (then
``other``), upstreams are the redacted base URLs of the configured upstreams.

The request id (:class:`RequestContext`, an ASGI middleware): the client's own
``x-request-id`` when it sent a sane one (:data:`REQUEST_ID`), else a new one;
it is on every answer and, through :func:`current_request_id`, in every log
line written while the request runs.
"""

from __future__ import annotations

import contextvars
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A request id a client may choose: printable, no spaces, at most 128 characters.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-/+=@]{1,128}")
MAX_MODEL_LABELS = 100
#: Latency buckets, seconds: from a cached answer to a long generation.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
)  # fmt: skip
PARSE_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "fcproxy_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request this code runs for (None outside any request)."""
    return _request_id.get()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "fcproxy_requests", "Answers, by route, model and status.",
            ["route", "model", "status"], registry=r,
        )  # fmt: skip
        self.request_duration = Histogram(
            "fcproxy_request_duration_seconds", "Whole requests, by route.",
            ["route"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.queue_wait = Histogram(
            "fcproxy_queue_wait_seconds", "Time waiting for an upstream slot.",
            ["upstream"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.upstream_duration = Histogram(
            "fcproxy_upstream_duration_seconds", "One generation upstream (streams: to the end).",
            ["upstream"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.upstream_errors = Counter(
            "fcproxy_upstream_errors", "Upstream calls that failed (transport, timeout, status).",
            ["upstream"], registry=r,
        )  # fmt: skip
        self.parse_duration = Histogram(
            "fcproxy_parse_duration_seconds", "Parse and check of one output, by wrapper.",
            ["wrapper"], buckets=PARSE_BUCKETS, registry=r,
        )  # fmt: skip
        self.parse_outcomes = Counter(
            "fcproxy_parse_outcomes",
            "Outputs by wrapper and outcome: ok, repaired (JSON fixed up), retried "
            "(unusable, generated again), failed (unusable, answered with an error), "
            "no_call (answered as plain content).",
            ["wrapper", "outcome"], registry=r,
        )  # fmt: skip
        self.attempts = Histogram(
            "fcproxy_attempts", "Generations per answered chat request.",
            buckets=(1, 2, 3, 4, 5, 6), registry=r,
        )  # fmt: skip
        self.tokens = Counter(
            "fcproxy_tokens", "Tokens, by model and direction (prompt, completion).",
            ["model", "direction"], registry=r,
        )  # fmt: skip
        self._models: set[str] = set()
        self._children: dict[tuple[Any, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        """``metric.labels(*labels)``, looked up once per label set.

        prometheus_client checks and locks on every ``labels()`` call; a
        request makes eight. Label values are bounded (see the module's
        docstring), so this table is too.
        """
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def model_label(self, model: str | None) -> str:
        """``model`` as a label value, bounded in number (clients may send any name)."""
        if not model:
            return "-"
        if model in self._models:
            return model
        if len(self._models) < MAX_MODEL_LABELS and len(model) <= 100:
            self._models.add(model)
            return model
        return "other"

    # -- what the pipeline reports --------------------------------------------------

    def parsed(self, wrapper: str, outcome: str, seconds: float) -> None:
        self.child(self.parse_outcomes, wrapper, outcome).inc()
        self.child(self.parse_duration, wrapper).observe(seconds)

    def answered(
        self, model: str, attempts: int, prompt_tokens: int, completion_tokens: int
    ) -> None:
        label = self.model_label(model)
        self.attempts.observe(attempts)
        self.child(self.tokens, label, "prompt").inc(prompt_tokens)
        self.child(self.tokens, label, "completion").inc(completion_tokens)

    # -- what the upstream gates report -----------------------------------------------

    def queued(self, upstream: str, seconds: float) -> None:
        self.child(self.queue_wait, upstream).observe(seconds)

    def generated(self, upstream: str, seconds: float, ok: bool) -> None:
        self.child(self.upstream_duration, upstream).observe(seconds)
        if not ok:
            self.child(self.upstream_errors, upstream).inc()

    def watch_upstreams(
        self, upstreams: Callable[[], Iterable[tuple[str, dict[str, Any]]]]
    ) -> None:
        """Gauges read at scrape time: ``upstreams()`` yields (label, gate snapshot + ``up``)."""
        self.registry.register(_UpstreamGauges(upstreams))


class _UpstreamGauges(Collector):
    def __init__(self, upstreams: Callable[[], Iterable[tuple[str, dict[str, Any]]]]) -> None:
        self._upstreams = upstreams

    def collect(self) -> Iterable[Metric]:
        in_flight = GaugeMetricFamily(
            "fcproxy_upstream_in_flight", "Requests upstream now.", labels=["upstream"]
        )
        queued = GaugeMetricFamily(
            "fcproxy_upstream_queued", "Requests waiting for a slot.", labels=["upstream"]
        )
        up = GaugeMetricFamily(
            "fcproxy_upstream_up", "1 while the upstream is in rotation.", labels=["upstream"]
        )
        for label, snapshot in self._upstreams():
            in_flight.add_metric([label], snapshot.get("in_flight", 0))
            queued.add_metric([label], snapshot.get("queued", 0))
            up.add_metric([label], 1 if snapshot.get("up", True) else 0)
        return [in_flight, queued, up]

    def describe(self) -> Iterable[Metric]:
        return []


class RequestContext:
    """ASGI middleware: the request id (header and log lines), request counts and latency.

    The route label is the matched route's path template (``scope["route"]``,
    set by Starlette's router), ``other`` for unknown paths; the model label is
    what the route put in ``scope["state"]["fcproxy_model"]``.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or os.urandom(16).hex()
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"),
                    header,
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
            route = getattr(scope.get("route"), "path", None) or "other"
            state = scope.get("state") or {}
            model = self.metrics.model_label(state.get("fcproxy_model"))
            self.metrics.child(self.metrics.requests, route, model, str(status)).inc()
            self.metrics.child(self.metrics.request_duration, route).observe(
                time.perf_counter() - started
            )


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text if REQUEST_ID.fullmatch(text) else None
    return None
