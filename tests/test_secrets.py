"""A hostile server that echoes the credentials everywhere, and nothing shows them.

The server puts the API key (and a gateway token sent in a header or the URL) in every string
field of every server event type, in several forms (plain, inside a sentence, JSON-escaped,
split by a line break, percent-encoded), in an unknown event, in malformed frames, and in its
close reason. Our client runs against it over a real WebSocket; then every event's repr, the
history, the error of a command sent after the close (its str, repr and traceback), every log
record and the CLI's output (``demo --url``, with and without ``--debug``) are scanned.
"""

from __future__ import annotations

import copy
import json
import logging
import queue
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import anyio.from_thread
import pytest
import wire_samples as samples
from realtime_sansio.protocol import (
    Agent,
    GuardrailFunctionOutput,
    LocalProtocolError,
    ModelConfig,
    RemoteProtocolError,
    events,
    function_tool,
    output_guardrail,
    wire,
)
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import run
from realtime_sansio.transports.websocket import WebSocketConnection, serve_websocket
from secret_helpers import shows

KEY = "sk-proj-Ht5_Qe8-Zw2Xc7Vb4Nm1Lk9Jh3Gf6Ds0Aq"
TOKEN = "gwtok9f8e7d6c5b4a39281706f5e4d3c2b1"  # a gateway's: nothing "sk-" about it
SECRETS = (KEY, TOKEN)
PLACEHOLDER = "@@SECRET@@"

FORMS: dict[str, Callable[[str], str]] = {
    "plain": lambda s: s,
    "sentence": lambda s: f"Incorrect API key provided: {s}. You can find your key online.",
    "split": lambda s: f"{s[:13]}\n{s[13:]}",  # a JSON \n escape in the frame
    "escaped": lambda s: PLACEHOLDER,  # each character a \u escape, written into the frame
    "percent": lambda s: "".join(f"%{ord(c):02X}" for c in s),
}


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if path or key != "type":  # the event's own type picks the class
                yield from _string_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_paths(item, (*path, index))


def _replaced(sample: dict[str, Any], paths: list[tuple[Any, ...]], text: str) -> dict[str, Any]:
    copied = copy.deepcopy(sample)
    for path in paths:
        parent = copied
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = text
    return copied


def _decodes_as(sample: dict[str, Any], cls: type) -> bool:
    try:
        return type(wire.decode_server_event(json.dumps(sample))) is cls
    except RemoteProtocolError:
        return False


def _replaceable(cls: type) -> list[tuple[Any, ...]]:
    """The string fields the codec does not need to parse the event (an enum, base64
    audio and such refuse a key): each tried alone, then all together."""
    sample = samples.SERVER_SAMPLES[cls.type]  # type: ignore[attr-defined]
    paths = [
        path
        for path in _string_paths(sample)
        if _decodes_as(_replaced(sample, [path], FORMS["sentence"](KEY)), cls)
    ]
    assert _decodes_as(_replaced(sample, paths, KEY), cls)
    return paths


def hostile_frames() -> list[str]:
    frames: list[str] = []
    replaced = 0
    for cls in wire.SERVER_EVENT_CLASSES:
        sample = samples.SERVER_SAMPLES[cls.type]
        paths = _replaceable(cls)
        replaced += len(paths)
        for secret in SECRETS:
            for name, form in FORMS.items():
                text = json.dumps(_replaced(sample, paths, form(secret)))
                if name == "escaped":
                    text = text.replace(PLACEHOLDER, "".join(f"\\u{ord(c):04x}" for c in secret))
                frames.append(text)
    assert replaced > 150  # most string fields carry the secrets, not a handful
    for secret in SECRETS:
        frames += [
            json.dumps({"type": "vendor.unknown_event", "note": f"key {secret}"}),
            json.dumps({"type": "response.done", "response": f"key {secret}"}),  # malformed
            json.dumps({"type": "error", "error": {"message": 7, "code": secret}}),  # malformed
            f"not JSON: {secret}",
        ]
    return frames


FRAMES = hostile_frames()
CLOSE_REASON = f"refused {TOKEN[:10]}\n{TOKEN[10:]} and {KEY}"  # within 123 bytes


async def hostile(connection: WebSocketConnection) -> None:
    await connection.receive()  # the client's session.update
    for frame in FRAMES:
        await connection.send(frame)
    await connection.close(1008, CLOSE_REASON)


