"""Bookkeeping of the model's function calls: each gets exactly one output.

A call is seen at most once (the server announces it twice, in
``response.function_call_arguments.done`` and in the item's ``.done``; a duplicate ``call_id``
runs nothing twice). It then waits for approval, runs, or is answered at once with an
``Error: ...`` text. The follow-up ``response.create`` for a response's calls is wanted once,
when that response is done *and* every call it made has its output; a response the user
interrupted (cancelled) wants none, the user's next turn follows instead.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from typing import Any

import attrs

from .agent import Agent, FunctionTool, Handoff

__all__ = ["Call", "CallState", "ToolCalls"]

MAX_REMEMBERED_CALLS = 4096
"""Finished calls remembered so a repeated ``call_id`` is recognised; older ones are forgotten."""


class CallState(enum.Enum):
    AWAITING_APPROVAL = "awaiting_approval"
    RUNNING = "running"
    HANDOFF = "handoff"  # a handoff: its callback or the target's instructions are pending
    DONE = "done"


@attrs.define(kw_only=True, eq=False)
class Call:
    call_id: str
    name: str
    arguments: str
    response_id: str | None
    agent: Agent
    tool: FunctionTool | Handoff | None
    state: CallState
    parsed: dict[str, Any] = attrs.Factory(dict)
    deadline: float | None = None


class ToolCalls:
    """Calls by id, and which responses still wait for outputs."""

    __slots__ = ("_calls", "_finished", "_open", "_timed")

    def __init__(self) -> None:
        self._calls: OrderedDict[str, Call] = OrderedDict()
        self._open: dict[str, set[str]] = {}  # response id -> its calls without output
        self._finished: dict[str, bool] = {}  # response id -> done and not cancelled
        self._timed: dict[
            str, Call
        ] = {}  # running calls with a deadline: few, so get_timer is cheap

    def seen(self, call_id: str) -> bool:
        return call_id in self._calls

    def get(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    def add(self, call: Call) -> None:
        self._calls[call.call_id] = call
        self.timed(call)
        if call.response_id is not None:
            self._open.setdefault(call.response_id, set()).add(call.call_id)
        while len(self._calls) > MAX_REMEMBERED_CALLS:
            oldest = next(iter(self._calls.values()))
            if oldest.state is not CallState.DONE:
                break  # never forget a call that still owes an output
            self._calls.popitem(last=False)

    def finish(self, call: Call) -> str | None:
        """The call has its output: the response whose follow-up is now due, if any."""
        call.state = CallState.DONE
        call.deadline = None
        self._timed.pop(call.call_id, None)
        if call.response_id is None:
            return None
        pending = self._open.get(call.response_id)
        if pending is not None:
            pending.discard(call.call_id)
        return self._due(call.response_id)

    def response_done(self, response_id: str, *, cancelled: bool) -> str | None:
        """The response ended: its id if its follow-up is due now (all outputs already sent)."""
        if response_id not in self._open:
            return None
        self._finished[response_id] = not cancelled
        return self._due(response_id)

    def _due(self, response_id: str) -> str | None:
        if self._open.get(response_id) or response_id not in self._finished:
            return None
        wanted = self._finished.pop(response_id)
        del self._open[response_id]
        return response_id if wanted else None

    def timed(self, call: Call) -> None:
        """Watch the call's deadline (set it first)."""
        if call.deadline is not None:
            self._timed[call.call_id] = call

    def expired(self, now: float) -> list[Call]:
        return [c for c in self._timed.values() if c.deadline is not None and c.deadline <= now]

    def next_deadline(self) -> float | None:
        deadlines = [c.deadline for c in self._timed.values() if c.deadline is not None]
        return min(deadlines) if deadlines else None

    def unfinished(self) -> list[Call]:
        return [c for c in self._calls.values() if c.state is not CallState.DONE]
