"""The case-count report (``python -m tests.unit.case_counts``) covers every format."""

from __future__ import annotations

import pytest

from tests.unit.case_counts import FamilyCount, count_families, table
from wrappers.registry import list_wrappers


@pytest.fixture(scope="module")
def families() -> list[FamilyCount]:
    return count_families()


def test_every_tool_call_format_has_cases_of_its_own_and_they_pass(
    families: list[FamilyCount],
) -> None:
    own = {name for f in families if f.own for name in f.wrappers}
    formats = {e.name for e in list_wrappers() if e.family in ("tool-call", "fallback")}
    assert formats <= own, sorted(formats - own)
    assert [label for f in families for label in f.failures] == []


def test_the_table_has_a_row_per_family_and_a_total(families: list[FamilyCount]) -> None:
    rows = table(families).splitlines()
    assert len(rows) == 2 + len(families) + 1
    assert rows[-1].startswith("| **all** |")
    own, own_passed, shared, shared_passed = (
        int(cell) for cell in rows[-1].strip("| ").split(" | ")[1:]
    )
    assert (own, shared) == (sum(f.own for f in families), sum(f.shared for f in families))
    assert (own_passed, shared_passed) == (own, shared)
