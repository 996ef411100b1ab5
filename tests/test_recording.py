"""Recordings: the format (inputs and frames to lines and back, audio elided, errors named by
line), the writer's bounds, the key never written, and the taps over memory and a real
WebSocket (client side, and serve_fake's server side), on asyncio and trio."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import anyio
import pytest
from config_strategies import model_settings
from hypothesis import given
from realtime_sansio.protocol import (
    Agent,
    ModelConfig,
    SessionModelSettings,
    events,
    function_tool,
    inputs,
    wire,
)
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.protocol.items import user_message
from realtime_sansio.protocol.recording import (
    ClosedEntry,
    ConnectedEntry,
    FrameEntry,
    InputEntry,
    Recording,
    RecordingError,
    agents_by_name,
    decode_input,
    elide_audio,
    encode_input,
    frame_line,
    restore_audio,
)
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.recording import Recorder, RecordingTransport
from realtime_sansio.transports.runner import run
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.websocket import WebSocketTransport
from runner_helpers import GREETER, SUPPORT, collect_until, turn_over

SECRET = "sk-proj-" + "Q" * 40
START = 1000.0


def _round_trip(event: inputs.Input, audio: Any = "keep") -> inputs.Input:
    obj = json.loads(json.dumps(encode_input(event, clock_start=START, audio=audio)))
    return decode_input(obj, agents=agents_by_name(GREETER), clock_start=START)


@pytest.mark.parametrize(
    "event",
    [
        inputs.SendMessage(message="Hello"),
        inputs.SendMessage(message=user_message("Look", ["https://example.com/a.png"])),
        inputs.SendAudio(data=b"\x01\x02" * 100, commit=True),
        inputs.ClearAudio(),
        inputs.Interrupt(force_cancel=True),
        inputs.UpdateAgent(agent=SUPPORT),
        inputs.SendRawEvent(event=wire.ResponseCreate(response={"conversation": "none"})),
        inputs.SendRawEvent(event={"type": "response.create", "response": {"x": 1}}),
        inputs.AudioPlayed(item_id="item_1", content_index=0, ms=120.5),
        inputs.ToolResult(call_id="call_1", output="Sunny", failed=False),
        inputs.ApproveTool(call_id="call_1"),
        inputs.RejectTool(call_id="call_1", message="no"),
        inputs.GuardrailResult(run_id="g1", tripped=("no_paris",), output_info=({"why": 1},)),
        inputs.InstructionsResolved(request_id="r1", instructions="Be brief.", error=None),
        inputs.TimerFired(now=START + 12.25),
        inputs.Close(),
    ],
    ids=lambda event: type(event).__name__,
)
def test_each_input_reads_back_as_itself(event: inputs.Input) -> None:
    assert _round_trip(event) == event


@given(model_settings)
def test_session_updates_read_back_as_themselves(settings: SessionModelSettings) -> None:
    assert _round_trip(inputs.UpdateSession(settings=settings)) == inputs.UpdateSession(
        settings=settings
    )


def test_what_json_cannot_hold_is_written_as_its_repr() -> None:
    event = inputs.GuardrailResult(run_id="g1", tripped=("x",), output_info=(object,))
    back = _round_trip(event)
    assert isinstance(back, inputs.GuardrailResult)
    assert back.output_info == (repr(object),)


def test_an_agent_the_replay_does_not_know_is_named() -> None:
    obj = encode_input(inputs.UpdateAgent(agent=Agent(name="Ghost")), clock_start=0, audio="keep")
    with pytest.raises(RecordingError, match=r"line 7: .*'Ghost'.*knows: Greeter, Support"):
        decode_input(obj, agents=agents_by_name(GREETER), clock_start=0, line=7)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_audio_is_elided_to_its_length_and_restored_as_silence() -> None:
    append = {"type": "input_audio_buffer.append", "audio": _b64(b"\x07" * 960)}
    delta = {"type": "response.output_audio.delta", "delta": _b64(b"\x07" * 5), "item_id": "i"}
    item = {
        "type": "conversation.item.create",
        "item": {"type": "message", "content": [{"type": "input_audio", "audio": _b64(b"ab")}]},
    }
    assert elide_audio(append)["audio"] == "<960 bytes elided>"
    assert elide_audio(delta) == {**delta, "delta": "<5 bytes elided>"}
    assert elide_audio(item)["item"]["content"][0]["audio"] == "<2 bytes elided>"
    assert elide_audio(elide_audio(append)) == elide_audio(append)
    assert restore_audio(elide_audio(append))["audio"] == _b64(bytes(960))
    assert append["audio"] == _b64(b"\x07" * 960)  # the frame itself is left alone
    elided = _round_trip(inputs.SendAudio(data=b"\x07" * 960), audio="elide")
    assert elided == inputs.SendAudio(data=bytes(960))


def test_a_frame_that_is_not_json_is_kept_as_text() -> None:
    line = frame_line(0.5, "server", "{not json", audio="keep")
    assert line == {"kind": "frame", "t": 0.5, "from": "server", "text": "{not json"}


HEADER = (
    '{"kind":"header","format":"realtime-sansio recording","version":1,"side":"client",'
    '"source":"session","clock_start":5.0,"dialect":"ga","audio":"keep"}'
)


def test_a_recording_parses_into_its_entries() -> None:
    recording = Recording.parse(
        [
            HEADER,
            '{"kind":"connected","t":0}',
            '{"kind":"frame","t":0.1,"from":"client","frame":{"type":"session.update"}}',
            "",
            '{"kind":"input","t":0.2,"input":{"type":"Close"}}',
            '{"kind":"closed","t":0.3,"code":1006,"reason":"gone"}',
        ]
    )
    assert recording.header.clock_start == 5.0
    kinds = [type(entry) for entry in recording.entries]
    assert kinds == [ConnectedEntry, FrameEntry, InputEntry, ClosedEntry]
    assert recording.entries[-1] == ClosedEntry(line=6, t=0.3, code=1006, reason="gone")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "an empty file"),
        (['{"kind":"frame"}'], "line 1: not a realtime-sansio recording"),
        ([HEADER.replace('"version":1', '"version":9')], "line 1: .*version 9.*reads version 1"),
        ([HEADER.replace('"side":"client"', '"side":"x"')], "line 1: side must be"),
        ([HEADER, "{"], "line 2: not JSON"),
        ([HEADER, "[]"], "line 2: not a JSON object"),
        ([HEADER, '{"kind":"frame","t":1,"from":"client"}'], "line 2: a frame line"),
        ([HEADER, '{"kind":"input","t":1,"input":{}}'], "line 2: an input without a type"),
        ([HEADER, '{"kind":"nap","t":1}'], "line 2: unknown kind 'nap'"),
    ],
)
def test_a_bad_recording_names_its_line(lines: list[str], message: str) -> None:
    with pytest.raises(RecordingError, match=message):
        Recording.parse(lines)


# -- the writer ----------------------------------------------------------------------------------


def test_an_in_memory_recorder_keeps_its_last_lines() -> None:
    recorder = Recorder(max_lines=3)
    recorder.start(side="client", source="session", clock_start=10.0)
    for index in range(5):
        recorder.input(inputs.ToolResult(call_id=f"c{index}", output=""), 10.0 + index)
    assert [json.loads(line)["input"]["call_id"] for line in recorder.lines] == ["c2", "c3", "c4"]


def test_a_file_recorder_writes_each_line_as_it_happens(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    recorder = Recorder(path, max_lines=10)
    recorder.start(side="client", source="session", clock_start=2.0)
    recorder.connected(2.5)
    lines = path.read_text().splitlines()  # before close: nothing waits in a buffer
    assert json.loads(lines[1]) == {"kind": "connected", "t": 0.5}
    assert not recorder.lines  # a file recording keeps nothing in memory
    recorder.close()
    recorder.close()


def test_a_recorder_redacts_with_the_driver_s_redactor_too() -> None:
    recorder = Recorder(redact=lambda text: text.replace("gateway-token-1", "<redacted>"))
    recorder.start(side="client", source="session", clock_start=0.0)
    recorder.input(inputs.SendMessage(message=f"gateway-token-1 and {SECRET}"), 1.0)
    (_, line) = recorder.lines
    assert json.loads(line)["input"]["message"] == "<redacted> and <redacted>"


def test_a_recorder_path_that_cannot_be_written_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        Recorder(tmp_path / "missing" / "r.jsonl")


@function_tool
def leak_key(city: str) -> str:
    """Get the weather for a city."""
    return f"Sunny in {city}; debug: key={SECRET}"


@pytest.mark.anyio
async def test_the_key_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not from the config or the environment, not where a frame or an input holds it whole
    (here a tool's output, and the user's message). A model streaming it back in pieces, one
    delta frame each, is beyond what a line's redaction can see (docs/recording.md)."""
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    path = tmp_path / "secret.jsonl"
    agent = Agent(name="Leaky", instructions="Use leak_key for the weather.", tools=[leak_key])
    config = ModelConfig(api_key=SECRET)
    async with run(agent, model_config=config, transport=FakeServerTransport(), record=path) as s:
        await s.send_message(f"What's the weather in Paris? My key is {SECRET}")
        seen = await collect_until(s, turn_over(s))
    assert [e.output for e in seen if isinstance(e, events.ToolEndEvent)] == [
        f"Sunny in Paris; debug: key={SECRET}"
    ]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert not [line for line in lines if SECRET in json.dumps(line)]
    (result,) = [
        line["input"] for line in lines if line.get("input", {}).get("type") == "ToolResult"
    ]
    assert result["output"] == "Sunny in Paris; debug: key=<redacted>"
    said = [line["input"]["message"] for line in lines if "message" in line.get("input", {})]
    assert said == ["What's the weather in Paris? My key is <redacted>"]


