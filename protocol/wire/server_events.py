"""The 46 GA server events (the ``openai`` package's ``RealtimeServerEvent`` union).

Field names are the wire's. Nested objects (``session``, ``item``, ``response``, ``part``) are
JSON objects (``dict``): the core reads the few keys it needs, and ``items``/``config`` give
typed views. An event type this library does not know becomes ``UnknownServerEvent`` carrying
the raw object, so a newer server never breaks an older client.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .._repr import short_bytes_repr

__all__ = [
    "SERVER_EVENT_CLASSES",
    "ConversationCreated",
    "ConversationItemAdded",
    "ConversationItemCreated",
    "ConversationItemDeleted",
    "ConversationItemDone",
    "ConversationItemRetrieved",
    "ConversationItemTruncated",
    "ErrorDetail",
    "InputAudioBufferCleared",
    "InputAudioBufferCommitted",
    "InputAudioBufferDtmfEventReceived",
    "InputAudioBufferSpeechStarted",
    "InputAudioBufferSpeechStopped",
    "InputAudioBufferTimeoutTriggered",
    "InputAudioTranscriptionCompleted",
    "InputAudioTranscriptionDelta",
    "InputAudioTranscriptionFailed",
    "InputAudioTranscriptionSegment",
    "McpListToolsCompleted",
    "McpListToolsFailed",
    "McpListToolsInProgress",
    "OutputAudioBufferCleared",
    "OutputAudioBufferStarted",
    "OutputAudioBufferStopped",
    "RateLimitsUpdated",
    "ResponseContentPartAdded",
    "ResponseContentPartDone",
    "ResponseCreated",
    "ResponseDone",
    "ResponseFunctionCallArgumentsDelta",
    "ResponseFunctionCallArgumentsDone",
    "ResponseMcpCallArgumentsDelta",
    "ResponseMcpCallArgumentsDone",
    "ResponseMcpCallCompleted",
    "ResponseMcpCallFailed",
    "ResponseMcpCallInProgress",
    "ResponseOutputAudioDelta",
    "ResponseOutputAudioDone",
    "ResponseOutputAudioTranscriptDelta",
    "ResponseOutputAudioTranscriptDone",
    "ResponseOutputItemAdded",
    "ResponseOutputItemDone",
    "ResponseOutputTextDelta",
    "ResponseOutputTextDone",
    "ServerError",
    "ServerEvent",
    "ServerEventBase",
    "SessionCreated",
    "SessionUpdated",
    "UnknownServerEvent",
]


@attrs.frozen(kw_only=True)
class ErrorDetail:
    """The ``error`` object of an ``error`` event."""

    type: str
    message: str
    code: str | None = None
    param: str | None = None
    event_id: str | None = None


@attrs.frozen(kw_only=True)
class ServerEventBase:
    """Every server event has a ``type``; all but one also carry an ``event_id``."""

    type: ClassVar[str]


@attrs.frozen(kw_only=True)
class _Identified(ServerEventBase):
    event_id: str


@attrs.frozen(kw_only=True)
class _InContentPart(_Identified):
    """Where a delta or a part belongs: the response, its item, the part in that item."""

    response_id: str
    item_id: str
    output_index: int
    content_index: int


@attrs.frozen(kw_only=True)
class ServerError(_Identified):
    """The server refused something; ``error.event_id`` echoes the client event's id."""

    type: ClassVar[str] = "error"
    error: ErrorDetail


@attrs.frozen(kw_only=True)
class SessionCreated(_Identified):
    """First event of every connection: the effective session."""

    type: ClassVar[str] = "session.created"
    session: dict[str, Any]


@attrs.frozen(kw_only=True)
class SessionUpdated(_Identified):
    """The full effective session after a ``session.update``."""

    type: ClassVar[str] = "session.updated"
    session: dict[str, Any]


@attrs.frozen(kw_only=True)
class ConversationCreated(_Identified):
    type: ClassVar[str] = "conversation.created"
    conversation: dict[str, Any]


