"""The fake server hearing the user: VAD from appended speech (PCM16 and G.711), barge-in,
semantic VAD, the idle timeout, and input transcription."""

from __future__ import annotations

import json

import pytest
from fake_helpers import WEATHER, Client, errors, events, kinds, one, silence, utterance
from realtime_sansio.protocol import PCM16, PCMA, PCMU, AudioFormat, wire
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig

VAD_TURN = [
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
    "response.created",
]


def vad_client(fmt: AudioFormat = PCM16, **config: object) -> Client:
    server = FakeRealtimeServer(
        FakeServerConfig(transcripts={0: "What's the weather in Paris?"}, **config)  # type: ignore[arg-type]
    )
    client = Client(server)
    audio = {"input": {"format": fmt.to_wire()}, "output": {"format": fmt.to_wire()}}
    client.update(audio=audio, tools=[WEATHER])
    return client


@pytest.mark.parametrize("fmt", [PCM16, PCMU, PCMA])
def test_speech_in_the_appended_audio_makes_a_turn_and_a_response(fmt: AudioFormat) -> None:
    client = vad_client(fmt)
    out = client.stream(utterance("What is the weather in Paris today", fmt), fmt=fmt)
    turn = [k for k in kinds(out) if k in VAD_TURN]
    assert turn[: len(VAD_TURN)] == VAD_TURN
    started = one(out, wire.InputAudioBufferSpeechStarted)
    stopped = one(out, wire.InputAudioBufferSpeechStopped)
    committed = one(out, wire.InputAudioBufferCommitted)
    assert started.item_id == stopped.item_id == committed.item_id
    assert 0 <= started.audio_start_ms < stopped.audio_end_ms
    # The automatic response, from the brain, with the turn's transcript.
    call = one(out, wire.ResponseFunctionCallArgumentsDone)
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
    assert client.server.heard[committed.item_id] == "What's the weather in Paris?"
    assert (
        client.server.model.response_origins[one(out, wire.ResponseCreated).response["id"]] is None
    )


