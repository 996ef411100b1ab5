"""The Session's state, and the moves every part of it makes: emitting, requesting a
response, interrupting. The layers above add agents and tools (``_session_tools``), the
server's events (``_session_server``) and the public interface (``session``)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

import attrs

from . import effects, events, inputs, wire
from ._guardrails import GuardrailText
from ._input_audio import InputAudioLog
from ._playback import Playback, Track
from ._recent import Recent, RecentMap
from ._reconnect import OwnItems, heard_text
from ._responses import ResponseGate
from ._tool_calls import Call, ToolCalls
from .agent import Agent
from .audio.formats import PCM16, AudioFormat
from .config import UNSET, RunConfig, SessionModelSettings, to_session_payload
from .errors import LocalProtocolError
from .history import History
from .wire.codec import Dialect

__all__ = ["MAX_APPEND_BYTES", "Output", "SessionState", "counter_ids", "str_or_none"]

Output = wire.ClientEvent | wire.RawClientEvent | events.SessionEvent | effects.Effect

MAX_APPEND_BYTES = 15 * 1024 * 1024 * 3 // 4 // 2 * 2
"""Audio bytes per ``input_audio_buffer.append``: 15 MiB once base64-encoded, whole samples."""


def counter_ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"rs_{next(counter)}"


def str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class SessionState:
    """Everything the Session remembers, and the moves shared by all its parts."""

    _commands: dict[type, Callable[[Any], None]]
    """The application commands by input type (the Session fills it in)."""

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
        if not isinstance(agent, Agent):
            raise LocalProtocolError(f"Session needs an Agent, got {type(agent).__name__}")
        initial = (
            SessionModelSettings() if initial_model_settings is None else initial_model_settings
        )
        if not isinstance(initial, SessionModelSettings):
            raise LocalProtocolError(
                "Session initial_model_settings must be SessionModelSettings or None, got a"
                f" {type(initial).__name__}"
            )
        if dialect not in ("ga", "beta"):
            raise LocalProtocolError(f"unknown dialect {dialect!r}; expected 'ga' or 'beta'")
        self.config = config if config is not None else RunConfig()
        self.context = context
        self.dialect: Dialect = dialect
        self.history = History()
        self._agent = agent
        self._ids = id_factory if id_factory is not None else counter_ids()
        # The layers, lowest first: the initial settings (ModelConfig's), the agent's own
        # instructions (given to every update; so the initial layer's are dropped), the
        # RunConfig's settings, then each UpdateSession.
        initial = attrs.evolve(initial, instructions=UNSET)
        # Hides the credentials the driver connected with in whatever the server says.
        self._redact = redact
        self._settings: SessionModelSettings = initial.merge(self.config.model_settings)
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
        self._input_format: AudioFormat = PCM16  # what SendAudio must hold whole samples of
        self._turn_detection_on = True  # the server's default is server VAD
        self._server_interrupts = True
        self._server_creates = True  # its VAD answers a turn with a response
        self._updates_in_flight: list[str] = []  # our session.updates not yet answered
        self._create_sent: tuple[str, float] | None = None  # our last response.create, and when
        # Active responses' agents and create times, popped at their done. Bounded: a
        # response forgotten unfinished ends under the current agent, with no create time.
        self._response_agents: RecentMap[str, Agent] = RecentMap()
        self._response_started: RecentMap[str, float | None] = RecentMap()
        self._speech_stopped_at: float | None = None
        self._first_audio_seen = Recent()
        self._held_ends: RecentMap[str, events.AgentEndEvent] = RecentMap()  # see _end_turn
        # Item id -> time of the interruption, until the server confirms the cut (bounded:
        # an unconfirmed cut is not waited for forever; its metric is then not reported).
        self._interrupted_at: RecentMap[str, float] = RecentMap()
        self._usage_totals = [0, 0, 0]  # total, input, output tokens
        self._out: list[Output] = []
        self._note_settings(self._settings)
        # Surviving connections (``_session_connection``): what a replay needs, kept only
        # when the session may move to another connection at all.
        resilient = self.config.reconnect is not None or self.config.recycle_after_s is not None
        self._own = OwnItems() if resilient else None
        self._input_log = InputAudioLog() if resilient else None
        self._user_speaking = False
        self._start_request: str | None = None  # the first start's ResolveInstructions
        self._held_calls: dict[str, str] = {}  # call id -> its item's id (a replay's)
        self._placing: set[str] = set()  # held calls sent again: placed by the server's echo

    # -- the interface ---------------------------------------------------------------------

    @property
    def current_agent(self) -> Agent:
        return self._agent

    @property
    def response_active(self) -> bool:
        """A default-conversation response is active, or our request for one is in flight."""
        return self._gate.busy

    @property
    def input_audio_format(self) -> AudioFormat:
        """The format ``SendAudio`` data is in: the one asked for, or the one the server's
        ``session.updated`` named last; PCM16 until either. PCM16 data must be whole samples."""
        return self._input_format

    @property
    def busy(self) -> bool:
        """More is coming without a new command: a response is active, requested or
        deferred; a tool call waits for its output (running, awaiting approval, or a handoff
        awaiting its target's instructions); a guardrail check waits for its verdict; or
        commands wait for the start. False once closed.

        A response's ``AgentEndEvent`` waits for its guardrail verdicts (and, when it wants
        no follow-up, its calls' outputs), so ``AgentEndEvent`` with ``busy`` False means the
        conversation is at rest: the README's exit idiom."""
        if self._state == "closed":
            return False
        gate = self._gate
        return (
            gate.busy
            or gate.deferred
            or self._calls.pending
            or bool(self._guardrails.runs)
            or bool(self._queued)
        )

    @property
    def ready(self) -> bool:
        return self._state == "ready"

    @property
    def closed(self) -> bool:
        return self._state == "closed"

    def get_timer(self) -> float | None:
        """When the driver should call back with ``TimerFired`` (same clock as ``now``)."""
        return self._calls.next_deadline()

    def encode(self, event: wire.ClientEvent | wire.RawClientEvent) -> str:
        """A client event as a text frame in this session's dialect."""
        return wire.encode_client_event(event, dialect=self.dialect)

    # -- emitting ---------------------------------------------------------------------------

    def _emit(self, output: Output) -> None:
        self._out.append(output)

    def _created(self, item: dict[str, Any]) -> None:
        """An item the session creates itself: a new connection gets it again, unless the
        server has echoed it by then."""
        if self._own is not None:
            self._own.sent(item)

    def _connection_ready(self) -> None:
        """The model is configured on this connection: the commands that waited go now (the
        connection layer sends the conversation again first, after a new connection)."""
        self._state = "ready"
        while self._queued and self._state == "ready":
            queued = self._queued.popleft()
            self._commands[type(queued)](queued)

    def _send_session_update(self, *, first: bool = False) -> None:
        settings = self._settings
        if first:
            # Tracing is set once, at the start (null when disabled): GA refuses to change it
            # afterwards.
            settings = attrs.evolve(settings, tracing=self.config.tracing_for(settings))
        elif settings.tracing is not UNSET:
            settings = attrs.evolve(settings, tracing=UNSET)
        payload = to_session_payload(
            settings,
            instructions=self._instructions or "",
            tools=[tool.to_wire() for tool in self._agent.all_tools()],
        )
        event_id = self._ids()
        self._updates_in_flight.append(event_id)
        self._emit(wire.SessionUpdate(event_id=event_id, session=payload))

    def _request_response(self, params: dict[str, Any] | None = None) -> None:
        create = self._gate.request(params)
        if create is not None:
            self._send_create(create)

    def _send_create(self, create: wire.ResponseCreate) -> None:
        if create.event_id is not None:
            self._create_sent = (create.event_id, self._now)
        self._emit(create)

    def _note_settings(self, settings: SessionModelSettings) -> None:
        """What the session itself must know of the settings it asks for."""
        if settings.output_audio_format is not UNSET:
            self._playback.output_format = settings.output_audio_format
        if settings.input_audio_format is not UNSET:
            self._input_format = settings.input_audio_format
        detection = settings.turn_detection
        if detection is UNSET:
            return
        self._turn_detection_on = detection is not None
        self._server_interrupts = (
            detection is not None and detection.interrupt_response is not False
        )
        self._server_creates = detection is not None and detection.create_response is not False

    # -- interruption and truncation --------------------------------------------------------

    def _interrupt(
        self, *, cancel: bool, force_cancel: bool = False, only: str | None = None
    ) -> None:
        """Stop the assistant: cancel its response (unless the server already does) and cut
        what is playing at the heard position. ``only`` limits it to one response."""
        gate = self._gate
        target = only if only is not None else gate.active_id
        if cancel:
            active = gate.active_id
            if active is not None and (only is None or only == active):
                # Silenced already means cancelled already (by us, or by the server's VAD).
                if active not in self._silenced or force_cancel:
                    self._emit(wire.ResponseCancel(response_id=active))
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
        self._emit(
            events.AudioInterruptedEvent(
                response_id=track.response_id,
                item_id=item_id,
                content_index=track.content_index,
                audio_end_ms=end_ms,
            )
        )
        if track.replayed:
            return  # the server has the item as text: nothing to cut there
        if self._state == "reconnecting":
            self._cut_here(item_id, track, end_ms)  # no server to cut it and say so
            return
        self._interrupted_at[item_id] = self._now
        self._emit(event)

    def _cut_here(self, item_id: str, track: Track, end_ms: int) -> None:
        """What the server's ``truncated`` (or ``deleted``) would do to the history."""
        if end_ms <= 0:
            if self.history.delete(item_id) is not None:
                self._emit(events.HistoryUpdatedEvent(item_id=item_id, item=None))
            return
        self._note_heard(item_id, track.content_index, end_ms, track.received_ms)
        if self.history.truncate_audio(item_id, track.content_index, end_ms):
            self._emit(events.HistoryUpdatedEvent(item_id=item_id, item=self.history.get(item_id)))

    def _note_heard(self, item_id: str, index: int, end_ms: float, received_ms: float) -> None:
        """Before a cut drops the transcript: keep the part of it that was heard."""
        item = self.history.get(item_id)
        content = getattr(item, "content", ())
        part = content[index] if 0 <= index < len(content) else None
        transcript = getattr(part, "transcript", None)
        if transcript:
            self.history.set_heard(item_id, heard_text(transcript, end_ms, received_ms))

    def _on_audio_played(self, event: inputs.AudioPlayed) -> None:
        self._playback.report(event.item_id, event.ms)
