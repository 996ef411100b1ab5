"""Session events -> the page's messages: the one mapping the live page and a replay share.

``PageTimeline.messages(event, at=seconds)`` turns one ``SessionEvent`` into the JSON-ready
dicts the page draws (captions, turns, tools, handoffs, guardrails, errors, latencies, audio).
It is pure: no I/O, no clock (``at`` is given, seconds since the conversation started), so a
recording replayed through a ``Session`` draws the same timeline as the live conversation did
(``audio=False`` leaves the audio out of such a drawing).

Its state is what a message needs and an event does not carry: the role of an item whose
caption is being spoken and how much of its audio has come (an assistant caption's
``audio_ms``: its words are spoken from there on, so the page can tell which a cut left
unheard), the agent that began a response, the name of a running tool. Each is forgotten
when its item, response or call ends, and bounded by ``MAX_OPEN`` besides, so a stream that
never ends them cannot grow it. Event types it does not know give no message.
Error texts pass through ``auth.redact``: a key quoted by a server never reaches the page.
The messages are listed in docs/web.md.
"""

from __future__ import annotations

import base64
from typing import Any, TypeVar

from realtime_sansio.protocol import PCM16, AudioFormat, Handoff, events, wire
from realtime_sansio.protocol.items import (
    AssistantMessage,
    InputAudio,
    InputText,
    Item,
    OutputAudio,
    UserMessage,
)

from ..auth import redact
from ..base import describe_close

__all__ = ["MAX_OPEN", "PageMessage", "PageTimeline"]

PageMessage = dict[str, Any]
"""One message to the page: a JSON object with a ``type``."""

MAX_OPEN = 256
"""Items, responses and tool calls the timeline remembers at once (oldest forgotten first)."""

_V = TypeVar("_V")


def _remember(table: dict[str, _V], key: str, value: _V) -> None:
    table[key] = value
    if len(table) > MAX_OPEN:
        del table[next(iter(table))]


def _final_text(item: Item | None) -> str | None:
    """An item's caption once it is final: an assistant message no longer in progress, a
    user message whose audio has been transcribed (or that was typed); else None."""
    if isinstance(item, AssistantMessage):
        if item.status in (None, "in_progress"):
            return None
        return "".join(
            (part.transcript or "") if isinstance(part, OutputAudio) else part.text
            for part in item.content
        )
    if isinstance(item, UserMessage):
        texts: list[str] = []
        for part in item.content:
            if isinstance(part, InputAudio):
                if part.transcript is None:
                    return None
                texts.append(part.transcript)
            elif isinstance(part, InputText):
                texts.append(part.text)
        return " ".join(text for text in texts if text)
    return None


