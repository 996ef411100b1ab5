"""The one-active-response rule, with deferred ``response.create``.

The server runs at most one response on the default conversation. A ``response.create`` sent
while one is active is refused (``conversation_already_has_active_response``) and, in the
official SDKs, was for years simply lost. Here every request goes through ``request``:

- nothing active and nothing in flight: send it now, and remember it is in flight;
- otherwise: defer it. Deferred requests coalesce (one flag, the latest parameters win);
- ``response.done`` of the active response sends exactly one deferred request, if any;
- a refusal of ours re-defers it, so it is served after the response the server knows of.

"In flight" covers the gap between our ``response.create`` and the server's answer: a second
request there would be refused too. A ``response.created`` that arrives meanwhile may be ours
or the server's own (VAD made one just before ours arrived): the request stays in flight until
that is settled. A refusal settles it (not ours: deferred again); so does that response's
``response.done`` with no refusal before it (most likely ours: the server answers events in
order). If a refusal still comes later (two server responses ran before ours arrived), the
request is brought back and deferred: late, but never lost. Any other error naming our
request ends it too, and the next deferred request goes out. Out-of-band responses
(``conversation: "none"``) never count and never wait.

While the session has no connection (``hold``) nothing is active any more and every request
is deferred; ``resume`` sends the deferred one on the new connection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._recent import Recent
from .wire import ResponseCreate

__all__ = ["ResponseGate", "is_out_of_band"]


def is_out_of_band(params: Any) -> bool:
    """Whether ``response.create`` parameters ask for an out-of-band response."""
    return isinstance(params, dict) and params.get("conversation") == "none"


class ResponseGate:
    """Decides when a ``response.create`` may go out; holds no I/O, reads no clock."""

    __slots__ = (
        "_ids",
        "active_id",
        "deferred",
        "deferred_params",
        "held",
        "in_flight",
        "in_flight_params",
        "last_sent",
        "maybe_ours",
        "presumed_served",
    )

    def __init__(self, ids: Callable[[], str]) -> None:
        self._ids = ids
        self.active_id: str | None = None
        """The default-conversation response the server has created and not yet finished."""
        self.in_flight: str | None = None
        """The ``event_id`` of our ``response.create`` that the server has not answered."""
        self.in_flight_params: dict[str, Any] | None = None
        self.maybe_ours: str | None = None
        """A response created while ours was in flight: ours, unless a refusal follows."""
        self.presumed_served: Recent = Recent(16)
        """Our requests taken as served by a response that ended without a refusal; a late
        refusal of one of them (two server responses came first) brings it back."""
        self.deferred = False
        self.deferred_params: dict[str, Any] | None = None
        self.last_sent: str | None = None  # the event id of our latest response.create
        self.held = False  # no connection: requests wait for ``resume``

    @property
    def busy(self) -> bool:
        return self.active_id is not None or self.in_flight is not None

    def request(self, params: dict[str, Any] | None = None) -> ResponseCreate | None:
        """A response is wanted: the event to send now, or None when it was deferred."""
        if self.busy or self.held:
            self.deferred = True
            if params is not None:
                self.deferred_params = params
            return None
        return self._create(params)

    def _create(self, params: dict[str, Any] | None) -> ResponseCreate:
        event_id = self._ids()
        self.in_flight, self.in_flight_params = event_id, params
        self.last_sent = event_id
        return ResponseCreate(event_id=event_id, response=params)

    def created(self, response_id: str) -> None:
        """``response.created`` for the default conversation (ours, or the server's own)."""
        self.active_id = response_id
        if self.in_flight is not None:
            self.maybe_ours = response_id

    def done(self, response_id: str) -> ResponseCreate | None:
        """``response.done`` for the default conversation: the deferred request, if any."""
        if self.active_id == response_id:
            self.active_id = None
        if self.maybe_ours == response_id and self.in_flight is not None:
            # No refusal came while it ran: most likely the response we asked for.
            self.presumed_served.add(self.in_flight)
            self.maybe_ours = self.in_flight = None
        return self._next()

    def _next(self) -> ResponseCreate | None:
        if self.deferred and not self.busy and not self.held:
            params, self.deferred, self.deferred_params = self.deferred_params, False, None
            return self._create(params)
        return None

    def hold(self) -> tuple[bool, dict[str, Any] | None]:
        """The connection is gone, and with it every response of the server: none is active
        or in flight any more, and requests wait for ``resume``. Returns whether our request
        was in flight (never answered: the caller asks again), and its parameters. A
        response created since it went out is taken as its answer (the refusal that would
        say otherwise can no longer come): the caller deals with it as the active one."""
        lost = (self.in_flight is not None and self.maybe_ours is None, self.in_flight_params)
        self.active_id = self.in_flight = self.maybe_ours = self.last_sent = None
        self.in_flight_params = None
        self.presumed_served = Recent(16)
        self.held = True
        return lost

    def resume(self) -> ResponseCreate | None:
        """A new connection: the deferred request, if any, goes out now."""
        self.held = False
        return self._next()

    def refused(self, event_id: str | None) -> None:
        """The server refused a ``response.create``: one is active. Ours is deferred again.

        ``event_id`` is the refused event's id (the error echoes it). When the server knows
        of no response we have seen (its ``response.created`` is still on the way), the
        request waits for that response's end like any other.
        """
        if self.in_flight is not None and event_id in (None, self.in_flight):
            if not self.deferred:
                self.deferred_params = self.in_flight_params
            self.in_flight = self.maybe_ours = None
            self.deferred = True
        elif (
            event_id is not None and event_id in self.presumed_served and event_id == self.last_sent
        ):
            # Not served after all, and no create sent since (one would serve it too, coming
            # later than the request): ask again when free.
            self.deferred = True

    def failed(self, event_id: str | None) -> ResponseCreate | None:
        """The server refused our ``response.create`` for another reason (bad parameters...):
        that request is over (the error says why); the next deferred one goes out."""
        if event_id is None or event_id != self.in_flight:
            return None
        self.in_flight = self.maybe_ours = None
        return self._next()
