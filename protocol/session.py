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
*closed* after ``Close`` or ``ConnectionLost`` (app commands then raise ``LocalProtocolError``
naming why). Within *ready* the concerns are kept by small helpers, each in its own module:

- ``ResponseGate`` (``_responses``): at most one default-conversation response, deferred and
  coalesced ``response.create``;
- ``ToolCalls`` (``_tool_calls``): one output per call, the follow-up response once per turn;
- ``Playback`` (``_playback``): the heard position of assistant audio, for exact truncation;
- ``GuardrailText`` (``_guardrails``): when output guardrails are due;
- ``History`` (``history``): the items in ``previous_item_id`` order.

The class itself is layered, one file a layer: ``_session_state`` (what is remembered, and the
moves every part makes: emit, request a response, interrupt), ``_session_tools`` (agents,
instructions, tool calls, handoffs, guardrails), ``_session_server`` (each server event), and
this module (``handle``, the connection's life, the application's commands).

Nothing the server sends makes ``handle`` raise: invalid data becomes an ``ErrorEvent``.
``handle`` raises ``LocalProtocolError`` only for the caller's misuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import effects, events, inputs, wire
from ._responses import is_out_of_band
from ._session_server import SessionServer
from ._session_state import MAX_APPEND_BYTES, Output
from .agent import Agent
from .audio.formats import AudioFormat
from .config import RunConfig
from .errors import LocalProtocolError, RemoteProtocolError
from .items import (
    item_to_wire,
    user_text,
)
from .wire.codec import Dialect

__all__ = ["MAX_APPEND_BYTES", "Output", "Session"]


class Session(SessionServer):
    """One conversation with a Realtime model, as a pure state machine (see the module doc)."""

    def __init__(
        self,
        agent: Agent,
        *,
        config: RunConfig | None = None,
        context: Any = None,
        dialect: Dialect = "ga",
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(
            agent, config=config, context=context, dialect=dialect, id_factory=id_factory
        )
        self._input_handlers: dict[type, Callable[[Any], None]] = {
            inputs.Connected: self._on_connected,
            inputs.ConnectionLost: self._on_connection_lost,
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
            self._now = now
        out: list[Output] = []
        self._out = out
        if isinstance(event, (str, bytes, bytearray)):
            try:
                event = wire.decode_server_event(
                    bytes(event) if isinstance(event, bytearray) else event, dialect=self.dialect
                )
            except RemoteProtocolError as exc:
                out.append(events.ErrorEvent(code="malformed_frame", message=str(exc)))
                return out
        handler = self._server_handlers.get(type(event))
        if handler is not None:
            out.append(events.RawModelEvent(data=event))  # type: ignore[arg-type]
            if self._state != "closed":
                try:
                    handler(event)
                except (RemoteProtocolError, LocalProtocolError) as exc:
                    # A local error here means server data reached a part (the History...)
                    # that refuses it: still the server's fault, never a crash.
                    out.append(events.ErrorEvent(code="invalid_server_event", message=str(exc)))
            return out
        if isinstance(event, wire.UnknownServerEvent):
            out.append(events.RawModelEvent(data=event))
            return out
        command = self._commands.get(type(event))
        if command is not None:
            self._command(event, command)  # type: ignore[arg-type]
            return out
        own = self._input_handlers.get(type(event))
        if own is None:
            raise LocalProtocolError(
                f"Session.handle cannot take {type(event).__name__}: give it an input from "
                "realtime_sansio.protocol.inputs, a server event, or a text frame"
            )
        own(event)
        return out

    # -- connection lifecycle ---------------------------------------------------------------

    def _on_connected(self, event: inputs.Connected) -> None:
        if self._state != "idle":
            raise LocalProtocolError(f"Connected arrived twice (the session is {self._state})")
        self._state = "starting"
        self._start_agent(self._agent, handoff=None)

    def _on_connection_lost(self, event: inputs.ConnectionLost) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        self._closed_why = (
            f"the connection was lost (code {event.code}, {event.reason or 'no reason'})"
        )
        self._emit(events.ConnectionClosedEvent(code=event.code, reason=event.reason))

    def _on_close(self, event: inputs.Close) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        self._closed_why = "the session was closed"
        self._emit(effects.CloseConnection(code=1000, reason="session closed"))
        self._emit(events.ConnectionClosedEvent(code=1000, reason="session closed"))

    def _command(self, event: inputs.Input, command: Callable[[Any], None]) -> None:
        if self._state == "closed":
            raise LocalProtocolError(f"cannot {type(event).__name__}: {self._closed_why}")
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
        self._emit(wire.ConversationItemCreate(item=item_to_wire(message)))
        self._request_response()

    def _send_audio(self, event: inputs.SendAudio) -> None:
        data = event.data
        for start in range(0, len(data), MAX_APPEND_BYTES):
            self._emit(wire.InputAudioBufferAppend(audio=data[start : start + MAX_APPEND_BYTES]))
        if event.commit:
            self._emit(wire.InputAudioBufferCommit())
            if not self._turn_detection_on:
                self._request_response()  # push-to-talk: the commit is the end of the turn

    def _clear_audio(self, event: inputs.ClearAudio) -> None:
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
        if typed.type != "response.create" or is_out_of_band(params):
            self._emit(typed)  # out of band: never waits, never blocks
        else:
            self._request_response(params if isinstance(params, dict) else None)