@attrs.frozen(kw_only=True)
class ConversationItemCreated(_Identified):
    """Beta's item event (GA sends ``added`` and ``done``); still in the GA union."""

    type: ClassVar[str] = "conversation.item.created"
    item: dict[str, Any]
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemAdded(_Identified):
    type: ClassVar[str] = "conversation.item.added"
    item: dict[str, Any]
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemDone(_Identified):
    type: ClassVar[str] = "conversation.item.done"
    item: dict[str, Any]
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class ConversationItemRetrieved(_Identified):
    type: ClassVar[str] = "conversation.item.retrieved"
    item: dict[str, Any]


@attrs.frozen(kw_only=True)
class ConversationItemDeleted(_Identified):
    type: ClassVar[str] = "conversation.item.deleted"
    item_id: str


@attrs.frozen(kw_only=True)
class ConversationItemTruncated(_Identified):
    type: ClassVar[str] = "conversation.item.truncated"
    item_id: str
    content_index: int
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class InputAudioTranscriptionCompleted(_Identified):
    type: ClassVar[str] = "conversation.item.input_audio_transcription.completed"
    item_id: str
    content_index: int
    transcript: str
    usage: dict[str, Any]
    logprobs: list[dict[str, Any]] | None = None
    languages: list[Any] | None = None


@attrs.frozen(kw_only=True)
class InputAudioTranscriptionDelta(_Identified):
    type: ClassVar[str] = "conversation.item.input_audio_transcription.delta"
    item_id: str
    content_index: int | None = None
    delta: str | None = None
    logprobs: list[dict[str, Any]] | None = None


@attrs.frozen(kw_only=True)
class InputAudioTranscriptionFailed(_Identified):
    type: ClassVar[str] = "conversation.item.input_audio_transcription.failed"
    item_id: str
    content_index: int
    error: dict[str, Any]


@attrs.frozen(kw_only=True)
class InputAudioTranscriptionSegment(_Identified):
    """A diarized transcription segment."""

    type: ClassVar[str] = "conversation.item.input_audio_transcription.segment"
    id: str
    item_id: str
    content_index: int
    text: str
    speaker: str
    start: float
    end: float


@attrs.frozen(kw_only=True)
class InputAudioBufferCommitted(_Identified):
    type: ClassVar[str] = "input_audio_buffer.committed"
    item_id: str
    previous_item_id: str | None = None


@attrs.frozen(kw_only=True)
class InputAudioBufferCleared(_Identified):
    type: ClassVar[str] = "input_audio_buffer.cleared"


@attrs.frozen(kw_only=True)
class InputAudioBufferSpeechStarted(_Identified):
    type: ClassVar[str] = "input_audio_buffer.speech_started"
    item_id: str
    audio_start_ms: int


@attrs.frozen(kw_only=True)
class InputAudioBufferSpeechStopped(_Identified):
    type: ClassVar[str] = "input_audio_buffer.speech_stopped"
    item_id: str
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class InputAudioBufferTimeoutTriggered(_Identified):
    """Server VAD's ``idle_timeout_ms`` ran out with no speech."""

    type: ClassVar[str] = "input_audio_buffer.timeout_triggered"
    item_id: str
    audio_start_ms: int
    audio_end_ms: int


@attrs.frozen(kw_only=True)
class InputAudioBufferDtmfEventReceived(ServerEventBase):
    """SIP only: a DTMF key; the one server event without an ``event_id``."""

    type: ClassVar[str] = "input_audio_buffer.dtmf_event_received"
    event: str
    received_at: int


@attrs.frozen(kw_only=True)
class OutputAudioBufferStarted(_Identified):
    type: ClassVar[str] = "output_audio_buffer.started"
    response_id: str


@attrs.frozen(kw_only=True)
class OutputAudioBufferStopped(_Identified):
    type: ClassVar[str] = "output_audio_buffer.stopped"
    response_id: str


@attrs.frozen(kw_only=True)
class OutputAudioBufferCleared(_Identified):
    type: ClassVar[str] = "output_audio_buffer.cleared"
    response_id: str


@attrs.frozen(kw_only=True)
class RateLimitsUpdated(_Identified):
    type: ClassVar[str] = "rate_limits.updated"
    rate_limits: list[dict[str, Any]]


@attrs.frozen(kw_only=True)
class ResponseCreated(_Identified):
    type: ClassVar[str] = "response.created"
    response: dict[str, Any]


