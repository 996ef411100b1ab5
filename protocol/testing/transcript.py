"""``Transcript``: a Session run, recorded input by input, with what the server model saw.

Everything goes through ``Transcript.handle``, which calls ``Session.handle`` and keeps the
input, the clock reading, the outputs and the agent current afterwards. The invariants
(``invariants``) are functions of a transcript; they read the facts a single incremental pass
gathers (``facts``), so checking after every step costs time in the new steps only.

A crash is recorded too: ``Session.handle`` must never raise for something the server sent,
so such a raise becomes an ``AssertionError`` that names the input (the session raising for the
application's misuse is the application's business and is re-raised as it is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from .. import wire
from ..agent import Agent
from ..inputs import AnyInput
from ..session import Output, Session
from ._facts import Facts
from .server import ServerModel

__all__ = ["Step", "Transcript", "is_server_input"]


def is_server_input(event: Any) -> bool:
    """Whether an input came from the server side: a typed server event or a raw frame."""
    return isinstance(
        event, str | bytes | bytearray | wire.ServerEventBase | wire.UnknownServerEvent
    )


@attrs.frozen(kw_only=True, slots=True)
class Step:
    """One ``Session.handle`` call: what went in, when, what came out, and who is current."""

    index: int
    input: AnyInput
    now: float | None
    outputs: tuple[Output, ...]
    agent: Agent
    """``session.current_agent`` after the call."""
    error: BaseException | None = None


class Transcript:
    """Records a Session run (see the module docstring).

    ``make_session`` builds the session, and must build an identical fresh one on every call
    (a new id factory each time): the replay invariant runs the inputs through a second one.
    ``server`` is the server model the run talks to, if any, for the invariants that compare
    the session with the server's view.
    """

    def __init__(
        self, make_session: Callable[[], Session], *, server: ServerModel | None = None
    ) -> None:
        self.make_session = make_session
        self.session = make_session()
        self.servers: list[ServerModel] = [] if server is None else [server]
        """The server of every connection so far (a harness that reconnects adds one)."""
        self.steps: list[Step] = []
        self.crashes: list[Step] = []
        self._facts = Facts(self.session.current_agent)
        self._fed = 0

    def handle(self, event: AnyInput, *, now: float | None = None) -> list[Output]:
        """``session.handle(event, now=now)``, recorded."""
        try:
            outputs = self.session.handle(event, now=now)
        except Exception as exc:
            step = Step(
                index=len(self.steps),
                input=event,
                now=now,
                outputs=(),
                agent=self.session.current_agent,
                error=exc,
            )
            self.steps.append(step)
            if not is_server_input(event):
                raise
            self.crashes.append(step)
            raise AssertionError(
                f"invariant 7: Session.handle raised {type(exc).__name__}: {exc} for what the"
                f" server sent (step {step.index}: {event!r})"
            ) from exc
        self.steps.append(
            Step(
                index=len(self.steps),
                input=event,
                now=now,
                outputs=tuple(outputs),
                agent=self.session.current_agent,
            )
        )
        return outputs

    @property
    def server(self) -> ServerModel | None:
        """The server of the current connection."""
        return self.servers[-1] if self.servers else None

    @server.setter
    def server(self, server: ServerModel) -> None:
        self.servers.append(server)

    @property
    def facts(self) -> Facts:
        """The facts of every step so far (only the new steps are read)."""
        while self._fed < len(self.steps):
            self._facts.feed(self.steps[self._fed])
            self._fed += 1
        return self._facts

    def client_events(self) -> list[wire.ClientEvent | wire.RawClientEvent]:
        """Every client event the session emitted, in order."""
        return [
            out
            for step in self.steps
            for out in step.outputs
            if isinstance(out, wire.ClientEventBase | wire.RawClientEvent)
        ]
