"""Helpers and types shared by the agent and function-tool tests."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, TypedDict

import attrs
from oracle import validate_session_request
from realtime_sansio.protocol.agent import (
    FunctionTool,
    Handoff,
    ToolContext,
)

EMPTY = {"type": "object", "properties": {}, "additionalProperties": False, "required": []}


def never_called(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the core must not call user code")


def ctx(name: str = "t") -> ToolContext[dict[str, int]]:
    return ToolContext(context={"user": 1}, call_id="call_1", tool_name=name)


def assert_valid_session_tools(*tools: FunctionTool | Handoff) -> None:
    validate_session_request({"type": "realtime", "tools": [t.to_wire() for t in tools]})


def strict_everywhere(schema: Any) -> None:
    """Every object schema is closed and requires all its properties (OpenAI strict mode)."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            assert schema["additionalProperties"] is False
            assert sorted(schema["required"]) == sorted(schema["properties"])
        for value in schema.values():
            strict_everywhere(value)
    elif isinstance(schema, list):
        for value in schema:
            strict_everywhere(value)


# -- types for schemas ---------------------------------------------------------------------


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass(frozen=True)
class Location:
    city: str
    country: str = "FR"
    coordinates: tuple[float, ...] = ()


@attrs.frozen
class Window:
    start: int
    _end: int = 24  # attrs init name "end"


class Filters(TypedDict, total=False):
    tag: str
    limit: int


class Person(TypedDict):
    name: str


@dataclasses.dataclass
class Node:
    label: str
    children: list[Node]
