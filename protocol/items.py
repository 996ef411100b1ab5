"""Conversation items: typed mirrors of the GA ``realtime.item`` shapes, and the History.

Items are frozen values. ``item_from_wire`` parses what a server sends (raising
``RemoteProtocolError`` that names the item type and field on a malformed item) and
``item_to_wire`` gives the GA object for ``conversation.item.create``. Item types the library
does not model (MCP calls and approvals, future types), and messages with a content part or role
it does not know, become ``UnknownItem`` with the raw object, so nothing the server said is lost.

Audio is ``bytes`` here and base64 only on the wire. Where an item sits in the conversation is
not a field of the item: the ``History`` alone knows the order (``History.previous_id``).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Literal, TypeAlias

import attrs

from .errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "DEFAULT_MAX_HISTORY_ITEMS",
    "AssistantContent",
    "AssistantMessage",
    "ContentPart",
    "FunctionCall",
    "FunctionCallOutput",
    "History",
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


def _bytes_repr(value: bytes | None) -> str:
    # Audio can be megabytes; a repr that prints it all is useless in a log.
    return "None" if value is None else f"<{len(value)} bytes>"


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
    audio: bytes | None = attrs.field(default=None, repr=_bytes_repr)
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
    audio: bytes | None = attrs.field(default=None, repr=_bytes_repr)
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


# -- history -------------------------------------------------------------------------------

DEFAULT_MAX_HISTORY_ITEMS = 10_000
"""Items a History keeps before it forgets the first ones (a 60-minute session rarely has
more than a few hundred)."""

_ARGUMENTS = -1  # pending-delta key of a function call's arguments (content indexes are >= 0)
_COMPACT_AT = 1024  # join pending deltas of one part after this many, to bound the list


@attrs.define(eq=False)
class _Node:
    item: Item
    prev: str | None = None
    next: str | None = None


def _positive(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or value < 1:
        raise LocalProtocolError(f"max_items must be a positive integer, not {value!r}")


def _extended(part: ContentPart, text: str) -> ContentPart:
    if isinstance(part, (InputText, OutputText)):
        return attrs.evolve(part, text=part.text + text)
    if isinstance(part, (InputAudio, OutputAudio)):
        return attrs.evolve(part, transcript=(part.transcript or "") + text)
    return part


def _with_part(item: _Message, index: int, part: ContentPart) -> _Message:
    content: list[ContentPart] = list(item.content)
    if index == len(content):
        content.append(part)
    else:
        content[index] = part
    # The role's converter re-checks the part kinds, which mypy cannot see through the union.
    return attrs.evolve(item, content=content)  # type: ignore[arg-type]


@attrs.define(kw_only=True, eq=False)
class History:
    """The conversation in order, keyed by item id, with O(1) work per server event.

    Order is a doubly linked list of ids, so inserting after a known ``previous_item_id`` is
    O(1). Text, transcript and argument deltas are buffered per item and joined when the item
    is read (``get``, iteration, ``items()``), so a long reply costs O(1) per delta, not a copy
    of its whole text. At most ``max_items`` items are kept: beyond it, the first item in
    conversation order is forgotten.

    Methods that apply a server event to an item (``append_transcript`` and the like) return
    False when the item or content part is unknown to the History: a delta for an item that was
    never announced is the server's business, not the caller's error.
    """

    max_items: int = attrs.field(default=DEFAULT_MAX_HISTORY_ITEMS, validator=_positive)
    _nodes: dict[str, _Node] = attrs.field(init=False, factory=dict, repr=False)
    _head: str | None = attrs.field(init=False, default=None, repr=False)
    _tail: str | None = attrs.field(init=False, default=None, repr=False)
    _pending: dict[str, dict[int, list[str]]] = attrs.field(init=False, factory=dict, repr=False)
    _truncated: dict[str, tuple[int, int]] = attrs.field(init=False, factory=dict, repr=False)

    # ---- structure

    def upsert(
        self, item: Item, previous_item_id: str | None = None, *, at_start: bool = False
    ) -> bool:
        """Add or replace an item; True when it was new.

        A known id is replaced in place (its position and any truncation record kept; buffered
        deltas dropped, since the new version is the server's whole item). A new item goes
        first when ``at_start``, right after ``previous_item_id`` when that id is known, and
        last otherwise (an unknown predecessor may have been forgotten, or never sent).
        """
        item_id = item.id
        if item_id is None:
            raise LocalProtocolError("the History keys items by id: give the item an id first")
        if at_start and previous_item_id is not None:
            raise LocalProtocolError("give previous_item_id or at_start=True, not both")
        node = self._nodes.get(item_id)
        if node is not None:
            node.item = item
            self._pending.pop(item_id, None)
            return False
        node = _Node(item)
        if at_start:
            self._link(item_id, node, None, self._head)
        elif previous_item_id is not None and previous_item_id in self._nodes:
            self._link(item_id, node, previous_item_id, self._nodes[previous_item_id].next)
        else:
            self._link(item_id, node, self._tail, None)
        if len(self._nodes) > self.max_items:
            assert self._head is not None
            self._unlink(self._head)
        return True

    def delete(self, item_id: str) -> Item | None:
        """Remove an item; returns it, or None when it was not there."""
        if item_id not in self._nodes:
            return None
        item = self._current(item_id)
        self._unlink(item_id)
        return item

    def clear(self) -> None:
        self._nodes.clear()
        self._pending.clear()
        self._truncated.clear()
        self._head = self._tail = None

    def get(self, item_id: str) -> Item | None:
        return self._current(item_id) if item_id in self._nodes else None

    def previous_id(self, item_id: str) -> str | None:
        """The id of the item before ``item_id`` (None for the first); KeyError if unknown."""
        return self._nodes[item_id].prev

    @property
    def last_id(self) -> str | None:
        return self._tail

    def items(self) -> list[Item]:
        """A snapshot of the items in conversation order."""
        out: list[Item] = []
        cursor = self._head
        while cursor is not None:
            out.append(self._current(cursor))
            cursor = self._nodes[cursor].next
        return out

    def __iter__(self) -> Iterator[Item]:
        # Iterate over a snapshot, so that changing the History while iterating is safe.
        return iter(self.items())

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._nodes

    # ---- server events applied to one item

    def append_transcript(self, item_id: str, content_index: int, delta: str) -> bool:
        """Append a text or transcript delta to a message's content part.

        Text parts grow their ``text``; audio parts their ``transcript``.
        """
        node = self._nodes.get(item_id)
        if node is None or not isinstance(
            node.item, (UserMessage, AssistantMessage, SystemMessage)
        ):
            return False
        part = (
            node.item.content[content_index]
            if 0 <= content_index < len(node.item.content)
            else None
        )
        if part is None or isinstance(part, InputImage):
            return False
        self._buffer(item_id, content_index, delta)
        return True

    def append_arguments(self, item_id: str, delta: str) -> bool:
        """Append a delta to a function call's JSON arguments."""
        node = self._nodes.get(item_id)
        if node is None or not isinstance(node.item, FunctionCall):
            return False
        self._buffer(item_id, _ARGUMENTS, delta)
        return True

    def set_transcript(self, item_id: str, content_index: int, transcript: str) -> bool:
        """Set an audio part's whole transcript (e.g. input transcription ``completed``)."""
        message = self._message(item_id)
        if message is None or not 0 <= content_index < len(message.content):
            return False
        part = message.content[content_index]
        if not isinstance(part, (InputAudio, OutputAudio)):
            return False
        self._nodes[item_id].item = _with_part(
            message, content_index, attrs.evolve(part, transcript=transcript)
        )
        return True

    def set_content_part(self, item_id: str, content_index: int, part: ContentPart) -> bool:
        """Replace a content part, or add it when ``content_index`` is one past the last.

        This is ``response.content_part.added``: the item is announced with no content and its
        parts follow. A part of a kind the message's role cannot hold is refused (False).
        """
        message = self._message(item_id)
        if message is None or not 0 <= content_index <= len(message.content):
            return False
        if not isinstance(part, _ROLE_PARTS[message.role]):
            return False
        self._nodes[item_id].item = _with_part(message, content_index, part)
        return True

    def truncate_audio(self, item_id: str, content_index: int, audio_end_ms: int) -> bool:
        """Record that an assistant audio part was cut at ``audio_end_ms``.

        As the server does, the transcript is dropped (set to ""), since its text may include
        words the user never heard. Audio bytes, which the History rarely has, are kept: the
        History does not know their format. ``truncation(item_id)`` gives the point back.
        """
        if audio_end_ms < 0:
            raise LocalProtocolError(f"audio_end_ms must be >= 0, not {audio_end_ms}")
        message = self._message(item_id)
        if message is None or not 0 <= content_index < len(message.content):
            return False
        part = message.content[content_index]
        if not isinstance(part, OutputAudio):
            return False
        self._nodes[item_id].item = _with_part(
            message, content_index, attrs.evolve(part, transcript="")
        )
        self._truncated[item_id] = (content_index, audio_end_ms)
        return True

    def truncation(self, item_id: str) -> tuple[int, int] | None:
        """``(content_index, audio_end_ms)`` of the item's truncation, or None."""
        return self._truncated.get(item_id)

    # ---- internals

    def _link(self, item_id: str, node: _Node, prev: str | None, nxt: str | None) -> None:
        node.prev, node.next = prev, nxt
        if prev is None:
            self._head = item_id
        else:
            self._nodes[prev].next = item_id
        if nxt is None:
            self._tail = item_id
        else:
            self._nodes[nxt].prev = item_id
        self._nodes[item_id] = node

    def _unlink(self, item_id: str) -> None:
        node = self._nodes.pop(item_id)
        if node.prev is None:
            self._head = node.next
        else:
            self._nodes[node.prev].next = node.next
        if node.next is None:
            self._tail = node.prev
        else:
            self._nodes[node.next].prev = node.prev
        self._pending.pop(item_id, None)
        self._truncated.pop(item_id, None)

    def _buffer(self, item_id: str, key: int, delta: str) -> None:
        chunks = self._pending.setdefault(item_id, {}).setdefault(key, [])
        chunks.append(delta)
        if len(chunks) >= _COMPACT_AT:
            chunks[:] = ["".join(chunks)]

    def _current(self, item_id: str) -> Item:
        """The item with its buffered deltas applied (and the buffer emptied)."""
        node = self._nodes[item_id]
        pending = self._pending.pop(item_id, None)
        if pending:
            item = node.item
            if isinstance(item, FunctionCall):
                item = attrs.evolve(item, arguments=item.arguments + "".join(pending[_ARGUMENTS]))
            elif isinstance(item, (UserMessage, AssistantMessage, SystemMessage)):
                for index, chunks in pending.items():
                    item = _with_part(item, index, _extended(item.content[index], "".join(chunks)))
            node.item = item
        return node.item

    def _message(self, item_id: str) -> _Message | None:
        if item_id not in self._nodes:
            return None
        item = self._current(item_id)
        return item if isinstance(item, (UserMessage, AssistantMessage, SystemMessage)) else None
