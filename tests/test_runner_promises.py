"""What the docs promise of the driver, end to end against the fake server, on asyncio and trio:
the README's exit idiom waits for slow guardrails and for a handoff's async instructions, and
``ModelConfig.initial_model_settings`` is the lowest layer of the first ``session.update``.

"Slow" here is deterministic, not timed: the user code waits until the response's
``response.done`` has reached the application, so its answer always comes after that end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from realtime_sansio.protocol import (
    Agent,
    GuardrailFunctionOutput,
    ModelConfig,
    RunConfig,
    SessionModelSettings,
    events,
    output_guardrail,
)
from realtime_sansio.transports.runner import RealtimeSession, run
from runner_helpers import GREETER, Recording, of

pytestmark = pytest.mark.anyio


async def readme_loop(
    session: RealtimeSession, on_event: Callable[[events.SessionEvent], None]
) -> list[events.SessionEvent]:
    """The README's exit idiom, every event kept (a guard stops a hang, it times nothing)."""
    seen: list[events.SessionEvent] = []
    with anyio.fail_after(10):
        async for event in session:
            seen.append(event)
            on_event(event)
            if isinstance(event, events.AgentEndEvent) and not session.busy:
                break
    return seen


def released_at_response_done(gate: anyio.Event) -> Callable[[events.SessionEvent], None]:
    def watch(event: events.SessionEvent) -> None:
        if isinstance(event, events.RawModelEvent) and event.data.type == "response.done":
            gate.set()

    return watch


def slow_guardrail(gate: anyio.Event, *, trips_on: str) -> Any:
    @output_guardrail
    async def no_word(context: object, agent: Agent, text: str) -> GuardrailFunctionOutput:
        await gate.wait()
        return GuardrailFunctionOutput(tripwire_triggered=trips_on in text)

    return no_word


async def test_the_exit_idiom_waits_for_a_slow_guardrail_that_trips() -> None:
    gate = anyio.Event()
    careful = Agent(name="Careful", output_guardrails=[slow_guardrail(gate, trips_on="Hello")])
    recording = Recording()
    async with run(careful, transport=recording) as session:
        await session.send_message("Hello there")
        seen = await readme_loop(session, released_at_response_done(gate))
    (trip,) = of(seen, events.GuardrailTrippedEvent)
    assert trip.guardrails == ("no_word",)
    # The notice went out and its response ran before the loop ended.
    assert any("guardrail triggered: no_word" in text for text in recording.sent)
    ends = of(seen, events.AgentEndEvent)
    assert len(ends) == 2 and seen.index(trip) < seen.index(ends[0])
    recording.check_conformance()


async def test_the_exit_idiom_ends_after_a_slow_guardrail_that_passes() -> None:
    gate = anyio.Event()
    careful = Agent(name="Careful", output_guardrails=[slow_guardrail(gate, trips_on="Paris")])
    async with run(careful, transport=Recording()) as session:
        await session.send_message("Hello there")
        seen = await readme_loop(session, released_at_response_done(gate))
    assert of(seen, events.GuardrailTrippedEvent) == []
    (end,) = of(seen, events.AgentEndEvent)
    assert seen[-1] is end and end.status == "completed"


async def test_the_exit_idiom_waits_for_a_handoff_targets_async_instructions() -> None:
    gate = anyio.Event()

    async def instructions(context: object) -> str:
        await gate.wait()
        return "Solve problems."

    support = Agent(name="Support", instructions=instructions)
    greeter = Agent(name="Greeter", instructions="Greet.", handoffs=[support])
    async with run(greeter, transport=Recording()) as session:
        await session.send_message("Please transfer me to support")
        seen = await readme_loop(session, released_at_response_done(gate))
        assert session.current_agent is support
    (handoff,) = of(seen, events.HandoffEvent)
    assert handoff.to_agent is support
    reply = "".join(e.delta for e in of(seen, events.TranscriptDeltaEvent))
    assert "Hello, this is Support." in reply


async def test_initial_model_settings_are_the_lowest_layer_of_the_first_update() -> None:
    recording = Recording()
    model_config = ModelConfig(
        initial_model_settings=SessionModelSettings(voice="alloy", speed=1.2)
    )
    config = RunConfig(model_settings=SessionModelSettings(voice="cedar"))
    async with run(GREETER, config=config, model_config=model_config, transport=recording):
        pass
    first = json.loads(recording.sent[0])
    assert first["type"] == "session.update"
    assert first["session"]["audio"]["output"] == {"voice": "cedar", "speed": 1.2}
    assert first["session"]["instructions"] == "Greet."
    recording.check_conformance()