# -- the taps, in memory and over a real WebSocket ------------------------------------------------


def _frames(path: Path, origin: str) -> list[dict[str, Any]]:
    recording = Recording.parse(path.read_text().splitlines())
    return [entry.frame for entry in recording.frames(origin) if entry.frame is not None]


@pytest.mark.anyio
async def test_a_transport_recording_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "memory.jsonl"
    tap = RecordingTransport(FakeServerTransport(), path, max_frames=1000)
    async with run(GREETER, transport=tap) as session:
        await session.send_message("Hello")
        await collect_until(session, turn_over(session))
    recording = Recording.parse(path.read_text().splitlines())
    assert (recording.header.side, recording.header.source) == ("client", "transport")
    assert _frames(path, "client") == [json.loads(text) for text in tap.sent]
    assert _frames(path, "server") == [json.loads(text) for text in tap.received]
    assert isinstance(recording.entries[0], ConnectedEntry)
    assert isinstance(recording.entries[-1], ClosedEntry)


@pytest.mark.anyio
async def test_a_transport_with_a_path_keeps_no_frames_in_memory(tmp_path: Path) -> None:
    tap = RecordingTransport(FakeServerTransport(), tmp_path / "r.jsonl")
    async with run(GREETER, transport=tap) as session:
        await session.send_message("Hello")
        await collect_until(session, turn_over(session))
    assert not tap.sent and not tap.received


