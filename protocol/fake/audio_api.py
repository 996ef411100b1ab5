"""The fake server's speech endpoints, pure: ``/v1/audio/transcriptions`` and ``/v1/audio/speech``.

``FakeAudioApi.handle(method, path, headers, body)`` answers one HTTP request with a
``FakeHttpResponse`` (status, headers, body chunks); ``transports.fake_http`` serves it on the
same port as the fake Realtime server. The shapes are the real API's:

- **Transcriptions**: a ``multipart/form-data`` upload with ``file`` and ``model`` (and
  optionally ``language``, ``prompt``, ``temperature``, ``response_format``). The answer is
  ``{"text": ..., "usage": ...}`` for ``json`` (usage in tokens for the gpt-4o models, in
  seconds for whisper-1), the bare text for ``text``, ``verbose_json``, ``srt`` and ``vtt``.
  The fake cannot recognise speech: the text is taken from ``transcripts`` (the n-th request's,
  0 first: a mapping, or a function of (n, the audio)), else a placeholder that says how long
  the audio was, ``(1.2 s of speech)`` (WAV uploads; other formats are accepted unheard).
- **Speech**: a JSON body with ``model``, ``input`` (at most 4096 characters) and ``voice``.
  The audio is the fake's speech-like synthesiser (``voice.py``), 24 kHz mono PCM16 for
  ``response_format="pcm"`` or a WAV file for ``wav``, streamed in ``chunk_ms`` chunks
  (chunked transfer encoding). Other formats (mp3, opus, aac, flac) and ``stream_format="sse"``
  are refused with a 400 that says so: the fake has no encoder for them. ``speed`` and
  ``instructions`` are checked and otherwise ignored.

Errors have the API's shape: ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

from ..audio.formats import PCM16
from ..audio.pcm import to_mono
from ..audio.resampling import MAX_RATIO, resample
from ..audio.wav import read_wav, write_wav
from ..errors import LocalProtocolError
from ._media import Transcripts, placeholder_transcript, transcript_for
from .voice import synthesize_speech

__all__ = [
    "MAX_INPUT_CHARS",
    "MAX_UPLOAD_BYTES",
    "TRANSCRIPTION_FORMATS",
    "FakeAudioApi",
    "FakeHttpResponse",
    "parse_multipart",
]

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
"""The API's limit on an uploaded audio file; a larger request is refused (413)."""
MAX_INPUT_CHARS = 4096
"""The API's limit on the text of one speech request."""
TRANSCRIPTION_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
_AUDIO_EXTENSIONS = ("flac", "m4a", "mp3", "mp4", "mpeg", "mpga", "oga", "ogg", "wav", "webm")
_SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")


@attrs.frozen(kw_only=True)
class FakeHttpResponse:
    """An answer: ``chunks`` are sent in order (chunked transfer when ``streamed``)."""

    status: int
    content_type: str
    chunks: tuple[bytes, ...] = attrs.field(repr=lambda c: f"<{sum(map(len, c))} bytes>")
    streamed: bool = False

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def _json(status: int, data: Any) -> FakeHttpResponse:
    return FakeHttpResponse(
        status=status, content_type="application/json", chunks=(json.dumps(data).encode(),)
    )


