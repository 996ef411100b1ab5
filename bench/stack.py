"""The whole client stack over a real loopback WebSocket, beside the official SDKs and a floor.

    python bench/stack.py [--rounds R] [--modes burst paced send duplex] [--clients ...]

A server in a child process speaks the Realtime protocol from a script: on the client's first
``response.create`` it streams bench/codec.py's conversation (20 spoken turns: 1,588 GA frames,
60 s of 24 kHz audio in 600 deltas of 100 ms with their transcript deltas, 6 function calls with
streamed arguments, VAD, transcription, usage). Each client runs in its own child process and
measures its own CPU (``time.process_time()``) from the request to the last frame, and checks
that it processed every frame (its raw event for each), every byte of audio (decoded) and every
tool call (the tool ran, its output went back). Modes:

- ``burst``: the server writes the whole stream at once; frames as fast as the socket takes them.
- ``paced``: one frame a millisecond: one frame per wake-up, as from a real network.
- ``send``: the client sends 60 s of audio as 3,000 20 ms ``input_audio_buffer.append`` frames
  (PCM16 base64-encoded by the client), then a commit; the server answers with the count.
- ``duplex``: both at once in one session, paced (a frame a millisecond down, two appends a
  millisecond up): client CPU per session per audio-second, shown as sessions per core.

Clients: the floor (``websockets`` + ``json`` + ``base64``: decode every frame, decode the
audio, run the tools, send their outputs), openai-python's realtime connection (``recv``
parses each event into its models), openai-agents' ``RealtimeSession`` (the events of a
session, tools run by it), and ours, ``run()`` with an agent and a tool, each event read with
``async for`` from the session, on asyncio and on trio, with the codec's stdlib path forced
and with the speed extra (orjson, pybase64) when it is installed. Rounds are interleaved (each
round runs every client once), and each figure is the median of the per-round ratios to the
floor of the same round, so that the noise of a shared machine hits all alike. The first round
warms up and is not counted. Then the idle memory of our sessions (tracemalloc, 50 sessions
connected to the server and at rest). Takes about a minute with the default 7 rounds.

The peers are in the ``bench`` extra: ``pip install -e ".[bench]"``.

Figures of one run on the development machine (Python 3.11, 2 cores shared with other work;
9 rounds; client CPU vs the floor's, the median of the per-round ratios).

Before the driver and transport work (issue 11), with the stdlib codec (5 rounds):

    client                                     burst   paced    send  duplex
    websockets + json + base64 (floor)         1.00x   1.00x   1.00x   1.00x
    openai-python 3.57.0                       5.23x   2.00x  13.87x   3.10x
    openai-agents 0.24.0                       3.68x   1.84x   1.12x   1.44x
    realtime-sansio, asyncio                   3.90x   2.34x   7.12x   2.10x
    realtime-sansio, trio                      3.79x   2.12x   5.80x   2.09x
    ours vs openai-agents: burst 1.06x (asyncio), 1.03x (trio); paced 1.27x, 1.15x
    idle session memory: 48.4 KiB (asyncio), 41.8 KiB (trio)

After the first round of it (batched reads and writes, a writer task, the speed extra; the
figures of that work's last run, 5 rounds):

    client                                     burst   paced    send  duplex
    websockets + json + base64 (floor)         1.00x   1.00x   1.00x   1.00x
    openai-python 3.57.0                       5.01x   2.20x  13.56x   3.06x
    openai-agents 0.24.0                       3.80x   1.95x   1.03x   1.42x
    realtime-sansio, asyncio                   1.50x   1.72x   0.98x   1.28x
    realtime-sansio, trio                      1.57x   1.59x   1.02x   1.37x
    realtime-sansio, asyncio, speed extra      1.19x   1.59x   0.88x   1.25x
    realtime-sansio, trio, speed extra         1.17x   1.55x   0.89x   1.34x
    ours vs openai-agents, paced: asyncio 0.88x, trio 0.82x, asyncio-speed 0.81x, trio-speed 0.80x

After the second round (fewer system calls per wake-up; the last run, 9 rounds):

    client                                     burst   paced    send  duplex
    websockets + json + base64 (floor)         1.00x   1.00x   1.00x   1.00x
    openai-python 3.57.0                       4.28x   2.12x  12.70x   3.04x
    openai-agents 0.24.0                       3.19x   1.88x   1.05x   1.45x
    realtime-sansio, asyncio                   1.38x   1.38x   0.93x   1.26x
    realtime-sansio, trio                      1.36x   1.55x   0.92x   1.42x
    realtime-sansio, asyncio, speed extra      1.19x   1.36x   0.83x   1.17x
    realtime-sansio, trio, speed extra         0.98x   1.40x   0.84x   1.37x

    the floor's CPU: burst 30.5 us/frame, paced 148.1 us/frame, send 22.8 us/append,
        duplex 362.3 us/frame
    ours vs openai-agents, burst: asyncio 0.43x, trio 0.43x, asyncio-speed 0.37x, trio-speed 0.31x
    ours vs openai-agents, paced: asyncio 0.73x, trio 0.82x, asyncio-speed 0.72x, trio-speed 0.74x
    sessions per core (duplex, 24 kHz both ways): floor 104, openai 34, agents 72,
        ours-asyncio 83, ours-trio 73, ours-asyncio-speed 89, ours-trio-speed 76
    idle session memory: 55.8 KiB (asyncio), 47.6 KiB (trio) (tracemalloc)

The same code's run just before it (9 rounds, before the second round: burst 1.46x, 1.45x,
1.10x, 1.05x; paced vs openai-agents 0.87x, 0.83x, 0.85x, 0.88x) and paced-only runs after it
(7 rounds: vs openai-agents 0.73x to 0.74x on asyncio, 0.78x and 0.74x on trio) show the noise
of this shared machine: ratios move by about 0.05x to 0.1x between runs.

What changed in the first round: the driver no longer takes a lock (a trip through the
scheduler) after every frame when nothing is queued, and wakes its timer task only when the
deadline changes; it steps every frame one read brought (up to ``runner.MAX_BATCH``) and sends a
step's frames in one write; the application's commands queue their frames for a writer task
instead of a write and a trip through the scheduler each; the WebSocket decodes whole text
frames itself (wsproto gets every other frame, whole) and masks client frames with one XOR; the
speed extra parses with orjson and codes base64 with pybase64.

What changed in the second round (``transports._socket_reads``): on asyncio, anyio's socket
receive resumed the transport's reading before each wait and paused it after (two epoll_ctl
calls per wake-up, about 15% of the client's CPU paced); the socket now stays readable and is
paused only past ``MAX_UNREAD_BYTES`` read and not taken. On trio, the socket's recv tried a
read first, which fails when the last read took everything (a syscall and a BlockingIOError
raised and caught per wake-up, about 10% paced); it now waits for readability, then reads once.
Both apply under TLS too. Per read, the driver checks the core's timer once for all the frames
and skips the flush coroutine when nothing is queued; the fast frame path asks whether wsproto
is idle once per read.

After the third round (the core on the speed extra's path: the scalar-only events decoded with
no walk, every event built through its slots; a new, faster machine, 2 cores; 9 rounds):

    client                                     burst   paced    send  duplex
    websockets + json + base64 (floor)         1.00x   1.00x   1.00x   1.00x
    openai-python 3.57.0                       3.91x   2.22x  10.96x   3.15x
    openai-agents 0.24.0                       2.83x   2.27x   1.05x   1.51x
    realtime-sansio, asyncio                   1.23x   1.47x   0.90x   1.20x
    realtime-sansio, trio                      1.20x   1.48x   0.96x   1.37x
    realtime-sansio, asyncio, speed extra      0.79x   1.29x   0.84x   1.20x
    realtime-sansio, trio, speed extra         0.77x   1.43x   0.85x   1.36x

    the floor's CPU: burst 19.5 us/frame, paced 74.8 us/frame, send 14.3 us/append,
        duplex 185.4 us/frame
    ours vs openai-agents, burst: asyncio 0.43x, trio 0.42x, asyncio-speed 0.28x, trio-speed 0.27x
    ours vs openai-agents, paced: asyncio 0.65x, trio 0.65x, asyncio-speed 0.57x, trio-speed 0.63x
    sessions per core (duplex, 24 kHz both ways): floor 204, openai 65, agents 135,
        ours-asyncio 170, ours-trio 149, ours-asyncio-speed 169, ours-trio-speed 150
    idle session memory: 59.6 KiB (asyncio), 51.5 KiB (trio) (tracemalloc)

What changed in the third round (the core, ``bench/session.py``): with the speed extra, the 27
event types whose fields are all strings, integers, booleans or base64 text (every audio and
transcript delta) no longer pay for the walk that keeps orjson's values identical to json's:
their generated ``decode_flat`` checks every value it keeps and takes an object with no other
key, and leaves anything else to the walk or to json. Every wire event, and the session's
per-frame events (``RawModelEvent``, ``AudioEvent``, ``TranscriptDeltaEvent``), is built
through its slot descriptors (``_slots``) instead of attrs' frozen ``__init__``, which binds
``object.__setattr__`` anew per instance: 0.41 us against 0.87 us for a 7-field event.
pybase64 is called with positional arguments (its keyword parsing cost a third as much again
as decoding a 100 ms delta), and the History no longer builds a dict and a list per delta
(``setdefault``'s defaults). Decode plus ``Session.handle`` with the speed extra went from 0.66x
to 0.82x of the stdlib floor to a median of 0.48x (0.43x to 0.61x over five processes).

Where the rest goes (paced): the event loop's iterations: on asyncio three per frame (the
socket's callback, the reader task, the subscriber task; the floor has two, websockets parses in
the protocol callback), each with its epoll call; on trio two batches per frame; then the
Session and the codec (on the third round's machine about 13 us per event with the stdlib, 5
with the speed extra, in ``bench/session.py``), then the subscription and the WebSocket's
framing (a few us). In burst, the Session and the codec are most of what is left:
``bench/session.py`` puts decode + ``Session.handle`` at about 1.3x its stdlib floor (json +
base64) and 0.48x with the speed extra: orjson alone is about 2.8 us of the 5.1 us an event
costs on that path (most of it the 100 ms audio deltas, whose 6,400 base64 characters it copies
into a string), decoding into typed, checked events about 1.1 us (pybase64 among it), and the
Session's handling about 1.2 us (its per-event bookkeeping, the raw event, the audio or
transcript event, the History).

Tried and did not help (or not enough to keep): in the third round, a cheaper check in place
of the walk (``frozenset.issuperset(map(type, values))``: 0.24 us against 0.37 us for a flat
event, superseded by no check at all where the decoder sees every value), and storing fields
with ``object.__setattr__`` after ``object.__new__`` (0.66 us a 7-field event, against 0.41 us
through the slot descriptors); before it, decoding base64 leniently and checking it by
re-encoding (to spare the stdlib's strict mode): slower than strict mode (26 us against 23 us
for a 100 ms delta). Leaving asyncio's socket readable in burst mode: the same cost as pausing
it, within the noise (1.06x against 1.05x of the floor, 15 interleaved runs in one process), so
kept for the paced gain. Not tried, for the risk to the properties kept: stepping frames in
asyncio's protocol callback (one loop iteration less per frame, but a second path beside
trio's), and letting a waiting subscriber read the socket itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from statistics import median
from typing import Any
from urllib.parse import parse_qs, urlsplit

from codec import conversation

TURNS = 20  # 60 s of audio
CHUNK_BYTES = 960  # 20 ms of 24 kHz PCM16
APPENDS = 3000  # 60 s of 20 ms appends
PACE_DOWN_S = 0.001
PACE_UP_EVERY = 2  # appends per millisecond in duplex: 20 ms of audio both ways per frame down
MEMORY_SESSIONS = 50
MODES = ("burst", "paced", "send", "duplex")
AUDIO_SECONDS = 60.0
# Shaped like a real key, so that redaction (ours) costs what it costs in production.
API_KEY = "sk-bench-" + "Q" * 24 + "x7" * 12


def stream() -> list[str]:
    return conversation(TURNS)


def expected() -> dict[str, int]:
    frames = stream()
    audio = 0
    tools = 0
    for frame in frames:
        obj = json.loads(frame)
        if obj["type"] == "response.output_audio.delta":
            audio += len(base64.b64decode(obj["delta"]))
        elif obj["type"] == "response.function_call_arguments.done":
            tools += 1
    return {"frames": len(frames), "audio": audio, "tools": tools, "appends": APPENDS}


def user_chunks() -> list[bytes]:
    pattern = bytes(range(256)) * (CHUNK_BYTES // 256 + 1)
    return [pattern[i % 7 : i % 7 + CHUNK_BYTES] for i in range(APPENDS)]


# -- the server (child process) -----------------------------------------------------------------


def _frame(text: str) -> bytes:
    """One unmasked server text frame."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = bytes([0x81, size])
    elif size < 65536:
        head = bytes([0x81, 126]) + size.to_bytes(2, "big")
    else:
        head = bytes([0x81, 127]) + size.to_bytes(8, "big")
    return head + payload