@asynccontextmanager
async def hostile_server() -> AsyncIterator[int]:
    async with anyio.create_task_group() as group:
        ready = anyio.Event()
        ports: list[int] = []

        def on_ready(port: int) -> None:
            ports.append(port)
            ready.set()

        group.start_soon(partial(serve_websocket, hostile, "127.0.0.1", 0, ready=on_ready))
        await ready.wait()
        yield ports[0]
        group.cancel_scope.cancel()


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}"


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [formatter.format(record) for record in caplog.records]


def assert_nothing_shows(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert not shows(text, secret), f"{secret[:4]}... shows in: {text[:500]}"


@pytest.mark.anyio
async def test_no_event_error_or_log_record_shows_what_a_hostile_server_echoes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    agent = Agent(name="Assistant", tools=[get_weather])
    texts: list[str] = []
    async with hostile_server() as port:
        config = ModelConfig(
            url=f"ws://127.0.0.1:{port}", api_key=KEY, headers={"X-Gateway-Token": TOKEN}
        )
        with anyio.fail_after(30):
            async with run(agent, model_config=config, subscriber_buffer=100_000) as session:
                seen = 0
                async for event in session:
                    texts.append(repr(event))
                    seen += 1
                texts += [repr(item) for item in session.history]
                with pytest.raises(LocalProtocolError) as raised:
                    await session.send_message("are you there?")
    error = raised.value
    texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += log_texts(caplog)
    assert_nothing_shows(texts)
    assert seen > len(FRAMES)  # every frame gave at least one event
    assert "refused <redacted>" in str(error)  # the close reason, quoted redacted


def test_the_cli_shows_nothing_a_hostile_server_echoes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "codex-home"
    home.mkdir()
    monkeypatch.delenv("CODEX_API_KEY", raising=False)
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    ports: queue.Queue[int] = queue.Queue()
    outputs: list[str] = []
    with anyio.from_thread.start_blocking_portal() as portal:
        server = portal.start_task_soon(
            partial(serve_websocket, hostile, "127.0.0.1", 0, ready=ports.put)
        )
        try:
            # The gateway token travels in the URL's query this time.
            url = f"ws://127.0.0.1:{ports.get(timeout=10)}/v1/realtime?token={TOKEN}"
            for debug in ([], ["--debug"]):
                argv = [*debug, "demo", "--url", url, "--output", str(tmp_path / "o.wav")]
                assert main([*argv, "--timeout", "20"]) == 1
                out, err = capsys.readouterr()
                outputs += [out, err]
        finally:
            server.cancel()
    assert_nothing_shows([*outputs, *log_texts(caplog)])
    for out, err, traceback_expected in ((*outputs[:2], False), (*outputs[2:], True)):
        assert "token=<redacted>" in out  # the demo names its target, masked
        assert ("Traceback" in err) == traceback_expected


@pytest.mark.anyio
async def test_user_code_failures_quoting_a_credential_are_redacted() -> None:
    # A tool's HTTP client, a guardrail or an instructions function may fail with a message
    # quoting the credential: it becomes an event and the tool's output for the model.
    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        raise RuntimeError(f"the weather service refused token {TOKEN}")

    @output_guardrail
    def strict(context: Any, agent: Agent, text: str) -> GuardrailFunctionOutput:
        raise RuntimeError(f"the moderation service refused token {TOKEN}")

    def instructions(context: Any) -> str:
        raise RuntimeError(f"the prompt store refused token {TOKEN}")

    agent = Agent(
        name="Assistant", instructions=instructions, tools=[get_weather], output_guardrails=[strict]
    )
    texts: list[str] = []
    with anyio.fail_after(30):
        async with run(
            agent, model_config=ModelConfig(api_key=TOKEN), transport=FakeServerTransport()
        ) as session:
            await session.send_message("What is the weather in Paris?")
            async for event in session:
                texts.append(repr(event))
                if isinstance(event, events.AgentEndEvent) and not session.busy:
                    break
    tool_ends = [text for text in texts if text.startswith("ToolEndEvent")]
    assert tool_ends and all("refused token <redacted>" in text for text in tool_ends)
    assert sum("refused token <redacted>" in text for text in texts) >= 3
    assert_nothing_shows(texts)
