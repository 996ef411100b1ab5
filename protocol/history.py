"""The conversation history: items in order, keyed by id, with O(1) work per server event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs

from .errors import LocalProtocolError
from .items import (
    _ROLE_PARTS,
    AssistantMessage,
    ContentPart,
    FunctionCall,
    InputAudio,
    InputImage,
    InputText,
    Item,
    OutputAudio,
    OutputText,
    SystemMessage,
    UserMessage,
    _Message,
)

__all__ = ["DEFAULT_MAX_HISTORY_ITEMS", "History"]


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
    _heard: dict[str, str] = attrs.field(init=False, factory=dict, repr=False)

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
        self._heard.clear()
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

    def set_heard(self, item_id: str, text: str) -> bool:
        """Record what the listener heard of a cut assistant item (an estimate of its
        transcript up to the cut), which a replay sends instead of the whole reply."""
        if item_id not in self._nodes:
            return False
        self._heard[item_id] = text
        return True

    def heard(self, item_id: str) -> str | None:
        """What was heard of a cut item (``set_heard``), or None when it was not cut."""
        return self._heard.get(item_id)

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
        self._heard.pop(item_id, None)

    def _buffer(self, item_id: str, key: int, delta: str) -> None:
        # get before set: setdefault would build a dict and a list per delta only to drop them.
        pending = self._pending.get(item_id)
        if pending is None:
            pending = self._pending[item_id] = {}
        chunks = pending.get(key)
        if chunks is None:
            chunks = pending[key] = []
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
