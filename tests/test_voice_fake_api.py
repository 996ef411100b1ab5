"""The fake's speech endpoints (pure), their HTTP serving, and the models' HTTP details."""

from __future__ import annotations

import io
import json

import anyio
import pytest
from realtime_sansio.protocol.audio import read_wav, write_wav
from realtime_sansio.protocol.fake.audio_api import FakeAudioApi, parse_multipart
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.protocol.voice import STTSettings, TTSSettings
from realtime_sansio.transports import http
from realtime_sansio.transports.voice import OpenAISTTModel, OpenAITTSModel
from voice_helpers import fake_server

KEY = "sk-test-THIS-KEY-MUST-NEVER-SHOW-0123"
NO_ENV = {"CODEX_HOME": "/nonexistent-codex-home"}


def upload(audio: bytes, filename: str = "a.wav", **fields: str) -> tuple[str, bytes]:
    return http.multipart_form(fields, [("file", filename, "audio/wav", audio)], "xyzBOUNDARY")


def wav(pcm: bytes, rate: int = 24000) -> bytes:
    out = io.BytesIO()
    write_wav(out, pcm, rate)
    return out.getvalue()


def error_of(response: object) -> dict[str, object]:
    body = json.loads(response.body)  # type: ignore[attr-defined]
    return body["error"]  # type: ignore[no-any-return]


def test_multipart_round_trip() -> None:
    content_type, body = http.multipart_form(
        {"model": "m", "prompt": 'say "hi"'}, [("file", "x.wav", "audio/wav", b"\r\n--data")], "B0"
    )
    parts = parse_multipart(content_type, body)
    assert parts["model"] == (None, b"m")
    assert parts["prompt"] == (None, b'say "hi"')
    assert parts["file"] == ("x.wav", b"\r\n--data")


def test_a_transcription_uses_the_mapping_then_a_placeholder() -> None:
    api = FakeAudioApi(transcripts={0: "first words"})
    speech = wav(synthesize_speech("hello there"), rate=16000)
    content_type, body = upload(speech, model="gpt-4o-transcribe")
    first = api.handle("POST", "/v1/audio/transcriptions", {"content-type": content_type}, body)
    assert first.status == 200 and json.loads(first.body)["text"] == "first words"
    content_type, body = upload(speech, model="whisper-1", response_format="text")
    second = api.handle("POST", "/v1/audio/transcriptions", {"content-type": content_type}, body)
    assert second.body.decode().startswith("(") and "s of speech)" in second.body.decode()


@pytest.mark.parametrize(
    ("fields", "filename", "param"),
    [
        ({}, "a.wav", "model"),
        ({"model": "gpt-4o-transcribe"}, "notes.txt", "file"),
        ({"model": "gpt-4o-transcribe", "response_format": "srt"}, "a.wav", "response_format"),
        ({"model": "gpt-4o-transcribe", "response_format": "xml"}, "a.wav", "response_format"),
    ],
)
def test_bad_transcription_requests_get_the_apis_errors(
    fields: dict[str, str], filename: str, param: str
) -> None:
    content_type, body = upload(wav(bytes(4800)), filename, **fields)
    response = FakeAudioApi().handle(
        "POST", "/v1/audio/transcriptions", {"content-type": content_type}, body
    )
    assert response.status == 400
    assert error_of(response)["param"] == param
    assert error_of(response)["type"] == "invalid_request_error"


def test_speech_is_streamed_in_chunks_and_bad_requests_are_refused() -> None:
    api = FakeAudioApi(chunk_ms=50)
    request = {"model": "gpt-4o-mini-tts", "input": "Hi there.", "voice": "nova"}
    response = api.handle(
        "POST", "/v1/audio/speech", {}, json.dumps({**request, "response_format": "pcm"}).encode()
    )
    assert response.streamed and len(response.chunks) > 1
    assert response.body == synthesize_speech("Hi there.")
    as_wav = api.handle(
        "POST", "/v1/audio/speech", {}, json.dumps({**request, "response_format": "wav"}).encode()
    )
    assert read_wav(io.BytesIO(as_wav.body))[0] == synthesize_speech("Hi there.")
    request["response_format"] = "pcm"
    for bad, param in [
        ({**request, "response_format": "mp3"}, "response_format"),
        ({**request, "speed": 9}, "speed"),
        ({**request, "voice": ""}, "voice"),
        ({**request, "input": "x" * 4097}, "input"),
        ({**request, "stream_format": "sse"}, "stream_format"),
    ]:
        refused = api.handle("POST", "/v1/audio/speech", {}, json.dumps(bad).encode())
        assert refused.status == 400 and error_of(refused)["param"] == param
    assert api.handle("POST", "/v1/audio/speech", {}, b"{not json").status == 400
    assert api.handle("GET", "/v1/audio/speech", {}, b"").status == 405
    assert api.handle("POST", "/v1/chat/completions", {}, b"{}").status == 404


@pytest.mark.anyio
async def test_keep_alive_and_a_bad_request_over_http() -> None:
    async with fake_server() as base:
        port = int(base.rsplit(":", 1)[1])
        with anyio.fail_after(10):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                request = b"POST /v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
                await stream.send(request + request)  # two requests on one connection
                answers = b""
                while answers.count(b"HTTP/1.1 404") < 2:
                    answers += await stream.receive()
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                await stream.send(
                    b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n"
                )
                answer = await stream.receive()
        assert answer.startswith(b"HTTP/1.1 400")


@pytest.mark.anyio
async def test_the_models_send_the_key_and_never_show_it() -> None:
    async with fake_server({0: "hello"}) as base:
        stt = OpenAISTTModel(base_url=base, api_key=KEY, environ=NO_ENV)
        assert KEY not in repr(stt)
        with anyio.fail_after(10):
            assert await stt.transcribe(synthesize_speech("hello"), STTSettings()) == "hello"
            tts = OpenAITTSModel(base_url=base + "/v1", api_key=KEY, environ=NO_ENV)
            audio = b"".join([c async for c in tts.synthesize("Hi.", TTSSettings())])
            assert audio == synthesize_speech("Hi.")
            bad = OpenAITTSModel(base_url=base, api_key=KEY, environ=NO_ENV)
            with pytest.raises(http.HttpError) as refused:
                async for _ in bad.synthesize("x" * 5000, TTSSettings()):
                    pass
    assert refused.value.status == 400 and "4096" in str(refused.value)
    assert KEY not in str(refused.value)


@pytest.mark.anyio
async def test_the_openai_host_needs_a_key() -> None:
    from realtime_sansio.transports.auth import ApiKeyError

    with pytest.raises(ApiKeyError):
        await OpenAISTTModel(environ=NO_ENV).transcribe(b"\x00\x00", STTSettings())
