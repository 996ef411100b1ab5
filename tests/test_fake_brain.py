"""The fake server's default brain: transparent rules, the same answer every time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from realtime_sansio.protocol import Agent, function_tool
from realtime_sansio.protocol.fake.brain import decide, fill_arguments


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return city


@function_tool
def book_table(restaurant: str, people: int, when: str | None = None) -> str:
    """Book a restaurant table."""
    return restaurant


SUPPORT = Agent(name="Support", instructions="Help.")
AGENT = Agent(name="Greeter", tools=[get_weather, book_table], handoffs=[SUPPORT])
TOOLS: list[dict[str, Any]] = [tool.to_wire() for tool in AGENT.all_tools()]


@pytest.mark.parametrize(
    ("said", "tool", "arguments"),
    [
        ("What is the weather in Paris?", "get_weather", {"city": "Paris"}),
        ("weather in New York please", "get_weather", {"city": "New York"}),
        (
            "Book a table at Chez Marie for 4 people",
            "book_table",
            {"restaurant": "Chez Marie", "people": 4, "when": None},
        ),
        ("Can I talk to support?", "transfer_to_support", {}),
        ("Please transfer me to Support", "transfer_to_support", {}),
    ],
)
def test_tools_and_handoffs_are_called_when_named(
    said: str, tool: str, arguments: dict[str, Any]
) -> None:
    decision = decide(said, TOOLS)
    assert decision.tool == tool
    assert json.loads(decision.arguments) == arguments
    # The arguments pass the tool's own strict schema.
    found = AGENT.find_tool(tool)
    assert found is not None
    assert found.parse_arguments(decision.arguments) == arguments


def test_plain_words_get_a_short_reply_that_shows_it_heard() -> None:
    decision = decide("Hello there!", TOOLS)
    assert decision.tool is None
    assert decision.text == "You said: Hello there. What else can I do for you?"
    assert decide("transfer me to billing", TOOLS).tool is None  # no such agent
    assert decide("", TOOLS).text == "I am listening."


def test_a_tool_output_is_reported() -> None:
    decision = decide("weather in Paris", TOOLS, tool_output="Sunny, 21 C")
    assert decision == decide(None, TOOLS, tool_output="Sunny, 21 C")
    assert decision.text == "Here is what I found: Sunny, 21 C."


def test_arguments_follow_the_schema_types() -> None:
    tool = {
        "name": "set_alarm",
        "parameters": {
            "type": "object",
            "properties": {
                "hour": {"type": "integer"},
                "loud": {"type": "boolean"},
                "tone": {"type": "string", "enum": ["bell", "radio"]},
                "ratio": {"type": "number"},
            },
            "required": ["hour", "loud", "tone", "ratio"],
        },
    }
    assert fill_arguments("set an alarm at 7 with the radio, loud yes", tool) == {
        "hour": 7,
        "loud": True,
        "tone": "radio",
        "ratio": 0.0,
    }


def test_after_a_handoff_the_new_agent_greets() -> None:
    decision = decide(None, TOOLS, tool_output='{"assistant": "Support"}')
    assert decision.text == "Hello, this is Support. How can I help you?"


@pytest.mark.parametrize(
    ("parameters", "arguments"),
    [
        (7, {}),
        ({"properties": {"a": {}}, "required": 5}, {"a": None}),
        ({"properties": {"a": {}}, "required": [{}, "a"]}, {"a": None}),
        ({"properties": {"a": {"anyOf": {"type": "string"}}}}, {"a": None}),
        ({"properties": {"a": {"anyOf": [1, {"type": "integer"}]}}}, {"a": 5}),
        ({"properties": {"a": {"type": "object", "properties": 3}}}, {"a": {}}),
    ],
)
def test_a_schema_that_is_no_schema_reads_as_none(parameters: Any, arguments: Any) -> None:
    # Regression: each of these raised (the fake checks a tool's parameters are an object,
    # not that they are a JSON schema, and the brain read them as one).
    tool = {"type": "function", "name": "do_a", "parameters": parameters}
    assert fill_arguments("do a with 5", tool) == arguments
