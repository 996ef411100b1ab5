"""The h11 HTTP client, and minting an ephemeral client secret, against a loopback server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from http_helpers import against
from realtime_sansio.transports.auth import ApiKeyError
from realtime_sansio.transports.http import HttpError, mint_client_secret, request

pytestmark = pytest.mark.anyio

KEY = "sk-test-THIS-KEY-MUST-NEVER-SHOW-0123"
NO_ENV: dict[str, str] = {"CODEX_HOME": "/nonexistent-codex-home"}


async def test_a_client_secret_is_minted_with_the_key_and_the_session() -> None:
    seen: dict[str, Any] = {}

    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        seen.update(method=method, target=target, auth=headers["authorization"])
        seen["body"] = json.loads(body)
        return 200, json.dumps({"value": "ek_123", "expires_at": 1767225600}).encode()

    secret = await against(
        reply,
        lambda base: mint_client_secret(
            api_key=KEY,
            session={"type": "realtime", "model": "gpt-realtime"},
            expires_after_s=600,
            base_url=base,
            environ=NO_ENV,
        ),
    )
    assert secret["value"] == "ek_123"
    assert seen["method"] == "POST"
    assert seen["target"] == "/v1/realtime/client_secrets"
    assert seen["auth"] == f"Bearer {KEY}"
    assert seen["body"] == {
        "session": {"type": "realtime", "model": "gpt-realtime"},
        "expires_after": {"anchor": "created_at", "seconds": 600},
    }


async def test_a_refusal_is_a_clear_error_without_the_key() -> None:
    def reply(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        message = f"Incorrect API key provided: {KEY}."
        return 401, json.dumps({"error": {"message": message, "code": "invalid_api_key"}}).encode()

    with pytest.raises(HttpError) as info:
        await against(
            reply, lambda base: mint_client_secret(api_key=KEY, base_url=base, environ=NO_ENV)
        )
    assert info.value.status == 401
    assert "Incorrect API key" in str(info.value)
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)


async def test_no_key_and_no_server() -> None:
    with pytest.raises(ApiKeyError):
        await mint_client_secret(environ=NO_ENV)
    with pytest.raises(HttpError, match="cannot reach"):
        await request("GET", "http://127.0.0.1:1/", environ=NO_ENV)
    with pytest.raises(ValueError, match="http://"):
        await request("GET", "ftp://example.com/", environ=NO_ENV)
