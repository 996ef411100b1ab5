"""Function calls (one output each, the follow-up once per turn), approval, timeouts, handoffs."""

from __future__ import annotations

from typing import Any

import pytest
from realtime_sansio.protocol import (
    Agent,
    LocalProtocolError,
    RunConfig,
    effects,
    events,
    handoff,
    inputs,
    wire,
)
from session_helpers import (
    Feed,
    agent,
    args_done,
    call_item,
    created,
    creates,
    done,
    get_weather,
    item_done,
    of_type,
    one,
    output_item_done,
    outputs_given,
    sent,
    sent_types,
    started,
    tool,
    tools_named,
)

OSLO = '{"city": "Oslo"}'


def _calling(the_agent: Agent | None = None, **kwargs: Any) -> Feed:
    """A started session with response r1 active."""
    feed = Feed(started(the_agent, **kwargs))
    feed(created("r1"))
    return feed


# -- a call and its output -------------------------------------------------------------------


def test_a_finished_call_starts_the_tool() -> None:
    the_agent = agent(tools=[get_weather])
    feed = _calling(the_agent, context={"user": 7})
    out = feed(args_done("r1", "call_1", "get_weather", OSLO))
    start = one(out, events.ToolStartEvent)
    assert (start.agent, start.tool, start.call_id, start.arguments) == (
        the_agent,
        get_weather,
        "call_1",
        OSLO,
    )
    call = one(out, effects.CallTool)
    assert (call.call_id, call.tool, call.arguments) == ("call_1", get_weather, {"city": "Oslo"})
    assert call.context == {"user": 7}
    assert call.name == "get_weather"
    assert sent(out) == []


def test_a_result_ends_the_tool_and_is_sent_as_its_output() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    out = feed(inputs.ToolResult(call_id="call_1", output="Sunny, 21 C"))
    end = one(out, events.ToolEndEvent)
    assert (end.call_id, end.output, end.failed, end.tool) == (
        "call_1",
        "Sunny, 21 C",
        False,
        get_weather,
    )
    assert outputs_given(out) == [
        {"type": "function_call_output", "call_id": "call_1", "output": "Sunny, 21 C"}
    ]


def test_the_follow_up_waits_for_response_done_when_the_result_comes_first() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    assert creates(feed(inputs.ToolResult(call_id="call_1", output="Sunny"))) == []
    assert len(creates(feed(done("r1")))) == 1


def test_the_follow_up_waits_for_the_result_when_response_done_comes_first() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    assert creates(feed(done("r1"))) == []
    out = feed(inputs.ToolResult(call_id="call_1", output="Sunny"))
    assert sent_types(out) == ["conversation.item.create", "response.create"]


def test_two_calls_in_one_response_get_one_follow_up_after_both_outputs() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    feed(args_done("r1", "call_2", "get_weather", '{"city": "Rome"}'))
    feed(done("r1"))
    assert creates(feed(inputs.ToolResult(call_id="call_2", output="Hot"))) == []
    assert len(creates(feed(inputs.ToolResult(call_id="call_1", output="Rain")))) == 1
    assert len(creates(feed.out)) == 1


def test_a_follow_up_coalesces_with_a_request_deferred_during_the_response() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    feed(inputs.ToolResult(call_id="call_1", output="Sunny"))
    feed(inputs.SendMessage(message="and tomorrow?"))
    assert len(creates(feed(done("r1")))) == 1


def test_an_unknown_tool_gets_an_error_output_and_runs_nothing() -> None:
    feed = _calling()
    out = feed(args_done("r1", "call_1", "launch_rocket", "{}"))
    assert of_type(out, effects.CallTool) == []
    (output,) = outputs_given(out)
    assert output["output"].startswith("Error: ")
    assert "launch_rocket" in output["output"]
    end = one(out, events.ToolEndEvent)
    assert end.failed
    assert end.tool is None


@pytest.mark.parametrize(
    "arguments",
    ['{"city": ', "[1, 2]", '{"town": "Oslo"}', '{"city": 7}', "{}"],
    ids=["bad-json", "not-an-object", "unexpected-property", "wrong-type", "missing"],
)
def test_bad_arguments_get_an_error_output_and_run_nothing(arguments: str) -> None:
    feed = _calling()
    out = feed(args_done("r1", "call_1", "get_weather", arguments))
    assert of_type(out, effects.CallTool) == []
    assert of_type(out, events.ToolStartEvent) == []
    (output,) = outputs_given(out)
    assert output["output"].startswith("Error: ")
    assert "get_weather" in output["output"]
    assert one(out, events.ToolEndEvent).failed


def test_an_error_output_still_gets_its_follow_up() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "launch_rocket", "{}"))
    assert len(creates(feed(done("r1")))) == 1


