"""What counts as a credential, and how it is hidden: ``protocol.config.credentials``,
``ModelConfig``'s repr and validation, ``transports.auth.Redactor`` (every form a secret may
take, and the prefilter that keeps ordinary frames cheap), and the Session's ``redact``."""

from __future__ import annotations

import json
from typing import Any

import pytest
import wire_samples as samples
from hypothesis import assume, given
from hypothesis import strategies as st
from realtime_sansio.protocol import Agent, LocalProtocolError, ModelConfig, Session, events, wire
from realtime_sansio.protocol.config.credentials import (
    is_secret_name,
    looks_like_credential,
    mask_url,
    url_secrets,
)
from realtime_sansio.protocol.inputs import ConnectionLost, SendMessage
from realtime_sansio.transports.auth import Redactor, connection_secrets, redact

KEY = "sk-proj-Xq7_Lm2-Vb9Tz4Wc8Rn1Ya6Pk3Sd5Fg0Hj"
TOKEN = "gwtok9f8e7d6c5b4a39281706f5e4d3c2b1"  # no dash, nothing "sk-" about it
REDACTED = "<redacted>"


def escaped(text: str) -> str:
    """Every character as a JSON ``\\u`` escape."""
    return "".join(f"\\u{ord(c):04x}" for c in text)


def percent(text: str, upper: bool = True) -> str:
    return "".join(f"%{ord(c):02X}" if upper else f"%{ord(c):02x}" for c in text)


# -- the judgement: names, values, URLs ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Authorization", "api-key", "X-Api-Key", "x-goog-api-key", "X-Auth-Token", "Cookie", "key"],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["User-Agent", "OpenAI-Beta", "X-Trace", "model", "call_id"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "value",
    [f"Bearer {TOKEN}", "Basic dXNlcjpwYXNz", KEY, f"key={KEY}", TOKEN, "eyJhbGciOi.eyJzdWIi.sig"],
)
def test_values_that_look_like_credentials(value: str) -> None:
    assert looks_like_credential(value)


@pytest.mark.parametrize("value", ["realtime=v1", "realtime-sansio/0.1 (Python)", "1", "a b c"])
def test_values_that_do_not(value: str) -> None:
    assert not looks_like_credential(value)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            f"wss://gw.test/v1/realtime?token={TOKEN}&model=gpt-realtime",
            "wss://gw.test/v1/realtime?token=<redacted>&model=gpt-realtime",
        ),
        (
            "wss://gw.test/?api-key=abc&API_KEY=def",
            "wss://gw.test/?api-key=<redacted>&API_KEY=<redacted>",
        ),
        ("wss://gw.test/?Key=abc;sig=def", "wss://gw.test/?Key=<redacted>;sig=<redacted>"),
        ("wss://gw.test/?access%5Ftoken=abc", "wss://gw.test/?access%5Ftoken=<redacted>"),
        ("wss://user:pa55@gw.test:8443/x", "wss://<redacted>@gw.test:8443/x"),
        (f"wss://gw.test/{KEY}/x", "wss://gw.test/<redacted>/x"),
        ("ws://127.0.0.1:8765/v1/realtime?model=gpt-realtime", None),
    ],
)
def test_mask_url(url: str, masked: str | None) -> None:
    assert mask_url(url) == (masked or url)


def test_ids_that_look_like_tokens_are_masked_but_not_hunted() -> None:
    headers = {"OpenAI-Project": "proj_0123456789abcdefABCDEF", "X-Gateway": f"Bearer {TOKEN}"}
    assert "proj_0123456789" not in repr(ModelConfig(headers=headers))
    assert connection_secrets(None, headers.items()) == [f"Bearer {TOKEN}", TOKEN]


def test_url_secrets() -> None:
    url = f"wss://user:pa55word@gw.test/?token={TOKEN}&model=gpt-realtime"
    assert url_secrets(url) == ["user:pa55word", "pa55word", TOKEN]
    secrets = connection_secrets(url, [("X-Custom", f"Bearer {KEY}")], "sk-explicit-key")
    assert secrets[:3] == ["sk-explicit-key", f"Bearer {KEY}", KEY]


# -- ModelConfig --------------------------------------------------------------------------------


