"""openai-agents' ``RealtimeRunner`` (a client nobody here wrote) against ``serve_fake`` as
users run it: over a socket, timed like the real server (the default). For each flow of issue
10 (text, a tool, a handoff, audio under server VAD, a barge-in with ``interrupt_response``
left to its default, an output guardrail's trip) the session sees no error event, and every
frame the fake sent (read back from ``serve_fake``'s recording) validates against the
``openai`` package's GA union.

asyncio only: openai-agents' realtime model uses the ``websockets`` library.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import oracle
import pytest
from agents import GuardrailFunctionOutput, OutputGuardrail, RunContextWrapper, function_tool
from agents.realtime import RealtimeAgent, RealtimeRunner, RealtimeSession, realtime_handoff
from fake_helpers import utterance
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.transports.serve import serve_fake

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny and 21 C in {city}"


support = RealtimeAgent(name="Support", instructions="Help with accounts.")
greeter = RealtimeAgent(
    name="Greeter",
    instructions="Greet, answer about the weather, hand off account questions.",
    tools=[get_weather],
    handoffs=[realtime_handoff(support)],
)


@asynccontextmanager
async def served(record: Path, config: FakeServerConfig | None = None) -> AsyncIterator[str]:
    """``serve_fake`` (realistic unless told otherwise), recording into ``record``; its URL."""
    ports: list[int] = []
    ready = anyio.Event()

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: serve_fake("127.0.0.1", 0, config=config, ready=on_ready, record_dir=record)
        )
        await ready.wait()
        yield f"ws://127.0.0.1:{ports[0]}/v1/realtime?model=gpt-realtime"
        group.cancel_scope.cancel()


def server_frames(record: Path) -> list[dict[str, Any]]:
    """Every frame the fake sent, from its recordings."""
    frames = []
    for path in sorted(record.iterdir()):
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry.get("kind") == "frame" and entry["from"] == "server":
                frames.append(entry["frame"])
    return frames


def check_the_servers_frames(record: Path) -> list[dict[str, Any]]:
    frames = server_frames(record)
    assert frames
    for frame in frames:
        oracle.validate_server_event(frame)
    assert [f for f in frames if f["type"] == "error"] == []
    return frames


async def events_until(
    session: RealtimeSession, done: Callable[[Any, list[Any]], bool], timeout: float = 20
) -> list[Any]:
    seen: list[Any] = []
    with anyio.fail_after(timeout):
        async for event in session:
            seen.append(event)
            if done(event, seen):
                return seen
    raise AssertionError("the session ended")


def ends(count: int) -> Callable[[Any, list[Any]], bool]:
    return lambda event, seen: sum(e.type == "agent_end" for e in seen) >= count


def errors(seen: list[Any]) -> list[Any]:
    return [e for e in seen if e.type == "error"]


def text_of(seen: list[Any]) -> str:
    return "".join(
        e.data.delta
        for e in seen
        if e.type == "raw_model_event" and e.data.type in ("output_text_delta", "transcript_delta")
    )


async def run_agent(url: str, agent: RealtimeAgent[Any], **config: Any) -> RealtimeSession:
    runner = RealtimeRunner(agent, config=config or None)  # type: ignore[arg-type]
    return await runner.run(model_config={"url": url, "api_key": "unused"})


# The model of the URL: openai-agents' default is another, and the session's model is fixed.
AUDIO = {"model_settings": {"model_name": "gpt-realtime"}}
TEXT = {"model_settings": {"model_name": "gpt-realtime", "output_modalities": ["text"]}}


async def test_a_text_turn(tmp_path: Path) -> None:
    async with served(tmp_path) as url, await run_agent(url, greeter, **TEXT) as session:
        await session.send_message("Hello there")
        seen = await events_until(session, ends(1))
    assert errors(seen) == []
    assert text_of(seen) == "You said: Hello there. What else can I do for you?"
    check_the_servers_frames(tmp_path)


async def test_a_tool_call(tmp_path: Path) -> None:
    async with served(tmp_path) as url, await run_agent(url, greeter, **TEXT) as session:
        await session.send_message("What's the weather in Paris?")
        seen = await events_until(session, ends(2))
    assert errors(seen) == []
    (end,) = [e for e in seen if e.type == "tool_end"]
    assert end.output == "Sunny and 21 C in Paris"
    assert "Sunny and 21 C in Paris" in text_of(seen)
    check_the_servers_frames(tmp_path)


async def test_a_handoff(tmp_path: Path) -> None:
    async with served(tmp_path) as url, await run_agent(url, greeter, **TEXT) as session:
        await session.send_message("Please transfer me to support")
        seen = await events_until(session, ends(2))
    assert errors(seen) == []
    (handoff,) = [e for e in seen if e.type == "handoff"]
    assert (handoff.from_agent.name, handoff.to_agent.name) == ("Greeter", "Support")
    assert "Hello, this is Support." in text_of(seen)
    check_the_servers_frames(tmp_path)


async def stream_audio(session: RealtimeSession, audio: bytes, chunk_ms: int = 100) -> None:
    size = 48 * chunk_ms
    for start in range(0, len(audio), size):
        await session.send_audio(audio[start : start + size])


async def test_audio_under_server_vad(tmp_path: Path) -> None:
    config = FakeServerConfig.realistic(transcripts={0: "What's the weather in Paris?"})
    async with served(tmp_path, config) as url, await run_agent(url, greeter, **AUDIO) as session:
        await stream_audio(session, utterance("What's the weather in Paris?"))
        seen = await events_until(session, ends(2))
    assert errors(seen) == []
    assert [e.output for e in seen if e.type == "tool_end"] == ["Sunny and 21 C in Paris"]
    assert sum(len(e.audio.data) for e in seen if e.type == "audio") > 48_000  # a spoken reply
    frames = check_the_servers_frames(tmp_path)
    kinds = [f["type"] for f in frames]
    assert kinds.index("input_audio_buffer.speech_started") < kinds.index("response.created")


async def test_a_barge_in_with_interrupt_response_left_to_its_default(tmp_path: Path) -> None:
    # openai-agents reads interrupt_response from session.updated: without the defaults there,
    # it sent a response.cancel of its own and got response_cancel_not_active.
    async with served(tmp_path) as url, await run_agent(url, greeter, **AUDIO) as session:
        await session.send_message("Tell me a long story about the sea and the ships on it")
        await events_until(session, lambda event, seen: event.type == "audio")
        await stream_audio(session, utterance("Stop", before=100, after=800))
        seen = await events_until(session, lambda event, seen: event.type == "audio_interrupted")
        seen += await events_until(session, ends(1))  # the interrupted turn ends
    assert errors(seen) == []
    frames = check_the_servers_frames(tmp_path)
    done = [f for f in frames if f["type"] == "response.done"]
    assert done[0]["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    updated = [f for f in frames if f["type"] == "session.updated"]
    assert all(
        f["session"]["audio"]["input"]["turn_detection"]["interrupt_response"] is True
        for f in updated
    )


async def test_an_output_guardrail_trips_mid_reply(tmp_path: Path) -> None:
    tripped: list[str] = []

    def no_sailing(
        context: RunContextWrapper[Any], agent: Any, output: str
    ) -> GuardrailFunctionOutput:
        if "sea" in output:
            tripped.append(output)
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered="sea" in output)

    guarded = RealtimeAgent(name="Guarded", instructions="Never talk about the sea.")
    config = {
        **TEXT,
        "output_guardrails": [OutputGuardrail(guardrail_function=no_sailing)],
        "guardrails_settings": {"debounce_text_length": 20},
    }
    async with served(tmp_path) as url, await run_agent(url, guarded, **config) as session:
        await session.send_message("Tell me a long story about the sea and the ships on it")
        seen = await events_until(session, lambda event, seen: event.type == "guardrail_tripped")
        seen += await events_until(session, ends(1))
    assert errors(seen) == []
    assert tripped
    frames = check_the_servers_frames(tmp_path)
    done = [f for f in frames if f["type"] == "response.done"]
    # The cancel found the response still streaming, as it would on the real server.
    assert done[0]["response"]["status"] == "cancelled"
