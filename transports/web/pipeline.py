"""The voice pipeline kind: each conversation is a ``VoicePipeline`` (STT -> workflow -> TTS).

``PipelineKind(make_pipeline, name=..., target=..., hint=...)`` opens, per page, the pipeline
that ``make_pipeline()`` gives (a fresh one each time: a workflow with memory, such as
``AgentWorkflow``, must not be shared between conversations; it may also be an async context
manager giving one, to start what the pipeline needs, such as a fake server, and stop it
after). The pipeline runs on a ``StreamedAudioInput`` fed by the page's microphone, and its
``PipelinePageSession`` maps:

- the page's ``audio`` -> ``add_audio``; ``audio_played`` -> ``VoiceStreamResult.audio_played``
  (the page's item is the pipeline's turn), so a barge-in keeps exactly what was heard; the
  interrupt button -> ``VoiceStreamResult.interrupt`` (cut where the page says it played);
  ``approve_tool`` / ``reject_tool`` -> the ``AgentWorkflow``'s session;
- the pipeline's events -> page messages (``PipelineTimeline``, pure): captions for both
  sides, a turn per reply, its latencies, audio, cuts and errors; the speech edges of the
  pipeline's own VAD (observed, not duplicated) -> ``speech``; an ``AgentWorkflow``'s tool
  calls, handoffs and guardrails -> the same rows a Realtime session gives.

The pipeline has no push-to-talk or typed input: it finds the user's turns in their speech.
``ready`` says so (``controls``), and the page turns those controls off.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from typing import Any

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from realtime_sansio.protocol import PCM16, events
from realtime_sansio.protocol.voice import (
    VAD,
    SpeechEdge,
    VoiceStreamEvent,
    VoiceStreamEventAudio,
    VoiceStreamEventError,
    VoiceStreamEventLifecycle,
    VoiceStreamEventMetrics,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)

from ..auth import redact
from ..runner import RealtimeSession
from ..subscriptions import SlowSubscriberError
from ..voice import AgentWorkflow, StreamedAudioInput, VoicePipeline, VoiceStreamResult
from ..voice.pipeline import _make_vad
from .bridge import Deliver, PageSession
from .commands import (
    ApproveTool,
    AudioIn,
    AudioPlayed,
    Command,
    CommandError,
    Interrupt,
    RejectTool,
)
from .timeline import MAX_OPEN, PageMessage, PageTimeline

__all__ = ["MAX_SPEECH_EDGES", "PipelineKind", "PipelinePageSession", "PipelineTimeline"]

MAX_SPEECH_EDGES = 64
"""Speech edges of the VAD waiting to be shown on the page (more are not shown)."""

_AGENT_ROWS = frozenset({"tool_start", "tool_end", "approval", "handoff", "guardrail"})
"""What an ``AgentWorkflow``'s session adds to the page: the rest (its text, its turns) is
the pipeline's to show."""

_CONTROLS = {"interrupt": True, "push_to_talk": False, "text": False}


@attrs.define
class _Turn:
    """What the messages of a turn need and its events do not carry."""

    agent: str | None = None  # the agent that began the reply (None: no reply begun)
    captioned: bool = False
    audio_bytes: int = 0  # given out so far
    failed: bool = False
    heard_ms: float | None = None  # from the turn's metrics, which come just before its end


def _user_item(turn_id: str) -> str:
    return f"{turn_id}:user"


