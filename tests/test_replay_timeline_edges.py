"""The replay command and the ``ReplayTransport`` on recordings written by hand: how the
timeline shows a message with images, the application's commands and runs of audio; what a
frames-only timeline says of errors and garbage; references that are not what they must be;
and a transport that plays a recorded close, compares a frame that is not JSON, and keeps to
the connection it was given."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from realtime_sansio.protocol import Agent, inputs
from realtime_sansio.protocol.items import InputImage, InputText, UserMessage
from realtime_sansio.protocol.recording import (
    Recording,
    RecordingError,
    closed_line,
    connected_line,
    frame_line,
    header_line,
    input_line,
)
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.replay import ReplayMismatch, ReplayTransport, replay_command

AGENT = Agent(name="Greeter", instructions="Greet.")
NOT_AN_AGENT = 42


def write(path: Path, *entries: dict[str, Any], source: str = "session") -> str:
    header = header_line(
        side="client",
        source=source,  # type: ignore[arg-type]
        clock_start=100.0,
        dialect="ga",
        audio="keep",
        agent="Greeter",
        agent_ref=f"{__name__}:AGENT",
    )
    path.write_text("".join(json.dumps(line) + "\n" for line in (header, *entries)))
    return str(path)


def given(t: float, event: inputs.Input) -> dict[str, Any]:
    return input_line(t, event, clock_start=100.0, audio="keep")


def test_the_timeline_shows_messages_commands_and_audio_runs(tmp_path: Path) -> None:
    picture = UserMessage(
        content=(InputText(text="What is this?"), InputImage(image_url="data:image/png;base64,"))
    )
    path = write(
        tmp_path / "r.jsonl",
        connected_line(0.0),
        given(1.0, inputs.SendMessage(message=picture)),
        given(2.0, inputs.SendAudio(data=bytes(24_000), commit=False)),
        given(2.5, inputs.SendAudio(data=bytes(24_000), commit=True)),
        given(3.0, inputs.SendAudio(data=bytes(48_000))),
        given(4.0, inputs.SendRawEvent(event={"type": "response.create"})),
        given(5.0, inputs.UpdateAgent(agent=AGENT)),
        given(6.0, inputs.Interrupt()),
    )
    out = io.StringIO()
    replay_command(path, out)
    text = out.getvalue()
    assert "What is this? (with images)" in text
    assert "(audio) 1.0 s" in text  # the first run: two chunks, then the commit ends it
    assert text.count("(audio) 1.0 s") == 2  # the second run: one chunk
    assert "application: SendRawEvent response.create" in text
    assert "application: UpdateAgent Greeter" in text
    assert "application: Interrupt" in text


def test_a_frames_timeline_shows_errors_and_garbage(tmp_path: Path) -> None:
    error = {
        "type": "error",
        "event_id": "e",
        "error": {"type": "invalid_request_error", "code": "bad", "message": "no"},
    }
    path = write(
        tmp_path / "r.jsonl",
        connected_line(0.0),
        frame_line(0.5, "server", error, audio="keep"),
        frame_line(0.6, "server", "{not json", audio="keep"),
        closed_line(1.0, 1000, ""),
        source="transport",
    )
    out = io.StringIO()
    assert replay_command(path, out) is None
    text = out.getvalue()
    assert "(a transport's recording holds frames only" in text
    assert "server error: bad: no" in text
    assert "server (not JSON)" in text
    with pytest.raises(ValueError, match=r"cannot check .*: a transport's recording holds frames"):
        replay_command(path, io.StringIO(), check=True)


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("no_colon_here", "is not a MODULE:NAME reference"),
        (f"{__name__}:NOT_AN_AGENT", "is a int, not a Agent"),
        (f"{__name__}:MISSING", "cannot load it"),
    ],
)
def test_references_that_are_not_an_agent(tmp_path: Path, ref: str, says: str) -> None:
    path = write(tmp_path / "r.jsonl", connected_line(0.0))
    with pytest.raises(ValueError, match=says):
        replay_command(path, io.StringIO(), agent_ref=ref)


def recording(*entries: dict[str, Any]) -> Recording:
    header = header_line(
        side="client", source="transport", clock_start=0.0, dialect="ga", audio="keep"
    )
    return Recording.parse(json.dumps(line) for line in (header, *entries))


@pytest.mark.anyio
async def test_the_transport_plays_a_recorded_close() -> None:
    played = recording(
        connected_line(0.0),
        frame_line(0.1, "server", {"type": "session.created", "event_id": "e"}, audio="keep"),
        closed_line(0.2, 4000, "gone"),
    )
    async with ReplayTransport(played) as transport:
        assert json.loads(await transport.receive())["type"] == "session.created"
        with pytest.raises(ConnectionClosed) as closed:
            await transport.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "gone")
        with pytest.raises(ConnectionClosed):
            await transport.send("{}")


@pytest.mark.anyio
async def test_a_frame_that_is_not_json_is_compared_as_text() -> None:
    played = recording(connected_line(0.0), frame_line(0.1, "client", {"type": "x"}, audio="keep"))
    async with ReplayTransport(played) as transport:
        with pytest.raises(ReplayMismatch, match=r'expected \{"type": "x"\}, got "not json"'):
            await transport.send("not json")


def test_the_transport_keeps_to_its_connection() -> None:
    played = recording(
        connected_line(0.0),
        frame_line(0.1, "client", {"type": "first"}, audio="keep"),
        closed_line(0.2, 1006, ""),
        connected_line(1.0),
        frame_line(1.1, "client", {"type": "second"}, audio="keep"),
    )
    second = ReplayTransport(played, connection=1)
    assert second.mismatch is None
    with pytest.raises(RecordingError, match="holds 2 connection\\(s\\): there is no connection 2"):
        ReplayTransport(played, connection=2)
