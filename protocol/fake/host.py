"""What a server-side core gives its host (the in-memory transport, ``serve_fake``).

The fake Realtime server is a sans-IO core like the Session, on the server's side of the
wire: text frames in, server events out, time injected, a timer to be woken at. A host needs
nothing else from it, so the interface is written down here, small: any server core (the
fake server, a user's own scripted double) can be hosted by the same code.
"""

from __future__ import annotations

from typing import Protocol, TypeAlias

import attrs

from .. import wire

__all__ = ["CloseConnection", "RawFrame", "ServerCore", "ServerOutput"]


@attrs.frozen(kw_only=True)
class RawFrame:
    """A frame sent as it is (fault injection: garbage, or an event type nobody knows)."""

    text: str


@attrs.frozen(kw_only=True)
class CloseConnection:
    """Close the client's connection with a WebSocket close code and reason."""

    code: int = 1000
    reason: str = ""


ServerOutput: TypeAlias = wire.ServerEvent | RawFrame | CloseConnection


class ServerCore(Protocol):
    """The server role of the protocol, pure: the host calls these, in its loop's order."""

    def connected(self, now: float) -> list[ServerOutput]:
        """A client connected (``session.created`` and ``conversation.created`` first)."""

    def receive(self, text: str, now: float) -> list[ServerOutput]:
        """One text frame from the client."""

    def get_timer(self) -> float | None:
        """When to call ``timer`` next (same clock as ``now``), or None."""

    def timer(self, now: float) -> list[ServerOutput]:
        """The clock reached ``get_timer()``."""

    def disconnected(self, now: float) -> None:
        """The client went away."""
