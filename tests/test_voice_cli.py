"""``realtime-sansio voice``: a multi-turn conversation against the fake, with no key."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from realtime_sansio.protocol.audio import read_wav, resample, write_wav
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.voice.demo import UTTERANCES

NO_KEY = ("CODEX_API_KEY", "OPENAI_API_KEY")


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    for name in NO_KEY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))


@pytest.mark.parametrize("agent", [False, True])
def test_the_voice_command_talks_to_the_fake(
    agent: bool, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "replies.wav"
    argv = ["voice", "--output", str(output)] + (["--agent"] if agent else [])
    assert main(argv) == 0
    out = capsys.readouterr().out
    for text in UTTERANCES:
        assert f"user said: {text}" in out
    assert out.count("end of speech -> first audio") == len(UTTERANCES)
    assert "3 user turns, 0 errors" in out
    if agent:
        assert "Sunny, 21 °C in Paris" in out  # the tool's answer, spoken
        assert "this is Support" in out  # the handoff
    pcm, rate, channels = read_wav(output)
    assert (rate, channels) == (24000, 1) and len(pcm) > 48000


def test_the_voice_command_takes_a_44_1_khz_stereo_input(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    speech = bytes(24000) + synthesize_speech("What is the weather like?") + bytes(24000)
    mono = np.frombuffer(resample(speech, 24000, 44100), "<i2")
    source = tmp_path / "question.wav"
    write_wav(source, np.stack([mono, mono], axis=1).tobytes(), 44100, channels=2)
    assert main(["voice", "--input", str(source), "--output", str(tmp_path / "out.wav")]) == 0
    out = capsys.readouterr().out
    assert "from question.wav (44100 Hz, 2 ch)" in out
    assert "turn_1: user said: (1.9 s of speech)" in out  # the fake's placeholder: 1.9 s heard
    assert "1 user turns, 0 errors" in out


def test_an_input_at_a_rate_too_far_from_24_khz_is_one_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "odd.wav"
    write_wav(source, bytes(200), 50)
    assert main(["voice", "--input", str(source), "--output", str(tmp_path / "out.wav")]) == 1
    err = capsys.readouterr().err
    assert "cannot resample 50 Hz to 24000 Hz" in err
    assert err.count("\n") == 1


def test_a_missing_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voice", "--input", "/nonexistent/question.wav"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("realtime-sansio: error: cannot read /nonexistent/question.wav")
    assert err.count("\n") == 1


def test_live_without_a_key_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["voice", "--live"]) == 1
    assert "--live needs an API key" in capsys.readouterr().err
