"""Two JSON calls every vLLM test of a JSON-call parser writes (and their arguments).

vLLM's tests of its JSON-call parsers (granite, granite_20b_fc, internlm2,
longcat, ...; each test module here cites its own file) wrap the same two
pretty-printed calls in their format's markers: one with a value of every JSON
type, one with strings that need escaping. The call texts below are those
outputs' JSON, as vLLM writes it; ``key`` is ``parameters`` where the format
says so (InternLM2).
"""

from __future__ import annotations

from typing import Any

#: The arguments of vLLM's "various data types" output, without its two empty containers
#: (some parsers' tests leave them out).
VARIOUS_TYPES: dict[str, Any] = {
    "string_field": "hello",
    "int_field": 42,
    "float_field": 3.14,
    "bool_field": True,
    "null_field": None,
    "array_field": ["a", "b", "c"],
    "object_field": {"nested": "value"},
}
#: ... and with them.
VARIOUS_TYPES_AND_EMPTY: dict[str, Any] = {**VARIOUS_TYPES, "empty_array": [], "empty_object": {}}

#: The arguments of vLLM's "escaped strings" output.
ESCAPED_STRINGS: dict[str, Any] = {
    "quoted": 'He said "hello"',
    "path": "C:\\Users\\file.txt",
    "newline": "line1\nline2",
    "unicode": "emoji: 🎉",
}


def various_types_call(key: str = "arguments") -> str:
    """vLLM's "various data types" call (with the empty containers), as vLLM writes it."""
    return (
        '{\n  "name": "test_function",\n  "' + key + '": {\n'
        '    "string_field": "hello",\n    "int_field": 42,\n    "float_field": 3.14,\n'
        '    "bool_field": true,\n    "null_field": null,\n    "array_field": ["a", "b", "c"],\n'
        '    "object_field": {"nested": "value"},\n    "empty_array": [],\n'
        '    "empty_object": {}\n  }\n}'
    )


def escaped_strings_call(key: str = "arguments") -> str:
    """vLLM's "escaped strings" call, as vLLM writes it."""
    return (
        '{\n  "name": "test_function",\n  "' + key + '": {\n'
        '    "quoted": "He said \\"hello\\"",\n    "path": "C:\\\\Users\\\\file.txt",\n'
        '    "newline": "line1\\nline2",\n    "unicode": "emoji: 🎉"\n  }\n}'
    )
