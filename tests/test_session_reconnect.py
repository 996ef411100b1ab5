"""The Session across connections, in the pure core: a Harness (Session + ServerModel) whose
connection drops and opens again, driven step by step.

Regressions the stateful machine with drops found: calls a replay held back (still running)
land where the server puts them; a ``response.create`` answered by a response that made
calls is not asked again after a drop.
"""

from __future__ import annotations

from realtime_sansio.protocol import (
    Agent,
    RunConfig,
    SessionModelSettings,
    function_tool,
    inputs,
    wire,
)
from realtime_sansio.protocol.testing import Harness, check_all
from realtime_sansio.protocol.testing.scripts import ResponseScript, ScriptCall


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


weather = Agent(name="Weather", instructions="Be brief.", tools=[get_weather])
PUSH_TO_TALK = RunConfig(model_settings=SessionModelSettings(turn_detection=None))
TWO_CALLS = ResponseScript(
    outputs=(
        ScriptCall(name="get_weather", arguments='{"city": "Oslo"}'),
        ScriptCall(name="get_weather", arguments='{"city": "Rome"}'),
    )
)


def stream_until_calls(harness: Harness, count: int) -> None:
    """Run the server's response until the session has asked for ``count`` tool calls."""
    harness.deliver_to_server()
    while len(harness.tool_calls) < count:
        assert harness.server.active_response_ids, "the response ended before its calls"
        harness.server_does(harness.server.step())
        harness.deliver_to_client()


def same_order(harness: Harness) -> None:
    ids = [item.id for item in harness.session.history]
    assert ids == list(harness.server.conversation)


def test_calls_running_over_a_drop_land_where_the_server_puts_them() -> None:
    # Both were sent "in their old place" after the replay, chained to the same item: the
    # second went before the first at the server, and the history disagreed with it.
    harness = Harness(weather)
    harness.settle()
    harness.server.script(TWO_CALLS)
    harness.handle(inputs.SendMessage(message="Weather in Oslo and Rome?"))
    stream_until_calls(harness, 2)
    harness.drop(1006)
    harness.reconnect()
    while harness.to_server or harness.to_client:  # the replay, the calls still running
        harness.deliver_to_server()
        harness.deliver_to_client()
    first, second = sorted(harness.tool_calls)
    harness.answer_tool(first, "Sunny")
    harness.answer_tool(second, "Rainy")
    harness.settle()
    same_order(harness)
    kinds = [type(item).__name__ for item in harness.session.history]
    assert kinds[-5:] == [
        "FunctionCall",
        "FunctionCallOutput",
        "FunctionCall",
        "FunctionCallOutput",
        "AssistantMessage",
    ]
    check_all(harness.transcript, settled=True)


def test_a_held_call_goes_after_a_turn_queued_while_offline() -> None:
    # The session put the call last in its history when it sent it, while the server put
    # the user's turn (committed first) before it.
    harness = Harness(weather, config=PUSH_TO_TALK)
    harness.settle()
    harness.server.script(
        ResponseScript(outputs=(ScriptCall(name="get_weather", arguments='{"city": "Oslo"}'),))
    )
    harness.handle(inputs.SendMessage(message="Weather?"))
    stream_until_calls(harness, 1)
    harness.drop(1006)
    harness.handle(inputs.SendAudio(data=bytes(4800), commit=True))
    harness.reconnect()
    (call_id,) = harness.tool_calls
    harness.answer_tool(call_id, "Sunny")
    harness.settle()
    same_order(harness)
    check_all(harness.transcript, settled=True)


def test_a_request_answered_by_a_response_that_made_calls_is_not_asked_again() -> None:
    # The response.create was still "in flight" (the response it started had not ended):
    # the drop took it for unanswered and asked again on the new connection, on top of the
    # calls' follow-up.
    harness = Harness(weather, config=PUSH_TO_TALK)
    harness.settle()
    harness.server.script(
        ResponseScript(outputs=(ScriptCall(name="get_weather", arguments='{"city": "Oslo"}'),))
    )
    harness.handle(inputs.SendRawEvent(event=wire.ResponseCreate()))
    stream_until_calls(harness, 1)
    harness.drop(1006)
    harness.reconnect()
    connected = harness.transcript.steps[-1]
    assert isinstance(connected.input, inputs.Connected)
    assert not [o for o in connected.outputs if isinstance(o, wire.ResponseCreate)]
    harness.settle()
    check_all(harness.transcript, settled=True)
