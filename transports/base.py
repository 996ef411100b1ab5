"""The transport interface: what a driver needs from a connection, and nothing more.

A transport is an async context manager (entering it connects, leaving it releases) that
sends and receives text frames and can close. Writing one for a new carrier (a WebSocket
library, a WebRTC data channel, a test double) is a page of code: see docs/transports.md.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self, runtime_checkable

__all__ = ["ClosingOnExit", "ConnectionClosed", "Transport", "describe_close"]


class ConnectionClosed(Exception):
    """The connection ended: ``receive`` and ``send`` raise it from then on.

    ``code`` is the WebSocket close code (1000 normal, 1001 going away / session expired,
    1006 dropped without a closing handshake, 1011 server error, 4000 the server refused the
    beta shape...), ``reason`` the peer's text.
    """

    def __init__(self, code: int | None = None, reason: str = "") -> None:
        super().__init__(describe_close(code, reason))
        self.code = code
        self.reason = reason


_MEANINGS = {
    1000: "closed normally",
    1001: "the server went away (a Realtime session expires after 60 minutes)",
    1006: "the connection dropped without a closing handshake",
    1008: "the server refused a message (policy violation)",
    1009: "a message was too big",
    1011: "the server hit an internal error",
    4000: "the server refused the beta API shape: use the GA dialect",
}


def describe_close(code: int | None, reason: str) -> str:
    """One readable line for a close code and reason."""
    meaning = _MEANINGS.get(code) if code is not None else "the connection ended"
    head = f"connection closed (code {code})" if code is not None else "connection closed"
    parts = [head]
    if meaning:
        parts.append(meaning)
    if reason:
        parts.append(f"reason: {reason}")
    return ": ".join(parts[:2]) + ("; " + parts[2] if len(parts) > 2 else "")


@runtime_checkable
class Transport(Protocol):
    """A connection carrying text frames; the driver owns one per session."""

    async def __aenter__(self) -> Transport:
        """Connect (or attach to an open connection)."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Release everything the transport holds; the connection is closed after this."""

    async def send(self, text: str) -> None:
        """Send one text frame; raise ``ConnectionClosed`` once the connection is gone."""

    async def receive(self) -> str:
        """The next text frame; raise ``ConnectionClosed`` when the connection ends."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (idempotent)."""

    # Two optional methods, used by the driver when a transport has them (a transport
    # without them works the same, a frame at a time; see docs/transports.md):
    #
    # async def receive_many(self, limit: int) -> list[str]:
    #     """The frames already received, at least one (waiting for it), at most ``limit``.
    #     An end of the connection behind them is raised by the next call. When it returns
    #     fewer than ``limit``, its next call waits for the network (a checkpoint)."""
    #
    # async def send_many(self, texts: Sequence[str]) -> None:
    #     """Send the frames in order (in one write, where the carrier allows)."""


class ClosingOnExit:
    """For a transport already connected when made: entering gives it, leaving closes it."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close(1000, "")

    if TYPE_CHECKING:  # each transport defines its own; this only tells the type checker

        async def close(self, code: int = 1000, reason: str = "") -> None: ...
