"""The fake server's first line: reading a client frame, and checking what it asks for.

Whatever a client sends, the answer is an event, never an exception. ``decode_frame`` refuses
a frame that is not JSON or nests deeper than ``MAX_NESTING`` (``invalid_json``), has no type
(``missing_required_parameter``), names a type no server knows (``unknown_event_type``),
lacks a field or has one of the wrong type (``missing_required_parameter`` /
``invalid_type``, with ``param``), or whose ``session`` / ``response`` does not have the API's
shape (``_shapes``: ``unknown_parameter``, ``invalid_type``... with the path as the real
server says it, ``session.audio.output``). Then ``session_problem``, ``item_problem`` and
``response_problem`` refuse the values the API refuses (``invalid_value``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .. import wire
from ..config import settings_from_session_payload
from ..errors import LocalProtocolError, RemoteProtocolError
from ..items import UnknownItem, item_from_wire
from ._shapes import (
    MAX_NESTING,
    FrameProblem,
    Shape,
    nested_deeper_than,
    range_problem,
    shape_problem,
)
from ._surface import BETA_RESPONSE, BETA_SESSION, GA_RESPONSE, GA_SESSION

__all__ = [
    "MAX_NESTING",
    "FrameProblem",
    "decode_frame",
    "item_problem",
    "response_problem",
    "session_problem",
]

_ITEM_REFERENCE = Shape(
    kinds=frozenset({"object"}),
    fields={"type": Shape(kinds=frozenset({"string"})), "id": Shape(kinds=frozenset({"string"}))},
    required=frozenset({"id"}),
)

_CLIENT_TYPES = tuple(sorted(cls.type for cls in wire.CLIENT_EVENT_CLASSES))

# Where the beta dialect has a GA path, flat: a value refused in GA terms is named in the
# client's own (most specific prefix first).
_BETA_PATHS = (
    ("session.audio.input.format", "session.input_audio_format"),
    ("session.audio.output.format", "session.output_audio_format"),
    ("session.audio.input.transcription", "session.input_audio_transcription"),
    ("session.audio.input.noise_reduction", "session.input_audio_noise_reduction"),
    ("session.audio.input.turn_detection", "session.turn_detection"),
    ("session.audio.output.voice", "session.voice"),
    ("session.audio.output.speed", "session.speed"),
    ("session.output_modalities", "session.modalities"),
    ("session.max_output_tokens", "session.max_response_output_tokens"),
)


def decode_frame(text: str, dialect: wire.Dialect) -> wire.ClientEvent | FrameProblem:
    """One client text frame, typed; or what is wrong with it."""
    try:
        event = wire.decode_client_event(text, dialect=dialect)
    except RemoteProtocolError as exc:
        return _refusal(text, dialect, exc)
    problem = _shape_of(event, text, dialect)
    return event if problem is None else attrs.evolve(problem, event_id=event.event_id)


def _shape_of(event: wire.ClientEvent, text: str, dialect: wire.Dialect) -> FrameProblem | None:
    """What is wrong with a decoded event's nesting or its session / response's shape."""
    if _too_deep(text):
        return FrameProblem(
            code="invalid_json",
            message=f"The event is nested deeper than {MAX_NESTING} levels.",
        )
    if isinstance(event, wire.ConversationItemTruncate):
        return range_problem(event.audio_end_ms, "audio_end_ms", 0, None) or range_problem(
            event.content_index, "content_index", 0, None
        )
    if not isinstance(event, wire.SessionUpdate | wire.ResponseCreate):
        return None
    if dialect == "beta":
        # The beta shape is checked on the frame as sent: the GA translation has lost it.
        return _beta_shape(wire.parse_json_object(text))
    if isinstance(event, wire.SessionUpdate):
        return shape_problem(event.session, GA_SESSION, "session")
    return (
        None if event.response is None else shape_problem(event.response, GA_RESPONSE, "response")
    )


def _too_deep(text: str) -> bool:
    # Counting brackets is a fast scan of the text; only a frame with more of them than the
    # bound can nest that deep, and only such a frame is parsed again to measure.
    if text.count("{") + text.count("[") <= MAX_NESTING:
        return False
    try:
        return nested_deeper_than(wire.parse_json(text), MAX_NESTING)
    except RemoteProtocolError:
        return True  # it parsed once: only the parser's recursion can fail it a second time


def _beta_shape(obj: Mapping[str, Any]) -> FrameProblem | None:
    if obj["type"] == "session.update" and "session" in obj:
        return shape_problem(obj["session"], BETA_SESSION, "session")
    if obj["type"] == "response.create" and obj.get("response") is not None:
        return shape_problem(obj["response"], BETA_RESPONSE, "response")
    return None


def _refusal(text: str, dialect: wire.Dialect, failure: RemoteProtocolError) -> FrameProblem:
    """The slow path, for refused frames only: what to say, and the event_id to echo."""
    try:
        obj = wire.parse_json(text)
    except RemoteProtocolError as exc:
        reason = str(exc).removeprefix("malformed frame: ")
        return FrameProblem(code="invalid_json", message=f"The event is not valid JSON: {reason}.")
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
    # A beta session or response the translation could not read: its shape says why.
    shape = _beta_shape(obj) if dialect == "beta" else None
    if shape is not None:
        return attrs.evolve(shape, event_id=event_id)
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


def session_problem(
    session: Mapping[str, Any], dialect: wire.Dialect, current: Mapping[str, Any] | None = None
) -> FrameProblem | None:
    """What the real server would refuse in a ``session.update``'s values (in GA terms, its
    shape already checked by ``decode_frame``), given the ``current`` session, or None.
    ``param`` is in the dialect's terms."""
    if current is not None:
        problem = _fixed_problem(session, current)
        if problem is not None:
            return attrs.evolve(problem, param=_in_dialect(problem.param or "", dialect))
    try:
        settings_from_session_payload(session, event_type="session.update")
    except (RemoteProtocolError, LocalProtocolError) as exc:
        field = getattr(exc, "field", None)
        param = _in_dialect(f"session.{field}" if field else "session", dialect)
        return FrameProblem(
            code="invalid_value",
            message=f"Invalid value for {param!r}: {_api_words(str(exc))}.",
            param=param,
        )
    return None


