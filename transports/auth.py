"""Where the API key and the trust roots come from, and how a key stays secret.

Key precedence (blank values are ignored at every step, as if unset):

1. the ``api_key=`` argument (a string, or a callable returning one, called here);
2. ``CODEX_API_KEY``;
3. ``$CODEX_HOME/auth.json``, its ``OPENAI_API_KEY`` field (``CODEX_HOME`` defaults to
   ``~/.codex``);
4. ``OPENAI_API_KEY``.

Trust roots for TLS: ``CODEX_CA_CERTIFICATE`` first, then ``SSL_CERT_FILE`` (a PEM bundle),
else the system's default store. A key never appears in a repr, a log line or an error text:
``redact`` is applied to every message this package builds from a server's reply.
"""

from __future__ import annotations

import json
import os
import re
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["ApiKeyError", "redact", "resolve_api_key", "ssl_context_from_env"]

_KEY_SHAPE = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


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


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (and any ``sk-...`` token) replaced by ``<redacted>``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    # Anything shaped like an OpenAI key, wherever it stands ("key=sk-...", quoted, in JSON).
    return _KEY_SHAPE.sub("<redacted>", text)
