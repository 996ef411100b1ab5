"""The voice pipeline, one turn: speech -> transcript -> a workflow's reply -> speech.

python examples/voice_pipeline.py                            # the fake server, started here
python examples/voice_pipeline.py --url ws://127.0.0.1:8765  # a running serve-fake
python examples/voice_pipeline.py --input question.wav --output reply.wav

Without --url a fake server is started on a free loopback port; it "hears" the generated
question (it cannot recognise speech: a WAV gets a placeholder transcript).
"""

from __future__ import annotations

import argparse
import functools

import anyio
import anyio.abc
from realtime_sansio.protocol.audio import write_wav
from realtime_sansio.protocol.fake import FakeServerConfig, synthesize_speech
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.voice import (
    AudioInput,
    OpenAISTTModel,
    OpenAITTSModel,
    SimpleWorkflow,
    STTSettings,
    TTSSettings,
    VoicePipeline,
    VoicePipelineConfig,
    VoiceStreamEventAudio,
    VoiceStreamEventLifecycle,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)

QUESTION = "What is the weather like today?"


def reply(transcript: str) -> list[str]:
    """The workflow: any text, in pieces of any size (a list, a generator, an async one)."""
    return [f"You said: {transcript.rstrip('.?!')}. ", "It is sunny, with a light breeze."]


workflow = SimpleWorkflow(reply)
config = VoicePipelineConfig(
    workflow_name="voice_demo",
    stt_settings=STTSettings(model="gpt-4o-transcribe"),
    tts_settings=TTSSettings(model="gpt-4o-mini-tts", voice="nova"),
)


async def start_fake(task_group: anyio.abc.TaskGroup) -> str:
    """The fake server on a free loopback port; its base URL."""
    ready, ports = anyio.Event(), list[int]()
    fake = FakeServerConfig(transcripts={0: QUESTION})

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    task_group.start_soon(functools.partial(serve_fake, port=0, config=fake, ready=on_ready))
    await ready.wait()
    return f"http://127.0.0.1:{ports[0]}"


async def main(url: str | None, input_path: str | None, output: str | None) -> None:
    async with anyio.create_task_group() as task_group:
        base = url.replace("ws", "http", 1) if url else await start_fake(task_group)
        pipeline = VoicePipeline(
            workflow=workflow,
            config=config,
            stt_model=OpenAISTTModel(base_url=base),
            tts_model=OpenAITTSModel(base_url=base),
        )
        if input_path:
            audio_input = AudioInput.from_wav(input_path)
        else:
            audio_input = AudioInput(synthesize_speech(QUESTION), sample_rate=24000)
        reply = bytearray()
        async with pipeline.run(audio_input) as result:
            async for event in result:
                if isinstance(event, VoiceStreamEventTranscript):
                    print(f"user: {event.text}")
                elif isinstance(event, VoiceStreamEventText):
                    print(f"assistant: {event.text}")
                elif isinstance(event, VoiceStreamEventAudio):
                    reply += event.data  # play or store it
                elif isinstance(event, VoiceStreamEventLifecycle):
                    print(f"-- {event.event}")
        print(f"{len(reply) / 48000:.1f} s of reply audio")
        if output:
            write_wav(output, bytes(reply), 24000)
        task_group.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="One turn through the voice pipeline.")
    parser.add_argument("--url", help="a running serve-fake, e.g. ws://127.0.0.1:8765")
    parser.add_argument("--input", help="a 16-bit WAV file with the question")
    parser.add_argument("--output", help="write the reply to this WAV file")
    args = parser.parse_args()
    anyio.run(main, args.url, args.input, args.output)
