"""Regressions: races and edge cases the example tests once found broken."""

from __future__ import annotations

import json

from realtime_sansio.protocol import SessionModelSettings, effects, events, inputs, wire
from session_helpers import (
    Feed,
    agent,
    args_done,
    assistant_item,
    audio_delta,
    call_item,
    created,
    creates,
    done,
    error,
    errors,
    get_weather,
    item_added,
    of_type,
    one,
    output_item_done,
    sent,
    sent_types,
    session_updated,
    speech_started,
    started,
)


def test_a_create_refused_after_the_servers_own_response_was_created_is_not_lost() -> None:
    # VAD created a response just before ours arrived: response.created (of the VAD's
    # response) comes first, then the refusal of our create.
    s = started()
    (ours,) = creates(s.handle(inputs.SendMessage(message="hi")))
    s.handle(created("vad_1"))
    out = s.handle(error("conversation_already_has_active_response", event_id=ours.event_id))
    assert errors(out) == []
    out = s.handle(done("vad_1"))
    assert len(creates(out)) == 1


def test_a_second_interrupt_of_the_same_item_sends_nothing_while_the_cancel_is_on_its_way() -> None:
    feed = Feed(started())
    feed(created("r1"), now=10.0)
    feed(audio_delta("r1", "i1", 48_000), now=10.0)
    first = feed(inputs.Interrupt(), now=10.4)
    assert sent_types(first) == ["response.cancel", "conversation.item.truncate"]
    # response.done (cancelled) has not arrived yet
    assert sent(feed(inputs.Interrupt(), now=10.5)) == []


def test_estimated_position_is_not_floored_by_float_error() -> None:
    feed = Feed(started())
    feed(created("r1"), now=10.0)
    feed(audio_delta("r1", "i1", 48_000), now=10.0)
    out = feed(speech_started(), now=10.6)
    assert one(sent(out), wire.ConversationItemTruncate).audio_end_ms == 600


def test_a_negative_truncation_from_the_server_is_an_error_event_not_an_exception() -> None:
    s = started()
    s.handle(item_added(assistant_item("b", "Hello")))
    frame = json.dumps(
        {
            "type": "conversation.item.truncated",
            "event_id": "e1",
            "item_id": "b",
            "content_index": 0,
            "audio_end_ms": -1,
        }
    )
    out = s.handle(frame)
    assert len(errors(out)) == 1


def test_a_rejected_response_create_does_not_wedge_the_session() -> None:
    s = started()
    raw = {"type": "response.create", "response": {"max_output_tokens": 4096}}
    (ours,) = creates(s.handle(inputs.SendRawEvent(event=raw)))
    out = s.handle(error("invalid_value", event_id=ours.event_id, message="bad parameter"))
    assert one(out, events.ErrorEvent).event_id == ours.event_id
    # the server will never create that response: the next request must go out
    assert not s.response_active
    assert len(creates(s.handle(inputs.SendMessage(message="hi")))) == 1


def test_a_vad_response_is_taken_for_ours_when_no_refusal_comes() -> None:
    # Ours was the response created: no refusal, and its done frees the gate.
    s = started()
    creates(s.handle(inputs.SendMessage(message="hi")))
    s.handle(created("r1"))
    assert s.response_active
    s.handle(done("r1"))
    assert not s.response_active
    assert len(creates(s.handle(inputs.SendMessage(message="again")))) == 1


# Four more, found by the stateful tests (tests/test_session_stateful.py).


def test_a_refusal_after_two_server_responses_brings_the_request_back() -> None:
    s = started()
    (ours,) = creates(s.handle(inputs.SendMessage(message="hi")))
    s.handle(created("vad_1"))
    s.handle(done("vad_1", status="cancelled"))  # taken for ours: no refusal came while it ran
    s.handle(created("vad_2"))
    s.handle(error("conversation_already_has_active_response", event_id=ours.event_id))
    assert len(creates(s.handle(done("vad_2")))) == 1


def test_a_call_closed_incomplete_by_a_cancellation_runs_nothing() -> None:
    s = started(agent(tools=[get_weather]))
    s.handle(inputs.SendMessage(message="hi"))
    s.handle(created("r1"))
    s.handle(inputs.Interrupt())
    item = call_item("call_1", "get_weather", '{"city": "Oslo"}', status="incomplete")
    out = s.handle(output_item_done("r1", item))
    assert not of_type(out, effects.CallTool)


def test_out_of_band_audio_is_never_truncated() -> None:
    s = started()
    raw = {"type": "response.create", "response": {"conversation": "none"}}
    s.handle(inputs.SendRawEvent(event=raw))
    s.handle(created("oob_1", out_of_band=True), now=0.0)
    out = s.handle(audio_delta("oob_1", "item_oob", 4800), now=0.0)
    assert len(of_type(out, events.AudioEvent)) == 1  # still delivered
    for stop in (inputs.Interrupt(), speech_started()):
        assert not [
            e
            for e in sent(s.handle(stop, now=0.05))
            if isinstance(e, wire.ConversationItemTruncate | wire.ConversationItemDelete)
        ]


def test_an_answer_to_an_earlier_session_update_does_not_undo_a_later_one() -> None:
    s = started()
    s.handle(inputs.UpdateSession(settings=SessionModelSettings(turn_detection=None)))
    vad = {"type": "server_vad", "create_response": True, "interrupt_response": True}
    s.handle(session_updated({"audio": {"input": {"turn_detection": vad}}}))  # answers #1
    assert creates(s.handle(inputs.SendAudio(data=bytes(4800), commit=True)))


def test_a_handoff_response_ends_under_the_agent_that_started_it() -> None:
    support = agent(name="Support")
    s = started(agent(handoffs=[support]))
    s.handle(inputs.SendMessage(message="transfer me"))
    (start,) = of_type(s.handle(created("r1")), events.AgentStartEvent)
    s.handle(args_done("r1", "call_1", "transfer_to_support", "{}"))
    assert s.current_agent is support
    (end,) = of_type(s.handle(done("r1")), events.AgentEndEvent)
    assert end.agent is start.agent is not support