def serve() -> None:
    from wsproto import ConnectionType, WSConnection
    from wsproto import events as ws

    frames = [_frame(text) for text in stream()]
    burst = b"".join(frames)

    async def send_stream(writer: asyncio.StreamWriter, mode: str) -> None:
        if mode == "burst":
            writer.write(burst)
            await writer.drain()
            return
        for frame in frames:
            writer.write(frame)
            await writer.drain()
            await asyncio.sleep(PACE_DOWN_S)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = WSConnection(ConnectionType.SERVER)
        mode = "burst"
        streaming: asyncio.Task[None] | None = None
        appends = 0
        parts: list[str] = []
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                peer.receive_data(data)
                for event in peer.events():
                    if isinstance(event, ws.Request):
                        query = parse_qs(urlsplit(event.target).query)
                        mode = query.get("model", ["burst"])[0]
                        writer.write(peer.send(ws.AcceptConnection()))
                    elif isinstance(event, ws.TextMessage):
                        parts.append(event.data)
                        if not event.message_finished:
                            continue
                        kind = json.loads("".join(parts))["type"]
                        parts.clear()
                        if kind == "input_audio_buffer.append":
                            appends += 1
                        elif kind == "input_audio_buffer.commit":
                            answer = {
                                "type": "input_audio_buffer.committed",
                                "event_id": "event_commit",
                                "item_id": f"appends_{appends}",
                            }
                            writer.write(_frame(json.dumps(answer)))
                        elif kind == "response.create" and streaming is None and mode != "send":
                            streaming = asyncio.create_task(send_stream(writer, mode))
                    elif isinstance(event, ws.Ping):
                        writer.write(peer.send(event.response()))
                    elif isinstance(event, ws.CloseConnection):
                        if streaming is not None:
                            streaming.cancel()
                        writer.write(peer.send(event.response()))
                        await writer.drain()
                        return
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if streaming is not None:
                streaming.cancel()
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


