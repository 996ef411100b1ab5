"""``VoicePipeline``: the anyio driver of the voice pipeline core, on asyncio or trio alike.

    pipeline = VoicePipeline(workflow=SimpleWorkflow(reply), config=VoicePipelineConfig(...))
    async with pipeline.run(StreamedAudioInput()) as result:
        async for event in result:
            ...

The driver owns what the pure core (``protocol.voice.Pipeline``) must not: tasks, the clock,
the models and the workflow. Every input goes through one synchronous step (the core's
``handle`` and the dispatch of its outputs: events queued for the application in order,
effects started as tasks or cancelled), exactly as the Realtime ``runner`` does. The
workflow's calls run one at a time, in order, in one lane, so that a workflow with memory
hears of a cut reply (``on_interrupted``) before it is asked the next question.

Events wait for the application in a buffer of ``max_buffered_events``; when it is full the
steps wait, and with them the models' reads and ``StreamedAudioInput.add_audio``: a slow
reader slows the pipeline down rather than growing memory. Read the events in another task
than the one that adds audio.
"""

from __future__ import annotations

import contextlib
import inspect
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any, Literal

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from realtime_sansio.protocol.voice import (
    VAD,
    EnergyVad,
    Pipeline,
    VoiceOutput,
    VoicePipelineConfig,
    VoiceStreamEvent,
    VoiceStreamEventError,
    VoiceStreamEventLifecycle,
    effects,
    inputs,
)

from ..auth import redact
from .input import AudioInput, StreamedAudioInput
from .models import OpenAISTTModel, OpenAITTSModel, STTModel, TTSModel
from .workflows import VoiceWorkflow, iterate_text

__all__ = ["DEFAULT_MAX_BUFFERED_EVENTS", "VoicePipeline", "VoiceStreamResult"]

DEFAULT_MAX_BUFFERED_EVENTS = 256
"""Events that may wait for the application before the pipeline waits for it."""

VadChoice = Literal["energy", "silero"] | Callable[[], VAD]


def _make_vad(choice: VadChoice) -> VAD:
    if choice == "energy":
        return EnergyVad()
    if choice == "silero":
        from realtime_sansio.protocol.voice.silero import SileroVad

        return SileroVad()
    if callable(choice):
        return choice()
    raise ValueError(f"vad is 'energy', 'silero' or a factory of VADs, not {choice!r}")


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


