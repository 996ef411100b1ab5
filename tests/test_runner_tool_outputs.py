"""What the driver tells the model a tool returned: text as it is, nothing as "", data as
JSON, and anything JSON cannot say as its ``str`` (the fallback); a sync tool that hands back
an awaitable is awaited; arguments the tool's own types refuse are an error the model sees;
a handoff's ``on_handoff`` runs with the context. A raising guardrail is reported and the
reply goes on; dynamic instructions (sync, async, a lambda around an async function) reach
the model, and raising ones start the session without them. On the fake in memory, asyncio
and trio."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable
from typing import Any

import pytest
from realtime_sansio.protocol import Agent, events, function_tool
from realtime_sansio.protocol.agent import GuardrailFunctionOutput, handoff, output_guardrail
from realtime_sansio.protocol.fake import Respond
from realtime_sansio.protocol.fake.scripts import ScriptCall
from realtime_sansio.transports.runner import run
from runner_helpers import Recording, collect_until, of, turn_over

pytestmark = pytest.mark.anyio


class Forecast:
    """Not JSON: the model is told its str."""

    def __str__(self) -> str:
        return "Forecast(sunny, 21 C)"


@function_tool
def nothing(city: str) -> None:
    """Returns nothing."""


@function_tool
def data(city: str) -> dict[str, Any]:
    """Returns data."""
    return {"city": city, "temp": 21}


@function_tool
def an_object(city: str) -> Forecast:
    """Returns an object JSON cannot say."""
    return Forecast()


@function_tool
def later(city: str) -> Awaitable[str]:
    """A sync function handing back an awaitable."""

    async def fetch() -> str:
        return f"fetched {city}"

    return fetch()


@dataclasses.dataclass
class Window:
    days: int

    def __post_init__(self) -> None:
        if self.days > 7:
            raise ValueError("at most 7 days")


@function_tool
def forecast(window: Window) -> str:
    """A forecast over a window of days."""
    return f"{window.days} days"


TOOLS = Agent(name="Tools", instructions="Use tools.", tools=[nothing, data, an_object, later])


async def call(agent: Agent, name: str, arguments: str, context: Any = None) -> Any:
    transport = Recording(script=[Respond(outputs=(ScriptCall(name=name, arguments=arguments),))])
    async with run(agent, transport=transport, context=context) as session:
        await session.send_message("Go.")
        seen = await collect_until(session, turn_over(session))
    return seen, transport


@pytest.mark.parametrize(
    ("name", "told"),
    [
        ("nothing", ""),
        ("data", json.dumps({"city": "Oslo", "temp": 21})),
        ("an_object", "Forecast(sunny, 21 C)"),
        ("later", "fetched Oslo"),
    ],
)
async def test_what_the_model_is_told_a_tool_returned(name: str, told: str) -> None:
    seen, transport = await call(TOOLS, name, '{"city": "Oslo"}')
    (end,) = of(seen, events.ToolEndEvent)
    assert (end.output, end.failed) == (told, False)
    outputs = [
        json.loads(text)["item"]["output"]
        for text in transport.sent
        if '"function_call_output"' in text
    ]
    assert outputs == [told]


async def test_arguments_the_tools_own_types_refuse_are_an_error_for_the_model() -> None:
    agent = Agent(name="Weather", instructions="Forecast.", tools=[forecast])
    seen, _ = await call(agent, "forecast", '{"window": {"days": 9}}')
    (end,) = of(seen, events.ToolEndEvent)
    assert end.failed
    assert end.output.startswith("Error: invalid arguments for 'forecast': ")
    assert "at most 7 days" in end.output


async def test_on_handoff_runs_with_the_context() -> None:
    handed: list[Any] = []
    support = Agent(name="Support", instructions="Support.")

    async def on_handoff(context: Any) -> None:
        handed.append(context)

    front = Agent(
        name="Front", instructions="Route.", handoffs=[handoff(support, on_handoff=on_handoff)]
    )
    seen, _ = await call(front, "transfer_to_support", "{}", context={"user": "ada"})
    assert handed == [{"user": "ada"}]
    (switch,) = of(seen, events.HandoffEvent)
    assert switch.to_agent is support


# -- the other user code: guardrails and dynamic instructions ---------------------------------


@output_guardrail
def broken_check(context: Any, agent: Agent, text: str) -> GuardrailFunctionOutput:
    raise RuntimeError("the moderation service is down")


@output_guardrail
def never_trips(context: Any, agent: Agent, text: str) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(tripwire_triggered=False)


async def test_a_raising_guardrail_is_reported_and_the_reply_goes_on() -> None:
    agent = Agent(
        name="Checked", instructions="Answer.", output_guardrails=[broken_check, never_trips]
    )
    transport = Recording(script=[Respond.text("It is sunny in Paris today.")])
    async with run(agent, transport=transport) as session:
        await session.send_message("Weather?")
        seen = await collect_until(session, turn_over(session))
    failures = [e for e in of(seen, events.ErrorEvent) if e.code == "guardrail_failed"]
    assert failures
    assert failures[0].message == (
        "guardrail 'broken_check' raised RuntimeError: the moderation service is down"
    )
    assert not of(seen, events.GuardrailTrippedEvent)
    reply = "".join(e.delta for e in of(seen, events.TranscriptDeltaEvent))
    assert reply == "It is sunny in Paris today."


@pytest.mark.parametrize("kind", ["sync", "async", "lambda"])
async def test_dynamic_instructions_reach_the_model(kind: str) -> None:
    async def async_instructions(context: Any) -> str:
        return f"Help {context['user']}."

    def sync_instructions(context: Any) -> str:
        return f"Help {context['user']}."

    instructions = {
        "sync": sync_instructions,
        "async": async_instructions,
        # A sync callable handing back a coroutine: the point of the case.
        "lambda": lambda context: async_instructions(context),  # noqa: PLW0108
    }[kind]
    agent = Agent(name="Dynamic", instructions=instructions)
    transport = Recording()
    async with run(agent, transport=transport, context={"user": "Ada"}) as session:
        await session.send_message("Hi.")
        await collect_until(session, turn_over(session))
    updates = [json.loads(t) for t in transport.sent if '"session.update"' in t]
    assert updates[0]["session"]["instructions"] == "Help Ada."


async def test_raising_instructions_start_the_session_without_them() -> None:
    def instructions(context: Any) -> str:
        raise KeyError("prompt")

    agent = Agent(name="Dynamic", instructions=instructions)
    transport = Recording()
    async with run(agent, transport=transport) as session:
        await session.send_message("Hi.")
        seen = await collect_until(session, turn_over(session))
    (error,) = [e for e in of(seen, events.ErrorEvent) if "instructions" in e.message]
    assert error.message == "the instructions of agent 'Dynamic' raised KeyError: 'prompt'"
    updates = [json.loads(t) for t in transport.sent if '"session.update"' in t]
    assert updates[0]["session"]["instructions"] == ""
