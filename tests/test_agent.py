"""Agents, handoffs and output guardrails."""

from __future__ import annotations

import dataclasses
from typing import Any

import attrs
import pytest
from agent_helpers import (
    EMPTY,
    Person,
    assert_valid_session_tools,
    never_called,
    strict_everywhere,
)
from realtime_sansio.protocol.agent import (
    Agent,
    GuardrailFunctionOutput,
    Handoff,
    OutputGuardrail,
    ToolArgumentsError,
    function_tool,
    handoff,
    output_guardrail,
)
from realtime_sansio.protocol.errors import LocalProtocolError

# -- handoffs ------------------------------------------------------------------------------


def test_default_handoff_names_and_descriptions() -> None:
    tech = Agent(name="Tech Support")
    billing = Agent(name="Billing-Agent", handoff_description="Invoices and refunds.")
    assert handoff(tech).tool_name == "transfer_to_tech_support"
    assert handoff(billing).tool_name == "transfer_to_billing_agent"
    assert handoff(Agent(name="Ünïcode Desk")).tool_name == "transfer_to__n_code_desk"
    assert handoff(tech).tool_description == (
        "Handoff to the Tech Support agent to handle the request."
    )
    assert handoff(billing).tool_description == (
        "Handoff to the Billing-Agent agent to handle the request. Invoices and refunds."
    )
    assert handoff(tech).to_wire() == {
        "type": "function",
        "name": "transfer_to_tech_support",
        "description": "Handoff to the Tech Support agent to handle the request.",
        "parameters": EMPTY,
    }
    assert handoff(tech).parse_arguments("") == {}
    assert handoff(tech).build_callback_args({}, "run context") == ("run context",)
    assert_valid_session_tools(handoff(tech), handoff(billing))


def test_handoff_overrides_and_typed_input() -> None:
    @dataclasses.dataclass
    class Escalation:
        reason: str
        urgent: bool = False

    received: list[Any] = []
    target = Agent(name="Manager")
    escalate = handoff(
        target,
        tool_name_override="escalate",
        tool_description_override="Escalate to a manager.",
        input_type=Escalation,
        on_handoff=lambda context, data: received.append(data),
    )
    assert (escalate.tool_name, escalate.agent_name) == ("escalate", "Manager")
    assert escalate.agent is target
    schema = escalate.params_json_schema
    strict_everywhere(schema)
    assert schema["required"] == ["reason", "urgent"]
    parsed = escalate.parse_arguments('{"reason": "angry", "urgent": null}')
    assert escalate.build_callback_args(parsed, "ctx") == ("ctx", Escalation(reason="angry"))
    with pytest.raises(ToolArgumentsError, match="missing required property 'reason'"):
        escalate.parse_arguments("{}")
    assert received == []  # nothing here calls on_handoff
    assert_valid_session_tools(escalate)


def test_handoff_misuse() -> None:
    target = Agent(name="Other")
    with pytest.raises(LocalProtocolError, match="needs an on_handoff"):
        handoff(target, input_type=Person)
    with pytest.raises(LocalProtocolError, match=r"2 positional argument\(s\) \(context, input\)"):
        handoff(target, input_type=Person, on_handoff=lambda context: None)
    with pytest.raises(LocalProtocolError, match=r"1 positional argument\(s\) \(context\)"):
        handoff(target, on_handoff=lambda: None)
    with pytest.raises(LocalProtocolError, match="dataclass, attrs class or TypedDict"):
        handoff(target, input_type=int, on_handoff=never_called)
    with pytest.raises(LocalProtocolError, match="invalid tool name"):
        handoff(Agent(name="x" * 80))
    typed = handoff(target, input_type=Person, on_handoff=never_called)
    assert typed.build_callback_args({"name": "Ada"}, None) == (None, {"name": "Ada"})


# -- agents --------------------------------------------------------------------------------


@function_tool
def lookup(query: str) -> str:
    """Look something up."""
    return query


