"""What the application and the driver hand to ``Session.handle``.

Besides these, ``handle`` takes typed server events (``wire.ServerEvent``) and raw server text
frames (``str``/``bytes``, decoded with the session's dialect). Every input is a frozen,
keyword-only attrs class; the names match the seed SDK's API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._repr import short_bytes_repr
from .agent import Agent
from .config import SessionModelSettings
from .items import UserMessage
from .wire import ClientEvent, ServerEvent

__all__ = [
    "AnyInput",
    "ApproveTool",
    "AudioPlayed",
    "ClearAudio",
    "Close",
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


@attrs.frozen(kw_only=True)
class Connected:
    """The transport is open: the session configures the model and starts."""


@attrs.frozen(kw_only=True)
class ConnectionLost:
    """The transport closed (``code`` is the WebSocket close code, when there was one)."""

    code: int | None = None
    reason: str = ""


@attrs.frozen(kw_only=True)
class Close:
    """The application wants to end the session."""


# -- application commands ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SendMessage:
    """A user message: text, or a ``UserMessage`` (text with images, see ``items``)."""

    message: str | UserMessage


@attrs.frozen(kw_only=True)
class SendAudio:
    """PCM16 (or G.711) audio in the session's input format; ``commit`` ends the user's turn."""

    data: bytes = attrs.field(repr=short_bytes_repr)
    commit: bool = False


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
    hearing it. Without them the session estimates from the clock.
    """

    item_id: str
    content_index: int = 0
    ms: float


# -- answers to effects --------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ToolResult:
    """The output of a ``CallTool`` effect. ``failed`` marks an error text (an exception)."""

    call_id: str
    output: str
    failed: bool = False


@attrs.frozen(kw_only=True)
class ApproveTool:
    """Run a tool call that waits for approval (``ToolApprovalRequiredEvent``)."""

    call_id: str


@attrs.frozen(kw_only=True)
class RejectTool:
    """Refuse a tool call that waits for approval; ``message`` is what the model is told."""

    call_id: str
    message: str | None = None


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

    request_id: str
    instructions: str = ""
    error: str | None = None


@attrs.frozen(kw_only=True)
class TimerFired:
    """The driver's clock reached ``get_timer()``; ``now`` is the same clock's reading."""

    now: float


Input = (
    Connected
    | ConnectionLost
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