def _error(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> FakeHttpResponse:
    error = {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    return _json(status, {"error": error})


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body: name -> (file name or None, content).
    Raises ``LocalProtocolError`` for a body that is not one."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or match is None:
        raise LocalProtocolError("the request is not multipart/form-data with a boundary")
    delimiter = b"--" + match.group(1).encode("latin-1")
    parts: dict[str, tuple[str | None, bytes]] = {}
    sections = body.split(delimiter)
    if len(sections) < 3 or not sections[-1].startswith(b"--"):
        raise LocalProtocolError("the multipart body has no closing boundary")
    for section in sections[1:-1]:
        head, separator, content = section.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise LocalProtocolError("a multipart part has no header block")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        if name is None:
            raise LocalProtocolError("a multipart part has no name")
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        parts[name.group(1)] = (
            filename.group(1) if filename else None,
            content.removesuffix(b"\r\n"),
        )
    return parts


class FakeAudioApi:
    """The speech endpoints (see the module docstring). Requests are numbered from 0 per
    instance, in the order they are handled."""

    def __init__(self, *, transcripts: Transcripts | None = None, chunk_ms: int = 100) -> None:
        if chunk_ms <= 0:
            raise LocalProtocolError(f"chunk_ms must be > 0, got {chunk_ms!r}")
        self.transcripts = transcripts
        self.chunk_ms = chunk_ms
        self.transcriptions = 0
        """Transcription requests answered so far."""
        self.speech_requests: list[dict[str, Any]] = []
        """The JSON of each speech request answered (bounded: the last 100)."""

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> FakeHttpResponse:
        """One request (``headers`` with lower-case names)."""
        route = path.split("?", 1)[0].rstrip("/")
        if route in ("/v1/audio/transcriptions", "/v1/audio/speech") and method != "POST":
            return _error(405, f"Method {method} not allowed for {route}; use POST")
        if route == "/v1/audio/transcriptions":
            return self._transcribe(headers.get("content-type", ""), body)
        if route == "/v1/audio/speech":
            return self._speech(body)
        return _error(404, f"Invalid URL ({method} {route})")

    # -- speech-to-text -------------------------------------------------------------------

    def _transcribe(self, content_type: str, body: bytes) -> FakeHttpResponse:
        if len(body) > MAX_UPLOAD_BYTES:
            return _error(413, f"Maximum content size limit ({MAX_UPLOAD_BYTES}) exceeded")
        try:
            parts = parse_multipart(content_type, body)
        except LocalProtocolError as exc:
            return _error(400, f"Could not parse multipart form: {exc}")
        fields = {
            name: data.decode("utf-8", "replace")
            for name, (filename, data) in parts.items()
            if filename is None
        }
        if "file" not in parts or parts["file"][0] is None:
            return _error(400, "You must provide a file to transcribe.", param="file")
        model = fields.get("model", "")
        if not model:
            return _error(400, "you must provide a model parameter", param="model")
        response_format = fields.get("response_format", "json")
        if response_format not in TRANSCRIPTION_FORMATS:
            expected = ", ".join(TRANSCRIPTION_FORMATS)
            return _error(
                400,
                f"Invalid value for response_format: {response_format!r}; expected {expected}",
                param="response_format",
            )
        if response_format not in ("json", "text") and model != "whisper-1":
            return _error(
                400,
                f"response_format '{response_format}' is not compatible with model '{model}'."
                " Use 'json' or 'text' instead.",
                param="response_format",
                code="unsupported_value",
            )
        if fields.get("stream") == "true":
            return _error(400, "The fake server does not stream transcriptions.", param="stream")
        filename, audio = parts["file"]
        extension = (filename or "").rsplit(".", 1)[-1].lower()
        if extension not in _AUDIO_EXTENSIONS:
            supported = ", ".join(repr(e) for e in _AUDIO_EXTENSIONS)
            return _error(
                400,
                f"Invalid file format. Supported formats: [{supported}]",
                param="file",
                code="invalid_value",
            )
        pcm, seconds = _decode(audio) if extension == "wav" else (b"", None)
        if extension == "wav" and seconds is None:
            return _error(400, "Audio file might be corrupted or unsupported", param="file")
        index = self.transcriptions
        self.transcriptions += 1
        text = transcript_for(self.transcripts, index, pcm, (seconds or 0.0) * 1000)
        if seconds is None and text == placeholder_transcript(0.0):
            text = "(speech)"  # not a WAV: its length is unknown to the fake
        return _transcription(text, response_format, model, seconds or 0.0)

    # -- text-to-speech -------------------------------------------------------------------

    def _speech(self, body: bytes) -> FakeHttpResponse:
        try:
            request = json.loads(body)
        except ValueError:
            return _error(400, "We could not parse the JSON body of your request.")
        if not isinstance(request, dict):
            return _error(400, "The request body must be a JSON object.")
        problem = _speech_problem(request)
        if problem is not None:
            return problem
        self.speech_requests = [*self.speech_requests[-99:], request]
        pcm = synthesize_speech(request["input"])
        if request.get("response_format", "mp3") == "wav":
            file = io.BytesIO()
            write_wav(file, pcm, PCM16.rate)
            data, content_type = file.getvalue(), "audio/wav"
        else:
            data, content_type = pcm, "audio/pcm"
        size = PCM16.bytes_per_second * self.chunk_ms // 1000
        chunks = tuple(data[i : i + size] for i in range(0, len(data), size)) or (b"",)
        return FakeHttpResponse(status=200, content_type=content_type, chunks=chunks, streamed=True)


def _decode(wav: bytes) -> tuple[bytes, float | None]:
    """24 kHz mono PCM16 of a WAV upload, and its duration; (b"", None) if it is no WAV."""
    try:
        pcm, rate, channels = read_wav(io.BytesIO(wav))
    except LocalProtocolError:
        return b"", None
    seconds = len(pcm) / (2 * channels * rate) if rate > 0 else None
    mono = to_mono(pcm, channels)
    if max(rate, PCM16.rate) <= MAX_RATIO * min(rate, PCM16.rate):  # else heard as it is
        mono = resample(mono, rate, PCM16.rate)
    return mono, seconds


def _speech_problem(request: Mapping[str, Any]) -> FakeHttpResponse | None:
    if not isinstance(request.get("model"), str) or not request["model"]:
        return _error(400, "you must provide a model parameter", param="model")
    text = request.get("input")
    if not isinstance(text, str) or not text.strip():
        return _error(400, "you must provide a non-empty input", param="input")
    if len(text) > MAX_INPUT_CHARS:
        return _error(
            400,
            f"'{text[:20]}...' is too long - 'input' must be at most {MAX_INPUT_CHARS} characters",
            param="input",
            code="string_above_max_length",
        )
    voice = request.get("voice")
    if not (isinstance(voice, str) and voice) and not (
        isinstance(voice, dict) and isinstance(voice.get("id"), str)
    ):
        return _error(400, "you must provide a voice parameter", param="voice")
    response_format = request.get("response_format", "mp3")
    if response_format not in _SPEECH_FORMATS:
        return _error(
            400,
            f"Invalid value: '{response_format}'. Supported values are: {list(_SPEECH_FORMATS)}",
            param="response_format",
            code="invalid_value",
        )
    if response_format not in ("pcm", "wav"):
        return _error(
            400,
            f"The fake server synthesises 'pcm' and 'wav' only, not '{response_format}'.",
            param="response_format",
            code="unsupported_value",
        )
    speed = request.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        return _error(
            400,
            f"Invalid value for speed: {speed!r}; expected a number from 0.25 to 4.0",
            param="speed",
        )
    if request.get("stream_format", "audio") != "audio":
        return _error(
            400,
            "The fake server streams raw audio only (stream_format 'audio').",
            param="stream_format",
        )
    instructions = request.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        return _error(400, "instructions must be a string", param="instructions")
    return None


def _transcription(text: str, response_format: str, model: str, seconds: float) -> FakeHttpResponse:
    if response_format == "text":
        return FakeHttpResponse(
            status=200, content_type="text/plain; charset=utf-8", chunks=(f"{text}\n".encode(),)
        )
    if response_format in ("srt", "vtt"):
        end = _timestamp(seconds, "," if response_format == "srt" else ".")
        start = _timestamp(0.0, "," if response_format == "srt" else ".")
        cue = f"{start} --> {end}\n{text}\n"
        document = f"1\n{cue}\n" if response_format == "srt" else f"WEBVTT\n\n{cue}\n"
        return FakeHttpResponse(
            status=200, content_type="text/plain; charset=utf-8", chunks=(document.encode(),)
        )
    if response_format == "verbose_json":
        segment = {
            "id": 0,
            "seek": 0,
            "start": 0.0,
            "end": seconds,
            "text": text,
            "tokens": [],
            "temperature": 0.0,
            "avg_logprob": 0.0,
            "compression_ratio": 1.0,
            "no_speech_prob": 0.0,
        }
        usage = {"type": "duration", "seconds": round(seconds)}
        data = {
            "task": "transcribe",
            "language": "english",
            "duration": seconds,
            "text": text,
            "segments": [segment],
            "usage": usage,
        }
        return _json(200, data)
    if model == "whisper-1":
        return _json(200, {"text": text, "usage": {"type": "duration", "seconds": round(seconds)}})
    audio_tokens = max(1, round(seconds * 10))  # about 10 audio tokens a second
    text_tokens = max(1, len(text) // 4)
    usage = {
        "type": "tokens",
        "input_tokens": audio_tokens,
        "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
        "output_tokens": text_tokens,
        "total_tokens": audio_tokens + text_tokens,
    }
    return _json(200, {"text": text, "usage": usage})


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