# -- what every client reports ----------------------------------------------------------------


class Tally:
    """What one client saw in a round, and its CPU and wall time."""

    def __init__(self) -> None:
        self.frames = 0
        self.audio = 0
        self.tools = 0
        self.appends = -1
        self.cpu = 0.0
        self.wall = 0.0
        self._cpu0 = 0.0
        self._wall0 = 0.0

    def start(self) -> None:
        self._cpu0, self._wall0 = time.process_time(), time.perf_counter()

    def stop(self) -> None:
        self.cpu = time.process_time() - self._cpu0
        self.wall = time.perf_counter() - self._wall0

    def counted(self, item_id: str) -> bool:
        """Whether a committed item is the server's count of appends (and take it)."""
        if not item_id.startswith("appends_"):
            return False
        self.appends = int(item_id.removeprefix("appends_"))
        return True

    def done(self, mode: str, want: dict[str, int]) -> bool:
        """Every frame and tool call (and the count of appends in duplex) is in."""
        if mode == "send":
            return self.appends >= 0
        if self.frames < want["frames"] or self.tools < want["tools"]:
            return False
        return mode != "duplex" or self.appends >= 0

    def report(self, mode: str, want: dict[str, int]) -> dict[str, Any]:
        problems = []
        if mode != "send":
            for name in ("frames", "audio", "tools"):
                if getattr(self, name) != want[name]:
                    problems.append(f"{name} {getattr(self, name)} != {want[name]}")
        if mode in ("send", "duplex") and self.appends != want["appends"]:
            problems.append(f"appends {self.appends} != {want['appends']}")
        return {"cpu": self.cpu, "wall": self.wall, "problems": problems}


