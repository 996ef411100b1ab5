"""Session events: what subscribers of a session see.

The names are the seed SDK's (``AgentStartEvent``, ``AudioEvent``, ``HandoffEvent`` ...), plus
what voice applications also need: transcript deltas, tool approval, usage, turn latencies,
and the connection's end. All are frozen, slotted, keyword-only attrs classes; audio payloads
are ``bytes`` shown truncated in a ``repr``.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from ._repr import short_bytes_repr
from .agent import Agent, FunctionTool, Handoff
from .items import Item
from .wire import ServerEvent

__all__ = [
    "AgentEndEvent",
    "AgentStartEvent",
    "AudioEndEvent",
    "AudioEvent",
    "AudioInterruptedEvent",
    "ConnectionClosedEvent",
    "ErrorEvent",
    "EventsDroppedEvent",
    "GuardrailTrippedEvent",
    "HandoffEvent",
    "HistoryAddedEvent",
    "HistoryUpdatedEvent",
    "InputAudioTimeoutTriggeredEvent",
    "RawModelEvent",
    "ReconnectedEvent",
    "ReconnectingEvent",
    "SessionEvent",
    "SessionRecycledEvent",
    "ToolApprovalRequiredEvent",
    "ToolEndEvent",
    "ToolStartEvent",
    "TranscriptDeltaEvent",
    "TurnMetricsEvent",
    "UsageEvent",
]


@attrs.frozen(kw_only=True)
class AgentStartEvent:
    """A response (a turn of the agent) began: ``response.created``."""

    agent: Agent
    response_id: str


@attrs.frozen(kw_only=True)
class AgentEndEvent:
    """A response ended (``response.done``): ``status`` is completed, cancelled, failed..."""

    agent: Agent
    response_id: str
    status: str


@attrs.frozen(kw_only=True)
class HandoffEvent:
    from_agent: Agent
    to_agent: Agent
    call_id: str


@attrs.frozen(kw_only=True)
class ToolStartEvent:
    agent: Agent
    tool: FunctionTool | Handoff
    call_id: str
    arguments: str


@attrs.frozen(kw_only=True)
class ToolEndEvent:
    """A call has its output (the tool's result, a rejection, or an ``Error: ...`` text)."""

    agent: Agent
    tool: FunctionTool | Handoff | None
    call_id: str
    output: str
    failed: bool = False


@attrs.frozen(kw_only=True)
class ToolApprovalRequiredEvent:
    """A tool with ``needs_approval`` waits for ``ApproveTool`` or ``RejectTool``."""

    agent: Agent
    tool: FunctionTool
    call_id: str
    arguments: str


@attrs.frozen(kw_only=True)
class RawModelEvent:
    """Every server event, as decoded: for logging, and for what the session does not model."""

    data: ServerEvent


@attrs.frozen(kw_only=True)
class AudioEvent:
    """A chunk of the assistant's audio, in the session's output format."""

    data: bytes = attrs.field(repr=short_bytes_repr)
    response_id: str
    item_id: str
    content_index: int


@attrs.frozen(kw_only=True)
class AudioEndEvent:
    """The assistant's audio for this item and content part is complete."""

    response_id: str
    item_id: str
    content_index: int


@attrs.frozen(kw_only=True)
class AudioInterruptedEvent:
    """Stop playing this item: it was interrupted (``audio_end_ms`` is where it was cut)."""

    response_id: str | None
    item_id: str
    content_index: int
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class ErrorEvent:
    """Something went wrong that the session did not absorb.

    ``code`` and ``message`` come from the server's ``error`` event, a failed
    ``response.done`` (with its ``response_id``), or the session itself (``malformed_frame``,
    ``instructions_failed``...). ``event_id`` is the client event the server refused, if any.
    """

    code: str | None
    message: str
    type: str | None = None
    param: str | None = None
    event_id: str | None = None
    response_id: str | None = None


@attrs.frozen(kw_only=True)
class HistoryAddedEvent:
    """A new item entered the history (``session.history`` holds it, in order)."""

    item: Item
    previous_item_id: str | None


@attrs.frozen(kw_only=True)
class HistoryUpdatedEvent:
    """An item changed (completed, transcribed, truncated) or was deleted (``item`` None)."""

    item_id: str
    item: Item | None


@attrs.frozen(kw_only=True)
class TranscriptDeltaEvent:
    """A piece of a transcript as it streams: the assistant's speech or text, or the user's."""

    role: Literal["assistant", "user"]
    item_id: str
    content_index: int
    delta: str
    response_id: str | None = None


@attrs.frozen(kw_only=True)
class GuardrailTrippedEvent:
    """Output guardrails stopped a response; ``text`` is what they saw."""

    guardrails: tuple[str, ...]
    output_info: tuple[Any, ...]
    response_id: str
    item_id: str
    text: str


@attrs.frozen(kw_only=True)
class InputAudioTimeoutTriggeredEvent:
    """Server VAD's ``idle_timeout_ms`` ran out with no speech from the user."""

    item_id: str
    audio_start_ms: int
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class UsageEvent:
    """Token usage of one response, and the running totals of the session."""

    response_id: str
    usage: dict[str, Any]
    total_tokens: int
    input_tokens: int
    output_tokens: int


@attrs.frozen(kw_only=True)
class TurnMetricsEvent:
    """Latencies of one turn, in milliseconds, from the times the driver passed in.

    ``speech_stopped_to_first_audio_ms``: the user stopped speaking -> first audio of the
    answer. ``create_to_first_audio_ms``: our ``response.create`` -> first audio.
    ``interrupt_to_truncate_ms``: an interruption -> the server confirmed the truncation.
    A figure is None when the turn had no such moment.
    """

    response_id: str | None
    speech_stopped_to_first_audio_ms: float | None = None
    create_to_first_audio_ms: float | None = None
    interrupt_to_truncate_ms: float | None = None


@attrs.frozen(kw_only=True)
class ConnectionClosedEvent:
    """The connection is gone: no more input is accepted. ``code`` is the WebSocket code."""

    code: int | None
    reason: str


@attrs.frozen(kw_only=True)
class ReconnectingEvent:
    """The connection dropped (or an attempt to replace it failed): the session asks for
    attempt ``attempt`` in ``delay_s`` seconds (plus the driver's jitter). ``code`` and
    ``reason`` say what ended the connection or the attempt (for a refused handshake,
    ``code`` is its HTTP status). Commands wait meanwhile (docs/resilience.md)."""

    attempt: int
    delay_s: float
    code: int | None
    reason: str


@attrs.frozen(kw_only=True)
class ReconnectedEvent:
    """A new connection holds the conversation again, at attempt ``attempt``.

    ``downtime_s``: from the drop to the moment the new connection had taken the replay
    (the server's answer to its last item). ``items_replayed``: history items sent again.
    ``items_left_out``: items that could not be (a call never completed, a user audio turn
    with neither transcript nor audio kept...); they left the history too.
    ``audio_dropped_ms``: user audio that did not fit the buffer while reconnecting.
    """

    attempt: int
    downtime_s: float
    items_replayed: int
    items_left_out: int = 0
    audio_dropped_ms: float = 0.0


@attrs.frozen(kw_only=True)
class SessionRecycledEvent:
    """The session moved to a new connection before the server's cap on a session's age
    (``RunConfig.recycle_after_s``), at a quiet moment, the old connection closed.

    ``age_s``: how old the old connection was. ``downtime_s``: from the switch to the
    moment the new connection had taken the replay. ``items_replayed`` and
    ``items_left_out`` as in ``ReconnectedEvent``.
    """

    age_s: float
    downtime_s: float
    items_replayed: int
    items_left_out: int = 0


@attrs.frozen(kw_only=True)
class EventsDroppedEvent:
    """This subscriber fell behind and lost events of a kind it can do without.

    The session drops nothing; a subscription does, by its bounds (see
    ``transports.subscriptions``), and says so in its own stream with this event, where the
    loss happened. Consecutive drops of one kind make one report.

    ``kind`` is ``"audio"`` (``AudioEvent`` chunks, the oldest first: ``audio_ms`` of audio
    from the items ``item_ids``) or ``"raw"`` (``RawModelEvent``, the oldest first, of the
    server event types ``event_types``). ``count`` is the number of events lost. Only the
    first 16 item ids or types are named (a bound, like every other); ``count`` and
    ``audio_ms`` cover all.
    """

    kind: Literal["audio", "raw"]
    count: int
    audio_ms: float = 0.0
    item_ids: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()


SessionEvent = (
    AgentStartEvent
    | AgentEndEvent
    | HandoffEvent
    | ToolStartEvent
    | ToolEndEvent
    | ToolApprovalRequiredEvent
    | RawModelEvent
    | AudioEvent
    | AudioEndEvent
    | AudioInterruptedEvent
    | ErrorEvent
    | HistoryAddedEvent
    | HistoryUpdatedEvent
    | TranscriptDeltaEvent
    | GuardrailTrippedEvent
    | InputAudioTimeoutTriggeredEvent
    | UsageEvent
    | TurnMetricsEvent
    | ConnectionClosedEvent
    | ReconnectingEvent
    | ReconnectedEvent
    | SessionRecycledEvent
    | EventsDroppedEvent
)