class PipelineTimeline:
    """Maps one voice pipeline's events to page messages, as ``PageTimeline`` maps a Realtime
    session's: pure, each message stamped with ``t``; the page's item and response for a
    reply are its turn id. ``agent`` names who answers (kept current by the caller, as a
    handoff changes it). What it remembers is bounded by ``timeline.MAX_OPEN`` turns."""

    def __init__(self, *, agent: str, audio: bool = True) -> None:
        self.agent = agent
        self.audio = audio
        self._turns: dict[str, _Turn] = {}

    def messages(self, event: VoiceStreamEvent, *, at: float) -> list[PageMessage]:
        out = self._map(event)
        for message in out:
            message["t"] = round(at, 3)
        return out

    def speech(self, edge: SpeechEdge, *, at: float) -> PageMessage:
        """The pipeline's VAD found the start or the end of the user's speech."""
        state = "started" if edge.started else "stopped"
        return {"type": "speech", "state": state, "ms": edge.ms, "t": round(at, 3)}

    def _turn(self, turn_id: str) -> _Turn:
        turn = self._turns.get(turn_id)
        if turn is None:
            turn = self._turns[turn_id] = _Turn()
            if len(self._turns) > MAX_OPEN:
                del self._turns[next(iter(self._turns))]
        return turn

    def _begin(self, turn_id: str, turn: _Turn) -> list[PageMessage]:
        if turn.agent is not None:
            return []
        turn.agent = self.agent
        return [{"type": "agent_start", "response_id": turn_id, "agent": self.agent}]

    def _map(self, event: VoiceStreamEvent) -> list[PageMessage]:
        if isinstance(event, VoiceStreamEventAudio):
            self._turn(event.turn_id).audio_bytes += len(event.data)
            if not self.audio:
                return []
            return [
                {
                    "type": "audio",
                    "item_id": event.turn_id,
                    "content_index": 0,
                    "response_id": event.turn_id,
                    "pcm": base64.b64encode(event.data).decode("ascii"),
                }
            ]
        if isinstance(event, VoiceStreamEventTranscript):
            turn = self._turn(event.turn_id)
            said: list[PageMessage] = []
            if event.text.strip():
                said.append(
                    {
                        "type": "caption_done",
                        "item_id": _user_item(event.turn_id),
                        "role": "user",
                        "text": event.text,
                    }
                )
                said += self._begin(event.turn_id, turn)  # the workflow is asked now
            return said
        if isinstance(event, VoiceStreamEventText):
            turn = self._turn(event.turn_id)
            out = self._begin(event.turn_id, turn)  # a greeting has no transcript before it
            out.append(
                {
                    "type": "caption",
                    "item_id": event.turn_id,
                    "role": "assistant",
                    "delta": (" " if turn.captioned else "") + event.text,
                    "response_id": event.turn_id,
                    "audio_ms": round(turn.audio_bytes * 1000 / PCM16.bytes_per_second, 3),
                }
            )
            turn.captioned = True
            return out
        if isinstance(event, VoiceStreamEventMetrics):
            self._turn(event.turn_id).heard_ms = event.heard_ms
            return [
                {
                    "type": "metrics",
                    "response_id": event.turn_id,
                    "speech_stopped_to_first_audio_ms": event.end_of_speech_to_first_audio_ms,
                    "create_to_first_audio_ms": None,
                    "interrupt_to_truncate_ms": None,
                    "transcription_ms": event.transcription_ms,
                    "first_text_to_first_audio_ms": event.first_text_to_first_audio_ms,
                }
            ]
        if isinstance(event, VoiceStreamEventError):
            if event.turn_id is not None:
                self._turn(event.turn_id).failed = True
            message = redact(event.error)
            return [{"type": "error", "source": "session", "code": event.stage, "message": message}]
        return self._lifecycle(event)

    def _lifecycle(self, event: VoiceStreamEventLifecycle) -> list[PageMessage]:
        if event.event == "session_ended":
            text = "the voice pipeline ended"
            return [{"type": "closed", "code": 1000, "reason": "", "text": text}]
        if event.turn_id is None or event.event == "turn_started":
            return []
        turn_id = event.turn_id
        turn = self._turns.pop(turn_id, None) or _Turn()
        interrupted = event.event == "turn_interrupted"
        out: list[PageMessage] = []
        if turn.audio_bytes:
            where = {"item_id": turn_id, "content_index": 0, "response_id": turn_id}
            if interrupted:
                heard = turn.heard_ms or 0.0
                out.append({"type": "interrupted", **where, "audio_end_ms": heard})
            else:
                out.append({"type": "audio_done", **where})
        if turn.captioned:  # the caption as streamed is final (text None: keep it)
            out.append(
                {"type": "caption_done", "item_id": turn_id, "role": "assistant", "text": None}
            )
        if turn.agent is not None:
            status = "cancelled" if interrupted else "failed" if turn.failed else "completed"
            out.append(
                {"type": "agent_end", "response_id": turn_id, "agent": turn.agent, "status": status}
            )
        return out


class _ObservedVad:
    """The pipeline's own VAD, whose edges the page also sees (``speech`` messages)."""

    def __init__(self, inner: VAD, edges: MemoryObjectSendStream[SpeechEdge]) -> None:
        self.inner = inner
        self.edges = edges

    @property
    def speaking(self) -> bool:
        return self.inner.speaking

    def feed(self, pcm: bytes) -> list[SpeechEdge]:
        found = self.inner.feed(pcm)
        for edge in found:
            # The page far behind, or gone: a row it does not see; the pipeline goes on.
            with suppress(anyio.WouldBlock, anyio.BrokenResourceError, anyio.ClosedResourceError):
                self.edges.send_nowait(edge)
        return found

    def reset(self) -> None:
        self.inner.reset()