TOOL_RUNS = [0]


def get_weather(city: str) -> str:
    TOOL_RUNS[0] += 1
    return f"Sunny in {city}"


def append_json(chunk: bytes) -> str:
    audio = base64.b64encode(chunk).decode()
    return json.dumps({"type": "input_audio_buffer.append", "audio": audio})


# -- the floor: websockets + json + base64 ------------------------------------------------------


async def floor_round(url: str, mode: str, want: dict[str, int]) -> Tally:
    from websockets.asyncio.client import connect

    tally = Tally()
    chunks = user_chunks()
    async with connect(url, max_size=None, compression=None) as socket:

        async def receive() -> None:
            await socket.send(json.dumps({"type": "response.create"}))
            async for message in socket:
                obj = json.loads(message)
                kind = obj["type"]
                if kind == "input_audio_buffer.committed" and tally.counted(obj["item_id"]):
                    if tally.done(mode, want):
                        return
                    continue
                tally.frames += 1
                if kind == "response.output_audio.delta":
                    tally.audio += len(base64.b64decode(obj["delta"]))
                elif kind == "response.function_call_arguments.done":
                    output = get_weather(**json.loads(obj["arguments"]))
                    item = {"type": "function_call_output", "call_id": obj["call_id"]}
                    item["output"] = output
                    await socket.send(
                        json.dumps({"type": "conversation.item.create", "item": item})
                    )
                    await socket.send(json.dumps({"type": "response.create"}))
                    tally.tools += 1
                if tally.done(mode, want):
                    return

        async def send() -> None:
            for index, chunk in enumerate(chunks, 1):
                await socket.send(append_json(chunk))
                if mode == "duplex" and index % PACE_UP_EVERY == 0:
                    await asyncio.sleep(PACE_DOWN_S)
            await socket.send(json.dumps({"type": "input_audio_buffer.commit"}))

        tally.start()
        if mode in ("send", "duplex"):
            await asyncio.gather(receive(), send())
        else:
            await receive()
        tally.stop()
    return tally


