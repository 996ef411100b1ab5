"""``FakeRealtimeServer``: a protocol-faithful Realtime server, pure, for demos and tests.

Theory of operation. The server is a ``ServerCore`` (``host.py``): the host hands it text
frames and clock readings and sends what it returns. Inside, three layers:

1. ``ServerModel`` (``protocol.testing``) keeps the session, the conversation, the input
   buffer and the responses, enforces the one-active-response rule and the other rules with
   the server's error codes, and streams responses one step at a time. This class drives it
   and never re-implements it.
2. Around it, what a model of the *protocol* does not do: decoding frames (a bad one is an
   ``error`` event), refusing what the real server refuses before the model sees it (unknown
   session fields, malformed items and response parameters), hearing speech in appended audio (the
   energy VAD makes the model's ``speech_started``/``speech_stopped``, and drops the audio that
   can no longer be part of a turn, so the input buffer stays bounded), the idle timeout,
   transcripts of committed audio, speech in place of the model's silent audio deltas, a
   brain for responses nobody scripted, time (the latency model), expiry, the beta dialect.
3. A ``FakeScript``, walked beside all that, for deterministic tests and fault injection.

Everything that happens is caused by a call: ``connected``, ``receive``, ``timer``. Time comes
only from their ``now``, ids from counters, waits from the latency model (``latency.Waits``:
figures varied by a jitter computed from a seed), so the same calls give the same frames.
Deadlines are kept side by side in a ``Timeline`` and fired in time order by whichever call
comes at or after them: each active response's next step (``response.created`` goes out at
once, the first output ``first_token_ms`` later, then each delta when the one before it would
have been produced: audio at ``pace``, text at ``tokens_per_s``; every response on its own
time, so out-of-band ones stream beside the conversation's), each turn's transcription, the
idle timeout (from the end of playback of the last audio), a script's ``Delay``, expiry. At
``pace=0`` nothing waits: a response streams whole the moment it starts. See
docs/fake-server.md.
"""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from .. import wire
from ..audio.formats import AudioFormat
from ..testing.scripts import ResponseScript
from ..testing.server import COMMIT_MIN_MS, ServerModel, counter_ids, default_session
from ._config import FakeServerConfig
from ._facts import expiry_message, obfuscation, rate_limits, to_beta
from ._media import (
    SpeechTrack,
    TranscriptionEvent,
    brain_script,
    read_format,
    silence,
    transcript_for,
    transcription_events,
    vad_for,
)
from ._rules import FrameProblem, decode_frame, item_problem, response_problem, session_problem
from ._surface import INCLUDE_LOGPROBS
from ._timeline import EXPIRE, IDLE, RESPONSE, SCRIPT, TRANSCRIPTION, Timeline
from .brain import decide
from .host import CloseConnection, RawFrame, ServerOutput
from .latency import Waits
from .scripts import (
    Delay,
    DropAfter,
    ErrorEvent,
    Expect,
    Expire,
    FakeScript,
    Garbage,
    Mismatch,
    Respond,
    ScriptCursor,
    ScriptStep,
    Send,
    UnknownEvent,
    scripted_events,
)

__all__ = ["FakeRealtimeServer", "FakeServerConfig", "FakeServers", "Mismatch", "counter_ids"]


