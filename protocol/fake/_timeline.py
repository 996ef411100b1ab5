"""The fake server's deadlines, side by side: each response's next step, each transcription's
next delta, a script's ``Delay``, the idle timeout, expiry. ``next_due`` gives the earliest;
at the same instant they fire in the order of their kind, then in the order they were set
(so of two responses due together, the older streams first)."""

from __future__ import annotations

import itertools

__all__ = ["EXPIRE", "IDLE", "RESPONSE", "SCRIPT", "TRANSCRIPTION", "Timeline"]

# Deadline kinds, in the order they fire when they fall at the same instant.
RESPONSE, TRANSCRIPTION, SCRIPT, IDLE, EXPIRE = range(5)


class Timeline:
    """Deadlines by (kind, key): a response's or an item's id, or ``""`` for the others."""

    def __init__(self) -> None:
        self._at: dict[tuple[int, str], tuple[float, int]] = {}
        self._order = itertools.count()

    def set(self, kind: int, at: float, key: str = "") -> None:
        """Set (or move) a deadline; a moved one keeps its place among equals."""
        old = self._at.get((kind, key))
        self._at[(kind, key)] = (at, old[1] if old is not None else next(self._order))

    def pop(self, kind: int, key: str = "") -> None:
        self._at.pop((kind, key), None)

    def has(self, kind: int, key: str = "") -> bool:
        return (kind, key) in self._at

    def clear(self) -> None:
        self._at.clear()

    def earliest(self) -> float | None:
        return min((at for at, _ in self._at.values()), default=None)

    def next_due(self, now: float) -> tuple[float, int, str] | None:
        """The earliest deadline at or before ``now``: (when, kind, key); None if none is."""
        if not self._at:
            return None
        (kind, key), (at, _) = min(
            self._at.items(), key=lambda entry: (entry[1][0], entry[0][0], entry[1][1])
        )
        return (at, kind, key) if at <= now else None
