"""The Session at its edges: misuse refused at once, answers that come after the close, server
events missing what the session needs, refusals that release a deferred request, a guardrail
trip that leaves another response's audio alone, and follow-ups past the tracking bound."""

from __future__ import annotations

import pytest
from realtime_sansio.protocol import Agent, effects, events, inputs, wire
from realtime_sansio.protocol import Session as PlainSession
from realtime_sansio.protocol._recent import MAX_TRACKED_RESPONSES
from realtime_sansio.protocol.agent import GuardrailFunctionOutput, output_guardrail
from realtime_sansio.protocol.config import SessionModelSettings, TracingConfig
from realtime_sansio.protocol.errors import LocalProtocolError
from session_helpers import (
    Feed,
    Session,
    active_response,
    agent,
    args_done,
    audio_delta,
    created,
    creates,
    done,
    error,
    errors,
    item_added,
    notable,
    of_type,
    one,
    outputs_given,
    response,
    sent,
    sent_types,
    started,
    tool,
    transcript_done,
    user_transcript_delta,
)

# -- misuse ----------------------------------------------------------------------------------


def test_a_session_needs_an_agent_and_a_known_dialect() -> None:
    with pytest.raises(LocalProtocolError, match="Session needs an Agent, got str"):
        PlainSession("Assistant")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="unknown dialect 'xml'; expected 'ga' or 'beta'"):
        PlainSession(agent(), dialect="xml")  # type: ignore[arg-type]


def test_handle_names_what_it_cannot_take() -> None:
    session = started()
    with pytest.raises(LocalProtocolError, match=r"Session\.handle cannot take object: give it an"):
        session.handle(object())  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="Connected arrived twice"):
        session.handle(inputs.Connected())
    assert session.ready  # misuse changed nothing


def test_closing_twice_closes_once() -> None:
    session = started()
    first = session.handle(inputs.Close())
    assert of_type(first, effects.CloseConnection)
    assert session.handle(inputs.Close()) == []


# -- answers after the close -----------------------------------------------------------------


def test_instructions_resolved_after_the_close_are_dropped() -> None:
    session = Session(Agent(name="Dynamic", instructions=lambda ctx, who: "Be kind."))
    request = one(session.handle(inputs.Connected()), effects.ResolveInstructions)
    session.handle(inputs.Close())
    late = inputs.InstructionsResolved(request_id=request.request_id, instructions="Be kind.")
    assert session.handle(late) == []


def test_an_approval_after_the_close_is_refused() -> None:
    session = started(agent(tools=[tool("delete_file", needs_approval=True)]))
    active_response(session)
    session.handle(args_done("r1", "call_1", "delete_file", '{"n": 1}'))
    session.handle(inputs.Close())
    with pytest.raises(LocalProtocolError, match="cannot answer the approval: the session was"):
        session.handle(inputs.ApproveTool(call_id="call_1"))


@output_guardrail
def no_secrets(ctx: object, who: Agent, text: str) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(tripwire_triggered="secret" in text)


def test_a_guardrail_verdict_after_the_close_trips_nothing() -> None:
    session = started(agent(output_guardrails=[no_secrets]))
    active_response(session)
    run = one(session.handle(transcript_done("r1", "item_1", "a secret")), effects.RunGuardrails)
    session.handle(inputs.Close())
    assert session.handle(inputs.GuardrailResult(run_id=run.run_id, tripped=("no_secrets",))) == []


# -- server events that lack what the session needs ------------------------------------------


def test_server_events_without_ids_are_errors_not_crashes() -> None:
    session = started()
    nameless = {**response("r1", status="completed"), "id": None}
    said = errors(session.handle(wire.ResponseDone(event_id="e", response=nameless)))
    assert [e.message for e in said] == ["response.done: the response has no string 'id'"]
    said = errors(session.handle(item_added({"type": "message", "role": "user", "content": []})))
    assert [e.message for e in said] == ["conversation.item.added: the item has no id"]
    assert list(session.history) == []


def test_shapes_the_session_does_not_read_are_passed_over() -> None:
    session = started()
    odd = wire.SessionUpdated(event_id="e", session={"type": "realtime", "audio": "pcm"})
    assert notable(session.handle(odd)) == []
    assert notable(session.handle(user_transcript_delta("item_1", ""))) == []


# -- responses -------------------------------------------------------------------------------


def test_a_refused_create_releases_the_deferred_request() -> None:
    session = started()
    first = creates(session.handle(inputs.SendMessage(message="one")))[0]
    assert creates(session.handle(inputs.SendMessage(message="two"))) == []  # deferred
    outputs = session.handle(error("invalid_value", first.event_id))
    assert [e.code for e in errors(outputs)] == ["invalid_value"]
    (again,) = creates(outputs)
    assert again.event_id != first.event_id


def test_tracing_is_sent_once_at_the_start() -> None:
    session = started()
    update = inputs.UpdateSession(
        settings=SessionModelSettings(tracing=TracingConfig(workflow_name="w"), speed=1.1)
    )
    (event,) = sent(session.handle(update))
    assert isinstance(event, wire.SessionUpdate)
    assert "tracing" not in event.session  # GA refuses to change it afterwards
    assert event.session["audio"]["output"]["speed"] == 1.1


def test_a_guardrail_trip_cuts_only_its_own_response() -> None:
    session = started(agent(output_guardrails=[no_secrets]))
    feed = Feed(session)
    active_response(session, "r1", now=0.0)
    feed(audio_delta("r1", "item_1", 96_000), done("r1"), now=0.0)  # two seconds of audio
    feed(inputs.SendMessage(message="more"), created("r2"), now=0.5)
    run = one(feed(transcript_done("r2", "item_2", "the secret"), now=0.5), effects.RunGuardrails)
    outputs = feed(inputs.GuardrailResult(run_id=run.run_id, tripped=("no_secrets",)), now=1.0)
    one(outputs, events.GuardrailTrippedEvent)
    assert [e.response_id for e in sent(outputs) if isinstance(e, wire.ResponseCancel)] == ["r2"]
    # r1's item is still being heard: it is not truncated.
    assert not [e for e in sent(outputs) if isinstance(e, wire.ConversationItemTruncate)]


def test_calls_of_a_response_forgotten_past_the_bound_get_outputs_but_no_follow_up() -> None:
    session = started(agent(tools=[tool("lookup")]))
    feed = Feed(session)
    feed(created("r0"), args_done("r0", "call_0", "lookup", '{"n": 0}'), done("r0"))
    (first,) = [c for c in of_type(feed.out, effects.CallTool) if c.call_id == "call_0"]
    for n in range(1, MAX_TRACKED_RESPONSES + 1):
        feed(created(f"r{n}"), args_done(f"r{n}", f"call_{n}", "lookup", '{"n": 1}'))
        feed(done(f"r{n}"))
    outputs = session.handle(inputs.ToolResult(call_id=first.call_id, output="found"))
    assert [o["call_id"] for o in outputs_given(outputs)] == ["call_0"]
    assert "response.create" not in sent_types(outputs)
    # A call of a response still tracked is followed up as usual.
    last = f"call_{MAX_TRACKED_RESPONSES}"
    outputs = session.handle(inputs.ToolResult(call_id=last, output="found"))
    assert sent_types(outputs) == ["conversation.item.create", "response.create"]
