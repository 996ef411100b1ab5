"""Text frames <-> typed events, in the GA dialect or the beta one.

GA is canonical: every typed event is GA. The beta dialect (Azure and compatible proxies) is a
translation of the JSON objects at this edge only (``beta.py``), so nothing above the codec
ever sees a beta name or shape.

``decode_*`` never lets anything but ``RemoteProtocolError`` escape, whatever the bytes: the
peer's mistakes must not crash the caller. ``encode_*`` raises ``LocalProtocolError`` for an
event the caller built wrongly (a field of the wrong type).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeAlias

from .._repr import json_kind
from ..errors import LocalProtocolError, RemoteProtocolError
from . import beta, speedups
from ._schema import Codec, compile_codec
from .client_events import (
    CLIENT_EVENT_CLASSES,
    ClientEvent,
    ClientEventBase,
    InputAudioBufferAppend,
    RawClientEvent,
)
from .server_events import (
    SERVER_EVENT_CLASSES,
    ErrorDetail,
    ServerEvent,
    ServerEventBase,
    UnknownServerEvent,
)

__all__ = [
    "Dialect",
    "client_event_to_json",
    "decode_client_event",
    "decode_server_event",
    "encode_client_event",
    "encode_server_event",
    "parse_json",
    "parse_json_object",
    "server_event_to_json",
]

Dialect: TypeAlias = Literal["ga", "beta"]

compile_codec(ErrorDetail, "error.error")
_SERVER: dict[str, Codec] = {
    cls.type: compile_codec(cls, cls.type, header={"type": cls.type})
    for cls in SERVER_EVENT_CLASSES
}
_CLIENT: dict[str, Codec] = {
    cls.type: compile_codec(cls, cls.type, header={"type": cls.type})
    for cls in CLIENT_EVENT_CLASSES
}
_SERVER_BY_CLASS: dict[type, Codec] = {c.cls: c for c in _SERVER.values()}
_SERVER_DECODERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    t: c.decode for t, c in _SERVER.items()
}
_SERVER_FLAT: dict[str, Callable[[dict[str, Any]], Any]] = {
    t: c.decode_flat for t, c in _SERVER.items() if c.decode_flat is not None
}
_CLIENT_BY_CLASS: dict[type, Codec] = {c.cls: c for c in _CLIENT.values()}

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def parse_json(data: str | bytes) -> Any:
    """Parse one frame into any JSON value, or raise RemoteProtocolError: the one guard against
    what a peer can put in a frame (bad UTF-8, bad JSON, over-long integers, nesting deeper
    than the parser's recursion allows)."""
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        return speedups.loads(text)
    except (ValueError, RecursionError, TypeError) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and over-long integers.
        raise RemoteProtocolError(f"malformed frame: {_brief(exc)}") from None


def parse_json_object(data: str | bytes) -> dict[str, Any]:
    """Parse one frame into a JSON object with a string ``type``, or raise RemoteProtocolError."""
    obj = parse_json(data)
    if type(obj) is not dict:
        raise RemoteProtocolError(f"malformed frame: expected a JSON object, got {json_kind(obj)}")
    if type(obj.get("type")) is not str:
        raise RemoteProtocolError("malformed frame: the event has no string 'type'", field="type")
    return obj


def decode_server_event(data: str | bytes, *, dialect: Dialect = "ga") -> ServerEvent:
    """Decode one text frame from the server into a typed event.

    An unknown ``type`` gives ``UnknownServerEvent`` (never an error). Malformed JSON, a
    missing required field or a wrong field type raises ``RemoteProtocolError`` naming the
    event type and the field; no other exception escapes.
    """
    if dialect == "ga" and type(data) is str:
        # The hot path, one frame per audio delta: parse_json_object's checks, inlined.
        loads = speedups.unchecked_loads
        if loads is not None:
            # The speed extra. orjson's parse is json's but for integers past 64 bits, which
            # it makes floats, and for how deep it nests (``speedups``). An event whose fields
            # are all strings, integers, booleans or base64 text needs no walk to know that:
            # its decode_flat takes an object with no key but its own, every value of which it
            # checks, and gives None for the rest (an over-long integer among them). Then the
            # walk says whether orjson's values are json's; where they are not, or orjson
            # refused the text, json decides, on the general path below.
            try:
                obj = loads(data)
            except ValueError:
                obj = None
            if type(obj) is dict:
                event_type = obj.get("type")
                if type(event_type) is str:
                    flat = _SERVER_FLAT.get(event_type)
                    event = None if flat is None else flat(obj)
                    if event is not None:
                        return event  # type: ignore[no-any-return]
                    if speedups.agrees_with_json(obj):
                        decode = _SERVER_DECODERS.get(event_type)
                        if decode is not None:
                            return decode(obj)  # type: ignore[no-any-return]
                        return UnknownServerEvent(type=event_type, raw=obj)
        else:
            try:
                obj = speedups.loads(data)
            except (ValueError, RecursionError) as exc:
                raise RemoteProtocolError(f"malformed frame: {_brief(exc)}") from None
            if type(obj) is dict:
                event_type = obj.get("type")
                if type(event_type) is str:
                    decode = _SERVER_DECODERS.get(event_type)
                    if decode is not None:
                        return decode(obj)  # type: ignore[no-any-return]
                    return UnknownServerEvent(type=event_type, raw=obj)
    obj = _in_dialect(parse_json_object(data), dialect, beta.server_event_to_ga, remote=True)
    decode = _SERVER_DECODERS.get(obj["type"])
    if decode is None:
        return UnknownServerEvent(type=obj["type"], raw=obj)
    return decode(obj)  # type: ignore[no-any-return]


def decode_client_event(data: str | bytes, *, dialect: Dialect = "ga") -> ClientEvent:
    """Decode one text frame from a client (the fake server's side of the codec).

    Client events have no forward-compatibility escape: an unknown type is a
    ``RemoteProtocolError``, as the real server answers it with an error event.
    """
    obj = _in_dialect(parse_json_object(data), dialect, beta.client_event_to_ga, remote=True)
    codec = _CLIENT.get(obj["type"])
    if codec is None:
        raise RemoteProtocolError(
            f"unknown client event type {obj['type']!r}",
            event_type=obj["type"],
            field="type",
        )
    return codec.decode(obj)  # type: ignore[no-any-return]


def encode_client_event(
    event: ClientEvent | RawClientEvent | Mapping[str, Any], *, dialect: Dialect = "ga"
) -> str:
    """Encode a client event (or a raw JSON object, for ``send_raw_event``) as a text frame."""
    if type(event) is InputAudioBufferAppend and event.event_id is None and dialect == "ga":
        audio = event.audio
        if isinstance(audio, (bytes, bytearray, memoryview)):
            # The hot path, a frame per 20 ms of audio: the text _dumps writes for it (base64
            # has nothing to escape), without building the dict first.
            return _APPEND_HEAD + speedups.b64encode(audio) + '"}'
    return _dumps(client_event_to_json(event, dialect=dialect))


_APPEND_HEAD = '{"type":"input_audio_buffer.append","audio":"'


def encode_server_event(event: ServerEvent | Mapping[str, Any], *, dialect: Dialect = "ga") -> str:
    """Encode a server event as a text frame (used by the fake server)."""
    return _dumps(server_event_to_json(event, dialect=dialect))


def client_event_to_json(
    event: ClientEvent | RawClientEvent | Mapping[str, Any], *, dialect: Dialect = "ga"
) -> dict[str, Any]:
    """The JSON object of a client event, before serialisation."""
    obj = _to_json(_CLIENT_BY_CLASS, event, ClientEventBase)
    return _in_dialect(obj, dialect, beta.client_event_to_beta, remote=False)


def server_event_to_json(
    event: ServerEvent | Mapping[str, Any], *, dialect: Dialect = "ga"
) -> dict[str, Any]:
    """The JSON object of a server event, before serialisation."""
    if isinstance(event, UnknownServerEvent):
        obj = dict(event.raw)
    else:
        obj = _to_json(_SERVER_BY_CLASS, event, ServerEventBase)
    return _in_dialect(obj, dialect, beta.server_event_to_beta, remote=False)


def _to_json(codecs: dict[type, Codec], event: Any, base: type) -> dict[str, Any]:
    codec = codecs.get(type(event))
    if codec is not None:
        return codec.encode(event)
    if isinstance(event, RawClientEvent):
        return dict(event.payload)
    if isinstance(event, Mapping):
        if not isinstance(event.get("type"), str):
            raise LocalProtocolError("a raw event needs a string 'type'")
        return dict(event)
    raise LocalProtocolError(
        f"cannot encode {type(event).__name__}: not a {base.__name__} or a mapping"
    )


_Translator = Callable[[dict[str, Any]], dict[str, Any]]


def _in_dialect(
    obj: dict[str, Any], dialect: Dialect, translator: _Translator, *, remote: bool
) -> dict[str, Any]:
    """``obj`` through the beta translator when the dialect is beta; GA objects pass as they are.

    ``remote``: the object came from the peer, so the translator's surprises are the peer's
    protocol errors, not crashes.
    """
    if dialect == "ga":
        return obj
    if dialect != "beta":
        raise LocalProtocolError(f"unknown dialect {dialect!r}; expected 'ga' or 'beta'")
    if not remote:
        return translator(obj)
    try:
        return translator(obj)
    except RemoteProtocolError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RemoteProtocolError(
            f"{obj['type']}: cannot translate from the beta dialect: {_brief(exc)}",
            event_type=obj["type"],
        ) from None


def _brief(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
