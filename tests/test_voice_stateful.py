"""Hypothesis stateful test of the voice pipeline core's invariants.

Any interleaving of user audio (speech, silence, in any chunking), answers to the effects
(in any order, late ones included, failures included), playback reports and clock ticks:

- audio comes out in workflow order: each turn's audio is a prefix of its pieces' audio
  concatenated in piece order;
- every turn that started ends exactly once, with ``turn_ended`` or ``turn_interrupted``;
  nothing comes after ``session_ended``, and after ``InputClosed`` the session does end once
  every effect has been answered;
- when a turn has ended, none of its syntheses is still running (each was answered or
  cancelled): barge-in leaves nothing behind.
"""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from realtime_sansio.protocol.voice import EnergyVad, Pipeline, VoicePipelineConfig, effects, events
from realtime_sansio.protocol.voice import inputs as vi
from voice_helpers import silence, speech_audio

SPEECH = [speech_audio(text) for text in ("Hello there.", "What now?", "Stop it please.")]


class VoicePipelineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.core: Pipeline | None = None
        self.now = 0.0
        self.outputs: list[object] = []
        self.open_effects: list[object] = []  # effects that may still be answered
        self.piece_audio: dict[str, bytearray] = {}  # what we sent for each piece
        self.piece_order: dict[str, list[str]] = {}  # turn -> its pieces, in order
        self.piece_turn: dict[str, str] = {}
        self.running: set[str] = set()  # pieces started, not answered nor cancelled
        self.started: list[str] = []
        self.ends: dict[str, list[str]] = {}
        self.session_ended_at: int | None = None
        self.closed = False

    @rule(
        barge_in=st.booleans(),
        playback=st.sampled_from(["instant", "realtime"]),
        in_flight=st.integers(1, 3),
        greeting=st.booleans(),
    )
    @precondition(lambda self: self.core is None)
    def start(self, barge_in: bool, playback: str, in_flight: int, greeting: bool) -> None:
        config = VoicePipelineConfig(
            barge_in=barge_in,
            playback=playback,  # type: ignore[arg-type]
            max_synthesis_in_flight=in_flight,
            stage_timeout_s=5,
            piece_min_chars=5,
            first_piece_min_chars=5,
        )
        self.core = Pipeline(config, vad=EnergyVad(), greeting=greeting)
        self.step(vi.Start())

    def step(self, event: object) -> None:
        assert self.core is not None
        out = self.core.handle(event, now=self.now)  # type: ignore[arg-type]
        assert self.session_ended_at is None or out == [], "output after session_ended"
        for output in out:
            self.outputs.append(output)
            if isinstance(output, effects.Synthesize):
                self.piece_order.setdefault(output.turn_id, []).append(output.piece_id)
                self.piece_turn[output.piece_id] = output.turn_id
                self.piece_audio[output.piece_id] = bytearray()
                self.running.add(output.piece_id)
            if isinstance(output, effects.CancelSynthesis):
                self.running.discard(output.piece_id)
            if isinstance(output, effects.VoiceEffect) and not isinstance(
                output, effects.CancelSynthesis | effects.CancelWorkflow | effects.ReportHeard
            ):
                self.open_effects.append(output)
            if isinstance(output, events.VoiceStreamEventLifecycle):
                if output.event == "turn_started":
                    assert output.turn_id not in self.started
                    self.started.append(output.turn_id or "")
                elif output.event == "session_ended":
                    self.session_ended_at = len(self.outputs)
                else:
                    assert output.turn_id in self.started
                    self.ends.setdefault(output.turn_id or "", []).append(output.event)

    # -- the user -----------------------------------------------------------------------

    @rule(which=st.integers(0, len(SPEECH) - 1), chunk=st.sampled_from([960, 4800, 9600]))
    @precondition(lambda self: self.core is not None and not self.closed)
    def speak(self, which: int, chunk: int) -> None:
        self.audio(silence(200) + SPEECH[which] + silence(700), chunk)

    @rule(ms=st.sampled_from([100, 400, 1000]))
    @precondition(lambda self: self.core is not None and not self.closed)
    def stay_quiet(self, ms: int) -> None:
        self.audio(silence(ms), 4800)

    def audio(self, pcm: bytes, chunk: int) -> None:
        for i in range(0, len(pcm), chunk):
            self.step(vi.AudioChunk(data=pcm[i : i + chunk]))
            self.now += len(pcm[i : i + chunk]) / 48000

    @rule()
    @precondition(lambda self: self.core is not None and not self.closed)
    def close_input(self) -> None:
        self.closed = True
        self.step(vi.InputClosed())

    @rule(turn=st.integers(0, 5), ms=st.sampled_from([0.0, 300.0, 5000.0]))
    @precondition(lambda self: self.core is not None)
    def report_played(self, turn: int, ms: float) -> None:
        self.step(vi.AudioPlayed(turn_id=f"turn_{turn}", ms=ms))

    @rule()
    @precondition(lambda self: self.core is not None)
    def press_interrupt(self) -> None:
        self.step(vi.Interrupt())

    @rule(seconds=st.sampled_from([0.2, 1.0, 6.0]))
    @precondition(lambda self: self.core is not None)
    def time_passes(self, seconds: float) -> None:
        assert self.core is not None
        self.now += seconds
        deadline = self.core.get_timer()
        if deadline is not None and deadline <= self.now:
            self.step(vi.TimerFired(now=self.now))

    # -- the driver answering ------------------------------------------------------------

    @rule(data=st.data())
    @precondition(lambda self: self.open_effects)
    def answer(self, data: st.DataObject) -> None:
        effect = data.draw(st.sampled_from(self.open_effects))
        fail = data.draw(st.integers(0, 9)) == 0
        if isinstance(effect, effects.Transcribe):
            self.open_effects.remove(effect)
            if fail:
                self.step(vi.TranscriptionFailed(turn_id=effect.turn_id, error="boom"))
            else:
                text = data.draw(st.sampled_from(["hello", "", "what now"]))
                self.step(vi.Transcribed(turn_id=effect.turn_id, text=text))
        elif isinstance(effect, effects.RunWorkflow | effects.RunGreeting):
            if fail:
                self.open_effects.remove(effect)
                self.step(vi.WorkflowFailed(turn_id=effect.turn_id, error="bad"))
            elif data.draw(st.booleans()):
                text = data.draw(st.sampled_from(["Sure. ", "One, two, three. ", "Okay then"]))
                self.step(vi.WorkflowText(turn_id=effect.turn_id, text=text))
            else:
                self.open_effects.remove(effect)
                self.step(vi.WorkflowDone(turn_id=effect.turn_id))
        elif isinstance(effect, effects.Synthesize):
            if fail:
                self.open_effects.remove(effect)
                self.running.discard(effect.piece_id)
                self.step(vi.SynthesisFailed(piece_id=effect.piece_id, error="429"))
            elif data.draw(st.booleans()):
                chunk = bytes([len(self.piece_audio[effect.piece_id]) % 251, 7]) * 240
                self.piece_audio[effect.piece_id] += chunk
                self.step(vi.SynthesizedAudio(piece_id=effect.piece_id, data=chunk))
            else:
                self.open_effects.remove(effect)
                self.running.discard(effect.piece_id)
                self.step(vi.SynthesisDone(piece_id=effect.piece_id))

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def audio_in_workflow_order(self) -> None:
        given: dict[str, bytearray] = {}
        for output in self.outputs:
            if isinstance(output, events.VoiceStreamEventAudio):
                given.setdefault(output.turn_id, bytearray()).extend(output.data)
        for turn, audio in given.items():
            expected = b"".join(self.piece_audio[p] for p in self.piece_order.get(turn, []))
            assert expected.startswith(audio), f"{turn}'s audio is out of order"

    @invariant()
    def turns_end_once(self) -> None:
        for turn, ends in self.ends.items():
            assert len(ends) == 1, f"{turn} ended {ends}"

    @invariant()
    def ended_turns_leave_no_synthesis_running(self) -> None:
        for piece in self.running:
            assert self.piece_turn[piece] not in self.ends, f"{piece} still runs"

    def teardown(self) -> None:
        if self.core is None:
            return
        if not self.closed:
            self.closed = True
            self.step(vi.InputClosed())
        # Answer everything still open, plainly; the session must then end.
        for _ in range(200):
            if self.session_ended_at is not None or not self.open_effects:
                break
            effect = self.open_effects.pop(0)
            if isinstance(effect, effects.Transcribe):
                self.step(vi.Transcribed(turn_id=effect.turn_id, text="fine"))
            elif isinstance(effect, effects.RunWorkflow | effects.RunGreeting):
                self.step(vi.WorkflowDone(turn_id=effect.turn_id))
            elif isinstance(effect, effects.Synthesize):
                self.running.discard(effect.piece_id)
                self.step(vi.SynthesisDone(piece_id=effect.piece_id))
        self.now += 100.0  # playback estimates and reports run out
        self.step(vi.TimerFired(now=self.now))
        if self.session_ended_at is None:
            self.now += 100.0
            self.step(vi.TimerFired(now=self.now))
        assert self.session_ended_at is not None, "the session never ended"
        assert set(self.ends) == set(self.started), "a turn that started never ended"


VoicePipelineMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
TestVoicePipeline = VoicePipelineMachine.TestCase
