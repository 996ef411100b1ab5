"""Parameters the fake used to accept and ignore, now honoured as the GA types describe them:
``tool_choice``, a response's own ``tools``, ``max_output_tokens``, a response's own audio
format, ``input: []``, and ``include`` logprobs on input transcription."""

from __future__ import annotations

from typing import Any

import pytest
from fake_helpers import SUPPORT, WEATHER, Client, errors, events, one, utterance
from realtime_sansio.protocol import PCMU, wire
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig


def asked(client: Client, text: str, **response: Any) -> wire.ResponseDone:
    client.say(text)
    out = client.send(wire.ResponseCreate(response={"output_modalities": ["text"], **response}))
    assert errors(out) == []
    done: wire.ResponseDone = one(out, wire.ResponseDone)
    return done


def called(done: wire.ResponseDone) -> list[str]:
    return [o["name"] for o in done.response["output"] if o["type"] == "function_call"]


@pytest.mark.parametrize(
    ("choice", "text", "calls"),
    [
        ("auto", "What's the weather in Paris?", ["get_weather"]),
        ("none", "What's the weather in Paris?", []),
        ("required", "Good morning", ["get_weather"]),
        (
            {"type": "function", "name": "transfer_to_support"},
            "Weather in Paris?",
            ["transfer_to_support"],
        ),
    ],
)
def test_tool_choice_decides_whether_and_what_the_brain_calls(
    choice: Any, text: str, calls: list[str]
) -> None:
    for where in ("session", "response"):
        client = Client()
        session: dict[str, Any] = {"tools": [WEATHER, SUPPORT]}
        if where == "session":
            session["tool_choice"] = choice
        assert errors(client.update(**session)) == []
        done = asked(client, text, **({"tool_choice": choice} if where == "response" else {}))
        assert called(done) == calls, where


def test_a_responses_own_tools_stand_in_for_the_sessions() -> None:
    client = Client()
    done = asked(client, "What's the weather in Paris?", tools=[WEATHER])
    assert called(done) == ["get_weather"]
    assert client.server.model.tools == []  # the session's are untouched
    assert called(asked(client, "What's the weather in Paris?")) == []


def test_max_output_tokens_cuts_the_response_and_says_so() -> None:
    client = Client()
    done = asked(client, "Tell me something long", max_output_tokens=3)
    response = done.response
    assert (response["status"], response["status_details"]) == (
        "incomplete",
        {"type": "incomplete", "reason": "max_output_tokens"},
    )
    (item,) = response["output"]
    assert item["status"] == "incomplete"
    assert item["content"][0]["text"] == "You said: Te"  # 3 tokens of 4 characters
    assert response["max_output_tokens"] == 3
    # The session's own limit applies to a response that names none.
    assert errors(client.update(max_output_tokens=2)) == []
    assert asked(client, "Hello again").response["status"] == "incomplete"
    assert errors(client.update(max_output_tokens="inf")) == []
    assert asked(client, "Hello again").response["status"] == "completed"


def test_a_spoken_answer_cut_by_max_output_tokens_keeps_audio_and_transcript_together() -> None:
    client = Client()
    client.say("Tell me something long")
    out = client.send(wire.ResponseCreate(response={"max_output_tokens": 4}))
    done = one(out, wire.ResponseDone)
    assert done.response["status"] == "incomplete"
    transcript = done.response["output"][0]["content"][0]["transcript"]
    assert len(transcript) == 16
    audio = b"".join(e.delta for e in events(out, wire.ResponseOutputAudioDelta))
    full = Client()
    full.say("Tell me something long")
    whole = b"".join(
        e.delta for e in events(full.send(wire.ResponseCreate()), wire.ResponseOutputAudioDelta)
    )
    assert 0 < len(audio) < len(whole)


def test_a_response_can_ask_for_its_own_audio_format() -> None:
    client = Client()
    client.say("Hello")
    response = {"audio": {"output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}}}
    out = client.send(wire.ResponseCreate(response=response))
    done = one(out, wire.ResponseDone)
    assert done.response["audio"]["output"] == {"format": PCMU.to_wire(), "voice": "marin"}
    item_id = done.response["output"][0]["id"]
    audio = b"".join(e.delta for e in events(out, wire.ResponseOutputAudioDelta))
    # G.711 at 8 kHz, one byte a sample: the item's milliseconds are its bytes / 8.
    assert client.server.model.audio_ms(item_id) == pytest.approx(len(audio) / 8)
    assert len(set(audio)) > 10  # speech-like G.711 codes, not silence
    session_format = client.server.model.session["audio"]["output"]["format"]
    assert session_format["type"] == "audio/pcm"  # the session keeps its own


def test_an_empty_input_is_a_response_with_no_context() -> None:
    client = Client()
    client.say("What's the weather in Paris?")
    done = asked(client, "What's the weather in Paris?", input=[], conversation="none")
    assert done.response["output"][0]["content"][0]["text"] == "I am listening."


def test_include_logprobs_puts_logprobs_on_transcription_events() -> None:
    server = FakeRealtimeServer(FakeServerConfig(transcripts={0: "Hello there"}))
    client = Client(server)
    assert (
        errors(
            client.update(
                include=["item.input_audio_transcription.logprobs"],
                audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}}},
            )
        )
        == []
    )
    out = client.stream(utterance("Hello there"))
    deltas = events(out, wire.InputAudioTranscriptionDelta)
    assert [d.logprobs[0]["token"] for d in deltas] == ["Hello ", "there"]
    completed = one(out, wire.InputAudioTranscriptionCompleted)
    assert [p["token"] for p in completed.logprobs] == ["Hello ", "there"]
    assert completed.logprobs[0]["bytes"] == list(b"Hello ")


def test_without_include_there_are_no_logprobs() -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(transcripts={0: "Hello there"})))
    client.update(audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}}})
    out = client.stream(utterance("Hello there"))
    assert all(d.logprobs is None for d in events(out, wire.InputAudioTranscriptionDelta))
