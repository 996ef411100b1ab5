"""The fake's speech endpoints answer every malformed or unsupported request as the API does
(a status, a message, the parameter at fault), and give a transcription in each format the
API has: text, SRT and WebVTT cues, verbose JSON, whisper-1's duration usage."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from realtime_sansio.protocol.audio import write_wav
from realtime_sansio.protocol.errors import LocalProtocolError
from realtime_sansio.protocol.fake.audio_api import (
    MAX_UPLOAD_BYTES,
    FakeAudioApi,
    FakeHttpResponse,
    parse_multipart,
)
from realtime_sansio.transports import http

TRANSCRIBE = "/v1/audio/transcriptions"
SPEECH = "/v1/audio/speech"


def wav(seconds: float) -> bytes:
    out = io.BytesIO()
    write_wav(out, bytes(int(48_000 * seconds)), 24_000)
    return out.getvalue()


def transcribe(
    fields: dict[str, str], files: list[tuple[str, str, str, bytes]] | None = None
) -> FakeHttpResponse:
    if files is None:
        files = [("file", "speech.wav", "audio/wav", wav(1.5))]
    content_type, body = http.multipart_form(fields, files, "BOUNDARY42")
    return FakeAudioApi(transcripts={0: "hello there"}).handle(
        "POST", TRANSCRIBE, {"content-type": content_type}, body
    )


def error_of(response: FakeHttpResponse) -> tuple[int, str, Any]:
    error = json.loads(response.body)["error"]
    return response.status, error["message"], error["param"]


@pytest.mark.parametrize(
    ("content_type", "body", "says"),
    [
        ("application/json", b"{}", "not multipart/form-data with a boundary"),
        ("multipart/form-data; boundary=B", b"--B\r\nx", "has no closing boundary"),
        ("multipart/form-data; boundary=B", b"--B\r\nno header end--B--", "no header block"),
        (
            "multipart/form-data; boundary=B",
            b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--",
            "a multipart part has no name",
        ),
    ],
)
def test_malformed_multipart_bodies(content_type: str, body: bytes, says: str) -> None:
    with pytest.raises(LocalProtocolError, match=says):
        parse_multipart(content_type, body)
    response = FakeAudioApi().handle("POST", TRANSCRIBE, {"content-type": content_type}, body)
    status, message, _ = error_of(response)
    assert status == 400 and message.startswith("Could not parse multipart form: ")


def test_transcription_requests_the_fake_refuses() -> None:
    api = FakeAudioApi()
    too_big = api.handle("POST", TRANSCRIBE, {}, bytes(MAX_UPLOAD_BYTES + 1))
    assert too_big.status == 413
    assert error_of(transcribe({"model": "whisper-1"}, files=[]))[2] == "file"
    streaming = transcribe({"model": "gpt-4o-transcribe", "stream": "true"})
    assert error_of(streaming) == (400, "The fake server does not stream transcriptions.", "stream")
    broken = transcribe({"model": "whisper-1"}, [("file", "a.wav", "audio/wav", b"RIFFjunk")])
    assert error_of(broken) == (400, "Audio file might be corrupted or unsupported", "file")
    with pytest.raises(LocalProtocolError, match="chunk_ms must be > 0, got 0"):
        FakeAudioApi(chunk_ms=0)


def test_a_file_that_is_not_wav_is_heard_as_speech_of_unknown_length() -> None:
    upload = [("file", "speech.mp3", "audio/mpeg", b"ID3 not really mp3")]
    response = FakeAudioApi().handle(
        "POST",
        TRANSCRIBE,
        {"content-type": http.multipart_form({"model": "whisper-1"}, upload, "B")[0]},
        http.multipart_form({"model": "whisper-1"}, upload, "B")[1],
    )
    assert json.loads(response.body)["text"] == "(speech)"


def test_every_transcription_format() -> None:
    srt = transcribe({"model": "whisper-1", "response_format": "srt"}).body.decode()
    assert srt == "1\n00:00:00,000 --> 00:00:01,500\nhello there\n\n"
    vtt = transcribe({"model": "whisper-1", "response_format": "vtt"}).body.decode()
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nhello there\n\n"
    verbose = json.loads(transcribe({"model": "whisper-1", "response_format": "verbose_json"}).body)
    assert verbose["duration"] == 1.5 and verbose["segments"][0]["end"] == 1.5
    plain = json.loads(transcribe({"model": "whisper-1"}).body)
    assert plain == {"text": "hello there", "usage": {"type": "duration", "seconds": 2}}


@pytest.mark.parametrize(
    ("request_json", "status", "param"),
    [
        ([1, 2], 400, None),
        ({"input": "Hi.", "voice": "nova"}, 400, "model"),
        ({"model": "gpt-4o-mini-tts", "input": "  ", "voice": "nova"}, 400, "input"),
        (
            {"model": "gpt-4o-mini-tts", "input": "Hi.", "voice": "nova", "response_format": "ogg"},
            400,
            "response_format",
        ),
        (
            {
                "model": "gpt-4o-mini-tts",
                "input": "Hi.",
                "voice": "nova",
                "response_format": "pcm",
                "instructions": 5,
            },
            400,
            "instructions",
        ),
    ],
)
def test_speech_requests_the_api_refuses(request_json: Any, status: int, param: str | None) -> None:
    response = FakeAudioApi().handle("POST", SPEECH, {}, json.dumps(request_json).encode())
    assert response.status == status
    assert error_of(response)[2] == param
