"""Conversation items: typed mirrors of the GA ``realtime.item`` shapes.

Items are frozen values. ``item_from_wire`` parses what a server sends (raising
``RemoteProtocolError`` that names the item type and field on a malformed item) and
``item_to_wire`` gives the GA object for ``conversation.item.create``. Item types the library
does not model (MCP calls and approvals, future types), and messages with a content part or role
it does not know, become ``UnknownItem`` with the raw object, so nothing the server said is lost.

Audio is ``bytes`` here and base64 only on the wire. Where an item sits in the conversation is
not a field of the item: the ``History`` (history.py) alone knows the order.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, TypeAlias

import attrs

from ._repr import short_bytes_repr
from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "AssistantContent",
    "AssistantMessage",
    "ContentPart",
    "FunctionCall",
    "FunctionCallOutput",
    "ImageDetail",
    "InputAudio",
    "InputImage",
    "InputText",
    "Item",
    "ItemStatus",
    "OutputAudio",
    "OutputText",
    "SystemMessage",
    "UnknownItem",
    "UserContent",
    "UserMessage",
    "content_from_wire",
    "content_to_wire",
    "function_call_output",
    "item_from_wire",
    "item_to_wire",
    "system_text",
    "user_message",
    "user_text",
]

ItemStatus: TypeAlias = Literal["completed", "incomplete", "in_progress"]
ImageDetail: TypeAlias = Literal["auto", "low", "high"]
_STATUSES = ("completed", "incomplete", "in_progress")
_DETAILS = ("auto", "low", "high")


# -- content parts -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InputText:
    """Text the user (or a system message) gives the model."""

    type: ClassVar[Literal["input_text"]] = "input_text"
    text: str


@attrs.frozen(kw_only=True)
class InputAudio:
    """User audio; ``transcript`` is the input transcription when the session asks for one."""

    type: ClassVar[Literal["input_audio"]] = "input_audio"
    audio: bytes | None = attrs.field(default=None, repr=short_bytes_repr)
    transcript: str | None = None


@attrs.frozen(kw_only=True)
class InputImage:
    """An image, as a URL or a ``data:image/png;base64,...`` URI."""

    type: ClassVar[Literal["input_image"]] = "input_image"
    image_url: str
    detail: ImageDetail | None = None


@attrs.frozen(kw_only=True)
class OutputText:
    """Text the model produced (``output_text`` in GA)."""

    type: ClassVar[Literal["output_text"]] = "output_text"
    text: str


@attrs.frozen(kw_only=True)
class OutputAudio:
    """Audio the model produced, with its transcript.

    Servers do not echo the audio bytes in items (they arrive as deltas), so ``audio`` is
    usually None in the History; the transcript is what the History accumulates.
    """

    type: ClassVar[Literal["output_audio"]] = "output_audio"
    audio: bytes | None = attrs.field(default=None, repr=short_bytes_repr)
    transcript: str | None = None


UserContent: TypeAlias = InputText | InputAudio | InputImage
AssistantContent: TypeAlias = OutputText | OutputAudio
ContentPart: TypeAlias = InputText | InputAudio | InputImage | OutputText | OutputAudio


_ROLE_PARTS: dict[str, tuple[type, ...]] = {
    "user": (InputText, InputAudio, InputImage),
    "assistant": (OutputText, OutputAudio),
    "system": (InputText,),
}


def _checked(value: Iterable[Any], role: str) -> tuple[Any, ...]:
    parts, allowed = tuple(value), _ROLE_PARTS[role]
    for part in parts:
        if not isinstance(part, allowed):
            names = ", ".join(t.__name__ for t in allowed)
            raise LocalProtocolError(f"a {role} message holds {names} parts, not {part!r}")
    return parts


# Named converters (the attrs mypy plugin understands no other kind): lists become tuples,
# and a part the role cannot hold is refused at construction.
def _user_parts(value: Iterable[UserContent]) -> tuple[UserContent, ...]:
    return _checked(value, "user")


def _assistant_parts(value: Iterable[AssistantContent]) -> tuple[AssistantContent, ...]:
    return _checked(value, "assistant")


def _system_parts(value: Iterable[InputText]) -> tuple[InputText, ...]:
    return _checked(value, "system")


# -- items ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UserMessage:
    type: ClassVar[Literal["message"]] = "message"
    role: ClassVar[Literal["user"]] = "user"
    id: str | None = None
    content: tuple[UserContent, ...] = attrs.field(default=(), converter=_user_parts)
    status: ItemStatus | None = None


@attrs.frozen(kw_only=True)
class AssistantMessage:
    type: ClassVar[Literal["message"]] = "message"
    role: ClassVar[Literal["assistant"]] = "assistant"
    id: str | None = None
    content: tuple[AssistantContent, ...] = attrs.field(default=(), converter=_assistant_parts)
    status: ItemStatus | None = None


@attrs.frozen(kw_only=True)
class SystemMessage:
    type: ClassVar[Literal["message"]] = "message"
    role: ClassVar[Literal["system"]] = "system"
    id: str | None = None
    content: tuple[InputText, ...] = attrs.field(default=(), converter=_system_parts)
    status: ItemStatus | None = None


@attrs.frozen(kw_only=True)
class FunctionCall:
    """The model calling a tool; ``arguments`` is the JSON text the model wrote."""

    type: ClassVar[Literal["function_call"]] = "function_call"
    id: str | None = None
    call_id: str
    name: str
    arguments: str = ""
    status: ItemStatus | None = None


@attrs.frozen(kw_only=True)
class FunctionCallOutput:
    type: ClassVar[Literal["function_call_output"]] = "function_call_output"
    id: str | None = None
    call_id: str
    output: str
    status: ItemStatus | None = None


@attrs.frozen(kw_only=True)
class UnknownItem:
    """An item this library does not model (e.g. ``mcp_call``), kept whole in ``raw``."""

    id: str | None = None
    type: str
    raw: dict[str, Any]


Item: TypeAlias = (
    UserMessage | AssistantMessage | SystemMessage | FunctionCall | FunctionCallOutput | UnknownItem
)
_Message: TypeAlias = UserMessage | AssistantMessage | SystemMessage


# -- convenience constructors --------------------------------------------------------------


def user_text(text: str, *, id: str | None = None) -> UserMessage:
    return UserMessage(id=id, content=(InputText(text=text),))


def user_message(
    text: str, images: Iterable[str | InputImage] = (), *, id: str | None = None
) -> UserMessage:
    """A user message with text and images (URLs or ``data:`` URIs, or ``InputImage``)."""
    parts: list[UserContent] = [InputText(text=text)]
    parts.extend(i if isinstance(i, InputImage) else InputImage(image_url=i) for i in images)
    return UserMessage(id=id, content=parts)


def system_text(text: str, *, id: str | None = None) -> SystemMessage:
    return SystemMessage(id=id, content=(InputText(text=text),))


def function_call_output(call_id: str, output: str, *, id: str | None = None) -> FunctionCallOutput:
    return FunctionCallOutput(id=id, call_id=call_id, output=output)


# -- wire ----------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def content_to_wire(part: ContentPart) -> dict[str, Any]:
    """The GA JSON object of one content part; None fields are omitted."""
    out: dict[str, Any] = {"type": part.type}
    if isinstance(part, (InputText, OutputText)):
        out["text"] = part.text
    elif isinstance(part, (InputAudio, OutputAudio)):
        if part.audio is not None:
            out["audio"] = _b64(part.audio)
        if part.transcript is not None:
            out["transcript"] = part.transcript
    else:
        out["image_url"] = part.image_url
        if part.detail is not None:
            out["detail"] = part.detail
    return out


def item_to_wire(item: Item) -> dict[str, Any]:
    """The GA JSON object of an item, as ``conversation.item.create`` takes it."""
    if isinstance(item, UnknownItem):
        return dict(item.raw)
    out: dict[str, Any] = {}
    if item.id is not None:
        out["id"] = item.id
    out["type"] = item.type
    if isinstance(item, (UserMessage, AssistantMessage, SystemMessage)):
        out["role"] = item.role
        out["content"] = [content_to_wire(p) for p in item.content]
    elif isinstance(item, FunctionCall):
        out.update(call_id=item.call_id, name=item.name, arguments=item.arguments)
    else:
        out.update(call_id=item.call_id, output=item.output)
    if item.status is not None:
        out["status"] = item.status
    return out


class _Unmodelled(Exception):
    """A content part of a type this library does not know: the item becomes UnknownItem."""


def _fail(what: str, field: str, expected: str, value: Any) -> RemoteProtocolError:
    got = "missing" if value is _ABSENT else f"got {type(value).__name__}"
    return RemoteProtocolError(f"{what}: {field!r} must be {expected} ({got})", field=field)


_ABSENT: Any = object()


def _str(obj: Mapping[str, Any], key: str, what: str, prefix: str = "") -> str:
    value = obj.get(key, _ABSENT)
    if not isinstance(value, str):
        raise _fail(what, prefix + key, "a string", value)
    return value


def _opt_str(obj: Mapping[str, Any], key: str, what: str, prefix: str = "") -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(what, prefix + key, "a string or null", value)
    return value


def _opt_audio(obj: Mapping[str, Any], key: str, what: str, prefix: str) -> bytes | None:
    text = _opt_str(obj, key, what, prefix)
    if text is None:
        return None
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        raise RemoteProtocolError(
            f"{what}: {prefix + key!r} is not valid base64", field=prefix + key
        ) from None


def _choice(
    obj: Mapping[str, Any], key: str, choices: tuple[str, ...], what: str, prefix: str = ""
) -> Any:
    value = _opt_str(obj, key, what, prefix)
    if value is not None and value not in choices:
        raise RemoteProtocolError(
            f"{what}: {prefix + key!r} must be one of {', '.join(choices)}, not {value!r}",
            field=prefix + key,
        )
    return value


def _content(obj: Any, what: str, prefix: str) -> ContentPart:
    if not isinstance(obj, Mapping):
        raise _fail(what, prefix.rstrip("."), "an object", obj)
    kind = _str(obj, "type", what, prefix)
    if kind in ("input_text", "output_text"):
        text = _str(obj, "text", what, prefix)
        return InputText(text=text) if kind == "input_text" else OutputText(text=text)
    if kind in ("input_audio", "output_audio"):
        audio = _opt_audio(obj, "audio", what, prefix)
        transcript = _opt_str(obj, "transcript", what, prefix)
        cls = InputAudio if kind == "input_audio" else OutputAudio
        return cls(audio=audio, transcript=transcript)
    if kind == "input_image":
        return InputImage(
            image_url=_str(obj, "image_url", what, prefix),
            detail=_choice(obj, "detail", _DETAILS, what, prefix),
        )
    raise _Unmodelled(kind)


def content_from_wire(obj: Any) -> ContentPart:
    """Parse one GA content part (e.g. the ``part`` of ``response.content_part.added``)."""
    try:
        return _content(obj, "content part", "")
    except _Unmodelled as exc:
        raise RemoteProtocolError(f"unknown content part type {exc}", field="type") from None


_MESSAGE_CLASSES: dict[str, type[_Message]] = {
    "user": UserMessage,
    "assistant": AssistantMessage,
    "system": SystemMessage,
}


def item_from_wire(obj: Any) -> Item:
    """Parse a GA item object sent by a server (or, in the fake server, by a client)."""
    if not isinstance(obj, Mapping):
        raise RemoteProtocolError(
            f"an item must be a JSON object, not {type(obj).__name__}", field="item"
        )
    kind = _str(obj, "type", "item")
    what = f"{kind} item"
    item_id = _opt_str(obj, "id", what)
    if kind == "message":
        role = _str(obj, "role", what)
        cls = _MESSAGE_CLASSES.get(role)
        if cls is None:
            return UnknownItem(id=item_id, type=kind, raw=dict(obj))
        what = f"{role} message item"
        content = obj.get("content", _ABSENT)
        if not isinstance(content, list):
            raise _fail(what, "content", "a list", content)
        status = _choice(obj, "status", _STATUSES, what)
        try:
            parts = [_content(p, what, f"content[{i}].") for i, p in enumerate(content)]
            return cls(id=item_id, content=parts, status=status)  # type: ignore[arg-type]
        except _Unmodelled:
            return UnknownItem(id=item_id, type=kind, raw=dict(obj))
        except LocalProtocolError as exc:
            # A part allowed elsewhere but not for this role (e.g. output_text from the user).
            raise RemoteProtocolError(f"{what}: {exc}", field="content") from None
    if kind == "function_call":
        return FunctionCall(
            id=item_id,
            call_id=_str(obj, "call_id", what),
            name=_str(obj, "name", what),
            arguments=_opt_str(obj, "arguments", what) or "",
            status=_choice(obj, "status", _STATUSES, what),
        )
    if kind == "function_call_output":
        return FunctionCallOutput(
            id=item_id,
            call_id=_str(obj, "call_id", what),
            output=_str(obj, "output", what),
            status=_choice(obj, "status", _STATUSES, what),
        )
    return UnknownItem(id=item_id, type=kind, raw=dict(obj))
