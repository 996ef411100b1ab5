"""Where the fake's VAD says speech started and stopped, and a noisy room.

``speech_started.audio_start_ms`` is the onset minus ``prefix_padding_ms`` and
``speech_stopped.audio_end_ms`` the moment the silence ran out (both on the session's audio
clock, as the ``openai`` types describe them), whatever the size of the appends; the turn
committed is that stretch of audio, and what came after it waits for the next turn. A steady
noise above the threshold does not hold a turn open: the threshold follows the noise floor.
"""

from __future__ import annotations

import numpy as np
import pytest
from fake_helpers import Client, events, kinds, one, silence
from realtime_sansio.protocol import PCM16, wire
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig, synthesize_speech
from realtime_sansio.protocol.fake.vad import EnergyVad

SPEECH = synthesize_speech("What is the weather in Paris today")
BEFORE_MS, AFTER_MS = 1000, 1500


def turns_of(padding_ms: int, silence_ms: int) -> tuple[Client, list[bytes]]:
    turns: list[bytes] = []

    def heard(index: int, audio: bytes) -> str:
        turns.append(audio)
        return "What is the weather in Paris today"

    client = Client(FakeRealtimeServer(FakeServerConfig(transcripts=heard)))
    detection = {
        "type": "server_vad",
        "prefix_padding_ms": padding_ms,
        "silence_duration_ms": silence_ms,
    }
    client.update(audio={"input": {"turn_detection": detection}}, output_modalities=["text"])
    return client, turns


def edges_ms() -> tuple[int, int]:
    """The first loud frame and the first quiet one after the speech, in SPEECH."""
    edges = EnergyVad(PCM16, prefix_padding_ms=0, silence_duration_ms=200).feed(
        SPEECH + silence(PCM16, AFTER_MS)
    )
    return edges[0].ms, edges[-1].ms


@pytest.mark.parametrize("chunk_ms", [20, 100, 700])
@pytest.mark.parametrize(("padding_ms", "silence_ms"), [(300, 200), (0, 500), (500, 800)])
def test_the_edges_are_where_the_speech_is_not_where_the_append_ended(
    chunk_ms: int, padding_ms: int, silence_ms: int
) -> None:
    client, turns = turns_of(padding_ms, silence_ms)
    stream = silence(PCM16, BEFORE_MS) + SPEECH + silence(PCM16, AFTER_MS)
    out = client.stream(stream, chunk_ms=chunk_ms)
    onset, offset = edges_ms()
    started = one(out, wire.InputAudioBufferSpeechStarted)
    stopped = one(out, wire.InputAudioBufferSpeechStopped)
    assert started.audio_start_ms == BEFORE_MS + onset - padding_ms
    assert stopped.audio_end_ms == BEFORE_MS + offset + silence_ms
    # The turn is exactly that stretch; the silence after it stays in the buffer.
    (turn,) = turns
    assert turn == stream[started.audio_start_ms * 48 : stopped.audio_end_ms * 48]
    left = BEFORE_MS + len(SPEECH) // 48 + AFTER_MS - stopped.audio_end_ms
    assert len(client.server.model.input_buffer) <= min(left, padding_ms + 20) * 48


def noise(dbfs: float, ms: int) -> bytes:
    """White noise at ``dbfs`` RMS (deterministic)."""
    rng = np.random.default_rng(7)
    rms = 32768 * 10 ** (dbfs / 20)
    return np.clip(rng.normal(0, rms, 24 * ms), -32768, 32767).astype("<i2").tobytes()


def test_a_steady_noise_above_the_threshold_does_not_hold_a_turn_open() -> None:
    # Regression: the threshold was a fixed -45 dBFS; a -40 dBFS fan kept the turn open for ever.
    client, _ = turns_of(300, 200)
    out = client.stream(noise(-40, 6000))
    assert kinds(out).count("input_audio_buffer.speech_started") == 1
    stopped = one(out, wire.InputAudioBufferSpeechStopped)
    assert stopped.audio_end_ms <= 2600  # the floor catches up within its 2 s window
    assert "input_audio_buffer.committed" in kinds(out)


def test_speech_over_the_noise_is_still_heard() -> None:
    client, _ = turns_of(300, 200)
    room = noise(-40, 4000)
    client.stream(room)  # the floor has risen to the noise
    voice = np.frombuffer(SPEECH, "<i2").astype(np.int32)
    hum = np.frombuffer(noise(-40, len(SPEECH) // 48), "<i2").astype(np.int32)
    mixed = np.clip(voice + hum[: len(voice)], -32768, 32767).astype("<i2").tobytes()
    out = client.stream(mixed + noise(-40, 1500))
    assert len(events(out, wire.InputAudioBufferSpeechStarted)) == 1
    stopped = one(out, wire.InputAudioBufferSpeechStopped)
    assert stopped.audio_end_ms < 4000 + len(SPEECH) // 48 + 800
