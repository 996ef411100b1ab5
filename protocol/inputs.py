"""What the application and the driver hand to ``Session.handle``.

Besides these, ``handle`` takes typed server events (``wire.ServerEvent``) and raw server text
frames (``str``/``bytes``, decoded with the session's dialect). Every input is a frozen,
keyword-only attrs class; the names match the seed SDK's API.

Each input checks what it can on its own when it is made (types, finite numbers) and raises
``LocalProtocolError`` naming the class, the field, what is expected and what was given; what
needs the session's state (the input audio format of ``SendAudio``) is checked by
``Session.handle`` before anything is sent or queued.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._repr import short_bytes_repr
from .agent import Agent
from .config import SessionModelSettings
from .config.values import any_str, boolean, finite_number, non_negative_number, optional
from .errors import LocalProtocolError, RemoteProtocolError
from .items import UserMessage, item_from_wire
from .wire import ClientEvent, ServerEvent

__all__ = [
    "AnyInput",
    "ApproveTool",
    "AudioPlayed",
    "ClearAudio",
    "Close",
    "ConnectFailed",
    "Connected",
    "ConnectionLost",
    "GuardrailResult",
    "Input",
    "InstructionsResolved",
    "Interrupt",
    "RejectTool",
    "SendAudio",
    "SendMessage",
    "SendRawEvent",
    "TimerFired",
    "ToolResult",
    "UpdateAgent",
    "UpdateSession",
]


# -- the connection ------------------------------------------------------------------------


def _status_code(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
        raise LocalProtocolError(
            f"{type(instance).__name__}.{attribute.name} must be an HTTP status (100..599) or"
            f" None, got {value!r}"
        )


@attrs.frozen(kw_only=True)
class Connected:
    """The transport is open: the session configures the model and starts. After an
    ``effects.OpenConnection``: the new connection is open and is now the session's; the
    session replays the conversation onto it."""


@attrs.frozen(kw_only=True)
class ConnectionLost:
    """The transport closed (``code`` is the WebSocket close code, when there was one)."""

    code: int | None = None
    reason: str = ""


@attrs.frozen(kw_only=True)
class ConnectFailed:
    """The connection an ``effects.OpenConnection`` asked for could not be opened.

    ``status`` is the handshake's HTTP status when the server answered with one (401, 429,
    503...), None for a network error or a timeout. ``permanent`` says the driver knows that
    trying again cannot help (no API key, a malformed URL). ``reason`` says what happened.
    """

    reason: str = attrs.field(default="", validator=any_str)
    status: int | None = attrs.field(default=None, validator=optional(_status_code))
    permanent: bool = attrs.field(default=False, validator=boolean)


@attrs.frozen(kw_only=True)
class Close:
    """The application wants to end the session."""


# -- application commands ------------------------------------------------------------------


_MESSAGE_KEYS = frozenset({"type", "role", "content"})


def _to_message(value: str | UserMessage | Mapping[str, Any]) -> str | UserMessage:
    """The message as text or a ``UserMessage``; a dict with ``content`` parts (the GA user
    message object, ``type`` and ``role`` optional) becomes a ``UserMessage``."""
    if isinstance(value, str | UserMessage):
        return value
    if not isinstance(value, Mapping):
        raise LocalProtocolError(
            "SendMessage.message must be a str, a UserMessage or a dict with 'content' parts,"
            f" got a {type(value).__name__}: {value!r}"
        )
    unknown = sorted(str(key) for key in set(value) - _MESSAGE_KEYS)
    if unknown:
        raise LocalProtocolError(
            f"SendMessage.message has unknown key(s) {unknown}; a user message takes"
            " 'content' (and optionally type='message', role='user')"
        )
    for key, expected in (("type", "message"), ("role", "user")):
        if value.get(key, expected) != expected:
            raise LocalProtocolError(
                f"SendMessage.message: {key} must be {expected!r}, got {value[key]!r}"
            )
    if "content" not in value:
        raise LocalProtocolError("SendMessage.message needs 'content', a list of content parts")
    try:
        item = item_from_wire({"type": "message", "role": "user", "content": value["content"]})
    except RemoteProtocolError as exc:
        raise LocalProtocolError(f"SendMessage.message: {exc}") from None
    if not isinstance(item, UserMessage):  # a part type this library does not model
        kinds = [p.get("type") if isinstance(p, Mapping) else p for p in value["content"]]
        raise LocalProtocolError(
            f"SendMessage.message: content part types {kinds!r}; a user message takes"
            " 'input_text', 'input_audio' and 'input_image' parts"
        )
    return item


def _to_audio(value: bytes | bytearray | memoryview) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise LocalProtocolError(
        "SendAudio.data must be bytes, bytearray or memoryview (audio in the session's input"
        f" format), got a {type(value).__name__}"
    )


@attrs.frozen(kw_only=True)
class SendMessage:
    """A user message: text, a ``UserMessage`` (text with images, see ``items``), or the GA
    user message as a dict, ``{"content": [{"type": "input_text", "text": ...}, ...]}``,
    which is turned into a ``UserMessage`` (anything else is refused)."""

    message: str | UserMessage = attrs.field(converter=_to_message)


@attrs.frozen(kw_only=True)
class SendAudio:
    """Audio in the session's input format; ``commit`` ends the user's turn.

    ``data`` is bytes (a bytearray or memoryview is copied to bytes). PCM16 must be whole
    16-bit samples, an even number of bytes: ``Session.handle`` refuses an odd length, which
    would shift every later sample by a byte. G.711 is one byte a sample: any length.
    """

    data: bytes = attrs.field(converter=_to_audio, repr=short_bytes_repr)
    commit: bool = attrs.field(default=False, validator=boolean)


@attrs.frozen(kw_only=True)
class ClearAudio:
    """Drop the audio appended since the last commit."""


@attrs.frozen(kw_only=True)
class Interrupt:
    """Stop the assistant: cancel its response and cut its audio at the played position.

    ``force_cancel`` sends ``response.cancel`` even when no response is known to be active
    (the server answers ``response_cancel_not_active``, which is harmless).
    """

    force_cancel: bool = False


@attrs.frozen(kw_only=True)
class UpdateSession:
    """Change model settings mid-session; fields set here override the current ones."""

    settings: SessionModelSettings


@attrs.frozen(kw_only=True)
class UpdateAgent:
    """Switch to another agent (its instructions and tools) without a handoff."""

    agent: Agent


@attrs.frozen(kw_only=True)
class SendRawEvent:
    """A client event sent as it is (a typed event or a JSON object with a ``type``).

    A raw ``response.create`` for the default conversation still obeys the one-active-response
    rule: it is deferred like any other request.
    """

    event: ClientEvent | Mapping[str, Any]


@attrs.frozen(kw_only=True)
class AudioPlayed:
    """The application has played ``ms`` milliseconds of an item's audio (a running total).

    Reports make truncation exact: an interrupted item is cut where the listener stopped
    hearing it. Without them the session estimates from the clock. ``ms`` is a finite number
    >= 0 (an int or a float).
    """

    item_id: str = attrs.field(validator=any_str)
    content_index: int = 0
    ms: float = attrs.field(validator=non_negative_number)


# -- answers to effects --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ToolResult:
    """The output of a ``CallTool`` effect (a str: it is what the model reads). ``failed``
    marks an error text (an exception)."""

    call_id: str = attrs.field(validator=any_str)
    output: str = attrs.field(validator=any_str)
    failed: bool = attrs.field(default=False, validator=boolean)


@attrs.frozen(kw_only=True)
class ApproveTool:
    """Run a tool call that waits for approval (``ToolApprovalRequiredEvent``)."""

    call_id: str = attrs.field(validator=any_str)


@attrs.frozen(kw_only=True)
class RejectTool:
    """Refuse a tool call that waits for approval; ``message`` is what the model is told."""

    call_id: str = attrs.field(validator=any_str)
    message: str | None = attrs.field(default=None, validator=optional(any_str))


@attrs.frozen(kw_only=True)
class GuardrailResult:
    """The verdict of a ``RunGuardrails`` effect: the names of the guardrails that tripped.

    ``run_id`` is the effect's. ``output_info`` carries what each tripped guardrail returned,
    for the ``GuardrailTrippedEvent``.
    """

    run_id: str
    tripped: tuple[str, ...] = ()
    output_info: tuple[Any, ...] = ()


@attrs.frozen(kw_only=True)
class InstructionsResolved:
    """The answer to ``ResolveInstructions``: the agent's instructions, or why there are none."""

    request_id: str = attrs.field(validator=any_str)
    instructions: str = attrs.field(default="", validator=any_str)
    error: str | None = attrs.field(default=None, validator=optional(any_str))


@attrs.frozen(kw_only=True)
class TimerFired:
    """The driver's clock reached ``get_timer()``; ``now`` is the same clock's reading (a
    finite number)."""

    now: float = attrs.field(validator=finite_number)


Input = (
    Connected
    | ConnectionLost
    | ConnectFailed
    | Close
    | SendMessage
    | SendAudio
    | ClearAudio
    | Interrupt
    | UpdateSession
    | UpdateAgent
    | SendRawEvent
    | AudioPlayed
    | ToolResult
    | ApproveTool
    | RejectTool
    | GuardrailResult
    | InstructionsResolved
    | TimerFired
)
"""Every input that is not a server event."""

AnyInput = Input | ServerEvent | str | bytes
"""What ``Session.handle`` takes: an ``Input``, a ``wire.ServerEvent`` or a raw text frame."""
