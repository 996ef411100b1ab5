"""Whether a text shows a secret, or any piece of one, in any form: plain, split by
whitespace or line breaks (as text or as ``\\n`` escapes, which ``repr`` writes), JSON-escaped
or percent-encoded. Used to scan events, errors, log records and CLI output."""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = ["shows"]

PIECE = 10  # a piece this long of a random key cannot appear by chance


def _normalised(text: str) -> str:
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = unquote(text)
    text = re.sub(r"\\[nrt]", "", text)
    return "".join(text.split())


def shows(text: str, secret: str) -> bool:
    """Whether ``text`` shows ``secret`` or a piece of it (``PIECE`` characters or more)."""
    flat = _normalised(text)
    return any(secret[i : i + PIECE] in flat for i in range(len(secret) - PIECE + 1))
