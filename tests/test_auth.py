"""Where the key and the trust roots come from, the URL and headers of the handshake, and the
key's secrecy: it appears in no repr, no log record and no error text.

Every environment here is an ``environ=`` dict or a monkeypatched one pointing at temporary
directories: the real home and the real environment are never read.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
import pytest
import trustme
from realtime_sansio.protocol import Agent, ModelConfig, RunConfig, SessionModelSettings
from realtime_sansio.transports.auth import (
    ApiKeyError,
    redact,
    resolve_api_key,
    ssl_context_from_env,
)
from realtime_sansio.transports.connect import (
    USER_AGENT,
    handshake_headers,
    open_realtime,
    realtime_url,
)
from realtime_sansio.transports.diagnostics import format_probe_failure, probe_text_turn
from realtime_sansio.transports.runner import run
from realtime_sansio.transports.websocket import HandshakeError, WebSocketTransport

KEY = "sk-proj-auth-test-key-5f1e2d3c4b5a69788796a5b4"


def write_auth_json(home: Path, content: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "auth.json"
    path.write_text(content, encoding="utf-8")
    return path


# -- the key's precedence ---------------------------------------------------------------------


def test_the_argument_comes_first(tmp_path: Path) -> None:
    write_auth_json(tmp_path, json.dumps({"OPENAI_API_KEY": "from-auth-json"}))
    environ = {
        "CODEX_API_KEY": "from-codex-env",
        "CODEX_HOME": str(tmp_path),
        "OPENAI_API_KEY": "from-openai-env",
    }
    assert resolve_api_key("from-argument", environ=environ) == "from-argument"
    assert resolve_api_key(lambda: "from-callable", environ=environ) == "from-callable"
    assert resolve_api_key("  padded  ", environ=environ) == "padded"


def test_then_codex_api_key_then_auth_json_then_openai_api_key(tmp_path: Path) -> None:
    write_auth_json(tmp_path, json.dumps({"OPENAI_API_KEY": "from-auth-json"}))
    environ = {
        "CODEX_API_KEY": "from-codex-env",
        "CODEX_HOME": str(tmp_path),
        "OPENAI_API_KEY": "from-openai-env",
    }
    assert resolve_api_key(environ=environ) == "from-codex-env"
    del environ["CODEX_API_KEY"]
    assert resolve_api_key(environ=environ) == "from-auth-json"
    environ["CODEX_HOME"] = str(tmp_path / "elsewhere")  # no auth.json there
    assert resolve_api_key(environ=environ) == "from-openai-env"
    del environ["OPENAI_API_KEY"]
    assert resolve_api_key(environ=environ) is None


def test_blank_values_are_ignored_at_every_step(tmp_path: Path) -> None:
    write_auth_json(tmp_path, json.dumps({"OPENAI_API_KEY": "   "}))
    environ = {"CODEX_API_KEY": " \t", "CODEX_HOME": str(tmp_path), "OPENAI_API_KEY": "last"}
    assert resolve_api_key("", environ=environ) == "last"
    assert resolve_api_key(lambda: "  ", environ=environ) == "last"
    write_auth_json(tmp_path, json.dumps({"OPENAI_API_KEY": "from-auth-json"}))
    assert resolve_api_key(" ", environ=environ) == "from-auth-json"
    environ["CODEX_HOME"] = "  "  # blank: the default home, which has none
    environ["HOME"] = str(tmp_path / "nobody")
    assert resolve_api_key(environ=environ) == "last"


def test_auth_json_without_the_field_is_skipped(tmp_path: Path) -> None:
    environ = {"CODEX_HOME": str(tmp_path), "OPENAI_API_KEY": "from-openai-env"}
    for content in ("{}", '{"OPENAI_API_KEY": null}', '{"OPENAI_API_KEY": 42}', "[1, 2]"):
        write_auth_json(tmp_path, content)
        assert resolve_api_key(environ=environ) == "from-openai-env"


def test_codex_home_defaults_to_dot_codex_in_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # Path.home() and "~" both read it
    write_auth_json(tmp_path / ".codex", json.dumps({"OPENAI_API_KEY": "from-default-home"}))
    assert resolve_api_key(environ={}) == "from-default-home"


def test_the_default_codex_home_follows_the_given_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # environ= is the whole environment: its HOME, not the process's, locates ~/.codex.
    elsewhere = tmp_path / "process-home"
    write_auth_json(elsewhere / ".codex", json.dumps({"OPENAI_API_KEY": "from-process-home"}))
    monkeypatch.setenv("HOME", str(elsewhere))
    given = tmp_path / "given-home"
    write_auth_json(given / ".codex", json.dumps({"OPENAI_API_KEY": "from-given-home"}))
    assert resolve_api_key(environ={"HOME": str(given)}) == "from-given-home"
    assert resolve_api_key(environ={"HOME": str(tmp_path / "empty")}) is None


@pytest.mark.parametrize(
    "content", ['{"OPENAI_API_KEY": "sk-in-a-broken-file-123456', "\x00\x01 not json"]
)
def test_a_broken_auth_json_is_a_clear_error_without_its_contents(
    tmp_path: Path, content: str
) -> None:
    path = write_auth_json(tmp_path, content)
    with pytest.raises(ApiKeyError) as raised:
        resolve_api_key(environ={"CODEX_HOME": str(tmp_path), "OPENAI_API_KEY": "unused"})
    message = str(raised.value)
    assert str(path) in message and "JSON" in message
    assert "sk-in-a-broken-file" not in message and "not json" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_unreadable_auth_json_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "auth.json").mkdir()  # a directory where the file should be
    with pytest.raises(ApiKeyError, match=r"auth\.json could not be read"):
        resolve_api_key(environ={"CODEX_HOME": str(tmp_path)})


def test_a_callable_that_gives_no_string() -> None:
    with pytest.raises(ApiKeyError, match="must give a string, not int"):
        resolve_api_key(lambda: 42, environ={})  # type: ignore[arg-type, return-value]


# -- trust roots ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path]:
    """Two throwaway CAs' PEM files: (the first CA, its file, the other CA's file)."""
    folder = tmp_path_factory.mktemp("cas")
    first, other = trustme.CA(), trustme.CA()
    first_path, other_path = folder / "first.pem", folder / "other.pem"
    first.cert_pem.write_to_path(str(first_path))
    other.cert_pem.write_to_path(str(other_path))
    return first, first_path, other_path


def _trusts(context: ssl.SSLContext, ca: Path) -> bool:
    der = ssl.PEM_cert_to_DER_cert(ca.read_text())
    return der in [c for c in context.get_ca_certs(binary_form=True)]


def test_codex_ca_certificate_before_ssl_cert_file(
    ca_files: tuple[trustme.CA, Path, Path],
) -> None:
    _, first, other = ca_files
    both = {"CODEX_CA_CERTIFICATE": str(first), "SSL_CERT_FILE": str(other)}
    context = ssl_context_from_env(both)
    assert _trusts(context, first) and not _trusts(context, other)
    context = ssl_context_from_env({"CODEX_CA_CERTIFICATE": "  ", "SSL_CERT_FILE": str(other)})
    assert _trusts(context, other) and not _trusts(context, first)
    context = ssl_context_from_env({"SSL_CERT_FILE": ""})
    assert not _trusts(context, first) and not _trusts(context, other)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("name", ["CODEX_CA_CERTIFICATE", "SSL_CERT_FILE"])
def test_a_bad_ca_path_is_a_clear_error(tmp_path: Path, name: str) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ssl.SSLError) as raised:
        ssl_context_from_env({name: str(missing)})
    message = str(raised.value)  # the message itself, not a tuple's repr of it
    assert message.startswith(f"{name}={missing} is not a usable PEM bundle: ")
    assert "No such file" in message
    garbage = tmp_path / "garbage.pem"
    garbage.write_text(
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(ssl.SSLError) as raised:
        ssl_context_from_env({name: str(garbage)})
    assert str(raised.value).startswith(f"{name}={garbage} is not a usable PEM bundle: ")


# -- the URL and the headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (ModelConfig(), "wss://api.openai.com/v1/realtime?model=gpt-realtime"),
        (
            ModelConfig(model="gpt-realtime-mini"),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini",
        ),
        (ModelConfig(call_id="rtc_abc123"), "wss://api.openai.com/v1/realtime?call_id=rtc_abc123"),
        (
            ModelConfig(url="ws://127.0.0.1:8765"),
            "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime",
        ),
        (
            ModelConfig(url="ws://127.0.0.1:8765/"),
            "ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime",
        ),
        (
            ModelConfig(url="wss://gateway.example/openai/realtime"),
            "wss://gateway.example/openai/realtime?model=gpt-realtime",
        ),
        (
            ModelConfig(url="wss://gateway.example/v1/realtime?api-version=2025-08-28"),
            "wss://gateway.example/v1/realtime?api-version=2025-08-28&model=gpt-realtime",
        ),
        (
            ModelConfig(url="wss://gateway.example/realtime?tenant=a", call_id="rtc_1"),
            "wss://gateway.example/realtime?tenant=a&call_id=rtc_1",
        ),
        (
            ModelConfig(model="my model&x=1"),
            "wss://api.openai.com/v1/realtime?model=my+model%26x%3D1",
        ),
    ],
)
def test_realtime_url(config: ModelConfig, expected: str) -> None:
    assert realtime_url(config) == expected


@pytest.mark.parametrize(
    "base", ["ws://127.0.0.1:8765?token=abc", "ws://127.0.0.1:8765/?token=abc"]
)
def test_realtime_url_of_a_base_with_a_query_and_no_path(base: str) -> None:
    expected = "ws://127.0.0.1:8765/v1/realtime?token=abc&model=gpt-realtime"
    assert realtime_url(ModelConfig(url=base)) == expected


def test_handshake_headers() -> None:
    ga = handshake_headers(ModelConfig(), KEY)
    assert ga == [("Authorization", f"Bearer {KEY}"), ("User-Agent", USER_AGENT)]
    beta = handshake_headers(ModelConfig(dialect="beta"), KEY)
    assert ("OpenAI-Beta", "realtime=v1") in beta
    assert not any(name == "OpenAI-Beta" for name, _ in ga)
    extra = handshake_headers(ModelConfig(headers={"X-Trace": "t-1", "OpenAI-Project": "p"}), KEY)
    assert extra[-2:] == [("X-Trace", "t-1"), ("OpenAI-Project", "p")]
    anonymous = handshake_headers(ModelConfig(), None)  # a local server needs no key
    assert anonymous == [("User-Agent", USER_AGENT)]


def test_extra_headers_replace_the_defaults_of_the_same_name() -> None:
    config = ModelConfig(headers={"user-agent": "my-app/2.0", "Authorization": "Bearer ek_1"})
    headers = handshake_headers(config, KEY)
    names = [name.lower() for name, _ in headers]
    assert names.count("user-agent") == 1 and names.count("authorization") == 1
    assert ("user-agent", "my-app/2.0") in headers
    assert ("Authorization", "Bearer ek_1") in headers


def test_open_realtime_needs_a_key_for_api_openai_com_only(tmp_path: Path) -> None:
    environ = {"CODEX_HOME": str(tmp_path), "HOME": str(tmp_path)}
    with pytest.raises(ApiKeyError) as raised:
        open_realtime(ModelConfig(), environ=environ)
    message = str(raised.value)
    assert "no API key" in message
    assert "CODEX_API_KEY" in message and "OPENAI_API_KEY" in message
    with pytest.raises(ApiKeyError):
        open_realtime(ModelConfig(url="wss://eu.api.openai.com"), environ=environ)
    local = open_realtime(ModelConfig(url="ws://127.0.0.1:9"), environ=environ)
    assert local.url == "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime"


def test_open_realtime_takes_tls_and_the_proxy_from_the_environment(
    ca_files: tuple[trustme.CA, Path, Path], tmp_path: Path
) -> None:
    _, first, _ = ca_files
    environ = {
        "CODEX_HOME": str(tmp_path),
        "OPENAI_API_KEY": KEY,
        "CODEX_CA_CERTIFICATE": str(first),
        "HTTPS_PROXY": "http://127.0.0.1:3128",
    }
    secure = open_realtime(ModelConfig(), environ=environ)
    assert secure._proxy == "http://127.0.0.1:3128"
    assert secure._ssl is not None and _trusts(secure._ssl, first)
    assert (b"Authorization", f"Bearer {KEY}".encode()) in secure._headers
    plain = open_realtime(ModelConfig(url="ws://127.0.0.1:9"), environ=environ)
    assert plain._proxy is None and plain._ssl is None  # a proxy tunnels wss:// only


# -- the key never shows ----------------------------------------------------------------------


def test_redact() -> None:
    assert redact(f"bad key {KEY} here", KEY) == "bad key <redacted> here"
    assert redact("token sk-abcdefghijklmnop leaked") == "token <redacted> leaked"
    assert redact("sk-short stays") == "sk-short stays"
    assert redact("nothing to hide", None, "") == "nothing to hide"


def test_reprs_never_show_the_key() -> None:
    config = ModelConfig(
        api_key=KEY,
        url="wss://api.openai.com",
        headers={"Authorization": f"Bearer {KEY}", "api-key": KEY, "X-Trace": "t-1"},
    )
    callable_config = ModelConfig(api_key=lambda: KEY)
    transport = open_realtime(config, environ={})
    texts = [
        repr(config),
        str(config),
        repr(callable_config),
        repr(transport),
        str(transport),
        repr(RunConfig(model_settings=SessionModelSettings(instructions="Be brief."))),
        repr(WebSocketTransport("wss://api.openai.com/v1/realtime", headers=[("a", KEY)])),
    ]
    for text in texts:
        assert KEY not in text
    assert "X-Trace" in repr(config)  # what is not secret is still shown


@asynccontextmanager
async def refusing_server(status: int) -> AsyncIterator[int]:
    """A server that refuses every handshake, quoting the credential it was given."""

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            request = b""
            while b"\r\n\r\n" not in request:
                request += await stream.receive()
            quoted = request.decode().split("Authorization: ")[1].split("\r\n")[0]
            error = {"message": f"Incorrect API key provided: {quoted}", "code": "invalid_api_key"}
            body = json.dumps({"error": error}).encode()
            head = f"HTTP/1.1 {status} Refused\r\nContent-Length: {len(body)}\r\n\r\n"
            await stream.send(head.encode() + body)

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with anyio.create_task_group() as group:
        group.start_soon(listener.serve, handle)
        yield int(listener.extra(anyio.abc.SocketAttribute.local_port))
        group.cancel_scope.cancel()


@pytest.mark.anyio
async def test_logs_and_errors_never_show_the_key(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("CODEX_API_KEY", "OPENAI_API_KEY", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    agent = Agent(name="Quiet", instructions="Say nothing.")

    def collect(exc: BaseException) -> None:
        while exc is not None:
            texts.extend([str(exc), repr(exc), repr(exc.args)])
            if isinstance(exc, BaseExceptionGroup):
                for inner in exc.exceptions:
                    collect(inner)
            exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]

    # Nothing listening: the session fails to connect.
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    dead_port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    config = ModelConfig(url=f"ws://127.0.0.1:{dead_port}", api_key=KEY)
    with pytest.raises(OSError) as refused:
        async with run(agent, model_config=config):
            pass
    collect(refused.value)

    # A refused handshake (401), through the runner and through the probe.
    async with refusing_server(401) as port:
        config = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key=KEY)
        with pytest.raises(HandshakeError) as handshake:
            async with run(agent, model_config=config):
                pass
        collect(handshake.value)
        result = await probe_text_turn(model_config=config, timeout_ms=3000)
    assert result.reason == "auth_failed"
    texts.extend([repr(result), format_probe_failure(result)])

    # No key at all for api.openai.com.
    with pytest.raises(ApiKeyError) as missing:
        async with run(agent, model_config=ModelConfig(api_key=" ")) as _session:
            pass
    collect(missing.value)

    texts.extend(record.getMessage() for record in caplog.records)
    texts.extend(str(record.args) for record in caplog.records)
    assert len(texts) > 10
    for text in texts:
        assert KEY not in text


def test_redact_catches_key_shapes_wherever_they_stand() -> None:
    text = 'bad key sk-proj-abcdefghijkl. key=sk-abcdefghijklmnop "sk-zzzzzzzzzzzzzz" task-list'
    assert redact(text) == 'bad key <redacted>. key=<redacted> "<redacted>" task-list'
    assert redact("token abc123def here", "abc123def") == "token <redacted> here"
    # Shorter "secrets" (api_key="unused" for a local server) are ordinary words: kept.
    assert redact("unused and x", "unused", "x") == "unused and x"
