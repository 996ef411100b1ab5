"""The fake server's first line: reading a client frame, and checking a ``session.update``.

Whatever a client sends, the answer is an event, never an exception: a frame that is not
JSON (``invalid_json``), has no type (``missing_required_parameter``), names a type no server
knows (``unknown_event_type``), lacks a field or has one of the wrong type
(``missing_required_parameter`` / ``invalid_type``, with ``param``); a ``session.update``
with a field the API does not have (``unknown_parameter``, ``param`` = ``session.<path>`` as
the real server says it) or a value it refuses (``invalid_value``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from .. import wire
from ..config import settings_from_session_payload
from ..config.values import TURN_DETECTION_FIELDS
from ..errors import LocalProtocolError, RemoteProtocolError
from ..items import UnknownItem, item_from_wire

__all__ = ["FrameProblem", "decode_frame", "item_problem", "response_problem", "session_problem"]

_CLIENT_TYPES = tuple(sorted(cls.type for cls in wire.CLIENT_EVENT_CLASSES))

# The GA session's fields (the openai package's RealtimeSessionCreateRequest), by path.
_SESSION = frozenset(
    {
        "type",
        "model",
        "instructions",
        "output_modalities",
        "audio",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "tracing",
        "truncation",
        "prompt",
        "include",
        "parallel_tool_calls",
        "reasoning",
    }
)
_BETA_ONLY = frozenset({"temperature"})  # beta sessions still take it; GA dropped it
_AUDIO = {
    "input": frozenset({"format", "transcription", "noise_reduction", "turn_detection"}),
    "output": frozenset({"format", "voice", "speed"}),
}
# What a turn_detection object may hold: the config's fields for its type, and the type.
_TURN_DETECTION = {kind: fields | {"type"} for kind, fields in TURN_DETECTION_FIELDS.items()}


# ``response.create``'s parameters (the openai package's RealtimeResponseCreateParams).
_RESPONSE = frozenset(
    {
        "audio",
        "conversation",
        "input",
        "instructions",
        "max_output_tokens",
        "metadata",
        "output_modalities",
        "prompt",
        "tool_choice",
        "tools",
    }
)


@attrs.frozen(kw_only=True)
class FrameProblem:
    """Why a client frame or event is refused: the ``error`` event's fields."""

    code: str
    message: str
    param: str | None = None
    event_id: str | None = None


def decode_frame(text: str, dialect: wire.Dialect) -> wire.ClientEvent | FrameProblem:
    """One client text frame, typed; or what is wrong with it."""
    try:
        return wire.decode_client_event(text, dialect=dialect)
    except RemoteProtocolError as exc:
        failure = exc
    # The slow path, for refused frames only: find what to say and the event_id to echo.
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return FrameProblem(code="invalid_json", message=f"The event is not valid JSON: {exc}.")
    if not isinstance(obj, dict):
        return FrameProblem(code="invalid_json", message="The event must be a JSON object.")
    event_id = obj.get("event_id") if isinstance(obj.get("event_id"), str) else None
    kind = obj.get("type")
    if not isinstance(kind, str):
        return FrameProblem(
            code="missing_required_parameter",
            message="Missing required parameter: 'type'.",
            param="type",
            event_id=event_id,
        )
    if kind not in _CLIENT_TYPES:
        supported = ", ".join(repr(t) for t in _CLIENT_TYPES)
        return FrameProblem(
            code="unknown_event_type",
            message=f"Unknown event type: {kind!r}. Supported values are: {supported}.",
            param="type",
            event_id=event_id,
        )
    field = failure.field
    if field is not None and "is missing" in str(failure):
        return FrameProblem(
            code="missing_required_parameter",
            message=f"Missing required parameter: {field!r}.",
            param=field,
            event_id=event_id,
        )
    return FrameProblem(
        code="invalid_type" if field is not None else "invalid_value",
        message=f"Invalid event: {failure}.",
        param=field,
        event_id=event_id,
    )


def session_problem(session: Mapping[str, Any], dialect: wire.Dialect) -> FrameProblem | None:
    """What the real server would refuse in a ``session.update`` (GA terms), or None."""
    path = _unknown(session, dialect)
    if path is not None:
        return FrameProblem(
            code="unknown_parameter", message=f"Unknown parameter: {path!r}.", param=path
        )
    tools = _tools_problem(session.get("tools", []))
    if tools is not None:
        return tools
    try:
        settings_from_session_payload(session, event_type="session.update")
    except (RemoteProtocolError, LocalProtocolError) as exc:
        field = getattr(exc, "field", None)
        param = f"session.{field}" if field else "session"
        return FrameProblem(
            code="invalid_value", message=f"Invalid value for {param!r}: {exc}", param=param
        )
    return None


