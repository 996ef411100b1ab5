"""Bookkeeping of the model's function calls: each gets exactly one output.

A call is seen at most once (the server announces it twice, in
``response.function_call_arguments.done`` and in the item's ``.done``; a duplicate ``call_id``
runs nothing twice). It then waits for approval, runs, or is answered at once with an
``Error: ...`` text. The follow-up ``response.create`` for a response's calls is wanted once
per batch: when that response is done *and* every call it made has its output. A call that
arrives after its response's ``response.done`` (a late call) starts a batch of its own, served
by one more follow-up once it (and any other late call of that response open with it) has its
output. A response the user interrupted (cancelled), or an out-of-band one, wants none: the
user's next turn follows instead.

Bounds (a misbehaving server names calls and responses without end):

- at most ``MAX_PENDING_CALLS`` calls wait for their output; the session answers one more at
  once with an ``Error: ...`` text instead of running it;
- the last ``MAX_REMEMBERED_CALLS`` finished calls are remembered, so a repeated ``call_id``
  runs nothing; an older one repeated would run again;
- the calls of the last ``MAX_TRACKED_RESPONSES`` responses are tracked for their follow-up;
  past it the oldest response is forgotten: its calls still get their outputs, but no
  follow-up is requested for them, and a call of it that arrives later waits for a
  ``response.done`` that already came.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from ._recent import MAX_TRACKED_RESPONSES, RecentMap
from .agent import Agent, FunctionTool, Handoff

__all__ = ["MAX_PENDING_CALLS", "MAX_REMEMBERED_CALLS", "Call", "CallState", "ToolCalls"]

MAX_REMEMBERED_CALLS = 4096
"""Finished calls remembered so a repeated ``call_id`` is recognised; older ones are forgotten."""

MAX_PENDING_CALLS = 256
"""Calls that may wait for their output at once (running, awaiting approval, handing off);
one more is answered at once with an error text, not run."""


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
    output: str | None = None  # once given: a replay sends it with the call


@attrs.define(kw_only=True, eq=False)
class _ResponseCalls:
    """One response's calls, as far as its follow-up is concerned."""

    unanswered: set[str] = attrs.Factory(set)  # its calls without output
    batch: bool = False  # calls came since the last follow-up was decided
    ended: bool = False  # its response.done came
    wants_follow_up: bool = False  # it ended neither cancelled nor out of band


class ToolCalls:
    """Calls by id, and which responses still wait for outputs."""

    __slots__ = ("_done", "_pending", "_responses", "_timed")

    def __init__(self) -> None:
        self._pending: dict[str, Call] = {}  # calls owing an output: at most MAX_PENDING_CALLS
        self._done: RecentMap[str, Call] = RecentMap(MAX_REMEMBERED_CALLS)
        self._responses: RecentMap[str, _ResponseCalls] = RecentMap(MAX_TRACKED_RESPONSES)
        self._timed: dict[str, Call] = {}  # running calls with a deadline: get_timer reads few

    def seen(self, call_id: str) -> bool:
        return call_id in self._pending or call_id in self._done

    def get(self, call_id: str) -> Call | None:
        return self._pending.get(call_id) or self._done.get(call_id)

    @property
    def full(self) -> bool:
        """``MAX_PENDING_CALLS`` calls wait for their output: the next is refused."""
        return len(self._pending) >= MAX_PENDING_CALLS

    @property
    def pending(self) -> bool:
        """Some call still owes its output."""
        return bool(self._pending)

    def add(self, call: Call) -> None:
        self._pending[call.call_id] = call
        self.timed(call)
        if call.response_id is not None:
            entry = self._response(call.response_id)
            entry.unanswered.add(call.call_id)
            entry.batch = True

    def finish(self, call: Call) -> str | None:
        """The call has its output: the response whose follow-up is now due, if any."""
        call.state = CallState.DONE
        call.deadline = None
        self._timed.pop(call.call_id, None)
        self._pending.pop(call.call_id, None)
        self._done[call.call_id] = call
        if call.response_id is None:
            return None
        entry = self._responses.get(call.response_id)
        if entry is None:
            return None  # forgotten past the bound: no follow-up (see the module doc)
        entry.unanswered.discard(call.call_id)
        return self._due(call.response_id, entry)

    def response_done(self, response_id: str, *, follow_up: bool) -> str | None:
        """The response ended: its id if its follow-up is due now (all outputs already sent).
        ``follow_up`` False (cancelled, out of band): its calls want none."""
        entry = self._response(response_id)
        entry.ended, entry.wants_follow_up = True, follow_up
        return self._due(response_id, entry)

    def made_calls(self, response_id: str) -> bool:
        """The response made calls whose follow-up is still to be decided."""
        entry = self._responses.get(response_id)
        return entry is not None and (entry.batch or bool(entry.unanswered))

    def outputs(self) -> dict[str, str]:
        """The outputs of the finished calls still remembered, by call id."""
        return {
            call_id: call.output for call_id, call in self._done.items() if call.output is not None
        }

    def pending_ids(self) -> list[str]:
        """The calls still owing their output."""
        return list(self._pending)

    def owe_unfollowed(self, response_id: str) -> bool:
        """The response has ended wanting no follow-up, and some of its calls still owe an
        output."""
        entry = self._responses.get(response_id)
        return (
            entry is not None
            and entry.ended
            and not entry.wants_follow_up
            and bool(entry.unanswered)
        )

    def _response(self, response_id: str) -> _ResponseCalls:
        entry = self._responses.get(response_id)
        if entry is None:
            entry = self._responses[response_id] = _ResponseCalls()
        return entry

    @staticmethod
    def _due(response_id: str, entry: _ResponseCalls) -> str | None:
        if not entry.ended or entry.unanswered or not entry.batch:
            return None
        entry.batch = False  # decided: a call that comes later starts the next batch
        return response_id if entry.wants_follow_up else None

    def timed(self, call: Call) -> None:
        """Watch the call's deadline (set it first)."""
        if call.deadline is not None:
            self._timed[call.call_id] = call

    def expired(self, now: float) -> list[Call]:
        return [c for c in self._timed.values() if c.deadline is not None and c.deadline <= now]

    def next_deadline(self) -> float | None:
        deadlines = [c.deadline for c in self._timed.values() if c.deadline is not None]
        return min(deadlines) if deadlines else None
