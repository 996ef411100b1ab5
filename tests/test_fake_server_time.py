"""Time in the fake: the latency model (``FakeServerConfig.latency``), audio at ``pace``,
out-of-band responses beside the conversation's, transcription on its own schedule, the idle
timeout from the end of playback. Everything on the caller's clock (``Client.run_until``):
no wall time passes.

These make the real server's races happen: two back-to-back ``response.create`` meet an
active response, and so does a cancel sent while the reply streams.
"""

from __future__ import annotations

import itertools

import pytest
from fake_helpers import Client, errors, events, kinds, one, utterance
from realtime_sansio.protocol import LocalProtocolError, wire
from realtime_sansio.protocol.fake import (
    REALISTIC_LATENCY,
    FakeRealtimeServer,
    FakeServerConfig,
    Latency,
)

TEXT = {"output_modalities": ["text"]}
STEADY = Latency(first_token_ms=300, tokens_per_s=40, transcription_ms=450)


def timed(client: Client, kind: str) -> list[float]:
    """When each output of ``kind`` went out."""
    return [at for at, output in client.timeline if getattr(output, "type", None) == kind]


def paced(latency: Latency = STEADY, **config: object) -> Client:
    return Client(FakeRealtimeServer(FakeServerConfig(pace=0.5, latency=latency, **config)))  # type: ignore[arg-type]


def test_response_created_at_once_the_first_token_later_then_tokens_at_their_rate() -> None:
    client = paced()
    client.say("Hello there")
    out = client.send(wire.ResponseCreate(response=TEXT), at=1.0)
    assert kinds(out) == ["response.created"]
    client.run_until(10.0)
    (first_item,) = timed(client, "response.output_item.added")
    deltas = [(at, o) for at, o in client.timeline if isinstance(o, wire.ResponseOutputTextDelta)]
    assert first_item == deltas[0][0] == pytest.approx(1.3)
    for (at, delta), (later, _) in itertools.pairwise(deltas):
        tokens = -(-len(delta.delta) // 4)
        assert later - at == pytest.approx(tokens / 40)
    (done,) = timed(client, "response.done")
    assert done > deltas[-1][0]


def test_two_back_to_back_response_creates_meet_an_active_response() -> None:
    # Regression: a text reply was done within the receive call; the second create succeeded.
    client = Client(FakeRealtimeServer(FakeServerConfig.realistic()))
    client.say("Hello")
    first = client.send(wire.ResponseCreate(event_id="c1", response=TEXT), at=1.0)
    second = client.send(wire.ResponseCreate(event_id="c2", response=TEXT), at=1.001)
    assert kinds(first) == ["response.created"]
    (error,) = errors(second)
    assert (error.code, error.event_id) == ("conversation_already_has_active_response", "c2")
    client.run_until(10.0)
    assert kinds(client.log).count("response.done") == 1


def test_a_cancel_while_the_reply_streams_finds_it_active() -> None:
    # Regression: a guardrail's cancel always got response_cancel_not_active.
    client = Client(FakeRealtimeServer(FakeServerConfig.realistic()))
    client.say("Tell me about the sea")
    client.send(wire.ResponseCreate(response=TEXT), at=1.0)
    client.run_until(1.5)
    assert events(client.log, wire.ResponseOutputTextDelta)  # it is streaming
    out = client.send(wire.ResponseCancel(), at=1.5)
    assert errors(out) == []
    done = one(out, wire.ResponseDone)
    assert done.response["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}


def test_out_of_band_responses_stream_beside_the_conversations() -> None:
    # Regression: an out-of-band response waited until the conversation's had streamed.
    client = paced(Latency(first_token_ms=100, tokens_per_s=20))
    client.say("Tell me a long story about the sea and the ships on it")
    client.send(wire.ResponseCreate(response=TEXT), at=1.0)
    client.send(wire.ResponseCreate(response={**TEXT, "conversation": "none", "input": []}), at=1.2)
    client.run_until(60.0)
    by_response: dict[str, list[float]] = {}
    for at, output in client.timeline:
        if isinstance(output, wire.ResponseOutputTextDelta):
            by_response.setdefault(output.response_id, []).append(at)
    conversation, out_of_band = by_response.values()
    assert out_of_band[0] == pytest.approx(1.3)  # its own first token, not after the other
    assert out_of_band[-1] < conversation[-1]  # it is short: it ends first
    assert conversation[0] < out_of_band[0] < conversation[-1]


def test_audio_streams_faster_than_it_plays_and_done_comes_before_playback_ends() -> None:
    client = paced(Latency(first_token_ms=200))
    client.say("Tell me about the weather in the mountains this week")
    client.send(wire.ResponseCreate(), at=1.0)
    client.run_until(60.0)
    audio = [(at, o) for at, o in client.timeline if isinstance(o, wire.ResponseOutputAudioDelta)]
    seconds = sum(len(o.delta) for _, o in audio) / 48_000
    (done,) = timed(client, "response.done")
    assert audio[0][0] == pytest.approx(1.2)
    assert done == pytest.approx(1.2 + seconds * 0.5)  # generated at twice real time
    assert done < 1.2 + seconds  # the client is still playing at response.done


def test_the_idle_timeout_counts_from_the_end_of_playback() -> None:
    # Regression: it counted from response.done, while the reply was still playing.
    client = paced(Latency(first_token_ms=200))
    client.update(
        audio={"input": {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000}}}
    )
    client.say("Tell me about the weather in the mountains this week")
    client.send(wire.ResponseCreate(), at=1.0)
    client.run_until(30.0)
    first = events(client.log, wire.ResponseCreated)[0].response["id"]
    audio = [o for o in events(client.log, wire.ResponseOutputAudioDelta) if o.response_id == first]
    seconds = sum(len(o.delta) for o in audio) / 48_000
    triggered = timed(client, "input_audio_buffer.timeout_triggered")[0]
    assert triggered == pytest.approx(1.2 + seconds + 6.0)


def test_transcription_follows_its_own_schedule() -> None:
    client = paced(transcripts={0: "What is the weather in Paris"})
    client.update(audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}}})
    client.stream(utterance("What is the weather in Paris"))
    (committed,) = timed(client, "input_audio_buffer.committed")
    (created,) = timed(client, "response.created")
    (completed,) = timed(client, "conversation.item.input_audio_transcription.completed")
    deltas = timed(client, "conversation.item.input_audio_transcription.delta")
    assert created == committed  # the VAD's response starts at once
    assert deltas[0] == pytest.approx(committed + 0.45)
    assert completed >= deltas[-1] > created


