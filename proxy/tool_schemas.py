"""The client's tool schemas, checked once before anything uses them.

A tool's ``parameters`` is a JSON schema written by the client, and three
parts of fcproxy walk it: the argument check (jsonschema), the grammar builder
(``wrappers/grammar.py``) and the prompt renderers of the wrappers. So the
schema is the client's input twice over, and :func:`check_function_schemas`
makes sure none of them can be turned against the server:

- **No reference leaves the schema.** ``$ref``, ``$dynamicRef`` and
  ``$recursiveRef`` must start with ``#`` (``#/$defs/x``, ``#/definitions/x``,
  ``#anchor``). jsonschema resolves any other reference by fetching it — an
  ``http://`` URL from inside the operator's network, a ``file://`` path from
  the server's disk — and its content can come back in a warning header. The
  rule holds for every ``$ref`` string anywhere in the schema, data included
  (an ``enum`` value shaped like a reference is refused too): simple to state,
  nothing to get wrong. As a second wall, the validator's registry refuses to
  retrieve anything (:data:`NO_RETRIEVAL`).
- **Bounded size.** At most :data:`MAX_SCHEMA_DEPTH` levels of nesting per
  schema and :data:`MAX_SCHEMA_OBJECTS` objects in all a request's schemas:
  every walker recurses, and checking a schema against its metaschema costs
  about 0.2 ms per object.
- **A valid schema.** It must pass its metaschema (draft 2020-12 unless
  ``$schema`` names another): ``"properties": "x"`` or ``"type": "strin"`` is
  the client's mistake, answered with a 400 naming the tool, as OpenAI does.
- **References that resolve and end.** A local reference to nothing, or a loop
  (``{"$ref": "#"}``) that would recurse forever, is refused too.

Each failure is a 400 ``invalid_request_error`` naming the function.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import jsonschema
import referencing.exceptions
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012, specification_with

from proxy.errors import InvalidRequestError
from proxy.json_body import MAX_JSON_DEPTH, value_nesting_exceeds
from wrappers.json_key import json_key

#: Most levels a tool's ``parameters`` may nest (objects and arrays, the
#: schema's own object being level 1). An object property inside an object
#: takes two (``properties`` and the property's schema): 32 levels hold 15
#: objects nested in one another, far beyond any real tool.
MAX_SCHEMA_DEPTH = 32
#: Most JSON objects in all the tool schemas of one request together (MemGPT's
#: 13 tools have about 60; a 100-tool agent a few thousand).
MAX_SCHEMA_OBJECTS = 5000

#: Keywords whose value is a reference that a validator resolves.
REFERENCE_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
#: Keywords that change the base URI references resolve against.
_ID_KEYWORDS = ("$id", "id")
# Schemas are cached by their JSON text; past this size they are checked each
# time rather than held in memory.
_MAX_CACHED_SCHEMA_CHARS = 100_000
# What a loop in a schema's references is probed with: one value per JSON type,
# and an array and an object of one member.
_PROBES: tuple[Any, ...] = ({}, [], "", 0, None, [None], {"": None})
_BASE_URI = "urn:fcproxy:tool-schema"
# What jsonschema raises when a part of the schema that the metaschema did not
# see (a reference's target under an $id) has the wrong shape.
_BROKEN_SCHEMA_ERRORS = (
    jsonschema.exceptions.UnknownType,
    TypeError,
    AttributeError,
    ValueError,
    LookupError,
)


class SchemaRefused(ValueError):
    """Why a schema is refused, phrased to follow "The parameters schema of 'f' ..."."""


def _refuse_retrieval(uri: str) -> Any:
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]


#: The registry every validator of a client schema uses: it holds the
#: metaschemas (jsonschema adds them) and retrieves nothing else.
NO_RETRIEVAL: Registry[Any] = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def check_function_schemas(functions: Sequence[dict[str, Any]], param_prefix: str) -> None:
    """Raise :class:`InvalidRequestError` for the first function whose schema is refused.

    ``param_prefix`` names where the functions came from (``tools`` or
    ``functions``): the error's ``param`` is e.g. ``tools.2.function.parameters``.
    """
    objects = 0
    for index, function in enumerate(functions):
        schema = function.get("parameters")
        if schema is None:
            continue
        param = (
            f"tools.{index}.function.parameters"
            if param_prefix == "tools"
            else f"functions.{index}.parameters"
        )
        name = function.get("name")
        try:
            objects += check_schema(schema)
            if objects > MAX_SCHEMA_OBJECTS:
                raise SchemaRefused(
                    f"brings the request's tool schemas to more than {MAX_SCHEMA_OBJECTS} "
                    "JSON objects in all"
                )
        except SchemaRefused as exc:
            raise InvalidRequestError(
                f"The parameters schema of function {name!r} {exc}.", param=param
            ) from None


def check_schema(schema: Any) -> int:
    """Check one schema; return how many JSON objects it holds. :class:`SchemaRefused` if bad."""
    problem, objects = _check_once(json_key(schema, sort_keys=True))
    if problem is not None:
        raise SchemaRefused(problem)
    return objects


def schema_validator(schema: Any) -> Validator | None:
    """A validator for a schema :func:`check_schema` accepted (None for any other).

    It cannot retrieve anything, whatever the schema says.
    """
    key = json_key(schema, sort_keys=True)
    if len(key) > _MAX_CACHED_SCHEMA_CHARS:
        return _validator(key)
    return _cached_validator(key)


def _check_once(schema_json: str) -> tuple[str | None, int]:
    # Clients send the same tools every turn: check each schema once.
    if len(schema_json) > _MAX_CACHED_SCHEMA_CHARS:
        return _check(schema_json)
    return _checked(schema_json)


@lru_cache(maxsize=256)
def _checked(schema_json: str) -> tuple[str | None, int]:
    return _check(schema_json)


def _check(schema_json: str) -> tuple[str | None, int]:
    schema = json.loads(schema_json)
    try:
        objects, local_refs = _walk(schema)
        validator_class = _validator_class(schema)
        _check_against_metaschema(validator_class, schema)
        validator = validator_class(schema, registry=NO_RETRIEVAL)
        _check_references_resolve(validator_class, schema, local_refs)
        _check_references_end(validator)
    except SchemaRefused as exc:
        return str(exc), 0
    return None, objects


@lru_cache(maxsize=256)
def _cached_validator(schema_json: str) -> Validator | None:
    # Compiling the validator was most of a request's CPU time before it was cached.
    return _validator(schema_json)


def _validator(schema_json: str) -> Validator | None:
    if _check_once(schema_json)[0] is not None:
        return None
    schema = json.loads(schema_json)
    validator: Validator = _validator_class(schema)(schema, registry=NO_RETRIEVAL)
    return validator


def _walk(schema: Any) -> tuple[int, list[str]]:
    """Depth and reference checks, without recursion.

    Returns the number of objects and the references to check for resolution
    (those outside any ``$id``: under one, the base URI is the schema's own
    business and a reference that does not resolve is caught when validating).
    """
    objects = 0
    local_refs: list[str] = []
    stack: list[tuple[Any, int, bool]] = [(schema, 1, False)]
    while stack:
        node, depth, under_id = stack.pop()
        if isinstance(node, dict):
            objects += 1
            if objects > MAX_SCHEMA_OBJECTS:
                raise SchemaRefused(f"holds more than {MAX_SCHEMA_OBJECTS} JSON objects")
            under_id = under_id or any(
                isinstance(node.get(k), str) and not node[k].startswith("#") for k in _ID_KEYWORDS
            )
            for keyword in REFERENCE_KEYWORDS:
                reference = node.get(keyword)
                if not isinstance(reference, str):
                    continue
                if not reference.startswith("#"):
                    raise SchemaRefused(
                        f"refers to {reference!r} ({keyword}); only references inside the "
                        "schema itself (#/$defs/..., #/definitions/...) are allowed: "
                        "fcproxy fetches and reads no schema"
                    )
                if keyword == "$ref" and not under_id:
                    local_refs.append(reference)
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_SCHEMA_DEPTH:
                    raise SchemaRefused(f"is nested more than {MAX_SCHEMA_DEPTH} levels deep")
                stack.append((child, depth + 1, under_id))
    return objects, local_refs


def _validator_class(schema: Any) -> type[Validator]:
    dialect = schema.get("$schema") if isinstance(schema, dict) else None
    if dialect is not None and not isinstance(dialect, str):
        raise SchemaRefused("has a $schema that is not a string")
    # An unknown $schema is read as the latest draft, like one without.
    cls: type[Validator] = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    return cls


def _check_against_metaschema(validator_class: type[Validator], schema: Any) -> None:
    # validator_class.check_schema(), without format checks: the only one that
    # would run is "regex", and a JavaScript pattern Python cannot compile
    # (\p{L}, zod's emoji) is no reason to refuse a tool; its pattern is just
    # not checked. And with a registry that retrieves nothing, like every
    # validator here.
    meta_class = jsonschema.validators.validator_for(
        validator_class.META_SCHEMA, default=validator_class
    )
    meta_validator = meta_class(validator_class.META_SCHEMA, registry=NO_RETRIEVAL)
    try:
        error = jsonschema.exceptions.best_match(meta_validator.iter_errors(schema))
    except RecursionError:  # depth is bounded by _walk; a backstop
        raise SchemaRefused(f"is nested more than {MAX_SCHEMA_DEPTH} levels deep") from None
    if error is not None:
        where = "".join(f"[{p!r}]" for p in error.path)
        message = error.message if len(error.message) <= 300 else error.message[:300] + "..."
        raise SchemaRefused(
            "is not a valid JSON schema: " + (f"at {where}: {message}" if where else message)
        )


def _check_references_resolve(
    validator_class: type[Validator], schema: Any, references: list[str]
) -> None:
    """Each reference leads to a valid schema inside this one.

    The target is checked on its own: a pointer may lead where the
    metaschema expects no schema (``#/properties``, ``#/enum/0``).
    """
    if not references or not isinstance(schema, dict):
        return
    specification = specification_with(schema.get("$schema", ""), default=DRAFT202012)
    registry = NO_RETRIEVAL.with_resource(_BASE_URI, specification.create_resource(schema))
    resolver = registry.crawl().resolver(base_uri=_BASE_URI)
    for reference in dict.fromkeys(references):
        try:
            target = resolver.lookup(reference).contents
        except (referencing.exceptions.Unresolvable, ValueError, LookupError, TypeError):
            raise SchemaRefused(
                f"refers to {reference!r} ($ref), which is not in the schema"
            ) from None
        if not isinstance(target, dict | bool):
            raise SchemaRefused(f"refers to {reference!r} ($ref), which is not a schema")
        try:
            _check_against_metaschema(validator_class, target)
        except SchemaRefused as exc:
            raise SchemaRefused(f"refers to {reference!r} ($ref), which {exc}") from None


def _check_references_end(validator: Validator) -> None:
    """Refuse a schema whose references loop without reaching a check (``{"$ref": "#"}``).

    Validating one value of each JSON type (and a one-item array and object)
    finds the loops such values run into; a loop only some other value reaches
    is caught where arguments are checked (:func:`argument_error`).
    """
    for probe in _PROBES:
        try:
            _best_error(validator, probe)
        except _RecursedTooDeep:
            raise SchemaRefused(
                "refers to itself in a loop ($ref) that never reaches a check"
            ) from None
        except referencing.exceptions.Unresolvable as exc:
            ref = f" ({exc.ref!r})" if exc.ref else ""
            raise SchemaRefused(f"has a reference that cannot be resolved{ref}") from None
        except re.error:
            return  # a pattern Python cannot compile ends the probe (see above)
        except _BROKEN_SCHEMA_ERRORS as exc:
            raise SchemaRefused(
                f"cannot be used to check arguments ({type(exc).__name__})"
            ) from None


def argument_error(schema: Any, arguments: Any) -> str | None:
    """Why ``arguments`` break ``schema`` (the most relevant error), or None.

    None as well for a schema that cannot be checked: a schema fcproxy refused
    never gets here, and a reference loop only deep arguments reach, or a
    ``pattern`` Python cannot compile, is the schema's fault, not the model's.
    """
    validator = schema_validator(schema)
    if validator is None:
        return None
    too_deep = "they are nested too deeply to be checked against it"
    if value_nesting_exceeds(arguments, MAX_JSON_DEPTH):
        return too_deep
    try:
        error = _best_error(validator, arguments)
    except _RecursedTooDeep:
        return too_deep
    except (referencing.exceptions.Unresolvable, re.error, *_BROKEN_SCHEMA_ERRORS):
        return None
    return None if error is None else error.message


class _RecursedTooDeep(Exception):
    """Validation ran into the interpreter's recursion limit."""


def _best_error(validator: Validator, instance: Any) -> jsonschema.ValidationError | None:
    """The most relevant validation error; :class:`_RecursedTooDeep` past the recursion limit."""
    try:
        error: jsonschema.ValidationError | None = jsonschema.exceptions.best_match(
            validator.iter_errors(instance)
        )
    except RecursionError:
        raise _RecursedTooDeep from None
    except BaseException as exc:
        # Past the recursion limit inside referencing's maps (rpds, in Rust),
        # the RecursionError comes out as pyo3's PanicException, which is a
        # BaseException: without this, it would escape every handler.
        if type(exc).__name__ == "PanicException":
            raise _RecursedTooDeep from None
        raise
    return error