@attrs.frozen(kw_only=True)
class ResponseDone(_Identified):
    """``response.status`` says how it ended; ``usage`` counts tokens."""

    type: ClassVar[str] = "response.done"
    response: dict[str, Any]


@attrs.frozen(kw_only=True)
class ResponseOutputItemAdded(_Identified):
    type: ClassVar[str] = "response.output_item.added"
    response_id: str
    output_index: int
    item: dict[str, Any]


@attrs.frozen(kw_only=True)
class ResponseOutputItemDone(_Identified):
    type: ClassVar[str] = "response.output_item.done"
    response_id: str
    output_index: int
    item: dict[str, Any]


@attrs.frozen(kw_only=True)
class ResponseContentPartAdded(_InContentPart):
    type: ClassVar[str] = "response.content_part.added"
    part: dict[str, Any]


@attrs.frozen(kw_only=True)
class ResponseContentPartDone(_InContentPart):
    type: ClassVar[str] = "response.content_part.done"
    part: dict[str, Any]


@attrs.frozen(kw_only=True)
class ResponseOutputTextDelta(_InContentPart):
    type: ClassVar[str] = "response.output_text.delta"
    delta: str


@attrs.frozen(kw_only=True)
class ResponseOutputTextDone(_InContentPart):
    type: ClassVar[str] = "response.output_text.done"
    text: str


@attrs.frozen(kw_only=True)
class ResponseOutputAudioDelta(_InContentPart):
    """``delta`` is the decoded audio in the session's output format."""

    type: ClassVar[str] = "response.output_audio.delta"
    delta: bytes = attrs.field(repr=short_bytes_repr)


@attrs.frozen(kw_only=True)
class ResponseOutputAudioDone(_InContentPart):
    type: ClassVar[str] = "response.output_audio.done"


@attrs.frozen(kw_only=True)
class ResponseOutputAudioTranscriptDelta(_InContentPart):
    type: ClassVar[str] = "response.output_audio_transcript.delta"
    delta: str
    obfuscation: str | None = None
    """Padding the real server adds so that a delta's size does not give its text away."""


@attrs.frozen(kw_only=True)
class ResponseOutputAudioTranscriptDone(_InContentPart):
    type: ClassVar[str] = "response.output_audio_transcript.done"
    transcript: str


@attrs.frozen(kw_only=True)
class ResponseFunctionCallArgumentsDelta(_Identified):
    type: ClassVar[str] = "response.function_call_arguments.delta"
    response_id: str
    item_id: str
    output_index: int
    call_id: str
    delta: str


@attrs.frozen(kw_only=True)
class ResponseFunctionCallArgumentsDone(_Identified):
    """The call is complete: ``arguments`` is the whole JSON text."""

    type: ClassVar[str] = "response.function_call_arguments.done"
    response_id: str
    item_id: str
    output_index: int
    call_id: str
    name: str
    arguments: str


@attrs.frozen(kw_only=True)
class McpListToolsInProgress(_Identified):
    type: ClassVar[str] = "mcp_list_tools.in_progress"
    item_id: str


@attrs.frozen(kw_only=True)
class McpListToolsCompleted(_Identified):
    type: ClassVar[str] = "mcp_list_tools.completed"
    item_id: str


@attrs.frozen(kw_only=True)
class McpListToolsFailed(_Identified):
    type: ClassVar[str] = "mcp_list_tools.failed"
    item_id: str


@attrs.frozen(kw_only=True)
class ResponseMcpCallArgumentsDelta(_Identified):
    type: ClassVar[str] = "response.mcp_call_arguments.delta"
    response_id: str
    item_id: str
    output_index: int
    delta: str
    obfuscation: str | None = None


@attrs.frozen(kw_only=True)
class ResponseMcpCallArgumentsDone(_Identified):
    type: ClassVar[str] = "response.mcp_call_arguments.done"
    response_id: str
    item_id: str
    output_index: int
    arguments: str


@attrs.frozen(kw_only=True)
class ResponseMcpCallInProgress(_Identified):
    type: ClassVar[str] = "response.mcp_call.in_progress"
    item_id: str
    output_index: int


