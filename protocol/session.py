"""The Session: the pure state machine of one Realtime conversation.

Theory of operation
-------------------
``Session.handle(event, now=None)`` takes one event and returns a list of outputs; that is
the whole interface. Events are the application's commands (``inputs.SendMessage`` ...), the
answers to effects (``inputs.ToolResult`` ...), timer ticks (``inputs.TimerFired``), and what
the server sent (typed ``wire`` events, or raw text frames decoded here with the session's
dialect). Outputs are, in the order they must happen:

- ``wire`` client events, for the driver to send (``session.encode(event)`` gives the text);
- ``events`` session events, for subscribers;
- ``effects``, work that needs user code or I/O, whose answer comes back as an input.

The session does no I/O, reads no clock (``now`` comes in with the event; ``get_timer()``
says when to call back with ``TimerFired``), draws no random numbers (ids come from
``id_factory``) and calls no user code (tools, guardrails and instruction functions are asked
for through effects). The same inputs always give the same outputs.

States: *idle* until ``Connected``; *starting* while the agent's instructions are resolved
(app commands queue, in order, bounded by ``RunConfig.max_pending_app_inputs``); *ready*;
*reconnecting* after a drop worth retrying, until a new connection has the conversation
again (``_session_connection``; commands queue); *closed* after ``Close``, a
``ConnectionLost`` not retried, or attempts run out (app commands then raise
``LocalProtocolError`` naming why). Within *ready* the concerns are kept by small helpers,
each in its own module:

- ``ResponseGate`` (``_responses``): at most one default-conversation response, deferred and
  coalesced ``response.create``;
- ``ToolCalls`` (``_tool_calls``): one output per call, the follow-up response once per turn
  (and once per batch of calls that arrive after their response's end);
- ``Playback`` (``_playback``): the heard position of assistant audio, for exact truncation;
- ``GuardrailText`` (``_guardrails``): when output guardrails are due;
- ``History`` (``history``): the items in ``previous_item_id`` order.

The class itself is layered, one file a layer: ``_session_state`` (what is remembered, and the
moves every part makes: emit, request a response, interrupt), ``_session_tools`` (agents,
instructions, tool calls, handoffs, guardrails), ``_session_server`` (each server event),
``_session_connection`` (the connections: a drop survived, a connection recycled), and this
module (``handle``, the application's commands).

Nothing the server sends makes ``handle`` raise: invalid data becomes an ``ErrorEvent``.
``handle`` raises ``LocalProtocolError`` only for the caller's misuse, and then changes
nothing. Nothing the server sends grows the session's memory without end either: what is kept
per response, item, call or guardrail run is bounded (``_recent``; docs/session.md, "Bounds").

Secrets: ``Session(..., redact=f)`` takes a pure ``str -> str`` function from the driver, which
knows the credentials it connected with (``transports.auth.Redactor``). It is applied to every
raw text frame before decoding and to ``ConnectionLost.reason``, so no event, history item or
later ``LocalProtocolError`` can quote a key the server echoed. Typed server events handed in
directly are the caller's own and are not touched. The function runs once per frame: it must
be pure and fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import effects, events, inputs, wire
from ._responses import is_out_of_band
from ._session_connection import SessionConnection
from ._session_state import MAX_APPEND_BYTES, Output
from ._slots import builder
from .agent import Agent
from .audio.formats import AudioFormat
from .config import RunConfig, SessionModelSettings
from .errors import LocalProtocolError, RemoteProtocolError
from .items import (
    item_to_wire,
    user_text,
)
from .wire.codec import Dialect

__all__ = ["MAX_APPEND_BYTES", "Output", "Session"]

_raw_model_event = builder(events.RawModelEvent)  # one per server event (``_slots``)


class Session(SessionConnection):
    """One conversation with a Realtime model, as a pure state machine (see the module doc)."""

    def __init__(
        self,
        agent: Agent,
        *,
        config: RunConfig | None = None,
        context: Any = None,
        dialect: Dialect = "ga",
        id_factory: Callable[[], str] | None = None,
        initial_model_settings: SessionModelSettings | None = None,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        """``initial_model_settings`` is the lowest layer of the settings
        (``ModelConfig.initial_model_settings``, which the driver passes): beneath the agent's
        instructions and ``config.model_settings``, each of which overrides it."""
        super().__init__(
            agent,
            config=config,
            context=context,
            dialect=dialect,
            id_factory=id_factory,
            initial_model_settings=initial_model_settings,
            redact=redact,
        )
        self._input_handlers: dict[type, Callable[[Any], None]] = {
            inputs.Connected: self._on_connected,
            inputs.ConnectionLost: self._on_connection_lost,
            inputs.ConnectFailed: self._on_connect_failed,
            inputs.Close: self._on_close,
            inputs.AudioPlayed: self._on_audio_played,
            inputs.ToolResult: self._on_tool_result,
            inputs.ApproveTool: self._on_approve,
            inputs.RejectTool: self._on_reject,
            inputs.GuardrailResult: self._on_guardrail_result,
            inputs.InstructionsResolved: self._on_instructions,
            inputs.TimerFired: self._on_timer,
        }
        self._commands: dict[type, Callable[[Any], None]] = {
            inputs.SendMessage: self._send_message,
            inputs.SendAudio: self._send_audio,
            inputs.ClearAudio: self._clear_audio,
            inputs.Interrupt: self._interrupt_command,
            inputs.UpdateSession: self._update_session,
            inputs.UpdateAgent: self._update_agent,
            inputs.SendRawEvent: self._send_raw,
        }
        self._server_handlers: dict[type, Callable[[Any], None]] = self._server_table()

    @property
    def output_audio_format(self) -> AudioFormat:
        """The format of the assistant's audio (``AudioEvent.data``): the one the session
        asked for, or the server's ``session.updated`` named last; PCM16 until either."""
        return self._playback.output_format

    def handle(self, event: inputs.AnyInput, *, now: float | None = None) -> list[Output]:
        """Take one event; return what to send, what to tell subscribers, what to do."""
        if now is not None:
            kind = type(now)
            if (kind is not float and (kind is bool or not isinstance(now, int | float))) or (
                not math.isfinite(now)
            ):
                raise LocalProtocolError(
                    f"Session.handle: now must be a finite number, got {now!r}"
                )
            self._now = now
        out: list[Output] = []
        self._out = out
        if isinstance(event, (str, bytes, bytearray)):
            try:
                # A str frame with nothing to redact, the common case, goes to the codec as is.
                if type(event) is not str or self._redact is not None:
                    event = self._frame_text(event)  # may raise: bytes that are not UTF-8
                event = wire.decode_server_event(event, dialect=self.dialect)
            except RemoteProtocolError as exc:
                out.append(events.ErrorEvent(code="malformed_frame", message=str(exc)))
                return out
        handler = self._server_handlers.get(type(event))
        if handler is not None:
            out.append(_raw_model_event(event))
            if self._state not in ("closed", "reconnecting"):  # none of a connection gone
                try:
                    handler(event)
                except (RemoteProtocolError, LocalProtocolError) as exc:
                    # A local error here means server data reached a part (the History...)
                    # that refuses it: still the server's fault, never a crash.
                    out.append(events.ErrorEvent(code="invalid_server_event", message=str(exc)))
                due = self._recycle_at
                if due is not None and self._now >= due:
                    self._maybe_recycle()
            return out
        if isinstance(event, wire.UnknownServerEvent):
            out.append(_raw_model_event(event))
            return out
        command = self._commands.get(type(event))
        if command is not None:
            self._command(event, command)  # type: ignore[arg-type]
        else:
            own = self._input_handlers.get(type(event))
            if own is None:
                raise LocalProtocolError(
                    f"Session.handle cannot take {type(event).__name__}: give it an input from "
                    "realtime_sansio.protocol.inputs, a server event, or a text frame"
                )
            own(event)
        if self._state == "reconnecting":
            self._offline_filter(out)
        elif self._recycle_at is not None:
            self._maybe_recycle()
        return out

    def _frame_text(self, frame: str | bytes | bytearray) -> str | bytes:
        """A raw frame as the codec takes it, with the driver's secrets redacted."""
        if self._redact is None:
            return bytes(frame) if isinstance(frame, bytearray) else frame
        if not isinstance(frame, str):
            try:
                frame = bytes(frame).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RemoteProtocolError(f"malformed frame: {exc}") from None
        return self._redact(frame)

    # -- connection lifecycle (the rest is ``_session_connection``'s) --------------------------

    def _on_close(self, event: inputs.Close) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        self._opening = None
        self._closed_why = "the session was closed"
        self._emit(effects.CloseConnection(code=1000, reason="session closed"))
        self._emit(events.ConnectionClosedEvent(code=1000, reason="session closed"))

    def _command(self, event: inputs.Input, command: Callable[[Any], None]) -> None:
        if self._state == "closed":
            raise LocalProtocolError(f"cannot {type(event).__name__}: {self._closed_why}")
        if isinstance(event, inputs.SendAudio):
            self._check_audio(event.data)  # before it is queued: refused, it changes nothing
        if self._state == "reconnecting":
            self._queue_offline(event)
            return
        if self._state != "ready":
            if len(self._queued) >= self.config.max_pending_app_inputs:
                raise LocalProtocolError(
                    f"{len(self._queued)} inputs already wait for the session to start "
                    f"(RunConfig.max_pending_app_inputs); {type(event).__name__} refused"
                )
            self._queued.append(event)
            return
        command(event)

    # -- application commands ---------------------------------------------------------------

    def _send_message(self, event: inputs.SendMessage) -> None:
        message = user_text(event.message) if isinstance(event.message, str) else event.message
        item = item_to_wire(message)
        self._created(item)
        self._emit(wire.ConversationItemCreate(item=item))
        self._request_response()

    def _send_audio(self, event: inputs.SendAudio) -> None:
        data = event.data
        if self._input_log is not None:
            self._append_audio(data)  # kept too, as the tail a new connection would need
        else:
            for start in range(0, len(data), MAX_APPEND_BYTES):
                chunk = data[start : start + MAX_APPEND_BYTES]
                self._emit(wire.InputAudioBufferAppend(audio=chunk))
        if event.commit:
            if self._input_log is not None:
                self._input_log.commit_sent()
            self._emit(wire.InputAudioBufferCommit())
            if not self._turn_detection_on:
                self._request_response()  # push-to-talk: the commit is the end of the turn

    def _check_audio(self, data: bytes) -> None:
        width = self._input_format.bytes_per_sample
        if len(data) % width:
            name = "PCM16" if self._input_format.type == "audio/pcm" else self._input_format.type
            raise LocalProtocolError(
                f"SendAudio.data has an odd length for {name} input audio ({len(data)} bytes):"
                f" it is {width} bytes a sample, and a stray byte would shift every later"
                " sample; send whole samples"
            )

    def _clear_audio(self, event: inputs.ClearAudio) -> None:
        if self._input_log is not None:
            self._input_log.cleared()
        self._emit(wire.InputAudioBufferClear())

    def _interrupt_command(self, event: inputs.Interrupt) -> None:
        self._interrupt(cancel=True, force_cancel=event.force_cancel)

    def _update_session(self, event: inputs.UpdateSession) -> None:
        self._settings = self._settings.merge(event.settings)
        self._note_settings(self._settings)
        self._send_session_update()

    def _update_agent(self, event: inputs.UpdateAgent) -> None:
        self._start_agent(event.agent, handoff=None)

    def _send_raw(self, event: inputs.SendRawEvent) -> None:
        raw = event.event
        params: Any
        if isinstance(raw, wire.ClientEventBase):
            typed: wire.ClientEvent | wire.RawClientEvent = raw
            params = raw.response if isinstance(raw, wire.ResponseCreate) else None
        else:
            typed = wire.RawClientEvent(payload=dict(raw))
            params = typed.payload.get("response")
        if typed.type == "conversation.item.create":
            item = typed.item if isinstance(typed, wire.ConversationItemCreate) else None
            if item is None and isinstance(typed, wire.RawClientEvent):
                item = typed.payload.get("item")
            if isinstance(item, dict):
                self._created(item)
        if typed.type != "response.create" or is_out_of_band(params):
            self._emit(typed)  # out of band: never waits, never blocks
        else:
            self._request_response(params if isinstance(params, dict) else None)
