"""The shapes of the objects the fake server reads from a client, checked before it reads them.

A shape says, at one path of the API, which JSON kinds a value may have and, for an object,
which keys (each with its own shape). The check walks a value and its shape together and
stops at the first problem, named with the API's path as the real server names it:

- a key the API does not have: ``unknown_parameter`` ("Unknown parameter: 'session.foo'.");
- a value of the wrong kind (``null``, ``{}`` or ``[]`` where an object or a string belongs):
  ``invalid_type`` ("Invalid type for 'session.audio.output': expected an object, but got
  null instead.");
- a required key missing: ``missing_required_parameter``;
- a string outside a closed set (the beta format names): ``invalid_value``.

Values within the right kinds (a threshold above 1, an unknown voice) are the config's
validators' business (``_rules.session_problem``). Shapes come from the ``openai`` package's
request types (``RealtimeSessionCreateRequestParam``, ``RealtimeResponseCreateParamsParam``,
and the beta ``session_update_event_param``). The walk follows the shape, never the value,
so its depth is the shape's whatever the client nests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from .._repr import json_kind
from ..config.values import TURN_DETECTION_FIELDS

__all__ = [
    "BETA_RESPONSE",
    "BETA_SESSION",
    "GA_RESPONSE",
    "GA_SESSION",
    "MAX_NESTING",
    "FrameProblem",
    "Shape",
    "nested_deeper_than",
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
    """An object's keys and their shapes; None: any keys (a JSON schema, metadata)."""
    open: bool = False
    """Keys beyond ``fields`` are allowed (a tool: MCP tools have many more)."""
    required: frozenset[str] = frozenset()
    items: Shape | None = None
    """An array's elements."""
    tagged: Mapping[str, Mapping[str, Shape]] | None = None
    """More keys, by the value of the object's ``type`` (turn detection's per-type fields)."""
    values: frozenset[str] | None = None
    """A string's closed set of values."""


def _kinds(*names: str) -> frozenset[str]:
    return frozenset(names)


def _leaf(*kinds: str) -> Shape:
    return Shape(kinds=_kinds(*kinds))


_STRING, _INTEGER, _NUMBER, _BOOLEAN = (
    _leaf("string"),
    _leaf("integer"),
    _leaf("number"),
    _leaf("boolean"),
)
_ANY_OBJECT = _leaf("object")
_STRINGS = Shape(kinds=_kinds("array"), items=_STRING)


def _object(fields: Mapping[str, Shape], *extra_kinds: str, **options: Any) -> Shape:
    return Shape(kinds=_kinds("object", *extra_kinds), fields=fields, **options)


_FORMAT = _object({"type": _STRING, "rate": _INTEGER})
_TURN_DETECTION_KINDS = {
    "threshold": _NUMBER,
    "prefix_padding_ms": _INTEGER,
    "silence_duration_ms": _INTEGER,
    "idle_timeout_ms": _leaf("integer", "null"),
    "create_response": _BOOLEAN,
    "interrupt_response": _BOOLEAN,
    "eagerness": _STRING,
}
_TURN_DETECTION = _object(
    {"type": _STRING},
    "null",
    required=frozenset({"type"}),
    # Which fields go with which type is the config's knowledge, kept in one place.
    tagged={
        kind: {name: _TURN_DETECTION_KINDS[name] for name in names}
        for kind, names in TURN_DETECTION_FIELDS.items()
    },
)
_TRANSCRIPTION = _object(
    {
        "model": _STRING,
        "language": _STRING,
        "prompt": _STRING,
        "delay": _STRING,
        "keywords": _STRINGS,
        "languages": _STRINGS,
    },
    "null",  # null turns transcription off
)
_NOISE_REDUCTION = _object({"type": _STRING, "strength": _NUMBER}, "null")
_VOICE = _object({"id": _STRING}, "string")
_TOOL = _object(
    {"type": _STRING, "name": _STRING, "description": _STRING, "parameters": _ANY_OBJECT},
    open=True,
)
_TOOLS = Shape(kinds=_kinds("array"), items=_TOOL)
_TOOL_CHOICE = _object({}, "string", open=True)
_MAX_TOKENS = _leaf("integer", "string")
_TRACING = _object(
    {"workflow_name": _STRING, "group_id": _STRING, "metadata": _ANY_OBJECT}, "string", "null"
)
_NULLABLE_OBJECT = _leaf("object", "null")

GA_SESSION = _object(
    {
        "type": _STRING,
        "model": _STRING,
        "instructions": _STRING,
        "output_modalities": _STRINGS,
        "audio": _object(
            {
                "input": _object(
                    {
                        "format": _FORMAT,
                        "transcription": _TRANSCRIPTION,
                        "noise_reduction": _NOISE_REDUCTION,
                        "turn_detection": _TURN_DETECTION,
                    }
                ),
                "output": _object({"format": _FORMAT, "voice": _VOICE, "speed": _NUMBER}),
            }
        ),
        "tools": _TOOLS,
        "tool_choice": _TOOL_CHOICE,
        "max_output_tokens": _MAX_TOKENS,
        "tracing": _TRACING,
        "truncation": _object({}, "string", open=True),
        "prompt": _NULLABLE_OBJECT,
        "include": _STRINGS,
        "parallel_tool_calls": _BOOLEAN,
        "reasoning": _ANY_OBJECT,
    }
)
"""``session.update``'s ``session`` (GA)."""

