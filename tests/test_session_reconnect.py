"""The Session across connections, in the pure core: a Harness (Session + ServerModel) whose
connection drops and opens again, driven step by step, on the harness's virtual clock.

The policy: which drops and failed attempts are retried, the backoff and its cap, the jitter
left to the driver, giving up (a final error, the session closed); commands queued and
audio buffered while offline, both bounded, with what does not fit refused or reported.

Regressions the stateful machine with drops found: calls a replay held back (still running)
land where the server puts them; a ``response.create`` answered by a response that made
calls is not asked again after a drop.
"""

from __future__ import annotations

import json
from typing import TypeVar

import pytest
from realtime_sansio.protocol import (
    Agent,
    ReconnectPolicy,
    RunConfig,
    SessionModelSettings,
    effects,
    events,
    function_tool,
    inputs,
    wire,
)
from realtime_sansio.protocol.errors import LocalProtocolError
from realtime_sansio.protocol.items import InputText, UserMessage
from realtime_sansio.protocol.testing import Harness, check_all
from realtime_sansio.protocol.testing.scripts import ResponseScript, ScriptCall

T = TypeVar("T")


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


# -- the policy: what retries, how long it waits, when it gives up -------------------------


def outputs_of_last_step(harness: Harness) -> list[object]:
    return list(harness.transcript.steps[-1].outputs)


def all_outputs(harness: Harness) -> list[object]:
    return [output for step in harness.transcript.steps for output in step.outputs]


def of_type(outputs: list[object], kind: type[T]) -> list[T]:
    return [o for o in outputs if isinstance(o, kind)]


def started(config: RunConfig | None = None) -> Harness:
    harness = Harness(weather, config=config)
    harness.settle()
    return harness


@pytest.mark.parametrize("code", [1006, 1011, 1012, 1013, 1001, None])
def test_a_drop_worth_retrying_asks_for_a_new_connection(code: int | None) -> None:
    harness = started()
    harness.drop(code, "gone")
    outputs = outputs_of_last_step(harness)
    (reconnecting,) = of_type(outputs, events.ReconnectingEvent)
    assert (reconnecting.attempt, reconnecting.delay_s, reconnecting.code) == (1, 0.25, code)
    (effect,) = of_type(outputs, effects.OpenConnection)
    # The jitter is the driver's to draw: the core only says how much, so it stays pure.
    assert (effect.reason, effect.attempt, effect.delay_s) == ("reconnect", 1, 0.25)
    assert effect.jitter_s == pytest.approx(0.25 * ReconnectPolicy().jitter)
    assert not harness.session.closed and harness.session.reconnecting
    harness.reconnect()
    harness.settle()
    assert of_type(all_outputs(harness), events.ReconnectedEvent)


@pytest.mark.parametrize("code", [1000, 4000, 1008, 1002])
def test_a_drop_not_worth_retrying_ends_the_session(code: int) -> None:
    harness = started()
    harness.drop(code, "no")
    outputs = outputs_of_last_step(harness)
    assert not of_type(outputs, effects.OpenConnection)
    assert of_type(outputs, events.ConnectionClosedEvent)[0].code == code
    assert harness.session.closed
    with pytest.raises(LocalProtocolError, match="connection was lost"):
        harness.handle(inputs.SendMessage(message="still there?"))


def test_the_applications_close_is_never_retried() -> None:
    harness = started()
    harness.handle(inputs.Close())
    harness.drop(1006, "closing")
    assert not harness.open_requests
    assert harness.session.closed


def test_without_a_policy_a_drop_ends_the_session() -> None:
    harness = started(RunConfig(reconnect=None))
    harness.drop(1006, "gone")
    assert not harness.open_requests and harness.session.closed


@pytest.mark.parametrize("status", [None, 408, 500, 503])
def test_a_failed_attempt_worth_another_backs_off(status: int | None) -> None:
    # None: a network error or a handshake that timed out; 408 a timeout; 5xx the server's.
    harness = started()
    harness.drop(1006, "gone")
    harness.fail_connect(status)
    outputs = outputs_of_last_step(harness)
    (effect,) = of_type(outputs, effects.OpenConnection)
    assert (effect.attempt, effect.delay_s) == (2, 0.5)
    assert of_type(outputs, events.ReconnectingEvent)[0].code == status
    harness.reconnect()
    harness.settle()
    (reconnected,) = of_type(all_outputs(harness), events.ReconnectedEvent)
    assert reconnected.attempt == 2


@pytest.mark.parametrize(
    ("status", "permanent"), [(401, False), (403, False), (429, False), (None, True)]
)
def test_a_failed_attempt_that_cannot_improve_ends_the_session(
    status: int | None, permanent: bool
) -> None:
    # 401/403: the key; 429: quota or rate; permanent: no key, a malformed URL (the driver's).
    harness = started()
    harness.drop(1006, "gone")
    harness.fail_connect(status, permanent=permanent)
    outputs = outputs_of_last_step(harness)
    assert not of_type(outputs, effects.OpenConnection)
    assert of_type(outputs, events.ConnectionClosedEvent)
    assert harness.session.closed


