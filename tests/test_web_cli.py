"""``realtime-sansio web``: as a subprocess that serves the page and stops on SIGTERM, and its
errors in process, one line each."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

import pytest
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.voice import AgentWorkflow, OpenAISTTModel, VoicePipeline
from realtime_sansio.transports.web import PipelineKind
from realtime_sansio.transports.web.app import WebError, WebOptions, build_kind, load_agent
from serve_helpers import CLI, first_line


@pytest.fixture
def no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    home = tmp_path / "codex-home"
    home.mkdir()
    for name in ("CODEX_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEX_HOME", str(home))
    return dict(os.environ)


def test_web_serves_the_page_until_sigterm(tmp_path: Path, no_key: dict[str, str]) -> None:
    (tmp_path / "my_agents.py").write_text(
        "from realtime_sansio.protocol import Agent\n"
        "def concierge():\n"
        "    return Agent(name='Concierge', instructions='Help.')\n"
    )
    process = subprocess.Popen(
        [*CLI, "web", "--port", "0", "--agent", "my_agents:concierge"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=no_key,
    )
    try:
        line = first_line(process)
        assert line.startswith("serving the page on http://127.0.0.1:"), line
        assert "agent Concierge, the fake Realtime server, in memory" in line
        url = line.split(" on ", 1)[1].split()[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert b"realtime-sansio" in response.read()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert err == ""


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--agent", "no_colon"], "--agent takes module:attribute"),
        (["--agent", "no_such_module_here:agent"], "cannot import no_such_module_here"),
        (["--agent", "realtime_sansio.transports.demo:NOPE"], "has no NOPE"),
        (
            ["--agent", "realtime_sansio.transports.demo:DEMO_CONFIG"],
            "is a RunConfig, not an Agent",
        ),
        (["--live"], "--live needs an API key"),
        (["--pipeline", "--live"], "--live needs an API key"),
    ],
)
def test_web_errors_are_one_line(
    args: list[str], says: str, no_key: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["web", "--port", "0", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("realtime-sansio: error: ")
    assert says in err


def test_web_on_a_taken_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["web", "--port", str(port)]) == 1
    assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_kinds_the_options_make(no_key: dict[str, str]) -> None:
    fake = build_kind(WebOptions())
    assert fake.agent.name == "Greeter"
    assert fake.hint is not None and "What's the weather in Paris?" in fake.hint
    assert fake.transport is not None
    url = build_kind(WebOptions(mode="url", url="ws://127.0.0.1:8765"))
    assert (url.target, url.transport) == ("ws://127.0.0.1:8765", None)
    assert url.model_config is not None and url.model_config.url == "ws://127.0.0.1:8765"
    with pytest.raises(WebError, match="an Agent"):
        load_agent("realtime_sansio.transports.demo:get_weather.name")


def test_the_pipeline_kinds_the_options_make(no_key: dict[str, str]) -> None:
    fake = build_kind(WebOptions(pipeline=True))
    assert isinstance(fake, PipelineKind) and fake.name == "Greeter"
    assert fake.hint is not None and "Speak over an answer" in fake.hint
    for url in ("ws://127.0.0.1:8765", "http://127.0.0.1:8765"):
        kind = build_kind(WebOptions(pipeline=True, mode="url", url=url))
        assert isinstance(kind, PipelineKind)
        assert kind.target == "the voice pipeline, on http://127.0.0.1:8765"
        pipeline = kind.make_pipeline()
        assert isinstance(pipeline, VoicePipeline)
        assert isinstance(pipeline.stt_model, OpenAISTTModel)
        assert pipeline.stt_model.url == "http://127.0.0.1:8765/v1/audio/transcriptions"
        assert isinstance(pipeline.workflow, AgentWorkflow)
        assert pipeline.workflow.model_config is not None
        assert pipeline.workflow.model_config.url == "ws://127.0.0.1:8765"
