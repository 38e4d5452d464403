"""Request bodies: nesting bounded before decoding, strict JSON, lone surrogates replaced."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from proxy.errors import InvalidRequestError
from proxy.json_body import (
    MAX_JSON_DEPTH,
    _plain_value,
    nesting_exceeds,
    read_json_body,
    replace_lone_surrogates,
    value_nesting_exceeds,
)


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def random_json(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 12 or roll < 0.3:
        return rng.choice([1, "a[b]{c}", '\\"[', None, True, "", "}}}"])
    if roll < 0.65:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{i}[": random_json(rng, depth + 1) for i in range(rng.randrange(4))}


@pytest.mark.parametrize("seed", range(200))
def test_nesting_check_agrees_with_the_real_depth(seed: int) -> None:
    value = random_json(random.Random(seed))
    text = json.dumps(value)
    depth = depth_of(value)
    for limit in (max(depth - 1, 0), depth, depth + 1):
        assert nesting_exceeds(text, limit) == (depth > limit), (limit, text)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ('{"a": "[[[[[[[[["}', 1, False),  # brackets inside strings do not count
        ('{"a": "\\"[[[["}', 1, False),  # nor after an escaped quote
        ("[[[]]]", 2, True),
        ("[[[]]]", 3, False),
        ("[{}, [{}], {}]", 2, True),
        ("[{}, [{}], {}]", 3, False),
        ("[" * 10_000, 64, True),  # unclosed: as deep as it goes
        ("]]]]", 1, False),  # nonsense: for the decoder to reject
        ('"unterminated [[[[', 1, False),
    ],
)
def test_nesting_check_cases(text: str, limit: int, expected: bool) -> None:
    assert nesting_exceeds(text, limit) is expected


def test_a_body_at_the_limit_is_read_and_one_level_more_is_refused() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert depth_of(read_json_body(at_limit.encode()).value) == MAX_JSON_DEPTH
    with pytest.raises(InvalidRequestError, match=f"more than {MAX_JSON_DEPTH} levels"):
        read_json_body(b"[" + at_limit.encode() + b"]")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "empty"),
        (b"{", "not valid JSON"),
        (b'{"a": NaN}', "NaN is not a JSON value"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"a": 1' + b"0" * 5000 + b"}", "a number has more than 4300 digits"),
        (b'{"a": "\xff"}', "not valid JSON"),
        (b"[" * 100_000, "levels"),
    ],
)
def test_unusable_bodies_are_invalid_request_errors(raw: bytes, expected: str) -> None:
    with pytest.raises(InvalidRequestError, match=expected):
        read_json_body(raw)


def test_utf16_and_bom_bodies_still_decode() -> None:
    assert read_json_body('{"a": "é"}'.encode("utf-16")).value == {"a": "é"}
    assert read_json_body(b'\xef\xbb\xbf{"a": 1}').value == {"a": 1}


def test_lone_surrogates_are_replaced_and_counted() -> None:
    raw = b'{"a\\udc00": ["\\ud800", {"b": "x\\udfffy"}], "pair": "\\ud83d\\ude00"}'
    body = read_json_body(raw)
    assert body.value == {"a\ufffd": ["\ufffd", {"b": "x\ufffdy"}], "pair": "\U0001f600"}
    assert body.replaced_surrogates == 3
    assert body.warning is not None and "3 lone UTF-16 surrogate" in body.warning
    json.dumps(body.value, ensure_ascii=False).encode("utf-8")  # encodable now


def test_a_body_without_surrogates_has_no_warning() -> None:
    body = read_json_body(b'{"text": "\\\\ud800 is only text", "pair": "\\ud83d\\ude00"}')
    assert body.value == {"text": "\\ud800 is only text", "pair": "\U0001f600"}
    assert body.replaced_surrogates == 0 and body.warning is None


def test_replace_lone_surrogates_walks_deep_values_without_recursion() -> None:
    value: Any = "\ud800"
    for _ in range(5000):
        value = [value]
    cleaned, count = replace_lone_surrogates(value)
    assert count == 1
    for _ in range(5000):
        cleaned = cleaned[0]
    assert cleaned == "\ufffd"


@pytest.mark.parametrize("seed", range(50))
def test_value_nesting_check_agrees_with_the_real_depth(seed: int) -> None:
    value = random_json(random.Random(seed))
    depth = depth_of(value)
    for limit in (max(depth - 1, 0), depth, depth + 1):
        assert value_nesting_exceeds(value, limit) == (depth > limit)
        if limit >= 1:  # the fast path's walk (limit 0 never occurs there)
            assert _plain_value(value, limit) == (depth <= limit)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"seed": 123456789012345678901234567890}',
        b'{"seed": -9223372036854775809, "n": [18446744073709551616]}',
        b'{"x": 1e19, "y": 9223372036854775807}',
        b'{"a": "\\ud83d\\ude00", "b": [1.5, true, null]}',
    ],
)
def test_the_fast_decoder_reads_every_value_as_the_standard_library_does(raw: bytes) -> None:
    value = read_json_body(raw).value
    assert value == json.loads(raw)
    assert [type(v) for v in value.values()] == [type(v) for v in json.loads(raw).values()]