# -- openai-python ------------------------------------------------------------------------------


async def openai_round(url: str, mode: str, want: dict[str, int]) -> Tally:
    from openai import AsyncOpenAI

    base = url.partition("/v1/")[0] + "/v1"
    model = parse_qs(urlsplit(url).query)["model"][0]
    client = AsyncOpenAI(websocket_base_url=base, api_key=API_KEY)
    tally = Tally()
    chunks = user_chunks()
    async with client.realtime.connect(model=model) as connection:

        async def receive() -> None:
            await connection.response.create()
            while True:
                event = await connection.recv()
                if event.type == "input_audio_buffer.committed" and tally.counted(event.item_id):
                    if tally.done(mode, want):
                        return
                    continue
                tally.frames += 1
                if event.type == "response.output_audio.delta":
                    tally.audio += len(base64.b64decode(event.delta))
                elif event.type == "response.function_call_arguments.done":
                    output = get_weather(**json.loads(event.arguments))
                    await connection.conversation.item.create(
                        item={
                            "type": "function_call_output",
                            "call_id": event.call_id,
                            "output": output,
                        }
                    )
                    await connection.response.create()
                    tally.tools += 1
                if tally.done(mode, want):
                    return

        async def send() -> None:
            for index, chunk in enumerate(chunks, 1):
                await connection.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
                if mode == "duplex" and index % PACE_UP_EVERY == 0:
                    await asyncio.sleep(PACE_DOWN_S)
            await connection.input_audio_buffer.commit()

        tally.start()
        if mode in ("send", "duplex"):
            await asyncio.gather(receive(), send())
        else:
            await receive()
        tally.stop()
    return tally