@attrs.frozen(kw_only=True)
class ResponseMcpCallCompleted(_Identified):
    type: ClassVar[str] = "response.mcp_call.completed"
    item_id: str
    output_index: int


@attrs.frozen(kw_only=True)
class ResponseMcpCallFailed(_Identified):
    type: ClassVar[str] = "response.mcp_call.failed"
    item_id: str
    output_index: int


@attrs.frozen(kw_only=True)
class UnknownServerEvent:
    """An event type this library does not model, kept whole for forward compatibility."""

    type: str
    raw: dict[str, Any] = attrs.field(repr=False)


ServerEvent = (
    ServerError
    | SessionCreated
    | SessionUpdated
    | ConversationCreated
    | ConversationItemCreated
    | ConversationItemAdded
    | ConversationItemDone
    | ConversationItemRetrieved
    | ConversationItemDeleted
    | ConversationItemTruncated
    | InputAudioTranscriptionCompleted
    | InputAudioTranscriptionDelta
    | InputAudioTranscriptionFailed
    | InputAudioTranscriptionSegment
    | InputAudioBufferCommitted
    | InputAudioBufferCleared
    | InputAudioBufferSpeechStarted
    | InputAudioBufferSpeechStopped
    | InputAudioBufferTimeoutTriggered
    | InputAudioBufferDtmfEventReceived
    | OutputAudioBufferStarted
    | OutputAudioBufferStopped
    | OutputAudioBufferCleared
    | RateLimitsUpdated
    | ResponseCreated
    | ResponseDone
    | ResponseOutputItemAdded
    | ResponseOutputItemDone
    | ResponseContentPartAdded
    | ResponseContentPartDone
    | ResponseOutputTextDelta
    | ResponseOutputTextDone
    | ResponseOutputAudioDelta
    | ResponseOutputAudioDone
    | ResponseOutputAudioTranscriptDelta
    | ResponseOutputAudioTranscriptDone
    | ResponseFunctionCallArgumentsDelta
    | ResponseFunctionCallArgumentsDone
    | McpListToolsInProgress
    | McpListToolsCompleted
    | McpListToolsFailed
    | ResponseMcpCallArgumentsDelta
    | ResponseMcpCallArgumentsDone
    | ResponseMcpCallInProgress
    | ResponseMcpCallCompleted
    | ResponseMcpCallFailed
    | UnknownServerEvent
)

SERVER_EVENT_CLASSES: tuple[type[ServerEventBase], ...] = (
    ServerError,
    SessionCreated,
    SessionUpdated,
    ConversationCreated,
    ConversationItemCreated,
    ConversationItemAdded,
    ConversationItemDone,
    ConversationItemRetrieved,
    ConversationItemDeleted,
    ConversationItemTruncated,
    InputAudioTranscriptionCompleted,
    InputAudioTranscriptionDelta,
    InputAudioTranscriptionFailed,
    InputAudioTranscriptionSegment,
    InputAudioBufferCommitted,
    InputAudioBufferCleared,
    InputAudioBufferSpeechStarted,
    InputAudioBufferSpeechStopped,
    InputAudioBufferTimeoutTriggered,
    InputAudioBufferDtmfEventReceived,
    OutputAudioBufferStarted,
    OutputAudioBufferStopped,
    OutputAudioBufferCleared,
    RateLimitsUpdated,
    ResponseCreated,
    ResponseDone,
    ResponseOutputItemAdded,
    ResponseOutputItemDone,
    ResponseContentPartAdded,
    ResponseContentPartDone,
    ResponseOutputTextDelta,
    ResponseOutputTextDone,
    ResponseOutputAudioDelta,
    ResponseOutputAudioDone,
    ResponseOutputAudioTranscriptDelta,
    ResponseOutputAudioTranscriptDone,
    ResponseFunctionCallArgumentsDelta,
    ResponseFunctionCallArgumentsDone,
    McpListToolsInProgress,
    McpListToolsCompleted,
    McpListToolsFailed,
    ResponseMcpCallArgumentsDelta,
    ResponseMcpCallArgumentsDone,
    ResponseMcpCallInProgress,
    ResponseMcpCallCompleted,
    ResponseMcpCallFailed,
)
