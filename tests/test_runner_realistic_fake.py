"""Our own client against the fake timed like the real server, over the in-memory transport on
a virtual clock (no wall time): the races the instant fake never produced now happen, and the
Session's deferred-response gate handles them. Back-to-back requests give no
``conversation_already_has_active_response`` (the second ``response.create`` waits for the
first response's end; so does a raw one), and a guardrail's cancel finds its response
active. Every frame validates against the GA union.
"""

from __future__ import annotations

import json

import pytest
from realtime_sansio.protocol import (
    Agent,
    GuardrailFunctionOutput,
    RunConfig,
    SessionModelSettings,
    events,
    output_guardrail,
    wire,
)
from realtime_sansio.protocol.config.values import GuardrailsSettings
from realtime_sansio.protocol.fake import FakeServerConfig
from realtime_sansio.transports.runner import run
from runner_helpers import Recording, collect_until, of, turn_over
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

pytestmark = pytest.mark.anyio

TEXT = RunConfig(model_settings=SessionModelSettings(output_modalities=("text",)))


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


def server_said(transport: Recording, kind: str) -> list[dict[str, object]]:
    return [p for p in map(json.loads, transport.received) if p.get("type") == kind]


async def test_back_to_back_messages_wait_for_the_active_response() -> None:
    transport = Recording(FakeServerConfig.realistic())
    agent = Agent(name="Helper", instructions="Be brief.")
    async with run(agent, transport=transport, config=TEXT) as session:
        await session.send_message("First question")
        await session.send_message("Second question")
        seen = await collect_until(session, turn_over(session), timeout=60)
    assert of(seen, events.ErrorEvent) == []
    assert server_said(transport, "error") == []
    assert len(server_said(transport, "response.done")) == 2  # the second waited, then ran
    transport.check_conformance()


async def test_a_raw_response_create_waits_for_the_active_response_too() -> None:
    transport = Recording(FakeServerConfig.realistic())
    agent = Agent(name="Helper", instructions="Be brief.")
    async with run(agent, transport=transport, config=TEXT) as session:
        await session.send_message("Hello")
        await session.send_raw_event(wire.ResponseCreate())
        seen = await collect_until(session, turn_over(session), timeout=60)
    assert of(seen, events.ErrorEvent) == []
    assert server_said(transport, "error") == []  # it went out after the first response.done
    assert len(server_said(transport, "response.done")) == 2
    transport.check_conformance()


async def test_a_guardrails_cancel_finds_the_response_active() -> None:
    # Regression: against the instant fake the reply was done before the guardrail ran, and
    # the cancel got response_cancel_not_active.
    # Async: a sync guardrail runs in a worker thread, and a virtual clock cannot see a thread
    # at work (it would jump to the next deadline while the guardrail runs).
    @output_guardrail
    async def no_sailing(context: object, agent: Agent, text: str) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(tripwire_triggered="sea" in text)

    transport = Recording(FakeServerConfig.realistic())
    agent = Agent(name="Guarded", instructions="Never the sea.", output_guardrails=[no_sailing])
    config = RunConfig(
        model_settings=SessionModelSettings(output_modalities=("text",)),
        guardrails_settings=GuardrailsSettings(debounce_text_length=20),
    )
    async with run(agent, transport=transport, config=config) as session:
        await session.send_message("Tell me a long story about the sea and the ships on it")
        seen = await collect_until(
            session, lambda e: isinstance(e, events.GuardrailTrippedEvent), timeout=60
        )
        seen += await collect_until(session, turn_over(session), timeout=60)
    assert of(seen, events.ErrorEvent) == []
    first = server_said(transport, "response.done")[0]["response"]
    assert first["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}  # type: ignore[index]
    transport.check_conformance()
