"""The ``realtime-sansio`` command, in-process through ``main`` and as a real subprocess, and
the examples: each runs on the in-memory fake and against a running ``serve-fake``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from realtime_sansio.protocol import Agent, ModelConfig, events
from realtime_sansio.protocol.audio import resample
from realtime_sansio.protocol.fake import synthesize_speech
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.runner import run
from serve_helpers import CLI, serving

ROOT = Path(__file__).resolve().parent.parent
# The examples that run a conversation and exit; asgi_bridge.py is a server, run by its own test.
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "asgi_bridge.py")
SECRET = "sk-test-" + "k" * 40


@pytest.fixture
def no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment with no API key anywhere (CODEX_HOME is an empty folder), applied to
    this process and returned for subprocesses."""
    home = tmp_path / "codex-home"
    home.mkdir()
    for name in ("CODEX_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEX_HOME", str(home))
    return dict(os.environ)


@pytest.fixture(scope="module")
def fake_url() -> Iterator[str]:
    with serving() as url:
        yield url


def _check_wav(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24000, 1, 2)
        seconds = w.getnframes() / w.getframerate()
    assert seconds > 1.0
    return seconds


# -- demo -------------------------------------------------------------------------------------


def test_demo_in_process(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out.wav"
    assert main(["demo", "--fake", "--output", str(output)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "(no API key found)" in out
    expected = [
        "user: What's the weather in Paris?",
        'tool call get_weather {"city": "Paris"}',
        "tool get_weather -> Sunny, 21 °C in Paris",
        "latency response.create -> first audio:",
        "assistant: Here is what I found: Sunny, 21 °C in Paris.",
        'user: (audio) 1.4 s of generated speech for "Hello, can you hear me?"',
        "server VAD: speech started",
        "user (transcribed): Hello, can you hear me?",
        "latency speech stopped -> first audio:",
        "user: Please transfer me to support",
        "handoff Greeter -> Support",
        "agent Support starts",
        "assistant: Hello, this is Support. How can I help you?",
        "-- done: 5 responses, 1 tool call, 1 handoff, 0 errors",
    ]
    positions = [out.find(text) for text in expected]
    assert -1 not in positions, [t for t, p in zip(expected, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # in the order of the conversation
    assert "ms of audio)" in out  # audio received, per reply
    seconds = _check_wav(output)
    assert f"wrote {output}: {seconds:.1f} s of assistant audio" in out


def test_demo_as_a_subprocess(tmp_path: Path, no_key: dict[str, str]) -> None:
    output = tmp_path / "demo.wav"
    done = subprocess.run(
        [*CLI, "demo", "--fake", "--output", str(output)],
        env=no_key,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "handoff Greeter -> Support" in done.stdout
    _check_wav(output)


def test_demo_with_a_16_khz_stereo_input(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # 4 s of silence, then speech: long enough for the progress bar.
    mono = resample(bytes(4 * 48000) + synthesize_speech("Hello, can you hear me?"), 24000, 16000)
    left = np.frombuffer(mono, "<i2")
    stereo = np.stack([left, left // 2], axis=1).astype("<i2").tobytes()
    source = tmp_path / "input.wav"
    with wave.open(str(source), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(stereo)
    output = tmp_path / "out.wav"
    assert main(["demo", "--input", str(source), "--output", str(output)]) == 0
    out, err = capsys.readouterr()
    assert "from input.wav (16000 Hz, 2 channels -> 24000 Hz mono)" in out
    # The onset, after the 4 s of silence, less the 300 ms of prefix padding.
    assert "server VAD: speech started at 3700 ms" in out
    assert "user (transcribed): (" in out  # the fake's placeholder for unknown speech
    assert "[#####.....] 50%" in err
    assert err.rstrip().endswith("[##########] 100%")
    _check_wav(output)


@pytest.mark.parametrize("rate", [44100, 22050, 11025])
def test_demo_with_an_input_at_a_file_rate(
    rate: int, tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    mono = resample(bytes(48000) + synthesize_speech("Hello, can you hear me?"), 24000, rate)
    source = tmp_path / "input.wav"
    with wave.open(str(source), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(mono)
    assert main(["demo", "--input", str(source), "--output", str(tmp_path / "out.wav")]) == 0
    out = capsys.readouterr().out
    assert f"from input.wav ({rate} Hz, 1 channel -> 24000 Hz mono)" in out
    # After the 1 s of silence, less the 300 ms of prefix padding the server reports.
    assert "server VAD: speech started at 700 ms" in out
    assert "user (transcribed): (" in out


def test_demo_against_a_running_serve_fake(
    tmp_path: Path, fake_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--url", fake_url, "--output", str(tmp_path / "o.wav")]) == 0
    out = capsys.readouterr().out
    assert f"connected to {fake_url}, agent Greeter" in out
    assert "handoff Greeter -> Support" in out


# -- errors -----------------------------------------------------------------------------------


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("realtime-sansio: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_an_error_is_one_line(no_key: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--url", "ws://127.0.0.1:1"]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.endswith("cannot connect to ws://127.0.0.1:1: Connection refused")


def test_an_error_as_a_subprocess_has_no_traceback(no_key: dict[str, str]) -> None:
    done = subprocess.run(
        [*CLI, "demo", "--url", "ws://127.0.0.1:1"],
        env=no_key,
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    _one_error_line(done.stderr)


def test_debug_shows_the_traceback(
    no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Printed by main (through the redaction), not raised to the interpreter.
    for argv in (["--debug", "demo"], ["demo", "--debug"]):
        assert main([*argv, "--url", "ws://127.0.0.1:1"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("Traceback (most recent call last):")
        assert err.rstrip().endswith(
            "CliError: cannot connect to ws://127.0.0.1:1: Connection refused"
        )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--live"], "--live needs an API key"),
        (["demo", "--input", "missing.wav"], "no such file: missing.wav"),
        (["serve-fake", "--script", "missing.json"], "no such file: missing.json"),
        (["serve-fake", "--script", '[{"nonsense": 1}]'], "step 0 of the script"),
    ],
)
def test_clear_errors(
    argv: list[str], message: str, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    assert message in _one_error_line(capsys.readouterr().err)


def test_a_bad_wav_file(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav file")
    assert main(["demo", "--input", str(bad)]) == 1
    assert _one_error_line(capsys.readouterr().err) == (
        f"realtime-sansio: error: {bad}: not a WAV file: it starts with b'not a wav fi',"
        " not RIFF....WAVE"
    )


def test_a_wav_file_cut_short_is_one_warning_line(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.wav"
    with wave.open(str(cut), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(3200))
    cut.write_bytes(cut.read_bytes()[:-1001])
    # The output check stops the demo right after reading the input: no conversation needed.
    argv = ["demo", "--input", str(cut), "--output", str(tmp_path / "no" / "o.wav")]
    assert main(argv) == 1
    warning, error = capsys.readouterr().err.splitlines()
    assert warning == (
        f"warning: {cut}: the data chunk claims 3200 bytes but the file ends after 2199;"
        " 1 byte of a partial frame dropped (1-channel 16-bit frames are 2 bytes):"
        " read 2198 bytes (1099 frames)"
    )
    assert error.startswith("realtime-sansio: error: cannot write the output file")


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("missing/out.wav", "No such file or directory"),
        ("file.txt/out.wav", "Not a directory"),
        ("folder", "Is a directory"),
    ],
)
def test_demo_output_that_cannot_be_written_fails_before_connecting(
    where: str,
    reason: str,
    tmp_path: Path,
    no_key: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    (tmp_path / "folder").mkdir()
    output = tmp_path / where
    # Nothing listens on port 1: checked after connecting, this would be "cannot connect".
    assert main(["demo", "--url", "ws://127.0.0.1:1", "--output", str(output)]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"realtime-sansio: error: cannot write the output file {output}: {reason}"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_demo_output_in_a_read_only_folder(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert main(["demo", "--url", "ws://127.0.0.1:1", "--output", str(locked / "o.wav")]) == 1
    assert "Permission denied" in _one_error_line(capsys.readouterr().err)


def test_the_output_check_leaves_no_file_behind_and_keeps_an_existing_one(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    fresh, existing = tmp_path / "fresh.wav", tmp_path / "existing.wav"
    existing.write_bytes(b"an earlier recording")
    for output in (fresh, existing):
        assert main(["demo", "--url", "ws://127.0.0.1:1", "--output", str(output)]) == 1
        assert "cannot connect" in _one_error_line(capsys.readouterr().err)
    assert not fresh.exists()
    assert existing.read_bytes() == b"an earlier recording"


def test_demo_times_out_with_a_reason(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(2 * 8000))
    argv = ["demo", "--input", str(silent), "--timeout", "1.5", "--output", str(tmp_path / "o")]
    assert main(argv) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.endswith("within 1.5 s (audio turn: server VAD heard no speech in it)")


def test_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "required: COMMAND" in capsys.readouterr().err
    assert main(["probe", "--timeout-ms", "0"]) == 2
    assert main(["--help"]) == 0
    assert "serve-fake" in capsys.readouterr().out


@pytest.mark.parametrize("pace", ["inf", "nan", "-1", "fast"])
def test_serve_fake_refuses_a_pace_that_is_not_a_finite_number(
    pace: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Regression: --pace inf started a server whose replies never got past the first delta.
    assert main(["serve-fake", "--port", "0", "--pace", pace]) == 2
    assert "--pace: must be a finite number >= 0" in capsys.readouterr().err


def test_the_key_never_appears(
    no_key: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert main(["demo", "--url", "ws://127.0.0.1:1"]) == 1
    assert main(["probe", "--url", "ws://127.0.0.1:1", "--timeout-ms", "2000"]) == 1
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert len(err.splitlines()) == 2


# -- probe and serve-fake ---------------------------------------------------------------------


def test_probe_without_a_key_is_skipped(no_key: dict[str, str]) -> None:
    done = subprocess.run(
        [*CLI, "probe"], env=no_key, check=False, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("SKIPPED: no_api_key")
    assert done.stderr == ""


def test_probe_against_serve_fake(fake_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--url", fake_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("probe ok: model gpt-realtime, session sess_")
    assert out.count("\n") == 1


@pytest.mark.anyio
async def test_serve_fake_serves_our_client(fake_url: str) -> None:
    agent = Agent(name="Assistant")
    async with run(agent, model_config=ModelConfig(url=fake_url, api_key="unused")) as session:
        await session.send_message("Hello there")
        reply = []
        async for event in session:
            if isinstance(event, events.TranscriptDeltaEvent):
                reply.append(event.delta)
            if isinstance(event, events.AgentEndEvent) and not session.busy:
                break
    assert "".join(reply) == "You said: Hello there. What else can I do for you?"


def test_serve_fake_on_a_taken_port(fake_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    port = fake_url.rsplit(":", 1)[1]
    assert main(["serve-fake", "--port", port]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert f"cannot serve on 127.0.0.1:{port}: " in line  # then the OS's words


def test_serve_fake_with_a_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "script.json"
    script.write_text('[{"respond": {"text": "Scripted hello."}, "out_of_band": true}]')
    with serving("--script", str(script)) as url:
        assert main(["probe", "--url", url]) == 0
    assert 'reply "Scripted hello."' in capsys.readouterr().out


def test_demo_when_the_connection_drops(
    tmp_path: Path, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The first connection drops in the middle of the first answer; the next ones do not.
    script = tmp_path / "drop.json"
    script.write_text(
        '{"steps": [{"expect": "session.update"}, {"drop_after": 8}], "connections": 1}'
    )
    with serving("--script", str(script)) as url:
        assert main(["demo", "--url", url, "--output", str(tmp_path / "o.wav")]) == 0
    out = capsys.readouterr().out
    assert "user: What's the weather in Paris?" in out
    assert "connection lost (connection closed (code 1006)" in out
    assert "reconnecting, attempt 1 in 0.25 s" in out
    assert re.search(r"reconnected: \d+ items? replayed", out)
    assert "tool get_weather -> Sunny, 21 °C in Paris" in out  # the turn went on
    assert "-- done:" in out


# -- examples ---------------------------------------------------------------------------------


def test_the_examples_run(fake_url: str) -> None:
    """Each example, on the in-memory fake and against serve-fake, exits 0 (all at once)."""
    assert len(EXAMPLES) == 9
    runs = {
        (path.name, url): subprocess.Popen(
            [sys.executable, str(path), *(["--url", url] if url else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in EXAMPLES
        for url in (None, fake_url)
    }
    failures = []
    for name, process in runs.items():
        try:
            # A guard against a hang, not a speed limit: 18 interpreters start at once, each
            # measured by coverage, on a CI machine of 2 cores (45 s was exceeded under load).
            out, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        if process.returncode != 0 or not out:
            failures.append((name, process.returncode, err[-500:]))
    assert not failures
