"""The conversation behind ``realtime-sansio voice``: the voice pipeline, turn by turn.

Without a key (or with ``--fake``) everything runs against the fake server on a free loopback
port, over real HTTP: generated speech-like utterances (or ``--input`` WAV) go in, the fake
transcribes them (it knows the generated utterances' words; a WAV gets its placeholder), a
workflow answers (``SimpleWorkflow``, or with ``--agent`` the demo's greeter ``Agent`` with
its weather tool and its handoff to support, through a text-only Realtime session on the same
fake server), and the fake speaks the answer. A timeline shows each turn with its latency,
from the end of the user's speech (as the VAD found it) to the reply's first audio; the
replies are written to ``--output`` as a WAV file.

Generated utterances are sent one at a time, each once the previous turn has ended; a WAV is
streamed as it is, and its turns (found by the VAD) wait for each other (barge-in off).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AsyncExitStack
from typing import Literal, TextIO

import anyio
import attrs
from realtime_sansio.protocol import ModelConfig
from realtime_sansio.protocol.audio import PCM16, read_wav, resample, to_mono, write_wav
from realtime_sansio.protocol.fake import FakeServerConfig, synthesize_speech
from realtime_sansio.protocol.voice import (
    VoicePipelineConfig,
    VoiceStreamEvent,
    VoiceStreamEventAudio,
    VoiceStreamEventError,
    VoiceStreamEventLifecycle,
    VoiceStreamEventMetrics,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)

from ..auth import resolve_api_key
from ..demo import GREETER, _start_fake
from .input import StreamedAudioInput
from .models import OpenAISTTModel, OpenAITTSModel
from .pipeline import VoicePipeline
from .workflows import AgentWorkflow, SimpleWorkflow, VoiceWorkflow

__all__ = ["UTTERANCES", "VoiceDemoError", "VoiceDemoOptions", "run_voice_demo"]

UTTERANCES = (
    "Hello, can you hear me?",
    "What's the weather in Paris?",
    "Please transfer me to support.",
)
CHUNK_MS = 20


class VoiceDemoError(Exception):
    """The voice demo could not go on; the message is the one line the user sees."""


@attrs.frozen(kw_only=True)
class VoiceDemoOptions:
    mode: Literal["fake", "live", "url"] = "fake"
    url: str | None = None
    input_path: str | None = None
    output_path: str = "voice-output.wav"
    agent: bool = False
    vad: Literal["energy", "silero"] = "energy"
    timeout_s: float = 60.0


def _silence(ms: int) -> bytes:
    return bytes(PCM16.bytes_per_second * ms // 1000)


def echo(transcript: str) -> Iterable[str]:
    """The simple workflow's answer: what it heard, then a question back."""
    return [f"You said: {transcript.strip().rstrip('.!?')}. ", "What else can I do for you?"]


class VoiceTimeline:
    """Prints the pipeline's events as they come, keeps the reply audio."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.start = anyio.current_time()
        self.audio = bytearray()
        self.errors = 0
        self.turns = 0
        self.latencies: list[float] = []

    def line(self, text: str) -> None:
        print(f"{anyio.current_time() - self.start:6.2f}s  {text}", file=self.out, flush=True)

    def show(self, event: VoiceStreamEvent) -> None:
        if isinstance(event, VoiceStreamEventAudio):
            self.audio += event.data
        elif isinstance(event, VoiceStreamEventTranscript):
            self.line(f"{event.turn_id}: user said: {event.text}")
        elif isinstance(event, VoiceStreamEventText):
            self.line(f"{event.turn_id}: speaking: {event.text}")
        elif isinstance(event, VoiceStreamEventError):
            self.errors += 1
            self.line(f"{event.turn_id}: {event.stage} failed: {event.error}")
        elif isinstance(event, VoiceStreamEventMetrics):
            latency = event.end_of_speech_to_first_audio_ms
            if latency is not None:
                self.latencies.append(latency)
                self.line(
                    f"{event.turn_id}: end of speech -> first audio {latency:.0f} ms"
                    f" (transcription {event.transcription_ms or 0:.0f} ms,"
                    f" {event.audio_ms / 1000:.1f} s of reply)"
                )
        elif isinstance(event, VoiceStreamEventLifecycle):
            if event.event == "turn_started" and not (event.turn_id or "").startswith("greeting"):
                self.turns += 1
            name = event.turn_id or "pipeline"
            self.line(f"{name}: {event.event.replace('_', ' ')}")


def _load_input(path: str | None) -> tuple[list[bytes], str, dict[int, str] | None]:
    """The user's audio as 24 kHz mono turns, a description, and what the fake should hear."""
    if path is None:
        turns = [synthesize_speech(text) + _silence(800) for text in UTTERANCES]
        turns[0] = _silence(300) + turns[0]
        description = f"{len(UTTERANCES)} generated utterances"
        return turns, description, dict(enumerate(UTTERANCES))
    pcm, rate, channels = read_wav(path)
    mono = resample(to_mono(pcm, channels), rate, PCM16.rate)
    seconds = len(mono) / PCM16.bytes_per_second
    description = f"{seconds:.1f} s from {os.path.basename(path)} ({rate} Hz, {channels} ch)"
    return [mono + _silence(1000)], description, None