_BETA_FORMAT = Shape(kinds=_kinds("string"), values=frozenset({"pcm16", "g711_ulaw", "g711_alaw"}))

# The beta protocol names its models (the openai package's beta ``Session.model``); GA takes
# any string.
_BETA_MODEL = Shape(
    kinds=_kinds("string"),
    values=frozenset(
        {
            "gpt-realtime",
            "gpt-realtime-2025-08-28",
            "gpt-4o-realtime-preview",
            "gpt-4o-realtime-preview-2024-10-01",
            "gpt-4o-realtime-preview-2024-12-17",
            "gpt-4o-realtime-preview-2025-06-03",
            "gpt-4o-mini-realtime-preview",
            "gpt-4o-mini-realtime-preview-2024-12-17",
        }
    ),
)

BETA_SESSION = _object(
    {
        "model": _BETA_MODEL,
        "instructions": _STRING,
        "modalities": _STRINGS,
        "voice": _STRING,
        "speed": _NUMBER,
        "input_audio_format": _BETA_FORMAT,
        "output_audio_format": _BETA_FORMAT,
        "input_audio_transcription": _TRANSCRIPTION,
        "input_audio_noise_reduction": _NOISE_REDUCTION,
        "turn_detection": _TURN_DETECTION,
        "tools": _TOOLS,
        "tool_choice": _STRING,
        "temperature": _NUMBER,
        "max_response_output_tokens": _MAX_TOKENS,
        "tracing": _TRACING,
        "include": _STRINGS,
    }
)
"""``session.update``'s ``session`` in the beta dialect: flat, with format names."""

_ITEMS = _leaf("array")  # each item is checked by _rules.item_problem

GA_RESPONSE = _object(
    {
        "audio": _object(
            {"output": _object({"format": _FORMAT, "voice": _VOICE})},
        ),
        "conversation": _STRING,
        "input": _ITEMS,
        "instructions": _STRING,
        "max_output_tokens": _MAX_TOKENS,
        "metadata": _NULLABLE_OBJECT,
        "output_modalities": _STRINGS,
        "prompt": _NULLABLE_OBJECT,
        "tool_choice": _TOOL_CHOICE,
        "tools": _TOOLS,
    }
)
"""``response.create``'s ``response`` (GA)."""

BETA_RESPONSE = _object(
    {
        "conversation": _STRING,
        "input": _ITEMS,
        "instructions": _STRING,
        "max_response_output_tokens": _MAX_TOKENS,
        "metadata": _NULLABLE_OBJECT,
        "modalities": _STRINGS,
        "output_audio_format": _BETA_FORMAT,
        "temperature": _NUMBER,
        "tool_choice": _STRING,
        "tools": _TOOLS,
        "voice": _STRING,
    }
)
"""``response.create``'s ``response`` in the beta dialect."""


def shape_problem(value: Any, shape: Shape, path: str) -> FrameProblem | None:
    """The first place where ``value`` does not have ``shape`` (``path`` names it), or None."""
    kind = json_kind(value)
    accepted = kind in shape.kinds or (kind == "integer" and "number" in shape.kinds)
    if not accepted:
        return _invalid_type(path, shape.kinds, kind)
    if shape.values is not None and value not in shape.values:
        allowed = ", ".join(repr(v) for v in sorted(shape.values))
        return FrameProblem(
            code="invalid_value",
            message=f"Invalid value: {value!r}. Supported values are: {allowed}.",
            param=path,
        )
    if kind == "object" and shape.fields is not None:
        return _object_problem(value, shape, path)
    if kind == "array" and shape.items is not None:
        for index, element in enumerate(value):
            problem = shape_problem(element, shape.items, f"{path}[{index}]")
            if problem is not None:
                return problem
    return None


def _object_problem(value: Mapping[str, Any], shape: Shape, path: str) -> FrameProblem | None:
    assert shape.fields is not None
    for key in sorted(shape.required):
        if key not in value:
            return FrameProblem(
                code="missing_required_parameter",
                message=f"Missing required parameter: '{path}.{key}'.",
                param=f"{path}.{key}",
            )
    fields = shape.fields
    if shape.tagged is not None:
        tag = value.get("type")
        problem = shape_problem(tag, fields["type"], f"{path}.type")
        if problem is not None:
            return problem
        extra = shape.tagged.get(tag) if isinstance(tag, str) else None
        if extra is None:
            return None  # an unknown type: the value check names it, whatever comes with it
        fields = {**fields, **extra}
    for key, element in value.items():
        where = f"{path}.{key}"
        field = fields.get(key)
        if field is None:
            if shape.open:
                continue
            return FrameProblem(
                code="unknown_parameter", message=f"Unknown parameter: '{where}'.", param=where
            )
        problem = shape_problem(element, field, where)
        if problem is not None:
            return problem
    return None


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
