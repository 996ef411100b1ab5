"""An audio turn: stream speech in 20 ms chunks; server VAD hears where the turn ends.

python examples/basic_audio.py [--url ws://127.0.0.1:8765] [--output reply.wav]
"""

from __future__ import annotations

import argparse
from contextlib import AbstractAsyncContextManager

import anyio
from realtime_sansio.protocol import PCM16, Agent, ModelConfig, events
from realtime_sansio.protocol.audio import write_wav
from realtime_sansio.protocol.fake import synthesize_speech
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run

agent = Agent(name="Assistant", instructions="Be brief.")
CHUNK = PCM16.bytes_per_second * 20 // 1000  # 20 ms of 24 kHz PCM16
SILENCE = bytes(PCM16.bytes_per_second)  # 1 s: server VAD ends the turn after 500 ms of it


def connect(url: str | None) -> AbstractAsyncContextManager[RealtimeSession]:
    if url is None:
        return run(agent, transport=FakeServerTransport())
    return run(agent, model_config=ModelConfig(url=url))


async def main(url: str | None, output: str | None) -> None:
    # Speech-like audio stands in for a microphone (any 24 kHz mono PCM16 works).
    speech = SILENCE + synthesize_speech("Hello, can you hear me?") + SILENCE
    reply = bytearray()
    async with connect(url) as session:
        for offset in range(0, len(speech), CHUNK):
            await session.send_audio(speech[offset : offset + CHUNK])
        print(f"sent {len(speech) / PCM16.bytes_per_second:.1f} s of audio")
        async for event in session:
            if isinstance(event, events.RawModelEvent) and "speech_" in event.data.type:
                print(f"server: {event.data.type}")  # speech_started / speech_stopped
            elif isinstance(event, events.AudioEvent):
                reply += event.data  # a real application plays it here
            elif isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                print(event.delta, end="", flush=True)
            elif isinstance(event, events.AgentEndEvent) and not session.busy:
                break
    print(f"\nreceived {len(reply) * 1000 // PCM16.bytes_per_second} ms of audio")
    if output:
        write_wav(output, bytes(reply), PCM16.rate)
        print(f"wrote {output}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="An audio turn with server VAD.")
    parser.add_argument("--url", help="a Realtime server (default: the fake server in memory)")
    parser.add_argument("--output", help="write the reply's audio to this WAV file")
    args = parser.parse_args()
    anyio.run(main, args.url, args.output)
