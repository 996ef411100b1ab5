"""Bounded memory for what the server names: the last ``size`` ids (``Recent``) or the last
``size`` entries keyed by id (``RecentMap``), each with O(1) add, lookup and removal.

Whatever the session keeps per response, item or run id lives in one of these, so a server
that opens responses and never finishes them (or names ever new items) cannot grow the
session's memory: past the bound the oldest entry is forgotten. What forgetting means for a
late event of that entry is said where each one is used.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["MAX_TRACKED_RESPONSES", "Recent", "RecentMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_TRACKED_RESPONSES = 64
"""Responses whose bookkeeping the session keeps at once (their agent, start time, tool calls,
whether they were interrupted...). The default conversation has at most one active response
and out-of-band ones are few, so only a misbehaving server reaches it; then the oldest is
forgotten."""


class Recent:
    """A bounded set: remembers its last ``size`` members, with O(1) add and lookup.

    For ids the session must recognise for a while (interrupted responses...) but that would
    otherwise pile up over a long session."""

    __slots__ = ("_members", "size")

    def __init__(self, size: int = MAX_TRACKED_RESPONSES) -> None:
        self.size = size
        self._members: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, member: Hashable) -> None:
        self._members[member] = None
        if len(self._members) > self.size:
            self._members.popitem(last=False)

    def __contains__(self, member: object) -> bool:
        return member in self._members

    def __len__(self) -> int:
        return len(self._members)


class RecentMap(Generic[K, V]):
    """A bounded dict: keeps its last ``size`` entries (in insertion order; replacing a value
    keeps its place) and forgets the oldest one past the bound."""

    __slots__ = ("_entries", "size")

    def __init__(self, size: int = MAX_TRACKED_RESPONSES) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __setitem__(self, key: K, value: V) -> None:
        self._entries[key] = value
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __getitem__(self, key: K) -> V:
        return self._entries[key]

    def get(self, key: K) -> V | None:
        return self._entries.get(key)

    def pop(self, key: K) -> V | None:
        """Remove the entry; its value, or None when it is not (or no longer) here."""
        return self._entries.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[K]:
        return iter(self._entries)

    def values(self) -> Iterator[V]:
        return iter(self._entries.values())

    def items(self) -> Iterator[tuple[K, V]]:
        return iter(self._entries.items())