def _fixed_problem(session: Mapping[str, Any], current: Mapping[str, Any]) -> FrameProblem | None:
    """The settings a session keeps once set: its model, and tracing once it is on (the
    ``openai`` types: "Once tracing is enabled for a session, the configuration cannot be
    modified")."""
    model = session.get("model")
    if model is not None and "model" in current and model != current["model"]:
        return FrameProblem(
            code="invalid_value",
            message=(
                f"Invalid value for 'session.model': the session's model is"
                f" {current.get('model')!r} and cannot be changed to {model!r}."
            ),
            param="session.model",
        )
    tracing = current.get("tracing")
    if "tracing" in session and tracing is not None and session["tracing"] != tracing:
        return FrameProblem(
            code="invalid_value",
            message=(
                "Invalid value for 'session.tracing': tracing is enabled for this session, and"
                " its configuration cannot be modified."
            ),
            param="session.tracing",
        )
    return None


# The config's validators speak of their own classes ("SessionModelSettings.speed must
# be..."); the API speaks of fields, and so does the fake.
_INTERNAL_PREFIX = re.compile(r"^session field \S+ in session\.update: ")
_CLASS_QUALIFIER = re.compile(r"\b[A-Z][A-Za-z]*(?:Settings|Config|Function)\b\.?")


def _api_words(message: str) -> str:
    message = _INTERNAL_PREFIX.sub("", message)
    return _CLASS_QUALIFIER.sub("", message).strip().rstrip(".")


def _in_dialect(path: str, dialect: wire.Dialect) -> str:
    if dialect == "beta":
        for ga, beta in _BETA_PATHS:
            if path == ga or path.startswith((ga + ".", ga + "[")):
                return beta + path[len(ga) :]
    return path


def _invalid_type(param: str, expected: str) -> FrameProblem:
    return FrameProblem(
        code="invalid_type",
        message=f"Invalid type for {param!r}: expected {expected}.",
        param=param,
    )