def test_attempts_run_out_with_a_final_error_and_the_session_closed() -> None:
    policy = ReconnectPolicy(max_attempts=4, initial_delay_s=1.0, multiplier=3.0, max_delay_s=5.0)
    harness = started(RunConfig(reconnect=policy))
    harness.drop(1011, "server error")
    delays = []
    while harness.open_requests:
        delays.append(harness.open_requests[0].delay_s)
        harness.fail_connect(503)
    assert delays == [1.0, 3.0, 5.0, 5.0]  # multiplied, then capped at max_delay_s
    outputs = outputs_of_last_step(harness)
    (error,) = of_type(outputs, events.ErrorEvent)
    assert error.code == "reconnect_failed" and "4 attempts" in error.message
    assert of_type(outputs, events.ConnectionClosedEvent)[0].code == 1011
    assert harness.session.closed
    with pytest.raises(LocalProtocolError, match="4 attempts to reconnect failed"):
        harness.handle(inputs.SendMessage(message="hello?"))


def test_a_connection_that_drops_at_once_goes_on_counting_attempts() -> None:
    # A server that accepts and drops at once must not get an endless loop.
    policy = ReconnectPolicy(max_attempts=3, stable_after_s=30.0)
    harness = started(RunConfig(reconnect=policy))
    attempts = []
    while not harness.session.closed:
        harness.drop(1006, "flapping")
        if harness.open_requests:
            attempts.append(harness.open_requests[0].attempt)
            harness.reconnect()
    assert attempts == [1, 2, 3]
    # One that lived past stable_after_s has worked: the next outage starts from 1 again.
    harness = started(RunConfig(reconnect=policy))
    harness.drop(1006, "gone")
    harness.reconnect()
    harness.settle()
    harness.advance(31.0)
    harness.drop(1006, "gone again")
    assert harness.open_requests[0].attempt == 1


# -- offline: commands queue, audio is buffered, both bounded -----------------------------


def test_commands_wait_in_order_and_their_queue_is_bounded() -> None:
    harness = started(RunConfig(max_pending_app_inputs=2))
    harness.drop(1006, "gone")
    harness.handle(inputs.SendMessage(message="first"))
    harness.handle(inputs.SendMessage(message="second"))
    with pytest.raises(LocalProtocolError, match=r"max_pending_app_inputs.*SendMessage refused"):
        harness.handle(inputs.SendMessage(message="third"))
    assert not harness.to_server  # nothing is sent while offline
    harness.reconnect()
    harness.settle()
    said = [
        part.text
        for item in harness.session.history
        if isinstance(item, UserMessage)
        for part in item.content
        if isinstance(part, InputText)
    ]
    assert said == ["first", "second"]
    check_all(harness.transcript, settled=True)


def test_audio_past_the_buffer_is_dropped_and_reported() -> None:
    policy = ReconnectPolicy(max_buffered_audio_s=0.1)  # 4,800 bytes of PCM16 at 24 kHz
    harness = started(RunConfig(reconnect=policy, model_settings=PUSH_TO_TALK.model_settings))
    harness.drop(1006, "gone")
    kept, lost = b"\x01\x00" * 1500, b"\x02\x00" * 1500
    harness.handle(inputs.SendAudio(data=kept))
    harness.handle(inputs.SendAudio(data=lost))  # 6,000 bytes would not fit
    (error,) = of_type(outputs_of_last_step(harness), events.ErrorEvent)
    assert error.code == "input_audio_dropped" and "max_buffered_audio_s" in error.message
    harness.handle(inputs.SendAudio(data=lost))  # reported once per outage
    assert not of_type(outputs_of_last_step(harness), events.ErrorEvent)
    harness.handle(inputs.SendAudio(data=b"\x03\x00" * 900, commit=True))  # 1,800: fits
    reconnected_at = len(harness.transcript.steps)
    harness.reconnect()
    harness.settle()
    after = [o for step in harness.transcript.steps[reconnected_at:] for o in step.outputs]
    sent = b"".join(o.audio for o in of_type(after, wire.InputAudioBufferAppend))
    assert sent == kept + b"\x03\x00" * 900
    assert of_type(after, wire.InputAudioBufferCommit)
    (reconnected,) = of_type(all_outputs(harness), events.ReconnectedEvent)
    assert reconnected.audio_dropped_ms == pytest.approx(2 * 3000 / 48)


# -- moves that overlap ----------------------------------------------------------------------