async def _serve_recorded(directory: Path, task_group: anyio.abc.TaskGroup) -> str:
    ready = anyio.Event()
    ports: list[int] = []

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    async def serve() -> None:
        await serve_fake(
            "127.0.0.1", 0, config=FakeServerConfig(), ready=on_ready, record_dir=directory
        )

    task_group.start_soon(serve)
    await ready.wait()
    return f"ws://127.0.0.1:{ports[0]}"


@pytest.mark.anyio
async def test_both_sides_over_a_real_websocket(tmp_path: Path) -> None:
    """The client records through a RecordingTransport over the socket, serve_fake records the
    same connection on its side: the two files hold the same frames, the key in neither (the
    handshake, where it travels, is below the frames)."""
    server_dir = tmp_path / "server"
    client_path = tmp_path / "client.jsonl"
    async with anyio.create_task_group() as task_group:
        url = await _serve_recorded(server_dir, task_group)
        config = ModelConfig(url=url, api_key=SECRET)
        socket = WebSocketTransport(
            f"{url}/v1/realtime?model=x", headers=[("Authorization", f"Bearer {SECRET}")]
        )
        tap = RecordingTransport(socket, client_path, secrets=[SECRET])
        async with run(GREETER, model_config=config, transport=tap) as session:
            await session.send_message("What's the weather in Paris?")
            await collect_until(session, turn_over(session))
        with anyio.fail_after(5):
            while not any(server_dir.iterdir()) or not _closed(next(server_dir.iterdir())):
                await anyio.sleep(0.01)
        task_group.cancel_scope.cancel()
    (server_path,) = server_dir.iterdir()
    server = Recording.parse(server_path.read_text().splitlines())
    assert server.header.side == "server"
    assert _frames(server_path, "client") == _frames(client_path, "client")
    # The server may have sent a last frame or two the client closed before reading.
    received = _frames(client_path, "server")
    assert _frames(server_path, "server")[: len(received)] == received
    for path in (server_path, client_path):
        assert SECRET not in path.read_text()


def _closed(path: Path) -> bool:
    lines = path.read_text().splitlines()
    return bool(lines) and json.loads(lines[-1])["kind"] == "closed"


@pytest.mark.anyio
async def test_serve_fake_records_each_connection_in_a_file_that_sorts_by_time(
    tmp_path: Path,
) -> None:
    async with anyio.create_task_group() as task_group:
        url = await _serve_recorded(tmp_path, task_group)
        for text in ("first", "second"):
            config = ModelConfig(url=url, api_key="unused")
            async with run(GREETER, model_config=config) as session:
                await session.send_message(text)
                await collect_until(session, turn_over(session))
        with anyio.fail_after(5):
            while len(os.listdir(tmp_path)) < 2 or not all(map(_closed, tmp_path.iterdir())):
                await anyio.sleep(0.01)
        task_group.cancel_scope.cancel()
    names = sorted(os.listdir(tmp_path))
    said = [_frames(tmp_path / name, "client")[1]["item"]["content"][0]["text"] for name in names]
    assert said == ["first", "second"]


def test_serve_fake_record_into_a_folder_that_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("")
    assert main(["serve-fake", "--port", "0", "--record", str(taken / "sub")]) == 1
    assert capsys.readouterr().err == (
        f"realtime-sansio: error: cannot record in {taken / 'sub'}: Not a directory\n"
    )