def test_speech_interrupts_an_active_response() -> None:
    client = vad_client(pace=1.0)
    client.say("tell me a story about the sea")
    client.send(wire.ResponseCreate())
    assert client.server.model.active_response_id is not None
    out = client.stream(utterance("stop", before=200, after=800))
    started_at = kinds(out).index("input_audio_buffer.speech_started")
    cancelled, answer = events(out, wire.ResponseDone)
    assert kinds(out).index("response.done") > started_at
    assert cancelled.response["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert cancelled.response["output"][0]["status"] == "incomplete"
    # Then the user's turn, and the automatic response to it.
    assert kinds(out).index("input_audio_buffer.speech_stopped") > kinds(out).index("response.done")
    assert answer.response["status"] == "completed"
    assert answer.response["output"][0]["name"] == "get_weather"


def test_without_interrupt_response_the_reply_goes_on() -> None:
    client = vad_client(pace=1.0)
    detection = {"type": "server_vad", "interrupt_response": False}
    client.update(audio={"input": {"turn_detection": detection}})
    client.say("tell me a story about the sea")
    client.send(wire.ResponseCreate())
    out = client.stream(utterance("hmm", before=100, after=100))
    assert "input_audio_buffer.speech_started" in kinds(out)
    assert all(d.response["status"] == "completed" for d in events(out, wire.ResponseDone))


def test_push_to_talk_hears_nothing() -> None:
    client = vad_client()
    client.update(audio={"input": {"turn_detection": None}})
    assert client.stream(utterance("hello there")) == []


@pytest.mark.parametrize(("eagerness", "pause_ms"), [("high", 300), ("auto", 500), ("low", 800)])
def test_semantic_vad_ends_the_turn_after_an_eagerness_dependent_pause(
    eagerness: str, pause_ms: int
) -> None:
    client = vad_client()
    detection = {"type": "semantic_vad", "eagerness": eagerness}
    client.update(audio={"input": {"turn_detection": detection}})
    speech = utterance("hello there", before=200, after=0)
    assert "input_audio_buffer.speech_stopped" not in kinds(
        client.stream(speech + silence(PCM16, pause_ms - 100), chunk_ms=20)
    )
    assert "input_audio_buffer.speech_stopped" in kinds(
        client.stream(silence(PCM16, 200), chunk_ms=20)
    )


def test_the_idle_timeout_commits_the_silence_and_asks_for_a_response() -> None:
    client = vad_client()
    detection = {"type": "server_vad", "idle_timeout_ms": 2000}
    client.update(audio={"input": {"turn_detection": detection}})
    client.say("hello")
    client.send(wire.ResponseCreate(), at=1.0)
    assert client.server.get_timer() == pytest.approx(3.0)
    out = client.stream(silence(PCM16, 2500))  # silence from t=1.0 on: the timeout hits at 3.0
    assert kinds(out)[:4] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    timeout = one(out, wire.InputAudioBufferTimeoutTriggered)
    assert timeout.item_id == one(out, wire.InputAudioBufferCommitted).item_id
    assert (timeout.audio_start_ms, timeout.audio_end_ms) == (0, 2000)
    assert "response.created" in kinds(out)
    # After that response, the timer is set again from its end.
    assert client.server.get_timer() == pytest.approx(5.0)


def test_the_idle_timeout_pads_a_quiet_client_to_a_commit() -> None:
    client = vad_client()
    client.update(
        audio={"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 500}}}
    )
    client.say("hello")
    client.send(wire.ResponseCreate())
    out = client.run_until(0.5)
    assert kinds(out)[:2] == [
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.committed",
    ]
    assert not errors(out)


def test_speech_holds_the_idle_timeout_off() -> None:
    client = vad_client()
    client.update(
        audio={"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 800}}}
    )
    client.say("hello")
    client.send(wire.ResponseCreate())
    out = client.stream(utterance("hello again", before=300, after=0), chunk_ms=100)
    assert "input_audio_buffer.timeout_triggered" not in kinds(out)


@pytest.mark.parametrize("fmt", [PCM16, PCMU])
def test_committed_audio_is_transcribed_when_the_session_asks(fmt: AudioFormat) -> None:
    client = vad_client(fmt)
    transcription = {"model": "gpt-4o-transcribe"}
    client.update(audio={"input": {"transcription": transcription, "turn_detection": None}})
    client.send(wire.InputAudioBufferAppend(audio=utterance("hello", fmt)))
    out = client.send(wire.InputAudioBufferCommit())
    deltas = events(out, wire.InputAudioTranscriptionDelta)
    completed = one(out, wire.InputAudioTranscriptionCompleted)
    assert (
        "".join(d.delta for d in deltas) == completed.transcript == "What's the weather in Paris?"
    )
    assert kinds(out).index("conversation.item.done") < kinds(out).index(
        "conversation.item.input_audio_transcription.completed"
    )
    retrieved = one(
        client.send(wire.ConversationItemRetrieve(item_id=completed.item_id)),
        wire.ConversationItemRetrieved,
    )
    assert retrieved.item["content"][0]["transcript"] == completed.transcript


def test_without_a_transcript_the_placeholder_says_how_long_the_user_spoke() -> None:
    calls: list[tuple[int, int]] = []

    def transcripts(index: int, audio: bytes) -> str | None:
        calls.append((index, len(audio)))
        return None

    client = Client(FakeRealtimeServer(FakeServerConfig(transcripts=transcripts)))
    client.update(
        audio={"input": {"transcription": {"model": "whisper-1"}, "turn_detection": None}}
    )
    client.send(wire.InputAudioBufferAppend(audio=silence(PCM16, 1200)))
    completed = one(
        client.send(wire.InputAudioBufferCommit()), wire.InputAudioTranscriptionCompleted
    )
    assert completed.transcript == "(1.2 s of speech)"
    assert calls == [(0, 1200 * 48)]
    assert not client.server.model.committed_audio  # the fake keeps no turn's audio


def test_without_transcription_no_transcription_events() -> None:
    client = vad_client()
    client.update(audio={"input": {"turn_detection": None}})
    client.send(wire.InputAudioBufferAppend(audio=utterance("hello")))
    out = client.send(wire.InputAudioBufferCommit())
    assert not [k for k in kinds(out) if "transcription" in k]
