"""Helpers for the voice pipeline's tests: a pure-core harness, speech, and the fake server."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager

import anyio
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.protocol.fake.audio_api import FakeAudioApi
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.protocol.voice import Pipeline, effects, events
from realtime_sansio.protocol.voice import inputs as vi
from realtime_sansio.transports.serve import serve_fake

RATE = 24000


def silence(ms: int) -> bytes:
    return bytes(2 * RATE * ms // 1000)


def utterances(*texts: str, gap_ms: int = 1000) -> bytes:
    """The fake's speech-like audio for each text, with silence before and between."""
    parts = [silence(500)]
    for text in texts:
        parts += [synthesize_speech(text), silence(gap_ms)]
    return b"".join(parts)


def speech_audio(text: str) -> bytes:
    """Speech-like PCM of ``text`` (24 kHz, the fake's synthesiser: deterministic)."""
    return synthesize_speech(text)


class CoreHarness:
    """Drives a pure ``Pipeline`` with a virtual clock; answers effects on request."""

    def __init__(self, core: Pipeline) -> None:
        self.core = core
        self.now = 0.0
        self.outputs: list[object] = []
        self.pending: list[object] = []  # effects not yet answered, in order
        self.core_started = False

    def handle(self, event: object) -> list[object]:
        out = self.core.handle(event, now=self.now)  # type: ignore[arg-type]
        self.outputs.extend(out)
        self.pending.extend(o for o in out if isinstance(o, effects.VoiceEffect))
        return list(out)

    def start(self) -> list[object]:
        return self.handle(vi.Start())

    def audio(self, pcm: bytes, chunk_bytes: int = 4800) -> None:
        """Feed ``pcm`` in chunks, the clock advancing in real time."""
        for i in range(0, len(pcm), chunk_bytes):
            piece = pcm[i : i + chunk_bytes]
            self.handle(vi.AudioChunk(data=piece))
            self.now += len(piece) / (2 * RATE)

    def take(self, kind: type) -> list:  # type: ignore[type-arg]
        found = [e for e in self.pending if isinstance(e, kind)]
        self.pending = [e for e in self.pending if not isinstance(e, kind)]
        return found

    def events(self, kind: type | None = None) -> list:  # type: ignore[type-arg]
        return [
            o
            for o in self.outputs
            if not isinstance(o, effects.VoiceEffect) and (kind is None or isinstance(o, kind))
        ]

    def lifecycle(self) -> list[tuple[str, str | None]]:
        return [(e.event, e.turn_id) for e in self.events(events.VoiceStreamEventLifecycle)]

    def audio_out(self, turn_id: str | None = None) -> bytes:
        return b"".join(
            e.data
            for e in self.events(events.VoiceStreamEventAudio)
            if turn_id is None or e.turn_id == turn_id
        )

    def answer_all(
        self,
        transcript: Callable[[effects.Transcribe], str] = lambda e: f"words of {e.turn_id}",
        reply: Callable[[str], Iterable[str]] = lambda t: [f"You said {t}. ", "Anything else?"],
        synthesize: Callable[[str], bytes] = speech_audio,
        greeting: Iterable[str] = (),
    ) -> None:
        """Answer every pending effect (and those its answers cause) at once, in order."""
        while self.pending:
            effect = self.pending.pop(0)
            if isinstance(effect, effects.Transcribe):
                self.handle(vi.Transcribed(turn_id=effect.turn_id, text=transcript(effect)))
            elif isinstance(effect, effects.RunWorkflow | effects.RunGreeting):
                texts = (
                    greeting
                    if isinstance(effect, effects.RunGreeting)
                    else reply(effect.transcript)
                )
                for text in texts:
                    self.handle(vi.WorkflowText(turn_id=effect.turn_id, text=text))
                self.handle(vi.WorkflowDone(turn_id=effect.turn_id))
            elif isinstance(effect, effects.Synthesize):
                self.handle(
                    vi.SynthesizedAudio(piece_id=effect.piece_id, data=synthesize(effect.text))
                )
                self.handle(vi.SynthesisDone(piece_id=effect.piece_id))


# -- the fake server over real HTTP --------------------------------------------------------


@asynccontextmanager
async def fake_server(
    transcripts: dict[int, str] | None = None, *, api: FakeAudioApi | None = None
) -> AsyncIterator[str]:
    """``serve_fake`` on a free loopback port; yields its ``http://`` base URL."""
    port: list[int] = []
    ready = anyio.Event()

    def on_ready(bound: int) -> None:
        port.append(bound)
        ready.set()

    config = FakeServerConfig(transcripts=transcripts)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(
            functools.partial(
                serve_fake, "127.0.0.1", 0, config=config, ready=on_ready, audio_api=api
            )
        )
        await ready.wait()
        try:
            yield f"http://127.0.0.1:{port[0]}"
        finally:
            task_group.cancel_scope.cancel()