def test_a_failed_result_is_sent_and_marked_failed() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    out = feed(inputs.ToolResult(call_id="call_1", output="Error: ConnectionError", failed=True))
    assert one(out, events.ToolEndEvent).failed
    assert outputs_given(out)[0]["output"] == "Error: ConnectionError"


def test_a_result_for_an_unknown_call_is_the_callers_error() -> None:
    feed = _calling()
    with pytest.raises(LocalProtocolError, match="call_404"):
        feed(inputs.ToolResult(call_id="call_404", output="?"))


# -- duplicates and cancellation -------------------------------------------------------------


def test_a_call_announced_three_times_runs_once() -> None:
    feed = _calling()
    item = call_item("call_1", "get_weather", OSLO)
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    feed(output_item_done("r1", item))
    feed(item_done(item))
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    assert len(of_type(feed.out, effects.CallTool)) == 1
    assert len(of_type(feed.out, events.ToolStartEvent)) == 1


def test_a_call_announced_only_by_its_output_item_runs() -> None:
    feed = _calling()
    out = feed(output_item_done("r1", call_item("call_1", "get_weather", OSLO)))
    assert one(out, effects.CallTool).arguments == {"city": "Oslo"}
    feed(inputs.ToolResult(call_id="call_1", output="Sunny"))
    assert len(creates(feed(done("r1")))) == 1


def test_function_call_items_in_the_conversation_run_nothing() -> None:
    # History restored by the application, or an item retrieved: no response asked for it.
    feed = _calling()
    out = feed(item_done(call_item("call_old", "get_weather", OSLO)))
    assert not of_type(out, effects.CallTool)
    assert of_type(out, events.HistoryAddedEvent)


def test_a_repeated_call_after_its_output_is_not_answered_twice() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    feed(inputs.ToolResult(call_id="call_1", output="Sunny"))
    out = feed(output_item_done("r1", call_item("call_1", "get_weather", OSLO)))
    assert of_type(out, effects.CallTool) == []
    assert len(outputs_given(feed.out)) == 1


def test_a_cancelled_responses_calls_get_outputs_but_no_follow_up() -> None:
    feed = _calling()
    feed(args_done("r1", "call_1", "get_weather", OSLO))
    feed(done("r1", status="cancelled"))
    out = feed(inputs.ToolResult(call_id="call_1", output="Sunny"))
    assert len(outputs_given(out)) == 1
    assert creates(out) == []
    assert not feed.session.response_active


# -- timeouts --------------------------------------------------------------------------------


# No recycling in these: its deadline would be the timer otherwise.
NO_RECYCLE = RunConfig(recycle_after_s=None)


def test_a_tool_that_does_not_answer_in_time_gets_an_error_output() -> None:
    feed = _calling(config=RunConfig(tool_timeout_s=5.0, recycle_after_s=None))
    assert feed.session.get_timer() is None
    out = feed(args_done("r1", "call_1", "get_weather", OSLO), now=100.0)
    assert one(out, effects.CallTool).timeout_s == 5.0
    assert feed.session.get_timer() == 105.0
    assert feed(inputs.TimerFired(now=104.0)) == []
    out = feed(inputs.TimerFired(now=105.0))
    (output,) = outputs_given(out)
    assert output["output"].startswith("Error: ")
    assert "get_weather" in output["output"]
    assert one(out, events.ToolEndEvent).failed
    assert feed.session.get_timer() is None


def test_a_late_result_after_a_timeout_is_ignored() -> None:
    feed = _calling(config=RunConfig(tool_timeout_s=1.0))
    feed(args_done("r1", "call_1", "get_weather", OSLO), now=0.0)
    feed(inputs.TimerFired(now=2.0))
    assert feed(inputs.ToolResult(call_id="call_1", output="Sunny")) == []
    assert len(outputs_given(feed.out)) == 1


def test_a_timed_out_call_still_gets_its_follow_up() -> None:
    feed = _calling(config=RunConfig(tool_timeout_s=1.0))
    feed(args_done("r1", "call_1", "get_weather", OSLO), now=0.0)
    feed(done("r1"))
    assert len(creates(feed(inputs.TimerFired(now=1.5)))) == 1


def test_a_tools_own_timeout_wins_over_the_run_configs() -> None:
    quick = tool("quick", timeout_s=2.0)
    feed = _calling(agent(tools=[quick, get_weather]), config=RunConfig(tool_timeout_s=30.0))
    out = feed(args_done("r1", "call_1", "quick", '{"n": 1}'), now=10.0)
    assert one(out, effects.CallTool).timeout_s == 2.0
    feed(args_done("r1", "call_2", "get_weather", OSLO), now=10.0)
    assert feed.session.get_timer() == 12.0
    feed(inputs.TimerFired(now=12.0))
    assert [o["call_id"] for o in outputs_given(feed.out)] == ["call_1"]
    assert feed.session.get_timer() == 40.0


