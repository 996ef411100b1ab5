"""Helpers for the web page's tests: a page client in Python, and a Realtime kind whose every
client event and page command lands, in order, in one log."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import attrs
from realtime_sansio.protocol import PCM16, Agent
from realtime_sansio.protocol.fake import FakeServerConfig, ScriptStep
from realtime_sansio.protocol.voice import VAD, SpeechEdge
from realtime_sansio.transports.base import Transport
from realtime_sansio.transports.demo import DEMO_CONFIG, GREETER
from realtime_sansio.transports.voice import VoicePipeline
from realtime_sansio.transports.voice.pipeline import _make_vad
from realtime_sansio.transports.web import PageSession, PipelineKind, RealtimeKind
from realtime_sansio.transports.web.app import WebOptions, build_kind
from realtime_sansio.transports.web.bridge import Deliver
from realtime_sansio.transports.web.commands import AudioPlayed, Command, Interrupt, PushToTalk
from runner_helpers import Recording

QUESTION = "What's the weather in Paris?"
ANSWER = "Here is what I found: Sunny, 21 °C in Paris."
INTERJECTION = "Wait, stop."


def pcm_ms(pcm_bytes: int) -> float:
    return pcm_bytes * 1000 / PCM16.bytes_per_second


class Page:
    """The page's side of the bridge protocol, over any text transport."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.seen: list[dict[str, Any]] = []

    async def send(self, **message: Any) -> None:
        await self.transport.send(json.dumps(message))

    async def send_audio(self, pcm: bytes, chunk_ms: int = 20) -> None:
        size = PCM16.bytes_per_second * chunk_ms // 1000
        for start in range(0, len(pcm), size):
            await self.send(type="audio", pcm=base64.b64encode(pcm[start : start + size]).decode())

    async def receive(self) -> dict[str, Any]:
        """The next message, whatever it is (kept in ``seen`` too)."""
        message: dict[str, Any] = json.loads(await self.transport.receive())
        self.seen.append(message)
        return message

    async def next(self, kind: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The next message of type ``kind`` (with ``fields``); those before it are kept."""
        with anyio.fail_after(timeout):
            while True:
                message = await self.receive()
                if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                    return message

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.seen if message["type"] == kind]

    def audio_bytes(self, item_id: str) -> int:
        return sum(len(pcm_of(m)) for m in self.of("audio") if m["item_id"] == item_id)


def pcm_of(message: dict[str, Any]) -> bytes:
    """The PCM16 an ``audio`` message carries."""
    return base64.b64decode(message["pcm"])


class LoggedPageSession:
    """A page session whose commands go into the shared log before they are carried out."""

    def __init__(self, inner: PageSession, log: list[Any]) -> None:
        self.inner = inner
        self.log = log

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()

    async def run(self, deliver: Deliver) -> None:
        await self.inner.run(deliver)

    async def handle(self, command: Command) -> None:
        self.log.append(command)
        await self.inner.handle(command)


@attrs.frozen
class Received:
    """A server event in the shared log, logged as the session takes it in."""

    event: dict[str, Any]


class LoggedRecording(Recording):
    """The fake in memory; each client event (a dict) and each server event (``Received``)
    also goes, parsed, into the shared log."""

    def __init__(
        self, log: list[Any], config: FakeServerConfig | None, script: list[ScriptStep] | None
    ) -> None:
        super().__init__(config, script)
        self.log = log

    async def send(self, text: str) -> None:
        self.log.append(json.loads(text))
        await super().send(text)

    async def receive(self) -> str:
        text = await super().receive()
        # The driver steps the session on it right after this returns, with no await between.
        self.log.append(Received(json.loads(text)))
        return text


class LoggedKind:
    """The demo agent against a fresh in-memory fake per conversation; ``log`` holds, in
    order, every page command and every client event; ``recordings`` every connection."""

    def __init__(
        self,
        config: FakeServerConfig | None = None,
        script: list[ScriptStep] | None = None,
        *,
        agent: Agent = GREETER,
    ) -> None:
        self.log: list[Any] = []
        self.recordings: list[LoggedRecording] = []
        self.opened = 0

        def transport() -> Transport:
            recording = LoggedRecording(self.log, config, script)
            self.recordings.append(recording)
            return recording

        self.inner = RealtimeKind(
            agent,
            config=DEMO_CONFIG,
            transport=transport,
            target="the fake Realtime server, in memory",
        )

    def __call__(self) -> AbstractAsyncContextManager[PageSession]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[PageSession]:
        self.opened += 1
        async with self.inner() as session:
            yield LoggedPageSession(session, self.log)

    def client_events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.log if isinstance(e, dict) and e.get("type") == kind]

    def reports_when_cut(self, truncate: dict[str, Any]) -> list[AudioPlayed]:
        """The page's reports on the truncated item that the session had taken in when it
        decided the cut: at the server's ``speech_started`` (server VAD) or the page's
        interrupt, whichever came last before the truncate. (The truncate itself may be sent
        a little later, after reports that came too late for the decision.)"""
        before = self.log[: self.log.index(truncate)]
        causes = [
            index
            for index, entry in enumerate(before)
            if isinstance(entry, Interrupt | PushToTalk)
            or (
                isinstance(entry, Received)
                and entry.event["type"] == "input_audio_buffer.speech_started"
            )
        ]
        return [
            entry
            for entry in before[: causes[-1]]
            if isinstance(entry, AudioPlayed) and entry.item_id == truncate["item_id"]
        ]


class LoggedVad:
    """A pipeline's VAD whose edges also go into a log, as it finds them."""

    def __init__(self, inner: VAD, log: list[Any]) -> None:
        self.inner = inner
        self.log = log

    @property
    def speaking(self) -> bool:
        return self.inner.speaking

    def feed(self, pcm: bytes) -> list[SpeechEdge]:
        edges = self.inner.feed(pcm)
        self.log.extend(edges)
        return edges

    def reset(self) -> None:
        self.inner.reset()


class LoggedPipelineKind:
    """What ``web --pipeline`` runs (the demo agent through the voice pipeline, a fresh fake
    per conversation); ``log`` holds, in order, every page command and every speech edge the
    pipeline's VAD finds, as it finds it (a barge-in is decided at a start edge)."""

    def __init__(self) -> None:
        self.log: list[Any] = []
        self.sessions: list[PageSession] = []  # the pipeline's page sessions, to look inside
        command = build_kind(WebOptions(pipeline=True))
        assert isinstance(command, PipelineKind)
        make = command.make_pipeline

        @asynccontextmanager
        async def logged() -> AsyncIterator[VoicePipeline]:
            made = make()
            assert not isinstance(made, VoicePipeline)
            async with made as pipeline:
                chosen = pipeline.vad
                pipeline.vad = lambda: LoggedVad(_make_vad(chosen), self.log)
                yield pipeline

        self.inner = PipelineKind(
            logged, name=command.name, target=command.target, hint=command.hint
        )

    def __call__(self) -> AbstractAsyncContextManager[PageSession]:
        return self._open()

    @asynccontextmanager
    async def _open(self) -> AsyncIterator[PageSession]:
        async with self.inner() as session:
            self.sessions.append(session)
            yield LoggedPageSession(session, self.log)

    def reports_when_cut(self, item_id: str) -> list[AudioPlayed]:
        """The page's reports on ``item_id`` that the pipeline had taken in when speech
        started over it (the start edge that interrupted it)."""
        first = next(
            i for i, e in enumerate(self.log) if isinstance(e, AudioPlayed) and e.item_id == item_id
        )
        cause = next(
            i
            for i, e in enumerate(self.log)
            if i > first and isinstance(e, SpeechEdge) and e.started
        )
        return [e for e in self.log[:cause] if isinstance(e, AudioPlayed) and e.item_id == item_id]
