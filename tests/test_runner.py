"""The anyio driver end to end against the fake server in memory, on asyncio and on trio.

Every test records the frames both ways and checks them against the openai package's GA
models at the end: the conversations below are also the conformance run of the fake server.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import anyio
import pytest
from realtime_sansio.protocol import (
    Agent,
    GuardrailFunctionOutput,
    LocalProtocolError,
    RunConfig,
    SessionModelSettings,
    events,
    function_tool,
    output_guardrail,
)
from realtime_sansio.protocol.fake import DropAfter, Expect, FakeServerConfig, Garbage, Respond
from realtime_sansio.protocol.fake.scripts import ScriptCall
from realtime_sansio.protocol.items import AssistantMessage, UserMessage
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.recording import RecordingTransport
from realtime_sansio.transports.runner import RealtimeSession, Runner, run
from runner_helpers import (
    GREETER,
    SUPPORT,
    Recording,
    chunks,
    collect_until,
    of,
    speech,
    turn_over,
)

pytestmark = pytest.mark.anyio

PUSH_TO_TALK = RunConfig(model_settings=SessionModelSettings(turn_detection=None))


@pytest.fixture
async def recording() -> AsyncIterator[Recording]:
    transport = Recording()
    yield transport
    transport.check_conformance()


async def test_a_text_turn(recording: Recording) -> None:
    async with run(GREETER, transport=recording) as session:
        await session.send_message("Hello there")
        seen = await collect_until(session, turn_over(session))
    transcript = "".join(e.delta for e in of(seen, events.TranscriptDeltaEvent))
    assert transcript == "You said: Hello there. What else can I do for you?"
    assert of(seen, events.AudioEvent)  # the fake speaks (audio modality by default)
    kinds = [type(item) for item in session.history]
    assert kinds == [UserMessage, AssistantMessage]


async def test_an_audio_turn_with_server_vad(recording: Recording) -> None:
    async with run(GREETER, transport=recording) as session:
        for chunk in chunks(speech("Hello, anyone there?")):
            await session.send_audio(chunk)
        seen = await collect_until(session, turn_over(session))
    assert of(seen, events.AgentStartEvent)
    assert of(seen, events.AudioEvent)
    user = next(item for item in session.history if isinstance(item, UserMessage))
    assert user.content[0].type == "input_audio"  # the server's VAD committed the turn


async def test_push_to_talk(recording: Recording) -> None:
    async with run(GREETER, config=PUSH_TO_TALK, transport=recording) as session:
        audio = speech("What now?", silence_ms=100)
        for chunk in chunks(audio)[:-1]:
            await session.send_audio(chunk)
        await session.send_audio(chunks(audio)[-1], commit=True)
        seen = await collect_until(session, turn_over(session))
    assert of(seen, events.AudioEvent)
    assert next(type(item.content[0]).__name__ for item in session.history) == "InputAudio"


async def test_a_function_call(recording: Recording) -> None:
    async with run(GREETER, transport=recording) as session:
        await session.send_message("What is the weather in Paris?")
        seen = await collect_until(session, turn_over(session))
    (end,) = of(seen, events.ToolEndEvent)
    assert end.output == "Sunny in Paris"
    reply = "".join(e.delta for e in of(seen, events.TranscriptDeltaEvent))
    assert reply.endswith("Here is what I found: Sunny in Paris.")


async def test_two_tool_calls_in_one_response() -> None:
    calls = (
        ScriptCall(name="get_weather", arguments='{"city": "Oslo"}'),
        ScriptCall(name="get_weather", arguments='{"city": "Rome"}'),
    )
    transport = Recording(script=[Respond(outputs=calls)])
    async with run(GREETER, transport=transport) as session:
        await session.send_message("Weather in Oslo and Rome?")
        seen = await collect_until(session, turn_over(session))
    outputs = sorted(e.output for e in of(seen, events.ToolEndEvent))
    assert outputs == ["Sunny in Oslo", "Sunny in Rome"]
    assert len(of(seen, events.AgentStartEvent)) == 2  # the calls' response, then one follow-up
    transport.check_conformance()


async def test_a_handoff(recording: Recording) -> None:
    async with run(GREETER, transport=recording) as session:
        await session.send_message("Please transfer me to support")
        seen = await collect_until(session, turn_over(session))
    (handoff,) = of(seen, events.HandoffEvent)
    assert (handoff.from_agent, handoff.to_agent) == (GREETER, SUPPORT)
    assert session.current_agent is SUPPORT
    reply = "".join(e.delta for e in of(seen, events.TranscriptDeltaEvent))
    assert "Hello, this is Support." in reply


async def test_tool_approval(recording: Recording) -> None:
    @function_tool(needs_approval=True)
    def refund(order: str) -> str:
        """Refund an order."""
        return f"refunded {order}"

    agent = Agent(name="Shop", tools=[refund])
    async with run(agent, transport=recording) as session:
        await session.send_message("refund order A17")

        async def approve(event: events.SessionEvent) -> None:
            if isinstance(event, events.ToolApprovalRequiredEvent):
                await session.approve_tool(event.call_id)

        seen = await collect_until(session, turn_over(session), on_event=approve)
    assert of(seen, events.ToolApprovalRequiredEvent)
    (end,) = of(seen, events.ToolEndEvent)
    assert end.output.startswith("refunded")


async def test_a_guardrail_trip(recording: Recording) -> None:
    @output_guardrail
    def no_paris(context: object, agent: Agent, text: str) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(tripwire_triggered="Paris" in text, output_info="city")

    agent = Agent(name="Careful", tools=GREETER.tools, output_guardrails=[no_paris])
    async with run(agent, transport=recording) as session:
        await session.send_message("What is the weather in Paris?")
        seen = await collect_until(session, lambda e: isinstance(e, events.GuardrailTrippedEvent))
        seen += await collect_until(session, turn_over(session))
    (trip,) = of(seen, events.GuardrailTrippedEvent)
    assert trip.guardrails == ("no_paris",)
    notices = [
        json.loads(text) for text in recording.sent if "guardrail triggered: no_paris" in text
    ]
    assert notices and notices[0]["type"] == "conversation.item.create"


async def test_an_interrupt_mid_audio_truncates_at_the_reported_position() -> None:
    transport = Recording(FakeServerConfig(pace=0.2))  # audio arrives 5x faster than real time
    async with run(GREETER, transport=transport) as session:
        await session.send_message("Tell me something long about the weather today")
        received = 0

        def enough_audio(event: events.SessionEvent) -> bool:
            nonlocal received
            if isinstance(event, events.AudioEvent):
                received += len(event.data)
            return received >= 48 * 200  # 200 ms of 24 kHz PCM16 have arrived

        seen = await collect_until(session, enough_audio)
        first = of(seen, events.AudioEvent)[0]
        await session.audio_played(first.item_id, first.content_index, 120)
        await session.interrupt()
        seen = await collect_until(
            session, lambda e: isinstance(e, events.AgentEndEvent) and e.status == "cancelled"
        )
    (cut,) = of(seen, events.AudioInterruptedEvent)
    assert cut.audio_end_ms == 120
    truncates = [json.loads(t) for t in transport.sent if "conversation.item.truncate" in t]
    assert truncates[-1]["audio_end_ms"] == 120
    assert transport.server.model.audio_ms(first.item_id) >= 120
    transport.check_conformance()


async def test_a_failed_response() -> None:
    transport = Recording(script=[Respond(failure="server_error")])
    async with run(GREETER, transport=transport) as session:
        await session.send_message("Hello")
        seen = await collect_until(session, turn_over(session))
    (error,) = of(seen, events.ErrorEvent)
    assert error.code == "server_error"
    assert error.response_id is not None
    transport.check_conformance()


async def test_a_dropped_connection_fails_calls_with_the_code() -> None:
    transport = Recording(script=[Expect(type="conversation.item.create"), DropAfter(count=0)])
    async with run(GREETER, transport=transport) as session:
        await session.send_message("Hello")
        seen = await collect_until(session, lambda e: isinstance(e, events.ConnectionClosedEvent))
        (closed,) = of(seen, events.ConnectionClosedEvent)
        assert closed.code == 1006
        with pytest.raises(LocalProtocolError, match="1006"):
            await session.send_message("still there?")
        await session.wait_closed()


async def test_a_garbage_frame_is_an_error_event_and_the_session_goes_on() -> None:
    transport = Recording(script=[Garbage()])
    async with run(GREETER, transport=transport) as session:
        seen = await collect_until(session, lambda e: isinstance(e, events.ErrorEvent))
        assert of(seen, events.ErrorEvent)[0].code == "malformed_frame"
        await session.send_message("Hello again")
        seen = await collect_until(session, turn_over(session))
    assert of(seen, events.TranscriptDeltaEvent)
    transport.check_conformance()


async def test_a_tool_that_raises_or_hangs_never_takes_the_session_down() -> None:
    @function_tool
    def get_forecast(city: str) -> str:
        """Get the forecast for a city."""
        raise RuntimeError("forecast service down")

    @function_tool(timeout_s=0.2)
    async def get_pollen(city: str) -> str:
        """Get the pollen count for a city."""
        await anyio.sleep_forever()
        return city

    agent = Agent(name="Unlucky", tools=[get_forecast, get_pollen])
    transport = Recording()
    async with run(agent, transport=transport) as session:
        await session.send_message("forecast in Oslo?")
        seen = await collect_until(session, turn_over(session))
        assert of(seen, events.ToolEndEvent)[0].output.startswith("Error: RuntimeError")
        await session.send_message("pollen in Oslo?")
        seen = await collect_until(session, turn_over(session))
        (end,) = of(seen, events.ToolEndEvent)
        assert end.failed and "did not answer in time" in end.output
    transport.check_conformance()


async def test_close_returns_promptly_with_a_tool_still_running() -> None:
    started = anyio.Event()

    @function_tool
    async def get_weather(city: str) -> str:
        """Get the weather for a city, slowly."""
        started.set()
        await anyio.sleep_forever()
        return city

    config = RunConfig(tool_timeout_s=None)
    with anyio.fail_after(5):
        async with run(
            Agent(name="Slow", tools=[get_weather]), config=config, transport=Recording()
        ) as session:
            await session.send_message("the weather in Oslo")
            await started.wait()
            await session.close()
        with pytest.raises(LocalProtocolError, match="closed"):
            await session.send_message("hello?")


async def test_a_runner_serves_several_sessions() -> None:
    runner = Runner(GREETER)
    for text in ("one", "two"):
        async with runner.run(transport=Recording()) as session:
            await session.send_message(text)
            seen = await collect_until(session, turn_over(session))
            assert text in "".join(e.delta for e in of(seen, events.TranscriptDeltaEvent))


async def test_subscribers_each_see_every_event(recording: Recording) -> None:
    async with run(GREETER, transport=recording) as session:
        other = session.subscribe()
        await session.send_message("Hello")
        mine = await collect_until(session, turn_over(session))
        theirs = []
        with anyio.fail_after(5):
            async for event in other:
                theirs.append(event)
                if len(theirs) == len(mine):
                    break
        session.unsubscribe(other)
    assert [type(e) for e in theirs] == [type(e) for e in mine]


async def test_the_session_object_is_typed(recording: Recording) -> None:
    async with run(GREETER, transport=recording) as session:
        assert isinstance(session, RealtimeSession)
        assert session.current_agent is GREETER


async def test_a_recording_transport_keeps_at_most_max_frames() -> None:
    tap = RecordingTransport(FakeServerTransport(), max_frames=3)
    async with run(GREETER, transport=tap) as session:
        await session.send_message("Hello")
        await collect_until(session, turn_over(session))
    assert len(tap.received) == 3
    assert len(tap.sent) <= 3