def test_no_timeout_means_no_timer() -> None:
    feed = _calling(config=RunConfig(tool_timeout_s=None, recycle_after_s=None))
    out = feed(args_done("r1", "call_1", "get_weather", OSLO))
    assert one(out, effects.CallTool).timeout_s is None
    assert feed.session.get_timer() is None


# -- approval --------------------------------------------------------------------------------


def _approval_agent() -> Agent:
    return agent(tools=[tool("refund", needs_approval=True)])


def test_a_tool_needing_approval_waits_for_it() -> None:
    feed = _calling(_approval_agent(), config=NO_RECYCLE)
    out = feed(args_done("r1", "call_1", "refund", '{"n": 30}'))
    asked = one(out, events.ToolApprovalRequiredEvent)
    assert (asked.call_id, asked.tool.name, asked.arguments) == ("call_1", "refund", '{"n": 30}')
    assert of_type(out, effects.CallTool) == []
    assert of_type(out, events.ToolStartEvent) == []
    assert feed.session.get_timer() is None


def test_an_approved_call_runs() -> None:
    feed = _calling(_approval_agent())
    feed(args_done("r1", "call_1", "refund", '{"n": 30}'))
    out = feed(inputs.ApproveTool(call_id="call_1"))
    assert one(out, events.ToolStartEvent).call_id == "call_1"
    assert one(out, effects.CallTool).arguments == {"n": 30}
    out = feed(inputs.ToolResult(call_id="call_1", output="Refunded"))
    assert outputs_given(out)[0]["output"] == "Refunded"


def test_a_rejected_call_sends_the_rejection_text() -> None:
    feed = _calling(_approval_agent())
    feed(args_done("r1", "call_1", "refund", '{"n": 30}'))
    out = feed(inputs.RejectTool(call_id="call_1", message="Refunds need a manager."))
    assert of_type(out, effects.CallTool) == []
    assert outputs_given(out)[0]["output"] == "Refunds need a manager."
    assert one(out, events.ToolEndEvent).failed


def test_a_rejection_without_a_text_sends_a_default_one() -> None:
    feed = _calling(_approval_agent())
    feed(args_done("r1", "call_1", "refund", '{"n": 30}'))
    out = feed(inputs.RejectTool(call_id="call_1"))
    text = outputs_given(out)[0]["output"]
    assert "refund" in text
    assert "reject" in text.lower()


def test_a_result_for_a_call_awaiting_approval_is_refused() -> None:
    feed = _calling(_approval_agent())
    feed(args_done("r1", "call_1", "refund", '{"n": 30}'))
    with pytest.raises(LocalProtocolError):
        feed(inputs.ToolResult(call_id="call_1", output="sneaky"))
    with pytest.raises(LocalProtocolError):
        feed(inputs.ApproveTool(call_id="call_404"))


def test_the_follow_up_of_an_approved_call_waits_for_its_output() -> None:
    feed = _calling(_approval_agent())
    feed(args_done("r1", "call_1", "refund", '{"n": 30}'))
    assert creates(feed(done("r1"))) == []
    feed(inputs.ApproveTool(call_id="call_1"))
    assert len(creates(feed(inputs.ToolResult(call_id="call_1", output="ok")))) == 1


# -- handoffs --------------------------------------------------------------------------------


def _sales() -> Agent:
    return Agent(name="Sales", instructions="Sell things.", tools=[tool("quote")])


def test_a_handoff_switches_the_agent_and_reconfigures_before_its_output() -> None:
    sales = _sales()
    triage = agent(name="Triage", tools=[get_weather], handoffs=[sales])
    feed = _calling(triage)
    out = feed(args_done("r1", "call_h", "transfer_to_sales"))
    assert feed.session.current_agent is sales
    assert sent_types(out) == ["session.update", "conversation.item.create"]
    update = one(out, wire.SessionUpdate).session
    assert update["instructions"] == "Sell things."
    assert tools_named(update) == ["quote"]
    assert "tracing" not in update
    moved = one(out, events.HandoffEvent)
    assert (moved.from_agent, moved.to_agent, moved.call_id) == (triage, sales, "call_h")
    kinds = [type(o) for o in out if not isinstance(o, events.RawModelEvent)]
    assert kinds.index(wire.SessionUpdate) < kinds.index(wire.ConversationItemCreate)
    assert outputs_given(out)[0]["call_id"] == "call_h"
    assert len(creates(feed(done("r1")))) == 1