class PageTimeline:
    """Maps one conversation's session events to page messages (see the module docstring)."""

    def __init__(self, *, audio: bool = True, audio_format: AudioFormat = PCM16) -> None:
        self.audio = audio
        self.audio_format = audio_format
        self._captions: dict[str, str] = {}  # item id -> role, while its caption is spoken
        self._received: dict[str, int] = {}  # item id -> audio bytes, while its caption is
        self._agents: dict[str, str] = {}  # response id -> the agent that began it
        self._tools: dict[str, str] = {}  # call id -> tool name, while it runs

    def messages(self, event: events.SessionEvent, *, at: float) -> list[PageMessage]:
        """The page's messages for ``event``, each stamped with ``t`` (seconds, 3 decimals)."""
        out = self._map(event)
        for message in out:
            message["t"] = round(at, 3)
        return out

    def _map(self, event: events.SessionEvent) -> list[PageMessage]:
        if isinstance(event, events.AudioEvent):
            received = self._received.get(event.item_id, 0) + len(event.data)
            _remember(self._received, event.item_id, received)
            if not self.audio:
                return []
            return [
                {
                    "type": "audio",
                    "item_id": event.item_id,
                    "content_index": event.content_index,
                    "response_id": event.response_id,
                    "pcm": base64.b64encode(event.data).decode("ascii"),
                }
            ]
        if isinstance(event, events.TranscriptDeltaEvent):
            _remember(self._captions, event.item_id, event.role)
            caption: PageMessage = {
                "type": "caption",
                "item_id": event.item_id,
                "role": event.role,
                "delta": event.delta,
                "response_id": event.response_id,
            }
            if event.role == "assistant":
                received = self._received.get(event.item_id, 0)
                caption["audio_ms"] = round(received * 1000 / self.audio_format.bytes_per_second, 3)
            return [caption]
        if isinstance(event, events.HistoryUpdatedEvent):
            return self._caption_done(event.item_id, event.item)
        if isinstance(event, events.HistoryAddedEvent):
            return self._typed(event.item)
        if isinstance(event, events.RawModelEvent):
            return self._raw(event.data)
        return self._session_event(event)

    def _typed(self, item: Item) -> list[PageMessage]:
        """A typed user message has no transcript deltas: its caption is whole at once."""
        if not isinstance(item, UserMessage) or item.id is None:
            return []
        if any(isinstance(part, InputAudio) for part in item.content):
            return []
        _remember(self._captions, item.id, "user")
        return self._caption_done(item.id, item)

    def _caption_done(self, item_id: str, item: Item | None) -> list[PageMessage]:
        role = self._captions.get(item_id)
        text = _final_text(item)
        if role is None or text is None:
            return []
        del self._captions[item_id]
        self._received.pop(item_id, None)
        return [{"type": "caption_done", "item_id": item_id, "role": role, "text": text}]

    def _raw(self, data: wire.ServerEvent) -> list[PageMessage]:
        if isinstance(data, wire.InputAudioBufferSpeechStarted):
            return [{"type": "speech", "state": "started", "ms": data.audio_start_ms}]
        if isinstance(data, wire.InputAudioBufferSpeechStopped):
            return [{"type": "speech", "state": "stopped", "ms": data.audio_end_ms}]
        return []

    def _session_event(self, event: events.SessionEvent) -> list[PageMessage]:
        message: PageMessage
        if isinstance(event, events.AgentStartEvent):
            _remember(self._agents, event.response_id, event.agent.name)
            message = {
                "type": "agent_start",
                "response_id": event.response_id,
                "agent": event.agent.name,
            }
        elif isinstance(event, events.AgentEndEvent):
            # A response that hands off ends under the new agent: name the one that began it.
            agent = self._agents.pop(event.response_id, event.agent.name)
            message = {
                "type": "agent_end",
                "response_id": event.response_id,
                "agent": agent,
                "status": event.status,
            }
        elif isinstance(event, events.AudioEndEvent):
            message = {
                "type": "audio_done",
                "item_id": event.item_id,
                "content_index": event.content_index,
                "response_id": event.response_id,
            }
        elif isinstance(event, events.AudioInterruptedEvent):
            message = {
                "type": "interrupted",
                "item_id": event.item_id,
                "content_index": event.content_index,
                "response_id": event.response_id,
                "audio_end_ms": event.audio_end_ms,
            }
        elif isinstance(event, events.ToolStartEvent):
            if isinstance(event.tool, Handoff):
                return []  # the HandoffEvent tells it
            _remember(self._tools, event.call_id, event.tool.name)
            message = {
                "type": "tool_start",
                "call_id": event.call_id,
                "name": event.tool.name,
                "arguments": event.arguments,
                "agent": event.agent.name,
            }
        elif isinstance(event, events.ToolEndEvent):
            if isinstance(event.tool, Handoff):
                return []
            name = self._tools.pop(event.call_id, None)
            message = {
                "type": "tool_end",
                "call_id": event.call_id,
                "name": name or (event.tool.name if event.tool is not None else None),
                "output": event.output,
                "failed": event.failed,
            }
        elif isinstance(event, events.ToolApprovalRequiredEvent):
            message = {
                "type": "approval",
                "call_id": event.call_id,
                "name": event.tool.name,
                "arguments": event.arguments,
                "agent": event.agent.name,
            }
        elif isinstance(event, events.HandoffEvent):
            message = {
                "type": "handoff",
                "from": event.from_agent.name,
                "to": event.to_agent.name,
                "call_id": event.call_id,
            }
        elif isinstance(event, events.GuardrailTrippedEvent):
            message = {
                "type": "guardrail",
                "guardrails": list(event.guardrails),
                "response_id": event.response_id,
                "item_id": event.item_id,
                "text": event.text,
            }
        elif isinstance(event, events.InputAudioTimeoutTriggeredEvent):
            message = {
                "type": "idle_timeout",
                "item_id": event.item_id,
                "audio_start_ms": event.audio_start_ms,
                "audio_end_ms": event.audio_end_ms,
            }
        elif isinstance(event, events.UsageEvent):
            message = {
                "type": "usage",
                "response_id": event.response_id,
                "input_tokens": event.input_tokens,
                "output_tokens": event.output_tokens,
                "total_tokens": event.total_tokens,
            }
        elif isinstance(event, events.TurnMetricsEvent):
            message = {
                "type": "metrics",
                "response_id": event.response_id,
                "speech_stopped_to_first_audio_ms": event.speech_stopped_to_first_audio_ms,
                "create_to_first_audio_ms": event.create_to_first_audio_ms,
                "interrupt_to_truncate_ms": event.interrupt_to_truncate_ms,
            }
        elif isinstance(event, events.ErrorEvent):
            message = {
                "type": "error",
                "source": "session",
                "code": event.code,
                "message": redact(event.message),
            }
        elif isinstance(event, events.ConnectionClosedEvent):
            message = {
                "type": "closed",
                "code": event.code,
                "reason": redact(event.reason),
                "text": redact(describe_close(event.code, event.reason)),
            }
        else:
            return []
        return [message]
