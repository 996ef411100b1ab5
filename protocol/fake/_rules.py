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
from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = ["FrameProblem", "decode_frame", "session_problem"]

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
_TURN_DETECTION = {
    "server_vad": frozenset(
        {
            "type",
            "threshold",
            "prefix_padding_ms",
            "silence_duration_ms",
            "idle_timeout_ms",
            "create_response",
            "interrupt_response",
        }
    ),
    "semantic_vad": frozenset({"type", "eagerness", "create_response", "interrupt_response"}),
}


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
    try:
        settings_from_session_payload(session, event_type="session.update")
    except (RemoteProtocolError, LocalProtocolError) as exc:
        field = getattr(exc, "field", None)
        param = f"session.{field}" if field else "session"
        return FrameProblem(
            code="invalid_value", message=f"Invalid value for {param!r}: {exc}", param=param
        )
    return None


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
