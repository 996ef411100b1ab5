"""Speech-to-text and text-to-speech: the ``STTModel`` / ``TTSModel`` protocols, and OpenAI's.

Any provider plugs into the pipeline through two small protocols, on the pipeline's audio
format (24 kHz mono PCM16):

- ``STTModel.transcribe(pcm, settings) -> str``: one user turn;
- ``TTSModel.synthesize(text, settings) -> AsyncIterator[bytes]``: one piece of a reply, as
  it is produced (so the first audio plays before the whole piece is synthesised).

``OpenAISTTModel`` posts the turn as a WAV file to ``POST /v1/audio/transcriptions``
(``multipart/form-data``); ``OpenAITTSModel`` posts to ``POST /v1/audio/speech`` with
``response_format="pcm"`` and reads the body as it streams. Both go through the library's
h11 client (``transports.http``): the key from ``auth.resolve_api_key`` (argument,
``CODEX_API_KEY``, ``auth.json``, ``OPENAI_API_KEY``), trust roots from
``CODEX_CA_CERTIFICATE`` then ``SSL_CERT_FILE``, ``https_proxy``, and the key redacted from
every error. ``base_url`` may point at the fake server (``http://127.0.0.1:8765``), which
needs no key.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from realtime_sansio.protocol.audio import PCM16, write_wav
from realtime_sansio.protocol.voice import STTSettings, TTSSettings

from .. import http
from ..auth import key_for, redact

__all__ = ["OpenAISTTModel", "OpenAITTSModel", "STTModel", "TTSModel"]

MAX_ERROR_BODY_BYTES = 64 * 1024
"""An error answer is read up to this size (enough for any JSON error)."""


@runtime_checkable
class STTModel(Protocol):
    """Speech-to-text for one turn of 24 kHz mono PCM16."""

    async def transcribe(self, pcm: bytes, settings: STTSettings) -> str: ...


@runtime_checkable
class TTSModel(Protocol):
    """Text-to-speech of one piece of text, 24 kHz mono PCM16 as it is produced."""

    def synthesize(self, text: str, settings: TTSSettings) -> AsyncIterator[bytes]: ...


class _OpenAIEndpoint:
    """What both models share: where to send, with which key, and a redacting error."""

    path: ClassVar[str]
    """The endpoint, under the API's base URL."""

    def __init__(
        self,
        *,
        api_key: str | Callable[[], str] | None = None,
        base_url: str = http.DEFAULT_API_BASE,
        timeout_s: float = 60.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        path = self.path
        self.url = base + (path.removeprefix("/v1") if base.endswith("/v1") else path)
        self._api_key = api_key
        self.timeout_s = timeout_s
        self.environ = environ

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"  # never the key

    def headers(self, content_type: str) -> tuple[dict[str, str], str | None]:
        key = key_for(self.url, self._api_key, environ=self.environ)
        headers = {"Content-Type": content_type}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers, key

    @staticmethod
    def error(status: int, body: bytes, key: str | None) -> http.HttpError:
        return http.HttpError(status, redact(http.error_message(body, status), key))


class OpenAISTTModel(_OpenAIEndpoint):
    """``POST /v1/audio/transcriptions``: the turn uploaded as a 24 kHz mono WAV file."""

    path = "/v1/audio/transcriptions"

    async def transcribe(self, pcm: bytes, settings: STTSettings) -> str:
        wav = io.BytesIO()
        write_wav(wav, pcm, PCM16.rate)
        audio = wav.getvalue()
        fields = {"model": settings.model, "response_format": "json"}
        if settings.language is not None:
            fields["language"] = settings.language
        if settings.prompt is not None:
            fields["prompt"] = settings.prompt
        if settings.temperature is not None:
            fields["temperature"] = repr(float(settings.temperature))
        boundary = _boundary(audio)
        content_type, body = http.multipart_form(
            fields, [("file", "speech.wav", "audio/wav", audio)], boundary
        )
        headers, key = self.headers(content_type)
        response = await http.request(
            "POST",
            self.url,
            headers=headers,
            body=body,
            timeout_s=self.timeout_s,
            environ=self.environ,
        )
        if response.status != 200:
            raise self.error(response.status, response.body, key)
        data: Any = response.json()
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            raise http.HttpError(response.status, "the transcription answer has no text")
        return text


def _boundary(data: bytes) -> str:
    while True:  # a boundary must not occur in the data; 96 random bits practically never do
        boundary = "realtime-sansio-" + secrets.token_hex(12)
        if boundary.encode() not in data:
            return boundary


class OpenAITTSModel(_OpenAIEndpoint):
    """``POST /v1/audio/speech`` with ``response_format="pcm"``, the body read as it streams."""

    path = "/v1/audio/speech"

    async def synthesize(self, text: str, settings: TTSSettings) -> AsyncIterator[bytes]:
        payload: dict[str, Any] = {
            "model": settings.model,
            "input": text,
            "voice": settings.voice,
            "response_format": "pcm",
        }
        if settings.instructions is not None:
            payload["instructions"] = settings.instructions
        if settings.speed is not None:
            payload["speed"] = settings.speed
        headers, key = self.headers("application/json")
        async with http.stream(
            "POST",
            self.url,
            headers=headers,
            body=json.dumps(payload).encode(),
            timeout_s=self.timeout_s,
            environ=self.environ,
        ) as response:
            if response.status != 200:
                body = bytearray()
                async for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= MAX_ERROR_BODY_BYTES:
                        break
                raise self.error(response.status, bytes(body), key)
            async for chunk in response.iter_bytes():
                yield chunk