# -- openai-agents --------------------------------------------------------------------------------


async def agents_round(url: str, mode: str, want: dict[str, int]) -> Tally:
    from agents import function_tool
    from agents.realtime import RealtimeAgent, RealtimeRunner

    agent = RealtimeAgent(
        name="Bench", instructions="Be brief.", tools=[function_tool(get_weather)]
    )
    # The script's VAD events are no barge-in: the audio before them is heard whole.
    vad: Any = {"type": "server_vad", "interrupt_response": False}
    runner = RealtimeRunner(agent, config={"model_settings": {"turn_detection": vad}})
    tally = Tally()
    chunks = user_chunks()
    tools_before = TOOL_RUNS[0]
    session = await runner.run(model_config={"url": url, "api_key": API_KEY})
    async with session:

        async def receive() -> None:
            await session.send_message("What is the weather in Paris?")
            async for event in session:
                if event.type == "raw_model_event" and event.data.type == "raw_server_event":
                    data = event.data.data
                    if data.get("type") == "input_audio_buffer.committed" and tally.counted(
                        data["item_id"]
                    ):
                        if tally.done(mode, want):
                            return
                        continue
                    tally.frames += 1
                elif event.type == "audio":
                    tally.audio += len(event.audio.data)
                elif event.type == "tool_end":
                    tally.tools += 1
                if tally.done(mode, want):
                    return

        async def send() -> None:
            for index, chunk in enumerate(chunks, 1):
                await session.send_audio(chunk)
                if mode == "duplex" and index % PACE_UP_EVERY == 0:
                    await asyncio.sleep(PACE_DOWN_S)
            from agents.realtime.model_inputs import RealtimeModelSendRawMessage

            await session.model.send_event(
                RealtimeModelSendRawMessage(message={"type": "input_audio_buffer.commit"})
            )

        tally.start()
        if mode in ("send", "duplex"):
            await asyncio.gather(receive(), send())
        else:
            await receive()
        tally.stop()
    if TOOL_RUNS[0] - tools_before != tally.tools:
        tally.tools = -1  # a tool's end without its run
    return tally


# -- ours -----------------------------------------------------------------------------------------


def _ours_agent() -> Any:
    from realtime_sansio.protocol import Agent, function_tool

    return Agent(name="Bench", instructions="Be brief.", tools=[function_tool(get_weather)])


def _ours_config() -> Any:
    from realtime_sansio.protocol import RunConfig, SessionModelSettings, TurnDetectionConfig

    # The script's VAD events are no barge-in: the audio before them is heard whole.
    vad = TurnDetectionConfig(type="server_vad", interrupt_response=False)
    return RunConfig(model_settings=SessionModelSettings(turn_detection=vad))


