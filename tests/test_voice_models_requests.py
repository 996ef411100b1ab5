"""What the OpenAI speech models send and how they read odd answers, against a loopback
server: the transcription's optional fields, an answer without text, the speech request's
optional fields, and an error body read only as far as its bound."""

from __future__ import annotations

import json
from typing import Any

import pytest
from http_helpers import against
from realtime_sansio.protocol.voice.config import STTSettings, TTSSettings
from realtime_sansio.transports.http import HttpError
from realtime_sansio.transports.voice.models import (
    MAX_ERROR_BODY_BYTES,
    OpenAISTTModel,
    OpenAITTSModel,
)

pytestmark = pytest.mark.anyio

NO_ENV: dict[str, str] = {"CODEX_HOME": "/nonexistent-codex-home"}


async def test_the_transcription_sends_its_optional_fields() -> None:
    seen: dict[str, Any] = {}

    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        seen.update(target=target, body=body)
        return 200, json.dumps({"text": "bonjour"}).encode()

    settings = STTSettings(language="fr", prompt="Names: Zoë.", temperature=0.2)

    async def transcribe(base: str) -> str:
        model = OpenAISTTModel(base_url=base + "/v1", environ=NO_ENV)
        return await model.transcribe(bytes(4800), settings)

    assert await against(reply, transcribe) == "bonjour"
    assert seen["target"] == "/v1/audio/transcriptions"
    for name, value in (("language", "fr"), ("prompt", "Names: Zoë."), ("temperature", "0.2")):
        assert f'name="{name}"\r\n\r\n{value}\r\n'.encode() in seen["body"]


async def test_a_transcription_answer_without_text_is_an_error() -> None:
    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return 200, json.dumps({"segments": []}).encode()

    async def transcribe(base: str) -> str:
        return await OpenAISTTModel(base_url=base, environ=NO_ENV).transcribe(b"", STTSettings())

    with pytest.raises(HttpError, match="HTTP 200: the transcription answer has no text"):
        await against(reply, transcribe)


async def test_the_speech_request_sends_its_optional_fields() -> None:
    seen: dict[str, Any] = {}

    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        seen.update(json.loads(body))
        return 200, bytes(480)

    settings = TTSSettings(instructions="Speak softly.", speed=1.25)

    async def speak(base: str) -> bytes:
        model = OpenAITTSModel(base_url=base, environ=NO_ENV)
        return b"".join([chunk async for chunk in model.synthesize("Hello.", settings)])

    assert await against(reply, speak) == bytes(480)
    assert seen["instructions"] == "Speak softly." and seen["speed"] == 1.25


async def test_a_long_error_body_is_read_only_to_its_bound() -> None:
    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        return 500, b"overloaded " * (MAX_ERROR_BODY_BYTES // 5)

    async def speak(base: str) -> None:
        model = OpenAITTSModel(base_url=base, environ=NO_ENV)
        async for _ in model.synthesize("Hello.", TTSSettings()):
            pass

    with pytest.raises(HttpError) as info:
        await against(reply, speak)
    assert info.value.status == 500
    assert info.value.message.startswith("overloaded overloaded")
    assert len(info.value.message) <= 300