class VoiceStreamResult:
    """The events of one pipeline run: ``async for event in result`` until ``session_ended``.

    ``audio_played(turn_id, ms)`` reports playback (a running total per turn), which makes a
    barge-in keep exactly what was heard; without reports the clock estimates it.
    """

    def __init__(self, driver: _Driver, events: MemoryObjectReceiveStream[VoiceStreamEvent]):
        self._driver = driver
        self._events = events
        self._ended = False

    def __aiter__(self) -> AsyncIterator[VoiceStreamEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[VoiceStreamEvent]:
        if self._ended:
            return
        async for event in self._events:
            yield event
            if isinstance(event, VoiceStreamEventLifecycle) and event.event == "session_ended":
                self._ended = True
                return

    async def audio_played(self, turn_id: str, ms: float) -> None:
        await self._driver.step(inputs.AudioPlayed(turn_id=turn_id, ms=ms))

    async def interrupt(self) -> None:
        """Stop the assistant now, as if the user had spoken over it (``inputs.Interrupt``):
        the reply is cut where it was played, and the workflow remembers only that."""
        await self._driver.step(inputs.Interrupt())


class _Driver:
    """One run: the core, its tasks, and the event buffer (see the module docstring)."""

    def __init__(
        self,
        core: Pipeline,
        pipeline: VoicePipeline,
        task_group: anyio.abc.TaskGroup,
        events: MemoryObjectSendStream[VoiceStreamEvent],
    ) -> None:
        self.core = core
        self.pipeline = pipeline
        self.tg = task_group
        self.events = events
        self.outgoing: deque[VoiceStreamEvent] = deque()
        self.send_lock = anyio.Lock()
        self.timer_changed = anyio.Event()
        self.scopes: dict[tuple[str, str], anyio.CancelScope] = {}
        self.cancelled: set[str] = set()  # turns whose workflow job was cancelled before it ran
        send, receive = anyio.create_memory_object_stream[tuple[str, Any]](256)
        self.workflow_jobs, self.workflow_queue = send, receive

    # -- the one synchronous step ---------------------------------------------------------

    async def step(self, event: inputs.AnyVoiceInput) -> None:
        self.dispatch(self.core.handle(event, now=anyio.current_time()))
        await self.flush()

    def dispatch(self, outputs: list[VoiceOutput]) -> None:
        for output in outputs:
            if isinstance(output, effects.Transcribe):
                self.start(("stt", output.turn_id), self.transcribe, output)
            elif isinstance(output, effects.Synthesize):
                self.start(("tts", output.piece_id), self.synthesize, output)
            elif isinstance(
                output, effects.RunWorkflow | effects.RunGreeting | effects.ReportHeard
            ):
                self.workflow_jobs.send_nowait((output.turn_id, output))
            elif isinstance(output, effects.CancelTranscription):
                self.cancel(("stt", output.turn_id))
            elif isinstance(output, effects.CancelSynthesis):
                self.cancel(("tts", output.piece_id))
            elif isinstance(output, effects.CancelWorkflow):
                self.cancel(("workflow", output.turn_id))
            else:
                self.outgoing.append(output)
        self.timer_changed.set()

    async def flush(self) -> None:
        """Hand the queued events to the application, in order (one sender at a time).

        An event taken from the queue is always handed over: its send is shielded, since the
        task flushing may be one the core has just cancelled (a synthesis cut by a barge-in)
        while the events it sends are others' (the interruption itself). Once the run has
        ended nobody reads them: they are dropped (``run`` closes the reading end first, which
        ends a send that waits)."""
        async with self.send_lock:
            while self.outgoing:
                event = self.outgoing.popleft()
                with anyio.CancelScope(shield=True):
                    try:
                        await self.events.send(event)
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                        self.outgoing.clear()
                        return

    async def answer(self, event: inputs.AnyVoiceInput) -> None:
        if not self.core.ended:
            await self.step(event)

    def start(self, key: tuple[str, str], work: Callable[[Any], Any], effect: Any) -> None:
        scope = anyio.CancelScope()
        self.scopes[key] = scope

        async def task() -> None:
            with scope:
                await work(effect)
            self.scopes.pop(key, None)

        self.tg.start_soon(task)

    def cancel(self, key: tuple[str, str]) -> None:
        scope = self.scopes.pop(key, None)
        if scope is not None:
            scope.cancel()
        elif key[0] == "workflow":
            self.cancelled.add(key[1])

    # -- tasks ------------------------------------------------------------------------------

    async def feed(self, audio_input: AudioInput | StreamedAudioInput) -> None:
        if isinstance(audio_input, AudioInput):
            await self.step(inputs.AudioChunk(data=audio_input.pcm))
        else:
            async with await audio_input.chunks() as chunks:
                async for chunk in chunks:
                    if self.core.ended:
                        return
                    await self.step(inputs.AudioChunk(data=chunk))
            tail = audio_input.tail()
            if tail and not self.core.ended:
                await self.step(inputs.AudioChunk(data=tail))
        await self.answer(inputs.InputClosed())

    async def tick(self) -> None:
        """Wake the core at its deadlines (stage timeouts, the end of playback)."""
        while not self.core.ended:
            self.timer_changed = anyio.Event()
            deadline = self.core.get_timer()
            if deadline is None:
                await self.timer_changed.wait()
                continue
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                await self.timer_changed.wait()
            if anyio.current_time() >= deadline:
                await self.answer(inputs.TimerFired(now=anyio.current_time()))

    async def transcribe(self, effect: effects.Transcribe) -> None:
        pipeline = self.pipeline
        try:
            text = await pipeline.stt_model.transcribe(effect.pcm, pipeline.config.stt_settings)
        except Exception as exc:  # a failed turn, not a failed pipeline
            answer: inputs.AnyVoiceInput = inputs.TranscriptionFailed(
                turn_id=effect.turn_id, error=_describe(exc)
            )
        else:
            answer = inputs.Transcribed(turn_id=effect.turn_id, text=str(text))
        self.scopes.pop(("stt", effect.turn_id), None)
        await self.answer(answer)

    async def synthesize(self, effect: effects.Synthesize) -> None:
        pipeline = self.pipeline
        try:
            stream = pipeline.tts_model.synthesize(effect.text, pipeline.config.tts_settings)
            async with _closing(stream):
                async for chunk in stream:
                    if chunk:
                        await self.answer(
                            inputs.SynthesizedAudio(piece_id=effect.piece_id, data=bytes(chunk))
                        )
        except Exception as exc:
            answer: inputs.AnyVoiceInput = inputs.SynthesisFailed(
                piece_id=effect.piece_id, error=_describe(exc)
            )
        else:
            answer = inputs.SynthesisDone(piece_id=effect.piece_id)
        self.scopes.pop(("tts", effect.piece_id), None)
        await self.answer(answer)

    async def workflow_lane(self) -> None:
        """The workflow's calls, one at a time, in the order the core asked for them."""
        async with self.workflow_queue:
            async for turn_id, job in self.workflow_queue:
                if isinstance(job, effects.ReportHeard):
                    await self.report_heard(job)
                    continue
                if turn_id in self.cancelled:
                    self.cancelled.discard(turn_id)
                    continue
                scope = anyio.CancelScope()
                self.scopes[("workflow", turn_id)] = scope
                with scope:
                    await self.run_workflow(job)
                self.scopes.pop(("workflow", turn_id), None)

    async def run_workflow(self, job: effects.RunWorkflow | effects.RunGreeting) -> None:
        workflow = self.pipeline.workflow
        try:
            if isinstance(job, effects.RunGreeting):
                output = workflow.on_start()  # type: ignore[attr-defined]
            else:
                output = workflow.run(job.transcript)
            stream = iterate_text(output)
            async with _closing(stream):
                async for text in stream:
                    await self.answer(inputs.WorkflowText(turn_id=job.turn_id, text=text))
        except Exception as exc:
            answer: inputs.AnyVoiceInput = inputs.WorkflowFailed(
                turn_id=job.turn_id, error=_describe(exc)
            )
        else:
            answer = inputs.WorkflowDone(turn_id=job.turn_id)
        await self.answer(answer)

    async def report_heard(self, job: effects.ReportHeard) -> None:
        hook = getattr(self.pipeline.workflow, "on_interrupted", None)
        if hook is None:
            return
        try:
            result = hook(job.heard, job.spoken)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # the next turn goes on; the application hears of it
            message = f"on_interrupted failed: {_describe(exc)}"
            self.outgoing.append(
                VoiceStreamEventError(error=message, turn_id=job.turn_id, stage="workflow")
            )
            await self.flush()


@contextlib.asynccontextmanager
async def _closing(iterator: AsyncIterator[Any]) -> AsyncIterator[None]:
    """Close an async generator (a model's, a workflow's) when its reading stops early."""
    try:
        yield
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


class VoicePipeline:
    """STT -> workflow -> TTS, multi-turn with a local VAD and barge-in (docs/voice.md).

    ``stt_model`` and ``tts_model`` default to OpenAI's (``OpenAISTTModel``,
    ``OpenAITTSModel``: the key and trust roots from the environment). ``vad`` detects the
    turns of a ``StreamedAudioInput``: ``"energy"`` (default), ``"silero"`` (the ``vad``
    extra) or a function making a ``VAD``.
    """

    def __init__(
        self,
        *,
        workflow: VoiceWorkflow,
        config: VoicePipelineConfig | None = None,
        stt_model: STTModel | None = None,
        tts_model: TTSModel | None = None,
        vad: VadChoice = "energy",
        max_buffered_events: int = DEFAULT_MAX_BUFFERED_EVENTS,
    ) -> None:
        if not callable(getattr(workflow, "run", None)):
            raise TypeError(f"a workflow needs a run(transcript) method: {workflow!r}")
        self.workflow = workflow
        self.config = config or VoicePipelineConfig()
        self.stt_model: STTModel = stt_model if stt_model is not None else OpenAISTTModel()
        self.tts_model: TTSModel = tts_model if tts_model is not None else OpenAITTSModel()
        self.vad = vad
        self.max_buffered_events = max_buffered_events

    @contextlib.asynccontextmanager
    async def run(
        self, audio_input: AudioInput | StreamedAudioInput
    ) -> AsyncIterator[VoiceStreamResult]:
        """Run the pipeline on ``audio_input``; the events while the ``async with`` lasts.

        An ``AudioInput`` is one turn (no VAD, playback counted as instant); a
        ``StreamedAudioInput`` is cut into turns by the VAD until it is closed.
        """
        streamed = isinstance(audio_input, StreamedAudioInput)
        core = Pipeline(
            self.config,
            vad=_make_vad(self.vad) if streamed else None,
            greeting=callable(getattr(self.workflow, "on_start", None)),
            instant_playback=None if streamed else True,
        )
        send, receive = anyio.create_memory_object_stream[VoiceStreamEvent](
            self.max_buffered_events
        )
        async with AsyncExitStack() as stack:
            if hasattr(self.workflow, "__aenter__"):
                await stack.enter_async_context(self.workflow)  # type: ignore[arg-type]
            async with send, receive, anyio.create_task_group() as task_group:
                driver = _Driver(core, self, task_group, send)
                task_group.start_soon(driver.workflow_lane)
                task_group.start_soon(driver.tick)
                await driver.step(inputs.Start())
                task_group.start_soon(driver.feed, audio_input)
                try:
                    yield VoiceStreamResult(driver, receive)
                finally:
                    await receive.aclose()  # nobody reads any more (see _Driver.flush)
                    task_group.cancel_scope.cancel()
