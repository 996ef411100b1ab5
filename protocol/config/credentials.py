"""What counts as a credential in a connection's configuration, and how to hide it.

One place for the judgement, shared by ``ModelConfig``'s repr and validation errors and by the
transports (their reprs, their error texts, the secrets they redact from a server's words):

- ``is_secret_name``: a header or query parameter whose *name* says it holds a credential
  (``Authorization``, ``api-key``, ``X-Api-Key``, anything with ``token``, ``secret``,
  ``cookie``, ``password``, ``signature`` in it; ``key``, ``sig``, ``auth`` exactly);
- ``looks_like_credential``: a header *value* that looks like one whatever the header is called
  (a ``Bearer``/``Basic`` scheme, an ``sk-`` key, or a long token without spaces);
- ``mask_url``: the URL with its userinfo and secret query values replaced by ``<redacted>``;
  ``url_secrets`` gives those values, for a redactor to hunt.

Pure text work (the core may not import ``urllib``): a URL is split by a regular expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "KEY_SHAPE",
    "REDACTED",
    "header_secrets",
    "is_secret_name",
    "looks_like_credential",
    "mask_url",
    "url_secrets",
]

REDACTED = "<redacted>"
"""What a hidden credential reads as."""

# Spelled as a literal first (the word-boundary check after it, looking back): the regex
# engine then searches for "sk-" quickly instead of trying every position (70x faster).
KEY_SHAPE = re.compile(r"sk-(?<!\wsk-)[A-Za-z0-9_-]{8,}")
"""An OpenAI API key, wherever it stands (``key=sk-...``, quoted, in JSON), not inside a word
(``task-...`` is no key)."""

_SECRET_NAME_PARTS = (
    "authorization",
    "api-key",
    "api_key",
    "apikey",
    "secret",
    "token",
    "cookie",
    "password",
    "signature",
)
_SECRET_NAMES = frozenset({"key", "sig", "auth", "pass", "pwd"})
_SCHEME = re.compile(r"(?i)(?:bearer|basic)\s")
# Base64, hex and URL-safe alphabets (and a JWT's dots): what a generated token is made of.
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")
# scheme://[userinfo@]rest: the userinfo is whatever precedes an @ before the path.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#@]*)@")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter named ``name`` holds a credential."""
    lowered = name.strip().lower()
    return lowered in _SECRET_NAMES or any(part in lowered for part in _SECRET_NAME_PARTS)


def _carries_key(value: str) -> bool:
    return bool(_SCHEME.match(value) or KEY_SHAPE.search(value))


def looks_like_credential(value: str) -> bool:
    """Whether a header value looks like a credential, whatever the header is called."""
    value = value.strip()
    return _carries_key(value) or bool(_TOKEN_LIKE.fullmatch(value))


def header_secrets(headers: Iterable[tuple[str, str]]) -> list[str]:
    """The credentials among headers, for a redactor to hunt: each value of a secret header
    or with a ``Bearer``/``Basic`` scheme or an ``sk-`` key, and the token after its scheme
    (``Bearer sk-...`` gives both). A value that only looks like a token is masked in reprs
    but not hunted: it is most often an id (``OpenAI-Project: proj_...``, a request id) the
    server may echo, and hunting a string of letters and digits costs a scan of every frame."""
    secrets: list[str] = []
    for name, value in headers:
        if is_secret_name(name) or _carries_key(value.strip()):
            text = value.strip()
            secrets.append(text)
            _scheme, _, token = text.partition(" ")
            if token.strip():
                secrets.append(token.strip())
    return secrets


def _split_query(url: str) -> tuple[str, str, str]:
    """``url`` as (before the query, the query, the fragment with its ``#``)."""
    head, hash_, fragment = url.partition("#")
    base, _, query = head.partition("?")
    return base, query, hash_ + fragment


def _query_secret(pair: str) -> str | None:
    name, equals, value = pair.partition("=")
    if not equals or not value:
        return None
    decoded = _PERCENT_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)
    if is_secret_name(decoded) or KEY_SHAPE.search(value) or _SCHEME.match(value):
        return value
    return None


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: its userinfo, and the values of secret query
    parameters (as written, percent-encoding included)."""
    secrets: list[str] = []
    userinfo = _USERINFO.match(url)
    if userinfo and userinfo.group(2):
        secrets.append(userinfo.group(2))
        _user, colon, password = userinfo.group(2).partition(":")
        if colon and password:
            secrets.append(password)
    _base, query, _fragment = _split_query(url)
    for pair in re.split(r"[&;]", query):
        secret = _query_secret(pair)
        if secret is not None:
            secrets.append(secret)
    return secrets


def mask_url(url: str) -> str:
    """``url`` with its userinfo and secret query values shown as ``<redacted>``, and any
    ``sk-`` key anywhere in it hidden: safe for a repr, a log line or an error text."""
    masked = _USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", url, count=1)
    base, query, fragment = _split_query(masked)
    if query:
        pairs = re.split(r"([&;])", query)  # keep the separators as they were
        for index in range(0, len(pairs), 2):
            if _query_secret(pairs[index]) is not None:
                name = pairs[index].partition("=")[0]
                pairs[index] = f"{name}={REDACTED}"
        masked = f"{base}?{''.join(pairs)}{fragment}"
    return KEY_SHAPE.sub(REDACTED, masked)