def test_agent_tools_handoffs_and_lookup() -> None:
    support = Agent(name="Support")
    explicit = handoff(Agent(name="Sales"), tool_name_override="to_sales")
    agent = Agent(
        name="Triage", instructions="Route.", tools=[lookup], handoffs=[support, explicit]
    )
    assert agent.tools == (lookup,) and isinstance(agent.handoffs, tuple)
    assert [t.to_wire()["name"] for t in agent.all_tools()] == [
        "lookup",
        "transfer_to_support",
        "to_sales",
    ]
    assert agent.find_tool("lookup") is lookup
    found = agent.find_tool("transfer_to_support")
    assert isinstance(found, Handoff) and found.agent is support
    assert agent.find_tool("to_sales") is explicit
    assert agent.find_tool("nope") is None
    assert agent.static_instructions == "Route." and agent.instructions_are_dynamic is False
    assert_valid_session_tools(*agent.all_tools())


def test_clashing_tool_names_are_refused_naming_both() -> None:
    @function_tool(name="lookup")
    def other(query: str) -> str:
        return query

    @function_tool(name="transfer_to_support")
    def sneaky() -> None: ...

    with pytest.raises(LocalProtocolError, match="'lookup' is used by both function tool"):
        Agent(name="A", tools=[lookup, other])
    with pytest.raises(
        LocalProtocolError,
        match="function tool 'transfer_to_support' and the handoff to agent 'Support'",
    ):
        Agent(name="A", tools=[sneaky], handoffs=[Agent(name="Support")])
    with pytest.raises(LocalProtocolError, match="handoff to agent 'support'"):
        Agent(name="A", handoffs=[Agent(name="Support"), Agent(name="support")])


def test_dynamic_instructions_are_held_not_called() -> None:
    async def instructions(context: Any) -> str:
        raise AssertionError("the core must not call user code")

    for dynamic in (never_called, instructions):
        agent = Agent(name="A", instructions=dynamic)
        assert agent.static_instructions is None and agent.instructions_are_dynamic is True
        assert agent.instructions is dynamic


def test_clone_and_identity() -> None:
    agent = Agent(name="A", instructions="one", tools=[lookup])
    copy = agent.clone(instructions="two")
    assert copy.instructions == "two" and copy.tools == (lookup,)
    assert copy.find_tool("lookup") is lookup
    assert agent.clone() != agent and {agent: 1}[agent] == 1  # identity equality, hashable
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        agent.name = "B"  # type: ignore[misc]
    with pytest.raises(LocalProtocolError, match="'lookup' is used by both"):
        agent.clone(tools=[lookup, lookup])


def test_agent_misuse() -> None:
    with pytest.raises(LocalProtocolError, match="non-empty name"):
        Agent(name="")
    with pytest.raises(LocalProtocolError, match="@function_tool"):
        Agent(name="A", tools=[never_called])  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError, match="Agents or Handoffs"):
        Agent(name="A", handoffs=["Support"])  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError, match="@output_guardrail"):
        Agent(name="A", output_guardrails=[never_called])  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError, match="instructions"):
        Agent(name="A", instructions=42)  # type: ignore[arg-type]


# -- guardrails ----------------------------------------------------------------------------


def test_output_guardrails() -> None:
    @output_guardrail
    def no_secrets(context: Any, agent: Agent, text: str) -> GuardrailFunctionOutput:
        raise AssertionError("the core must not call user code")

    @output_guardrail(name="Politeness")
    async def polite(context: Any, agent: Agent, text: str) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(tripwire_triggered=False)

    assert no_secrets.get_name() == "no_secrets"
    assert polite.get_name() == "Politeness"
    assert OutputGuardrail(guardrail_function=never_called, name="N").get_name() == "N"
    agent = Agent(name="A", output_guardrails=[no_secrets, polite])
    assert agent.output_guardrails == (no_secrets, polite)
    output = GuardrailFunctionOutput(tripwire_triggered=True, output_info={"why": "secret"})
    assert output.tripwire_triggered and output.output_info == {"why": "secret"}
    assert GuardrailFunctionOutput(tripwire_triggered=False).output_info is None
