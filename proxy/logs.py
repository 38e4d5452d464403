"""Log lines: text or JSON, each with the id of the request it was written for.

``configure_logging(level, "json")`` writes one JSON object a line::

    {"time": "2026-12-07T06:15:02.123Z", "level": "INFO", "logger": "fcproxy.pipeline",
     "request_id": "3f2a...", "message": "model=... calls=send_message ..."}

and ``"text"`` the same fields as one readable line. The request id comes
from :func:`proxy.metrics.current_request_id` (``-`` outside a request); a
log-record factory puts it on every record, uvicorn's and libraries' too.
Secrets are removed before either format sees a record: proxy/redaction.py's
record factory cleans the message, its arguments and the traceback text when
the record is made, and the JSON formatter only reads those.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from proxy.metrics import current_request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"

_factory_installed = False


def configure_logging(level: str, log_format: str = "text") -> None:
    install_request_id_factory()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's loggers bring their own handlers and formats: route them through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True


def install_request_id_factory() -> None:
    """Give every log record a ``request_id`` attribute (``-`` outside any request)."""
    global _factory_installed
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id() or "-"
        return record

    logging.setLogRecordFactory(make_record)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, request_id, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)
