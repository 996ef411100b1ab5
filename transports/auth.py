"""Where the API key and the trust roots come from, and how a key stays secret.

Key precedence (blank values are ignored at every step, as if unset):

1. the ``api_key=`` argument (a string, or a callable returning one, called here);
2. ``CODEX_API_KEY``;
3. ``$CODEX_HOME/auth.json``, its ``OPENAI_API_KEY`` field (``CODEX_HOME`` defaults to
   ``~/.codex``);
4. ``OPENAI_API_KEY``.

Trust roots for TLS: ``CODEX_CA_CERTIFICATE`` first, then ``SSL_CERT_FILE`` (a PEM bundle),
else the system's default store.

A key never appears in a repr, a log line or an error text. ``Redactor(*secrets)`` is the one
redaction: a pure ``str -> str`` function, built where the secrets are known (the driver, the
WebSocket transport, the CLI), that replaces each secret and any ``sk-...`` key shape with
``<redacted>``. It finds a secret written plainly, JSON-escaped (``\\u0073k-...``),
percent-encoded (``sk%2D...``) or broken by whitespace and line breaks (JSON's ``\\n``
escapes included), so it works on raw JSON frames as well as on decoded text.
``redact(text, *secrets)`` is the one-off form.

Cost: every text passes a prefilter of single-character scans (``-``, a backslash, ``%`` and
one uncommon character of each secret): a base64 audio delta, which has none of those, costs a
few scans. A text that trips it takes the slow path (one regular expression per secret) if it
is short (up to 1 KiB: error messages, close reasons, transcript deltas); a longer one only if
a substring check says so (``sk-``, the first or last eight characters of a secret, an escaped
ASCII character, a percent escape). So a secret is found however it is split in a short text,
and in a long one when its first or last eight characters are intact or it is escaped. A
secret made only of letters, digits and base64 punctuation gives the prefilter nothing to scan
for: every text then takes the substring checks, and every short one the slow path.

Secrets shorter than eight characters are ignored: no real credential is that short, and a
word such as ``unused`` or a letter would match ordinary text, even the names of a frame's
JSON fields.
"""

from __future__ import annotations

import json
import os
import re
import ssl
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from realtime_sansio.protocol.config.credentials import (
    KEY_SHAPE,
    REDACTED,
    header_secrets,
    url_secrets,
)

__all__ = [
    "MIN_SECRET_LENGTH",
    "ApiKeyError",
    "Redactor",
    "connection_secrets",
    "key_for",
    "redact",
    "resolve_api_key",
    "ssl_context_from_env",
]

MIN_SECRET_LENGTH = 8
"""Shorter secrets are not redacted (see the module doc)."""


class ApiKeyError(Exception):
    """No API key was found, or the key's source is unusable (the key itself is never shown)."""


