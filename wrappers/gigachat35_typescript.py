"""Tool schemas as GigaChat 3.5's chat template prints them: TypeScript types.

The template's ``json_schema_to_typescript`` and ``render_tool_namespace``
macros (llama.cpp ``models/templates/GigaChat3.5.jinja``), in Python. Newer
than GigaChat 3's (:func:`wrappers.gigachat3.typescript_type`): integers are
``integer``, array items are parenthesized (``(string)[]``), and it knows
``$ref``, ``anyOf`` / ``oneOf`` / ``allOf``, type lists, ``const`` and
return types::

    namespace functions {
    // Get the weather
    type get_weather = (_: {
      // City name
      city: string,
      days?: integer, // default: 1
    }) => any;

    } // namespace functions

Where the macro writes a value with Jinja's ``~`` (a ``default``, a
``minimum``), Python's ``str`` is what comes out (``True``, ``['a']``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeGuard

from wrappers.base import FunctionSchema

#: Keywords the macro shows as ``// key: value`` comments above a member.
ADDITIONAL_KEYS = (
    "format",
    "maxItems",
    "maximum",
    "minItems",
    "minimum",
    "pattern",
    "minLength",
    "maxLength",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
_NUMBERS = ("number", "integer", "int", "float")
_EXTRA_PROPERTIES = "[key: string]"


def _constant(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return "null" if value is None else "any"


def _is_list(value: Any) -> TypeGuard[list[Any] | tuple[Any, ...]]:
    return isinstance(value, list | tuple)


class _Writer:
    """One tool's schema conversion: the root that ``$ref`` pointers resolve in."""

    def __init__(self, root: Any, step: int = 2) -> None:
        self.root = root
        self.step = step

    def type_of(self, schema: Any, indent: str, chain: tuple[str, ...] = ()) -> str:
        if not isinstance(schema, dict):
            return "any"
        if isinstance(schema.get("$ref"), str):
            return self._reference(schema["$ref"], indent, chain)
        for key, joiner in (("anyOf", " | "), ("oneOf", " | "), ("allOf", " & ")):
            if _is_list(schema.get(key)):
                return joiner.join(f"({self.type_of(s, indent, chain)})" for s in schema[key])
        if _is_list(schema.get("type")):
            return " | ".join(
                f"({self._member_of_union(schema, t, indent, chain)})" for t in schema["type"]
            )
        kind = "object" if schema.get("type") == "dict" else schema.get("type")
        has_properties = isinstance(schema.get("properties"), dict)
        if "const" in schema and kind is None and not has_properties:
            return _constant(schema["const"])
        if schema.get("enum") and kind is None and not has_properties:
            return " | ".join(f'"{e}"' if isinstance(e, str) else str(e) for e in schema["enum"])
        if kind == "object" or (kind is None and has_properties):
            return self._object(schema, indent, chain)
        if kind == "string":
            if "const" in schema:
                return _constant(schema["const"])
            if schema.get("enum"):
                return " | ".join(f'"{e}"' for e in schema["enum"] if isinstance(e, str))
            return "Date" if schema.get("format", "") in ("date-time", "date") else "string"
        if (kind or "") in _NUMBERS:
            if "const" in schema:
                return _constant(schema["const"])
            if schema.get("enum"):
                return " | ".join(str(e) for e in schema["enum"])
            return "integer" if kind in ("integer", "int") else "number"
        if kind == "boolean":
            const = schema.get("const")
            return ("true" if const else "false") if isinstance(const, bool) else "boolean"
        if kind == "null":
            return "null"
        if kind == "array":
            return self._array(schema, indent, chain)
        return "unknown" if isinstance(schema.get("not"), dict) else "any"

    def _reference(self, pointer: str, indent: str, chain: tuple[str, ...]) -> str:
        # In-document JSON pointers only; a cycle or anything else is "any".
        if pointer in chain or not pointer.startswith("#/"):
            return "any"
        node: Any = self.root
        for raw in pointer[2:].split("/"):
            segment = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and segment in node:
                node = node[segment]
            elif _is_list(node) and segment.isdigit() and str(int(segment)) == segment:
                node = node[int(segment)] if int(segment) < len(node) else None
            else:
                node = None
        if not isinstance(node, dict):
            return "any"
        return self.type_of(node, indent, (*chain, pointer))

    def _member_of_union(
        self, schema: dict[str, Any], name: Any, indent: str, chain: tuple[str, ...]
    ) -> str:
        """One member of ``"type": [...]``, built from the keywords that apply to it."""
        sub: dict[str, Any]
        if name == "null":
            return "null"
        if name == "string":
            if "const" in schema:
                sub = {"type": "string", "const": schema["const"]}
            elif schema.get("enum"):
                sub = {"type": "string", "enum": schema["enum"], "format": schema.get("format")}
            else:
                return "Date" if schema.get("format", "") in ("date-time", "date") else "string"
        elif name in _NUMBERS:
            sub = {"type": name, **({"const": schema["const"]} if "const" in schema else {})}
            if "const" not in schema:
                sub["enum"] = schema.get("enum")
        elif name == "boolean":
            if "const" not in schema:
                return "boolean"
            sub = {"type": "boolean", "const": schema["const"]}
        elif name in ("object", "dict"):
            sub = {
                "type": "object",
                "properties": schema.get("properties") or {},
                "required": schema.get("required") or [],
            }
            if "additionalProperties" in schema:
                sub["additionalProperties"] = schema["additionalProperties"]
        elif name == "array":
            sub = {"type": "array"}
            if _is_list(schema.get("prefixItems")):
                sub["prefixItems"] = schema["prefixItems"]
            elif "items" in schema:
                sub["items"] = schema["items"]
        else:
            return "any"
        return self.type_of(sub, indent, chain)

    def _object(self, schema: dict[str, Any], indent: str, chain: tuple[str, ...]) -> str:
        members = list((schema.get("properties") or {}).items())
        extra = schema.get("additionalProperties")
        if extra is True:
            members.append((_EXTRA_PROPERTIES, {"type": "any"}))
        elif isinstance(extra, dict):
            members.append((_EXTRA_PROPERTIES, extra))
        required = [*(schema.get("required") or []), _EXTRA_PROPERTIES]
        out = "{\n"
        for key, value in members:
            value = value if isinstance(value, dict) else {}
            if isinstance(value.get("description"), str):
                for line in value["description"].split("\n"):
                    if line.strip():
                        out += f"{indent}// {line}\n"
            for extra_key, extra_value in value.items():
                if extra_key in ADDITIONAL_KEYS and extra_value is not None:
                    shown = f'"{extra_value}"' if isinstance(extra_value, str) else str(extra_value)
                    out += f"{indent}// {extra_key}: {shown}\n"
            member = self.type_of(value, indent + " " * self.step, chain)
            out += f"{indent}{key}{'' if key in required else '?'}: {member},"
            if "default" in value or "defalut_value" in value:  # the template's spelling too
                default = value.get("default", value.get("defalut_value"))
                out += (
                    f' // default: "{default}"'
                    if isinstance(default, str)
                    else f" // default: {default}"
                )
            out += "\n"
        return out + indent[:-2] + "}"

    def _array(self, schema: dict[str, Any], indent: str, chain: tuple[str, ...]) -> str:
        items = schema.get("items")
        for tuple_items in (schema.get("prefixItems"), items):
            if _is_list(tuple_items):
                return "[" + ", ".join(self.type_of(s, indent, chain) for s in tuple_items) + "]"
        if isinstance(items, dict):
            # (A | B)[], not A | B[]: postfix [] binds tighter than |.
            return f"({self.type_of(items, indent, chain)})[]"
        return "Array<any>"


def typescript_type(schema: Any, indent: str = "  ") -> str:
    """``json_schema_to_typescript(schema, indent)``: the schema as a TypeScript type."""
    return _Writer(schema).type_of(schema, indent)


def tool_namespace(functions: Sequence[FunctionSchema]) -> str:
    """``render_tool_namespace('functions', tools)``: every tool as a TypeScript type."""
    sections = ["namespace functions {"]
    for function in functions:
        lines = [
            f"// {line}" for line in (function.get("description") or "").split("\n") if line.strip()
        ]
        parameters = function.get("parameters") or {}
        arguments = f"_: {typescript_type(parameters)}" if parameters.get("properties") else ""
        returns: Any = function.get("return_parameters") or {}
        result = typescript_type(returns) if returns.get("properties") else "any"
        lines.append(f"type {function['name']} = ({arguments}) => {result};\n")
        sections.append("\n".join(lines))
    sections.append("} // namespace functions")
    return "\n".join(sections)
