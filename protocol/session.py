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

Nothing the server sends makes ``handle`` raise: invalid data becomes an ``ErrorEvent``.
``handle`` raises ``LocalProtocolError`` only for the caller's misuse.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from . import effects, events, inputs, wire
from ._guardrails import GuardrailRun, GuardrailText
from ._playback import Playback, Track
from ._recent import Recent
from ._responses import ResponseGate, is_out_of_band
from ._tool_calls import Call, CallState, ToolCalls
from .agent import Agent, FunctionTool, Handoff, ToolArgumentsError
from .audio.formats import AudioFormat
from .config import UNSET, RunConfig, SessionModelSettings, to_session_payload
from .errors import LocalProtocolError, RemoteProtocolError
from .history import History
from .items import (
    FunctionCall,
    OutputAudio,
    OutputText,
    function_call_output,
    item_from_wire,
    item_to_wire,
    user_text,
)
from .wire.codec import Dialect

__all__ = ["MAX_APPEND_BYTES", "Output", "Session"]

Output = wire.ClientEvent | wire.RawClientEvent | events.SessionEvent | effects.Effect

MAX_APPEND_BYTES = 15 * 1024 * 1024 * 3 // 4 // 2 * 2
"""Audio bytes per ``input_audio_buffer.append``: 15 MiB once base64-encoded, whole samples."""

_HANDOFF_OUTPUT = '{{"assistant": {name}}}'


