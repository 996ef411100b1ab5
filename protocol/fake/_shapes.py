"""The shapes of the objects the fake server reads from a client, checked before it reads them.

A shape says, at one path of the API, which JSON kinds a value may have and, for an object,
which keys (each with its own shape). The check walks a value and its shape together and
stops at the first problem, named with the API's path as the real server names it:

- a key the API does not have: ``unknown_parameter`` ("Unknown parameter: 'session.foo'.");
- a value of the wrong kind (``null``, ``{}`` or ``[]`` where an object or a string belongs):
  ``invalid_type`` ("Invalid type for 'session.audio.output': expected an object, but got
  null instead.");
- a required key missing: ``missing_required_parameter``;
- a value outside a closed set (an ``include`` entry, a reasoning effort, a tool's ``type``):
  ``invalid_value`` ("Invalid value: 'huge'. Supported values are: ...");
- a number out of its range (``retention_ratio`` above 1): ``decimal_above_max_value``,
  ``integer_below_min_value``... ("Invalid 'session.truncation.retention_ratio': decimal above
  maximum value. Expected a value <= 1, but got 2 instead.").

The shapes themselves, the GA and beta surfaces written from the ``openai`` package's request
types, are in ``_surface``. The walk follows the shape, never the value, so its depth is the
shape's whatever the client nests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .._repr import json_kind

__all__ = [
    "MAX_NESTING",
    "FrameProblem",
    "Shape",
    "nested_deeper_than",
    "range_problem",
    "shape_problem",
]

MAX_NESTING = 128
"""The deepest a client frame may nest objects and arrays (the frame itself is level 1). A
frame deeper than this is refused as ``invalid_json``, as a JSON parser with a depth limit
refuses it, before anything copies or walks it."""


@attrs.frozen(kw_only=True)
class FrameProblem:
    """Why a client frame or event is refused: the ``error`` event's fields."""

    code: str
    message: str
    param: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class Shape:
    """What the API accepts at one path."""

    kinds: frozenset[str]
    """JSON kinds (``json_kind``'s names); ``number`` takes integers too."""
    fields: Mapping[str, Shape] | None = None
    """An object's keys and their shapes; None: any keys (a JSON schema, a map)."""
    required: frozenset[str] = frozenset()
    entries: Shape | None = None
    """A map's values (``metadata``, ``headers``), whatever their keys."""
    items: Shape | None = None
    """An array's elements."""
    variants: Mapping[str, Shape] | None = None
    """An object's shape by the value of its ``type`` (turn detection, tools, formats)."""
    default_variant: str | None = None
    """The variant of an object without a ``type`` (a tool is a function tool)."""
    values: frozenset[Any] | None = None
    """A scalar's closed set of values (applied to values of the same kind as its members)."""
    minimum: float | None = None
    maximum: float | None = None


def shape_problem(value: Any, shape: Shape, path: str) -> FrameProblem | None:
    """The first place where ``value`` does not have ``shape`` (``path`` names it), or None."""
    kind = json_kind(value)
    accepted = kind in shape.kinds or (kind == "integer" and "number" in shape.kinds)
    if not accepted:
        return _invalid_type(path, shape.kinds, kind)
    if kind == "object":
        return _object_problem(value, shape, path)
    if kind == "array" and shape.items is not None:
        for index, element in enumerate(value):
            problem = shape_problem(element, shape.items, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    closed = shape.values is not None and any(json_kind(v) == kind for v in shape.values)
    if closed and value not in (shape.values or ()):
        return _invalid_value(path, value, shape.values or frozenset())
    if kind in ("integer", "number"):
        return range_problem(value, path, shape.minimum, shape.maximum)
    return None


def range_problem(
    value: float, path: str, minimum: float | None, maximum: float | None
) -> FrameProblem | None:
    """A number out of ``[minimum, maximum]``, as the API words it."""
    noun = "integer" if isinstance(value, int) else "decimal"
    for bound, wrong, side, sign, word in (
        (minimum, minimum is not None and value < minimum, "below", ">=", "minimum"),
        (maximum, maximum is not None and value > maximum, "above", "<=", "maximum"),
    ):
        if wrong:
            return FrameProblem(
                code=f"{noun}_{side}_{word[:3]}_value",
                message=(
                    f"Invalid '{path}': {noun} {side} {word} value. Expected a value"
                    f" {sign} {bound:g}, but got {value!r} instead."
                ),
                param=path,
            )
    return None


def _object_problem(value: Mapping[str, Any], shape: Shape, path: str) -> FrameProblem | None:
    if shape.variants is not None:
        tag = value.get("type", shape.default_variant)
        if tag is None:
            return _missing(f"{path}.type")
        if not isinstance(tag, str):
            return _invalid_type(f"{path}.type", frozenset({"string"}), json_kind(tag))
        variant = shape.variants.get(tag)
        if variant is None:
            return _invalid_value(f"{path}.type", tag, frozenset(shape.variants))
        shape = variant
    for key in sorted(shape.required):
        if key not in value:
            return _missing(f"{path}.{key}")
    for key, element in value.items():
        where = f"{path}.{key}"
        if shape.fields is None:
            field = shape.entries
            if field is None:
                continue  # any keys, any values (a JSON schema)
        else:
            field = shape.fields.get(key)
            if field is None:
                return FrameProblem(
                    code="unknown_parameter", message=f"Unknown parameter: '{where}'.", param=where
                )
        problem = shape_problem(element, field, where)
        if problem is not None:
            return problem
    return None


def _missing(param: str) -> FrameProblem:
    return FrameProblem(
        code="missing_required_parameter",
        message=f"Missing required parameter: '{param}'.",
        param=param,
    )


def _invalid_value(path: str, value: Any, allowed: frozenset[Any]) -> FrameProblem:
    supported = ", ".join(repr(v) for v in sorted(allowed, key=str))
    return FrameProblem(
        code="invalid_value",
        message=f"Invalid value: {value!r}. Supported values are: {supported}.",
        param=path,
    )


_ARTICLES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}
_ORDER = ("object", "array", "string", "number", "integer", "boolean", "null")


def _invalid_type(path: str, kinds: frozenset[str], got: str) -> FrameProblem:
    names = [_ARTICLES[k] for k in _ORDER if k in kinds]
    expected = names[0] if len(names) == 1 else "one of " + " or ".join(names)
    return FrameProblem(
        code="invalid_type",
        message=(
            f"Invalid type for '{path}': expected {expected},"
            f" but got {_ARTICLES.get(got, got)} instead."
        ),
        param=path,
    )


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects and arrays more than ``limit`` levels (itself being
    level 1). Iterative, so a value nested deeper than the interpreter's stack is measured
    like any other."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, level = stack.pop()
        children: Iterator[Any] | list[Any]
        if isinstance(node, dict):
            children = iter(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return False
