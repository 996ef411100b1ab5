"""Output guardrails: when they run, and what a trip does."""

from __future__ import annotations

from typing import Any

import pytest
from realtime_sansio.protocol import (
    GuardrailFunctionOutput,
    GuardrailsSettings,
    LocalProtocolError,
    OutputGuardrail,
    RunConfig,
    effects,
    events,
    inputs,
    wire,
)
from session_helpers import (
    Feed,
    agent,
    audio_delta,
    created,
    creates,
    done,
    of_type,
    one,
    sent,
    sent_types,
    started,
    text_delta,
    text_done,
    transcript_delta,
    transcript_done,
)


def _never(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
    raise AssertionError("the core must not call user code")


NO_PRICES = OutputGuardrail(guardrail_function=_never, name="no_prices")
NO_SLANG = OutputGuardrail(guardrail_function=_never, name="no_slang")


def _guarded(debounce: int = 10, **kwargs: Any) -> Feed:
    """A session with a guardrail on the agent and one in the RunConfig; response r1 active."""
    config = RunConfig(
        output_guardrails=[NO_SLANG],
        guardrails_settings=GuardrailsSettings(debounce_text_length=debounce),
    )
    feed = Feed(started(agent(output_guardrails=[NO_PRICES]), config=config, **kwargs))
    feed(created("r1"), now=0.0)
    return feed


def _runs(outputs: list[Any]) -> list[effects.RunGuardrails]:
    return of_type(outputs, effects.RunGuardrails)


# -- when they run ---------------------------------------------------------------------------


def test_guardrails_run_every_debounce_length_of_transcript() -> None:
    feed = _guarded(debounce=10)
    for _ in range(6):
        feed(transcript_delta("r1", "i1", "abcd"))
    runs = _runs(feed.out)
    assert [r.text for r in runs] == ["abcd" * 3, "abcd" * 6]
    assert all((r.response_id, r.item_id) == ("r1", "i1") for r in runs)


def test_guardrails_get_the_agents_and_the_run_configs_guardrails() -> None:
    feed = _guarded(debounce=5, context={"shop": 1})
    run = one(feed(transcript_delta("r1", "i1", "Hello there")), effects.RunGuardrails)
    assert run.guardrails == (NO_PRICES, NO_SLANG)
    assert run.agent is feed.session.current_agent
    assert run.context == {"shop": 1}


def test_guardrails_run_once_more_when_the_item_is_done() -> None:
    feed = _guarded(debounce=10)
    feed(transcript_delta("r1", "i1", "It costs twelve"))
    out = feed(transcript_done("r1", "i1", "It costs twelve euros."))
    assert one(out, effects.RunGuardrails).text == "It costs twelve euros."


def test_a_reply_shorter_than_the_debounce_length_is_checked_when_done() -> None:
    feed = _guarded(debounce=100)
    assert _runs(feed(transcript_delta("r1", "i1", "Sure."))) == []
    out = feed(transcript_done("r1", "i1", "Sure."))
    assert one(out, effects.RunGuardrails).text == "Sure."


def test_text_replies_are_checked_too() -> None:
    feed = _guarded(debounce=4)
    assert one(feed(text_delta("r1", "i1", "Hello")), effects.RunGuardrails).text == "Hello"
    assert one(feed(text_done("r1", "i1", "Hello!")), effects.RunGuardrails).text == "Hello!"


def test_each_item_is_checked_on_its_own() -> None:
    feed = _guarded(debounce=8)
    feed(transcript_delta("r1", "i1", "four"))
    feed(transcript_delta("r1", "i2", "four"))
    assert _runs(feed.out) == []
    run = one(feed(transcript_delta("r1", "i1", "more")), effects.RunGuardrails)
    assert (run.item_id, run.text) == ("i1", "fourmore")


def test_no_guardrails_means_no_checks() -> None:
    feed = Feed(started())
    feed(created("r1"))
    feed(transcript_delta("r1", "i1", "x" * 500), transcript_done("r1", "i1", "x" * 500))
    assert _runs(feed.out) == []


# -- a trip ----------------------------------------------------------------------------------


def _tripping(feed: Feed, *names: str, info: tuple[Any, ...] = ()) -> list[Any]:
    (run,) = _runs(feed(transcript_delta("r1", "i1", "It costs 40 euros, mate.")))
    return feed(inputs.GuardrailResult(run_id=run.run_id, tripped=names, output_info=info))


def test_a_trip_stops_the_response_and_tells_the_model() -> None:
    feed = _guarded(debounce=10)
    feed(audio_delta("r1", "i1", 48 * 1000), now=0.0)
    feed(inputs.AudioPlayed(item_id="i1", ms=300))
    out = _tripping(feed, "no_prices", "no_slang", info=({"price": 40}, None))
    tripped = one(out, events.GuardrailTrippedEvent)
    assert tripped.guardrails == ("no_prices", "no_slang")
    assert tripped.output_info == ({"price": 40}, None)
    assert (tripped.response_id, tripped.item_id) == ("r1", "i1")
    assert tripped.text == "It costs 40 euros, mate."
    assert sent_types(out) == [
        "response.cancel",
        "conversation.item.truncate",
        "conversation.item.create",
    ]
    assert one(out, wire.ResponseCancel).response_id == "r1"
    assert one(out, wire.ConversationItemTruncate).audio_end_ms == 300
    notice = one(out, wire.ConversationItemCreate).item
    assert notice["role"] == "user"
    assert notice["content"] == [
        {"type": "input_text", "text": "guardrail triggered: no_prices, no_slang"}
    ]
    assert len(creates(feed(done("r1", status="cancelled")))) == 1


def test_a_tripped_responses_later_audio_is_not_delivered() -> None:
    feed = _guarded(debounce=10)
    feed(audio_delta("r1", "i1", 4800), now=0.0)
    _tripping(feed, "no_prices")
    assert of_type(feed(audio_delta("r1", "i1", 4800)), events.AudioEvent) == []


def test_only_the_first_trip_of_a_response_acts() -> None:
    feed = _guarded(debounce=10)
    (first,) = _runs(feed(transcript_delta("r1", "i1", "It costs 40 euros.")))
    (second,) = _runs(feed(transcript_delta("r1", "i1", " Or fifty, mate.")))
    feed(inputs.GuardrailResult(run_id=first.run_id, tripped=("no_prices",)))
    out = feed(inputs.GuardrailResult(run_id=second.run_id, tripped=("no_slang",)))
    assert of_type(out, events.GuardrailTrippedEvent) == []
    assert sent(out) == []
    assert _runs(feed(transcript_done("r1", "i1", "It costs 40 euros. Or fifty, mate!"))) == []


def test_a_passing_check_changes_nothing() -> None:
    feed = _guarded(debounce=10)
    out = _tripping(feed)
    assert of_type(out, events.GuardrailTrippedEvent) == []
    assert sent(out) == []


def test_a_trip_after_the_response_ended_asks_for_a_new_response_at_once() -> None:
    feed = _guarded(debounce=1000)
    feed(transcript_delta("r1", "i1", "40 euros"))
    (run,) = _runs(feed(transcript_done("r1", "i1", "40 euros")))
    feed(done("r1"))
    out = feed(inputs.GuardrailResult(run_id=run.run_id, tripped=("no_prices",)))
    assert sent_types(out) == ["conversation.item.create", "response.create"]


def test_a_result_for_an_unknown_run_is_the_callers_error() -> None:
    feed = _guarded()
    with pytest.raises(LocalProtocolError):
        feed(inputs.GuardrailResult(run_id="nope", tripped=("x",)))
