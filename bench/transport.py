"""Loopback throughput of our wsproto WebSocket transport, beside the ``websockets`` library on
the same frames in the same run, and the per-event cost of the whole client stack.

    python bench/transport.py [--frames N] [--seconds S] [--repeat R]

(a) Audio appends echoed: a client sends N ``input_audio_buffer.append`` events of 100 ms of
    24 kHz PCM16 (4,800 bytes, 6,400 base64 characters; about 6.5 KB a frame) to an echo
    server (our ``serve_websocket``) while it reads the echoes back. Clients: our
    ``WebSocketTransport`` on asyncio and on trio, and the ``websockets`` library's asyncio
    client (no compression, as ours).
(b) Server audio deltas: ``serve_fake`` (pace 0) streams an S-second spoken reply in 100 ms
    deltas with their transcript deltas. Received by the whole client stack (``run`` + the
    Session + the codec + wsproto, every event consumed by a subscriber), by the bare
    transports (ours and ``websockets``, each frame then ``json.loads``-ed), and, for the
    floor, the same frames through bare ``json.loads`` + ``b64decode`` (bench/codec.py).

The servers run in a child process, so the client's CPU time (``time.process_time``) is the
client's own: the figures per frame are client CPU microseconds, best of R runs; wall-clock
frames per second are shown beside them. Takes about 10 to 20 s.

One run of ``python bench/transport.py`` (Python 3.11, a 2-CPU container shared with other
work, so figures move between runs; over six runs the ratios ranged: (a) client CPU ours /
websockets 2.0 to 2.5x on asyncio, 1.7 to 2.3x on trio, wall 1.2 to 1.8x; (b) whole stack /
floor 3.0 to 5.9x, ours / websockets on the same stream 1.2 to 1.5x):

    (a) 4000 audio appends of 6,471 bytes echoed over loopback (best of
        5 runs); the echo server (serve_websocket) runs in a child process
      WebSocketTransport (asyncio)           9,354 frames/s  106.9 us wall   90.4 us CPU
      WebSocketTransport (trio)              9,982 frames/s  100.2 us wall   67.8 us CPU
      websockets 17.4 client (asyncio)      17,024 frames/s   58.7 us wall   36.9 us CPU
      ratio ours/websockets, client CPU per frame: asyncio 2.45x, trio 1.84x; wall: asyncio 1.82x

    (b) serve_fake (pace 0, child process) streams a 90 s spoken reply: 1026 frames
        (100 ms audio deltas of 6,400 base64 characters, transcript deltas, the rest);
        the fake's own pace bounds the wall figures: compare the client CPU ones
      run() + Session + codec + wsproto      3,029 frames/s  330.1 us wall   95.7 us CPU
      WebSocketTransport + json.loads        3,556 frames/s  281.2 us wall   50.1 us CPU
      websockets 17.4 + json.loads           3,424 frames/s  292.1 us wall   35.8 us CPU
      json.loads + b64decode (no I/O)       56,900 frames/s   17.6 us wall   17.6 us CPU
      ratio whole stack / bare json.loads+b64decode, client CPU per event: 5.45x
      ratio WebSocketTransport / websockets on the same stream, client CPU per frame: 1.40x

    (13.9 s)

Reading: the ``websockets`` client masks and parses frames in C; ours does it in Python
(wsproto) under anyio's locks and checkpoints: about 2x the client CPU per 6.5 KB frame sent
and received, 1.2 to 1.5x per delta received, still under 0.1 ms for a 100 ms audio frame.
The whole client stack (transport, codec, Session, driver, a subscriber) costs 3 to 6x the
bare decoding floor per event, about half of it the transport's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType

import anyio
from codec import floor
from realtime_sansio.protocol import Agent, ModelConfig, events
from realtime_sansio.protocol.fake import FakeScript, FakeServerConfig, Respond
from realtime_sansio.protocol.testing.scripts import ScriptAudio
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.recording import RecordingTransport
from realtime_sansio.transports.runner import run
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.websocket import (
    WebSocketConnection,
    WebSocketTransport,
    serve_websocket,
)
from websockets.asyncio.client import connect as websockets_connect

APPEND_BYTES = 4800  # 100 ms of 24 kHz mono PCM16
WEBSOCKETS = importlib.metadata.version("websockets")
STORY = (
    "Once upon a time a small robot learned to listen before it spoke, and every evening it "
    "told the harbour lights what the ships had said during the day. "
) * 6

# -- the servers (child process) ----------------------------------------------------------------


async def _echo(connection: WebSocketConnection) -> None:
    try:
        while True:
            await connection.send(await connection.receive())
    except ConnectionClosed:
        pass


def _announce(port: int) -> None:
    print(port, flush=True)


def serve(kind: str, seconds: float) -> None:
    """Run a server until killed, printing its port first."""
    if kind == "echo":
        anyio.run(lambda: serve_websocket(_echo, "127.0.0.1", 0, ready=_announce))
        return
    reply = ScriptAudio(transcript=STORY, duration_ms=int(seconds * 1000), chunk_ms=100)
    script = FakeScript(steps=[Respond(outputs=(reply,))])
    config = FakeServerConfig(pace=0.0)
    anyio.run(lambda: serve_fake("127.0.0.1", 0, script, config=config, ready=_announce))


class Server:
    """A server of ``kind`` in a child process: ``with Server("echo", 0) as port``."""

    def __init__(self, kind: str, seconds: float) -> None:
        command = [sys.executable, os.path.abspath(__file__), "--serve", kind]
        self.process = subprocess.Popen(
            [*command, "--seconds", str(seconds)], stdout=subprocess.PIPE, text=True
        )

    def __enter__(self) -> int:
        assert self.process.stdout is not None
        return int(self.process.stdout.readline())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.process.kill()
        self.process.wait()


# -- measuring ----------------------------------------------------------------------------------


class Figures:
    """Best wall and client CPU seconds for one client over its runs."""

    def __init__(self, label: str, frames: int) -> None:
        self.label = label
        self.frames = frames
        self.wall = float("inf")
        self.cpu = float("inf")

    def add(self, wall: float, cpu: float) -> None:
        self.wall = min(self.wall, wall)
        self.cpu = min(self.cpu, cpu)

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.frames * 1e6

    def line(self) -> str:
        per_second = self.frames / self.wall
        wall_us = self.wall / self.frames * 1e6
        return (
            f"  {self.label:<36} {per_second:>7,.0f} frames/s {wall_us:6.1f} us wall"
            f" {self.cpu_us:6.1f} us CPU"
        )


async def timed(body: Callable[[], Awaitable[int]]) -> tuple[float, float, int]:
    wall, cpu = time.perf_counter(), time.process_time()
    count = await body()
    return time.perf_counter() - wall, time.process_time() - cpu, count


def append_frames(count: int) -> list[str]:
    audio = base64.b64encode(os.urandom(APPEND_BYTES)).decode()
    return [
        json.dumps({"type": "input_audio_buffer.append", "event_id": f"evt_{i}", "audio": audio})
        for i in range(count)
    ]


# (a) echo -----------------------------------------------------------------------------------


async def echo_ours(port: int, frames: list[str]) -> tuple[float, float]:
    async with WebSocketTransport(f"ws://127.0.0.1:{port}/") as transport:
        await transport.send(frames[0])  # warm the connection up
        await transport.receive()

        async def exchange() -> int:
            async with anyio.create_task_group() as group:

                async def sender() -> None:
                    for frame in frames:
                        await transport.send(frame)

                group.start_soon(sender)
                for _ in frames:
                    await transport.receive()
            return len(frames)

        wall, cpu, _ = await timed(exchange)
    return wall, cpu


async def echo_websockets(port: int, frames: list[str]) -> tuple[float, float]:
    url = f"ws://127.0.0.1:{port}/"
    async with websockets_connect(url, max_size=None, compression=None) as connection:
        await connection.send(frames[0])
        await connection.recv()

        async def exchange() -> int:
            async def sender() -> None:
                for frame in frames:
                    await connection.send(frame)

            task = asyncio.ensure_future(sender())
            for _ in frames:
                await connection.recv()
            await task
            return len(frames)

        wall, cpu, _ = await timed(exchange)
    return wall, cpu


def bench_echo(count: int, repeat: int) -> tuple[Figures, Figures, Figures]:
    frames = append_frames(count)
    ours_asyncio = Figures("WebSocketTransport (asyncio)", count)
    ours_trio = Figures("WebSocketTransport (trio)", count)
    theirs = Figures(f"websockets {WEBSOCKETS} client (asyncio)", count)
    with Server("echo", 0) as port:
        for _ in range(repeat):  # interleaved, so that noise hits all alike
            ours_asyncio.add(*anyio.run(echo_ours, port, frames))
            ours_trio.add(*anyio.run(echo_ours, port, frames, backend="trio"))
            theirs.add(*asyncio.run(echo_websockets(port, frames)))
    return ours_asyncio, ours_trio, theirs


# (b) a long spoken reply --------------------------------------------------------------------

REQUEST = [
    json.dumps(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Tell me a story."}],
            },
        }
    ),
    json.dumps({"type": "response.create"}),
]


def _is_done(frame: str) -> bool:
    return '"type":"response.done"' in frame[:40]


async def reply_stack(port: int) -> tuple[float, float, list[str]]:
    """The whole client stack: run() + Session + codec + wsproto, events consumed."""
    agent = Agent(name="Listener", instructions="Tell stories.")
    transport = RecordingTransport(WebSocketTransport(f"ws://127.0.0.1:{port}/v1/realtime?model=x"))
    config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key="unused")
    async with run(agent, model_config=config, transport=transport) as session:
        with anyio.fail_after(30):  # the session set up (its session.update answered) first
            while not any('"session.updated"' in frame[:40] for frame in transport.received):
                await anyio.sleep(0.005)
        start = len(transport.received)
        audio = 0

        async def turn() -> int:
            nonlocal audio
            await session.send_message("Tell me a story.")
            async for event in session:
                if isinstance(event, events.AudioEvent):
                    audio += len(event.data)
                if isinstance(event, events.AgentEndEvent):
                    break
            return len(transport.received) - start

        wall, cpu, _ = await timed(turn)
        assert audio > 0
        frames = list(transport.received)[start:]
    return wall, cpu, frames


async def reply_ours(port: int) -> tuple[float, float, int]:
    async with WebSocketTransport(f"ws://127.0.0.1:{port}/v1/realtime?model=x") as transport:
        for _ in range(3):  # session.created, conversation.created, rate_limits.updated
            await transport.receive()

        async def turn() -> int:
            for request in REQUEST:
                await transport.send(request)
            count = 0
            while True:
                frame = await transport.receive()
                json.loads(frame)
                count += 1
                if _is_done(frame):
                    return count

        return await timed(turn)


async def reply_websockets(port: int) -> tuple[float, float, int]:
    url = f"ws://127.0.0.1:{port}/v1/realtime?model=x"
    async with websockets_connect(url, max_size=None, compression=None) as connection:
        for _ in range(3):
            await connection.recv()

        async def turn() -> int:
            for request in REQUEST:
                await connection.send(request)
            count = 0
            while True:
                frame = await connection.recv()
                json.loads(frame)
                count += 1
                if isinstance(frame, str) and _is_done(frame):
                    return count

        return await timed(turn)


def bench_reply(seconds: float, repeat: int) -> tuple[Figures, Figures, Figures, Figures]:
    with Server("fake", seconds) as port:
        wall, cpu, frames = anyio.run(reply_stack, port)
        stack = Figures("run() + Session + codec + wsproto", len(frames))
        stack.add(wall, cpu)
        ours = Figures("WebSocketTransport + json.loads", 0)
        theirs = Figures(f"websockets {WEBSOCKETS} + json.loads", 0)
        for index in range(repeat):
            if index:
                stack.add(*anyio.run(reply_stack, port)[:2])
            wall, cpu, count = anyio.run(reply_ours, port)
            ours.frames = count
            ours.add(wall, cpu)
            wall, cpu, count = asyncio.run(reply_websockets(port))
            theirs.frames = count
            theirs.add(wall, cpu)
    bare = Figures("json.loads + b64decode (no I/O)", len(frames))
    for _ in range(max(repeat * 4, 20)):  # short: the best of many
        wall, cpu = time.perf_counter(), time.process_time()
        floor(frames)
        bare.add(time.perf_counter() - wall, time.process_time() - cpu)
    return stack, ours, theirs, bare


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=4000, help="audio appends to echo")
    parser.add_argument("--seconds", type=float, default=90.0, help="length of the spoken reply")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (the best)")
    parser.add_argument("--serve", choices=["echo", "fake"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.seconds)
        return 0

    started = time.perf_counter()
    size = len(append_frames(1)[0])
    print(f"(a) {args.frames} audio appends of {size:,} bytes echoed over loopback (best of")
    print(f"    {args.repeat} runs); the echo server (serve_websocket) runs in a child process")
    ours_asyncio, ours_trio, theirs = bench_echo(args.frames, args.repeat)
    for figures in (ours_asyncio, ours_trio, theirs):
        print(figures.line())
    print(
        f"  ratio ours/websockets, client CPU per frame: asyncio "
        f"{ours_asyncio.cpu_us / theirs.cpu_us:.2f}x, trio {ours_trio.cpu_us / theirs.cpu_us:.2f}x;"
        f" wall: asyncio {ours_asyncio.wall / theirs.wall:.2f}x"
    )
    print()
    stack, ours, theirs_reply, bare = bench_reply(args.seconds, args.repeat)
    print(
        f"(b) serve_fake (pace 0, child process) streams a {args.seconds:.0f} s spoken reply:"
        f" {stack.frames} frames"
    )
    print("    (100 ms audio deltas of 6,400 base64 characters, transcript deltas, the rest);")
    print("    the fake's own pace bounds the wall figures: compare the client CPU ones")
    for figures in (stack, ours, theirs_reply, bare):
        print(figures.line())
    print(
        f"  ratio whole stack / bare json.loads+b64decode, client CPU per event:"
        f" {stack.cpu_us / bare.cpu_us:.2f}x"
    )
    print(
        f"  ratio WebSocketTransport / websockets on the same stream, client CPU per frame:"
        f" {ours.cpu_us / theirs_reply.cpu_us:.2f}x"
    )
    print(f"\n({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
