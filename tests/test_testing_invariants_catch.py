"""The invariants of ``realtime_sansio.protocol.testing`` catch a session that breaks them.

The real Session keeps them all (test_session_stateful), so here a stand-in plays a broken
session: each input is answered with the outputs the test scripts, and each check must name
the invariant, the step and what went wrong.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pytest
from realtime_sansio.protocol import Agent, RunConfig, Session, events, inputs, wire
from realtime_sansio.protocol.agent import function_tool, handoff
from realtime_sansio.protocol.config import SessionModelSettings
from realtime_sansio.protocol.testing import Harness, Transcript, check_chunking, invariants
from realtime_sansio.protocol.testing import harness as harness_module
from realtime_sansio.protocol.testing.server import Violation
from session_helpers import args_done, audio_delta, call_item, created, done

GREETER = Agent(name="Greeter", instructions="Greet.")


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


CONCIERGE = Agent(name="Concierge", instructions="Help.", tools=[get_weather])
FRONT_DESK = Agent(name="FrontDesk", instructions="Route.", handoffs=[handoff(CONCIERGE)])


class BrokenSession:
    """Answers the n-th input with ``replies[n]``, as a misbehaving session would."""

    def __init__(
        self,
        replies: Sequence[Sequence[Any]],
        *,
        agent: Agent = GREETER,
        agents: Sequence[Agent] = (),
        history: Iterable[str] = (),
        response_active: bool = False,
    ) -> None:
        self.replies = list(replies)
        self.current_agent = agent
        self.agents = list(agents)  # current_agent after each input, when given
        self.history = [types.SimpleNamespace(id=item_id) for item_id in history]
        self.response_active = response_active
        self.calls = 0

    def handle(self, event: Any, *, now: float | None = None) -> list[Any]:
        reply = self.replies[self.calls]
        if self.calls < len(self.agents):
            self.current_agent = self.agents[self.calls]
        self.calls += 1
        if isinstance(reply, Exception):
            raise reply
        return list(reply)


def run(replies: Sequence[Sequence[Any]], *, server: Any = None, **session: Any) -> Transcript:
    """A transcript of a broken session given one ``SendMessage`` per scripted reply."""
    transcript = Transcript(lambda: BrokenSession(replies, **session), server=server)  # type: ignore[arg-type, return-value]
    for _ in replies:
        transcript.handle(inputs.SendMessage(message="hi"))
    return transcript


def raw(event: wire.ServerEvent) -> events.RawModelEvent:
    return events.RawModelEvent(data=event)


def broken(check: Callable[..., None], transcript: Transcript, **kwargs: Any) -> str:
    with pytest.raises(AssertionError) as caught:
        check(transcript, **kwargs)
    return str(caught.value)


CREATE = wire.ResponseCreate()


# -- 1: one response at a time ---------------------------------------------------------------


def test_a_second_create_while_the_first_is_unanswered() -> None:
    said = broken(invariants.check_one_response_at_a_time, run([[CREATE], [CREATE]]))
    assert said == (
        "invariant 1 (one response at a time) broken:\n"
        "  step 1: a response.create (None) went out while response.create #0 is unanswered"
    )


def test_a_create_while_a_response_is_active() -> None:
    transcript = run([[CREATE, raw(created("resp_1"))], [wire.ResponseCreate(event_id="c2")]])
    said = broken(invariants.check_one_response_at_a_time, transcript)
    assert "step 1: a response.create (c2) went out while ['resp_1'] active" in said


def test_out_of_band_creates_and_responses_do_not_count() -> None:
    oob = wire.ResponseCreate(response={"conversation": "none"})
    transcript = run(
        [[CREATE, raw(created("resp_1"))], [oob, raw(created("resp_2", out_of_band=True))]]
    )
    invariants.check_one_response_at_a_time(transcript)
    assert transcript.facts.out_of_band == {"resp_2"}


def test_more_than_five_problems_are_counted_not_listed() -> None:
    said = broken(invariants.check_one_response_at_a_time, run([[CREATE]] * 8))
    assert said.count("went out while") == 5
    assert said.endswith("... and 2 more")


# -- 2: every request served, none invented --------------------------------------------------


def test_a_request_never_served_and_a_belief_in_an_active_response() -> None:
    transcript = run([[]], response_active=True)
    said = broken(invariants.check_requests_served, transcript)
    assert "step 0: SendMessage was never served by a response.create" in said
    assert "the run is settled but the session believes a response is active" in said


def test_a_create_that_no_request_asked_for() -> None:
    transcript = run([[CREATE, raw(created("resp_1")), raw(done("resp_1")), CREATE]])
    said = broken(invariants.check_requests_served, transcript)
    assert said == (
        "invariant 2 (no request lost, none invented) broken:\n"
        "  step 0: a response.create that no request asked for"
    )


def test_a_refused_create_does_not_serve_its_request() -> None:
    refusal = wire.ServerError(
        event_id="e",
        error=wire.ErrorDetail(
            type="invalid_request_error",
            message="busy",
            code="conversation_already_has_active_response",
            event_id="c1",
        ),
    )
    transcript = run([[wire.ResponseCreate(event_id="c1"), raw(refusal)]])
    assert transcript.facts.refused == {0}
    assert transcript.facts.in_flight is None  # the refusal answered it
    said = broken(invariants.check_requests_served, transcript)
    assert "step 0: SendMessage was never served" in said


def test_responses_without_an_id_are_ignored() -> None:
    nameless = created("resp_1")
    nameless = wire.ResponseCreated(event_id="e", response={**nameless.response, "id": None})
    over = done("resp_1")
    over = wire.ResponseDone(event_id="e2", response={**over.response, "id": 7})
    transcript = run([[CREATE, raw(nameless), raw(over)]])
    facts = transcript.facts
    assert facts.active == set() and facts.done == {}
    assert facts.in_flight == 0  # a response.created we cannot place answers nothing


# -- 3: one function_call_output per completed call ------------------------------------------


def output_for(call_id: str) -> wire.ConversationItemCreate:
    return wire.ConversationItemCreate(
        item={"type": "function_call_output", "call_id": call_id, "output": "ok"}
    )


def test_outputs_for_calls_the_server_never_completed_or_left_incomplete() -> None:
    incomplete = wire.ConversationItemDone(
        event_id="e", item=call_item("call_2", "get_weather", status="incomplete")
    )
    transcript = run([[output_for("call_1")], [raw(incomplete), output_for("call_2")]])
    said = broken(invariants.check_tool_outputs, transcript)
    assert "step 0: a function_call_output for call_1, a call the server never completed" in said
    assert "step 1: a function_call_output for call_2, a call the server left incomplete" in said


def test_a_second_output_for_one_call() -> None:
    transcript = run(
        [
            [raw(args_done("resp_1", "call_1", "get_weather")), output_for("call_1")],
            [output_for("call_1")],
        ]
    )
    said = broken(invariants.check_tool_outputs, transcript)
    assert said.endswith("step 1: a second function_call_output for call_1 (the first at step 0)")


def test_a_completed_call_without_an_output_once_settled() -> None:
    finished = wire.ResponseOutputItemDone(
        event_id="e", response_id="resp_1", output_index=0, item=call_item("call_1", "get_weather")
    )
    transcript = run([[raw(finished)]])
    invariants.check_tool_outputs(transcript)  # not yet a fault: the tool may still be running
    said = broken(invariants.check_every_call_answered, transcript)
    assert "call_1 (get_weather) has no function_call_output" in said


# -- 4: handoffs -----------------------------------------------------------------------------


def handoff_to(target: Agent, call_id: str = "call_h") -> events.HandoffEvent:
    return events.HandoffEvent(from_agent=FRONT_DESK, to_agent=target, call_id=call_id)


def offers(*names: str) -> wire.SessionUpdate:
    return wire.SessionUpdate(
        session={"type": "realtime", "tools": [{"type": "function", "name": n} for n in names]}
    )


def test_a_handoff_without_its_session_update_output_or_switch() -> None:
    transcript = run([[handoff_to(CONCIERGE)]], agent=FRONT_DESK)
    said = broken(invariants.check_handoffs, transcript)
    where = "step 0: the handoff of call_h to 'Concierge'"
    assert f"{where} has no session.update before it" in said
    assert f"{where} is not followed by its function_call_output" in said
    assert f"{where}: afterwards current_agent is 'FrontDesk'" in said


def test_a_handoff_whose_session_update_offers_the_wrong_tools() -> None:
    transcript = run(
        [[offers("transfer_to_concierge"), handoff_to(CONCIERGE), output_for("call_h")]],
        agents=[CONCIERGE],
    )
    said = broken(invariants.check_handoffs, transcript)
    assert said == (
        "invariant 4 (handoffs switch before they answer) broken:\n"
        "  step 0: the handoff of call_h to 'Concierge': its session.update offers"
        " ['transfer_to_concierge'], the agent has ['get_weather']"
    )


def test_a_handoff_done_right_passes() -> None:
    transcript = run(
        [[offers("get_weather"), handoff_to(CONCIERGE), output_for("call_h")]],
        agents=[CONCIERGE],
    )
    invariants.check_handoffs(transcript)


def test_a_handoff_tool_that_succeeded_without_a_handoff_event() -> None:
    (transfer,) = FRONT_DESK.handoffs
    end = events.ToolEndEvent(agent=FRONT_DESK, tool=transfer, call_id="call_h", output="{}")
    failed = events.ToolEndEvent(
        agent=FRONT_DESK, tool=transfer, call_id="call_f", output="Error", failed=True
    )
    transcript = run([[end, failed]], agent=FRONT_DESK)
    said = broken(invariants.check_handoffs, transcript)
    assert said.endswith(
        "step 0: the handoff call call_h succeeded without a HandoffEvent before its output"
    )
    assert "call_f" not in said  # a failed handoff need not switch


# -- 5: truncation ---------------------------------------------------------------------------


def truncate(item_id: str, ms: int, content_index: int = 0) -> wire.ConversationItemTruncate:
    return wire.ConversationItemTruncate(
        item_id=item_id, content_index=content_index, audio_end_ms=ms
    )


def test_truncations_outside_the_audio_received() -> None:
    transcript = run(
        [
            [truncate("item_x", 0)],
            [raw(audio_delta("resp_1", "item_1", 2400))],  # 50 ms of 24 kHz PCM16
            [truncate("item_1", 0, content_index=1), truncate("item_1", 60)],
            [truncate("item_1", 50)],
        ]
    )
    said = broken(invariants.check_truncations, transcript)
    assert "step 0: truncates item_x, which has received no assistant audio" in said
    assert "step 2: truncates item_1 at content 1; its audio is content 0" in said
    assert "step 2: truncates item_1 at 60 ms, past the 50.0 ms received" in said
    assert "step 3" not in said


def test_out_of_band_audio_is_neither_truncated_nor_deleted() -> None:
    transcript = run(
        [
            [raw(created("resp_9", out_of_band=True)), raw(audio_delta("resp_9", "item_9", 480))],
            [truncate("item_9", 1), wire.ConversationItemDelete(item_id="item_9")],
            [wire.ConversationItemDelete(item_id="item_unknown")],
        ]
    )
    said = broken(invariants.check_truncations, transcript)
    assert "step 1: truncates item_9, an item of an out-of-band response" in said
    assert (
        "step 1: deletes item_9, an item of the out-of-band response resp_9, which is in no"
        " conversation" in said
    )
    assert "item_unknown" not in said


def test_durations_follow_the_output_format_the_session_asked_for() -> None:
    g711 = wire.SessionUpdate(
        session={"type": "realtime", "audio": {"output": {"format": {"type": "audio/pcmu"}}}}
    )
    transcript = run([[g711, raw(audio_delta("resp_1", "item_1", 800))], [truncate("item_1", 101)]])
    # 800 bytes of 8 kHz G.711 are 100 ms (they would be 16.7 ms of 24 kHz PCM16).
    said = broken(invariants.check_truncations, transcript)
    assert "at 101 ms, past the 100.0 ms received" in said


# -- 6: history ------------------------------------------------------------------------------


def test_duplicate_and_misordered_history() -> None:
    added = wire.ConversationItemAdded(
        event_id="e", item={"id": "item_b", "type": "message"}, previous_item_id="item_a"
    )
    committed = wire.InputAudioBufferCommitted(event_id="e2", item_id="item_c")
    replies = [[raw(added), raw(committed)]]
    said = broken(invariants.check_history, run(replies, history=["item_a", "item_b", "item_a"]))
    assert "duplicate ids in the history: ['item_a', 'item_b', 'item_a']" in said
    said = broken(invariants.check_history, run(replies, history=["item_b", "item_a", "item_c"]))
    assert said.endswith("item_b comes before item_a, though the server put it after")
    invariants.check_history(run(replies, history=["item_a", "item_b", "item_c"]))


def test_a_settled_history_that_is_not_the_servers_conversation() -> None:
    server = types.SimpleNamespace(conversation=("item_a", "item_b"), violations=[])
    transcript = run([[]], history=["item_a"], server=server)
    invariants.check_history(transcript)  # mid-run the server may know more
    said = broken(invariants.check_history, transcript, settled=True)
    assert said.endswith(
        "the history ['item_a'] is not the server's conversation ['item_a', 'item_b']"
    )


def test_what_the_server_model_saw_is_reported() -> None:
    mistake = Violation(code="bad_truncate", message="past the audio", event=CREATE)
    server = types.SimpleNamespace(conversation=(), violations=[mistake])
    said = broken(invariants.check_server_view, run([[]], server=server))
    assert "bad_truncate: past the audio (for ResponseCreate(" in said


# -- 7 and 8: never raised, replay -----------------------------------------------------------


def test_a_raise_for_the_server_is_recorded_and_one_for_the_application_is_its_own() -> None:
    transcript = Transcript(
        lambda: BrokenSession([ValueError("bad frame"), KeyError("misuse")])  # type: ignore[arg-type, return-value]
    )
    with pytest.raises(AssertionError, match=r"invariant 7: Session\.handle raised ValueError"):
        transcript.handle('{"type": "garbage"}')
    with pytest.raises(KeyError, match="misuse"):
        transcript.handle(inputs.SendMessage(message="hi"))
    said = broken(invariants.check_never_raised, transcript)
    assert "step 0: ValueError('bad frame') for '{\"type\": \"garbage\"}'" in said
    assert "misuse" not in said
    assert [step.error is not None for step in transcript.steps] == [True, True]
    invariants.check_replay(transcript)  # it raises the same way again


def replays(first: list[Any], again: list[Any]) -> Transcript:
    sessions = iter([BrokenSession(first), BrokenSession(again)])
    transcript = Transcript(lambda: next(sessions))  # type: ignore[arg-type, return-value]
    for reply in first:
        try:
            transcript.handle(inputs.SendMessage(message="hi"))
        except Exception:
            assert isinstance(reply, Exception)
    return transcript


def test_a_replay_that_differs_is_caught() -> None:
    said = broken(invariants.check_replay, replays([[CREATE]], [[]]))
    assert said.startswith("invariant 8 (replay) broken at step 0 (SendMessage(")
    assert "first:  [ResponseCreate(" in said and "replay: []" in said


def test_a_replay_that_raises_or_stops_raising_is_caught() -> None:
    said = broken(invariants.check_replay, replays([[CREATE]], [RuntimeError("boom")]))
    assert "step 0 raised RuntimeError('boom') on replay, None at first" in said
    said = broken(invariants.check_replay, replays([KeyError("once")], [[CREATE]]))
    assert "invariant 8 (replay) broken at step 0" in said
    said = broken(invariants.check_replay, replays([KeyError("a")], [ValueError("b")]))
    assert "raised ValueError('b') on replay, KeyError('a') at first" in said


def test_check_all_settled_runs_the_settled_parts() -> None:
    transcript = run([[]])
    invariants.check_all(transcript)  # the request may still be served
    with pytest.raises(AssertionError, match="invariant 2"):
        invariants.check_all(transcript, settled=True)


# -- 9: chunking -----------------------------------------------------------------------------


def chunked_with(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[inputs.SendAudio], list[Any]]
) -> Callable[[], Harness]:
    """Harnesses whose session hands each ``SendAudio`` to ``change`` first (push-to-talk)."""

    class Altered(Session):
        def handle(self, event: Any, *, now: float | None = None) -> list[Any]:
            if not isinstance(event, inputs.SendAudio):
                return super().handle(event, now=now)
            return [out for e in change(event) for out in Session.handle(self, e, now=now)]

    monkeypatch.setattr(harness_module, "Session", Altered)
    config = RunConfig(model_settings=SessionModelSettings(turn_detection=None))
    return lambda: Harness(GREETER, config=config)


SECOND = bytes(48_000)  # one second of 24 kHz PCM16


def test_chunk_sizes_must_be_positive() -> None:
    for sizes in ([], [3, 0]):
        with pytest.raises(ValueError, match="chunk sizes must be >= 1"):
            check_chunking(lambda: Harness(GREETER), [SECOND], [[100], sizes])


def test_a_session_that_loses_audio_per_chunk_commits_other_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def lose_a_sample(event: inputs.SendAudio) -> list[Any]:
        return [inputs.SendAudio(data=event.data[2:], commit=event.commit)]

    make = chunked_with(monkeypatch, lose_a_sample)
    check_chunking(make, [SECOND], [[24_000], [24_000]])  # the same chunking agrees
    with pytest.raises(AssertionError) as caught:
        check_chunking(make, [SECOND, SECOND], [[24_000], [4_800]])
    assert str(caught.value) == (
        "invariant 9 (chunking) broken: chunks of [4800] committed turns of [47990, 47990]"
        " bytes, chunks of [24000] of [47998, 47998]"
    )


def test_a_session_that_says_more_per_chunk_sends_another_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def chatty(event: inputs.SendAudio) -> list[Any]:
        # An empty raw append per chunk, and a sample left in the buffer after the commit.
        hello = inputs.SendRawEvent(event={"type": "input_audio_buffer.append", "audio": ""})
        leftover = [inputs.SendAudio(data=bytes(2))] if event.commit else []
        return [event, hello, *leftover]

    make = chunked_with(monkeypatch, chatty)
    with pytest.raises(AssertionError, match=r"chunks of \[4800\] sent\n"):
        check_chunking(make, [SECOND], [[24_000], [4_800]])
