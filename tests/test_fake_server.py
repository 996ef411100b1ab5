"""The fake Realtime server: GA order, the rules and their error codes, the brain, pacing and
expiry. Every frame it sends is checked against the ``openai`` package's models (``Client``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fake_helpers import (
    SUPPORT,
    WEATHER,
    Client,
    errors,
    events,
    is_speech_like,
    kinds,
    one,
)
from realtime_sansio.protocol import PCM16, LocalProtocolError, wire
from realtime_sansio.protocol.fake import (
    CloseConnection,
    FakeRealtimeServer,
    FakeServerConfig,
    Respond,
    speech_duration_ms,
)
from realtime_sansio.protocol.testing import ScriptAudio, ScriptCall, ScriptText

TEXT_TURN = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
]
TEXT_END = [
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "rate_limits.updated",
]


def text_client(**config: object) -> Client:
    client = Client(FakeRealtimeServer(FakeServerConfig(**config)))  # type: ignore[arg-type]
    client.update(output_modalities=["text"], tools=[WEATHER, SUPPORT])
    return client


def test_a_connection_opens_with_the_session_the_conversation_and_rate_limits() -> None:
    client = Client()
    assert kinds(client.opening) == [
        "session.created",
        "conversation.created",
        "rate_limits.updated",
    ]
    session = client.opening[0].session  # type: ignore[union-attr]
    assert (session["id"], session["object"]) == ("sess_1", "realtime.session")
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert client.server.get_timer() == 3600.0  # expiry is the only deadline


def test_session_updated_carries_the_whole_effective_session() -> None:
    client = Client()
    (updated,) = client.update(instructions="Be brief.", audio={"output": {"voice": "marin"}})
    assert isinstance(updated, wire.SessionUpdated)
    session = updated.session
    assert session["instructions"] == "Be brief."
    assert session["audio"]["output"] == {"format": PCM16.to_wire(), "voice": "marin", "speed": 1.0}
    assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 200
    assert {"id", "model", "tools", "tool_choice", "output_modalities"} <= set(session)


def test_a_text_reply_streams_in_ga_order() -> None:
    client = text_client()
    added = client.say("hello there")
    assert kinds(added) == ["conversation.item.added", "conversation.item.done"]
    out = client.send(wire.ResponseCreate(event_id="c1"))
    deltas = events(out, wire.ResponseOutputTextDelta)
    assert kinds(out) == TEXT_TURN + ["response.output_text.delta"] * len(deltas) + TEXT_END
    text = "".join(d.delta for d in deltas)
    assert text == "You said: hello there. What else can I do for you?"
    assert one(out, wire.ResponseOutputTextDone).text == text
    done = one(out, wire.ResponseDone).response
    assert done["status"] == "completed" and done["usage"]["total_tokens"] > 0
    assert done["output"][0]["content"][0]["text"] == text


def test_an_audio_reply_is_speech_as_long_as_its_transcript() -> None:
    client = Client()
    client.say("hello")
    out = client.send(wire.ResponseCreate())
    audio = b"".join(d.delta for d in events(out, wire.ResponseOutputAudioDelta))
    transcript = "".join(d.delta for d in events(out, wire.ResponseOutputAudioTranscriptDelta))
    assert transcript == one(out, wire.ResponseOutputAudioTranscriptDone).transcript
    assert transcript.startswith("You said: hello.")
    assert len(audio) == speech_duration_ms(transcript) * 48
    assert is_speech_like(audio)
    sizes = {len(d.delta) for d in events(out, wire.ResponseOutputAudioDelta)}
    assert len(sizes) >= 2  # a last, shorter chunk at least
    order = kinds(out)
    assert (
        order.index("response.output_audio.done")
        < order.index("response.output_audio_transcript.done")
        < order.index("response.content_part.done")
        < order.index("response.done")
    )


def test_the_chunking_varies_from_one_response_to_the_next() -> None:
    client = Client()
    firsts = []
    for _ in range(3):
        client.say("hello")
        out = client.send(wire.ResponseCreate())
        firsts.append(len(events(out, wire.ResponseOutputAudioDelta)[0].delta))
    assert len(set(firsts)) == 3


def test_a_function_call_streams_its_arguments_as_deltas() -> None:
    client = text_client()
    client.say("What's the weather in Paris?")
    out = client.send(wire.ResponseCreate())
    deltas = events(out, wire.ResponseFunctionCallArgumentsDelta)
    assert len(deltas) > 1
    done = one(out, wire.ResponseFunctionCallArgumentsDone)
    assert (done.name, json.loads(done.arguments)) == ("get_weather", {"city": "Paris"})
    assert "".join(d.delta for d in deltas) == done.arguments
    assert kinds(out)[:3] == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
    ]
    item = one(out, wire.ResponseOutputItemDone).item
    assert (item["type"], item["call_id"], item["status"]) == (
        "function_call",
        done.call_id,
        "completed",
    )


def test_the_brain_hands_off_and_reports_a_tool_output() -> None:
    client = text_client()
    client.say("Please transfer me to support")
    call = one(client.send(wire.ResponseCreate()), wire.ResponseFunctionCallArgumentsDone)
    assert call.name == "transfer_to_support"
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"}
    client.send(wire.ConversationItemCreate(item=output))
    reply = one(client.send(wire.ResponseCreate()), wire.ResponseOutputTextDone).text
    assert reply == "Here is what I found: Sunny, 21 C."


def test_without_the_brain_an_unscripted_response_says_ok() -> None:
    client = text_client(brain=False)
    client.say("What's the weather in Paris?")
    assert one(client.send(wire.ResponseCreate()), wire.ResponseOutputTextDone).text == "OK."


def test_a_response_create_chooses_its_modality_and_out_of_band_input() -> None:
    client = Client()
    params = {
        "conversation": "none",
        "output_modalities": ["text"],
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ping"}]}
        ],
    }
    out = client.send(wire.ResponseCreate(response=params))
    assert one(out, wire.ResponseOutputTextDone).text.startswith("You said: ping.")
    assert one(out, wire.ResponseDone).response["conversation_id"] is None
    assert "conversation.item.added" not in kinds(out)


def test_several_outputs_in_one_response_each_get_their_index() -> None:
    outputs = (
        ScriptText(text="Let me check."),
        ScriptAudio(transcript="One moment.", duration_ms=speech_duration_ms("One moment.")),
        ScriptCall(name="get_weather", arguments='{"city": "Oslo"}'),
    )
    client = Client(FakeRealtimeServer(script=[Respond(outputs=outputs)]))
    out = client.send(wire.ResponseCreate())
    added = events(out, wire.ResponseOutputItemAdded)
    assert [a.output_index for a in added] == [0, 1, 2]
    assert [a.item["type"] for a in added] == ["message", "message", "function_call"]
    assert [d.output_index for d in events(out, wire.ResponseOutputItemDone)] == [0, 1, 2]
    assert is_speech_like(b"".join(d.delta for d in events(out, wire.ResponseOutputAudioDelta)))
    assert len(one(out, wire.ResponseDone).response["output"]) == 3


# -- the rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "param", "event_id"),
    [
        ("{oops", "invalid_json", None, None),
        ("[1, 2]", "invalid_json", None, None),
        ('{"event_id": "e1"}', "missing_required_parameter", "type", "e1"),
        ('{"type": "response.dance", "event_id": "e2"}', "unknown_event_type", "type", "e2"),
        (
            '{"type": "conversation.item.delete", "event_id": "e3"}',
            "missing_required_parameter",
            "item_id",
            "e3",
        ),
        ('{"type": "conversation.item.delete", "item_id": 7}', "invalid_type", "item_id", None),
        ('{"type": "input_audio_buffer.append", "audio": "***"}', "invalid_type", "audio", None),
    ],
)
def test_a_bad_frame_is_answered_with_an_error(
    frame: str, code: str, param: str | None, event_id: str | None
) -> None:
    client = Client()
    (error,) = errors(client.frame(frame))
    assert (error.type, error.code, error.param, error.event_id) == (
        "invalid_request_error",
        code,
        param,
        event_id,
    )


@pytest.mark.parametrize(
    ("session", "param"),
    [
        ({"foo": 1}, "session.foo"),
        ({"audio": {"input": {"volume": 3}}}, "session.audio.input.volume"),
        ({"audio": {"middle": {}}}, "session.audio.middle"),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "eagerness": "low"}}}},
            "session.audio.input.turn_detection.eagerness",
        ),
    ],
)
def test_an_unknown_session_field_is_an_unknown_parameter(
    session: dict[str, object], param: str
) -> None:
    client = Client()
    update = wire.SessionUpdate(event_id="u1", session={"type": "realtime", **session})
    (error,) = errors(client.send(update))
    assert (error.code, error.param, error.event_id) == ("unknown_parameter", param, "u1")
    assert error.message == f"Unknown parameter: '{param}'."
    assert client.server.model.session["audio"]["output"]["voice"] == "alloy"  # not applied


def test_an_invalid_session_value_is_refused() -> None:
    client = Client()
    (error,) = errors(client.update(audio={"output": {"speed": 9.0}}))
    assert (error.code, error.param) == ("decimal_above_max_value", "session.audio.output.speed")
    assert error.message == (
        "Invalid 'session.audio.output.speed': decimal above maximum value. Expected a value"
        " <= 1.5, but got 9.0 instead."
    )


def test_a_session_value_of_the_wrong_type_is_refused() -> None:
    client = Client()
    detection = {"type": "server_vad", "threshold": "loud"}
    (error,) = errors(client.update(audio={"input": {"turn_detection": detection}}))
    assert (error.code, error.param) == (
        "invalid_type",
        "session.audio.input.turn_detection.threshold",
    )
    assert error.message == (
        "Invalid type for 'session.audio.input.turn_detection.threshold': expected a number,"
        " but got a string instead."
    )


def test_one_response_at_a_time_and_cancel_only_when_active() -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(pace=1.0)))
    client.say("hello")
    first = client.send(wire.ResponseCreate(event_id="c1"))
    assert "response.output_audio.delta" in kinds(first)
    assert "response.done" not in kinds(first)
    (error,) = errors(client.send(wire.ResponseCreate(event_id="c2")))
    assert (error.code, error.event_id) == ("conversation_already_has_active_response", "c2")
    cancelled = client.send(wire.ResponseCancel(event_id="x1"))
    done = one(cancelled, wire.ResponseDone).response
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert client.server.get_timer() == 3600.0  # nothing left to stream
    (error,) = errors(client.send(wire.ResponseCancel(event_id="x2")))
    assert (error.code, error.event_id) == ("response_cancel_not_active", "x2")


def test_the_input_buffer_rules() -> None:
    client = Client()
    client.update(audio={"input": {"turn_detection": None}})
    client.send(wire.InputAudioBufferAppend(audio=bytes(4800 - 2)))  # just under 100 ms
    (error,) = errors(client.send(wire.InputAudioBufferCommit(event_id="k1")))
    assert (error.code, error.event_id) == ("input_audio_buffer_commit_empty", "k1")
    client.send(wire.InputAudioBufferAppend(audio=bytes(2)))
    assert kinds(client.send(wire.InputAudioBufferCommit())) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    huge = base64.b64encode(bytes(12 * 1024 * 1024)).decode()
    frame = json.dumps({"type": "input_audio_buffer.append", "event_id": "big", "audio": huge})
    (error,) = errors(client.frame(frame))
    assert (error.code, error.event_id) == ("audio_too_large", "big")
    assert kinds(client.send(wire.InputAudioBufferClear())) == ["input_audio_buffer.cleared"]


def test_the_voice_is_fixed_once_audio_was_produced() -> None:
    client = Client()
    assert not errors(client.update(audio={"output": {"voice": "marin"}}))
    client.say("hello")
    client.send(wire.ResponseCreate())
    (error,) = errors(client.update(audio={"output": {"voice": "cedar"}}))
    assert error.code == "cannot_update_voice"


def test_truncation_rules() -> None:
    client = Client()
    client.say("hello")
    out = client.send(wire.ResponseCreate())
    user_item, item = client.server.model.conversation
    produced_ms = len(b"".join(d.delta for d in events(out, wire.ResponseOutputAudioDelta))) // 48
    truncate = wire.ConversationItemTruncate
    assert errors(client.send(truncate(item_id="nope", content_index=0, audio_end_ms=10)))[
        0
    ].code == ("item_truncate_invalid_item_id")
    assert errors(client.send(truncate(item_id=user_item, content_index=0, audio_end_ms=10)))[
        0
    ].code == ("unsupported_content_type")
    past = errors(
        client.send(truncate(item_id=item, content_index=0, audio_end_ms=produced_ms + 50))
    )
    assert past[0].param == "audio_end_ms"
    done = one(
        client.send(truncate(item_id=item, content_index=0, audio_end_ms=200)),
        wire.ConversationItemTruncated,
    )
    assert done.audio_end_ms == 200


# -- pacing and expiry ------------------------------------------------------------------------


@pytest.mark.parametrize("pace", [1.0, 0.5])
def test_paced_audio_streams_on_the_timer_in_real_time(pace: float) -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(pace=pace)))
    client.say("hello")
    first = client.send(wire.ResponseCreate(), at=10.0)
    assert kinds(first)[-1] == "response.output_audio.delta"  # up to the first delta only
    client.run_until(100.0)
    timed = [(t, o) for t, o in client.timeline if isinstance(o, wire.ResponseOutputAudioDelta)]
    sent_s = 0.0
    for when, delta in timed:
        # Each delta goes out when the audio before it has played (at the pace's speed).
        assert when == pytest.approx(10.0 + sent_s * pace)
        sent_s += len(delta.delta) / 48_000
    assert sent_s > 1.0
    done_at = next(t for t, o in client.timeline if isinstance(o, wire.ResponseDone))
    assert done_at == pytest.approx(timed[-1][0] + len(timed[-1][1].delta) / 48_000 * pace)
    assert client.server.get_timer() == 3600.0


def test_expiry_sends_session_expired_then_closes_1001() -> None:
    client = Client()
    assert client.run_until(3599.9) == []
    out = client.run_until(3600.0)
    assert kinds(out) == ["error", "close"]
    (error,) = errors(out)
    assert (error.type, error.code) == ("invalid_request_error", "session_expired")
    assert error.message == "Your session hit the maximum duration of 60 minutes."
    close = out[-1]
    assert isinstance(close, CloseConnection) and close.code == 1001
    assert client.server.get_timer() is None
    assert client.send(wire.ResponseCreate()) == []


def test_a_shorter_maximum_duration_is_honoured_even_without_a_timer_call() -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(max_session_s=90)))
    out = client.send(wire.ResponseCreate(), at=95.0)  # the host was late: expiry comes first
    assert kinds(out) == ["error", "close"]
    assert errors(out)[0].message == "Your session hit the maximum duration of 90 seconds."


def test_a_second_connection_gets_a_fresh_session() -> None:
    server = FakeRealtimeServer()
    Client(server).say("hello")
    again = Client(server)
    assert again.opening[0].session["id"] == "sess_2"  # type: ignore[union-attr]
    assert server.model.conversation == ()


@pytest.mark.parametrize(
    "config",
    [
        {"pace": -1.0},
        {"pace": float("nan")},
        {"pace": float("inf")},
        {"max_session_s": 0.0},
        {"max_session_s": float("nan")},
        {"dialect": "gamma"},
    ],
)
def test_a_bad_configuration_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError):
        FakeServerConfig(**config)


def test_an_infinite_pace_is_refused_with_a_message_that_says_why() -> None:
    # Regression: pace=inf was accepted, and the first audio delta's deadline was infinity.
    with pytest.raises(LocalProtocolError, match="pace must be a finite number >= 0"):
        FakeServerConfig(pace=float("inf"))


def test_the_same_calls_give_the_same_frames() -> None:
    def run() -> list[str]:
        client = text_client()
        client.say("What's the weather in Paris?")
        client.send(wire.ResponseCreate())
        return [
            wire.encode_server_event(o) for o in client.log if isinstance(o, wire.ServerEventBase)
        ]

    assert run() == run()