def _tools_problem(tools: Any, path: str = "session.tools") -> FrameProblem | None:
    """The tools must be objects; a function tool needs a name (the brain reads them)."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        return _invalid_type(path, "an array")
    for index, tool in enumerate(tools):
        where = f"{path}[{index}]"
        if not isinstance(tool, Mapping):
            return _invalid_type(where, "an object")
        if tool.get("type", "function") == "function" and not isinstance(tool.get("name"), str):
            return FrameProblem(
                code="missing_required_parameter",
                message=f"Missing required parameter: '{where}.name'.",
                param=f"{where}.name",
            )
    return None


def _invalid_type(param: str, expected: str) -> FrameProblem:
    return FrameProblem(
        code="invalid_type",
        message=f"Invalid type for {param!r}: expected {expected}.",
        param=param,
    )


def _unknown(session: Mapping[str, Any], dialect: wire.Dialect) -> str | None:
    allowed = _SESSION | (_BETA_ONLY if dialect == "beta" else frozenset())
    for key in session:
        if key not in allowed:
            return f"session.{key}"
    audio = session.get("audio")
    if not isinstance(audio, Mapping):
        return None
    for side, settings in audio.items():
        if side not in _AUDIO:
            return f"session.audio.{side}"
        if not isinstance(settings, Mapping):
            continue
        for key in settings:
            if key not in _AUDIO[side]:
                return f"session.audio.{side}.{key}"
    audio_in = audio.get("input")
    detection = audio_in.get("turn_detection") if isinstance(audio_in, Mapping) else None
    if isinstance(detection, Mapping) and detection.get("type") in _TURN_DETECTION:
        for key in detection:
            if key not in _TURN_DETECTION[detection["type"]]:
                return f"session.audio.input.turn_detection.{key}"
    return None


def item_problem(item: Any, where: str = "item") -> FrameProblem | None:
    """What the real server would refuse in an item a client creates (the ServerModel takes
    any object, and would echo a malformed one in ``conversation.item.added``)."""
    try:
        parsed = item_from_wire(item)
    except RemoteProtocolError as exc:
        field = f"{where}.{exc.field}" if exc.field and exc.field != "item" else where
        if "(missing)" in str(exc):
            return FrameProblem(
                code="missing_required_parameter",
                message=f"Missing required parameter: {field!r}.",
                param=field,
            )
        return FrameProblem(code="invalid_value", message=f"Invalid value: {exc}.", param=field)
    if isinstance(parsed, UnknownItem):
        return FrameProblem(
            code="invalid_value",
            message=f"Invalid {where}: a type, role or content part the API does not know.",
            param=where,
        )
    return None


def response_problem(params: Mapping[str, Any]) -> FrameProblem | None:
    """What the real server would refuse in ``response.create``'s ``response``."""
    for key in params:
        if key not in _RESPONSE:
            param = f"response.{key}"
            return FrameProblem(
                code="unknown_parameter", message=f"Unknown parameter: {param!r}.", param=param
            )
    conversation = params.get("conversation", "auto")
    if conversation not in ("auto", "none"):
        return _invalid_value("response.conversation", "'auto' or 'none'")
    modalities = params.get("output_modalities")
    if modalities is not None and modalities not in (["text"], ["audio"]):
        return _invalid_value("response.output_modalities", "['text'] or ['audio']")
    metadata = params.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, Mapping)
        and all(isinstance(v, str) for v in metadata.values())
        and len(metadata) <= 16
    ):
        return _invalid_value("response.metadata", "up to 16 string values")
    given = params.get("input")
    if given is not None:
        if not isinstance(given, list):
            return _invalid_type("response.input", "an array")
        for index, item in enumerate(given):
            problem = item_problem(item, f"response.input[{index}]")
            if problem is not None:
                return problem
    problem = _tools_problem(params.get("tools"), "response.tools")
    if problem is not None:
        return problem
    return None


def _invalid_value(param: str, expected: str) -> FrameProblem:
    return FrameProblem(
        code="invalid_value",
        message=f"Invalid value for {param!r}: expected {expected}.",
        param=param,
    )