def test_model_config_repr_masks_credential_values_whatever_the_header_name() -> None:
    config = ModelConfig(
        url=f"wss://user:pa55word@gw.test/v1/realtime?token={TOKEN}&api-key=k1&key=k2&model=m",
        headers={
            "X-Custom": f"Bearer {TOKEN}",
            "X-Other": KEY,
            "X-Opaque": TOKEN,
            "X-Trace": "visible",
        },
    )
    text = repr(config)
    for secret in (TOKEN, KEY, "pa55word", "k1", "k2"):
        assert secret not in text
    assert "'X-Trace': 'visible'" in text and "model=m" in text
    assert text.count(REDACTED) == 7  # three headers, the userinfo, three query values


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ws://", "with a host"),
        ("wss:///v1/realtime", "with a host"),
        ("ws://:8080/x", "with a host"),
        ("ws://host:0/", "port is 1..65535"),
        ("ws://host:70000/", "port is 1..65535"),
        ("ws://host:http/", "port is 1..65535"),
        ("ws://host/a b", "without spaces"),
        ("ws://host/a\tb", "without spaces"),
        ("ws://host/caf\u00e9", "non-ASCII"),
    ],
)
def test_model_config_refuses_unusable_urls_at_construction(url: str, message: str) -> None:
    with pytest.raises(LocalProtocolError, match=message):
        ModelConfig(url=url)


def test_a_refused_url_is_shown_masked() -> None:
    with pytest.raises(LocalProtocolError) as raised:
        ModelConfig(url=f"wss://gw.test:99999/?token={TOKEN}")
    assert TOKEN not in str(raised.value) and "token=<redacted>" in str(raised.value)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Token": f"Bearer {TOKEN}\u00e9"}, r"headers\['X-Token'\] must be printable ASCII"),
        ({"X-Token": f"{TOKEN}\x00"}, r"headers\['X-Token'\] must be printable ASCII"),
        ({"X-T\u00f6ken": "v"}, "invalid header name"),
        ({"X Token": "v"}, "invalid header name"),
    ],
)
def test_model_config_refuses_headers_http_cannot_carry(
    headers: dict[str, str], message: str
) -> None:
    with pytest.raises(LocalProtocolError, match=message) as raised:
        ModelConfig(headers=headers)
    assert TOKEN not in str(raised.value)  # the header is named, its value never shown


def test_model_config_accepts_ordinary_urls_and_headers() -> None:
    for url in ("ws://127.0.0.1:8765", "wss://[::1]:443/v1/realtime?model=x", "WSS://Host/p#f"):
        assert ModelConfig(url=url).url == url
    assert ModelConfig(headers={"X-Trace": "a\tb c"}).headers["X-Trace"] == "a\tb c"


# -- the Redactor -------------------------------------------------------------------------------

REDACTOR = Redactor(KEY, TOKEN)


@pytest.mark.parametrize("secret", [KEY, TOKEN])
@pytest.mark.parametrize(
    "form",
    [
        lambda s: s,
        escaped,
        lambda s: s[:5] + escaped(s[5:9]) + s[9:],  # a few characters escaped
        lambda s: escaped(s).upper().replace("\\U", "\\u"),  # upper-case hex digits
        percent,
        lambda s: percent(s, upper=False),
        lambda s: s[:12] + "%2D" + s[13:] if s[12] == "-" else s[:12] + percent(s[12]) + s[13:],
        lambda s: s[:10] + "\\n" + s[10:],  # JSON's escape of a line break
        lambda s: s[:3] + "\n" + s[3:20] + "\r\n" + s[20:],  # wrapped in two places
        " ".join,  # broken everywhere (a short text: the slow path at once)
        lambda s: s[:4] + "\\u000a" + s[4:-3] + "%0A" + s[-3:],
    ],
    ids=[
        "plain",
        "escaped",
        "partly-escaped",
        "escaped-upper",
        "percent",
        "percent-lower",
        "one-percent",
        "json-newline",
        "wrapped",
        "spaced",
        "escaped-newlines",
    ],
)
def test_every_form_of_a_secret_is_redacted(secret: str, form: Any) -> None:
    text = f'Incorrect API key provided: "{form(secret)}".'
    assert REDACTOR(text) == f'Incorrect API key provided: "{REDACTED}".'


@pytest.mark.parametrize("form", [lambda s: s, escaped, percent, lambda s: s[:9] + "\\n" + s[9:]])
def test_a_redacted_json_frame_still_parses(form: Any) -> None:
    raw = '{"type":"error","error":{"message":"bad key ' + form(KEY) + '"}}'
    assert json.loads(REDACTOR(raw))["error"]["message"] == f"bad key {REDACTED}"


def test_a_long_text_finds_a_secret_with_one_end_intact() -> None:
    filler = "word " * 400  # over 1 KiB: the substring checks decide
    for text in (KEY[:30] + "\\n" + KEY[30:], TOKEN[:5] + "\n" + TOKEN[5:]):
        assert REDACTOR(filler + text + filler) == filler + REDACTED + filler


