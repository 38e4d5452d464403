"""Keep configured secrets out of everything fcproxy shows: answers, logs, ``doctor``.

The secrets are the upstream API keys, the credentials in upstream URLs
(``http://user:password@host``) and the clients' API keys. They reach text in
two ways: fcproxy itself names the upstream URL (error messages, ``/health``,
start-up logs), and an upstream may echo a request header in its error body
(then its ``Authorization`` holds the key, or the URL's password in base64)::

    redact_url("http://bob:hunter2@10.0.0.5:5000")    # "http://bob:[redacted]@10.0.0.5:5000"
    redactor = Redactor.from_settings(settings)
    redactor.redact('401 {"seen": "Bearer sk-live-4242"}')  # '401 {"seen": "Bearer [redacted]"}'

Redaction happens at a few chokepoints rather than at every message: a
backend's ``base_url`` is already the redacted URL, error bodies and
``/health`` pass through the app's :class:`Redactor` on the way out, ``fcproxy
doctor`` redacts its report, and :func:`install_log_redaction` cleans every
log record of the process (fcproxy's, uvicorn's, httpx's) as it is created.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from proxy.config import Settings

#: What stands where a secret was.
REDACTED = "[redacted]"
#: Shorter "secrets" are not searched for in free text: a 2-character key
#: would blank out every word containing it. (They are still cut out of URLs.)
MIN_SECRET_LENGTH = 4
#: Quotes of upstream text are cut to a few hundred characters, which can cut a
#: secret too; a cut-off start of a secret this long or longer is redacted as well.
MIN_PREFIX_LENGTH = 8

# scheme://userinfo@ — the userinfo runs to the last "@" before the host
# ends (as httpx parses it, so "p@ss" in a password does not leave "ss" behind).
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@")


def redact_url(url: str) -> str:
    """``url`` with its password (or a lone user name, often a token) replaced.

    ``http://bob:pw@host`` -> ``http://bob:[redacted]@host``;
    ``https://token@host`` -> ``https://[redacted]@host``. Also does this for
    every URL inside a longer text.
    """
    return _URL_USERINFO.sub(_redact_userinfo, url)


def _redact_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    shown = f"{user}:{REDACTED}" if colon else REDACTED
    return f"{match['scheme']}{shown}@"


def url_secrets(url: str | None) -> list[str]:
    """The secrets a URL carries: its password (as written and decoded), a lone
    user name, and the ``Basic`` token an HTTP client makes of them."""
    if not url:
        return []
    match = _URL_USERINFO.search(url)
    if match is None:
        return []
    user, colon, password = match["userinfo"].partition(":")
    if not colon:
        return [user, unquote(user)]
    basic = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    return [password, unquote(password), basic]


class Redactor:
    """Replaces known secrets, and the credentials of any URL, in text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        known = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        self.secrets: frozenset[str] = frozenset(known)
        # A secret is found by its head (the whole of a short one), then
        # followed as far as the text goes on with it.
        self._by_head: dict[str, list[str]] = {}
        for secret in known:
            self._by_head.setdefault(secret[:MIN_PREFIX_LENGTH], []).append(secret)
        heads = sorted(self._by_head, key=len, reverse=True)
        self._heads = re.compile("|".join(map(re.escape, heads))) if heads else None

    @classmethod
    def for_upstream(cls, url: str | None, api_key: str | None = None) -> Redactor:
        """The secrets of one upstream: its key and its URL's credentials."""
        return cls([api_key, *url_secrets(url)])

    @classmethod
    def from_settings(cls, settings: Settings) -> Redactor:
        """Every secret the settings hold: upstream keys and URLs (the model
        table's too) and the clients' API keys."""
        found: list[str | None] = [settings.upstream_api_key, *settings.api_keys]
        found += url_secrets(settings.upstream)
        for entry in settings.models:
            found.append(entry.upstream_api_key)
            found += url_secrets(entry.upstream)
        return cls(found)

    def merged(self, other: Redactor) -> Redactor:
        return Redactor(self.secrets | other.secrets)

    def redact(self, text: str) -> str:
        text = redact_url(text)
        if self._heads is None:
            return text
        parts: list[str] = []
        pos = 0
        while (match := self._heads.search(text, pos)) is not None:
            start = match.start()
            end = max(
                start + _common_prefix_length(text, start, secret)
                for secret in self._by_head[match.group()]
            )
            parts += [text[pos:start], REDACTED]
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def redact_json(self, value: Any) -> Any:
        """``value`` (JSON-like: dicts, lists, strings) with every string redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {key: self.redact_json(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        return value


def _common_prefix_length(text: str, start: int, secret: str) -> int:
    length = 0
    for ours, theirs in zip(text[start : start + len(secret)], secret, strict=False):
        if ours != theirs:
            break
        length += 1
    return length


# ---- logs ---------------------------------------------------------------------

_log_lock = threading.Lock()
_log_redactor: Redactor | None = None


def install_log_redaction(redactor: Redactor) -> None:
    """Redact ``redactor``'s secrets (and URL credentials) in every log record.

    A record factory rather than a filter: a filter on a logger misses the
    records its child loggers propagate, and one on a handler misses handlers
    installed later (uvicorn's, pytest's). Each call adds its secrets to those
    of earlier calls (one process may serve several apps, as the tests do).
    """
    global _log_redactor
    with _log_lock:
        if _log_redactor is None:
            _log_redactor = redactor
            previous = logging.getLogRecordFactory()

            def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                if _log_redactor is not None:
                    redact_record(record, _log_redactor)
                return record

            logging.setLogRecordFactory(make_record)
        else:
            _log_redactor = _log_redactor.merged(redactor)


def redact_record(record: logging.LogRecord, redactor: Redactor) -> None:
    """Redact a log record's message, arguments and traceback text in place."""
    try:
        message = record.getMessage()
    except Exception:
        return  # a broken format string: logging reports it when the record is emitted
    if redactor.redact(message) != message:
        _redact_message(record, redactor)
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        redacted = redactor.redact(text)
        if redacted != text:
            record.exc_text = redacted
    if record.stack_info:
        record.stack_info = redactor.redact(record.stack_info)


def _redact_message(record: logging.LogRecord, redactor: Redactor) -> None:
    # Redacting each argument keeps the record's shape, which formatters that
    # read the arguments need (uvicorn's access log unpacks them); when a secret
    # hides in a non-text argument (an exception, a URL object), the formatted
    # message replaces the format string and its arguments.
    msg = redactor.redact(record.msg) if isinstance(record.msg, str) else record.msg
    args = record.args
    if isinstance(args, tuple):
        args = tuple(redactor.redact(a) if isinstance(a, str) else a for a in args)
    elif isinstance(args, dict):
        args = {k: redactor.redact(v) if isinstance(v, str) else v for k, v in args.items()}
    try:
        formatted = str(msg) % args if args else str(msg)
    except Exception:
        formatted = None
    if formatted is not None and redactor.redact(formatted) == formatted:
        record.msg, record.args = msg, args
    else:
        record.msg, record.args = redactor.redact(record.getMessage()), None