async def ours_round(url: str, mode: str, want: dict[str, int]) -> Tally:
    import anyio
    from realtime_sansio.protocol import ModelConfig, events, wire
    from realtime_sansio.transports.runner import run

    tally = Tally()
    chunks = user_chunks()
    tools_before = TOOL_RUNS[0]
    config = ModelConfig(url=url, api_key=API_KEY)
    async with run(_ours_agent(), config=_ours_config(), model_config=config) as session:

        async def receive() -> None:
            await session.send_message("What is the weather in Paris?")
            async for event in session:
                if isinstance(event, events.RawModelEvent):
                    data = event.data
                    if isinstance(data, wire.InputAudioBufferCommitted) and tally.counted(
                        data.item_id
                    ):
                        if tally.done(mode, want):
                            return
                        continue
                    tally.frames += 1
                elif isinstance(event, events.AudioEvent):
                    tally.audio += len(event.data)
                elif isinstance(event, events.ToolEndEvent):
                    tally.tools += 1
                elif isinstance(event, events.EventsDroppedEvent):
                    raise AssertionError(f"the subscriber lost events: {event}")
                if tally.done(mode, want):
                    return

        async def send() -> None:
            for index, chunk in enumerate(chunks, 1):
                await session.send_audio(chunk)
                if mode == "duplex" and index % PACE_UP_EVERY == 0:
                    await anyio.sleep(PACE_DOWN_S)
            await session.send_raw_event({"type": "input_audio_buffer.commit"})

        tally.start()
        if mode in ("send", "duplex"):
            async with anyio.create_task_group() as group:
                group.start_soon(send)
                await receive()
        else:
            await receive()
        tally.stop()
    if TOOL_RUNS[0] - tools_before != tally.tools:
        tally.tools = -1  # a tool's end without its run
    return tally


async def ours_memory(url: str) -> float:
    """Bytes of Python memory per idle session (connected, started, at rest)."""
    import anyio
    from realtime_sansio.protocol import ModelConfig
    from realtime_sansio.transports.runner import run

    config = ModelConfig(url=url, api_key=API_KEY)
    agent = _ours_agent()
    opened = [0]
    release = anyio.Event()

    async def one() -> None:
        async with run(agent, model_config=config):
            opened[0] += 1
            await release.wait()

    async with anyio.create_task_group() as group:
        group.start_soon(one)  # a first session: what is allocated once per process
        while opened[0] < 1:
            await anyio.sleep(0.01)
        await anyio.sleep(0.05)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for _ in range(MEMORY_SESSIONS):
            group.start_soon(one)
        while opened[0] < MEMORY_SESSIONS + 1:
            await anyio.sleep(0.01)
        await anyio.sleep(0.1)  # at rest: every handshake and session.update done
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        release.set()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    return grown / MEMORY_SESSIONS


# -- the clients' child processes ---------------------------------------------------------------

Round = Callable[[str, str, dict[str, int]], Awaitable[Tally]]


def _version(name: str) -> str:
    return importlib.metadata.version(name)


def _speed(on: bool) -> bool:
    """Force the codec's path; False when the speed extra is asked for but not installed."""
    try:
        from realtime_sansio.protocol.wire import speedups
    except ImportError:  # a version without the switch: the stdlib path only
        return not on
    return speedups.use(on) == on


CLIENTS: dict[str, tuple[str, str]] = {
    # name: (label, backend)
    "floor": ("websockets + json + base64 (floor)", "asyncio"),
    "openai": ("openai-python {openai}", "asyncio"),
    "agents": ("openai-agents {openai-agents}", "asyncio"),
    "ours-asyncio": ("realtime-sansio, asyncio", "asyncio"),
    "ours-trio": ("realtime-sansio, trio", "trio"),
    "ours-asyncio-speed": ("realtime-sansio, asyncio, speed extra", "asyncio"),
    "ours-trio-speed": ("realtime-sansio, trio, speed extra", "trio"),
}


def client_main(name: str, port: int) -> None:
    """A client's child process: a round per line of stdin, a JSON line of figures each."""
    import anyio

    if name.startswith("ours") and not _speed(name.endswith("-speed")):
        print(json.dumps({"unavailable": "the speed extra is not installed"}), flush=True)
        return
    rounds: dict[str, Round] = {"floor": floor_round, "openai": openai_round}
    rounds["agents"] = agents_round
    play = rounds.get(name, ours_round)
    backend = CLIENTS[name][1]
    want = expected()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        mode = line.strip()
        url = f"ws://127.0.0.1:{port}/v1/realtime?model={mode}"
        if mode == "memory":
            size = anyio.run(ours_memory, url, backend=backend)
            print(json.dumps({"memory": size}), flush=True)
            continue
        tally = anyio.run(play, url, mode, want, backend=backend)
        print(json.dumps(tally.report(mode, want)), flush=True)


