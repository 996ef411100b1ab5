"""The fake server's side of the opening handshake, pure: which model, which subprotocol, and
whether the key is right (``serve_fake`` applies the answer to the upgrade).

- ``?model=`` in the URL is the session's model (``FakeRealtimeServer(model=...)``).
- Browsers cannot set headers on a WebSocket, so the real API takes the key in a subprotocol
  (``openai-insecure-api-key.<key>``) beside ``realtime``; the server answers with
  ``realtime`` when the client offered it (a browser fails a handshake whose answer names none
  of the subprotocols it offered).
- With a ``required_key``, a connection without that key (as ``Authorization: Bearer`` or in
  the subprotocol) is refused with 401 and the real API's body, so that a client's handling of
  a bad key can be rehearsed: ``invalid_api_key`` for a wrong key, a ``null`` code for none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

import attrs

__all__ = ["KEY_SUBPROTOCOL", "Accepted", "Refused", "answer_handshake", "query_value"]

KEY_SUBPROTOCOL = "openai-insecure-api-key."
"""The prefix of the subprotocol that carries a key from a browser."""


@attrs.frozen(kw_only=True)
class Accepted:
    """Open the WebSocket: ``subprotocol`` is the one to name in the answer (or None)."""

    model: str | None
    subprotocol: str | None


@attrs.frozen(kw_only=True)
class Refused:
    """Refuse the upgrade with this status and JSON body."""

    status: int
    body: bytes


_MISSING = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header"
    " using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with"
    " blank username) if you're accessing the API from your browser and are prompted for a"
    " username and password. You can obtain an API key from"
    " https://platform.openai.com/account/api-keys."
)


def answer_handshake(
    target: str,
    headers: Iterable[tuple[bytes | str, bytes | str]],
    subprotocols: Sequence[str],
    *,
    required_key: str | None = None,
) -> Accepted | Refused:
    """The answer to an upgrade request for ``target`` (path and query)."""
    model = query_value(target, "model")
    if required_key is not None:
        given = _key_of(headers, subprotocols)
        if given != required_key:
            return _refusal(given)
    return Accepted(
        model=model or None,
        subprotocol="realtime" if "realtime" in subprotocols else None,
    )


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def query_value(target: str, name: str) -> str | None:
    """The first value of ``name`` in the query of a request target (``+`` and ``%XX``
    decoded), or None. (The core imports no ``urllib``.)"""
    query = target.partition("?")[2].partition("#")[0]
    for pair in query.split("&"):
        key, _, value = pair.partition("=")
        if _unquote(key) == name:
            return _unquote(value)
    return None


def _unquote(text: str) -> str:
    # split() with a group alternates text and the escapes' hex digits.
    parts = _ESCAPE.split(text.replace("+", " "))
    raw = b"".join(
        bytes([int(part, 16)]) if index % 2 else part.encode() for index, part in enumerate(parts)
    )
    return raw.decode("utf-8", "replace")


def _key_of(
    headers: Iterable[tuple[bytes | str, bytes | str]], subprotocols: Sequence[str]
) -> str | None:
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
        value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
        if name.lower() == "authorization" and value.lower().startswith("bearer "):
            return value[len("bearer ") :].strip()
    for protocol in subprotocols:
        if protocol.startswith(KEY_SUBPROTOCOL):
            return protocol[len(KEY_SUBPROTOCOL) :]
    return None


def _refusal(given: str | None) -> Refused:
    if not given:
        error = {"message": _MISSING, "type": "invalid_request_error", "param": None, "code": None}
    else:
        # The real API shows the start and the end of the key it did not know, no more.
        hidden = "*" * max(0, len(given) - 7)
        shown = given[:3] + hidden + given[-4:] if len(given) > 12 else "*" * len(given)
        error = {
            "message": (
                f"Incorrect API key provided: {shown}. You can find your API key at"
                " https://platform.openai.com/account/api-keys."
            ),
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    return Refused(status=401, body=json.dumps({"error": error}).encode())