def test_whether_transcription_or_the_first_token_comes_first_is_the_models_decision() -> None:
    order = set()
    for seed in range(12):
        latency = Latency(
            first_token_ms=400, transcription_ms=400, tokens_per_s=50, jitter=0.3, seed=seed
        )
        client = paced(latency, transcripts={0: "What is the weather in Paris"})
        client.update(audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}}})
        client.stream(utterance("What is the weather in Paris"))
        client.run_until(client.now + 5)
        (completed,) = timed(client, "conversation.item.input_audio_transcription.completed")
        first_output = timed(client, "response.output_item.added")[0]
        order.add(completed < first_output)
    assert order == {True, False}


def test_the_same_config_gives_the_same_timeline_and_another_seed_another() -> None:
    def timeline(seed: int) -> list[tuple[float, str]]:
        client = Client(FakeRealtimeServer(FakeServerConfig.realistic(latency=REALISTIC_LATENCY)))
        if seed:
            latency = Latency(**{**_fields(REALISTIC_LATENCY), "seed": seed})
            client = Client(FakeRealtimeServer(FakeServerConfig.realistic(latency=latency)))
        client.say("Hello there, how are you today?")
        client.send(wire.ResponseCreate(response=TEXT), at=1.0)
        client.run_until(10.0)
        return [(at, getattr(o, "type", "")) for at, o in client.timeline]

    assert timeline(0) == timeline(0)
    assert [at for at, _ in timeline(0)] != [at for at, _ in timeline(1)]


def _fields(latency: Latency) -> dict[str, object]:
    return {
        name: getattr(latency, name)
        for name in (
            "first_token_ms",
            "tokens_per_s",
            "transcription_ms",
            "transcription_tokens_per_s",
            "jitter",
            "seed",
        )
    }


def test_pace_zero_is_the_instant_mode_whatever_the_latency() -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(pace=0, latency=REALISTIC_LATENCY)))
    client.say("Hello")
    out = client.send(wire.ResponseCreate(response=TEXT))
    assert kinds(out)[-2:] == ["response.done", "rate_limits.updated"]
    assert client.server.get_timer() == pytest.approx(3600)  # only the expiry waits


@pytest.mark.parametrize(
    "fields",
    [
        {"first_token_ms": -1},
        {"tokens_per_s": float("inf")},
        {"transcription_ms": float("nan")},
        {"jitter": 1.0},
        {"jitter": -0.1},
        {"seed": 1.5},
    ],
)
def test_a_latency_out_of_range_is_refused_by_name(fields: dict[str, float]) -> None:
    with pytest.raises(LocalProtocolError, match=f"Latency.{next(iter(fields))}"):
        Latency(**fields)  # type: ignore[arg-type]
