"""Example tests of the testing kit's ServerModel: GA order, error codes, and every event it
emits validating against the ``openai`` package's GA models."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import oracle
import pytest
from hypothesis import given, settings
from realtime_sansio.protocol import LocalProtocolError, wire
from realtime_sansio.protocol.testing import (
    ResponseScript,
    ScriptAudio,
    ScriptCall,
    ScriptText,
    ServerModel,
)
from realtime_sansio.protocol.testing.strategies import garbage_frames, response_event_sequences

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


def valid(events: list[wire.ServerEvent]) -> list[wire.ServerEvent]:
    """The events, each checked against the oracle first."""
    for event in events:
        oracle.validate_server_event(wire.server_event_to_json(event))
    return events


def types(events: list[wire.ServerEvent]) -> list[str]:
    return [event.type for event in valid(events)]


def user_text(text: str = "hi") -> wire.ConversationItemCreate:
    return wire.ConversationItemCreate(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )


def error_of(events: list[wire.ServerEvent]) -> wire.ErrorDetail:
    (event,) = valid(events)
    assert isinstance(event, wire.ServerError)
    return event.error


def response_of(event: wire.ServerEvent) -> dict[str, Any]:
    assert isinstance(event, wire.ResponseCreated | wire.ResponseDone)
    return event.response


def audio_response(model: ServerModel, ms: int = 300) -> str:
    """Run one default response with audio; the audio item's id."""
    model.script(ResponseScript(outputs=(ScriptAudio(transcript="Hello there", duration_ms=ms),)))
    valid(model.receive(wire.ResponseCreate()) + model.drain())
    return model.conversation[-1]


def test_a_connection_starts_with_session_and_conversation_created() -> None:
    model = ServerModel()
    assert types(model.connect()) == ["session.created", "conversation.created"]
    assert model.turn_detection is not None  # server VAD is the server's default


def test_a_text_response_streams_in_ga_order() -> None:
    model = ServerModel()
    model.script(ResponseScript(outputs=(ScriptText(text="Hello there", chunk=5),)))
    assert types(model.receive(wire.ResponseCreate(event_id="c1"))) == ["response.created"]
    streamed = model.drain()
    assert types(streamed) == [
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "rate_limits.updated",
    ]
    deltas = [e.delta for e in streamed if isinstance(e, wire.ResponseOutputTextDelta)]
    assert deltas == ["Hello", " ther", "e"]
    done = response_of(streamed[-2])
    assert done["status"] == "completed" and done["usage"]["total_tokens"] > 0
    assert done["output"][0]["content"] == [{"type": "output_text", "text": "Hello there"}]
    assert model.response_origins == {done["id"]: "c1"}


def test_audio_comes_with_its_transcript_in_chunks() -> None:
    model = ServerModel()
    script = ScriptAudio(
        transcript="Sunny today", duration_ms=250, chunk_ms=100, transcript_chunk=4
    )
    model.script(ResponseScript(outputs=(script,)))
    streamed = valid(model.receive(wire.ResponseCreate()) + model.drain())
    audio = [e.delta for e in streamed if isinstance(e, wire.ResponseOutputAudioDelta)]
    assert [len(a) for a in audio] == [4800, 4800, 2400]  # 24 kHz PCM16: 48 bytes a ms
    text = [e.delta for e in streamed if isinstance(e, wire.ResponseOutputAudioTranscriptDelta)]
    assert text == ["Sunn", "y to", "day"]
    names = types(streamed)
    assert names.index("response.output_audio.done") < names.index(
        "response.output_audio_transcript.done"
    )
    assert model.audio_ms(model.conversation[-1]) == 250


def test_function_calls_stream_their_arguments_and_get_fresh_call_ids() -> None:
    model = ServerModel()
    valid(model.receive(wire.SessionUpdate(session={"type": "realtime", "tools": [TOOL]})))
    assert model.tools == [TOOL]
    calls = tuple(
        ScriptCall(name="get_weather", arguments='{"city":"Paris"}', chunk=6) for _ in "ab"
    )
    model.script(ResponseScript(outputs=calls))
    streamed = valid(model.receive(wire.ResponseCreate()) + model.drain())
    done = [e for e in streamed if isinstance(e, wire.ResponseFunctionCallArgumentsDone)]
    assert [(d.call_id, d.arguments) for d in done] == [
        ("call_1", '{"city":"Paris"}'),
        ("call_2", '{"city":"Paris"}'),
    ]
    deltas = [e.delta for e in streamed if isinstance(e, wire.ResponseFunctionCallArgumentsDelta)]
    assert "".join(deltas) == '{"city":"Paris"}' * 2


def test_a_second_response_create_is_refused_with_the_clients_event_id() -> None:
    model = ServerModel()
    valid(model.receive(wire.ResponseCreate(event_id="c1")))
    error = error_of(model.receive(wire.ResponseCreate(event_id="c2")))
    assert (error.code, error.type, error.event_id) == (
        "conversation_already_has_active_response",
        "invalid_request_error",
        "c2",
    )
    assert not model.violations  # a race, not a client mistake


