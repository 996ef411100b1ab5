"""The recorder's own rules: a known audio policy, one header however often it is started
(a reconnecting session keeps its recorder), no line before the header, secrets added later
kept out too; and a recording transport whose send finds the connection closed still ends
its recording with one ``closed`` line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realtime_sansio.protocol.recording import Recording
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.recording import Recorder, RecordingTransport


def test_the_audio_policy_is_keep_or_elide() -> None:
    with pytest.raises(ValueError, match="audio must be 'keep' or 'elide', not 'drop'"):
        Recorder(audio="drop")  # type: ignore[arg-type]


def test_one_header_and_nothing_before_it() -> None:
    recorder = Recorder(max_lines=10)
    with pytest.raises(RuntimeError, match=r"Recorder\.start\(\) first"):
        recorder.connected(1.0)
    assert not recorder.started
    recorder.start(side="client", source="session", clock_start=5.0)
    recorder.start(side="client", source="session", clock_start=9.0)  # a reconnection
    assert recorder.started
    recorder.connected(6.0)
    recording = Recording.parse(recorder.lines)
    assert recording.header.clock_start == 5.0
    assert [entry.t for entry in recording.entries] == [1.0]


def test_secrets_added_later_are_kept_out() -> None:
    recorder = Recorder(max_lines=10)
    recorder.add_secrets(None, "ek_late_secret_value")
    recorder.start(side="client", source="session", clock_start=0.0)
    recorder.frame("server", {"type": "x", "event_id": "ek_late_secret_value"}, 0.5)
    assert "ek_late_secret_value" not in "".join(recorder.lines)


@pytest.mark.anyio
async def test_a_send_on_a_closed_connection_ends_the_recording(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    tap = RecordingTransport(FakeServerTransport(), path)
    async with tap:
        await tap.inner.close(1000, "bye")
        with pytest.raises(ConnectionClosed):
            await tap.send(json.dumps({"type": "response.create"}))
    kinds = [json.loads(line)["kind"] for line in path.read_text().splitlines()]
    assert kinds[:2] == ["header", "connected"]
    assert kinds.count("closed") == 1 and kinds[-1] == "closed"
