"""A bounded set: remembers its last ``size`` members, with O(1) add and lookup."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["Recent"]


class Recent:
    """For ids the session must recognise for a while (interrupted responses...) but that
    would otherwise pile up over a long session."""

    __slots__ = ("_members", "size")

    def __init__(self, size: int = 64) -> None:
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
