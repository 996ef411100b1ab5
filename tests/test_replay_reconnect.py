"""Recordings of a session that changes connections, and their replay.

A recording made by the driver (``run(record=...)``) holds a ``connected`` line per connection
and a ``closed`` line for each drop, with the failed attempts between them as inputs. Replayed
into a fresh Session with the same RunConfig, it asks for each new connection at the same
input the recorded one did, so the second ``Connected`` is expected and the check passes; with
another config, the replay names the connection it did not ask for. Recorded on a virtual
clock, on asyncio and trio.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from realtime_sansio.protocol import Agent, RunConfig, Session
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.protocol.replay import replay
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.memory import FakeServerConnections
from realtime_sansio.transports.recording import Recorder
from realtime_sansio.transports.replay import read_recording
from realtime_sansio.transports.runner import run
from test_reconnect_driver import answered, failing_once
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

PLAIN = Agent(name="Plain", instructions="Be brief.")
RECYCLING = RunConfig(recycle_after_s=50.0)
REFS = {
    "agent_ref": "test_replay_reconnect:PLAIN",
    "config_ref": "test_replay_reconnect:RECYCLING",
}


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


def kinds(path: Path) -> list[str]:
    """The recording's connection lines and failed attempts, in order."""
    seen = []
    for line in path.read_text().splitlines():
        obj = json.loads(line)
        if obj["kind"] in ("connected", "closed"):
            seen.append(f"{obj['kind']} {obj.get('code', '')}".strip())
        elif obj["kind"] == "input" and obj["input"]["type"] == "ConnectFailed":
            seen.append("ConnectFailed")
    return seen


@pytest.mark.anyio
async def test_a_reconnecting_session_is_recorded_and_replays_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], anyio_backend: object
) -> None:
    path = tmp_path / "reconnected.jsonl"
    factory, _ = failing_once(OSError("Network is unreachable"))
    async with run(
        PLAIN, config=RECYCLING, transport_factory=factory, record=Recorder(path, **REFS)
    ) as session:
        await answered(session, "first")
        await answered(session, "second")
    assert kinds(path) == ["connected", "closed 1006", "ConnectFailed", "connected"]
    result = replay(read_recording(path), Session(PLAIN, config=RECYCLING))
    assert result.mismatch is None and result.frames > 0
    assert main(["replay", str(path), "--check"]) == 0
    out = capsys.readouterr().out
    assert "connection lost (connection closed (code 1006)" in out
    # The second line names the failed attempt, not a lost connection.
    assert "attempt 1 failed (OSError: Network is unreachable): reconnecting, attempt 2" in out
    assert "reconnected:" in out
    assert "check passed" in out


@pytest.mark.anyio
async def test_a_recycled_session_replays_with_its_config_and_names_the_move_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], anyio_backend: object
) -> None:
    path = tmp_path / "recycled.jsonl"
    connections = FakeServerConnections(FakeServerConfig(brain=False, max_session_s=60.0))
    recorder = Recorder(path, **REFS)
    async with run(
        PLAIN, config=RECYCLING, transport_factory=connections, record=recorder
    ) as session:
        for turn in range(4):
            if turn:
                await anyio.sleep(20)
            await answered(session, f"turn {turn}")
    assert kinds(path) == ["connected", "connected"]  # the old one is left, not lost
    assert main(["replay", str(path), "--check"]) == 0
    assert "recycled" in capsys.readouterr().out
    # Replayed with the default config, the session stays where it was at 50 s.
    result = replay(read_recording(path), Session(PLAIN))
    assert result.mismatch is not None and result.mismatch.refused is not None
    assert result.mismatch.refused.startswith(
        "the recording opens a new connection at t=50 s and the session asked for none"
    )
    assert "recycle_after_s=3300.0, reconnect on" in result.mismatch.refused
