"""``Session.busy``: more is coming, without a new command from the application.

The README's exit idiom stops at an ``AgentEndEvent`` when ``busy`` is False. So ``busy`` covers
everything that brings more events (a response active, requested or deferred; a tool call
without its output; a guardrail check awaiting its verdict; a handoff awaiting its target's
instructions; commands queued for the start), and a response's ``AgentEndEvent`` waits for what
would otherwise come after it with nothing to announce it: the verdicts of its guardrail checks,
and the outputs of its calls when it wants no follow-up (cancelled).
"""

from __future__ import annotations

from typing import Any

from realtime_sansio.protocol import (
    GuardrailFunctionOutput,
    OutputGuardrail,
    RunConfig,
    effects,
    events,
    inputs,
)
from session_helpers import (
    Session,
    agent,
    args_done,
    created,
    creates,
    done,
    error,
    get_weather,
    of_type,
    one,
    started,
    text_done,
    tool,
)


def _never(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
    raise AssertionError("the core must not call user code")


CHECK = OutputGuardrail(guardrail_function=_never, name="check")


def _ends(outputs: list[Any]) -> list[events.AgentEndEvent]:
    return of_type(outputs, events.AgentEndEvent)


def test_an_idle_session_is_not_busy() -> None:
    s = started()
    assert not s.busy
    s.handle(inputs.SendMessage(message="hi"))
    assert s.busy  # our response.create is in flight
    s.handle(created("r1"))
    assert s.busy
    ends = _ends(s.handle(done("r1")))
    assert ends and not s.busy


def test_a_deferred_request_after_a_refusal_is_busy() -> None:
    s = started()
    (create,) = creates(s.handle(inputs.SendMessage(message="hi")))
    s.handle(error("conversation_already_has_active_response", event_id=create.event_id))
    assert not s.response_active
    assert s.busy  # the request waits for the server's own response to end


def test_a_running_tool_keeps_the_session_busy_past_the_end() -> None:
    s = started()
    s.handle(inputs.SendMessage(message="weather?"))
    s.handle(created("r1"))
    s.handle(args_done("r1", "call_1", "get_weather", '{"city": "Oslo"}'))
    assert _ends(s.handle(done("r1")))
    assert s.busy
    s.handle(inputs.ToolResult(call_id="call_1", output="Sunny"))
    assert s.busy  # the follow-up is requested


def test_a_call_awaiting_approval_keeps_the_session_busy() -> None:
    s = started(agent(tools=[tool("send", needs_approval=True)]))
    s.handle(created("r1"))
    s.handle(args_done("r1", "call_1", "send", '{"n": 1}'))
    s.handle(done("r1"))
    assert s.busy
    s.handle(inputs.RejectTool(call_id="call_1"))
    s.handle(created("r2"))
    s.handle(done("r2"))
    assert not s.busy


def test_a_guardrail_check_holds_the_end_of_its_response_until_its_verdict() -> None:
    s = started(agent(output_guardrails=[CHECK]))
    s.handle(inputs.SendMessage(message="hi"))
    s.handle(created("r1"))
    run = one(s.handle(text_done("r1", "i1", "Hello!")), effects.RunGuardrails)
    assert _ends(s.handle(done("r1"))) == []  # the verdict is still out
    assert s.busy
    out = s.handle(inputs.GuardrailResult(run_id=run.run_id))
    (end,) = _ends(out)
    assert (end.response_id, end.status) == ("r1", "completed")
    assert not s.busy  # said at the end: nothing more is coming


def test_a_late_trip_ends_the_response_with_its_notice_requested() -> None:
    s = started(agent(output_guardrails=[CHECK]))
    s.handle(inputs.SendMessage(message="hi"))
    s.handle(created("r1"))
    run = one(s.handle(text_done("r1", "i1", "The price is 5 euros")), effects.RunGuardrails)
    s.handle(done("r1"))
    out = s.handle(inputs.GuardrailResult(run_id=run.run_id, tripped=("check",)))
    kinds = [type(o) for o in out]
    assert kinds.index(events.GuardrailTrippedEvent) < kinds.index(events.AgentEndEvent)
    assert len(creates(out)) == 1
    assert s.busy  # the notice's response is coming


def test_a_handoff_awaiting_its_targets_instructions_is_busy() -> None:
    async def instructions(context: Any) -> str:
        raise AssertionError("the core must not call user code")

    support = agent(name="Support", instructions=instructions)
    s = started(agent(handoffs=[support]))
    s.handle(inputs.SendMessage(message="transfer me"))
    s.handle(created("r1"))
    out = s.handle(args_done("r1", "call_1", "transfer_to_support"))
    request = one(out, effects.ResolveInstructions)
    assert _ends(s.handle(done("r1")))
    assert s.busy
    out = s.handle(inputs.InstructionsResolved(request_id=request.request_id, instructions="Hi"))
    assert of_type(out, events.HandoffEvent) and creates(out)
    assert s.busy


def test_the_calls_of_a_cancelled_response_hold_its_end_until_their_outputs() -> None:
    s = started()
    s.handle(inputs.SendMessage(message="weather?"))
    s.handle(created("r1"))
    s.handle(args_done("r1", "call_1", "get_weather", '{"city": "Oslo"}'))
    s.handle(inputs.Interrupt())
    assert _ends(s.handle(done("r1", status="cancelled"))) == []
    assert s.busy
    out = s.handle(inputs.ToolResult(call_id="call_1", output="Sunny"))
    (end,) = _ends(out)
    assert end.status == "cancelled" and creates(out) == []
    assert not s.busy


def test_commands_queued_for_the_start_are_busy() -> None:
    s = Session(agent(instructions=lambda context: "Be brief.", tools=[get_weather]))
    (request,) = of_type(s.handle(inputs.Connected()), effects.ResolveInstructions)
    assert not s.busy
    s.handle(inputs.SendMessage(message="hi"))
    assert s.busy
    s.handle(inputs.InstructionsResolved(request_id=request.request_id, instructions="Hi"))
    assert s.busy  # now as a response.create in flight


def test_a_closed_session_is_not_busy() -> None:
    s = started()
    s.handle(inputs.SendMessage(message="hi"))
    s.handle(inputs.ConnectionLost(code=1000))  # a normal close: not retried
    assert not s.busy


def test_the_busy_of_a_run_config_guardrail_counts_too() -> None:
    s = started(config=RunConfig(output_guardrails=[CHECK]))
    s.handle(created("r1"))
    one(s.handle(text_done("r1", "i1", "Hello!")), effects.RunGuardrails)
    s.handle(done("r1"))
    assert s.busy
