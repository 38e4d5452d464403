"""What each table of a format's cases means, checked for every tool-call format.

A format's test module (``tests/unit/test_format_*.py``) holds its case
tables, each row citing its source, and only what is specific to it
(rendering goldens, registration, detection). The behaviour every format
shares is checked here, once, for all of them:

- ``REAL_OUTPUTS`` / ``MESSY_OUTPUTS`` (``(id, raw, content, calls)``): the
  wrapper reads exactly that content and those calls (arguments typed by the
  module's ``FUNCTIONS``): clean outputs, parallel calls, and the messy ones;
- ``NO_CALLS`` (``(id, raw)``): the whole answer is content, no call;
- ``BROKEN`` (``(id, raw)``): a call is there but unreadable: the parser
  raises, so that the pipeline retries;
- ``REASONING`` (``(id, raw, reasoning, content, calls)``): reasoning is set
  aside, and a call written inside it is never taken.

tests/unit/test_stream_contract.py feeds the same tables to the streaming
parser, and tests/unit/test_tolerance.py holds the messy classes every
format forgives. vLLM's ``tests/tool_parsers/utils.py`` is the model: one
case table per format, one runner for all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.unit.tool_call_conversation import FUNCTIONS as CONVERSATION_FUNCTIONS
from tests.unit.tool_format_cases import (
    assert_broken,
    assert_reads,
    assert_reads_reasoning,
)
from wrappers.registry import get_wrapper

HERE = Path(__file__).resolve().parent


def _modules() -> Iterator[ModuleType]:
    for path in sorted(HERE.glob("test_format_*.py")):
        module = importlib.import_module(f"tests.unit.{path.stem}")
        if getattr(module, "NAME", None) or getattr(module, "NAMES", None):
            yield module


def _params(table_names: tuple[str, ...], width: int) -> list[Any]:
    params = []
    for module in _modules():
        functions = getattr(module, "FUNCTIONS", CONVERSATION_FUNCTIONS)
        for table_name in table_names:
            # TABLE_WRAPPERS: a table that holds one of the module's formats only.
            names = getattr(module, "TABLE_WRAPPERS", {}).get(table_name) or (
                getattr(module, "NAMES", None) or [module.NAME]
            )
            for row in getattr(module, table_name, None) or []:
                if not isinstance(row, tuple) or len(row) != width:
                    continue
                for name in names:
                    params.append(
                        pytest.param(name, functions, *row[1:], id=f"{name}:{table_name}:{row[0]}")
                    )
    return params


@pytest.mark.parametrize(
    ("name", "functions", "raw", "content", "calls"),
    _params(("REAL_OUTPUTS", "MESSY_OUTPUTS"), 4),
)
def test_reads_the_calls_and_content_of_each_output(
    name: str, functions: Any, raw: str, content: str | None, calls: Any
) -> None:
    assert_reads(name, raw, content, calls, functions)


@pytest.mark.parametrize(("name", "functions", "raw"), _params(("NO_CALLS",), 2))
def test_an_answer_without_a_call_is_all_content(name: str, functions: Any, raw: str) -> None:
    wrapper = get_wrapper(name)
    expected = raw.strip()
    for token in getattr(wrapper, "stop", ()):
        expected = expected.removesuffix(token).rstrip()  # end-of-turn tokens are not content
    assert_reads(name, raw, expected, [], functions)


@pytest.mark.parametrize(("name", "functions", "raw"), _params(("BROKEN",), 2))
def test_an_unreadable_call_raises_so_the_pipeline_retries(
    name: str, functions: Any, raw: str
) -> None:
    assert_broken(name, raw)


@pytest.mark.parametrize(
    ("name", "functions", "raw", "reasoning", "content", "calls"), _params(("REASONING",), 5)
)
def test_reasoning_is_set_aside_and_calls_in_it_are_not_taken(
    name: str, functions: Any, raw: str, reasoning: str | None, content: str | None, calls: Any
) -> None:
    assert_reads_reasoning(name, raw, reasoning, content, calls, functions)