def item_problem(item: Any, where: str = "item") -> FrameProblem | None:
    """What the real server would refuse in an item a client creates (the ServerModel takes
    any object, and would echo a malformed one in ``conversation.item.added``)."""
    try:
        parsed = item_from_wire(item)
    except RemoteProtocolError as exc:
        field = f"{where}.{exc.field}" if exc.field and exc.field != "item" else where
        return _item_refusal(str(exc), field)
    if isinstance(parsed, UnknownItem):
        return FrameProblem(
            code="invalid_value",
            message=f"Invalid {where}: a type, role or content part the API does not know.",
            param=where,
        )
    return None


# What the items' reader says (``protocol.items``), in the API's words.
_WRONG_TYPE = re.compile(r"must be (?P<expected>.+?) \(got (?P<got>\w+)\)$")
_NOT_ONE_OF = re.compile(r"must be one of (?P<choices>.+), not (?P<value>.+)$")
_JSON_KINDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "list": "an array",
    "dict": "an object",
    "NoneType": "null",
}


def _item_refusal(reason: str, field: str) -> FrameProblem:
    if reason.endswith("(missing)"):
        return FrameProblem(
            code="missing_required_parameter",
            message=f"Missing required parameter: {field!r}.",
            param=field,
        )
    wrong = _WRONG_TYPE.search(reason)
    if wrong is not None:
        got = _JSON_KINDS.get(wrong["got"], wrong["got"])
        expected = wrong["expected"].replace("a list", "an array")
        message = f"Invalid type for {field!r}: expected {expected}, but got {got} instead."
        return FrameProblem(code="invalid_type", message=message, param=field)
    if reason.endswith("is not valid base64"):
        message = f"Invalid type for {field!r}: expected base64-encoded audio."
        return FrameProblem(code="invalid_type", message=message, param=field)
    choice = _NOT_ONE_OF.search(reason)
    if choice is not None:
        supported = ", ".join(repr(c) for c in choice["choices"].split(", "))
        message = f"Invalid value: {choice['value']}. Supported values are: {supported}."
        return FrameProblem(code="invalid_value", message=message, param=field)
    return FrameProblem(code="invalid_value", message=f"Invalid value for {field!r}.", param=field)


def response_problem(
    params: Mapping[str, Any], has_item: Callable[[str], bool] = lambda item_id: False
) -> FrameProblem | None:
    """What the real server would refuse in ``response.create``'s ``response`` (its shape
    already checked by ``decode_frame``); ``has_item`` tells whether an ``item_reference``
    names an item of the session."""
    conversation = params.get("conversation", "auto")
    if conversation not in ("auto", "none"):
        return _invalid_value("response.conversation", "'auto' or 'none'")
    modalities = params.get("output_modalities")
    if modalities is not None and modalities not in (["text"], ["audio"]):
        return _invalid_value("response.output_modalities", "['text'] or ['audio']")
    metadata = params.get("metadata")
    if metadata is not None and len(metadata) > 16:
        return _invalid_value("response.metadata", "up to 16 key-value pairs")
    given = params.get("input")
    for index, item in enumerate(given if isinstance(given, list) else ()):
        where = f"response.input[{index}]"
        if isinstance(item, Mapping) and item.get("type") == "item_reference":
            problem = _reference_problem(item, where, has_item)
        else:
            problem = item_problem(item, where)
        if problem is not None:
            return problem
    return None


def _reference_problem(
    item: Mapping[str, Any], where: str, has_item: Callable[[str], bool]
) -> FrameProblem | None:
    """An ``item_reference`` (only in a response's input): ``{"type", "id"}`` naming an item
    of the session."""
    problem = shape_problem(item, _ITEM_REFERENCE, where)
    if problem is not None:
        return problem
    if not has_item(item["id"]):
        return FrameProblem(
            code="invalid_value",
            message=f"Invalid value for '{where}.id': no item {item['id']!r} in the session.",
            param=f"{where}.id",
        )
    return None


def _invalid_value(param: str, expected: str) -> FrameProblem:
    return FrameProblem(
        code="invalid_value",
        message=f"Invalid value for {param!r}: expected {expected}.",
        param=param,
    )
