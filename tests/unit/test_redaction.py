"""proxy/redaction.py: URL credentials and configured secrets out of text and log records."""

from __future__ import annotations

import base64
import logging
import sys
from typing import Any

import pytest

from proxy.config import ModelEntry, Settings
from proxy.redaction import REDACTED, Redactor, redact_record, redact_url, url_secrets

KEY = "sk-upstream-7f3a9c2e41"
PASSWORD = "hunter2-Secret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://bob:pw12@10.0.0.5:5000", f"http://bob:{REDACTED}@10.0.0.5:5000"),
        ("https://bob:pw12@host/v1?x=1", f"https://bob:{REDACTED}@host/v1?x=1"),
        ("https://tok3n-only@host", f"https://{REDACTED}@host"),
        # httpx reads the userinfo up to the last "@": so must we, or "ss" stays.
        ("http://bob:p@ss@host:1", f"http://bob:{REDACTED}@host:1"),
        ("http://bob:p%40ss@host", f"http://bob:{REDACTED}@host"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("http://host/path@not-userinfo", "http://host/path@not-userinfo"),
        (
            "at http://a:b1@h1/x and http://c:d2@h2 too",
            f"at http://a:{REDACTED}@h1/x and http://c:{REDACTED}@h2 too",
        ),
        ("mail bob@example.com", "mail bob@example.com"),
    ],
)
def test_redact_url_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_secrets_include_the_basic_token_a_client_sends() -> None:
    found = url_secrets("http://bob:p%40ss-word@host")
    assert "p%40ss-word" in found and "p@ss-word" in found
    assert base64.b64encode(b"bob:p@ss-word").decode() in found
    assert url_secrets("http://host:1") == []
    assert url_secrets(None) == []


def test_redactor_replaces_every_configured_secret() -> None:
    settings = Settings(
        upstream=f"http://bob:{PASSWORD}@127.0.0.1:5000",
        upstream_api_key=KEY,
        api_keys=["client-key-1"],
        models=[
            ModelEntry(name="m", upstream="http://eve:other-pass@h:1", upstream_api_key="sk-m-999")
        ],
    )
    redactor = Redactor.from_settings(settings)
    basic = base64.b64encode(f"bob:{PASSWORD}".encode()).decode()
    text = f"echo: Bearer {KEY}; Basic {basic}; pw {PASSWORD}; other-pass; sk-m-999; client-key-1"
    redacted = redactor.redact(text)
    for secret in (KEY, basic, PASSWORD, "other-pass", "sk-m-999", "client-key-1"):
        assert secret not in redacted
    assert redacted.startswith(f"echo: Bearer {REDACTED}; Basic {REDACTED}; pw {REDACTED}")


def test_a_secret_cut_off_by_a_quote_limit_is_redacted_too() -> None:
    # Upstream quotes are cut to a few hundred characters: the cut may halve a key.
    redactor = Redactor([KEY])
    quoted = ("x" * 20 + KEY)[:30]
    assert KEY[:10] in quoted
    assert redactor.redact(quoted) == "x" * 20 + REDACTED
    # A start shorter than 8 characters is not worth hiding (nor findable safely).
    assert redactor.redact("sk-ups") == "sk-ups"


def test_short_secrets_are_not_searched_for_in_text() -> None:
    assert Redactor(["ab"]).redact("a cab") == "a cab"


def test_redact_json_reaches_nested_strings() -> None:
    body = {"error": {"message": f"saw {KEY}", "code": None, "list": [KEY, 1]}}
    assert Redactor([KEY]).redact_json(body) == {
        "error": {"message": f"saw {REDACTED}", "code": None, "list": [REDACTED, 1]}
    }


def record(
    msg: str, args: tuple[object, ...] | None = None, exc_info: Any = None
) -> logging.LogRecord:
    return logging.LogRecord("fcproxy.test", logging.INFO, __file__, 1, msg, args, exc_info)


def test_log_record_with_text_arguments_keeps_its_shape() -> None:
    # uvicorn's access formatter unpacks record.args: they must stay a tuple.
    rec = record('%s - "%s %s" %d', ("127.0.0.1:5", "GET", f"/x?k={KEY}", 200))
    redact_record(rec, Redactor([KEY]))
    assert isinstance(rec.args, tuple) and len(rec.args) == 4
    assert rec.getMessage() == f'127.0.0.1:5 - "GET /x?k={REDACTED}" 200'


def test_log_record_with_a_secret_in_an_object_argument_is_flattened() -> None:
    error = ValueError(f"cannot reach http://bob:{PASSWORD}@h:1")
    rec = record("failed: %r (%s)", (error, 3))
    redact_record(rec, Redactor([PASSWORD]))
    assert PASSWORD not in rec.getMessage()
    assert f"bob:{REDACTED}@h:1" in rec.getMessage()


def test_log_record_traceback_text_is_redacted() -> None:
    try:
        raise RuntimeError(f"upstream said Bearer {KEY}")
    except RuntimeError:
        rec = record("boom", None, sys.exc_info())
    redact_record(rec, Redactor([KEY]))
    formatted = logging.Formatter().format(rec)
    assert KEY not in formatted and "RuntimeError" in formatted and REDACTED in formatted


def test_log_record_without_secrets_is_left_alone() -> None:
    rec = record("listening on %s:%d", ("127.0.0.1", 8000))
    redact_record(rec, Redactor([KEY]))
    assert rec.msg == "listening on %s:%d" and rec.args == ("127.0.0.1", 8000)
