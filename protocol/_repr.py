"""How bytes read in a repr: audio can be megabytes, and a log line must stay a line."""

from __future__ import annotations

__all__ = ["short_bytes_repr"]


def short_bytes_repr(value: bytes | None) -> str:
    """Small payloads in full, larger ones as their size and first bytes."""
    if value is None or len(value) <= 16:
        return repr(value)
    return f"<{len(value)} bytes {bytes(value[:8]).hex()}...>"