def test_cancel_ends_the_response_and_closes_its_open_items_incomplete() -> None:
    model = ServerModel()
    error = error_of(model.receive(wire.ResponseCancel(event_id="c0")))
    assert (error.code, error.event_id) == ("response_cancel_not_active", "c0")
    model.script(ResponseScript(outputs=(ScriptCall(name="get_weather", arguments="{}", chunk=1),)))
    valid(model.receive(wire.ResponseCreate()) + model.step() + model.step())
    cancelled = model.receive(wire.ResponseCancel())
    assert types(cancelled) == [
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "rate_limits.updated",
    ]
    item_done = cancelled[0]
    assert isinstance(item_done, wire.ResponseOutputItemDone)
    assert item_done.item["status"] == "incomplete"
    done = response_of(cancelled[2])
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert model.active_response_id is None


def test_cancelled_items_can_be_left_unannounced() -> None:
    model = ServerModel(close_cancelled_items=False)
    valid(model.receive(wire.ResponseCreate()) + model.step())
    assert types(model.receive(wire.ResponseCancel())) == ["response.done", "rate_limits.updated"]


def test_out_of_band_responses_run_beside_the_default_one_outside_the_conversation() -> None:
    model = ServerModel()
    valid(model.receive(wire.ResponseCreate()))
    params = {"conversation": "none", "metadata": {"purpose": "classify"}}
    created = valid(model.receive(wire.ResponseCreate(response=params)))
    resource = response_of(created[0])
    assert resource["conversation_id"] is None and resource["metadata"] == params["metadata"]
    streamed = model.step(resource["id"])
    assert types(streamed) == ["response.output_item.added"]  # no conversation.item.added
    valid(model.drain())
    assert len(model.conversation) == 1  # only the default response's item


def test_created_items_follow_the_last_or_the_given_previous_item() -> None:
    model = ServerModel()
    first = model.receive(user_text("one"))
    assert types(first) == ["conversation.item.added", "conversation.item.done"]
    second = model.receive(user_text("two"))
    assert isinstance(second[0], wire.ConversationItemAdded)
    assert second[0].previous_item_id == "item_1"
    at_start = wire.ConversationItemCreate(item=user_text("zero").item, previous_item_id="root")
    valid(model.receive(at_start))
    assert model.conversation == ("item_3", "item_1", "item_2")
    unknown = wire.ConversationItemCreate(item=user_text().item, previous_item_id="nope")
    assert error_of(model.receive(unknown)).code == "invalid_value"
    assert [v.code for v in model.violations] == ["invalid_value"]


def test_a_function_call_output_needs_its_call_and_comes_once() -> None:
    model = ServerModel()
    model.script(ResponseScript(outputs=(ScriptCall(name="get_weather"),)))
    valid(model.receive(wire.ResponseCreate()) + model.drain())
    output = wire.ConversationItemCreate(
        item={"type": "function_call_output", "call_id": "call_1", "output": "Sunny"}
    )
    assert types(model.receive(output)) == ["conversation.item.added", "conversation.item.done"]
    assert error_of(model.receive(output)).code == "invalid_tool_call_id"
    stray = wire.ConversationItemCreate(
        item={"type": "function_call_output", "call_id": "call_9", "output": "?"}
    )
    assert error_of(model.receive(stray)).code == "invalid_tool_call_id"
    assert len(model.violations) == 2


def test_truncation_is_for_assistant_audio_within_what_was_produced() -> None:
    model = ServerModel()
    item_id = audio_response(model, ms=300)
    truncated = valid(
        model.receive(
            wire.ConversationItemTruncate(item_id=item_id, content_index=0, audio_end_ms=120)
        )
    )
    assert isinstance(truncated[0], wire.ConversationItemTruncated)
    assert model.item(item_id)["content"][0]["transcript"] == ""  # type: ignore[index]
    assert not model.violations
    past = wire.ConversationItemTruncate(item_id=item_id, content_index=0, audio_end_ms=301)
    assert error_of(model.receive(past)).code == "invalid_value"
    unknown = wire.ConversationItemTruncate(item_id="nope", content_index=0, audio_end_ms=1)
    assert error_of(model.receive(unknown)).code == "item_truncate_invalid_item_id"
    valid(model.receive(user_text()))
    user = wire.ConversationItemTruncate(
        item_id=model.conversation[-1], content_index=0, audio_end_ms=1
    )
    assert error_of(model.receive(user)).code == "unsupported_content_type"
    assert [v.code for v in model.violations] == [
        "invalid_value",
        "item_truncate_invalid_item_id",
        "unsupported_content_type",
    ]


def test_delete_removes_the_item_and_refuses_an_unknown_one() -> None:
    model = ServerModel()
    valid(model.receive(user_text()))
    deleted = valid(model.receive(wire.ConversationItemDelete(item_id="item_1")))
    assert isinstance(deleted[0], wire.ConversationItemDeleted) and model.conversation == ()
    error = error_of(model.receive(wire.ConversationItemDelete(item_id="item_1")))
    assert error.code == "item_delete_invalid_item_id"


