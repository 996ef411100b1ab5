"""The fake server's scripts and faults, its beta dialect, robustness against any frame, and a
real Session conversing with it in memory."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from fake_helpers import WEATHER, Client, check, errors, events, kinds, one
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import validate_beta_client_event, validate_client_event
from realtime_sansio.protocol import (
    Agent,
    LocalProtocolError,
    Session,
    effects,
    function_tool,
    inputs,
    wire,
)
from realtime_sansio.protocol import (
    events as session_events,
)
from realtime_sansio.protocol.fake import (
    CloseConnection,
    Delay,
    DropAfter,
    ErrorEvent,
    Expect,
    Expire,
    FakeRealtimeServer,
    FakeScript,
    FakeServerConfig,
    Garbage,
    Mismatch,
    RawFrame,
    Respond,
    Send,
    ServerOutput,
    UnknownEvent,
)
from realtime_sansio.protocol.items import AssistantMessage
from realtime_sansio.protocol.testing import ScriptAudio, ScriptCall, ScriptText
from realtime_sansio.protocol.wire import Dialect

RATE_LIMITS = {"type": "rate_limits.updated", "rate_limits": []}


def scripted(*steps: Any, **config: Any) -> Client:
    return Client(FakeRealtimeServer(FakeServerConfig(**config), script=steps))


def test_expect_answers_after_the_normal_handling() -> None:
    client = scripted(Expect(type="session.update", then=[RATE_LIMITS]))
    out = client.update(instructions="Hi.")
    assert kinds(out) == ["session.updated", "rate_limits.updated"]
    assert out[1].event_id.startswith("event_")  # type: ignore[union-attr]
    assert client.server.mismatches == []


def test_expect_without_handling_swallows_the_event() -> None:
    client = scripted(Expect(type="response.create", then=[RATE_LIMITS], handle=False))
    assert kinds(client.send(wire.ResponseCreate())) == ["rate_limits.updated"]
    assert client.server.model.response_origins == {}


def test_a_mismatch_is_recorded_and_answered_never_raised() -> None:
    client = scripted(Expect(type="response.create"), Send(events=[RATE_LIMITS]))
    client.send(wire.InputAudioBufferAppend(audio=bytes(480)))  # ignored by default
    out = client.send(wire.InputAudioBufferClear(event_id="c1"))
    assert kinds(out) == ["error", "input_audio_buffer.cleared"]  # still handled
    assert errors(out)[0].code == "script_mismatch" and errors(out)[0].event_id == "c1"
    assert client.server.mismatches == [
        Mismatch(
            step=0, expected="response.create", actual="input_audio_buffer.clear", event_id="c1"
        )
    ]
    # The step still waits for its event, then the script goes on.
    assert kinds(client.send(wire.ResponseCreate()))[-1] == "rate_limits.updated"


def test_respond_scripts_the_next_response_then_the_brain_takes_over() -> None:
    client = scripted(
        Respond.text("Scripted hello."),
        Respond(outputs=(ScriptCall(name="lookup", arguments='{"q": 1}'),), failure="rate_limit"),
    )
    client.update(output_modalities=["text"])
    assert (
        one(client.send(wire.ResponseCreate()), wire.ResponseOutputTextDone).text
        == "Scripted hello."
    )
    failed = one(client.send(wire.ResponseCreate()), wire.ResponseDone).response
    assert failed["status"] == "failed"
    assert failed["status_details"]["error"]["code"] == "rate_limit"
    assert failed["output"][0]["name"] == "lookup"
    reply = one(client.send(wire.ResponseCreate()), wire.ResponseOutputTextDone).text
    assert reply == "I am listening."  # the brain, with no user words to answer


def test_respond_audio_is_synthesised_speech() -> None:
    client = scripted(
        Respond.audio("Hello from the script."), Respond.call("get_weather", {"city": "Rome"})
    )
    audio = events(client.send(wire.ResponseCreate()), wire.ResponseOutputAudioDelta)
    assert any(any(d.delta) for d in audio)
    call = one(client.send(wire.ResponseCreate()), wire.ResponseFunctionCallArgumentsDone)
    assert json.loads(call.arguments) == {"city": "Rome"}


def test_respond_out_of_band_waits_for_an_out_of_band_response() -> None:
    client = scripted(Respond(outputs=(ScriptText(text="Side note."),), out_of_band=True))
    client.update(output_modalities=["text"])
    client.say("hi")
    assert "You said" in one(client.send(wire.ResponseCreate()), wire.ResponseOutputTextDone).text
    side = client.send(wire.ResponseCreate(response={"conversation": "none"}))
    assert one(side, wire.ResponseOutputTextDone).text == "Side note."


def test_send_garbage_unknown_and_error_steps_go_out_when_reached() -> None:
    typed = wire.RateLimitsUpdated(event_id="mine", rate_limits=[])
    client = scripted(
        Send(events=[typed, RATE_LIMITS]),
        Garbage(),
        UnknownEvent(type="response.new_thing", fields={"x": 1}),
        ErrorEvent(code="server_error", message="Boom.", type="server_error"),
    )
    out = client.opening[3:]
    assert kinds(out) == [
        "rate_limits.updated",
        "rate_limits.updated",
        "garbage",
        "response.new_thing",
        "error",
    ]
    assert out[0] is typed
    assert isinstance(out[2], RawFrame) and out[2].text == "{this is not json"
    assert json.loads(out[3].text)["x"] == 1  # type: ignore[union-attr]
    (error,) = errors(out)
    assert (error.type, error.code, error.message) == ("server_error", "server_error", "Boom.")


@pytest.mark.parametrize("count", [0, 1, 5])
def test_drop_after_closes_abruptly_after_n_frames(count: int) -> None:
    client = scripted(DropAfter(count=count))  # reached right after the opening frames
    assert kinds(client.opening)[:3] == [
        "session.created",
        "conversation.created",
        "rate_limits.updated",
    ]
    client.say("hello")
    client.send(wire.ResponseCreate())
    after = client.log[3:]
    assert kinds(after).index("close") == count
    assert after[-1] == CloseConnection(code=1006, reason="connection dropped (scripted fault)")
    assert client.server.closed and client.server.get_timer() is None
    assert client.send(wire.ResponseCreate()) == []


def test_drop_after_counts_frames_across_calls() -> None:
    client = scripted(DropAfter(count=3))
    client.say("a")  # two frames
    out = client.say("b")
    assert kinds(out) == ["conversation.item.added", "close"]


def test_delay_holds_the_following_steps_on_the_timer() -> None:
    client = scripted(Delay(ms=1500), Send(events=[RATE_LIMITS]), Delay(ms=500), Garbage())
    assert client.server.get_timer() == pytest.approx(1.5)
    assert client.run_until(1.4) == []
    assert kinds(client.run_until(1.9)) == ["rate_limits.updated"]
    assert kinds(client.run_until(2.0)) == ["garbage"]
    assert client.server.get_timer() == 3600.0


def test_a_delayed_expect_sees_only_events_after_the_delay() -> None:
    client = scripted(Delay(ms=100), Expect(type="response.create", then=[RATE_LIMITS]))
    client.update(instructions="x")  # during the delay: no mismatch
    client.run_until(0.1)
    assert client.server.mismatches == []
    assert kinds(client.send(wire.ResponseCreate()))[-1] == "rate_limits.updated"


def test_expire_ends_the_session_early() -> None:
    client = scripted(Expect(type="session.update"), Expire(after_ms=2000))
    client.send(wire.SessionUpdate(session={"type": "realtime", "instructions": "x"}), at=5.0)
    assert client.server.get_timer() == pytest.approx(7.0)
    out = client.run_until(10.0)
    assert kinds(out) == ["error", "close"]
    assert errors(out)[0].message == "Your session hit the maximum duration of 7 seconds."
    assert out[-1] == CloseConnection(code=1001, reason="session expired")


SCRIPT_JSON = """
{
  "ignore": ["input_audio_buffer.append", "input_audio_buffer.commit"],
  "steps": [
    {"respond": [{"text": "Hi!"}, {"audio": "Hello.", "duration_ms": 300},
                 {"call": "get_weather", "arguments": {"city": "Paris"}}], "failure": null},
    {"expect": "response.create", "then": [{"type": "rate_limits.updated", "rate_limits": []}]},
    {"send": {"type": "rate_limits.updated", "rate_limits": []}},
    {"garbage": true},
    {"unknown_event": "response.new_thing", "fields": {"a": 1}},
    {"error": {"code": "x", "message": "y"}},
    {"delay_ms": 10},
    {"drop_after": 2},
    {"expire_after_ms": 5000}
  ]
}
"""


def test_a_script_loads_from_json_text_or_a_file(tmp_path: pathlib.Path) -> None:
    script = FakeScript.from_json(SCRIPT_JSON)
    assert script.ignore == {"input_audio_buffer.append", "input_audio_buffer.commit"}
    respond = script.steps[0]
    assert isinstance(respond, Respond)
    assert [type(o) for o in respond.outputs] == [ScriptText, ScriptAudio, ScriptCall]
    assert respond.outputs[2] == ScriptCall(name="get_weather", arguments='{"city": "Paris"}')
    assert [type(s) for s in script.steps[1:]] == [
        Expect,
        Send,
        Garbage,
        UnknownEvent,
        ErrorEvent,
        Delay,
        DropAfter,
        Expire,
    ]
    path = tmp_path / "script.json"
    path.write_text(SCRIPT_JSON)
    assert FakeScript.from_json(path) == FakeScript.from_json(str(path)) == script
    client = Client(FakeRealtimeServer(script=script))
    out = client.send(wire.ResponseCreate())
    assert kinds(out)[-7:] == [
        "response.done",
        "rate_limits.updated",
        "rate_limits.updated",  # the expect's answer
        "rate_limits.updated",  # the send
        "garbage",
        "response.new_thing",
        "error",
    ]
    assert client.server.get_timer() == pytest.approx(0.01)
    assert client.run_until(0.01) == []  # the delay ends: drop after 2 frames, expire at 5.01 s
    assert client.server.get_timer() == pytest.approx(5.01)
    assert kinds(client.say("bye")) == [
        "conversation.item.added",
        "conversation.item.done",
        "close",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "{oops",
        '{"steps": [], "extra": 1}',
        '[{"expect": "x", "respond": []}]',
        '[{"expect": "x", "when": 1}]',
        '[{"respond": [{"speak": "x"}]}]',
        '[{"send": [{"type": "response.done"}]}]',  # a known event without its fields
        '[{"drop_after": -1}]',
        '[{"error": "boom"}]',
        "[1]",
    ],
)
def test_a_bad_script_fails_when_loaded(text: str) -> None:
    with pytest.raises(LocalProtocolError):
        FakeScript.from_json(text)


# -- the beta dialect ---------------------------------------------------------------------------


def test_the_beta_dialect_speaks_beta_names_and_shapes() -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(dialect="beta")))
    assert all(isinstance(o, RawFrame) for o in client.opening)
    session = json.loads(client.opening[0].text)["session"]  # type: ignore[union-attr]
    assert session["input_audio_format"] == "pcm16" and "audio" not in session
    client.send(
        wire.SessionUpdate(session={"tools": [WEATHER], "audio": {"output": {"voice": "verse"}}})
    )
    assert client.server.model.session["audio"]["output"]["voice"] == "verse"
    client.say("hello")
    out = client.send(wire.ResponseCreate())
    names = kinds(out)
    assert "response.audio.delta" in names and "response.audio_transcript.done" in names
    assert "conversation.item.created" in names
    assert not {
        "conversation.item.added",
        "conversation.item.done",
        "response.output_audio.delta",
    } & set(names)
    done = json.loads(out[kinds(out).index("response.done")].text)  # type: ignore[union-attr]
    assert done["response"]["output"][0]["content"][0]["type"] == "audio"
    (error,) = [
        json.loads(o.text)
        for o in client.send(wire.SessionUpdate(session={"temperature": 0.7, "foo": 1}))
        if isinstance(o, RawFrame)
    ]
    assert error["error"]["param"] == "session.foo"


# -- any frame at all ---------------------------------------------------------------------------

# Keys and values of the protocol, so that generated events reach deep into the handlers.
_KEYS = [
    "type",
    "role",
    "content",
    "text",
    "transcript",
    "id",
    "call_id",
    "name",
    "arguments",
    "output",
    "tools",
    "audio",
    "input",
    "output_modalities",
    "format",
    "turn_detection",
    "transcription",
    "voice",
    "eagerness",
    "idle_timeout_ms",
    "threshold",
    "conversation",
    "instructions",
    "tool_choice",
    "rate",
]
_WORDS = [
    "message",
    "user",
    "assistant",
    "system",
    "function_call",
    "function_call_output",
    "input_text",
    "input_audio",
    "output_audio",
    "output_text",
    "server_vad",
    "semantic_vad",
    "audio/pcm",
    "audio/pcmu",
    "none",
    "auto",
    "low",
    "function",
    "item_1",
    "item_2",
    "call_1",
]
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 30_000)
    | st.sampled_from(_WORDS)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
_TYPES = st.sampled_from([*sorted(cls.type for cls in wire.CLIENT_EVENT_CLASSES), "nope"])
_OBJECT = st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=5)
_IDS = st.sampled_from(["item_1", "item_2", "item_3", "resp_1", "nope"])
_ITEM = st.fixed_dictionaries(
    {"type": st.sampled_from(["message", "function_call", "function_call_output"])},
    optional={
        "role": st.sampled_from(["user", "assistant", "system", "nobody"]),
        "content": st.lists(_OBJECT | _JSON, max_size=3) | _JSON,
        "call_id": st.sampled_from(["call_1", "call_2"]) | _JSON,
        "output": _JSON,
        "name": _JSON,
        "arguments": _JSON,
        "id": _IDS | _JSON,
        "status": _JSON,
    },
)
_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.text(max_size=3),
        "session": _OBJECT,
        "item": _ITEM | _OBJECT,
        "response": _OBJECT | st.none(),
        "item_id": _IDS,
        "response_id": _IDS,
        "previous_item_id": _IDS | st.none() | st.just("root"),
        "audio": st.sampled_from(["", "AAAA", "AAAAAAAA" * 600, "not base64!"]),
        "content_index": st.integers(-1, 2),
        "audio_end_ms": st.integers(-10, 3000),
    },
)
_FRAMES = st.one_of(
    st.text(max_size=20),
    st.builds(lambda kind, fields: json.dumps({"type": kind, **fields}), _TYPES, _FIELDS),
)


@settings(max_examples=400)
@given(frames=st.lists(_FRAMES, max_size=8), pace=st.sampled_from([0.0, 1.0]))
def test_no_frame_crashes_the_server_and_every_answer_is_valid(
    frames: list[str], pace: float
) -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(pace=pace)))
    client.update(tools=[WEATHER])
    for index, frame in enumerate(frames):
        client.frame(frame, at=index * 0.1)
        client.say("weather in Paris")
        client.send(wire.ResponseCreate())
    check(client.run_until(60.0))


# -- a real Session against it --------------------------------------------------------------------


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


def frames_of(outputs: list[ServerOutput], dialect: Dialect) -> list[str]:
    """The text frames a host sends for these outputs (checked by the oracle first)."""
    texts = []
    for output in check(outputs, dialect=dialect):
        if isinstance(output, RawFrame):
            texts.append(output.text)
        else:
            assert isinstance(output, wire.ServerEventBase)
            texts.append(wire.encode_server_event(output))
    return texts


def converse(
    session: Session, server: FakeRealtimeServer, start: list[Any], now: float
) -> list[Any]:
    """Deliver everything both ways until both sides are quiet, as text frames; answer each
    tool call (the core calls no user code: the test plays the driver). Every client event is
    checked against the oracle, every server frame too (``check``)."""
    dialect = session.dialect
    seen: list[Any] = []
    pending = list(start)
    while pending:
        output = pending.pop(0)
        seen.append(output)
        if isinstance(output, wire.ClientEventBase | wire.RawClientEvent):
            event: Any = output
            text = wire.encode_client_event(event, dialect=dialect)
            validate = validate_client_event if dialect == "ga" else validate_beta_client_event
            validate(json.loads(text))
            for frame in frames_of(server.receive(text, now), dialect):
                pending += session.handle(frame, now=now)
        elif isinstance(output, effects.CallTool):
            result = f"Sunny in {output.arguments.get('city')}"
            pending += session.handle(
                inputs.ToolResult(call_id=output.call_id, output=result), now=now
            )
    return seen


def assistant_texts(session: Session) -> list[str]:
    return [
        str(getattr(part, "transcript", None) or getattr(part, "text", ""))
        for item in session.history
        if isinstance(item, AssistantMessage)
        for part in item.content
    ]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_a_session_converses_with_the_fake_through_a_tool_call_and_a_handoff(
    dialect: Dialect,
) -> None:
    support = Agent(name="Support", instructions="Help with problems.")
    triage = Agent(
        name="Triage", instructions="Route the user.", tools=[get_weather], handoffs=[support]
    )
    session = Session(triage, dialect=dialect)
    server = FakeRealtimeServer(FakeServerConfig(dialect=dialect))
    start = session.handle(inputs.Connected(), now=0.0)
    for frame in frames_of(server.connected(0.0), dialect):
        start += session.handle(frame, now=0.0)
    seen = converse(session, server, start, 0.0)
    assert not [e for e in seen if isinstance(e, session_events.ErrorEvent)]
    assert {t["name"] for t in server.model.tools} == {"get_weather", "transfer_to_support"}

    seen = converse(
        session,
        server,
        session.handle(inputs.SendMessage(message="What's the weather in Paris?")),
        1.0,
    )
    (started,) = [e for e in seen if isinstance(e, session_events.ToolStartEvent)]
    assert started.tool is get_weather
    assert assistant_texts(session)[-1] == "Here is what I found: Sunny in Paris."
    assert not [e for e in seen if isinstance(e, session_events.ErrorEvent)]

    seen = converse(
        session, server, session.handle(inputs.SendMessage(message="Transfer me to support")), 2.0
    )
    (moved,) = [e for e in seen if isinstance(e, session_events.HandoffEvent)]
    assert (moved.from_agent, moved.to_agent) == (triage, support)
    assert session.current_agent is support
    assert server.model.session["instructions"] == "Help with problems."
    assert [t["name"] for t in server.model.tools] == []
    assert assistant_texts(session)[-1] == "Hello, this is Support. How can I help you?"
    assert not session.response_active and server.model.active_response_ids == ()
    assert not [e for e in seen if isinstance(e, session_events.ErrorEvent)]
    ends = [e for e in seen if isinstance(e, session_events.AgentEndEvent)]
    assert len(ends) == 2  # the transfer call's response, and the new agent's reply
