"""``response_format``: the answer's content is JSON, valid against a schema.

OpenAI's three shapes::

    {"type": "text"}                                   nothing to do
    {"type": "json_object"}                            any JSON object
    {"type": "json_schema", "json_schema": {"name": "person", "strict": true,
        "schema": {"type": "object", "properties": {...}, ...}}}

:func:`response_format_of` reads and checks the request's (a 400 naming
``response_format`` for a refused schema, the same checks as tool schemas);
:func:`with_instruction` states the schema in the system prompt, as llama.cpp
and Ollama users do by hand, since a constraint without instructions makes a
small model write filler; :func:`read_content` finds the JSON in an answer and
says what is wrong with it (the field, for a schema error), for the re-ask.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema

from proxy.errors import InvalidRequestError
from proxy.tool_schemas import SchemaRefused, check_schema, schema_validator
from wrappers.base import Message
from wrappers.json_schema_grammar import JSON_OBJECT_SCHEMA

Kind = Literal["json_object", "json_schema"]

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


@dataclass(frozen=True)
class ResponseFormat:
    """What the content must be: any JSON object, or JSON valid against ``schema``."""

    kind: Kind
    schema: dict[str, Any]
    name: str = "response"
    strict: bool = False

    @property
    def schema_json(self) -> str:
        return json.dumps(self.schema, ensure_ascii=False)


@dataclass(frozen=True)
class ContentReading:
    """An answer's content read as the response format asks.

    ``text``: the JSON alone (prose or code fences around it dropped) when it
    validates; ``problem``: why it is not usable, naming the field.
    """

    text: str | None
    problem: str | None = None


def response_format_of(raw: Any) -> ResponseFormat | None:
    """The request's ``response_format``, checked; None for absent or ``text``."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidRequestError("'response_format' must be an object.", param="response_format")
    kind = raw.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return ResponseFormat("json_object", JSON_OBJECT_SCHEMA)
    if kind != "json_schema":
        raise InvalidRequestError(
            f"Unsupported response_format type {kind!r}: use 'text', 'json_object' or "
            "'json_schema'.",
            param="response_format.type",
        )
    spec = raw.get("json_schema")
    if not isinstance(spec, dict):
        raise InvalidRequestError(
            "response_format 'json_schema' needs a 'json_schema' object with 'name' and 'schema'.",
            param="response_format.json_schema",
        )
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise InvalidRequestError(
            "response_format.json_schema.schema must be a JSON schema object.",
            param="response_format.json_schema.schema",
        )
    try:
        # The same checks as a tool's parameters: local $refs only, size, validity.
        check_schema(schema)
    except SchemaRefused as exc:
        raise InvalidRequestError(
            f"The response_format schema {exc}.", param="response_format.json_schema.schema"
        ) from None
    name = spec.get("name")
    return ResponseFormat(
        "json_schema",
        schema or JSON_OBJECT_SCHEMA,
        name=name if isinstance(name, str) and name else "response",
        strict=spec.get("strict") is True,
    )


def instruction(fmt: ResponseFormat) -> str:
    """The system-prompt sentence that asks for the format."""
    if fmt.kind == "json_object":
        return "Answer with one JSON object only, no other text."
    return (
        "Answer with one JSON value only, no other text, valid against this JSON schema "
        f"({fmt.name}):\n{fmt.schema_json}"
    )


def with_instruction(messages: list[Message], fmt: ResponseFormat) -> list[Message]:
    """``messages`` with the format's instruction at the end of the first system message
    (or in a new one at the start)."""
    text = instruction(fmt)
    out = [dict(m) for m in messages]
    for message in out:
        if message.get("role") == "system":
            content = message.get("content") or ""
            message["content"] = f"{content}\n\n{text}" if content else text
            return out
    return [{"role": "system", "content": text}, *out]


def read_content(content: str | None, fmt: ResponseFormat) -> ContentReading:
    """The JSON in ``content`` and whether it is usable under ``fmt``."""
    text = (content or "").strip()
    if not text:
        return ContentReading(None, "the answer is empty; a JSON value was asked for")
    value, problem, direct = _json_in(text)
    if problem is not None:
        return ContentReading(content, problem)
    if fmt.kind == "json_object" and not isinstance(value, dict):
        return ContentReading(content, "the answer is JSON but not a JSON object")
    error = schema_error(fmt.schema, value)
    if error is not None:
        return ContentReading(content, f"the answer does not match the schema: {error}")
    # JSON as written stays as written (a stream sent it so); JSON found
    # inside prose or a fence is the answer alone.
    return ContentReading(text if direct else json.dumps(value, ensure_ascii=False))


def schema_error(schema: Any, value: Any) -> str | None:
    """The most relevant reason ``value`` breaks ``schema``, naming where (``$.age``)."""
    validator = schema_validator(schema)
    if validator is None:
        return None
    try:
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except (RecursionError, jsonschema.exceptions.SchemaError):
        return None
    except Exception:  # a schema fcproxy cannot check (unresolvable, bad pattern)
        return None
    if error is None:
        return None
    return f"at {error.json_path}: {error.message}"


def _json_in(text: str) -> tuple[Any, str | None, bool]:
    """The JSON value ``text`` is, or holds (inside a code fence or after prose);
    the problem if none; whether ``text`` is that JSON as it stands."""
    fenced = _FENCE.match(text)
    candidate = fenced.group(1).strip() if fenced else text
    try:
        return json.loads(candidate), None, not fenced
    except json.JSONDecodeError as exc:
        first_error = f"the answer is not valid JSON: {exc}"
    except RecursionError:
        return None, "the answer is nested too deeply to read", False
    # Prose around one JSON value ("Here it is: {...}"): take the value.
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[{\[]", candidate):
        try:
            value, _ = decoder.raw_decode(candidate, match.start())
        except (json.JSONDecodeError, RecursionError):
            continue
        return value, None, False
    return None, first_error, False