def _present(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def _from_auth_json(environ: Mapping[str, str]) -> str | None:
    # ``~`` is the given environment's HOME (the process's home when it names none).
    user_home = _present(environ.get("HOME")) or str(Path.home())
    home = _present(environ.get("CODEX_HOME")) or str(Path(user_home) / ".codex")
    path = Path(home) / "auth.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ApiKeyError(f"{path} could not be read as JSON: {type(exc).__name__}") from None
    value = data.get("OPENAI_API_KEY") if isinstance(data, dict) else None
    return _present(value) if isinstance(value, str) else None


def resolve_api_key(
    api_key: str | Callable[[], str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The API key by the precedence above, or None when there is none anywhere."""
    env = os.environ if environ is None else environ
    if api_key is not None:
        given = api_key() if callable(api_key) else api_key
        if not isinstance(given, str):
            raise ApiKeyError(f"api_key must give a string, not {type(given).__name__}")
        if _present(given):
            return given.strip()
    return (
        _present(env.get("CODEX_API_KEY"))
        or _from_auth_json(env)
        or _present(env.get("OPENAI_API_KEY"))
    )


def key_for(
    url: str,
    api_key: str | Callable[[], str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The key to send to ``url`` (``resolve_api_key``): OpenAI's own hosts need one, so none
    is an ``ApiKeyError`` there; another server (a fake, a gateway) may take none."""
    key = resolve_api_key(api_key, environ=environ)
    if key is None and _is_openai(url):
        raise ApiKeyError(
            "no API key: pass api_key=, or set CODEX_API_KEY or OPENAI_API_KEY "
            "(or OPENAI_API_KEY in $CODEX_HOME/auth.json)"
        )
    return key


def _is_openai(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "api.openai.com" or host.endswith(".openai.com")


def ssl_context_from_env(environ: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """A client TLS context trusting ``CODEX_CA_CERTIFICATE``, else ``SSL_CERT_FILE``, else
    the system store."""
    env = os.environ if environ is None else environ
    for name in ("CODEX_CA_CERTIFICATE", "SSL_CERT_FILE"):
        path = _present(env.get(name))
        if path:
            try:
                return ssl.create_default_context(cafile=path)
            except (OSError, ssl.SSLError) as exc:
                # With (errno, message) the error's text is the message; with the message
                # alone, ssl.SSLError shows the repr of a tuple.
                message = f"{name}={path} is not a usable PEM bundle: {exc}"
                raise ssl.SSLError(exc.errno or 0, message) from None
    return ssl.create_default_context()


# The prefilter (see the module doc). JSON encoders escape only control characters, so an
# escaped printable ASCII character (\u0020-\u007f) means someone is hiding text.
_ESCAPED_ASCII = re.compile(r"\\u00[2-7][0-9a-fA-F]")
_PERCENT_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_ALWAYS_GATED = "-\\%"  # "sk-" has a dash; every escape a backslash or a percent sign
# Characters every frame may have (base64 audio, ids, JSON punctuation, spaces): useless as a
# sign that a secret might be there.
_COMMON = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_.:,{}[]" ')
_FRAGMENT = 8
_SHORT = 1024  # a text this short that trips the prefilter takes the slow path at once
# Whitespace, line breaks and their JSON and percent escapes: what may split a secret.
_GAP = r"(?:[ \t\r\n]|\\[nrt]|\\u00(?:0[9aAdD]|20)|%(?:0[9aAdD]|20))*"


def _hex(code: int) -> str:
    """Two hex digits matching either case (``2d`` or ``2D``)."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{code:02x}")


def _char_forms(char: str) -> str:
    """A character as it may be written: itself, a JSON ``\\u00XX`` escape, ``%XX``."""
    forms = [re.escape(char)]
    code = ord(char)
    if code < 0x80:
        forms += [rf"\\u00{_hex(code)}", f"%{_hex(code)}"]
        if char in '"/\\':  # JSON's two-character escapes
            forms.append(re.escape("\\" + char))
    return "(?:" + "|".join(forms) + ")"


def _tolerant(secret: str) -> re.Pattern[str]:
    return re.compile(_GAP.join(_char_forms(char) for char in secret))


class Redactor:
    """``redactor(text)``: ``text`` with every secret, however written, and any ``sk-...`` key
    shape replaced by ``<redacted>``. Pure and fast (see the module doc); its repr only
    counts the secrets."""

    __slots__ = ("_always", "_fragments", "_gate", "_patterns", "_secrets")

    def __init__(self, *secrets: str | None) -> None:
        kept = {s.strip() for s in secrets if s and len(s.strip()) >= MIN_SECRET_LENGTH}
        # Longest first: "Bearer sk-..." goes whole before its token alone would.
        self._secrets = tuple(sorted(kept, key=lambda s: (-len(s), s)))
        self._patterns = [_tolerant(secret) for secret in self._secrets]
        self._fragments = tuple(
            {piece for s in self._secrets for piece in (s[:_FRAGMENT], s[-_FRAGMENT:])}
        )
        gate = set(_ALWAYS_GATED)
        self._always = False
        for secret in self._secrets:
            rare = [char for char in secret if char not in _COMMON]
            if rare:
                gate.add(rare[0])
            else:  # nothing cheap to look for: every text takes the substring checks
                self._always = True
        self._gate = tuple(gate)

    def adding(self, *secrets: str | None) -> Redactor:
        """A redactor for these secrets as well as this one's."""
        return Redactor(*self._secrets, *secrets)

    def __repr__(self) -> str:
        return f"Redactor(<{len(self._secrets)} secrets>)"

    def __call__(self, text: str) -> str:
        if not self._always:
            for char in self._gate:  # a loop, not any(): no generator on the hot path
                if char in text:
                    break
            else:
                return text
        if len(text) > _SHORT and not (
            ("-" in text and "sk-" in text)  # one memchr spares a slower substring search
            or any(fragment in text for fragment in self._fragments)
            or ("\\" in text and _ESCAPED_ASCII.search(text))
            or ("%" in text and _PERCENT_ESCAPE.search(text))
        ):
            return text
        return self._slow(text)

    def _slow(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub(REDACTED, text)
        return KEY_SHAPE.sub(REDACTED, text)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (and any ``sk-...`` token) replaced by ``<redacted>``."""
    return Redactor(*secrets)(text)


def connection_secrets(
    url: str | None = None, headers: Iterable[tuple[str, str]] = (), api_key: str | None = None
) -> list[str]:
    """The secrets a connection is made with: the key, the credentials among the headers
    (by name or by look), the URL's userinfo and secret query values."""
    found = [api_key] if api_key else []
    found += header_secrets(headers)
    if url:
        found += url_secrets(url)
    return found