class FakeRealtimeServer:
    """The fake Realtime server (see the module docstring). One connection at a time; a new
    ``connected`` starts a fresh session (its ids going on from the last one's) and the
    script from its first step (for ``script.connections`` connections; then unscripted).
    Two connections open at once need a server each: ``FakeServers``."""

    def __init__(
        self,
        config: FakeServerConfig | None = None,
        *,
        script: FakeScript | Iterable[ScriptStep] | None = None,
        id_factory: Callable[[str], str] | None = None,
        model: str | None = None,
        epoch: float = 0.0,
    ) -> None:
        self.config = config if config is not None else FakeServerConfig()
        self._id_factory = id_factory if id_factory is not None else counter_ids()
        """Makes every id (given its prefix: ``event``, ``item``, ``resp``...)."""
        self.connection_model = model
        """The model the client connected for (``?model=`` in the URL): the session's, fixed
        for its life. None (the in-memory host has no URL): the session starts with
        ``gpt-realtime``, and the first ``session.update`` that names a model sets it."""
        self.epoch = epoch
        """The Unix time at ``now == 0`` on the host's clock, for the dates the server reports
        (``expires_at``); the core reads no clock itself."""
        self.script = script if isinstance(script, FakeScript) else FakeScript(steps=script or ())
        self._sessions = 0
        self._used = False
        self._reset()

    def _reset(self) -> None:
        # Everything of one connection (``_sessions`` counts them, ids and all go on).
        self._sessions += 1
        session = {"id": f"sess_{self._sessions}", "object": "realtime.session"}
        session.update(default_session())
        if self.connection_model is not None:
            session["model"] = self.connection_model
        self._model_fixed = self.connection_model is not None
        self.model = ServerModel(
            session=session,
            script_source=self._brain,
            id_factory=self._id_factory,
            max_input_audio_ms=self.config.max_input_audio_s * 1000,
        )
        """The server model underneath: its session, conversation and responses."""
        self._cursor = ScriptCursor(self.script.for_connection(self._sessions))
        self.heard: dict[str, str] = {}
        """What the user said in each committed audio item (from ``config.transcripts``)."""
        self.closed = False
        self._out: list[ServerOutput] = []
        self._now = 0.0
        self._started_at = 0.0
        self._timeline = Timeline()
        self._waits = Waits(self.config.latency)
        self._transcribing: dict[str, deque[TranscriptionEvent]] = {}
        self._playback_end = 0.0  # when the conversation's audio so far ends playing
        self._drop_budget: int | None = None
        self._vad_key: tuple[str, str] | None = None
        self._vad = vad_for(None, read_format(None))
        self._vad_origin_ms = 0.0  # the session's audio clock when the VAD's began
        self._in_fmt = read_format(None)
        self._audio_ms = 0.0  # the input audio clock: every accepted append, in ms
        self._idle_from_ms = 0.0
        self._speech: dict[str, SpeechTrack] = {}
        self._responses: dict[str, tuple[ResponseScript, AudioFormat]] = {}
        self._turns = 0
        self._commits = 0
        self._deltas = 0
        self._create_params: Mapping[str, Any] = {}

    @property
    def mismatches(self) -> list[Mismatch]:
        """Client events that were not the ones the script's ``Expect`` steps waited for."""
        return self._cursor.mismatches

    # -- ServerCore ------------------------------------------------------------------------------

    def connected(self, now: float) -> list[ServerOutput]:
        if self._used:
            self._reset()  # a second connection gets a session of its own
        self._used = True
        self._out, self._now, self._started_at = [], now, now
        self._timeline.set(EXPIRE, now + self.config.max_session_s)
        self.model.patch_session(expires_at=int(self.epoch + now + self.config.max_session_s))
        self._send(self.model.connect())
        self._send([rate_limits(self.model.new_id("event"))])
        self._configure()
        self._run_script(now)
        self._settle()
        return self._take()

    def receive(self, text: str, now: float) -> list[ServerOutput]:
        if self.closed:
            return []
        self._out = []
        self._advance(now)
        self._now = max(self._now, now)
        event = decode_frame(text, self.config.dialect)
        if isinstance(event, FrameProblem):
            self._refuse(event)
        elif not self.closed:
            expect = self._expected(event)
            if expect is None or expect.handle:
                self._handle(event)
            self._settle()
            if expect is not None:
                self._send(scripted_events(expect.then, self.model.new_id))
                self._run_script(self._now)
        self._settle()
        return self._take()

    def get_timer(self) -> float | None:
        return None if self.closed else self._timeline.earliest()

    def timer(self, now: float) -> list[ServerOutput]:
        if self.closed:
            return []
        self._out = []
        self._advance(now)
        self._now = max(self._now, now)
        return self._take()

    def disconnected(self, now: float) -> None:
        self.closed = True

    # -- client events ---------------------------------------------------------------------------

    def _handle(self, event: wire.ClientEvent) -> None:
        problem: FrameProblem | None = None
        if isinstance(event, wire.SessionUpdate):
            current = self.model.session
            if not self._model_fixed:
                current.pop("model")
            problem = session_problem(event.session, self.config.dialect, current)
            self._model_fixed = self._model_fixed or (
                problem is None and isinstance(event.session.get("model"), str)
            )
        elif isinstance(event, wire.ConversationItemCreate):
            problem = item_problem(event.item)
        elif isinstance(event, wire.ResponseCreate):
            problem = response_problem(
                event.response or {}, lambda item_id: self.model.item(item_id) is not None
            )
        if problem is not None:
            self._refuse(attrs.evolve(problem, event_id=event.event_id))
            return
        if isinstance(event, wire.ResponseCreate):
            self._create_params = event.response or {}  # for the brain, asked inside receive
        elif isinstance(event, wire.InputAudioBufferAppend):
            self._make_room(len(event.audio))
        try:
            out = self.model.receive(event)
        finally:
            self._create_params = {}
        self._send(out)
        refused = any(isinstance(e, wire.ServerError) for e in out)
        if isinstance(event, wire.SessionUpdate) and not refused:
            self._configure()
        elif isinstance(event, wire.InputAudioBufferAppend) and not refused:
            self._audio_ms += len(event.audio) * 1000 / self._in_fmt.bytes_per_second
            self._hear(event.audio)

    def _expected(self, event: wire.ClientEvent) -> Expect | None:
        """The ``Expect`` step this event meets, or None (answering a mismatch if any)."""
        met = self._cursor.meet(event.type, event.event_id)
        if isinstance(met, Mismatch):
            message = (
                f"The script expected {met.expected!r} at step {met.step}, but the client sent"
                f" {met.actual!r}."
            )
            self._send([self.model.error("script_mismatch", message, event.event_id)])
            return None
        return met

    def _refuse(self, problem: FrameProblem) -> None:
        error = self.model.error(problem.code, problem.message, problem.event_id)
        self._send([attrs.evolve(error, error=attrs.evolve(error.error, param=problem.param))])

    def _configure(self) -> None:
        """Follow the session's input format and turn detection (after connect and updates)."""
        audio_in = self.model.session["audio"]["input"]
        self._in_fmt = read_format(audio_in.get("format"))
        detection = audio_in.get("turn_detection")
        key = (json.dumps(detection, sort_keys=True), self._in_fmt.type)
        if key != self._vad_key:
            # A new detector starts between turns; the model may still think the user is
            # speaking, which is why edges below are checked against the model's state.
            self._vad_key, self._vad = key, vad_for(detection, self._in_fmt)
            self._vad_origin_ms = self._audio_ms

    def _hear(self, audio: bytes) -> None:
        vad = self._vad
        if vad is None:
            return
        for edge in vad.feed(audio):
            # The VAD counts from its own start; the events count on the session's clock.
            at_ms = self._vad_origin_ms + edge.ms
            if edge.started and not self.model.speaking:
                self._timeline.pop(IDLE)
                # The turn starts prefix_padding_ms before the first loud frame.
                self.model.trim_input(vad.bytes_since(edge.ms))
                self._send(self.model.speech_started(audio_start_ms=at_ms))
            elif not edge.started and self.model.speaking:
                # It ends where the VAD decided (the silence included, as on the real
                # server); what came after in the same append waits for the next turn.
                after = vad.bytes_since(edge.ms + vad.stop_delay_ms)
                self._send(self.model.speech_stopped(0, leave=after))
        if not self.model.speaking:
            # Nobody speaks: only the prefix padding can still become part of a turn, so
            # hours of silence keep the buffer at a few hundred milliseconds.
            self.model.trim_input(vad.padding_bytes)

    def _make_room(self, nbytes: int) -> None:
        """With VAD on, a turn that this audio would take past the buffer's bound ends first,
        as if the user paused: a documented choice, the real server's behaviour being
        unknown. Push-to-talk has no such way out: the model refuses the append."""
        if self._vad is None or not self.model.speaking or nbytes <= self.model.input_buffer_room:
            return
        self._send(self.model.speech_stopped(0))
        self._vad.reset()
        self._vad_origin_ms = self._audio_ms - self._vad.position_ms  # its pending part went

    # -- the brain -------------------------------------------------------------------------------

    def _brain(self, model: ServerModel, out_of_band: bool) -> ResponseScript | None:
        """The script of a response nobody scripted (the ServerModel's ``script_source``)."""
        if not self.config.brain:
            return None
        params = self._create_params
        given = params.get("input")
        last: dict[str, Any] | None
        if isinstance(given, list):
            # The response's own context: [] is none at all; a reference is the item it names.
            last = given[-1] if given and isinstance(given[-1], dict) else None
            if last is not None and last.get("type") == "item_reference":
                last = model.item(str(last.get("id")))
        else:
            # The latest turn that is not the assistant's own: a reply asked for again
            # (cut short by a drop or a barge-in, and replayed) answers what it answered.
            last = next(
                (
                    item
                    for item in reversed(model.items())
                    if not (item.get("type") == "message" and item.get("role") == "assistant")
                ),
                None,
            )
        # A response's own tools and tool_choice stand in for the session's.
        tools = params.get("tools")
        if not isinstance(tools, list):
            tools = model.tools
        choice = params.get("tool_choice", model.session.get("tool_choice"))
        choice = choice if isinstance(choice, str | dict) else "auto"
        if last is None:
            decision = decide(None, tools, tool_choice=choice)
        elif last.get("type") == "function_call_output":
            output = str(last.get("output", ""))
            decision = decide(None, tools, tool_output=output, tool_choice=choice)
        elif last.get("type") == "message" and last.get("role") == "user":
            decision = decide(self._words_of(last), tools, tool_choice=choice)
        else:
            decision = decide(None, tools, tool_choice=choice)
        modalities = params.get("output_modalities")
        if not isinstance(modalities, list):
            modalities = model.session.get("output_modalities") or ["audio"]
        self._turns += 1
        return brain_script(decision, audio="audio" in modalities, turn=self._turns)

    def _words_of(self, item: dict[str, Any]) -> str:
        words = []
        content = item.get("content")
        for part in content if isinstance(content, list) else ():
            if not isinstance(part, dict):
                continue
            if part.get("type") == "input_text":
                words.append(str(part.get("text", "")))
            elif part.get("type") == "input_audio":
                self._note_commit(str(item.get("id")))
                heard = part.get("transcript") or self.heard.get(str(item.get("id")))
                words.append(heard or self._heard_in(part.get("audio")))
        return " ".join(w for w in words if w)

    def _heard_in(self, audio: Any) -> str:
        """What a created item's audio says (a client replaying a conversation sends the
        user's turns so): as a committed turn would be heard, with no turn index."""
        if not isinstance(audio, str) or not audio:
            return ""
        try:
            pcm = base64.b64decode(audio, validate=True)
        except ValueError:
            return ""
        ms = len(pcm) * 1000 / self._in_fmt.bytes_per_second
        return transcript_for(self.config.transcripts, -1, pcm, ms)

    # -- what goes out ---------------------------------------------------------------------------

    def _send(self, events: Iterable[wire.ServerEvent]) -> None:
        for event in events:
            if self.closed:
                return
            for shown in self._transform(event):
                self._put(shown)

    def _transform(self, event: wire.ServerEvent) -> list[wire.ServerEvent]:
        """The model's event as the fake says it: with speech, transcripts, timers kept."""
        if isinstance(event, wire.ResponseOutputAudioDelta):
            track = self._speech.get(event.item_id)
            if track is None:
                track = self._speech[event.item_id] = self._track(event)
            run = self.model.run(event.response_id)
            if run is not None and not run.out_of_band:
                # The client plays it from when it arrives, or when what came before ends.
                ms = len(event.delta) / track.bytes_per_ms
                self._playback_end = max(self._playback_end, self._now) + ms / 1000
            return [attrs.evolve(event, delta=track.take(len(event.delta)))]
        if isinstance(event, wire.ResponseOutputAudioTranscriptDelta):
            self._deltas += 1
            return [attrs.evolve(event, obfuscation=obfuscation(event.delta, self._deltas))]
        if isinstance(event, wire.InputAudioBufferCommitted):
            self._note_commit(event.item_id)
        elif isinstance(event, wire.InputAudioTranscriptionCompleted):
            return self._transcription(event)
        elif isinstance(event, wire.ResponseCreated):
            # What the response will say, read while it is live (a drain ends it at once).
            run = self.model.run(str(event.response.get("id")))
            if run is not None:
                fmt = read_format(run.resource["audio"]["output"]["format"])
                self._responses[run.id] = (run.script, fmt)
                if not self.config.instant:
                    # response.created at once; the first output after the model's latency.
                    self._timeline.set(RESPONSE, self._now + self._waits.first_token(), run.id)
            if event.response.get("conversation_id") is not None:
                self._timeline.pop(IDLE)
        elif isinstance(event, wire.ResponseDone):
            self._responses.pop(str(event.response.get("id")), None)
            self._timeline.pop(RESPONSE, str(event.response.get("id")))
            for item in event.response.get("output") or ():
                self._speech.pop(str(item.get("id")), None)
            if event.response.get("conversation_id") is not None:
                self._arm_idle()
        return [event]

    def _note_commit(self, item_id: str) -> None:
        """What the user said in the audio just committed as ``item_id``. Called from the
        ``committed`` event, or earlier by the brain: the model asks for the response to a
        VAD turn before it returns the turn's events."""
        if item_id in self.heard or not self.model.committed_audio:
            return
        audio = self.model.committed_audio[-1]
        # The model keeps every turn's audio; the fake keeps its memory bounded instead
        # (``config.transcripts`` as a function sees each turn's audio).
        self.model.committed_audio.clear()
        ms = len(audio) * 1000 / self._in_fmt.bytes_per_second
        self.heard[item_id] = transcript_for(self.config.transcripts, self._commits, audio, ms)
        self._commits += 1

    def _track(self, event: wire.ResponseOutputAudioDelta) -> SpeechTrack:
        script, fmt = self._responses.get(event.response_id, (None, read_format(None)))
        output = script.outputs[event.output_index] if script is not None else None
        return SpeechTrack.speaking(getattr(output, "transcript", ""), fmt)

    def _transcription(
        self, event: wire.InputAudioTranscriptionCompleted
    ) -> list[wire.ServerEvent]:
        """The transcription of a committed turn: its deltas (a word each) and ``completed``,
        at once, or queued to stream after the latency model's delay."""
        text = self.heard.get(event.item_id, event.transcript)
        logprobs = INCLUDE_LOGPROBS in (self.model.session.get("include") or ())
        if self.config.instant or not self.config.latency.transcription_paced:
            self._keep_transcript(event.item_id, text)
            return [*transcription_events(event, text, self.model.new_id, logprobs=logprobs)]
        # Queued without ids: each gets its own when it goes out, in the order of the frames.
        out = transcription_events(event, text, lambda prefix: "", logprobs=logprobs)
        self._transcribing[event.item_id] = deque(out)
        self._timeline.set(TRANSCRIPTION, self._now + self._waits.transcription(), event.item_id)
        return []

    def _keep_transcript(self, item_id: str, text: str) -> None:
        # The conversation keeps the transcript too, as a retrieve of the item shows.
        if self.model.item(item_id) is not None:
            self.model.update_part(item_id, 0, transcript=text)

    def _put(self, output: ServerOutput) -> None:
        if self.closed:
            return
        if self.config.dialect == "beta" and not isinstance(output, RawFrame | CloseConnection):
            beta = to_beta(output)
            if beta is None:
                return
            output = RawFrame(text=wire.encode_server_event(beta, dialect="beta"))
        self._out.append(output)
        if isinstance(output, CloseConnection):
            self.closed = True
        elif self._drop_budget is not None:
            self._drop_budget -= 1
            if self._drop_budget <= 0:
                self._drop()

    def _drop(self) -> None:
        self._put(CloseConnection(code=1006, reason="connection dropped (scripted fault)"))

    def _take(self) -> list[ServerOutput]:
        out, self._out = self._out, []
        return out

    # -- time --------------------------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Fire every deadline up to ``now``, earliest first."""
        while not self.closed:
            due = self._timeline.next_due(now)
            if due is None:
                return
            at, kind, key = due
            self._now = max(self._now, at)
            if kind == RESPONSE:
                self._stream(key, at)
            elif kind == TRANSCRIPTION:
                self._transcribe(key, at)
            elif kind == SCRIPT:
                self._timeline.pop(SCRIPT)
                self._cursor.release()
                self._run_script(at)
            elif kind == IDLE:
                self._timeline.pop(IDLE)
                self._idle()
            else:
                self._expire(at)
            self._kick()

    def _kick(self) -> None:
        """In the instant mode, the responses that started stream whole at once."""
        if self.config.instant and not self.closed and self.model.active_response_ids:
            self._send(self.model.drain())

    def _settle(self) -> None:
        self._kick()
        self._advance(self._now)

    def _stream(self, response_id: str, at: float) -> None:
        """Step one response up to and including its next delta that takes time, which sets
        when it steps next: audio its duration times ``pace``, text and tool arguments their
        tokens at the latency model's rate. Each response keeps its own time, so an
        out-of-band response streams beside the conversation's."""
        while not self.closed and self.model.run(response_id) is not None:
            events = self.model.step(response_id)
            self._send(events)
            wait = self._waits.after(events, self.config.pace, self._bytes_per_ms)
            if wait > 0 and self.model.run(response_id) is not None:
                self._timeline.set(RESPONSE, at + wait, response_id)
                return
        self._timeline.pop(RESPONSE, response_id)

    def _bytes_per_ms(self, item_id: str) -> float:
        track = self._speech.get(item_id)
        return track.bytes_per_ms if track is not None else 48.0

    def _transcribe(self, item_id: str, at: float) -> None:
        """The next transcription deltas of a turn, until one takes time; ``completed`` after
        the last."""
        queue = self._transcribing.get(item_id)
        while queue and not self.closed:
            event = attrs.evolve(queue.popleft(), event_id=self.model.new_id("event"))
            if isinstance(event, wire.InputAudioTranscriptionCompleted):
                self._keep_transcript(item_id, event.transcript)
            self._put(event)
            wait = self._waits.transcript_piece(getattr(event, "delta", None) or "")
            if wait > 0 and queue:
                self._timeline.set(TRANSCRIPTION, at + wait, item_id)
                return
        self._transcribing.pop(item_id, None)
        self._timeline.pop(TRANSCRIPTION, item_id)

    def _arm_idle(self) -> None:
        detection = self.model.turn_detection
        timeout = detection.get("idle_timeout_ms") if detection else None
        if isinstance(timeout, int) and timeout > 0:
            # From the end of playback of the last audio (response.done time plus the audio
            # still to play, as the openai types say), not from response.done.
            self._timeline.set(IDLE, max(self._now, self._playback_end) + timeout / 1000)
            self._idle_from_ms = self._audio_ms

    def _idle(self) -> None:
        """No speech for ``idle_timeout_ms`` after a response: ``timeout_triggered``, the
        buffer committed (padded with silence to the 100 ms a commit needs, as the real
        server commits the silent stretch it heard), and a response if ``create_response``."""
        model = self.model
        detection = model.turn_detection
        if not detection or model.speaking or model.active_response_id is not None:
            return
        event_id = model.new_id("event")
        short = COMMIT_MIN_MS * self._in_fmt.bytes_per_second // 1000 - len(model.input_buffer)
        if short > 0:
            padding = wire.InputAudioBufferAppend(audio=silence(self._in_fmt, short))
            self._send(model.receive(padding))
            self._audio_ms += short * 1000 / self._in_fmt.bytes_per_second
        committed = model.receive(wire.InputAudioBufferCommit())
        item_id = next(
            e.item_id for e in committed if isinstance(e, wire.InputAudioBufferCommitted)
        )
        timeout = wire.InputAudioBufferTimeoutTriggered(
            event_id=event_id,
            item_id=item_id,
            audio_start_ms=int(self._idle_from_ms),
            audio_end_ms=int(self._audio_ms),
        )
        self._send([timeout, *committed])
        if detection.get("create_response", True):
            self._send(model.start_response())

    def _expire(self, at: float) -> None:
        message = expiry_message(at - self._started_at)
        self._send([self.model.error("session_expired", message, None)])
        self._put(CloseConnection(code=1001, reason="session expired"))

    # -- the script ------------------------------------------------------------------------------

    def _run_script(self, at: float) -> None:
        """Act on the steps from the cursor until one waits (``Expect``, ``Delay``)."""
        while not self.closed:
            step = self._cursor.take()
            if step is None:
                return
            if isinstance(step, Respond):
                self.model.script(step.script, out_of_band=step.out_of_band)
            elif isinstance(step, Send):
                self._send(scripted_events(step.events, self.model.new_id))
            elif isinstance(step, DropAfter):
                self._drop_budget = step.count
                if step.count == 0:
                    self._drop()
            elif isinstance(step, Garbage):
                self._put(RawFrame(text=step.text))
            elif isinstance(step, UnknownEvent):
                raw = {"type": step.type, "event_id": self.model.new_id("event"), **step.fields}
                self._put(RawFrame(text=json.dumps(raw)))
            elif isinstance(step, ErrorEvent):
                error = self.model.error(step.code, step.message, None, param=step.param)
                self._send([attrs.evolve(error, error=attrs.evolve(error.error, type=step.type))])
            elif isinstance(step, Delay):
                self._timeline.set(SCRIPT, at + step.ms / 1000)
            elif isinstance(step, Expire):
                self._timeline.set(EXPIRE, at + step.after_ms / 1000)


class FakeServers:
    """A fresh ``FakeRealtimeServer`` for each connection, as ``serve-fake`` and
    ``FakeServerConnections`` give them: the same config, the script for its first
    ``script.connections`` connections, ids that never repeat across connections. Calling
    it gives the next one (for the ``model`` of its URL, and the host's ``epoch``, as
    ``FakeRealtimeServer`` takes them); ``count`` is how many it gave."""

    def __init__(
        self, config: FakeServerConfig | None = None, *, script: FakeScript | None = None
    ) -> None:
        self.config = config
        self.script = script if script is not None else FakeScript()
        self._ids = counter_ids()
        self.count = 0

    def __call__(self, *, model: str | None = None, epoch: float = 0.0) -> FakeRealtimeServer:
        self.count += 1
        script = self.script.for_connection(self.count)
        return FakeRealtimeServer(
            self.config, script=script, id_factory=self._ids, model=model, epoch=epoch
        )