def test_a_drop_while_a_recycles_connection_opens_waits_for_that_connection() -> None:
    harness = started(RunConfig(recycle_after_s=10.0))
    harness.advance(11.0)  # old and quiet: the session asks for a new connection
    (recycle,) = harness.open_requests
    assert recycle.reason == "recycle"
    harness.drop(1006, "gone")
    # The connection already opening serves the outage: no second one is asked for.
    assert not of_type(outputs_of_last_step(harness), effects.OpenConnection)
    assert harness.session.reconnecting
    harness.reconnect()
    harness.settle()
    (reconnected,) = of_type(all_outputs(harness), events.ReconnectedEvent)
    assert reconnected.attempt == 1
    assert not of_type(all_outputs(harness), events.SessionRecycledEvent)


def test_a_replayed_item_the_server_refuses_does_not_hold_the_reconnection_up() -> None:
    harness = started()
    harness.handle(inputs.SendMessage(message="Remember this"))
    harness.settle()
    harness.drop(1006, "gone")
    harness.reconnect()
    creates = of_type(outputs_of_last_step(harness), wire.ConversationItemCreate)
    refused = {
        "type": "error",
        "event_id": "event_refusal",
        "error": {
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "The item id is already in use.",
            "param": "item.id",
            "event_id": creates[0].event_id,
        },
    }
    harness.handle(json.dumps(refused))
    harness.settle()
    outputs = all_outputs(harness)
    assert [e.code for e in of_type(outputs, events.ErrorEvent)] == ["invalid_value"]
    (reconnected,) = of_type(outputs, events.ReconnectedEvent)
    assert reconnected.items_replayed == len(creates)


def test_a_response_before_the_last_echo_ends_the_move() -> None:
    # The server answers in order: a response it starts comes after every replayed item.
    harness = started()
    harness.handle(inputs.SendMessage(message="Remember this"))
    harness.settle()
    harness.drop(1006, "gone")
    harness.reconnect()
    created = {
        "type": "response.created",
        "event_id": "event_early",
        "response": {"id": "resp_early", "object": "realtime.response", "status": "in_progress"},
    }
    outputs = harness.handle(json.dumps(created))
    assert of_type(list(outputs), events.ReconnectedEvent)


def test_a_reconnect_before_the_first_instructions_waits_for_them() -> None:
    dynamic = Agent(name="Dynamic", instructions=lambda context: "Be brief.")
    harness = Harness(dynamic)
    (request,) = harness.instruction_requests
    harness.drop(1006, "gone")
    harness.reconnect()
    assert not of_type(outputs_of_last_step(harness), wire.SessionUpdate)  # not yet
    harness.resolve_instructions(request, "Be brief.")
    (update,) = of_type(outputs_of_last_step(harness), wire.SessionUpdate)
    assert update.session["instructions"] == "Be brief."
    harness.settle()
    check_all(harness.transcript, settled=True)


def test_a_recycle_that_fails_keeps_the_old_connection_and_tries_again() -> None:
    harness = started(RunConfig(recycle_after_s=10.0))
    harness.advance(11.0)
    harness.fail_connect(503)
    (error,) = of_type(outputs_of_last_step(harness), events.ErrorEvent)
    assert error.code == "recycle_failed"
    assert not harness.session.reconnecting and not harness.session.closed
    harness.handle(inputs.SendMessage(message="still here"))  # the old connection serves
    harness.settle()
    harness.advance(ReconnectPolicy().delay(2))  # a little later, quiet: again
    (again,) = harness.open_requests
    assert again.reason == "recycle"
    harness.reconnect()
    harness.settle()
    (recycled,) = of_type(all_outputs(harness), events.SessionRecycledEvent)
    assert recycled.age_s == pytest.approx(11.5) and recycled.items_replayed == 2


def test_a_commit_whose_audio_did_not_fit_still_ends_the_turn() -> None:
    policy = ReconnectPolicy(max_buffered_audio_s=0.05)
    harness = started(RunConfig(reconnect=policy, model_settings=PUSH_TO_TALK.model_settings))
    harness.drop(1006, "gone")
    harness.handle(inputs.SendAudio(data=bytes(4800), commit=True))  # 0.1 s: too long
    assert of_type(outputs_of_last_step(harness), events.ErrorEvent)
    reconnected_at = len(harness.transcript.steps)
    harness.reconnect()
    harness.settle()
    after = [o for step in harness.transcript.steps[reconnected_at:] for o in step.outputs]
    assert of_type(after, wire.InputAudioBufferCommit)


def test_a_connect_failed_that_answers_no_request_is_refused() -> None:
    harness = started()
    with pytest.raises(LocalProtocolError, match="answers an OpenConnection, and none is open"):
        harness.handle(inputs.ConnectFailed(reason="refused"))


def test_a_connect_failed_after_the_close_is_refused_too() -> None:
    # Closing forgets the attempt under way (the driver drops its answer once closed).
    harness = started()
    harness.drop(1006, "gone")
    harness.handle(inputs.Close())
    with pytest.raises(LocalProtocolError, match="none is open"):
        harness.fail_connect(503)
    assert harness.session.closed
