"""What the page sends the server: JSON text frames, parsed into typed commands.

Every frame is one JSON object with a ``type``; audio travels as base64 inside it, so the
bridge needs nothing but text frames (our ``WebSocketConnection``, an ASGI socket, any
``Transport``). ``parse_command`` turns a frame into one of the classes below, or raises
``CommandError`` with a message fit to send back to the page: a bad frame is refused and
the conversation goes on. The full protocol, both directions, is in docs/web.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from typing import Any

import attrs
from realtime_sansio.protocol._repr import json_kind, short_bytes_repr

__all__ = [
    "MAX_AUDIO_BYTES",
    "MAX_TEXT_CHARS",
    "ApproveTool",
    "AudioIn",
    "AudioPlayed",
    "Command",
    "CommandError",
    "Hello",
    "Interrupt",
    "PushToTalk",
    "RejectTool",
    "SendText",
    "parse_command",
]

MAX_AUDIO_BYTES = 48_000
"""The most PCM16 one ``audio`` frame may carry: one second at 24 kHz (the page sends 20 ms)."""

MAX_TEXT_CHARS = 4_000
"""The longest typed message accepted."""


class CommandError(ValueError):
    """A frame the bridge cannot use; the message says why, for the page's error line."""


@attrs.frozen(kw_only=True)
class Hello:
    """The page's first frame: a new conversation, or ``resume`` the one it had (its token)."""

    resume: str | None = None


@attrs.frozen(kw_only=True)
class AudioIn:
    """Microphone audio: PCM16, 24 kHz, mono, little-endian (the session's input format)."""

    pcm: bytes = attrs.field(repr=short_bytes_repr)


@attrs.frozen(kw_only=True)
class AudioPlayed:
    """The page has played ``ms`` of an assistant audio item (what the listener heard)."""

    item_id: str
    content_index: int
    ms: float


@attrs.frozen(kw_only=True)
class Interrupt:
    """The interrupt button: stop the assistant, truncating at what was played."""


@attrs.frozen(kw_only=True)
class PushToTalk:
    """The talk button went down (``pressed``) or up: turn detection off while held, the
    turn committed on release."""

    pressed: bool


@attrs.frozen(kw_only=True)
class ApproveTool:
    """Run the tool call that waits for approval (``approval`` message)."""

    call_id: str


@attrs.frozen(kw_only=True)
class RejectTool:
    """Refuse the tool call that waits for approval; the model is told so."""

    call_id: str


@attrs.frozen(kw_only=True)
class SendText:
    """A typed user message."""

    text: str


Command = (
    Hello | AudioIn | AudioPlayed | Interrupt | PushToTalk | SendText | ApproveTool | RejectTool
)


def _field(data: dict[str, Any], name: str, kinds: tuple[str, ...], what: str) -> Any:
    """``data[name]`` if its JSON kind is one of ``kinds`` (a boolean is never a number)."""
    value = data.get(name)
    if json_kind(value) not in kinds:
        raise CommandError(f"{data['type']!r} needs {name!r}: {what}, not {json_kind(value)}")
    return value


def _audio(data: dict[str, Any]) -> AudioIn:
    encoded = _field(data, "pcm", ("string",), "base64 PCM16")
    if len(encoded) > (MAX_AUDIO_BYTES + 2) // 3 * 4:
        raise CommandError(f"an 'audio' frame carries at most {MAX_AUDIO_BYTES} bytes of PCM16")
    try:
        pcm = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise CommandError("'audio' needs 'pcm': base64 PCM16") from None
    if len(pcm) % 2:
        raise CommandError("'audio' PCM16 has an odd number of bytes")
    return AudioIn(pcm=pcm)


def _audio_played(data: dict[str, Any]) -> AudioPlayed:
    item_id = _field(data, "item_id", ("string",), "the item's id")
    content_index = _field(data, "content_index", ("integer",), "an integer >= 0")
    ms = _field(data, "ms", ("integer", "number"), "milliseconds played")
    if content_index < 0 or not math.isfinite(ms) or ms < 0:
        raise CommandError("'audio_played' needs content_index >= 0 and ms >= 0")
    return AudioPlayed(item_id=item_id, content_index=content_index, ms=float(ms))


def _send_text(data: dict[str, Any]) -> SendText:
    text = _field(data, "text", ("string",), "the message").strip()
    if not text:
        raise CommandError("'text' needs a message that is not blank")
    if len(text) > MAX_TEXT_CHARS:
        raise CommandError(f"a typed message is at most {MAX_TEXT_CHARS} characters")
    return SendText(text=text)


def _hello(data: dict[str, Any]) -> Hello:
    resume = data.get("resume")
    if resume is not None and not isinstance(resume, str):
        raise CommandError("'hello' takes 'resume': the token of the conversation, or null")
    return Hello(resume=resume or None)


def _call_id(data: dict[str, Any]) -> str:
    call_id: str = _field(data, "call_id", ("string",), "the id of the tool call")
    return call_id


_PARSERS: dict[str, Callable[[dict[str, Any]], Command]] = {
    "hello": _hello,
    "approve_tool": lambda data: ApproveTool(call_id=_call_id(data)),
    "reject_tool": lambda data: RejectTool(call_id=_call_id(data)),
    "audio": _audio,
    "audio_played": _audio_played,
    "interrupt": lambda data: Interrupt(),
    "push_to_talk": lambda data: PushToTalk(
        pressed=_field(data, "pressed", ("boolean",), "true or false")
    ),
    "text": _send_text,
}


def parse_command(frame: str) -> Command:
    """The command in one text frame from the page; ``CommandError`` if there is none."""
    try:
        data = json.loads(frame)
    except ValueError:
        raise CommandError("a frame from the page is one JSON object") from None
    if not isinstance(data, dict):
        raise CommandError("a frame from the page is one JSON object")
    kind = data.get("type")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise CommandError(f"unknown command type {kind!r}; known: {', '.join(sorted(_PARSERS))}")
    return parser(data)