def _counter_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"rs_{next(counter)}"


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class Session:
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
        if not isinstance(agent, Agent):
            raise LocalProtocolError(f"Session needs an Agent, got {type(agent).__name__}")
        if dialect not in ("ga", "beta"):
            raise LocalProtocolError(f"unknown dialect {dialect!r}; expected 'ga' or 'beta'")
        self.config = config if config is not None else RunConfig()
        self.context = context
        self.dialect: Dialect = dialect
        self.history = History()
        self._agent = agent
        self._ids = id_factory if id_factory is not None else _counter_ids()
        self._settings: SessionModelSettings = self.config.model_settings
        self._instructions: str | None = agent.static_instructions
        self._active_guardrails = (*agent.output_guardrails, *self.config.output_guardrails)
        self._now = 0.0
        self._state = "idle"
        self._closed_why = ""
        self._queued: deque[inputs.Input] = deque()
        self._awaiting: dict[str, tuple[Agent, Call | None]] = {}  # instruction requests
        self._gate = ResponseGate(self._ids)
        self._calls = ToolCalls()
        self._playback = Playback()
        self._guardrails = GuardrailText(self.config.guardrails_settings.debounce_text_length)
        self._tripped = Recent()  # responses stopped by a guardrail
        self._silenced = Recent()  # responses whose audio is no longer delivered
        self._out_of_band = Recent()
        self._cancel_on_create = False
        self._turn_detection_on = True  # the server's default is server VAD
        self._server_interrupts = True
        self._create_sent_at: dict[str, float] = {}  # event id of our response.create -> time
        self._response_started: dict[str, float | None] = {}  # response -> create time
        self._speech_stopped_at: float | None = None
        self._first_audio_seen = Recent()
        self._interrupted_at: dict[str, float] = {}  # item id -> time of the interruption
        self._usage_totals = [0, 0, 0]  # total, input, output tokens
        self._out: list[Output] = []
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
        self._server_handlers: dict[type, Callable[[Any], None]] = _server_handlers(self)
        self._note_settings(self._settings)

    # -- the interface ---------------------------------------------------------------------

    @property
    def current_agent(self) -> Agent:
        return self._agent

    @property
    def response_active(self) -> bool:
        """A default-conversation response is active, or our request for one is in flight."""
        return self._gate.busy

    @property
    def ready(self) -> bool:
        return self._state == "ready"

    @property
    def closed(self) -> bool:
        return self._state == "closed"

    def get_timer(self) -> float | None:
        """When the driver should call back with ``TimerFired`` (same clock as ``now``)."""
        return self._calls.next_deadline()

    def encode(self, event: wire.ClientEvent) -> str:
        """A client event as a text frame in this session's dialect."""
        return wire.encode_client_event(event, dialect=self.dialect)

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
                except RemoteProtocolError as exc:
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

    # -- emitting ---------------------------------------------------------------------------

    def _emit(self, output: Output) -> None:
        self._out.append(output)

    def _send_session_update(self, *, first: bool = False) -> None:
        settings = self._settings
        if first:
            # Tracing is set once, at the start: GA refuses to change it afterwards.
            tracing = self.config.effective_tracing
            settings = attrs.evolve(settings, tracing=UNSET if tracing is None else tracing)
        elif settings.tracing is not UNSET:
            settings = attrs.evolve(settings, tracing=UNSET)
        payload = to_session_payload(
            settings,
            instructions=self._instructions or "",
            tools=[tool.to_wire() for tool in self._agent.all_tools()],
        )
        self._emit(wire.SessionUpdate(session=payload))

    def _request_response(self, params: dict[str, Any] | None = None) -> None:
        create = self._gate.request(params)
        if create is not None:
            self._send_create(create)

    def _send_create(self, create: wire.ResponseCreate) -> None:
        if create.event_id is not None:
            self._create_sent_at[create.event_id] = self._now
        self._emit(create)

    # -- connection lifecycle ---------------------------------------------------------------

    def _on_connected(self, event: inputs.Connected) -> None:
        if self._state != "idle":
            raise LocalProtocolError(f"Connected arrived twice (the session is {self._state})")
        self._state = "starting"
        self._start_agent(self._agent, handoff=None)

    def _start_agent(self, agent: Agent, handoff: Call | None) -> None:
        """Make ``agent`` current once its instructions are known (asking for them if need be)."""
        if agent.instructions_are_dynamic:
            request_id = self._ids()
            self._awaiting[request_id] = (agent, handoff)
            self._emit(
                effects.ResolveInstructions(
                    request_id=request_id, agent=agent, context=self.context
                )
            )
            return
        self._agent_ready(agent, agent.static_instructions or "", handoff)

    def _on_instructions(self, event: inputs.InstructionsResolved) -> None:
        pending = self._awaiting.pop(event.request_id, None)
        if pending is None:
            raise LocalProtocolError(f"no ResolveInstructions with request_id {event.request_id!r}")
        if self._state == "closed":
            return
        agent, handoff = pending
        if event.error is not None:
            self._emit(events.ErrorEvent(code="instructions_failed", message=event.error))
        self._agent_ready(agent, event.instructions, handoff)

    def _agent_ready(self, agent: Agent, instructions: str, handoff: Call | None) -> None:
        previous = self._agent
        self._agent, self._instructions = agent, instructions
        self._active_guardrails = (*agent.output_guardrails, *self.config.output_guardrails)
        first = self._state == "starting"
        self._send_session_update(first=first)
        if handoff is not None:
            self._emit(
                events.HandoffEvent(from_agent=previous, to_agent=agent, call_id=handoff.call_id)
            )
            self._give_output(handoff, _HANDOFF_OUTPUT.format(name=json.dumps(agent.name)))
        if first:
            self._state = "ready"
            while self._queued and self._state == "ready":
                queued = self._queued.popleft()
                self._commands[type(queued)](queued)

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

    def _note_settings(self, settings: SessionModelSettings) -> None:
        """What the session itself must know of the settings it asks for."""
        if settings.output_audio_format is not UNSET:
            self._playback.output_format = settings.output_audio_format
        detection = settings.turn_detection
        if detection is UNSET:
            return
        self._turn_detection_on = detection is not None
        self._server_interrupts = (
            detection is not None and detection.interrupt_response is not False
        )

    # -- interruption and truncation --------------------------------------------------------

    def _interrupt(
        self, *, cancel: bool, force_cancel: bool = False, only: str | None = None
    ) -> None:
        """Stop the assistant: cancel its response (unless the server already does) and cut
        what is playing at the heard position. ``only`` limits it to one response."""
        gate = self._gate
        target = only if only is not None else gate.active_id
        if cancel:
            if gate.active_id is not None and (only is None or only == gate.active_id):
                self._emit(wire.ResponseCancel(response_id=gate.active_id))
            elif gate.in_flight is not None and only is None:
                self._cancel_on_create = True  # not created yet: cancel it when it is
            elif force_cancel:
                self._emit(wire.ResponseCancel())
        if target is not None and target not in self._silenced:
            self._silenced.add(target)
        for item_id, track in self._playback.playing(self._now, active_response=gate.active_id):
            if only is not None and track.response_id != only:
                continue
            self._cut(item_id, track)

    def _cut(self, item_id: str, track: Track) -> None:
        if track.response_id not in self._silenced:
            self._silenced.add(track.response_id)
        event, end_ms = self._playback.cut(item_id, track, self._now)
        self._interrupted_at[item_id] = self._now
        if len(self._interrupted_at) > 64:  # unconfirmed cuts are not waited for forever
            del self._interrupted_at[next(iter(self._interrupted_at))]
        self._emit(
            events.AudioInterruptedEvent(
                response_id=track.response_id,
                item_id=item_id,
                content_index=track.content_index,
                audio_end_ms=end_ms,
            )
        )
        self._emit(event)

    def _on_audio_played(self, event: inputs.AudioPlayed) -> None:
        self._playback.report(event.item_id, event.ms)

    # -- tools and handoffs -----------------------------------------------------------------

    def _function_call(
        self, call_id: str, name: str, arguments: str, response_id: str | None
    ) -> None:
        if self._calls.seen(call_id):
            return  # announced twice by the server, or repeated: run nothing twice
        agent = self._agent
        tool = agent.find_tool(name)
        state = CallState.HANDOFF if isinstance(tool, Handoff) else CallState.RUNNING
        call = Call(
            call_id=call_id,
            name=name,
            arguments=arguments,
            response_id=response_id,
            agent=agent,
            tool=tool,
            state=state,
        )
        self._calls.add(call)
        if tool is None:
            self._give_output(call, f"Error: there is no tool named {name!r}.", failed=True)
            return
        try:
            parsed = tool.parse_arguments(arguments)
        except ToolArgumentsError as exc:
            self._give_output(call, f"Error: invalid arguments for {name!r}: {exc}", failed=True)
            return
        if isinstance(tool, Handoff):
            if tool.on_handoff is None:
                self._start_agent(tool.agent, handoff=call)
            else:
                self._run(call, tool, parsed, timeout=self.config.tool_timeout_s)
            return
        call.parsed = parsed
        if tool.needs_approval:
            call.state = CallState.AWAITING_APPROVAL
            self._emit(
                events.ToolApprovalRequiredEvent(
                    agent=agent, tool=tool, call_id=call_id, arguments=arguments
                )
            )
            return
        self._emit(
            events.ToolStartEvent(agent=agent, tool=tool, call_id=call_id, arguments=arguments)
        )
        timeout = tool.timeout_s if tool.timeout_s is not None else self.config.tool_timeout_s
        self._run(call, tool, parsed, timeout=timeout)

    def _run(
        self,
        call: Call,
        tool: FunctionTool | Handoff,
        parsed: dict[str, Any],
        *,
        timeout: float | None,
    ) -> None:
        if timeout is not None:
            call.deadline = self._now + timeout
            self._calls.timed(call)
        self._emit(
            effects.CallTool(
                call_id=call.call_id,
                tool=tool,
                arguments=parsed,
                agent=call.agent,
                context=self.context,
                timeout_s=timeout,
            )
        )

    def _on_tool_result(self, event: inputs.ToolResult) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            raise LocalProtocolError(f"ToolResult for unknown call_id {event.call_id!r}")
        if call.state is CallState.DONE or self._state == "closed":
            return  # timed out already, or the session ended: the model has its answer
        if call.state is CallState.AWAITING_APPROVAL:
            raise LocalProtocolError(f"call {event.call_id!r} waits for approval, not a result")
        if isinstance(call.tool, Handoff):
            if event.failed:
                self._give_output(call, event.output, failed=True)
            else:
                call.deadline = None
                self._start_agent(call.tool.agent, handoff=call)
            return
        self._give_output(call, event.output, failed=event.failed)

    def _on_approve(self, event: inputs.ApproveTool) -> None:
        call = self._awaiting_approval(event.call_id)
        assert isinstance(call.tool, FunctionTool)
        call.state = CallState.RUNNING
        self._emit(
            events.ToolStartEvent(
                agent=call.agent, tool=call.tool, call_id=call.call_id, arguments=call.arguments
            )
        )
        timeout = (
            call.tool.timeout_s if call.tool.timeout_s is not None else self.config.tool_timeout_s
        )
        self._run(call, call.tool, call.parsed, timeout=timeout)

    def _on_reject(self, event: inputs.RejectTool) -> None:
        call = self._awaiting_approval(event.call_id)
        message = event.message or f"The user rejected the call of {call.name!r}."
        self._give_output(call, message, failed=True)

    def _awaiting_approval(self, call_id: str) -> Call:
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.AWAITING_APPROVAL:
            raise LocalProtocolError(f"no tool call {call_id!r} waits for approval")
        if self._state == "closed":
            raise LocalProtocolError(f"cannot answer the approval: {self._closed_why}")
        return call

    def _give_output(self, call: Call, output: str, *, failed: bool = False) -> None:
        """The call's one output: to subscribers, to the model, then the follow-up if due."""
        self._emit(
            events.ToolEndEvent(
                agent=call.agent,
                tool=call.tool,
                call_id=call.call_id,
                output=output,
                failed=failed,
            )
        )
        self._emit(
            wire.ConversationItemCreate(
                item=item_to_wire(function_call_output(call.call_id, output))
            )
        )
        due = self._calls.finish(call)
        if due is not None or call.response_id is None:
            self._request_response()

    def _on_timer(self, event: inputs.TimerFired) -> None:
        self._now = event.now
        for call in self._calls.expired(event.now):
            self._give_output(
                call,
                f"Error: the tool {call.name!r} did not answer in time and was abandoned.",
                failed=True,
            )

    # -- guardrails -------------------------------------------------------------------------

    def _check_text(self, response_id: str, item_id: str, text: str | None) -> None:
        if text is None or response_id in self._tripped:
            return
        guardrails = self._active_guardrails
        if not guardrails:
            return
        run_id = self._ids()
        self._guardrails.started(
            run_id, GuardrailRun(response_id=response_id, item_id=item_id, text=text)
        )
        self._emit(
            effects.RunGuardrails(
                run_id=run_id,
                response_id=response_id,
                item_id=item_id,
                text=text,
                guardrails=guardrails,
                agent=self._agent,
                context=self.context,
            )
        )

    def _on_guardrail_result(self, event: inputs.GuardrailResult) -> None:
        run = self._guardrails.runs.pop(event.run_id, None)
        if run is None:
            raise LocalProtocolError(f"no RunGuardrails with run_id {event.run_id!r}")
        if not event.tripped or run.response_id in self._tripped or self._state == "closed":
            return
        self._tripped.add(run.response_id)
        self._emit(
            events.GuardrailTrippedEvent(
                guardrails=event.tripped,
                output_info=event.output_info,
                response_id=run.response_id,
                item_id=run.item_id,
                text=run.text,
            )
        )
        self._interrupt(cancel=True, only=run.response_id)
        notice = user_text(f"guardrail triggered: {', '.join(event.tripped)}")
        self._emit(wire.ConversationItemCreate(item=item_to_wire(notice)))
        self._request_response()

    # -- server events ----------------------------------------------------------------------

    def _on_session_updated(self, event: wire.SessionCreated | wire.SessionUpdated) -> None:
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
        if isinstance(audio_out, dict) and "format" in audio_out:
            self._playback.output_format = AudioFormat.from_wire(audio_out["format"])

    def _on_error(self, event: wire.ServerError) -> None:
        error = event.error
        if error.code == "conversation_already_has_active_response":
            self._create_sent_at.pop(error.event_id or "", None)
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

    def _on_response_created(self, event: wire.ResponseCreated) -> None:
        response = event.response
        response_id = _str_or_none(response.get("id"))
        if response_id is None:
            raise RemoteProtocolError("response.created: the response has no string 'id'")
        if "conversation_id" in response and response["conversation_id"] is None:
            self._out_of_band.add(response_id)
            return
        in_flight = self._gate.in_flight
        self._gate.created(response_id)
        self._response_started[response_id] = (
            self._create_sent_at.pop(in_flight, None) if in_flight else None
        )
        self._emit(events.AgentStartEvent(agent=self._agent, response_id=response_id))
        if self._cancel_on_create:
            self._cancel_on_create = False
            self._interrupt(cancel=True, only=response_id)

    def _on_response_done(self, event: wire.ResponseDone) -> None:
        response = event.response
        response_id = _str_or_none(response.get("id"))
        if response_id is None:
            raise RemoteProtocolError("response.done: the response has no string 'id'")
        status = _str_or_none(response.get("status")) or "completed"
        self._usage(response_id, response.get("usage"))
        if status == "failed":
            details = response.get("status_details")
            error = details.get("error") if isinstance(details, dict) else None
            error = error if isinstance(error, dict) else {}
            self._emit(
                events.ErrorEvent(
                    code=_str_or_none(error.get("code")) or "response_failed",
                    message=_str_or_none(error.get("message")) or "the response failed",
                    type=_str_or_none(error.get("type")),
                    response_id=response_id,
                )
            )
        if response_id in self._out_of_band:
            return
        self._response_started.pop(response_id, None)
        self._emit(events.AgentEndEvent(agent=self._agent, response_id=response_id, status=status))
        # Function calls whose outputs were all given while the response ran: follow up now.
        due = self._calls.response_done(response_id, cancelled=status == "cancelled")
        create = self._gate.done(response_id)
        if create is not None:
            self._send_create(create)
        if due is not None:
            self._request_response()

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
        track = self._playback.received(
            event.item_id, response_id, event.content_index, len(event.delta), self._now
        )
        if track.cut:
            return
        if response_id not in self._first_audio_seen:
            self._first_audio_seen.add(response_id)
            self._first_audio_metrics(response_id)
        self._emit(
            events.AudioEvent(
                data=event.delta,
                response_id=response_id,
                item_id=event.item_id,
                content_index=event.content_index,
            )
        )

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
            events.TranscriptDeltaEvent(
                role="assistant",
                item_id=event.item_id,
                content_index=event.content_index,
                delta=event.delta,
                response_id=event.response_id,
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
                audio=None, transcript=_str_or_none(part.get("transcript")) or ""
            )
        elif kind in ("text", "output_text"):
            content = OutputText(text=_str_or_none(part.get("text")) or "")
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
        if self.history.upsert(item, previous):
            self._emit(events.HistoryAddedEvent(item=item, previous_item_id=previous))
        else:
            self._emit(events.HistoryUpdatedEvent(item_id=item.id, item=self.history.get(item.id)))
        if isinstance(item, FunctionCall) and item.status == "completed":
            self._function_call(item.call_id, item.name, item.arguments, self._gate.active_id)

    def _on_output_item_done(self, event: wire.ResponseOutputItemDone) -> None:
        item = event.item
        if item.get("type") == "function_call":
            call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments")
            if isinstance(call_id, str) and isinstance(name, str) and isinstance(arguments, str):
                self._function_call(call_id, name, arguments, event.response_id)
        if self.dialect == "beta":
            self._on_item(event)  # beta has no conversation.item.done: this is the final item

    def _on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone) -> None:
        self._function_call(event.call_id, event.name, event.arguments, event.response_id)

    def _on_item_deleted(self, event: wire.ConversationItemDeleted) -> None:
        if self.history.delete(event.item_id) is not None:
            self._emit(events.HistoryUpdatedEvent(item_id=event.item_id, item=None))
        self._truncation_metrics(event.item_id)

    def _on_item_truncated(self, event: wire.ConversationItemTruncated) -> None:
        if self.history.truncate_audio(event.item_id, event.content_index, event.audio_end_ms):
            self._emit(
                events.HistoryUpdatedEvent(
                    item_id=event.item_id, item=self.history.get(event.item_id)
                )
            )
        self._truncation_metrics(event.item_id)

    def _truncation_metrics(self, item_id: str) -> None:
        interrupted_at = self._interrupted_at.pop(item_id, None)
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
                code=_str_or_none(error.get("code")) or "transcription_failed",
                message=_str_or_none(error.get("message")) or "input audio transcription failed",
                type=_str_or_none(error.get("type")),
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


def _server_handlers(session: Session) -> dict[type, Callable[[Any], None]]:
    s = session
    handlers: dict[type, Callable[[Any], None]] = {
        wire.SessionCreated: s._on_session_updated,
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