def test_any_sk_key_shape_is_redacted_without_being_known() -> None:
    assert Redactor()("key=sk-abcdefghijklmnop, ok") == f"key={REDACTED}, ok"
    assert redact("sk-short stays") == "sk-short stays"


def test_short_secrets_are_ignored_and_the_repr_hides_the_secrets() -> None:
    redactor = Redactor("unused", "x", None, "", f"  {TOKEN}  ")
    assert redactor("unused x text") == "unused x text"
    assert redactor(TOKEN) == REDACTED  # stripped, kept
    assert repr(redactor) == "Redactor(<1 secrets>)"
    assert redactor.adding(KEY)(f"{KEY} {TOKEN}") == f"{REDACTED} {REDACTED}"


def _slow_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    slow = Redactor._slow

    def spy(self: Redactor, text: str) -> str:
        calls.append(text)
        return slow(self, text)

    monkeypatch.setattr(Redactor, "_slow", spy)
    return calls


def test_the_prefilter_keeps_ordinary_frames_off_the_slow_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _slow_path_calls(monkeypatch)
    redactor = Redactor(KEY, f"Bearer {KEY}")  # what the driver has for an OpenAI key
    long_text = {**samples.SERVER_SAMPLES["response.output_text.done"], "text": "x-y " * 600}
    ordinary = [
        samples.SERVER_SAMPLES["response.output_audio.delta"],
        samples.SERVER_SAMPLES["response.output_audio_transcript.delta"],
        samples.SERVER_SAMPLES["rate_limits.updated"],
        long_text,  # dashes, but long and nothing like the key
    ]
    for sample in ordinary:
        text = json.dumps(sample, separators=(",", ":"))
        assert redactor(text) == text
    assert calls == []
    # A short text with a backslash, a percent sign or a dash may hide a split or escaped key.
    redactor(json.dumps(samples.SERVER_SAMPLES["response.function_call_arguments.delta"]))
    assert len(calls) == 1


def test_a_secret_with_nothing_rare_in_it_sends_short_texts_down_the_slow_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _slow_path_calls(monkeypatch)
    redactor = Redactor(TOKEN)  # letters and digits: no character to scan for
    audio = json.dumps(samples.SERVER_SAMPLES["response.output_audio.delta"])
    assert redactor(audio) == audio  # long: the substring checks found nothing
    assert calls == []
    redactor("a short text")
    assert calls == ["a short text"]


@given(st.text(max_size=200))
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assume("sk-" not in text)  # any sk- key shape is redacted, known or not
    assert REDACTOR(text) == text


# -- the Session's redact -----------------------------------------------------------------------


def frame(sample: str, **fields: Any) -> str:
    return json.dumps({**samples.SERVER_SAMPLES[sample], **fields})


def test_the_session_redacts_raw_frames_and_the_close_reason() -> None:
    session = Session(Agent(name="A"), redact=REDACTOR)
    session.handle(wire.decode_server_event(frame("session.created")))
    error = {
        "type": "invalid_request_error",
        "code": "invalid_api_key",
        "message": f"bad key {KEY}",
    }
    out = session.handle(frame("error", error=error))
    out += session.handle(frame("error", error=error).encode())  # bytes frames too
    out += session.handle(ConnectionLost(code=1008, reason=f"key {percent(TOKEN)} refused"))
    texts = [repr(o) for o in out]
    with pytest.raises(LocalProtocolError) as raised:
        session.handle(SendMessage(message="hi"))
    texts += [str(raised.value)]
    assert all(KEY not in t and TOKEN not in t and percent(TOKEN) not in t for t in texts)
    errors = [o for o in out if isinstance(o, events.ErrorEvent)]
    assert [e.message for e in errors] == [f"bad key {REDACTED}"] * 2
    closed = [o for o in out if isinstance(o, events.ConnectionClosedEvent)]
    assert closed[0].reason == f"key {REDACTED} refused"
    assert REDACTED in str(raised.value)


def test_typed_events_are_the_callers_own_and_not_touched() -> None:
    session = Session(Agent(name="A"), redact=REDACTOR)
    error = {
        "type": "invalid_request_error",
        "code": "invalid_api_key",
        "message": f"bad key {KEY}",
    }
    out = session.handle(wire.decode_server_event(frame("error", error=error)))
    assert [o.message for o in out if isinstance(o, events.ErrorEvent)] == [f"bad key {KEY}"]


def test_a_frame_that_is_not_utf8_is_still_a_malformed_frame_error() -> None:
    session = Session(Agent(name="A"), redact=REDACTOR)
    [error] = session.handle(b"\xff{}")
    assert isinstance(error, events.ErrorEvent) and error.code == "malformed_frame"
