"""Hypothesis stateful tests of the Session against the ServerModel, with the testing kit.

The agent has every kind of tool the Session treats differently: a plain one, one that fails,
a slow one with a timeout that is answered late or never, one that needs approval, a handoff
to a second agent (with dynamic instructions and a tool of its own), and an output guardrail.
It runs under server VAD and under push-to-talk, and the connection drops at any moment
(the kit's ``drops``: the session reconnects, attempts fail or open to a fresh server, and
the invariants hold across connections). On top of the kit's invariants, every client
event the session emits and every server event the model emits must validate against the
``openai`` package's GA models (client events with extra fields forbidden).
"""

from __future__ import annotations

import unittest
from typing import Any

import oracle
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant
from realtime_sansio.protocol import (
    Agent,
    GuardrailsSettings,
    RunConfig,
    SessionModelSettings,
    TurnDetectionConfig,
    function_tool,
    output_guardrail,
    wire,
)
from realtime_sansio.protocol.testing import Harness, check_chunking
from realtime_sansio.protocol.testing.strategies import SessionMachine


def never_called(*args: Any) -> Any:
    raise AssertionError("the machine answers for the tools: no user code runs")


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return str(never_called(city))


@function_tool
def flaky_lookup(key: str, limit: int = 3) -> str:
    """A lookup that always fails."""
    return str(never_called(key, limit))


@function_tool(timeout_s=2.0)
def slow_report(topic: str) -> str:
    """A report that takes longer than its timeout."""
    return str(never_called(topic))


@function_tool(needs_approval=True)
def send_email(to: str, body: str) -> str:
    """Send an email, once the user approves."""
    return str(never_called(to, body))


@function_tool
def book_table(people: int, time: str) -> str:
    """Book a table."""
    return str(never_called(people, time))


@output_guardrail
def no_secrets(context: Any, agent: Agent, text: str) -> Any:
    return never_called(context, agent, text)


concierge = Agent(
    name="Concierge",
    instructions=lambda context: "Book tables.",
    tools=[book_table],
    handoff_description="Books restaurants.",
)
helper = Agent(
    name="Helper",
    instructions="Be brief.",
    tools=[get_weather, flaky_lookup, slow_report, send_email],
    handoffs=[concierge],
    output_guardrails=[no_secrets],
)
GUARDRAILS = GuardrailsSettings(debounce_text_length=24)
STATEFUL = settings(max_examples=200, stateful_step_count=50, deadline=None)


class HelperMachine(SessionMachine):
    agent = helper
    failing_tools = frozenset({"flaky_lookup"})
    never_answered_tools = frozenset({"slow_report"})

    def __init__(self) -> None:
        super().__init__()
        self.validated_steps = 0
        self.validated_server = 0

    @invariant()
    def the_oracle_accepts_every_event(self) -> None:
        steps = self.harness.transcript.steps
        for step in steps[self.validated_steps :]:
            for output in step.outputs:
                if isinstance(output, wire.ClientEventBase | wire.RawClientEvent):
                    oracle.validate_client_event(wire.client_event_to_json(output))
        self.validated_steps = len(steps)
        server = self.harness.server_log
        for server_event in server[self.validated_server :]:
            oracle.validate_server_event(wire.server_event_to_json(server_event))
        self.validated_server = len(server)

    def teardown(self) -> None:
        super().teardown()
        if not self.broken:
            self.the_oracle_accepts_every_event()


class ServerVadMachine(HelperMachine):
    config = RunConfig(guardrails_settings=GUARDRAILS)


class PushToTalkMachine(HelperMachine):
    config = RunConfig(
        model_settings=SessionModelSettings(turn_detection=None), guardrails_settings=GUARDRAILS
    )


ServerVadMachine.TestCase.settings = STATEFUL
PushToTalkMachine.TestCase.settings = STATEFUL
TestServerVad = ServerVadMachine.TestCase
TestPushToTalk = PushToTalkMachine.TestCase


def test_the_kit_in_ten_lines() -> None:
    from realtime_sansio.protocol import Agent, function_tool
    from realtime_sansio.protocol.testing import SessionMachine

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "Sunny"

    class WeatherAgentMachine(SessionMachine):
        agent = Agent(name="Weather", instructions="Be brief.", tools=[get_weather])

    TestWeatherAgent = WeatherAgentMachine.TestCase

    # The ten lines end here; what follows runs them, as pytest would.
    assert issubclass(TestWeatherAgent, unittest.TestCase)
    TestWeatherAgent.settings = settings(max_examples=30, deadline=None)
    TestWeatherAgent().runTest()


# Whole PCM16 samples, from nothing (a commit the server refuses) to 200 ms per turn.
turns = st.lists(
    st.integers(0, 4800).map(lambda n: bytes(range(256)) * (n // 128) + bytes(n % 128 * 2)),
    min_size=1,
    max_size=3,
)
chunk_sizes = st.lists(st.integers(1, 3500), min_size=1, max_size=4)  # in samples


@settings(max_examples=40, deadline=None)
@given(turns=turns, chunkings=st.lists(chunk_sizes, min_size=2, max_size=3), vad=st.booleans())
def test_the_same_audio_in_any_chunking_commits_the_same_turns(
    turns: list[bytes], chunkings: list[list[int]], vad: bool
) -> None:
    detection = TurnDetectionConfig.server_vad() if vad else None
    config = RunConfig(model_settings=SessionModelSettings(turn_detection=detection))
    check_chunking(lambda: Harness(helper, config=config), turns, chunkings)
