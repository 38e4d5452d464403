"""wrappers/json_key.py: cache keys of per-tools work, remembered for unchanging values."""

from __future__ import annotations

import json

import pytest

from wrappers import json_key as module
from wrappers.json_key import json_key, unchanging


@pytest.mark.parametrize(
    "value",
    [
        {"b": 1, "a": [1, 2.5, None, True, "é"]},
        [{"name": "f", "parameters": {"type": "object"}}],
        {"big": 2**70},  # past orjson's integers: the standard library writes it
        "\ud800",  # a lone surrogate: orjson refuses it
    ],
)
def test_a_key_loads_back_to_the_value(value: object) -> None:
    assert json.loads(json_key(value)) == value
    assert json.loads(json_key(value, sort_keys=True)) == value


def test_sort_keys_makes_key_order_irrelevant() -> None:
    assert json_key({"a": 1, "b": 2}, sort_keys=True) == json_key({"b": 2, "a": 1}, sort_keys=True)
    assert json_key({"a": 1, "b": 2}) != json_key({"b": 2, "a": 1})


def test_an_unchanging_value_is_written_once_per_key_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    functions = [{"name": "f", "parameters": {"type": "object", "properties": {}}}]
    unchanging(functions)
    written: list[object] = []
    real_text = module._text

    def counting_text(value: object, sort_keys: bool) -> str:
        written.append(value)
        return real_text(value, sort_keys)

    monkeypatch.setattr(module, "_text", counting_text)
    first = json_key(functions)
    assert json_key(functions) == first and json_key(functions) is first
    assert json_key(functions, sort_keys=True) == json_key(functions, sort_keys=True)
    assert len(written) == 2  # once unsorted, once sorted
    # An equal but other object is written afresh: only the promised one is remembered.
    assert json_key([dict(functions[0])]) == first
    assert len(written) == 3


def test_only_the_latest_unchanging_values_are_held(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "MAX_UNCHANGING", 3)
    monkeypatch.setattr(module, "_UNCHANGING", {})
    values = [[index] for index in range(5)]
    unchanging(*values)
    assert [held for held, _ in module._UNCHANGING.values()] == values[2:]
    assert json_key(values[0]) == "[0]"  # forgotten, still keyed correctly
