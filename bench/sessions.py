"""Many sessions at once over the memory transport: CPU and memory per session.

    python bench/sessions.py [--sessions 100 1000] [--seconds 10]

Each session runs the whole stack (driver, Session, codec, the fake server and its host loop)
against its own fake server in memory: the user streams 24 kHz PCM16 at the real-time rate
(20 ms chunks: speech, then silence, so server VAD takes turns), asks one text question that
calls a tool, and the fake answers with speech-like audio paced in real time. Time is trio's
virtual clock (``MockClock(autojump_threshold=0)``): the 10 seconds are simulated, so the
figures are the library's own CPU, not waiting. Printed: CPU milliseconds per session per
second of audio, and peak memory per session (the process's peak RSS growth over the run,
divided by the sessions).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time

import anyio
import trio.testing
from realtime_sansio.protocol import PCM16, Agent, events, function_tool
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run

CHUNK_MS = 20


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


AGENT = Agent(name="Bench", instructions="Be brief.", tools=[get_weather])


def user_audio(seconds: float) -> list[bytes]:
    """Speech, then silence, repeated: real-time input for ``seconds``."""
    speech = synthesize_speech("Hello there, how is the weather today?")
    quiet = bytes(PCM16.bytes_per_second)  # one second
    stream = b""
    while len(stream) < seconds * PCM16.bytes_per_second:
        stream += speech + quiet
    stream = stream[: int(seconds * PCM16.bytes_per_second)]
    size = PCM16.bytes_per_second * CHUNK_MS // 1000
    return [stream[i : i + size] for i in range(0, len(stream), size)]


async def one_session(chunks: list[bytes], received: list[int]) -> None:
    transport = FakeServerTransport(FakeRealtimeServer(FakeServerConfig(pace=1.0)))
    async with run(AGENT, transport=transport) as session, anyio.create_task_group() as tg:
        tg.start_soon(consume, session, received)
        await session.send_message("What is the weather in Paris?")
        for chunk in chunks:
            await session.send_audio(chunk)
            await anyio.sleep(CHUNK_MS / 1000)
        tg.cancel_scope.cancel()


async def consume(session: RealtimeSession, received: list[int]) -> None:
    async for event in session:
        if isinstance(event, events.AudioEvent):
            received[0] += len(event.data)
            await session.audio_played(event.item_id, event.content_index, 0)


async def many(count: int, seconds: float) -> tuple[float, int]:
    chunks = user_audio(seconds)
    received = [0]
    async with anyio.create_task_group() as tg:
        for _ in range(count):
            tg.start_soon(one_session, chunks, received)
    return received[0] / PCM16.bytes_per_second, count


def measure(count: int, seconds: float) -> None:
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    cpu = time.process_time()
    audio_out_s, _ = anyio.run(
        many,
        count,
        seconds,
        backend="trio",
        backend_options={"clock": trio.testing.MockClock(autojump_threshold=0)},
    )
    cpu = time.process_time() - cpu
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    per_session_audio_s = seconds  # each session streams `seconds` of audio in
    per = cpu * 1000 / (count * per_session_audio_s)
    peak = max(0, rss_after - rss_before) / count
    print(
        f"{count:>5} sessions x {seconds:g} s of audio: CPU {cpu:6.2f} s, "
        f"{per:6.2f} ms per session per audio-second; "
        f"peak memory {peak:7.1f} KiB per session; "
        f"assistant audio received {audio_out_s / count:5.2f} s per session"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; trio virtual clock; memory transport")
    for count in args.sessions:
        measure(count, args.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