class PipelinePageSession:
    """One page's conversation over a running voice pipeline (a ``PageSession``)."""

    def __init__(
        self,
        pipeline: VoicePipeline,
        result: VoiceStreamResult,
        audio_input: StreamedAudioInput,
        edges: MemoryObjectReceiveStream[SpeechEdge],
        *,
        description: dict[str, Any],
    ) -> None:
        self.pipeline = pipeline
        self.result = result
        self.audio_input = audio_input
        self._edges = edges
        self._description = description

    @property
    def agent_session(self) -> RealtimeSession | None:
        """The Realtime session of an ``AgentWorkflow`` (None for another workflow)."""
        workflow = self.pipeline.workflow
        return workflow.session if isinstance(workflow, AgentWorkflow) else None

    def _agent(self) -> str:
        session = self.agent_session
        if session is not None:
            return session.current_agent.name
        return self.pipeline.config.workflow_name

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "pipeline",
            "agent": self._agent(),
            "audio": {"format": "pcm16", "rate": PCM16.rate},
            "push_to_talk_only": False,
            "controls": dict(_CONTROLS),
            **self._description,
        }

    async def run(self, deliver: Deliver) -> None:
        timeline = PipelineTimeline(agent=self._agent())
        start = anyio.current_time()

        def at() -> float:
            return anyio.current_time() - start

        async def speech() -> None:
            async for edge in self._edges:
                await deliver(timeline.speech(edge, at=at()))

        async def agent_rows(session: RealtimeSession) -> None:
            rows = PageTimeline(audio=False)
            subscription = session.subscribe(raw=False)
            try:
                async for event in subscription:
                    if isinstance(event, events.HandoffEvent):
                        timeline.agent = event.to_agent.name
                    for message in rows.messages(event, at=at()):
                        if message["type"] in _AGENT_ROWS:
                            await deliver(message)
            except SlowSubscriberError as exc:  # the rows stop; the conversation goes on
                problem = f"the agent's tool and handoff rows stop here: {exc}"
                await deliver(
                    {"type": "error", "source": "bridge", "code": None, "message": problem}
                )
            finally:
                session.unsubscribe(subscription)

        async with anyio.create_task_group() as group:
            group.start_soon(speech)
            if (session := self.agent_session) is not None:
                group.start_soon(agent_rows, session)
            async for event in self.result:
                for message in timeline.messages(event, at=at()):
                    await deliver(message)
            group.cancel_scope.cancel()

    async def handle(self, command: Command) -> None:
        if isinstance(command, AudioIn):
            await self.audio_input.add_audio(command.pcm)
        elif isinstance(command, AudioPlayed):
            await self.result.audio_played(command.item_id, command.ms)
        elif isinstance(command, Interrupt):
            await self.result.interrupt()
        elif isinstance(command, ApproveTool | RejectTool) and self.agent_session is not None:
            if isinstance(command, ApproveTool):
                await self.agent_session.approve_tool(command.call_id)
            else:
                await self.agent_session.reject_tool(command.call_id)
        else:
            what = type(command).__name__
            raise CommandError(
                f"the voice pipeline takes no {what} command: it finds your turns in your speech"
            )


PipelineMaker = Callable[[], VoicePipeline | AbstractAsyncContextManager[VoicePipeline]]
"""Makes a conversation's pipeline: a ``VoicePipeline``, or an async context manager giving
one (to start what it needs, and stop it after)."""


class PipelineKind:
    """Opens a ``PipelinePageSession`` per conversation (a ``SessionKind``).

    ``name`` is who answers, for the command's first line; ``target`` and ``hint`` are shown on
    the page (where the models are; how to talk to them). Each pipeline's ``vad`` is wrapped
    so that the page sees its speech edges.
    """

    def __init__(
        self,
        make_pipeline: PipelineMaker,
        *,
        name: str = "voice pipeline",
        target: str = "the voice pipeline",
        hint: str | None = None,
    ) -> None:
        self.make_pipeline = make_pipeline
        self.name = name
        self.target = target
        self.hint = hint

    def __call__(self) -> AbstractAsyncContextManager[PageSession]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[PageSession]:
        async with AsyncExitStack() as stack:
            made = self.make_pipeline()
            if isinstance(made, VoicePipeline):
                pipeline = made
            else:
                pipeline = await stack.enter_async_context(made)
            send, receive = anyio.create_memory_object_stream[SpeechEdge](MAX_SPEECH_EDGES)
            stack.enter_context(send)
            stack.enter_context(receive)
            chosen = pipeline.vad
            pipeline.vad = lambda: _ObservedVad(_make_vad(chosen), send)
            audio_input = StreamedAudioInput()
            result = await stack.enter_async_context(pipeline.run(audio_input))
            yield PipelinePageSession(
                pipeline,
                result,
                audio_input,
                receive,
                description={"target": self.target, "hint": self.hint},
            )
