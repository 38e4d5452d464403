"""response_format reading (proxy/structured.py), the re-ask turn (proxy/reask.py)
and usage summed over attempts."""

from __future__ import annotations

import pytest

from proxy.errors import InvalidRequestError
from proxy.pipeline import sum_usage
from proxy.reask import MAX_SHOWN_CHARS, reask_messages
from proxy.structured import read_content, response_format_of, with_instruction
from proxy.usage import Usage

PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
FMT = response_format_of({"type": "json_schema", "json_schema": {"name": "p", "schema": PERSON}})


def test_text_and_absent_formats_ask_for_nothing() -> None:
    assert response_format_of(None) is None
    assert response_format_of({"type": "text"}) is None


@pytest.mark.parametrize(
    ("content", "text", "problem"),
    [
        ('{"name": "A", "age": 3}', '{"name": "A", "age": 3}', None),
        ('```json\n{"name": "A", "age": 3}\n```', '{"name": "A", "age": 3}', None),
        ('Here: {"name": "A", "age": 3} ok?', '{"name": "A", "age": 3}', None),
        ('{"name": "A"}', None, "at $: 'age' is a required property"),
        ('{"name": "A", "age": "x"}', None, "at $.age: 'x' is not of type 'integer'"),
        ("no json", None, "not valid JSON"),
        ("", None, "empty"),
    ],
)
def test_read_content_finds_the_json_and_names_the_field_at_fault(
    content: str, text: str | None, problem: str | None
) -> None:
    assert FMT is not None
    reading = read_content(content, FMT)
    if problem is None:
        assert (reading.text, reading.problem) == (text, None)
    else:
        assert reading.problem is not None and problem in reading.problem


def test_json_object_wants_an_object() -> None:
    fmt = response_format_of({"type": "json_object"})
    assert fmt is not None
    assert read_content("[1, 2]", fmt).problem == "the answer is JSON but not a JSON object"
    assert read_content('{"a": 1}', fmt).problem is None


def test_the_instruction_joins_the_system_message_or_starts_one() -> None:
    assert FMT is not None
    joined = with_instruction([{"role": "system", "content": "Be brief."}], FMT)
    assert joined[0]["content"].startswith("Be brief.\n\n") and '"age"' in joined[0]["content"]
    started = with_instruction([{"role": "user", "content": "hi"}], FMT)
    assert [m["role"] for m in started] == ["system", "user"]


def test_a_refused_schema_is_a_400_naming_the_schema() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        response_format_of(
            {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "file:///x"}}}
        )
    assert caught.value.param == "response_format.json_schema.schema"


def test_the_reask_shows_the_answer_and_what_was_wrong() -> None:
    messages = reask_messages(
        [{"role": "user", "content": "q"}],
        "x" * (MAX_SHOWN_CHARS + 50),
        "at $.age: wrong",
        functions=[{"name": "f"}],
        call_required=True,
        wants_json=False,
    )
    assistant, user = messages[-2:]
    assert assistant["role"] == "assistant" and len(assistant["content"]) < MAX_SHOWN_CHARS + 10
    assert "at $.age: wrong" in user["content"] and "(f)" in user["content"]


def test_usage_sums_every_attempt() -> None:
    total = sum_usage([Usage(10, 5, "upstream"), Usage(20, 7, "upstream")])
    assert (total.prompt_tokens, total.completion_tokens, total.source) == (30, 12, "upstream")
    assert sum_usage([Usage(1, 1, "upstream"), Usage(1, 1, "estimate")]).source == "estimate"