class Child:
    """A child process of this script speaking JSON lines."""

    def __init__(self, *args: str) -> None:
        command = [sys.executable, os.path.abspath(__file__), *args]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the child {self.process.args!r} ended")
        return json.loads(line)

    def ask(self, mode: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(mode + "\n")
        self.process.stdin.flush()
        return self.read()

    def end(self) -> None:
        self.process.kill()
        self.process.wait()


def label(name: str) -> str:
    text = CLIENTS[name][0]
    for package in ("openai", "openai-agents"):
        text = text.replace("{" + package + "}", _version(package))
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="counted rounds (one more warms up)")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--clients", nargs="+", choices=list(CLIENTS), default=list(CLIENTS))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", choices=list(CLIENTS), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if args.client:
        client_main(args.client, args.port)
        return 0

    started = time.perf_counter()
    want = expected()
    names = ["floor", *(name for name in args.clients if name != "floor")]
    server = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve"], stdout=subprocess.PIPE, text=True
    )
    children: dict[str, Child] = {}
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        for name in names:
            child = Child("--client", name, "--port", str(port))
            if "unavailable" in child.read():
                child.end()
                print(f"({label(name)}: the speed extra is not installed)")
                continue
            children[name] = child
        ratios: dict[tuple[str, str], list[float]] = {}
        floor_cpu: dict[str, list[float]] = {}
        for index in range(args.rounds + 1):
            for mode in args.modes:
                cpus: dict[str, float] = {}
                for name, child in children.items():
                    answer = child.ask(mode)
                    if answer["problems"]:
                        raise SystemExit(f"{name} {mode}: {'; '.join(answer['problems'])}")
                    cpus[name] = answer["cpu"]
                if index == 0:
                    continue  # warm-up
                floor_cpu.setdefault(mode, []).append(cpus["floor"])
                for name, cpu in cpus.items():
                    ratios.setdefault((name, mode), []).append(cpu / cpus["floor"])
        memory = {
            name: child.ask("memory")["memory"]
            for name, child in children.items()
            if name.startswith("ours")
        }
    finally:
        for child in children.values():
            child.end()
        server.kill()
        server.wait()

    print(
        f"python {sys.version.split()[0]}; {want['frames']} server frames ({AUDIO_SECONDS:g} s of"
        f" audio, {want['tools']} tool calls), {APPENDS} appends of 20 ms; {args.rounds} rounds;"
    )
    print("client CPU per round vs the floor's in the same round (median of the ratios)\n")
    print(f"    {'client':<40}" + "".join(f"{mode:>8}" for mode in args.modes))
    for name in children:
        cells = "".join(f"{statistics.median(ratios[(name, mode)]):>7.2f}x" for mode in args.modes)
        print(f"    {label(name):<40}{cells}")
    print()
    floor_line = []
    for mode in args.modes:
        cpu = statistics.median(floor_cpu[mode])
        count = APPENDS if mode == "send" else want["frames"]
        floor_line.append(
            f"{mode} {cpu / count * 1e6:.1f} us/{'append' if mode == 'send' else 'frame'}"
        )
    print("    the floor's CPU: " + ", ".join(floor_line))
    if "agents" in children:
        for mode in ("burst", "paced"):
            if mode not in args.modes:
                continue
            theirs = median(ratios[("agents", mode)])
            versus = [
                f"{name.removeprefix('ours-')} {median(ratios[(name, mode)]) / theirs:.2f}x"
                for name in children
                if name.startswith("ours")
            ]
            print(f"    ours vs openai-agents, {mode}: " + ", ".join(versus))
    if "duplex" in args.modes:
        per_core = []
        for name in children:
            cpu = statistics.median(floor_cpu["duplex"]) * statistics.median(
                ratios[(name, "duplex")]
            )
            per_core.append(f"{name} {AUDIO_SECONDS / cpu:,.0f}")
        print("    sessions per core (duplex, 24 kHz both ways): " + ", ".join(per_core))
    for name, size in memory.items():
        print(f"    idle session memory, {name}: {size / 1024:.1f} KiB (tracemalloc)")
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
