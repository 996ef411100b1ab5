"""The eleven GA client events: what a client sends to the Realtime server.

Nested objects (``session``, ``item``, ``response``) travel as JSON objects (``dict``); the
typed views of them live in ``config`` and ``items``. Audio is ``bytes``: base64 exists only
on the wire, and the codec converts it exactly once.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .._repr import short_bytes_repr
from ..errors import LocalProtocolError

__all__ = [
    "CLIENT_EVENT_CLASSES",
    "ClientEvent",
    "ClientEventBase",
    "ConversationItemCreate",
    "ConversationItemDelete",
    "ConversationItemRetrieve",
    "ConversationItemTruncate",
    "InputAudioBufferAppend",
    "InputAudioBufferClear",
    "InputAudioBufferCommit",
    "OutputAudioBufferClear",
    "RawClientEvent",
    "ResponseCancel",
    "ResponseCreate",
    "SessionUpdate",
]


@attrs.frozen(kw_only=True)
class ClientEventBase:
    """Every client event may carry an ``event_id``; the server echoes it in errors."""

    type: ClassVar[str]
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class SessionUpdate(ClientEventBase):
    type: ClassVar[str] = "session.update"
    session: dict[str, Any]


@attrs.frozen(kw_only=True)
class InputAudioBufferAppend(ClientEventBase):
    type: ClassVar[str] = "input_audio_buffer.append"
    audio: bytes = attrs.field(repr=short_bytes_repr)


@attrs.frozen(kw_only=True)
class InputAudioBufferCommit(ClientEventBase):
    type: ClassVar[str] = "input_audio_buffer.commit"


@attrs.frozen(kw_only=True)
class InputAudioBufferClear(ClientEventBase):
    type: ClassVar[str] = "input_audio_buffer.clear"


@attrs.frozen(kw_only=True)
class OutputAudioBufferClear(ClientEventBase):
    """WebRTC/SIP only: cut the audio the server is still playing out."""

    type: ClassVar[str] = "output_audio_buffer.clear"


@attrs.frozen(kw_only=True)
class ConversationItemCreate(ClientEventBase):
    type: ClassVar[str] = "conversation.item.create"
    item: dict[str, Any]
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemRetrieve(ClientEventBase):
    type: ClassVar[str] = "conversation.item.retrieve"
    item_id: str


@attrs.frozen(kw_only=True)
class ConversationItemTruncate(ClientEventBase):
    type: ClassVar[str] = "conversation.item.truncate"
    item_id: str
    content_index: int
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class ConversationItemDelete(ClientEventBase):
    type: ClassVar[str] = "conversation.item.delete"
    item_id: str


@attrs.frozen(kw_only=True)
class ResponseCreate(ClientEventBase):
    """``response`` holds per-response parameters; ``conversation: "none"`` is out of band."""

    type: ClassVar[str] = "response.create"
    response: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class ResponseCancel(ClientEventBase):
    type: ClassVar[str] = "response.cancel"
    response_id: str | None = None


def _check_raw(instance: RawClientEvent, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise LocalProtocolError("a raw client event is a JSON object with a string 'type'")


@attrs.frozen(kw_only=True)
class RawClientEvent:
    """A client event given as a JSON object (``send_raw_event``): sent as it is, translated
    to the beta dialect like any other. Not one of the eleven typed events."""

    payload: dict[str, Any] = attrs.field(validator=_check_raw)

    @property
    def type(self) -> str:
        return str(self.payload["type"])


ClientEvent = (
    SessionUpdate
    | InputAudioBufferAppend
    | InputAudioBufferCommit
    | InputAudioBufferClear
    | OutputAudioBufferClear
    | ConversationItemCreate
    | ConversationItemRetrieve
    | ConversationItemTruncate
    | ConversationItemDelete
    | ResponseCreate
    | ResponseCancel
)

CLIENT_EVENT_CLASSES: tuple[type[ClientEventBase], ...] = (
    SessionUpdate,
    InputAudioBufferAppend,
    InputAudioBufferCommit,
    InputAudioBufferClear,
    OutputAudioBufferClear,
    ConversationItemCreate,
    ConversationItemRetrieve,
    ConversationItemTruncate,
    ConversationItemDelete,
    ResponseCreate,
    ResponseCancel,
)
