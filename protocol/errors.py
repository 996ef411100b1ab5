"""The library's exceptions, after h11: who broke the protocol decides the class.

``LocalProtocolError`` means the caller misused the API (a bad argument, a command in the
wrong state): fix the calling code. ``RemoteProtocolError`` means the peer sent something
invalid (malformed JSON, a missing field): the connection may go on, but that frame is lost.
Both derive from ``ProtocolError`` so one ``except`` can catch either.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every error this library raises on purpose."""


class LocalProtocolError(ProtocolError, ValueError):
    """The caller misused the API: an invalid value, or a command the state does not allow.

    It is also a ``ValueError`` so that code validating configuration can catch the usual type.
    """


class RemoteProtocolError(ProtocolError):
    """The peer sent something invalid: malformed JSON, a missing field, a wrong field type.

    ``event_type`` and ``field`` name where the problem was found when known, so a log line
    says exactly which part of which event was wrong.
    """

    def __init__(
        self, message: str, *, event_type: str | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.event_type = event_type
        self.field = field
