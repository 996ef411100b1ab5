"""A minimal raw probe of the Realtime API, to tell our bugs from the service's.

``probe_text_turn`` opens a WebSocket (no Session, no agent), waits for ``session.created``,
sends one out-of-band ``response.create`` with the prompt as its input, and waits for that
response's ``response.done``. It returns a ``ProbeResult``: the proof on success (model,
session id, the event types seen, the reply text), or a classified failure:

- ``insufficient_quota``: the account has no credit (HTTP 429 or the error code);
- ``realtime_model_unavailable``: ``model_not_found`` or no access to the model (403, 404);
- ``realtime_protocol_incompatible``: ``unknown_parameter`` and similar schema errors, or the
  beta shape refused (close 4000);
- ``realtime_upstream_server_error``: the service's own ``server_error`` (with the session id,
  to report upstream);
- ``probe_timeout``: no answer in ``timeout_ms``, or the connection's own timeout fired
  first; the detail names the step that did not finish (connecting, waiting
  for ``session.created``, sending the request, waiting for ``response.done``) and the time
  spent;
- ``auth_failed``, ``connection_failed``, ``no_api_key``: the rest, named.

``format_probe_failure(result)`` writes one readable line. The API key never appears in any of
it.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping

import anyio
import attrs
from realtime_sansio.protocol import ModelConfig, RemoteProtocolError, wire

from .auth import ApiKeyError, Redactor, resolve_api_key
from .base import ConnectionClosed, Transport
from .connect import open_realtime
from .websocket import HandshakeError

__all__ = ["ProbeResult", "format_probe_failure", "probe_text_turn"]

_CONNECTING = "connecting (TCP, TLS, WebSocket handshake)"
_QUOTA = {"insufficient_quota", "billing_hard_limit_reached", "rate_limit_exceeded_quota"}
_MODEL = {"model_not_found", "model_not_available", "invalid_model"}
_SCHEMA = {
    "unknown_parameter",
    "invalid_parameter",
    "beta_api_shape_disabled",
    "unsupported_parameter",
    "invalid_value",
    "invalid_type",
}


@attrs.frozen(kw_only=True)
class ProbeResult:
    """What the probe proved: ``ok``, or the failure's ``reason`` and ``detail``."""

    ok: bool
    reason: str | None = None
    detail: str = ""
    model: str | None = None
    session_id: str | None = None
    events: tuple[str, ...] = ()
    reply: str = ""


def _classify(code: str | None, status: int | None = None) -> str:
    if code in _QUOTA or status == 429:
        return "insufficient_quota"
    if code in _MODEL or status in (403, 404):
        return "realtime_model_unavailable"
    if code in _SCHEMA:
        return "realtime_protocol_incompatible"
    if code == "server_error" or (status is not None and status >= 500):
        return "realtime_upstream_server_error"
    if status == 401 or code in ("invalid_api_key", "unauthorized"):
        return "auth_failed"
    return "realtime_error"


