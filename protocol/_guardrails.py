"""When output guardrails run, and which runs are still out.

Guardrails see an assistant item's accumulated transcript (or text) each time it has grown by
``debounce_text_length`` characters, and once more when the item is done, so a reply shorter
than the debounce length is checked too (the Agents SDK never checks those). Text is kept as a
list of deltas and joined only when a check is due: O(1) per delta.
"""

from __future__ import annotations

from collections import OrderedDict

import attrs

__all__ = ["GuardrailRun", "GuardrailText"]

MAX_OUTSTANDING_RUNS = 256
"""Guardrail runs awaiting their result; beyond this the oldest verdicts are not awaited."""


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
        self._items: dict[str, _ItemText] = {}
        self.runs: OrderedDict[str, GuardrailRun] = OrderedDict()

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

    def done(self, response_id: str, item_id: str, text: str | None) -> str | None:
        """The item's text is final: the text to check, unless exactly this was checked."""
        entry = self._items.pop(item_id, None)
        if text is None:
            if entry is None:
                return None
            text = "".join(entry.parts)
        if not text or (entry is not None and entry.checked == len(text)):
            return None
        return text

    def forget(self, item_id: str) -> None:
        self._items.pop(item_id, None)

    def _check(self, entry: _ItemText) -> str:
        text = "".join(entry.parts)
        entry.parts = [text]  # later joins start from here
        entry.checked = entry.length
        return text

    def started(self, run_id: str, run: GuardrailRun) -> None:
        self.runs[run_id] = run
        while len(self.runs) > MAX_OUTSTANDING_RUNS:
            self.runs.popitem(last=False)
