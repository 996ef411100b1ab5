"""The Session's handling of server events (see ``session`` for the whole)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from . import events, wire
from ._session_state import str_or_none
from ._session_tools import SessionTools
from ._slots import builder
from .audio.formats import AudioFormat
from .errors import RemoteProtocolError
from .items import (
    FunctionCall,
    OutputAudio,
    OutputText,
    item_from_wire,
)

__all__ = ["SessionServer"]

# The events of every audio and transcript delta, built through their slots (``_slots``).
_audio_event = builder(events.AudioEvent)
_transcript_delta_event = builder(events.TranscriptDeltaEvent)


class SessionServer(SessionTools):
    """What each server event does to the session: responses, audio, transcripts, history,
    VAD, errors."""

    # -- server events ----------------------------------------------------------------------

    def _on_session_updated(self, event: wire.SessionUpdated) -> None:
        # Only session.updated: session.created shows the server's defaults from before our
        # session.update, and would undo a push-to-talk or format we asked for. Likewise the
        # answer to an earlier update, while a later one of ours is still on its way.
        if self._updates_in_flight:
            self._updates_in_flight.pop(0)
            if self._updates_in_flight:
                return
        audio = event.session.get("audio")
        if not isinstance(audio, dict):
            return
        audio_in, audio_out = audio.get("input"), audio.get("output")
        if isinstance(audio_in, dict) and "turn_detection" in audio_in:
            detection = audio_in["turn_detection"]
            self._turn_detection_on = isinstance(detection, dict)
            self._server_interrupts = (
                isinstance(detection, dict)
                and detection.get("interrupt_response", True) is not False
            )
            self._server_creates = (
                isinstance(detection, dict) and detection.get("create_response", True) is not False
            )
        if isinstance(audio_in, dict) and "format" in audio_in:
            self._input_format = AudioFormat.from_wire(audio_in["format"])
        if isinstance(audio_out, dict) and "format" in audio_out:
            self._playback.output_format = AudioFormat.from_wire(audio_out["format"])

    def _on_error(self, event: wire.ServerError) -> None:
        error = event.error
        if error.code == "conversation_already_has_active_response":
            self._gate.refused(error.event_id)
            return
        if error.code == "response_cancel_not_active":
            return  # we cancelled what had just ended: nothing to do
        self._emit(
            events.ErrorEvent(
                code=error.code,
                message=error.message,
                type=error.type,
                param=error.param,
                event_id=error.event_id,
            )
        )
        if error.event_id in self._updates_in_flight:
            self._updates_in_flight.remove(error.event_id)  # refused: no session.updated comes
        if error.event_id is not None and error.event_id == self._gate.in_flight:
            self._cancel_on_create = False  # the response to cancel will never exist
            create = self._gate.failed(error.event_id)
            if create is not None:
                self._send_create(create)

    def _on_response_created(self, event: wire.ResponseCreated) -> None:
        response = event.response
        response_id = str_or_none(response.get("id"))
        if response_id is None:
            raise RemoteProtocolError("response.created: the response has no string 'id'")
        if "conversation_id" in response and response["conversation_id"] is None:
            self._out_of_band.add(response_id)
            return
        in_flight = self._gate.in_flight
        self._gate.created(response_id)
        # Our create's time, when this is (most likely) its response: a VAD turn has none.
        sent = self._create_sent
        sent_at = sent[1] if sent is not None and sent[0] == in_flight else None
        self._response_started[response_id] = sent_at if self._speech_stopped_at is None else None
        self._response_agents[response_id] = self._agent
        self._emit(events.AgentStartEvent(agent=self._agent, response_id=response_id))
        if self._cancel_on_create:
            self._cancel_on_create = False
            self._interrupt(cancel=True, only=response_id)

    def _on_response_done(self, event: wire.ResponseDone) -> None:
        response = event.response
        response_id = str_or_none(response.get("id"))
        if response_id is None:
            raise RemoteProtocolError("response.done: the response has no string 'id'")
        status = str_or_none(response.get("status")) or "completed"
        self._usage(response_id, response.get("usage"))
        if status == "failed":
            details = response.get("status_details")
            error = details.get("error") if isinstance(details, dict) else None
            error = error if isinstance(error, dict) else {}
            self._emit(
                events.ErrorEvent(
                    code=str_or_none(error.get("code")) or "response_failed",
                    message=str_or_none(error.get("message")) or "the response failed",
                    type=str_or_none(error.get("type")),
                    response_id=response_id,
                )
            )
        if response_id in self._out_of_band:
            self._calls.response_done(response_id, follow_up=False)
            return
        self._response_started.pop(response_id)
        # The agent that started it: a handoff during the response changes current_agent.
        agent = self._response_agents.pop(response_id) or self._agent
        due = self._calls.response_done(response_id, follow_up=status != "cancelled")
        self._end_turn(events.AgentEndEvent(agent=agent, response_id=response_id, status=status))
        # Function calls whose outputs were all given while the response ran: follow up now.
        if due is not None:
            # Asked while the response still counts as active, so that it coalesces with
            # any request deferred meanwhile: one response.create serves both.
            self._request_response()
        create = self._gate.done(response_id)
        if create is not None:
            self._send_create(create)

    def _usage(self, response_id: str, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        counts = [usage.get(k) for k in ("total_tokens", "input_tokens", "output_tokens")]
        for i, count in enumerate(counts):
            if isinstance(count, int) and not isinstance(count, bool):
                self._usage_totals[i] += count
        total, inp, outp = self._usage_totals
        self._emit(
            events.UsageEvent(
                response_id=response_id,
                usage=usage,
                total_tokens=total,
                input_tokens=inp,
                output_tokens=outp,
            )
        )

    def _on_audio_delta(self, event: wire.ResponseOutputAudioDelta) -> None:
        response_id = event.response_id
        if response_id in self._silenced:
            return  # interrupted or tripped: the rest of its audio is not delivered
        # Out-of-band audio is in no conversation: nothing to truncate, no playback to follow.
        if response_id not in self._out_of_band:
            track = self._playback.received(
                event.item_id, response_id, event.content_index, len(event.delta), self._now
            )
            if track.cut:
                return
            if response_id not in self._first_audio_seen:
                self._first_audio_seen.add(response_id)
                self._first_audio_metrics(response_id)
        self._emit(_audio_event(event.delta, response_id, event.item_id, event.content_index))

    def _first_audio_metrics(self, response_id: str) -> None:
        created_at = self._response_started.get(response_id)
        stopped_at = self._speech_stopped_at
        self._speech_stopped_at = None
        if created_at is None and stopped_at is None:
            return
        self._emit(
            events.TurnMetricsEvent(
                response_id=response_id,
                speech_stopped_to_first_audio_ms=None
                if stopped_at is None
                else (self._now - stopped_at) * 1000,
                create_to_first_audio_ms=None
                if created_at is None
                else (self._now - created_at) * 1000,
            )
        )

    def _on_audio_done(self, event: wire.ResponseOutputAudioDone) -> None:
        if event.response_id in self._silenced:
            return
        self._emit(
            events.AudioEndEvent(
                response_id=event.response_id,
                item_id=event.item_id,
                content_index=event.content_index,
            )
        )

    def _on_assistant_delta(
        self, event: wire.ResponseOutputAudioTranscriptDelta | wire.ResponseOutputTextDelta
    ) -> None:
        self.history.append_transcript(event.item_id, event.content_index, event.delta)
        self._emit(
            _transcript_delta_event(
                "assistant", event.item_id, event.content_index, event.delta, event.response_id
            )
        )
        if self._active_guardrails:
            text = self._guardrails.delta(event.response_id, event.item_id, event.delta)
            self._check_text(event.response_id, event.item_id, text)

    def _on_transcript_done(self, event: wire.ResponseOutputAudioTranscriptDone) -> None:
        self._text_done(event.response_id, event.item_id, event.content_index, event.transcript)

    def _on_text_done(self, event: wire.ResponseOutputTextDone) -> None:
        self._text_done(event.response_id, event.item_id, event.content_index, event.text)

    def _text_done(self, response_id: str, item_id: str, index: int, text: str) -> None:
        if self.history.set_transcript(item_id, index, text):
            self._emit(events.HistoryUpdatedEvent(item_id=item_id, item=self.history.get(item_id)))
        if self._active_guardrails:
            self._check_text(
                response_id, item_id, self._guardrails.done(response_id, item_id, text)
            )

    def _on_content_part_added(self, event: wire.ResponseContentPartAdded) -> None:
        part = event.part
        kind = part.get("type")
        if kind in ("audio", "output_audio"):
            content: OutputAudio | OutputText = OutputAudio(
                audio=None, transcript=str_or_none(part.get("transcript")) or ""
            )
        elif kind in ("text", "output_text"):
            content = OutputText(text=str_or_none(part.get("text")) or "")
        else:
            return
        self.history.set_content_part(event.item_id, event.content_index, content)

    def _on_item(
        self,
        event: wire.ConversationItemAdded
        | wire.ConversationItemCreated
        | wire.ConversationItemDone
        | wire.ConversationItemRetrieved
        | wire.ResponseOutputItemDone,
    ) -> None:
        item = item_from_wire(event.item)
        if item.id is None:
            raise RemoteProtocolError(f"{event.type}: the item has no id", field="item.id")
        previous = getattr(event, "previous_item_id", None)
        if isinstance(event, wire.ConversationItemAdded) and item.id in self._placing:
            # A call a replay held back, sent again at the end: it moves to where the
            # server put it (no predecessor: first).
            self._placing.discard(item.id)
            self.history.delete(item.id)
            self.history.upsert(item, previous, at_start=previous is None)
            self._emit(events.HistoryUpdatedEvent(item_id=item.id, item=item))
            return
        if self.history.upsert(item, previous):
            self._emit(events.HistoryAddedEvent(item=item, previous_item_id=previous))
        else:
            self._emit(events.HistoryUpdatedEvent(item_id=item.id, item=self.history.get(item.id)))

    def _on_output_item_done(self, event: wire.ResponseOutputItemDone) -> None:
        item = event.item
        # A call cut short (status "incomplete", by a cancellation) was never made: run nothing.
        if item.get("type") == "function_call" and item.get("status", "completed") == "completed":
            call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments")
            if isinstance(call_id, str) and isinstance(name, str) and isinstance(arguments, str):
                self._function_call(call_id, name, arguments, event.response_id)
        if self.dialect == "beta":
            self._on_item(event)  # beta has no conversation.item.done: this is the final item

    def _on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone) -> None:
        item = self.history.get(event.item_id)
        if isinstance(item, FunctionCall) and not item.arguments:
            # The item's own done may never come (a drop): the history has the call whole.
            self.history.upsert(attrs.evolve(item, arguments=event.arguments))
        self._function_call(event.call_id, event.name, event.arguments, event.response_id)

    def _on_item_deleted(self, event: wire.ConversationItemDeleted) -> None:
        if self.history.delete(event.item_id) is not None:
            self._emit(events.HistoryUpdatedEvent(item_id=event.item_id, item=None))
        self._truncation_metrics(event.item_id)

    def _on_item_truncated(self, event: wire.ConversationItemTruncated) -> None:
        if event.audio_end_ms < 0 or event.content_index < 0:
            raise RemoteProtocolError(
                "conversation.item.truncated: negative audio_end_ms or content_index",
                event_type=event.type,
                field="audio_end_ms",
            )
        track = self._playback.get(event.item_id)
        if track is not None:
            self._note_heard(
                event.item_id, event.content_index, event.audio_end_ms, track.received_ms
            )
        if self.history.truncate_audio(event.item_id, event.content_index, event.audio_end_ms):
            self._emit(
                events.HistoryUpdatedEvent(
                    item_id=event.item_id, item=self.history.get(event.item_id)
                )
            )
        self._truncation_metrics(event.item_id)

    def _truncation_metrics(self, item_id: str) -> None:
        interrupted_at = self._interrupted_at.pop(item_id)
        if interrupted_at is None:
            return
        track = self._playback.get(item_id)
        self._emit(
            events.TurnMetricsEvent(
                response_id=None if track is None else track.response_id,
                interrupt_to_truncate_ms=(self._now - interrupted_at) * 1000,
            )
        )

    def _on_input_transcript_delta(self, event: wire.InputAudioTranscriptionDelta) -> None:
        if not event.delta:
            return
        index = event.content_index or 0
        self.history.append_transcript(event.item_id, index, event.delta)
        self._emit(
            events.TranscriptDeltaEvent(
                role="user", item_id=event.item_id, content_index=index, delta=event.delta
            )
        )

    def _on_input_transcript_done(self, event: wire.InputAudioTranscriptionCompleted) -> None:
        if self.history.set_transcript(event.item_id, event.content_index, event.transcript):
            self._emit(
                events.HistoryUpdatedEvent(
                    item_id=event.item_id, item=self.history.get(event.item_id)
                )
            )

    def _on_transcription_failed(self, event: wire.InputAudioTranscriptionFailed) -> None:
        error = event.error
        self._emit(
            events.ErrorEvent(
                code=str_or_none(error.get("code")) or "transcription_failed",
                message=str_or_none(error.get("message")) or "input audio transcription failed",
                type=str_or_none(error.get("type")),
            )
        )

    def _on_speech_started(self, event: wire.InputAudioBufferSpeechStarted) -> None:
        if self._server_interrupts:
            # The server cancels its response itself; cutting what is heard is ours to do.
            self._interrupt(cancel=False)

    def _on_speech_stopped(self, event: wire.InputAudioBufferSpeechStopped) -> None:
        self._speech_stopped_at = self._now

    def _on_timeout_triggered(self, event: wire.InputAudioBufferTimeoutTriggered) -> None:
        self._emit(
            events.InputAudioTimeoutTriggeredEvent(
                item_id=event.item_id,
                audio_start_ms=event.audio_start_ms,
                audio_end_ms=event.audio_end_ms,
            )
        )

    def _server_table(self) -> dict[type, Callable[[Any], None]]:
        s = self
        handlers: dict[type, Callable[[Any], None]] = {
            wire.SessionUpdated: s._on_session_updated,
            wire.ServerError: s._on_error,
            wire.ResponseCreated: s._on_response_created,
            wire.ResponseDone: s._on_response_done,
            wire.ResponseOutputAudioDelta: s._on_audio_delta,
            wire.ResponseOutputAudioDone: s._on_audio_done,
            wire.ResponseOutputAudioTranscriptDelta: s._on_assistant_delta,
            wire.ResponseOutputTextDelta: s._on_assistant_delta,
            wire.ResponseOutputAudioTranscriptDone: s._on_transcript_done,
            wire.ResponseOutputTextDone: s._on_text_done,
            wire.ResponseContentPartAdded: s._on_content_part_added,
            wire.ConversationItemAdded: s._on_item,
            wire.ConversationItemCreated: s._on_item,
            wire.ConversationItemDone: s._on_item,
            wire.ConversationItemRetrieved: s._on_item,
            wire.ConversationItemDeleted: s._on_item_deleted,
            wire.ConversationItemTruncated: s._on_item_truncated,
            wire.ResponseOutputItemDone: s._on_output_item_done,
            wire.ResponseFunctionCallArgumentsDone: s._on_arguments_done,
            wire.InputAudioTranscriptionDelta: s._on_input_transcript_delta,
            wire.InputAudioTranscriptionCompleted: s._on_input_transcript_done,
            wire.InputAudioTranscriptionFailed: s._on_transcription_failed,
            wire.InputAudioBufferSpeechStarted: s._on_speech_started,
            wire.InputAudioBufferSpeechStopped: s._on_speech_stopped,
            wire.InputAudioBufferTimeoutTriggered: s._on_timeout_triggered,
        }
        for cls in wire.SERVER_EVENT_CLASSES:
            handlers.setdefault(cls, _ignore)
        return handlers


def _ignore(event: Any) -> None:
    """Server events the session passes on as ``RawModelEvent`` only."""
