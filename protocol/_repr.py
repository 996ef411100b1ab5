"""How values read in reprs and error messages.

Audio can be megabytes, and a log line must stay a line; a peer's wrong value is named by its
JSON kind, the word the protocol documents use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["json_kind", "short_bytes_repr"]


def short_bytes_repr(value: bytes | None) -> str:
    """Small payloads in full, larger ones as their size and first bytes."""
    if value is None or len(value) <= 16:
        return repr(value)
    return f"<{len(value)} bytes {bytes(value[:8]).hex()}...>"


def json_kind(value: Any) -> str:
    """The JSON name of a value's type ("null", "boolean", "integer", "string", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: a boolean is never an integer in JSON
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
