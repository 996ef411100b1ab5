"""The Session's connections: surviving a drop, and moving before the server's age cap.

Theory of operation (docs/resilience.md has the behaviour for readers)
------------------------------------------------------------------------
A connection ends in one of three ways. ``Close`` and a close that is not worth retrying
(``_reconnect.retryable_close``) end the session as they always did. A retryable drop, with
``RunConfig.reconnect`` set, starts an *outage*:

1. ``_connection_gone``: whatever the server was doing is gone with it. The active response
   ends (``AgentEndEvent``, status ``incomplete``), its audio is cut where the listener is,
   here (no server to ask), and it will be asked for again (``_resume``; its calls'
   follow-up asks for it when it made calls; not when the user was speaking over it). So
   will a ``response.create`` never answered, and the answer the server's VAD owed a turn.
2. The session is *reconnecting*: it asks its driver for a connection
   (``effects.OpenConnection`` with the backoff delay; ``ReconnectingEvent``), and keeps
   working offline. Commands queue in order; audio is buffered up to
   ``ReconnectPolicy.max_buffered_audio_s`` (what does not fit is dropped and reported);
   tools run and answer; an interruption stops the listener at once, and the response cut
   off is not asked again. Client events made meanwhile are not sent: a replay rebuilds
   everything the new connection needs (``_reconnect.plan_replay``).
3. ``Connected``: the replay. The agent's ``session.update`` (tracing included: a new
   connection is a new server session), the history as ``conversation.item.create`` events
   chained by ``previous_item_id`` and keeping their ids, the items the session made that the
   old server never echoed, the user audio the old server had not committed, then the
   deferred ``response.create`` and the queued commands. A failed attempt
   (``ConnectFailed``) is retried while it may help and attempts remain; then the session
   gives up (``ErrorEvent`` ``reconnect_failed``) and closes.
4. The server echoes each replayed item; the echoes change nothing in the history (it
   already holds them, richer), and when the last one has come the outage is over:
   ``ReconnectedEvent`` with its downtime.

Recycling is the same replay onto a connection opened at a quiet moment:
``RunConfig.recycle_after_s`` after a connection opened, once nothing is going on (no
response, no tool, no guardrail, no user speech, no queued command), the session asks for a
connection (``OpenConnection(reason="recycle")``); the driver opens it beside the old one and
hands it over with ``Connected``; the old one is simply dropped (if something started in
between, it is treated as a drop at that instant). ``SessionRecycledEvent`` ends it.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from . import effects, events, inputs, wire
from ._reconnect import plan_replay, retryable_close, retryable_failure
from ._session_server import SessionServer
from ._session_state import MAX_APPEND_BYTES
from .config import ReconnectPolicy
from .errors import LocalProtocolError
from .items import AssistantMessage, OutputAudio

__all__ = ["SessionConnection"]

_DEFAULT_POLICY = ReconnectPolicy()  # the backoff of recycling when reconnecting is off


@attrs.define(kw_only=True)
class _Move:
    """A move to a new connection under way: an outage, or a recycle."""

    kind: Literal["reconnect", "recycle"]
    since: float  # the drop (for an outage), or the switch (recycle)
    attempt: int = 0
    age_s: float = 0.0  # of the connection left (recycle)
    waiting: set[str] = attrs.Factory(set)  # replayed items whose echo has not come
    events_of: dict[str, str] = attrs.Factory(dict)  # replay event id -> item id
    replayed: int = 0  # of the replay last sent
    left_out: int = 0
    dropped_bytes: int = 0  # audio that did not fit while reconnecting


class SessionConnection(SessionServer):
    """The life of the session's connections (see the module docstring)."""

    def __init__(self, agent: Any, **kwargs: Any) -> None:
        super().__init__(agent, **kwargs)
        self._connected_at = 0.0
        self._opening: Literal["reconnect", "recycle"] | None = None  # OpenConnection out
        self._move: _Move | None = None  # an outage or a recycle, until its replay is taken
        self._lost: tuple[int | None, str] = (None, "")  # what ended the last connection
        self._recycle_at: float | None = None
        self._queued_audio = 0  # bytes of SendAudio waiting while reconnecting
        self._attempts = 0  # of the last outage: a connection that fails early goes on with it
        self._active_items: list[str] = []  # the output items of the active response
        self._vad_turn = False  # the server's VAD ended a turn: its commit comes next
        self._answer_owed: str | None = None  # a VAD turn the server owes a response
        # The response a lost connection took with it, to ask for again (its parameters),
        # unless the user interrupts meanwhile; None: none.
        self._resume: dict[str, Any] | None = None

    @property
    def _policy(self) -> ReconnectPolicy:
        return self.config.reconnect or _DEFAULT_POLICY

    @property
    def reconnecting(self) -> bool:
        """The connection dropped and a new one is being opened: commands wait."""
        return self._state == "reconnecting"

    # -- the connection's end -----------------------------------------------------------------

    def _on_connection_lost(self, event: inputs.ConnectionLost) -> None:
        if self._state == "closed":
            return
        # The reason is the server's words: later errors quote it, so it is redacted once here.
        reason = self._redact(event.reason) if self._redact else event.reason
        self._lost = (event.code, reason)
        retry = (
            self.config.reconnect is not None
            and self._state != "idle"
            and retryable_close(event.code)
        )
        if not retry:
            self._close(f"the connection was lost (code {event.code}, {reason or 'no reason'})")
            return
        if self._state != "reconnecting":
            lived = self._now - self._connected_at
            self._connection_gone()
            move = self._move = self._move or _Move(kind="reconnect", since=self._now)
            move.kind = "reconnect"  # a recycle's replay, cut short, is now an outage's
            move.waiting.clear()
            move.events_of.clear()
            if lived < self._policy.stable_after_s:
                move.attempt = max(move.attempt, self._attempts)
            if self._opening is not None:  # a recycle's connection, opening: the first try
                move.attempt += 1
        if self._opening is None:  # else an open already under way (a recycle's) serves
            self._attempt_again(event.code, reason or "no reason")

    def _close(self, why: str) -> None:
        self._state = "closed"
        self._closed_why = why
        self._opening = None
        code, reason = self._lost
        self._emit(events.ConnectionClosedEvent(code=code, reason=reason))

    def _connection_gone(self) -> None:
        """The server of this connection, and whatever it was doing, is gone."""
        self._state = "reconnecting"  # from here on nothing is sent (see _cut)
        active = self._gate.active_id
        in_flight, params = self._gate.hold()
        if in_flight:  # our request was never answered: ask again
            self._resume = params or {}
        owed, self._answer_owed = self._answer_owed, None
        if owed is not None and owed in self.history:
            # The server's VAD was to answer a turn: now we ask (a turn it never said it
            # made goes back as audio, and the new server's VAD answers it).
            self._resume = self._resume or {}
        if active is not None:
            self._interrupt(cancel=False, only=active)  # the listener stops where it is
            self._unheard(active)
            self._response_started.pop(active)
            agent = self._response_agents.pop(active) or self._agent
            made_calls = self._calls.made_calls(active)
            due = self._calls.response_done(active, follow_up=True)
            self._end_turn(
                events.AgentEndEvent(agent=agent, response_id=active, status="incomplete")
            )
            if due is not None:
                self._request_response()  # its calls' follow-up, all answered already
            elif not made_calls and not self._user_speaking:
                # Asked again, for the new connection; not when the user was speaking over
                # it (their turn, sent again with the audio, brings the next answer).
                self._resume = self._resume or {}
        self._updates_in_flight.clear()
        self._cancel_on_create = False
        self._create_sent = None
        self._speech_stopped_at = None
        self._user_speaking = self._vad_turn = False

    def _unheard(self, response_id: str) -> None:
        """The spoken items of a response cut off before any of their audio came: nothing
        of them was heard (their transcript runs ahead of the audio), so they go, as a
        barge-in deletes an item nothing of which was played."""
        for item_id in self._active_items:
            item = self.history.get(item_id)
            if not isinstance(item, AssistantMessage) or self._playback.get(item_id) is not None:
                continue
            if not item.content or any(isinstance(p, OutputAudio) for p in item.content):
                self.history.delete(item_id)
                self._emit(events.HistoryUpdatedEvent(item_id=item_id, item=None))
        self._active_items.clear()

    def _attempt_again(self, code: int | None, reason: str) -> None:
        move = self._move
        assert move is not None
        move.attempt += 1
        policy = self._policy
        if move.attempt > policy.max_attempts:
            attempts = policy.max_attempts
            self._emit(
                events.ErrorEvent(
                    code="reconnect_failed",
                    message=f"gave up reconnecting after {attempts} attempts: {reason}",
                )
            )
            lost_code, lost_reason = self._lost
            self._close(
                f"the connection was lost (code {lost_code}, {lost_reason or 'no reason'}) and"
                f" {attempts} attempts to reconnect failed"
            )
            return
        delay = policy.delay(move.attempt)
        self._opening = "reconnect"
        self._emit(
            events.ReconnectingEvent(attempt=move.attempt, delay_s=delay, code=code, reason=reason)
        )
        self._emit(
            effects.OpenConnection(
                reason="reconnect",
                attempt=move.attempt,
                delay_s=delay,
                jitter_s=delay * policy.jitter,
            )
        )

    def _on_connect_failed(self, event: inputs.ConnectFailed) -> None:
        if self._opening is None:  # also once closed: closing forgets the open under way
            raise LocalProtocolError("ConnectFailed answers an OpenConnection, and none is open")
        kind, self._opening = self._opening, None
        reason = self._redact(event.reason) if self._redact else event.reason
        if self._state == "reconnecting":
            if retryable_failure(event.status, permanent=event.permanent):
                self._attempt_again(event.status, reason)
            else:
                self._close(f"the connection was lost and reconnecting failed: {reason}")
            return
        if kind == "recycle":
            # The old connection still serves: try again a little later.
            self._move = None
            self._recycle_at = self._now + self._policy.delay(2)
            self._emit(events.ErrorEvent(code="recycle_failed", message=reason))

    # -- a new connection -----------------------------------------------------------------------

    def _on_connected(self, event: inputs.Connected) -> None:
        if self._state == "idle":
            self._state = "starting"
            self._opened()
            self._start_agent(self._agent, handoff=None)
            return
        if self._opening is None or self._state == "closed":
            raise LocalProtocolError(
                f"Connected arrived twice (the session is {self._state}, and asked for no new"
                " connection)"
            )
        self._opening = None
        if self._state != "reconnecting":  # a recycle's connection: switch over now
            # If something began while the new one opened, it is cut here as by a drop.
            age = self._now - self._connected_at
            self._connection_gone()
            self._move = _Move(kind="recycle", since=self._now, age_s=age)
        self._opened()
        if self._start_request is not None and self._start_request in self._awaiting:
            self._state = "starting"  # the agent's instructions first (see _agent_ready)
            return
        self._send_session_update(first=True)
        self._connection_ready()

    def _opened(self) -> None:
        self._connected_at = self._now
        recycle = self.config.recycle_after_s
        self._recycle_at = None if recycle is None else self._now + recycle

    def _connection_ready(self) -> None:
        move = self._move
        if move is not None:
            self._replay(move)
        self._state = "ready"
        resume, self._resume = self._resume, None
        if resume is not None:
            self._request_response(resume or None)  # held: it waits for the gate's resume
        create = self._gate.resume()
        if create is not None:
            self._send_create(create)
        log = self._input_log
        if move is not None and log is not None:
            # What the old server had not committed (or committed and never showed): after
            # the response asked again, so that speech in it interrupts that response as it
            # would have.
            self._append_audio(log.unknown_turns(self.history) + log.restart())
        self._queued_audio = 0
        super()._connection_ready()
        if move is not None and not move.waiting and self._move is move:
            self._moved(move)

    def _replay(self, move: _Move) -> None:
        """The conversation, sent again (see the module docstring, step 3)."""
        policy = self._policy
        log = self._input_log
        self._held_calls.clear()
        self._placing.clear()
        history = self.history
        plan = plan_replay(
            history,
            outputs=self._calls.outputs(),
            pending_calls=self._calls.pending_ids(),
            heard=history.heard,
            audio_of=(lambda item_id: None) if log is None else log.audio_of,
            user_audio=policy.user_audio,
            event_ids=self._ids,
        )
        for item_id in plan.left_out:
            if history.delete(item_id) is not None:
                self._emit(events.HistoryUpdatedEvent(item_id=item_id, item=None))
        for item_id in plan.held_calls:
            call = history.get(item_id)
            call_id = getattr(call, "call_id", None)
            if isinstance(call_id, str):
                self._held_calls[call_id] = item_id
        replayed = set(plan.replayed_ids)
        for create in plan.creates:
            replayed_id = create.item.get("id")
            if replayed_id in replayed:
                move.waiting.add(replayed_id)
                if create.event_id is not None:
                    move.events_of[create.event_id] = replayed_id
            self._emit(create)
        move.replayed, move.left_out = len(plan.replayed_ids), len(plan.left_out)
        self._playback.replayed()
        if self._own is not None:
            for item in self._own.take():  # made here, never echoed by the old server
                self._created(item)
                self._emit(wire.ConversationItemCreate(item=item))

    def _append_audio(self, data: bytes) -> None:
        for start in range(0, len(data), MAX_APPEND_BYTES):
            chunk = data[start : start + MAX_APPEND_BYTES]
            if self._input_log is not None:
                self._input_log.appended(chunk, self._tail_bytes)
            self._emit(wire.InputAudioBufferAppend(audio=chunk))

    @property
    def _tail_bytes(self) -> int:
        return int(self._policy.max_buffered_audio_s * self._input_format.bytes_per_second)

    def _echo(self, item_id: str, *, final: bool) -> bool:
        """A server event about a replayed item: True when it is one (the history keeps its
        own, richer version); ``final`` (its ``done``) settles it."""
        move = self._move
        if move is None or item_id not in move.waiting:
            return False
        if final:
            move.waiting.discard(item_id)
            if not move.waiting:
                self._moved(move)
        return True

    def _moved(self, move: _Move) -> None:
        """The new connection holds the conversation: the move is over."""
        self._move = None
        self._attempts = move.attempt
        downtime = self._now - move.since
        if move.kind == "recycle":
            self._emit(
                events.SessionRecycledEvent(
                    age_s=move.age_s,
                    downtime_s=downtime,
                    items_replayed=move.replayed,
                    items_left_out=move.left_out,
                )
            )
            return
        bytes_per_ms = self._input_format.bytes_per_second / 1000
        self._emit(
            events.ReconnectedEvent(
                attempt=move.attempt,
                downtime_s=downtime,
                items_replayed=move.replayed,
                items_left_out=move.left_out,
                audio_dropped_ms=move.dropped_bytes / bytes_per_ms,
            )
        )

    # -- recycling -------------------------------------------------------------------------------

    def _quiet(self) -> bool:
        """Nothing going on that a switch of connection would cut: no response (active,
        requested or deferred), no tool, no guardrail, no queued command, no instructions
        awaited, no user speaking."""
        return (
            self._state == "ready"
            and not self.busy
            and not self._awaiting
            and not self._user_speaking
        )

    def _maybe_recycle(self) -> None:
        """After each input: time to move, and quiet enough to?"""
        due = self._recycle_at
        if due is None or self._now < due or self._opening is not None or not self._quiet():
            return
        self._recycle_at = None
        self._opening = "recycle"
        self._emit(effects.OpenConnection(reason="recycle"))

    def _recycle_deadline(self) -> float | None:
        due = self._recycle_at
        return due if due is not None and due > self._now and self._opening is None else None

    # -- while reconnecting -----------------------------------------------------------------------

    def _queue_offline(self, event: inputs.Input) -> None:
        """A command while reconnecting: it waits, in order; audio up to its bound."""
        if isinstance(event, inputs.Interrupt):
            # Stop the listener now; the response cut off by the drop is not asked again
            # (requests of the application's that wait still go).
            self._interrupt(cancel=False)
            self._resume = None
            return
        if isinstance(event, inputs.SendAudio):
            room = self._tail_bytes - self._queued_audio
            if len(event.data) > room:
                self._drop_audio(len(event.data))
                if event.commit:  # the turn's end still counts
                    self._queued.append(inputs.SendAudio(data=b"", commit=True))
                return
            self._queued_audio += len(event.data)
            self._queued.append(event)
            return
        waiting = sum(1 for queued in self._queued if not isinstance(queued, inputs.SendAudio))
        if waiting >= self.config.max_pending_app_inputs:
            raise LocalProtocolError(
                f"{waiting} commands already wait for the connection to come back"
                f" (RunConfig.max_pending_app_inputs); {type(event).__name__} refused"
            )
        self._queued.append(event)

    def _drop_audio(self, size: int) -> None:
        move = self._move
        assert move is not None
        if move.dropped_bytes == 0:
            seconds = self._policy.max_buffered_audio_s
            self._emit(
                events.ErrorEvent(
                    code="input_audio_dropped",
                    message=(
                        f"user audio past {seconds:g} s did not fit while reconnecting"
                        " (ReconnectPolicy.max_buffered_audio_s) and was dropped; the total"
                        " comes in ReconnectedEvent.audio_dropped_ms"
                    ),
                )
            )
        move.dropped_bytes += size

    def _offline_filter(self, out: list[Any]) -> None:
        """Nothing made while reconnecting is sent: the replay rebuilds what is needed."""
        out[:] = [o for o in out if not isinstance(o, wire.ClientEventBase | wire.RawClientEvent)]

    # -- what the server says about the input audio and the items ------------------------------

    def _on_committed(self, event: wire.InputAudioBufferCommitted) -> None:
        if self._vad_turn and self._server_creates:
            self._answer_owed = event.item_id
        self._vad_turn = False
        if self._input_log is not None:
            kept = self._policy.max_kept_audio_s * self._input_format.bytes_per_second
            self._input_log.committed(event.item_id, int(kept))

    def _on_item(
        self,
        event: wire.ConversationItemAdded
        | wire.ConversationItemCreated
        | wire.ConversationItemDone
        | wire.ConversationItemRetrieved
        | wire.ResponseOutputItemDone,
    ) -> None:
        item_id = event.item.get("id")
        new = False
        if isinstance(item_id, str):
            final = isinstance(event, wire.ConversationItemDone | wire.ConversationItemCreated)
            if self._echo(item_id, final=final):
                return  # a replayed item: the history holds it already
            new = item_id not in self.history
        super()._on_item(event)
        own = self._own
        if own is not None and len(own) and isinstance(item_id, str) and new:
            item = self.history.get(item_id)
            if item is not None:
                own.echoed(item)

    def _on_speech_started(self, event: wire.InputAudioBufferSpeechStarted) -> None:
        self._user_speaking = True
        super()._on_speech_started(event)

    def _on_speech_stopped(self, event: wire.InputAudioBufferSpeechStopped) -> None:
        self._user_speaking = False
        self._speech_end(event.audio_end_ms)
        super()._on_speech_stopped(event)

    def _on_timeout_triggered(self, event: wire.InputAudioBufferTimeoutTriggered) -> None:
        self._speech_end(event.audio_end_ms)
        super()._on_timeout_triggered(event)

    def _speech_end(self, audio_end_ms: int) -> None:
        self._vad_turn = True
        if self._input_log is not None:
            per_ms = self._input_format.bytes_per_second / 1000
            self._input_log.speech_stopped(int(audio_end_ms * per_ms))

    def _on_input_transcript_done(self, event: wire.InputAudioTranscriptionCompleted) -> None:
        super()._on_input_transcript_done(event)
        if self._input_log is not None and self._policy.user_audio == "transcript":
            self._input_log.forget(event.item_id)  # the transcript will do

    def _on_item_deleted(self, event: wire.ConversationItemDeleted) -> None:
        super()._on_item_deleted(event)
        if self._input_log is not None:
            self._input_log.forget(event.item_id)

    def _on_error(self, event: wire.ServerError) -> None:
        super()._on_error(event)
        move = self._move
        event_id = event.error.event_id
        if move is not None and event_id is not None and event_id in move.events_of:
            self._echo(move.events_of.pop(event_id), final=True)  # refused: no echo comes

    def _on_output_item_added(self, event: wire.ResponseOutputItemAdded) -> None:
        item_id = event.item.get("id")
        if event.response_id == self._gate.active_id and isinstance(item_id, str):
            self._active_items.append(item_id)  # bounded: one response's outputs

    def _on_response_created(self, event: wire.ResponseCreated) -> None:
        if event.response.get("conversation_id", "") is not None:
            self._active_items.clear()
            self._answer_owed = None
        move = self._move
        if move is not None and move.waiting and self._state == "ready":
            # The server answers in order: every replayed item is handled by now, whether
            # or not it said so item by item.
            move.waiting.clear()
            self._moved(move)
        super()._on_response_created(event)

    def _server_table(self) -> dict[type, Any]:
        table = super()._server_table()
        table[wire.InputAudioBufferCommitted] = self._on_committed
        table[wire.ResponseOutputItemAdded] = self._on_output_item_added
        return table

    # -- the interface -----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """``SessionState.busy``, and: the session is reconnecting."""
        return self._state == "reconnecting" or super().busy

    def get_timer(self) -> float | None:
        """When to call back with ``TimerFired``: a tool's deadline, or the moment to recycle
        the connection."""
        tools, recycle = super().get_timer(), self._recycle_deadline()
        if tools is None or recycle is None:
            return tools if recycle is None else recycle
        return min(tools, recycle)
