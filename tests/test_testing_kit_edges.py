"""The testing kit's edges: misuse of the server model, the harness and the scripts is refused
with a clear error; the schema strategy covers the JSON Schema that tool schemas use; the
machine's less common options (text-only out-of-band answers, quiet before speech) run."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import Agent, inputs, testing, wire
from realtime_sansio.protocol.errors import LocalProtocolError
from realtime_sansio.protocol.testing import (
    Harness,
    ResponseScript,
    ScriptAudio,
    ScriptCall,
    ScriptText,
    ServerModel,
)
from realtime_sansio.protocol.testing.strategies import SessionMachine, json_for_schema

GREETER = Agent(name="Greeter", instructions="Greet.")

# -- the scripts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: ScriptText(text="hi", chunk=0), "ScriptText.chunk must be >= 1"),
        (lambda: ScriptCall(name="f", chunk=True), "ScriptCall.chunk must be >= 1"),
        (
            lambda: ScriptAudio(transcript="a", duration_ms=-1),
            "ScriptAudio.duration_ms must be >= 0",
        ),
        (lambda: ScriptAudio(transcript="a", chunk_ms=1.5), "ScriptAudio.chunk_ms must be >= 1"),
        (
            lambda: ResponseScript(outputs=["hello"]),
            "holds ScriptText, ScriptAudio or ScriptCall, not 'hello'",
        ),
    ],
)
def test_bad_scripts_are_refused(make: Any, says: str) -> None:
    with pytest.raises(LocalProtocolError, match=says):
        make()


# -- the server model ------------------------------------------------------------------------


def test_the_server_model_refuses_misuse() -> None:
    server = ServerModel()
    with pytest.raises(LocalProtocolError, match="script\\(\\) takes ResponseScript objects"):
        server.script(ScriptText(text="hi"))  # type: ignore[arg-type]
    server.script(ResponseScript(outputs=[ScriptText(text="hi")]))
    assert server.pending_scripts() == 1
    assert server.pending_scripts(out_of_band=True) == 0
    with pytest.raises(LocalProtocolError, match="speech_stopped\\(\\) without speech_started"):
        server.speech_stopped()
    server.speech_started()
    with pytest.raises(LocalProtocolError, match="the user is already speaking"):
        server.speech_started()
    server.speech_stopped()  # and VAD starts a response
    response_id = server.active_response_id
    with pytest.raises(LocalProtocolError, match=f"response {response_id} is active"):
        server.start_response()
    with pytest.raises(LocalProtocolError, match=f"late_call\\(\\): {response_id} is not an ended"):
        server.late_call(str(response_id), "f", "{}")
    with pytest.raises(LocalProtocolError, match="drain\\(\\): the responses did not end"):
        server.drain(limit=1)
    assert server.pending_scripts() == 0  # the VAD response took the script


def test_the_server_model_names_bad_items_as_the_real_server_would() -> None:
    server = ServerModel(id_factory=lambda prefix: f"{prefix}-{len(prefix)}")
    assert server.new_id("item") == "item-4"  # the injected factory names everything
    bad_kind = wire.ConversationItemCreate(item={"type": "reasoning"})
    (error,) = server.receive(bad_kind)
    assert isinstance(error, wire.ServerError)
    assert (error.error.code, error.error.message) == (
        "invalid_value",
        "unknown item type 'reasoning'",
    )
    message = {"type": "message", "role": "user", "content": [], "id": "item_1"}
    server.receive(wire.ConversationItemCreate(item=message))
    (error,) = server.receive(wire.ConversationItemCreate(item=message))
    assert isinstance(error, wire.ServerError)
    assert error.error.code == "item_already_exists"
    assert [v.code for v in server.violations] == ["invalid_value", "item_already_exists"]


def test_an_unreadable_audio_format_counts_as_pcm16() -> None:
    # The server model stays usable whatever session it is given: an unknown format is PCM16.
    session = {"type": "realtime", "audio": {"output": {"format": {"type": "audio/flac"}}}}
    server = ServerModel(session=session)
    server.script(ResponseScript(outputs=[ScriptAudio(transcript="hi", duration_ms=100)]))
    events = server.start_response() + server.drain()
    audio = b"".join(e.delta for e in events if isinstance(e, wire.ResponseOutputAudioDelta))
    assert len(audio) == 4800  # 100 ms of 24 kHz PCM16


# -- the harness -----------------------------------------------------------------------------


def test_the_harness_clock_only_moves_forward() -> None:
    harness = Harness(GREETER)
    with pytest.raises(LocalProtocolError, match="the clock only moves forward"):
        harness.advance(-0.5)
    assert harness.clock == 0.0


def test_a_run_that_cannot_settle_says_what_is_open() -> None:
    harness = Harness(GREETER)
    harness.handle(inputs.SendMessage(message="hi"))
    with pytest.raises(
        AssertionError,
        match=r"did not settle in 1 rounds: 0 client and \d+ server events in flight,"
        r" responses \(.resp_1.,\) active",
    ):
        harness.settle(max_rounds=1)
    harness.settle()
    assert harness.settled


def test_the_package_names_what_it_lacks() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Machine'"):
        testing.Machine  # noqa: B018
    assert testing.SessionMachine is SessionMachine


# -- the schema strategy ---------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {
        "unit": {"$ref": "#/$defs/Unit"},
        "kind": {"const": "forecast"},
        "days": {"type": "array", "items": {"type": "integer"}},
        "note": {"type": ["string", "null"]},
        "labels": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "anything": {"type": "array", "items": True},
    },
    "required": ["unit", "kind", "days", "note", "labels", "anything"],
    "$defs": {"Unit": {"enum": ["celsius", "fahrenheit"]}},
}


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_values_drawn_for_a_schema_conform_to_it(data: st.DataObject) -> None:
    value = data.draw(json_for_schema(SCHEMA))
    assert value["unit"] in ("celsius", "fahrenheit")
    assert value["kind"] == "forecast"
    assert all(isinstance(day, int) for day in value["days"]) and len(value["days"]) <= 2
    assert value["note"] is None or isinstance(value["note"], str)
    assert all(isinstance(k, str) and isinstance(v, bool) for k, v in value["labels"].items())
    assert value["anything"] == []  # items that are not a schema object: nothing to draw


@given(st.data())
def test_nesting_stops_at_three_levels(data: st.DataObject) -> None:
    nested: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
    for _ in range(3):
        nested = {"type": "array", "items": nested}
    value = data.draw(json_for_schema(nested))
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth <= 3 and value in ([], *([value] if isinstance(value, list) else []))


# -- the machine -----------------------------------------------------------------------------


def test_a_machine_without_an_agent_says_so() -> None:
    class Nameless(SessionMachine):
        pass

    with pytest.raises(TypeError, match="Nameless must set the class attribute agent = Agent"):
        Nameless()


class QuietTextMachine(SessionMachine):
    """Everything in flight lands before the user speaks; out-of-band answers are text."""

    agent = GREETER
    out_of_band_audio = False
    quiet_before_speech = True


QuietTextMachine.TestCase.settings = settings(
    max_examples=12, stateful_step_count=25, deadline=None
)
TestQuietText = QuietTextMachine.TestCase


def test_a_broken_machine_does_not_settle_on_teardown() -> None:
    machine = QuietTextMachine()
    machine.harness.handle(inputs.SendMessage(message="hi"))
    machine.broken = True  # a rule failed: its error is the one to report
    machine.teardown()
    assert not machine.harness.settled
    machine.broken = False
    machine.teardown()
    assert machine.harness.settled