def _workflow(options: VoiceDemoOptions, model_config: ModelConfig | None) -> VoiceWorkflow:
    if not options.agent:
        return SimpleWorkflow(echo, greeting="Hello! I am listening.")
    return AgentWorkflow(GREETER, model_config=model_config, greeting="Hello! I am listening.")


async def run_voice_demo(options: VoiceDemoOptions, out: TextIO, err: TextIO) -> None:
    """Run the conversation, print the timeline to ``out``, write the replies' audio."""
    try:
        turns, description, transcripts = _load_input(options.input_path)
    except OSError as exc:
        raise VoiceDemoError(f"cannot read {options.input_path}: {exc.strerror or exc}") from exc
    if options.mode == "live" and resolve_api_key() is None:
        raise VoiceDemoError(
            "--live needs an API key: set OPENAI_API_KEY or CODEX_API_KEY "
            "(or OPENAI_API_KEY in $CODEX_HOME/auth.json)"
        )
    config = VoicePipelineConfig(playback="instant", barge_in=options.input_path is None)
    timeline = VoiceTimeline(out)
    try:
        with anyio.fail_after(options.timeout_s):
            async with anyio.create_task_group() as task_group, AsyncExitStack() as stack:
                if options.mode == "fake":
                    port = await _start_fake(task_group, FakeServerConfig(transcripts=transcripts))
                    base, key = f"http://127.0.0.1:{port}", "unused"
                    model_config: ModelConfig | None = ModelConfig(
                        url=f"ws://127.0.0.1:{port}", api_key="unused"
                    )
                    print(f"fake speech and Realtime server on {base}", file=out, flush=True)
                elif options.mode == "url":
                    base, key = options.url or "", None
                    ws = base.replace("http", "ws", 1)
                    model_config = ModelConfig(url=ws)
                else:
                    base, key, model_config = "https://api.openai.com", None, None
                pipeline = VoicePipeline(
                    workflow=_workflow(options, model_config),
                    config=config,
                    stt_model=OpenAISTTModel(base_url=base, api_key=key),
                    tts_model=OpenAITTSModel(base_url=base, api_key=key),
                    vad=options.vad,
                )
                timeline.line(f"user audio: {description}; vad: {options.vad}")
                audio_input = StreamedAudioInput()
                result = await stack.enter_async_context(pipeline.run(audio_input))
                turn_over = anyio.Event()

                async def speak() -> None:
                    nonlocal turn_over
                    for pcm in turns:
                        for start in range(0, len(pcm), PCM16.bytes_per_second * CHUNK_MS // 1000):
                            await audio_input.add_audio(pcm[start : start + 960])
                        if options.input_path is None:
                            await turn_over.wait()
                            turn_over = anyio.Event()
                    audio_input.close()

                task_group.start_soon(speak)
                async for event in result:
                    timeline.show(event)
                    if (
                        isinstance(event, VoiceStreamEventLifecycle)
                        and event.event
                        in (
                            "turn_ended",
                            "turn_interrupted",
                        )
                        and not (event.turn_id or "").startswith("greeting")
                    ):
                        turn_over.set()
                task_group.cancel_scope.cancel()  # stops the fake server
    except TimeoutError:
        raise VoiceDemoError(f"no end of the conversation within {options.timeout_s:g} s") from None
    write_wav(options.output_path, bytes(timeline.audio), PCM16.rate)
    average = sum(timeline.latencies) / len(timeline.latencies) if timeline.latencies else 0.0
    print(
        f"{timeline.turns} user turns, {timeline.errors} errors, mean end-of-speech to first audio"
        f" {average:.0f} ms; {len(timeline.audio) / PCM16.bytes_per_second:.1f} s of replies"
        f" written to {options.output_path}",
        file=out,
        flush=True,
    )
    if timeline.errors:
        raise VoiceDemoError(f"{timeline.errors} turn(s) failed; see the timeline above")
