"""Tool arguments generated from the tool's JSON Schema: valid ones, and ones invalid in exactly one way.

Only the keywords the tool schemas use are read (type, enum, pattern, min/maxLength, minimum/maximum,
items, min/maxItems, uniqueItems, required, and a top-level anyOf of required lists); a schema with
anything else fails loudly, so that a new keyword is never silently ignored.

Example:
    schema = default_registry().get("get_issue").schema
    valid_arguments(schema, favourites={"owner": ["acme"]}).example()  # {'owner': 'acme', ...}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

KNOWN_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "default",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)
# A value of each JSON type, for putting a wrong one in place of a property.
_VALUES_BY_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "boolean": st.booleans(),
    "integer": st.integers(),
    "number": st.floats(allow_nan=False, allow_infinity=False).filter(lambda number: not number.is_integer()),
    "string": st.text(max_size=20),
    "array": st.lists(st.integers(), max_size=3),
    "object": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
}


def valid_arguments(
    schema: Mapping[str, Any], *, favourites: Mapping[str, Sequence[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments the schema accepts; `favourites` adds likely values (say, names of real repositories)."""
    values = {name: _value(name, spec, favourites or {}) for name, spec in schema["properties"].items()}

    def with_required(alternative: frozenset[str]) -> st.SearchStrategy[dict[str, Any]]:
        required = set(schema.get("required", ())) | alternative
        return st.fixed_dictionaries(
            {name: values[name] for name in required},
            optional={name: strategy for name, strategy in values.items() if name not in required},
        )

    return st.sampled_from(_alternatives(schema)).flatmap(with_required)


def _alternatives(schema: Mapping[str, Any]) -> list[frozenset[str]]:
    """The property sets of which a top-level anyOf requires one (one empty set without anyOf)."""
    alternatives = schema.get("anyOf", [{"required": []}])
    if any(set(alternative) != {"required"} for alternative in alternatives):
        raise ValueError("a top-level anyOf may only list required properties")
    return [frozenset(alternative["required"]) for alternative in alternatives]


def invalid_arguments(
    schema: Mapping[str, Any], *, favourites: Mapping[str, Sequence[Any]] | None = None
) -> st.SearchStrategy[dict[str, Any]]:
    """Valid arguments broken once: a required property missing, an extra one, a wrong type, out of range."""
    return _broken(valid_arguments(schema, favourites=favourites), schema)


@st.composite
def _broken(
    draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]], schema: Mapping[str, Any]
) -> dict[str, Any]:
    arguments = draw(valid)
    properties: Mapping[str, Any] = schema["properties"]
    name = draw(st.sampled_from(sorted(properties)))
    out_of_range = _out_of_range(properties[name])
    ways = ["extra", "wrong-type"]
    if schema.get("required"):
        ways.append("missing")
    if out_of_range is not None:
        ways.append("out-of-range")
    way = draw(st.sampled_from(ways))
    if way == "extra":
        extra = draw(st.text(min_size=1, max_size=20).filter(lambda key: key not in properties))
        return {**arguments, extra: draw(st.one_of(*_VALUES_BY_TYPE.values()))}
    if way == "missing":
        missing = draw(st.sampled_from(schema["required"]))
        return {key: value for key, value in arguments.items() if key != missing}
    if way == "out-of-range" and out_of_range is not None:
        return {**arguments, name: draw(out_of_range)}
    wrong = draw(st.sampled_from(sorted(set(_VALUES_BY_TYPE) - {properties[name].get("type")})))
    return {**arguments, name: draw(_VALUES_BY_TYPE[wrong])}


def _value(
    name: str, spec: Mapping[str, Any], favourites: Mapping[str, Sequence[Any]]
) -> st.SearchStrategy[Any]:
    unknown = set(spec) - KNOWN_KEYWORDS
    if unknown:
        raise ValueError(f"property {name!r} uses schema keywords this generator ignores: {sorted(unknown)}")
    strategy = _from_spec(spec)
    return st.one_of(strategy, st.sampled_from(favourites[name])) if name in favourites else strategy


def _from_spec(spec: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in spec:
        return st.sampled_from(spec["enum"])
    kind = spec["type"]
    if kind == "string":
        low, high = spec.get("minLength", 0), spec.get("maxLength", 200)
        if "pattern" not in spec:
            return st.text(min_size=low, max_size=min(high, 200))
        return st.from_regex(spec["pattern"], fullmatch=True).filter(lambda text: low <= len(text) <= high)
    if kind == "integer":
        return st.integers(spec.get("minimum"), spec.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = _from_spec(spec["items"])
        return st.lists(
            items,
            min_size=spec.get("minItems", 0),
            max_size=spec.get("maxItems", 10),
            unique=spec.get("uniqueItems", False),
        )
    raise ValueError(f"no generator for schema type {kind!r}")


def _out_of_range(spec: Mapping[str, Any]) -> st.SearchStrategy[Any] | None:
    if "maxLength" in spec:
        return st.integers(spec["maxLength"] + 1, spec["maxLength"] + 50).map(lambda size: "a" * size)
    if "maximum" in spec:
        return st.one_of(
            st.integers(spec["maximum"] + 1, spec["maximum"] + 10**20),
            st.integers(spec.get("minimum", 0) - 10**20, spec.get("minimum", 0) - 1),
        )
    if "enum" in spec:
        return st.text(max_size=10).filter(lambda text: text not in spec["enum"])
    return None
