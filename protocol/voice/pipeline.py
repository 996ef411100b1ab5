"""``Pipeline``: the voice pipeline's pure core, speech-to-text -> workflow -> text-to-speech.

Theory of operation
-------------------
The core has the Session's contract: ``handle(input, now=...)`` returns a list of outputs,
each an event for the application (``events``) or an effect for the driver (``effects``);
``get_timer()`` says when to send ``TimerFired``. It does no I/O, reads no clock, draws no
random numbers (ids come from ``id_factory``) and calls no user code: the same inputs give
the same outputs, always.

*Turns.* With a ``vad`` (streamed input), the VAD's edges cut the input into user turns:
``turn_started`` when speech starts, and when it stops the turn's audio (from the start
edge, prefix padding included) goes to ``Transcribe``. Without one (a one-shot input), all
the audio until ``InputClosed`` is one turn. Only the input since the last turn is kept while
nobody speaks (``LOOKBACK_MS``), and a turn longer than ``max_turn_s`` is cut there.

*Replies.* Turns are answered one at a time, in order. The answering turn's transcript goes
to ``RunWorkflow``; its text, as it streams, is cut into pieces (``TextSplitter``), and up to
``max_synthesis_in_flight`` pieces are synthesised at once; audio is given out strictly in
piece order, each piece's caption (``VoiceStreamEventText``) just before its audio. When the
workflow is done, all pieces are given out and (with ``playback="realtime"``) the audio has
been played, the turn ends: ``turn_ended``, then the next turn is answered.

*Barge-in.* Speech that starts while earlier turns are unfinished interrupts them: their
transcription, workflow and synthesis are cancelled (``Cancel*`` effects for everything
still running), ``turn_interrupted``, and ``ReportHeard`` tells the workflow which part of
its reply was heard (from ``AudioPlayed`` reports, else estimated from the clock) so its
memory keeps only that. With ``barge_in=False`` the new turn waits instead. ``Interrupt``
(a button) does the same without a new turn.

*Failures.* A failed or timed-out (``stage_timeout_s``) transcription, workflow or
synthesis gives a ``VoiceStreamEventError`` and ends its turn (``turn_ended``), cancelling
the rest; the next turn goes on. ``handle`` raises ``LocalProtocolError`` only for misuse
(audio after ``InputClosed``, input before ``Start``, wrong types).

*Greeting.* With ``greeting=True`` the first turn is the workflow's greeting (``RunGreeting``);
its id is ``greeting_1`` (from the id factory's ``greeting`` prefix), it has no user part, and
it exists for the application (``turn_started``) only once it has said something.

*End.* After ``InputClosed`` the last turns are finished, then ``session_ended``; after it,
every input is ignored.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from typing import Literal

from ..audio.formats import PCM16
from ..errors import LocalProtocolError
from . import effects, events
from . import inputs as vi
from ._turns import Phase, Piece, Turn, heard_text
from .config import VoicePipelineConfig
from .splitter import TextSplitter
from .vad import VAD

__all__ = ["LOOKBACK_MS", "Pipeline", "VoiceOutput"]

VoiceOutput = events.VoiceStreamEvent | effects.VoiceEffect

LOOKBACK_MS = 2000
"""Input kept while nobody speaks: a start edge (reported ``prefix_padding_ms`` and the
VAD's ``min_speech_ms`` back) can reach this far into the past."""

_BYTES_PER_MS = PCM16.bytes_per_second // 1000
_Stage = Literal["transcription", "workflow", "synthesis", "input"]


class Pipeline:
    """The pure core of a voice pipeline (see the module docstring)."""

    def __init__(
        self,
        config: VoicePipelineConfig | None = None,
        *,
        vad: VAD | None = None,
        greeting: bool = False,
        instant_playback: bool | None = None,
        id_factory: Callable[[str], str] | None = None,
    ) -> None:
        self.config = config if config is not None else VoicePipelineConfig()
        self.vad = vad
        self.greeting = greeting
        self.instant = (
            self.config.playback == "instant" if instant_playback is None else instant_playback
        )
        counters: dict[str, itertools.count[int]] = {}

        def count(prefix: str) -> str:
            return f"{prefix}_{next(counters.setdefault(prefix, itertools.count(1)))}"

        self._new_id = id_factory or count
        self._new_splitter()  # refuses bad splitter lengths now, not at the first reply
        self.started = False
        self.input_closed = False
        self.ended = False
        self._queue: deque[Turn] = deque()  # past listening, unfinished, in order
        self._listening: Turn | None = None
        self._pieces: dict[str, Piece] = {}  # started, not yet finished
        self._input = bytearray()  # the input since _input_ms (see LOOKBACK_MS)
        self._input_ms = 0
        self._carry = b""  # an odd input byte
        self._out: list[VoiceOutput] = []
        self._now = 0.0

    def _new_splitter(self) -> TextSplitter:
        return TextSplitter(
            first_min_chars=self.config.first_piece_min_chars,
            min_chars=self.config.piece_min_chars,
            max_chars=self.config.piece_max_chars,
        )

    # -- the contract ---------------------------------------------------------------------

    @property
    def turns(self) -> list[str]:
        """Ids of the unfinished turns, oldest first (the listening one last)."""
        listening = [self._listening.id] if self._listening is not None else []
        return [turn.id for turn in self._queue] + listening

    def get_timer(self) -> float | None:
        deadlines = [turn.deadline for turn in self._queue if turn.deadline is not None]
        return min(deadlines) if deadlines else None

    def handle(self, event: vi.AnyVoiceInput, *, now: float) -> list[VoiceOutput]:
        """One input; the events and effects it causes, in order."""
        if self.ended:
            if isinstance(event, vi.AudioChunk | vi.Start):
                raise LocalProtocolError(f"{type(event).__name__} after session_ended")
            return []
        self._out, self._now = [], max(self._now, now)
        if isinstance(event, vi.Start):
            self._start()
        elif not self.started:
            raise LocalProtocolError(f"{type(event).__name__} before Start")
        elif isinstance(event, vi.AudioChunk):
            self._audio(event.data)
        elif isinstance(event, vi.InputClosed):
            self._close_input()
        elif isinstance(event, vi.AudioPlayed):
            self._played(event)
        elif isinstance(event, vi.Interrupt):
            for turn in list(self._queue):
                self._finish(turn, "turn_interrupted")
        elif isinstance(event, vi.TimerFired):
            self._now = max(self._now, event.now)
            self._timer()
        elif isinstance(event, vi.Transcribed | vi.TranscriptionFailed):
            self._transcribed(event)
        elif isinstance(event, vi.WorkflowText | vi.WorkflowDone | vi.WorkflowFailed):
            self._workflow(event)
        elif isinstance(event, vi.SynthesizedAudio | vi.SynthesisDone | vi.SynthesisFailed):
            self._synthesis(event)
        else:
            raise LocalProtocolError(f"Pipeline.handle takes a voice input, not {event!r}")
        self._maybe_end_session()
        out, self._out = self._out, []
        return out

    # -- input ----------------------------------------------------------------------------

    def _start(self) -> None:
        if self.started:
            raise LocalProtocolError("Start was already handled")
        self.started = True
        if self.greeting:
            # turn_started waits for the greeting's first text: a workflow whose on_start
            # says nothing makes no turn at all.
            turn = Turn(self._new_id("greeting"), "responding", self._new_splitter())
            turn.silent = True
            self._queue.append(turn)
            turn.workflow_started = True
            self._out.append(effects.RunGreeting(turn_id=turn.id))
            self._touch(turn)

    def _audio(self, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise LocalProtocolError(f"AudioChunk.data must be bytes, not {type(data).__name__}")
        if self.input_closed:
            raise LocalProtocolError("AudioChunk after InputClosed")
        data = self._carry + bytes(data)
        whole = len(data) - len(data) % 2
        data, self._carry = data[:whole], data[whole:]
        if not data:
            return
        if self.vad is None:
            if self._listening is None:
                self._begin_turn(self._input_ms + len(self._input) // _BYTES_PER_MS)
            self._input += data
            self._cut_long_turn()
            return
        self._input += data
        for edge in self.vad.feed(data):
            if edge.started:
                self._begin_turn(edge.ms)
            elif self._listening is not None:
                self._end_listening(edge.ms)
            self._cut_long_turn()
        self._cut_long_turn()
        if self._listening is None:
            keep = LOOKBACK_MS * _BYTES_PER_MS
            if len(self._input) > keep:
                drop = len(self._input) - keep
                drop -= drop % _BYTES_PER_MS  # whole milliseconds, so positions stay exact
                del self._input[:drop]
                self._input_ms += drop // _BYTES_PER_MS

    def _slice(self, from_ms: int, to_ms: int | None = None) -> bytes:
        start = max(0, (from_ms - self._input_ms) * _BYTES_PER_MS)
        end = None if to_ms is None else max(start, (to_ms - self._input_ms) * _BYTES_PER_MS)
        return bytes(self._input[start:end])

    def _begin_turn(self, start_ms: int) -> None:
        if self._listening is not None:  # a start edge twice: the VAD was reset under us
            return
        if self.config.barge_in:
            for turn in list(self._queue):
                self._finish(turn, "turn_interrupted")
        turn = Turn(self._new_id("turn"), "listening", self._new_splitter())
        turn.start_ms = max(start_ms, self._input_ms)
        self._listening = turn
        self._emit_lifecycle("turn_started", turn)

    def _end_listening(self, end_ms: int | None) -> None:
        turn = self._listening
        assert turn is not None
        self._listening = None
        pcm = self._slice(turn.start_ms, end_ms)
        if end_ms is not None:
            # Keep what follows the turn: the next start edge may reach back into it.
            del self._input[: max(0, (end_ms - self._input_ms) * _BYTES_PER_MS)]
            self._input_ms = max(self._input_ms, end_ms)
        waiting = sum(1 for queued in self._queue if not queued.workflow_started)
        if not self.config.barge_in and waiting >= self.config.max_pending_turns:
            limit = self.config.max_pending_turns
            message = f"{limit} turns already wait for an answer; this one is dropped"
            self._out.append(
                events.VoiceStreamEventError(error=message, turn_id=turn.id, stage="input")
            )
            self._emit_lifecycle("turn_ended", turn)
            return
        turn.phase = "transcribing"
        turn.speech_end_at = turn.transcribe_at = self._now
        self._queue.append(turn)
        self._out.append(effects.Transcribe(turn_id=turn.id, pcm=pcm))
        self._touch(turn)

    def _cut_long_turn(self) -> None:
        turn = self._listening
        if turn is None:
            return
        limit_ms = int(self.config.max_turn_s * 1000)
        heard_ms = self._input_ms + len(self._input) // _BYTES_PER_MS - turn.start_ms
        if heard_ms < limit_ms:
            return
        cut = turn.start_ms + limit_ms
        self._end_listening(cut)
        # The speech goes on: a new turn from the cut, without interrupting the first.
        follower = Turn(self._new_id("turn"), "listening", self._new_splitter())
        follower.start_ms = cut
        self._listening = follower
        self._emit_lifecycle("turn_started", follower)

    def _close_input(self) -> None:
        if self.input_closed:
            return
        self.input_closed = True
        if self._listening is not None:
            self._end_listening(None)
        if self.vad is not None:
            self.vad.reset()

    def _played(self, event: vi.AudioPlayed) -> None:
        turn = self._find(event.turn_id)
        if turn is None:
            return
        if turn.reported_ms is None or event.ms > turn.reported_ms:
            turn.reported_ms = event.ms
        if turn.phase == "finishing":
            self._check_done(turn)

    def _timer(self) -> None:
        for turn in list(self._queue):
            if turn.deadline is None or turn.deadline > self._now:
                continue
            if turn.phase == "finishing":
                # Played by the clock's estimate, or the reports stopped coming: not a hang.
                self._finish(turn, "turn_ended")
                continue
            stage: _Stage = "transcription"
            if turn.phase == "responding":
                in_flight = any(piece.started for piece in turn.pieces)
                stage = "synthesis" if in_flight or turn.workflow_done else "workflow"
            timeout = self.config.stage_timeout_s
            self._fail(turn, stage, f"no progress for {timeout:g} s (waiting for the {stage})")

    # -- answers --------------------------------------------------------------------------

    def _find(self, turn_id: str) -> Turn | None:
        return next((turn for turn in self._queue if turn.id == turn_id), None)

    def _transcribed(self, event: vi.Transcribed | vi.TranscriptionFailed) -> None:
        turn = self._find(event.turn_id)
        if turn is None or turn.phase != "transcribing":
            return
        if isinstance(event, vi.TranscriptionFailed):
            self._fail(turn, "transcription", event.error)
            return
        turn.transcript = event.text
        turn.transcribed_at = self._now
        turn.phase = "transcribed"
        turn.deadline = None
        self._out.append(events.VoiceStreamEventTranscript(turn_id=turn.id, text=event.text))
        if not event.text.strip():
            self._finish(turn, "turn_ended")  # nothing was said: nothing to answer
            return
        self._answer_next()

    def _answer_next(self) -> None:
        """Start the workflow of the oldest turn, once every turn before it has ended."""
        if not self._queue:
            return
        turn = self._queue[0]
        if turn.phase == "transcribed" and turn.transcript is not None:
            turn.phase = "responding"
            turn.workflow_started = True
            self._out.append(effects.RunWorkflow(turn_id=turn.id, transcript=turn.transcript))
            self._touch(turn)

    def _workflow(self, event: vi.WorkflowText | vi.WorkflowDone | vi.WorkflowFailed) -> None:
        turn = self._find(event.turn_id)
        if turn is None or turn.phase != "responding" or turn.workflow_done:
            return
        if isinstance(event, vi.WorkflowFailed):
            self._fail(turn, "workflow", event.error)
            return
        self._touch(turn)
        if isinstance(event, vi.WorkflowText):
            if not isinstance(event.text, str):
                raise LocalProtocolError("WorkflowText.text must be a str")
            if not event.text:
                return
            if turn.silent:
                turn.silent = False
                self._emit_lifecycle("turn_started", turn)
            if turn.first_text_at is None:
                turn.first_text_at = self._now
            turn.written.append(event.text)
            texts = turn.splitter.feed(event.text)
            waiting = len(turn.splitter.pending) + sum(
                len(p.text) for p in turn.pieces if not p.started
            )
            if waiting > self.config.max_pending_text_chars:
                limit = self.config.max_pending_text_chars
                self._fail(turn, "workflow", f"more than {limit} characters wait for synthesis")
                return
        else:
            turn.workflow_done = True
            texts = turn.splitter.flush()
        for text in texts:
            turn.pieces.append(Piece(self._new_id("piece"), turn, text))
        self._pump(turn)
        self._check_done(turn)

    def _pump(self, turn: Turn) -> None:
        """Start synthesis of the next pieces (up to the in-flight bound), give out audio."""
        in_flight = turn.in_flight()
        for piece in turn.pieces:
            if in_flight >= self.config.max_synthesis_in_flight:
                break
            if not piece.started:
                piece.started = True
                in_flight += 1
                self._pieces[piece.id] = piece
                self._out.append(
                    effects.Synthesize(piece_id=piece.id, turn_id=turn.id, text=piece.text)
                )
        if turn.pieces and not turn.pieces[0].announced:
            self._give_head(turn)

    def _synthesis(
        self, event: vi.SynthesizedAudio | vi.SynthesisDone | vi.SynthesisFailed
    ) -> None:
        piece = self._pieces.get(event.piece_id)
        if piece is None:
            return
        turn = piece.turn
        if isinstance(event, vi.SynthesisFailed):
            self._fail(turn, "synthesis", event.error)
            return
        self._touch(turn)
        if isinstance(event, vi.SynthesizedAudio):
            data = piece.carry + bytes(event.data)
            whole = len(data) - len(data) % 2
            piece.audio += data[:whole]
            piece.carry = data[whole:]
            limit = int(self.config.max_piece_audio_s * PCM16.bytes_per_second)
            if len(piece.audio) > limit:
                self._fail(turn, "synthesis", f"a piece's audio is longer than {limit} bytes")
                return
        else:
            piece.done = True
            del self._pieces[piece.id]
        if turn.pieces and turn.pieces[0] is piece:
            self._give_head(turn)
        self._check_done(turn)

    def _give_head(self, turn: Turn) -> None:
        """Give out the head piece's audio; a finished head makes way for the next."""
        while turn.pieces and turn.pieces[0].started:
            head = turn.pieces[0]
            if not head.announced:
                head.announced = True
                turn.spoken.append((head.text, turn.given_bytes, head))
                self._out.append(
                    events.VoiceStreamEventText(turn_id=turn.id, piece_id=head.id, text=head.text)
                )
            if head.audio:
                data = bytes(head.audio)
                head.audio.clear()
                head.given_bytes += len(data)
                turn.given_bytes += len(data)
                if turn.first_audio_at is None:
                    turn.first_audio_at = self._now
                self._out.append(
                    events.VoiceStreamEventAudio(data=data, turn_id=turn.id, piece_id=head.id)
                )
            if not head.done:
                return
            turn.pieces.popleft()
            self._pump(turn)  # the window moved: the next pieces may start

    def _check_done(self, turn: Turn) -> None:
        if turn.phase not in ("responding", "finishing"):
            return
        if not turn.workflow_done or turn.pieces:
            return
        played = turn.played_ms(self._now, instant=self.instant)
        if played >= turn.given_ms - 1e-6:
            self._finish(turn, "turn_ended")
            return
        turn.phase = "finishing"
        if turn.reported_ms is None and turn.first_audio_at is not None:
            turn.deadline = turn.first_audio_at + turn.given_ms / 1000
        else:
            turn.deadline = self._now + self.config.stage_timeout_s

    # -- ending turns ---------------------------------------------------------------------

    def _touch(self, turn: Turn) -> None:
        """The turn made progress: its stage timeout starts again."""
        turn.deadline = self._now + self.config.stage_timeout_s

    def _fail(self, turn: Turn, stage: _Stage, error: str) -> None:
        if turn.silent:  # a greeting that failed: the application hears of the turn
            turn.silent = False
            self._emit_lifecycle("turn_started", turn)
        self._out.append(events.VoiceStreamEventError(error=error, turn_id=turn.id, stage=stage))
        self._finish(turn, "turn_ended")

    def _finish(self, turn: Turn, how: Literal["turn_ended", "turn_interrupted"]) -> None:
        """End a turn: cancel what still runs, tell the workflow what was heard, say so."""
        if turn not in self._queue:
            return
        phase: Phase = turn.phase
        if phase == "transcribing":
            self._out.append(effects.CancelTranscription(turn_id=turn.id))
        if turn.workflow_started and not turn.workflow_done:
            self._out.append(effects.CancelWorkflow(turn_id=turn.id))
        for piece in turn.pieces:
            if piece.started and not piece.done:
                self._out.append(effects.CancelSynthesis(piece_id=piece.id))
            self._pieces.pop(piece.id, None)
        heard_ms = turn.played_ms(self._now, instant=self.instant)
        if turn.silent:  # a greeting that said nothing: no turn to speak of
            self._queue.remove(turn)
            turn.deadline = None
            self._answer_next()
            return
        if turn.workflow_started:
            spoken = "".join(turn.written).strip()
            complete = turn.workflow_done and not turn.pieces and heard_ms >= turn.given_ms - 1e-6
            if not complete:
                heard = heard_text(turn, heard_ms)
                self._out.append(effects.ReportHeard(turn_id=turn.id, heard=heard, spoken=spoken))
        self._out.append(self._metrics(turn, heard_ms))
        self._queue.remove(turn)
        turn.pieces.clear()
        turn.deadline = None
        self._emit_lifecycle(how, turn)
        self._answer_next()

    def _metrics(self, turn: Turn, heard_ms: float) -> events.VoiceStreamEventMetrics:
        def ms(start: float | None, end: float | None) -> float | None:
            return None if start is None or end is None else (end - start) * 1000

        return events.VoiceStreamEventMetrics(
            turn_id=turn.id,
            end_of_speech_to_first_audio_ms=ms(turn.speech_end_at, turn.first_audio_at),
            transcription_ms=ms(turn.transcribe_at, turn.transcribed_at),
            first_text_to_first_audio_ms=ms(turn.first_text_at, turn.first_audio_at),
            audio_ms=turn.given_ms,
            heard_ms=heard_ms,
        )

    def _emit_lifecycle(self, event: events.LifecycleEvent, turn: Turn | None) -> None:
        self._out.append(
            events.VoiceStreamEventLifecycle(event=event, turn_id=turn.id if turn else None)
        )

    def _maybe_end_session(self) -> None:
        if self.input_closed and not self._queue and self._listening is None and not self.ended:
            self.ended = True
            self._emit_lifecycle("session_ended", None)