def test_a_handoff_output_names_the_new_agent() -> None:
    feed = _calling(agent(handoffs=[_sales()]))
    out = feed(args_done("r1", "call_h", "transfer_to_sales"))
    assert "Sales" in outputs_given(out)[0]["output"]


def test_after_a_handoff_the_new_agents_tools_are_the_ones_called() -> None:
    sales = _sales()
    feed = _calling(agent(tools=[get_weather], handoffs=[sales]))
    feed(args_done("r1", "call_h", "transfer_to_sales"))
    feed(done("r1"))
    feed(created("r2"))
    out = feed(args_done("r2", "call_2", "get_weather", OSLO))
    assert of_type(out, effects.CallTool) == []
    out = feed(args_done("r2", "call_3", "quote", '{"n": 2}'))
    assert one(out, effects.CallTool).agent is sales


def test_a_handoff_to_an_agent_with_dynamic_instructions_waits_for_them() -> None:
    def instructions(ctx: Any) -> str:
        raise AssertionError("never run by the core")

    sales = Agent(name="Sales", instructions=instructions)
    triage = agent(handoffs=[sales])
    feed = _calling(triage, context="ctx")
    out = feed(args_done("r1", "call_h", "transfer_to_sales"))
    ask = one(out, effects.ResolveInstructions)
    assert (ask.agent, ask.context) == (sales, "ctx")
    assert sent(out) == []
    assert of_type(out, events.HandoffEvent) == []
    out = feed(inputs.InstructionsResolved(request_id=ask.request_id, instructions="Sell."))
    assert sent_types(out) == ["session.update", "conversation.item.create"]
    assert one(out, wire.SessionUpdate).session["instructions"] == "Sell."
    assert one(out, events.HandoffEvent).to_agent is sales
    assert feed.session.current_agent is sales


def test_a_handoff_callback_runs_before_the_switch() -> None:
    sales = _sales()
    transfer = handoff(sales, on_handoff=lambda ctx: None)
    feed = _calling(agent(handoffs=[transfer]))
    out = feed(args_done("r1", "call_h", "transfer_to_sales"))
    call = one(out, effects.CallTool)
    assert call.tool is transfer
    assert sent(out) == []
    assert feed.session.current_agent is not sales
    out = feed(inputs.ToolResult(call_id="call_h", output=""))
    assert sent_types(out) == ["session.update", "conversation.item.create"]
    assert feed.session.current_agent is sales
    assert one(out, events.HandoffEvent).to_agent is sales


def test_a_failed_handoff_callback_aborts_the_switch() -> None:
    sales = _sales()
    triage = agent(handoffs=[handoff(sales, on_handoff=lambda ctx: None)])
    feed = _calling(triage)
    feed(args_done("r1", "call_h", "transfer_to_sales"))
    out = feed(inputs.ToolResult(call_id="call_h", output="Error: no seats", failed=True))
    assert feed.session.current_agent is triage
    assert sent_types(out) == ["conversation.item.create"]
    assert outputs_given(out)[0]["output"] == "Error: no seats"
    assert of_type(out, events.HandoffEvent) == []
    assert one(out, events.ToolEndEvent).failed


def test_update_agent_switches_without_a_handoff() -> None:
    sales = _sales()
    feed = Feed(started(agent()))
    out = feed(inputs.UpdateAgent(agent=sales))
    assert tools_named(one(out, wire.SessionUpdate).session) == ["quote"]
    assert of_type(out, events.HandoffEvent) == []
    assert feed.session.current_agent is sales


def test_a_handoff_callback_that_times_out_aborts_the_switch() -> None:
    triage = agent(handoffs=[handoff(_sales(), on_handoff=lambda ctx: None)])
    feed = _calling(triage, config=RunConfig(tool_timeout_s=2.0))
    out = feed(args_done("r1", "call_h", "transfer_to_sales"), now=0.0)
    assert one(out, effects.CallTool).timeout_s == 2.0
    out = feed(inputs.TimerFired(now=2.0))
    assert outputs_given(out)[0]["output"].startswith("Error: ")
    assert feed(inputs.ToolResult(call_id="call_h", output="")) == []
    assert feed.session.current_agent is triage


def test_the_follow_up_of_a_handoff_waits_for_the_targets_instructions() -> None:
    sales = Agent(name="Sales", instructions=lambda ctx: "never run")
    feed = _calling(agent(handoffs=[sales]))
    ask = one(feed(args_done("r1", "call_h", "transfer_to_sales")), effects.ResolveInstructions)
    assert creates(feed(done("r1"))) == []
    out = feed(inputs.InstructionsResolved(request_id=ask.request_id, instructions="Sell."))
    assert sent_types(out) == ["session.update", "conversation.item.create", "response.create"]
