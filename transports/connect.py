"""From a ``ModelConfig`` to a connected Realtime WebSocket: URL, headers, TLS, proxy.

- URL: ``{base}/v1/realtime?model=<model>``, or ``?call_id=<id>`` to attach to a SIP call;
  the base is ``ModelConfig.url`` or ``wss://api.openai.com``. A base that already ends in
  ``/v1/realtime`` (or carries its own path) is used as it is.
- Headers: ``Authorization: Bearer <key>`` (the key found by ``auth.resolve_api_key``),
  ``OpenAI-Beta: realtime=v1`` for the beta dialect only, a ``User-Agent``, then
  ``ModelConfig.headers``.
- TLS trusts ``CODEX_CA_CERTIFICATE``, then ``SSL_CERT_FILE``, else the system store; a
  ``wss://`` connection goes through ``https_proxy``/``HTTPS_PROXY`` when set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

from realtime_sansio.protocol import ModelConfig

from .auth import key_for, ssl_context_from_env
from .websocket import WebSocketTransport

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "handshake_headers", "open_realtime", "realtime_url"]

DEFAULT_BASE_URL = "wss://api.openai.com"
USER_AGENT = "realtime-sansio/0.1 (Python)"


def realtime_url(model_config: ModelConfig) -> str:
    """The URL to connect to, with ``model`` or ``call_id`` in the query."""
    parts = urlsplit(model_config.url or DEFAULT_BASE_URL)
    path = parts.path.rstrip("/") or "/v1/realtime"
    query = urlencode(
        {"call_id": model_config.call_id} if model_config.call_id else {"model": model_config.model}
    )
    if parts.query:  # the base's own query first (an api-version, a gateway's token...)
        query = f"{parts.query}&{query}"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def handshake_headers(model_config: ModelConfig, api_key: str | None) -> list[tuple[str, str]]:
    """The defaults, then ``ModelConfig.headers``: one of those replaces a default of the same
    name (a header sent twice, two ``User-Agent`` or two ``Authorization``, is ambiguous)."""
    extra = {name.lower() for name in model_config.headers}
    headers: list[tuple[str, str]] = []
    if api_key:
        headers.append(("Authorization", f"Bearer {api_key}"))
    if model_config.dialect == "beta":
        headers.append(("OpenAI-Beta", "realtime=v1"))
    headers.append(("User-Agent", USER_AGENT))
    headers = [(name, value) for name, value in headers if name.lower() not in extra]
    headers.extend(model_config.headers.items())
    return headers


def open_realtime(
    model_config: ModelConfig, *, environ: Mapping[str, str] | None = None
) -> WebSocketTransport:
    """The (not yet connected) WebSocket transport for ``model_config``; ``async with`` it."""
    env = os.environ if environ is None else environ
    url = realtime_url(model_config)
    api_key = key_for(url, model_config.api_key, environ=env)
    secure = url.startswith("wss://")
    proxy = (env.get("https_proxy") or env.get("HTTPS_PROXY") or "").strip() or None
    return WebSocketTransport(
        url,
        headers=handshake_headers(model_config, api_key),
        ssl_context=ssl_context_from_env(env) if secure else None,
        proxy=proxy if secure else None,
    )
