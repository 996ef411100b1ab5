"""When output guardrails run, and which runs are still out.

Guardrails see an assistant item's accumulated transcript (or text) each time it has grown by
``debounce_text_length`` characters, and once more when the item is done, so a reply shorter
than the debounce length is checked too (the Agents SDK never checks those). Text is kept as a
list of deltas and joined only when a check is due: O(1) per delta.

Bounds: the text of the last ``MAX_TRACKED_RESPONSES`` items not yet done is kept (an item
forgotten past it is checked on what arrives afterwards, and whole when it is done, since the
``.done`` event carries the whole text); at most ``MAX_OUTSTANDING_RUNS`` checks await their
verdict, and a check due while that many are out is skipped (the next one, at the next
``debounce_text_length`` characters or at the item's end, covers its text). So every run that
went out can be answered, in any order.
"""

from __future__ import annotations

import attrs

from ._recent import MAX_TRACKED_RESPONSES, RecentMap

__all__ = ["GuardrailRun", "GuardrailText"]

MAX_OUTSTANDING_RUNS = 256
"""Guardrail runs awaiting their verdict at once; a check due beyond it is skipped."""


@attrs.define(kw_only=True, eq=False)
class _ItemText:
    response_id: str
    parts: list[str] = attrs.Factory(list)
    length: int = 0
    checked: int = -1  # the length at the last check; -1: never checked


@attrs.frozen(kw_only=True)
class GuardrailRun:
    response_id: str
    item_id: str
    text: str


class GuardrailText:
    """Per-item text and the checks that are due."""

    __slots__ = ("_items", "debounce", "runs")

    def __init__(self, debounce: int) -> None:
        self.debounce = debounce
        self._items: RecentMap[str, _ItemText] = RecentMap(MAX_TRACKED_RESPONSES)
        self.runs: dict[str, GuardrailRun] = {}

    def delta(self, response_id: str, item_id: str, delta: str) -> str | None:
        """Text grew: the whole text when a check is due, else None."""
        entry = self._items.get(item_id)
        if entry is None:
            entry = self._items[item_id] = _ItemText(response_id=response_id)
        entry.parts.append(delta)
        entry.length += len(delta)
        if entry.length - max(entry.checked, 0) < self.debounce:
            return None
        return self._check(entry)

    def done(self, response_id: str, item_id: str, text: str) -> str | None:
        """The item's text is final: the text to check, unless exactly this was checked."""
        entry = self._items.pop(item_id)
        if not text or (entry is not None and entry.checked == len(text)):
            return None
        return text

    def _check(self, entry: _ItemText) -> str:
        text = "".join(entry.parts)
        entry.parts = [text]  # later joins start from here
        entry.checked = entry.length
        return text

    @property
    def full(self) -> bool:
        """``MAX_OUTSTANDING_RUNS`` checks await their verdict: the next due one is skipped."""
        return len(self.runs) >= MAX_OUTSTANDING_RUNS

    def started(self, run_id: str, run: GuardrailRun) -> None:
        self.runs[run_id] = run

    def awaiting(self, response_id: str) -> bool:
        """A check of the response's text waits for its verdict (a scan of at most
        ``MAX_OUTSTANDING_RUNS``, done at a response's end and at each verdict)."""
        return any(run.response_id == response_id for run in self.runs.values())
