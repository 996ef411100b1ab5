"""Replaying recordings: each demo turn recorded and replayed exactly (the pure replay, the
``ReplayTransport`` and ``realtime-sansio replay --check``), on asyncio and trio; a mutated
recording fails naming the frame; elided audio; times that matter, injected."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import settings
from realtime_sansio.protocol import (
    PCM16,
    Agent,
    ModelConfig,
    RunConfig,
    Session,
    events,
    function_tool,
)
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig
from realtime_sansio.protocol.recording import Recording
from realtime_sansio.protocol.replay import ReplayResult, replay
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.demo import (
    DEMO_CONFIG,
    GREETER,
    HANDOFF_PROMPT,
    SPOKEN_PROMPT,
    TEXT_PROMPT,
    DemoOptions,
    load_user_audio,
    run_demo,
)
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.recording import Recorder
from realtime_sansio.transports.replay import ReplayMismatch, ReplayTransport
from realtime_sansio.transports.runner import RealtimeSession, run
from realtime_sansio.transports.serve import serve_fake
from runner_helpers import chunks, collect_until, of, turn_over
from test_session_stateful import GUARDRAILS, HelperMachine, helper
from trio.testing import MockClock

pytestmark = pytest.mark.anyio

Turn = Callable[[RealtimeSession], Awaitable[list[events.SessionEvent]]]


async def text_and_tool(session: RealtimeSession) -> list[events.SessionEvent]:
    await session.send_message(TEXT_PROMPT)
    return await collect_until(session, turn_over(session))


async def audio_through_vad(session: RealtimeSession) -> list[events.SessionEvent]:
    for chunk in chunks(load_user_audio(None).pcm):
        await session.send_audio(chunk)
    return await collect_until(session, turn_over(session))


async def handoff(session: RealtimeSession) -> list[events.SessionEvent]:
    await session.send_message(HANDOFF_PROMPT)
    return await collect_until(session, turn_over(session))


TURNS = {"text and tool": text_and_tool, "audio through VAD": audio_through_vad, "handoff": handoff}
FAKE = FakeServerConfig(transcripts={0: SPOKEN_PROMPT})


async def record(turn: Turn, recorder: Recorder | None = None) -> list[str]:
    """The lines of a recording of ``turn`` with the demo's agent, against the fake in memory."""
    recorder = recorder or Recorder()
    transport = FakeServerTransport(FakeRealtimeServer(FAKE))
    async with run(GREETER, config=DEMO_CONFIG, transport=transport, record=recorder) as session:
        seen = await turn(session)
    assert of(seen, events.AgentEndEvent)  # the turn happened
    return list(recorder.lines)


def check(
    lines: list[str], agent: Agent = GREETER, config: RunConfig = DEMO_CONFIG
) -> ReplayResult:
    return replay(Recording.parse(lines), Session(agent, config=config))


@pytest.mark.parametrize("name", TURNS)
async def test_each_demo_turn_replays_exactly(name: str) -> None:
    lines = await record(TURNS[name])
    result = check(lines)
    assert result.ok, result.mismatch and result.mismatch.describe()
    assert result.frames == len(Recording.parse(lines).frames("client")) > 2


@pytest.mark.parametrize("name", TURNS)
async def test_each_demo_turn_replays_through_the_replay_transport(name: str) -> None:
    """The whole client again (driver, tools) against the recorded server frames."""
    transport = ReplayTransport(Recording.parse(await record(TURNS[name])))
    async with run(GREETER, config=DEMO_CONFIG, transport=transport) as session:
        await TURNS[name](session)
    transport.check_complete()


async def test_the_replay_transport_names_the_first_frame_the_client_changes() -> None:
    recording = Recording.parse(await record(text_and_tool))
    transport = ReplayTransport(recording)
    with pytest.raises(ReplayMismatch) as raised:
        async with run(GREETER, config=DEMO_CONFIG, transport=transport) as session:
            await session.send_message("What's the weather in Lyon?")
            await collect_until(session, turn_over(session), timeout=2)
    line = recording.frames("client")[1].line
    assert str(raised.value) == (
        f"client frame 2 (line {line}, conversation.item.create) differs at "
        f'item.content[0].text: expected "{TEXT_PROMPT}", got "What\'s the weather in Lyon?"'
    )
    with pytest.raises(ReplayMismatch):
        transport.check_complete()


async def test_the_replay_transport_notices_frames_never_sent() -> None:
    transport = ReplayTransport(Recording.parse(await record(text_and_tool)))
    async with run(GREETER, config=DEMO_CONFIG, transport=transport):
        pass  # the application never asks its question
    with pytest.raises(ReplayMismatch, match=r"client frame 2 .*got nothing"):
        transport.check_complete()


# -- mutations -----------------------------------------------------------------------------------