def test_the_input_buffer_commits_100_ms_or_more() -> None:
    model = ServerModel()
    valid(model.receive(wire.InputAudioBufferAppend(audio=bytes(4700))))
    error = error_of(model.receive(wire.InputAudioBufferCommit(event_id="c1")))
    assert (error.code, error.event_id) == ("input_audio_buffer_commit_empty", "c1")
    valid(model.receive(wire.InputAudioBufferAppend(audio=b"\x01\x00" * 50)))
    committed = model.receive(wire.InputAudioBufferCommit())
    assert types(committed) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert list(model.committed_audio) == [bytes(4700) + b"\x01\x00" * 50]
    assert model.active_response_id is None  # a commit never creates a response
    valid(model.receive(wire.InputAudioBufferAppend(audio=bytes(10))))
    assert types(model.receive(wire.InputAudioBufferClear())) == ["input_audio_buffer.cleared"]
    assert model.input_buffer == b""


def test_a_vad_turn_interrupts_the_response_and_starts_the_next() -> None:
    model = ServerModel()
    valid(model.receive(wire.ResponseCreate()) + model.step())
    turn = model.user_speaks(800)
    assert types(turn) == [
        "input_audio_buffer.speech_started",
        "response.output_item.done",  # the interrupted response's open item, incomplete
        "conversation.item.done",
        "response.done",
        "rate_limits.updated",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    cancelled = next(e for e in turn if isinstance(e, wire.ResponseDone))
    assert cancelled.response["status_details"]["reason"] == "turn_detected"
    assert model.response_origins[model.active_response_id or ""] is None


def test_push_to_talk_has_no_vad_turns() -> None:
    model = ServerModel()
    update = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
    updated = valid(model.receive(wire.SessionUpdate(session=update)))
    assert isinstance(updated[0], wire.SessionUpdated)
    assert updated[0].session["audio"]["input"]["turn_detection"] is None
    assert updated[0].session["audio"]["output"]["voice"] == "alloy"  # merged, not replaced
    with pytest.raises(LocalProtocolError, match="push-to-talk"):
        model.speech_started()


def test_the_voice_is_fixed_once_the_model_has_spoken() -> None:
    model = ServerModel()
    audio_response(model)
    same = {"type": "realtime", "audio": {"output": {"voice": "alloy"}}}
    assert types(model.receive(wire.SessionUpdate(session=same))) == ["session.updated"]
    other = {"type": "realtime", "audio": {"output": {"voice": "marin"}}}
    assert error_of(model.receive(wire.SessionUpdate(session=other))).code == "cannot_update_voice"


def test_a_failure_ends_the_response_failed_with_its_error() -> None:
    model = ServerModel()
    model.script(ResponseScript(outputs=(ScriptText(text="Hm"),), failure="server_error"))
    streamed = valid(model.receive(wire.ResponseCreate()) + model.drain())
    done = response_of(streamed[-2])
    assert done["status"] == "failed"
    assert done["status_details"]["error"]["code"] == "server_error"


def test_committed_speech_is_transcribed_when_the_session_asks() -> None:
    model = ServerModel()
    update = {"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}}
    valid(model.receive(wire.SessionUpdate(session=update)))
    model.script(ResponseScript())
    turn = model.user_speaks(500)
    assert "conversation.item.input_audio_transcription.completed" in types(turn)


def test_an_event_the_server_cannot_read_is_an_error_and_a_violation() -> None:
    model = ServerModel()
    error = error_of(model.receive({"type": "response.frobnicate", "event_id": "c5"}))
    assert (error.code, error.event_id) == ("invalid_event", "c5")
    assert [v.code for v in model.violations] == ["invalid_event"]


def test_the_same_calls_give_the_same_events() -> None:
    def run() -> list[dict[str, Any]]:
        model = ServerModel()
        events = model.connect() + model.receive(user_text())
        model.script(ResponseScript(outputs=(ScriptAudio(transcript="Hi"), ScriptCall(name="f"))))
        events += model.receive(wire.ResponseCreate()) + model.user_speaks(300) + model.drain()
        return [wire.server_event_to_json(e) for e in events]

    assert run() == run()


@settings(max_examples=60, deadline=None)
@given(response_event_sequences([TOOL]))
def test_every_generated_sequence_validates(events: list[wire.ServerEvent]) -> None:
    valid(events)
    assert isinstance(events[-1], wire.RateLimitsUpdated)


@settings(max_examples=100, deadline=None)
@given(garbage_frames())
def test_garbage_frames_are_never_events_a_session_could_act_on(frame: str | bytes) -> None:
    try:
        decoded = wire.decode_server_event(frame)
    except Exception as exc:
        assert type(exc).__name__ == "RemoteProtocolError"
    else:
        assert isinstance(decoded, wire.UnknownServerEvent)


def test_without_hypothesis_the_kit_imports_and_its_machine_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['hypothesis'] = None\n"
        "import realtime_sansio.protocol.testing as kit\n"
        "assert kit.ServerModel and kit.Harness\n"
        "try:\n"
        "    kit.SessionMachine\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install realtime-sansio[testing]" in done.stdout
