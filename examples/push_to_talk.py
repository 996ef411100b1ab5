"""Push-to-talk: no server VAD; the client says where the user's turn ends (commit=True).

python examples/push_to_talk.py [--url ws://127.0.0.1:8765]
"""

from __future__ import annotations

import argparse
from contextlib import AbstractAsyncContextManager

import anyio
from realtime_sansio.protocol import (
    PCM16,
    Agent,
    ModelConfig,
    RunConfig,
    SessionModelSettings,
    events,
)
from realtime_sansio.protocol.fake import synthesize_speech
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run

agent = Agent(name="Assistant", instructions="Be brief.")
# turn_detection=None switches server VAD off: nothing is heard until the commit.
PUSH_TO_TALK = RunConfig(model_settings=SessionModelSettings(turn_detection=None))
CHUNK = PCM16.bytes_per_second * 20 // 1000  # 20 ms


def connect(url: str | None) -> AbstractAsyncContextManager[RealtimeSession]:
    if url is None:
        return run(agent, config=PUSH_TO_TALK, transport=FakeServerTransport())
    return run(agent, config=PUSH_TO_TALK, model_config=ModelConfig(url=url))


async def main(url: str | None) -> None:
    audio = synthesize_speech("What time is it?")  # the audio while the button is held
    chunks = [audio[offset : offset + CHUNK] for offset in range(0, len(audio), CHUNK)]
    async with connect(url) as session:
        print("button down")
        for chunk in chunks[:-1]:
            await session.send_audio(chunk)
        await session.send_audio(chunks[-1], commit=True)  # button up: the turn ends here
        print(f"button up after {len(audio) * 1000 // PCM16.bytes_per_second} ms")
        received = 0
        async for event in session:
            if isinstance(event, events.AudioEvent):
                received += len(event.data)
            elif isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                print(event.delta, end="", flush=True)
            elif isinstance(event, events.AgentEndEvent) and not session.busy:
                break
        print(f"\nreceived {received * 1000 // PCM16.bytes_per_second} ms of audio")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Push-to-talk.")
    parser.add_argument("--url", help="a Realtime server (default: the fake server in memory)")
    anyio.run(main, parser.parse_args().url)