def mutate(
    lines: list[str], change: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> list[str]:
    """The lines, each object but the header through ``change`` (None drops it)."""
    changed = [change(json.loads(line)) for line in lines[1:]]
    return [lines[0], *(json.dumps(obj) for obj in changed if obj is not None)]


def _kind(obj: dict[str, Any]) -> str:
    return str((obj.get("frame") or obj.get("input") or {}).get("type", ""))


async def test_a_changed_tool_output_is_named_at_the_frame_it_changes() -> None:
    lines = await record(text_and_tool)

    def change(obj: dict[str, Any]) -> dict[str, Any]:
        if _kind(obj) == "ToolResult":
            obj["input"]["output"] = "Rain in Paris"
        return obj

    mismatch = check(mutate(lines, change)).mismatch
    assert mismatch is not None
    assert mismatch.path == "item.output"
    assert mismatch.expected["item"]["output"] == "Sunny, 21 °C in Paris"
    assert mismatch.got["item"]["output"] == "Rain in Paris"
    assert 'differs at item.output: expected "Sunny, 21 °C in Paris", got "Rain in Paris"' in (
        mismatch.describe()
    )


async def test_a_lost_server_frame_is_an_answer_the_session_refuses() -> None:
    lines = await record(text_and_tool)
    call_done = ("response.function_call_arguments.done", "response.output_item.done")

    def change(obj: dict[str, Any]) -> dict[str, Any] | None:
        return None if _kind(obj) in call_done else obj

    mismatch = check(mutate(lines, change)).mismatch
    assert mismatch is not None and mismatch.refused is not None
    assert "the session refused the recorded ToolResult" in mismatch.describe()


async def test_a_missing_and_an_extra_frame_are_named() -> None:
    lines = await record(text_and_tool)
    last = max(i for i, line in enumerate(lines) if '"from":"client"' in line)
    fewer = check(lines[:last] + lines[last + 1 :]).mismatch
    assert fewer is not None and fewer.expected is None and fewer.line is None
    assert fewer.describe().startswith(
        'client frame 5: expected nothing more (the recording ends), got {"type": "response.create"'
    )
    more = check([*lines, lines[last]]).mismatch
    assert more is not None and more.got is None
    assert more.describe() == (
        f"client frame 6 (line {len(lines) + 1}, response.create): expected "
        f'{{"type": "response.create", "event_id": "rs_3"}}, got nothing (the session sent no more)'
    )


# -- audio and time -------------------------------------------------------------------------------


async def test_elided_audio_replays_as_silence_of_its_length() -> None:
    kept = await record(audio_through_vad)
    elided = await record(audio_through_vad, Recorder(audio="elide"))
    appends = [json.loads(line) for line in elided if "input_audio_buffer.append" in line]
    assert {obj["frame"]["audio"] for obj in appends} >= {"<960 bytes elided>"}
    sent = [json.loads(line)["input"]["data"] for line in elided if '"SendAudio"' in line]
    assert len(sent) == len(appends) and all(data.endswith(" bytes elided>") for data in sent)
    deltas = [json.loads(line) for line in elided if "response.output_audio.delta" in line]
    assert deltas and all(obj["frame"]["delta"].endswith(" bytes elided>") for obj in deltas)
    assert len("".join(elided)) * 4 < len("".join(kept))
    result = check(elided)
    assert result.ok, result.mismatch and result.mismatch.describe()


@function_tool(timeout_s=0.05)
async def get_pollen(city: str) -> str:
    """Get the pollen count for a city."""
    await anyio.sleep_forever()
    return city


async def test_times_are_injected_where_they_matter() -> None:
    """Without playback reports an interruption is cut where the clock says the listener is;
    a tool's timeout is the core's timer: both replay exactly from the recorded times, and a
    time changed in the recording shows."""
    agent = Agent(name="Slow", tools=[get_pollen])

    async def interrupt_then_wait(session: RealtimeSession) -> list[events.SessionEvent]:
        await session.send_message("Tell me something long about the weather today")
        await collect_until(session, lambda e: isinstance(e, events.AudioEvent))
        await anyio.sleep(0.05)
        await session.interrupt()
        seen = await collect_until(session, turn_over(session))
        await session.send_message("pollen in Oslo?")
        return seen + await collect_until(session, turn_over(session))

    recorder = Recorder()
    transport = FakeServerTransport(FakeRealtimeServer(FakeServerConfig(pace=0.2)))
    async with run(agent, transport=transport, record=recorder) as session:
        seen = await interrupt_then_wait(session)
    assert of(seen, events.AudioInterruptedEvent)
    assert "did not answer in time" in of(seen, events.ToolEndEvent)[0].output
    lines = list(recorder.lines)
    assert [line for line in lines if '"type":"TimerFired"' in line]
    assert check(lines, agent, RunConfig()).ok

    def later(obj: dict[str, Any]) -> dict[str, Any]:
        if _kind(obj) == "Interrupt":
            obj["t"] += 0.25  # a quarter second more of the reply heard
        return obj

    mismatch = check(mutate(lines, later), agent, RunConfig()).mismatch
    assert mismatch is not None and mismatch.path == "audio_end_ms", mismatch.describe()


# -- the command ----------------------------------------------------------------------------------


async def test_the_demo_recorded_then_replayed_with_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """All three turns over a real WebSocket: `replay --check` passes and prints the demo's
    own timeline."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("CODEX_API_KEY", raising=False)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))
    path = tmp_path / "demo.jsonl"
    options = DemoOptions(output_path=str(tmp_path / "out.wav"), record_path=str(path))
    await run_demo(options, sys.stdout, sys.stderr)
    demo = capsys.readouterr().out
    assert main(["replay", str(path), "--check"]) == 0
    replayed = capsys.readouterr().out
    assert "check passed: the current code sent the " in replayed
    assert _events(replayed) == _events(demo)
    for text in (
        "tool call get_weather",
        "server VAD: speech started",
        "handoff Greeter -> Support",
    ):
        assert text in replayed


def _events(out: str) -> list[str]:
    """The timeline's lines without their times, the demo's own lines left out."""
    lines = [line.split("s  ", 1)[1] for line in out.splitlines() if "s  " in line[:10]]
    own = ("connected", "connection closed", "user: (audio)")
    return [line for line in lines if not line.startswith(own)]


DEMO_REFS = {
    "agent_ref": "realtime_sansio.transports.demo:GREETER",
    "config_ref": "realtime_sansio.transports.demo:DEMO_CONFIG",
}


async def test_a_changed_recording_fails_the_check_naming_the_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = await record(text_and_tool, Recorder(**DEMO_REFS))

    def change(obj: dict[str, Any]) -> dict[str, Any]:
        if _kind(obj) == "ToolResult":
            obj["input"]["output"] = "Rain in Paris"
        return obj

    path = tmp_path / "changed.jsonl"
    path.write_text("\n".join(mutate(lines, change)) + "\n")
    assert main(["replay", str(path), "--check"]) == 1
    out, err = capsys.readouterr()
    assert "tool get_weather -> Rain in Paris" in out  # the timeline, as recorded
    line = next(i for i, text in enumerate(lines, 1) if '"function_call_output"' in text)
    assert err == (
        f"realtime-sansio: error: replay check failed: client frame 4 (line {line}, "
        'conversation.item.create) differs at item.output: expected "Sunny, 21 °C in Paris", '
        'got "Rain in Paris"\n'
    )


async def test_replay_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "turn.jsonl"
    path.write_text("\n".join(await record(text_and_tool, Recorder(**DEMO_REFS))))
    assert main(["replay", str(path), "--json", "--check"]) == 0
    objects = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    texts = [obj["text"] for obj in objects if "text" in obj]
    assert f"user: {TEXT_PROMPT}" in texts
    assert all(isinstance(obj["t"], float) for obj in objects if "text" in obj)
    assert objects[-2] == {"summary": "2 responses, 1 tool call, 0 handoffs, 0 errors"}
    assert objects[-1]["check"] == "passed" and objects[-1]["mismatch"] is None


async def test_the_agent_given_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "anonymous.jsonl"
    path.write_text("\n".join(await record(handoff)))  # its header names no agent_ref
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "(the recording names no agent (give --agent MODULE:NAME): the frames as recorded)" in out
    )
    assert "client response.create" in out
    assert main(["replay", str(path), "--check"]) == 1
    assert "give --agent MODULE:NAME" in capsys.readouterr().err
    given = ["--agent", DEMO_REFS["agent_ref"], "--config", DEMO_REFS["config_ref"]]
    assert main(["replay", str(path), "--check", *given]) == 0
    assert "handoff Greeter -> Support" in capsys.readouterr().out
    support = "realtime_sansio.transports.demo:SUPPORT"
    assert main(["replay", str(path), "--agent", support]) == 1
    assert (
        "started with agent 'Greeter', realtime_sansio.transports.demo:SUPPORT is agent "
        "'Support'" in capsys.readouterr().err
    )
    assert main(["replay", str(path), "--agent", "realtime_sansio.transports.demo:nothing"]) == 1
    assert "--agent realtime_sansio.transports.demo:nothing: cannot load it" in (
        capsys.readouterr().err
    )


def test_a_file_that_is_not_a_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"kind":"header","format":"realtime-sansio recording","version":1,'
        '"side":"client","source":"session"}\n{oops\n'
    )
    assert main(["replay", str(path)]) == 1
    assert capsys.readouterr().err == f"realtime-sansio: error: {path}: line 2: not JSON\n"
    assert main(["replay", str(tmp_path / "none.jsonl")]) == 1
    assert "no such file" in capsys.readouterr().err


async def test_a_server_side_recording_replays_to_the_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve_fake --record's file: listed by `replay`, not checkable there, and a
    ReplayTransport plays it to the client that made it."""
    ready = anyio.Event()
    ports: list[int] = []

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    async with anyio.create_task_group() as task_group:
        serve = functools.partial(
            serve_fake,
            "127.0.0.1",
            0,
            config=FakeServerConfig(),
            ready=on_ready,
            record_dir=tmp_path,
        )
        task_group.start_soon(serve)
        await ready.wait()
        model_config = ModelConfig(url=f"ws://127.0.0.1:{ports[0]}", api_key="unused")
        async with run(GREETER, config=DEMO_CONFIG, model_config=model_config) as session:
            await text_and_tool(session)
        with anyio.fail_after(5):  # until the server has recorded the end of the connection
            while not [
                path for path in tmp_path.iterdir() if '"kind":"closed"' in path.read_text()
            ]:
                await anyio.sleep(0.01)
        task_group.cancel_scope.cancel()
    (path,) = tmp_path.iterdir()
    assert main(["replay", str(path)]) == 0
    out = capsys.readouterr().out
    assert 'server response.function_call_arguments.done: get_weather {"city": "Paris"}' in out
    assert main(["replay", str(path), "--check"]) == 1
    assert "a server-side recording holds frames only" in capsys.readouterr().err
    transport = ReplayTransport(path)
    async with run(GREETER, config=DEMO_CONFIG, transport=transport) as session:
        await text_and_tool(session)
    transport.check_complete()


@pytest.mark.parametrize(
    "anyio_backend", [pytest.param(("trio", {"clock": MockClock(autojump_threshold=0)}), id="trio")]
)
async def test_a_timed_replay_on_a_virtual_clock_reproduces_the_times() -> None:
    """Trio only: the times come back exact on a virtual clock, which asyncio has not. The
    interruption is cut where the clock says the listener is, so it shows. (No tools: a sync
    tool's worker thread would let the virtual clock jump past every deadline.)"""
    talker = Agent(name="Talker", instructions="Talk.")

    async def barge_in(session: RealtimeSession) -> list[events.SessionEvent]:
        """Interrupt once 300 ms of the reply have arrived (no playback reports)."""
        await session.send_message("Tell me something long about the weather today")
        received = 0

        def enough(event: events.SessionEvent) -> bool:
            nonlocal received
            if isinstance(event, events.AudioEvent):
                received += len(event.data)
            return received >= PCM16.bytes_per_second * 3 // 10

        await collect_until(session, enough)
        await session.interrupt()
        return await collect_until(session, turn_over(session))

    recorder = Recorder()
    transport = FakeServerTransport(FakeRealtimeServer(FakeServerConfig(pace=1.0)))
    async with run(talker, transport=transport, record=recorder) as session:
        (cut,) = of(await barge_in(session), events.AudioInterruptedEvent)
    heard = cut.audio_end_ms
    assert 100 < heard <= 300  # paced in real time, the first chunks at once
    recording = Recording.parse(recorder.lines)
    replaying = ReplayTransport(recording, timed=True)
    async with run(talker, transport=replaying) as session:
        (cut,) = of(await barge_in(session), events.AudioInterruptedEvent)
    replaying.check_complete()
    assert cut.audio_end_ms == heard
    # Untimed, every frame comes at once: by the clock nothing was heard yet.
    deleted = r'expected "conversation\.item\.truncate", got "conversation\.item\.delete"'
    with pytest.raises(ReplayMismatch, match=deleted):
        async with run(talker, transport=ReplayTransport(recording)) as session:
            await barge_in(session)


# -- every run of the session machine, recorded and replayed ----------------------------------


class RecordedMachine(HelperMachine):
    """The stateful tests' machine (every kind of tool, approvals, a handoff to an agent with
    dynamic instructions, a guardrail, late and missing answers, races), with one more check at
    the end of each run: its transcript, written as a recording and read back, replays
    exactly into a fresh session."""

    config = RunConfig(guardrails_settings=GUARDRAILS)

    def teardown(self) -> None:
        super().teardown()
        if self.broken:
            return
        recorder = Recorder()
        recorder.start(side="client", source="session", clock_start=0.0)
        for step in self.harness.transcript.steps:
            if step.error is None:  # refused misuse: the driver records only what was taken
                recorder.step(step.input, step.outputs, step.now or 0.0)
        result = replay(Recording.parse(recorder.lines), Session(helper, config=self.config))
        assert result.ok, result.mismatch and result.mismatch.describe()


RecordedMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=40)
TestEveryRunReplays = RecordedMachine.TestCase
