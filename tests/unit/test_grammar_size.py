"""Grammars stay linear in the size of the schema a client sends.

An object with many optional properties used to get one alternative per
property, each listing all the properties after it: 4,000 properties made a
350 MB grammar. Past a few members a chain of rules says the same thing.
"""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

import pytest

from tests.support.gbnf import Grammar
from wrappers.grammar import GrammarBuilder, json_call_grammar


def call_grammar(properties: dict[str, Any], required: list[str] | None = None) -> Grammar:
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        parameters["required"] = required
    text = json_call_grammar(
        [{"name": "f", "parameters": parameters}], prefix="<call>", suffix="</call>"
    )
    return Grammar(text)


def call(arguments: dict[str, Any]) -> str:
    return "<call>" + json.dumps({"name": "f", "arguments": arguments}) + "</call>"


@pytest.mark.parametrize("count", [3, 12])
def test_optional_properties_any_in_order_selection_matches(count: int) -> None:
    names = [f"p{i}" for i in range(count)]
    grammar = call_grammar({name: {"type": "integer"} for name in names})
    assert grammar.matches(call({}))
    for size in (1, 2, 3):
        for chosen in list(combinations(names, size))[:40]:
            assert grammar.matches(call({name: 1 for name in chosen})), chosen
    assert not grammar.matches(call({names[1]: 1, names[0]: 1}))  # order is the schema's
    assert not grammar.matches(call({names[0]: 1, names[0] + "x": 1}))
    assert not grammar.matches(call({names[0]: "text"}))


def test_a_required_property_then_many_optional_ones_match() -> None:
    names = [f"p{i}" for i in range(12)]
    grammar = call_grammar({name: {"type": "integer"} for name in names}, required=["p5"])
    assert grammar.matches(call({"p5": 1}))
    assert grammar.matches(call({"p5": 1, "p0": 2, "p11": 3}))
    assert not grammar.matches(call({"p0": 2}))


def test_thousands_of_optional_properties_make_a_grammar_linear_in_size() -> None:
    small = json_call_grammar(
        [{"name": "f", "parameters": {"properties": {f"p{i}": {} for i in range(100)}}}],
        prefix="<",
        suffix=">",
    )
    large = json_call_grammar(
        [{"name": "f", "parameters": {"properties": {f"p{i}": {} for i in range(4000)}}}],
        prefix="<",
        suffix=">",
    )
    assert len(large) < 60 * len(small)  # 40x the properties; quadratic was 1,600x
    assert len(large) < 2_000_000


def test_many_rule_names_that_clean_to_the_same_name_stay_unique() -> None:
    builder = GrammarBuilder()
    names = [builder.rule("!" * (i + 1), '"x"') for i in range(3000)]
    assert len(set(names)) == 3000
    assert names[:3] == ["r", "r-2", "r-3"]
    # An explicit name that a later suffix would take is skipped over.
    assert builder.rule("q-2", '"y"') == "q-2"
    assert builder.rule("q", '"y"') == "q"
    assert builder.rule("q", '"y"') == "q-3"
