"""The voice pipeline, many turns: a local VAD cuts streamed audio into turns.

python examples/voice_multi_turn.py                            # the fake server, started here
python examples/voice_multi_turn.py --url ws://127.0.0.1:8765  # a running serve-fake
python examples/voice_multi_turn.py --vad silero               # pip install 'realtime-sansio[vad]'

Audio goes in as it would from a microphone (``StreamedAudioInput.add_audio``); the energy VAD
(or Silero) finds where each utterance ends, and each turn is answered in order. The events
say which turn they belong to; playback is reported with ``audio_played`` as a player would,
which is what makes barge-in keep exactly what was heard when the user talks over a reply.
"""

from __future__ import annotations

import argparse
import functools

import anyio
import anyio.abc
from realtime_sansio.protocol.fake import FakeServerConfig, synthesize_speech
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.voice import (
    OpenAISTTModel,
    OpenAITTSModel,
    SimpleWorkflow,
    StreamedAudioInput,
    VoicePipeline,
    VoiceStreamEventAudio,
    VoiceStreamEventLifecycle,
    VoiceStreamEventMetrics,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)

QUESTIONS = ["Hello, who are you?", "What can you do?", "Thanks, goodbye."]
SILENCE = bytes(48000)  # one second of 24 kHz PCM16


async def start_fake(task_group: anyio.abc.TaskGroup) -> str:
    ready, ports = anyio.Event(), list[int]()
    fake = FakeServerConfig(transcripts=dict(enumerate(QUESTIONS)))

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    task_group.start_soon(functools.partial(serve_fake, port=0, config=fake, ready=on_ready))
    await ready.wait()
    return f"http://127.0.0.1:{ports[0]}"


def answer(transcript: str) -> list[str]:
    return [f"I heard: {transcript.rstrip('.?!')}. ", "Ask me anything else."]


async def main(url: str | None, vad: str) -> None:
    async with anyio.create_task_group() as task_group:
        base = url.replace("ws", "http", 1) if url else await start_fake(task_group)
        pipeline = VoicePipeline(
            workflow=SimpleWorkflow(answer, greeting="Hello! I am listening."),
            stt_model=OpenAISTTModel(base_url=base),
            tts_model=OpenAITTSModel(base_url=base),
            vad=vad,  # type: ignore[arg-type]
        )
        microphone = StreamedAudioInput()
        turn_over = anyio.Event()

        async def speak() -> None:
            nonlocal turn_over
            await turn_over.wait()  # the greeting first
            for question in QUESTIONS:
                turn_over = anyio.Event()
                audio = synthesize_speech(question) + SILENCE
                for start in range(0, len(audio), 960):  # 20 ms chunks, as a microphone
                    await microphone.add_audio(audio[start : start + 960])
                await turn_over.wait()
            microphone.close()

        played: dict[str, float] = {}
        async with pipeline.run(microphone) as result:
            task_group.start_soon(speak)
            async for event in result:
                if isinstance(event, VoiceStreamEventAudio):
                    # A player would report as it plays; this one "plays" at once.
                    played[event.turn_id] = played.get(event.turn_id, 0) + len(event.data) / 48
                    await result.audio_played(event.turn_id, played[event.turn_id])
                elif isinstance(event, VoiceStreamEventTranscript):
                    print(f"[{event.turn_id}] user: {event.text}")
                elif isinstance(event, VoiceStreamEventText):
                    print(f"[{event.turn_id}] assistant: {event.text}")
                elif isinstance(event, VoiceStreamEventMetrics):
                    latency = event.end_of_speech_to_first_audio_ms
                    if latency is not None:
                        print(f"[{event.turn_id}] end of speech -> first audio: {latency:.0f} ms")
                elif isinstance(event, VoiceStreamEventLifecycle):
                    print(f"[{event.turn_id or 'pipeline'}] {event.event}")
                    if event.event in ("turn_ended", "turn_interrupted"):
                        turn_over.set()
        task_group.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Several turns through the voice pipeline.")
    parser.add_argument("--url", help="a running serve-fake, e.g. ws://127.0.0.1:8765")
    parser.add_argument("--vad", choices=("energy", "silero"), default="energy")
    args = parser.parse_args()
    anyio.run(main, args.url, args.vad)
