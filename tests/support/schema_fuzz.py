"""Random, partly broken tool schemas and arguments, from a seeded generator.

What a careless or hostile client sends as a tool's ``parameters``: mostly
plausible JSON schemas, with keywords of the wrong type (``"properties": "x"``),
unknown types, boolean schemas, references inside and outside the schema, deep
nesting, odd names, and values of every JSON type where a schema belongs.
Deterministic for a seed, so a failure is reproduced by its case number.
"""

from __future__ import annotations

import random
import string
from typing import Any

TYPES = ["string", "integer", "number", "boolean", "null", "object", "array"]
ODD_TYPES = ["strin", "int", "float", "any", "", "Object", 7, None, ["string", "nope"]]
NAMES = ["key", "a", "inner_thoughts", "$ref", "properties", "type", "🙂", "a b", "", "x" * 40]
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2.5,
    "",
    "x",
    "#",
    [],
    {},
    [1, "a", None],
    {"a": {"b": []}},
    '\u0000\n"\\',
    10**20,
]


class SchemaFuzzer:
    """``SchemaFuzzer(seed).schema()``: one random ``parameters`` value."""

    def __init__(self, seed: int, *, remote_base: str = "http://127.0.0.1:9/") -> None:
        self.rng = random.Random(seed)
        self.remote_base = remote_base
        #: About half the schemas are written with care (valid, odd at most),
        #: the others are broken here and there.
        self.careless = self.rng.random() < 0.5

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def breaks(self, p: float) -> bool:
        """Whether to break the schema here (never in a careful one)."""
        return self.careless and self.rng.random() < p

    def odd(self) -> Any:
        return self.rng.choice(ODD_VALUES)

    def name(self) -> str:
        if self.chance(0.7):
            return self.rng.choice(NAMES[:3]) + str(self.rng.randrange(5))
        if self.chance(0.5):
            return self.rng.choice(NAMES)
        return "".join(self.rng.choice(string.printable) for _ in range(self.rng.randrange(1, 9)))

    def schema(self) -> Any:
        """A tool's ``parameters``: usually an object schema, sometimes anything."""
        if self.breaks(0.06):
            return self.odd()
        root = self.subschema(0, object_root=True)
        if isinstance(root, dict) and self.chance(0.2):
            root["$defs"] = {self.name(): self.subschema(1) for _ in range(self.rng.randrange(3))}
        if isinstance(root, dict) and self.breaks(0.1):
            root["$schema"] = self.rng.choice(
                [
                    "http://json-schema.org/draft-07/schema#",
                    "http://json-schema.org/draft-04/schema#",
                    "https://json-schema.org/draft/2020-12/schema",
                    "https://example.com/unknown",
                    5,
                ]
            )
        return root

    def subschema(self, depth: int, *, object_root: bool = False) -> Any:
        if not object_root:
            if self.chance(0.05):
                return self.rng.choice([True, False])
            if self.breaks(0.04):
                return self.odd()
        # Deep nesting now and then: past the limits, and near them.
        limit = 40 if self.breaks(0.06) else 6
        if depth >= limit:
            return {"type": self.rng.choice(TYPES[:5])}
        schema: dict[str, Any] = {}
        kind: Any = "object" if object_root else self.rng.choice(TYPES)
        if self.breaks(0.1):
            kind = self.rng.choice(ODD_TYPES)
        elif self.chance(0.05):
            kind = self.rng.sample(TYPES, self.rng.randrange(1, 4))
        if not self.chance(0.05):
            schema["type"] = kind
        if self.chance(0.3):
            schema["description"] = self.rng.choice(["A value.", "", "ünïcödé 🙂"])
        if self.breaks(0.05):
            schema["description"] = self.odd()
        if kind == "object" or self.chance(0.05):
            self.object_keywords(schema, depth)
        if kind == "array" or self.chance(0.05):
            self.array_keywords(schema, depth)
        self.other_keywords(schema, depth)
        return schema

    def object_keywords(self, schema: dict[str, Any], depth: int) -> None:
        if self.breaks(0.1):
            schema["properties"] = self.odd()
        elif not self.chance(0.1):
            count = self.rng.randrange(0, 5)
            schema["properties"] = {self.name(): self.subschema(depth + 1) for _ in range(count)}
        if self.chance(0.4):
            names = list(schema["properties"]) if isinstance(schema.get("properties"), dict) else []
            schema["required"] = (
                self.odd() if self.breaks(0.2) else self.rng.sample(names, len(names) // 2)
            )
        if self.chance(0.15):
            schema["additionalProperties"] = (
                self.rng.choice([True, False]) if self.chance(0.7) else self.subschema(depth + 1)
            )
        if self.chance(0.03):
            schema["patternProperties"] = {"^x": self.subschema(depth + 1)}

    def array_keywords(self, schema: dict[str, Any], depth: int) -> None:
        roll = self.rng.random()
        if roll < 0.8:
            schema["items"] = self.subschema(depth + 1)
        elif self.careless and roll < 0.9:
            schema["items"] = [self.subschema(depth + 1) for _ in range(2)]
        elif self.careless:
            schema["items"] = self.odd()
        if self.chance(0.2):
            schema["minItems"] = self.rng.choice([0, 1, 3])
        if self.breaks(0.05):
            schema["minItems"] = self.rng.choice([-1, "2", 1.5])
        if self.chance(0.05):
            schema["prefixItems"] = [self.subschema(depth + 1)]

    def other_keywords(self, schema: dict[str, Any], depth: int) -> None:
        if self.chance(0.1):
            schema["enum"] = self.rng.choice([["a", "b"], [1, None, "x"], [self.odd()]])
        if self.breaks(0.05):
            schema["enum"] = self.rng.choice([[], "a", [{"$ref": "x"}]])
        if self.chance(0.05):
            schema["const"] = self.odd()
        for keyword in ("anyOf", "oneOf", "allOf"):
            if self.chance(0.06):
                schema[keyword] = (
                    self.odd()
                    if self.breaks(0.2)
                    else [
                        self.subschema(depth + 1)
                        for _ in range(self.rng.randrange(0 if self.careless else 1, 3))
                    ]
                )
        if self.chance(0.03):
            schema["not"] = self.subschema(depth + 1)
        if self.chance(0.04) and depth > 0:
            schema["$ref"] = "#"  # recursive, and valid: each step needs deeper input
        if self.breaks(0.1):
            schema["$ref"] = self.reference()
        if self.breaks(0.03):
            schema["$dynamicRef"] = self.rng.choice(["#meta", self.remote_base + "m.json#meta"])
        if self.breaks(0.05):
            schema["$id"] = self.rng.choice([self.remote_base, "urn:x", "#a", "rel/"])
        if self.chance(0.03):
            schema["$anchor"] = self.rng.choice(["a", "b1"])
        if self.chance(0.04):
            schema["pattern"] = self.rng.choice(["^a+$", "(?<n>x)", r"\p{L}"])
        if self.breaks(0.03):
            schema["pattern"] = self.rng.choice(["[", 5])
        if self.chance(0.04):
            keyword, value = self.rng.choice(
                [("minimum", 1), ("maxLength", 3), ("format", "date"), ("default", None)]
            )
            schema[keyword] = self.odd() if self.careless else value

    def reference(self) -> Any:
        return self.rng.choice(
            [
                "#",
                "#/$defs/key0",
                "#/definitions/nope",
                "#/properties",
                "#a",
                "#/$defs/%",
                self.remote_base + "x.json",
                "file:///etc/hostname",
                "other.json",
                "//127.0.0.1:9/x",
                5,
                None,
            ]
        )

    def arguments(self, schema: Any) -> dict[str, Any]:
        """Arguments a model might write for ``schema``: right, wrong, or deep."""
        if self.chance(0.05):
            deep: Any = "x"
            for _ in range(self.rng.choice([30, 200])):
                deep = {"key0": deep}
            return {"key0": deep}
        properties = schema.get("properties") if isinstance(schema, dict) else None
        names = list(properties) if isinstance(properties, dict) else ["key0"]
        return {n: self.odd() for n in names[: self.rng.randrange(0, len(names) + 1)]}