async def probe_text_turn(
    *,
    timeout_ms: int = 8000,
    model: str = "gpt-realtime",
    prompt: str = "Reply with exactly ok.",
    model_config: ModelConfig | None = None,
    transport: Transport | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProbeResult:
    """One out-of-band text turn on a raw connection (see the module doc)."""
    config = model_config or ModelConfig(model=model)
    key = None
    try:
        key = resolve_api_key(config.api_key, environ=environ)
        if key is not None:
            config = attrs.evolve(config, api_key=key)  # a callable key is called once
        connection = transport or open_realtime(config, environ=environ)
    except ApiKeyError as exc:
        return ProbeResult(ok=False, reason="no_api_key", detail=str(exc), model=config.model)
    except ssl.SSLError as exc:  # CODEX_CA_CERTIFICATE or SSL_CERT_FILE is unusable
        return ProbeResult(
            ok=False, reason="connection_failed", detail=str(exc), model=config.model
        )
    # The key, and whatever else the transport sent (secret headers, the URL's credentials).
    own = getattr(connection, "redactor", None)
    redact = own.adding(key) if isinstance(own, Redactor) else Redactor(key)
    seen: list[str] = []
    state: dict[str, str | None] = {"session": None, "step": _CONNECTING}
    result: ProbeResult | None = None
    started = anyio.current_time()
    try:
        with anyio.fail_after(timeout_ms / 1000) as deadline:
            async with connection:
                result = await _converse(connection, config, prompt, seen, state)
                state["step"] = "closing the connection"
    except TimeoutError as exc:
        if result is None:  # a close that outlasts the deadline takes no answer away
            if deadline.cancel_called:
                detail = f"timed out after {timeout_ms} ms {state['step']}"
            else:  # a timeout of the transport's own fired first
                spent = round((anyio.current_time() - started) * 1000)
                detail = (
                    f"timed out after {spent} ms {state['step']}: the connection's own limit,"
                    f" before the probe's {timeout_ms} ms"
                )
                detail += f"; {exc}" if str(exc) else ""
            return ProbeResult(
                ok=False,
                reason="probe_timeout",
                detail=redact(detail),
                model=config.model,
                session_id=state["session"],
                events=tuple(seen),
            )
    except HandshakeError as exc:
        return ProbeResult(
            ok=False,
            reason=_classify(None, exc.status),
            detail=redact(str(exc)),
            model=config.model,
        )
    except ConnectionClosed as exc:
        reason = "realtime_protocol_incompatible" if exc.code == 4000 else "connection_failed"
        return ProbeResult(
            ok=False,
            reason=reason,
            detail=redact(str(exc)),
            model=config.model,
            session_id=state["session"],
            events=tuple(seen),
        )
    except OSError as exc:
        return ProbeResult(
            ok=False,
            reason="connection_failed",
            detail=redact(f"{type(exc).__name__}: {exc}"),
            model=config.model,
        )
    assert result is not None  # every other way out has returned
    # The service may quote the key it refused (an invalid_api_key error): never repeat it.
    return attrs.evolve(result, detail=redact(result.detail))


async def _converse(
    connection: Transport,
    config: ModelConfig,
    prompt: str,
    seen: list[str],
    state: dict[str, str | None],
) -> ProbeResult:
    sent = False
    reply: list[str] = []
    state["step"] = "waiting for session.created"
    while True:
        try:
            event = wire.decode_server_event(await connection.receive(), dialect=config.dialect)
        except RemoteProtocolError as exc:
            seen.append("malformed")
            return _failure("realtime_protocol_incompatible", str(exc), config, state, seen)
        seen.append(event.type)
        if isinstance(event, wire.SessionCreated):
            state["session"] = _string(event.session.get("id"))
        if isinstance(event, wire.ServerError):
            detail = f"{event.error.code or event.error.type}: {event.error.message}"
            return _failure(_classify(event.error.code), detail, config, state, seen)
        if isinstance(
            event, (wire.ResponseOutputTextDelta, wire.ResponseOutputAudioTranscriptDelta)
        ):
            reply.append(event.delta)
        if isinstance(event, wire.ResponseDone):
            status = event.response.get("status")
            if status == "completed":
                return ProbeResult(
                    ok=True,
                    model=config.model,
                    session_id=state["session"],
                    events=tuple(seen),
                    reply="".join(reply),
                )
            details = event.response.get("status_details") or {}
            error = details.get("error") if isinstance(details, dict) else None
            code = error.get("code") if isinstance(error, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            detail = f"response {status}: {code or ''} {message or ''}".strip()
            return _failure(_classify(code), detail, config, state, seen)
        if not sent and isinstance(event, wire.SessionCreated):
            sent = True
            request = wire.ResponseCreate(
                event_id="probe_1",
                response={
                    "conversation": "none",
                    "output_modalities": ["text"],
                    "input": [
                        {
                            "type": "message",
                            "role": "user",
                            "content": [{"type": "input_text", "text": prompt}],
                        }
                    ],
                    "metadata": {"purpose": "realtime-sansio probe"},
                },
            )
            state["step"] = "sending response.create"
            await connection.send(wire.encode_client_event(request, dialect=config.dialect))
            state["step"] = "waiting for response.done"


def _failure(
    reason: str,
    detail: str,
    config: ModelConfig,
    state: dict[str, str | None],
    seen: list[str],
) -> ProbeResult:
    return ProbeResult(
        ok=False,
        reason=reason,
        detail=detail,
        model=config.model,
        session_id=state["session"],
        events=tuple(seen),
    )


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def format_probe_failure(result: ProbeResult) -> str:
    """One line: what failed, why, and the session id to report upstream."""
    if result.ok:
        return (
            f"probe ok: model {result.model}, session {result.session_id}, "
            f"{len(result.events)} events, reply {json.dumps(result.reply)}"
        )
    where = f" (session {result.session_id})" if result.session_id else ""
    detail = " ".join(result.detail.split())  # an HTML error page, a message with newlines
    return f"probe failed: {result.reason}{where}: {detail}"
