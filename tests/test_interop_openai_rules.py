"""The official ``openai`` package against ``serve_fake`` as it runs by default (timed like the
real server): the race of two back-to-back ``response.create`` in text mode gets the real
refusal, and each rule of the GA surface (issue 10) is answered as the API answers it, every
frame parsed by the package's models on the way (``test_interop.next_event``).

asyncio only: the ``openai`` package's realtime client uses the ``websockets`` library.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from realtime_sansio.protocol.fake import FakeServerConfig
from test_interop import fake_server, next_event, openai_client

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("anyio_backend", ["asyncio"])]

TEXT_SESSION = {"type": "realtime", "output_modalities": ["text"]}


async def until(connection: AsyncRealtimeConnection, kind: str, seen: list[Any]) -> Any:
    with anyio.fail_after(10):
        while True:
            event = await next_event(connection, seen)
            if event.type == kind:
                return event


async def test_back_to_back_response_creates_in_text_mode_meet_the_refusal() -> None:
    seen: list[Any] = []
    async with (
        fake_server(FakeServerConfig.realistic()) as port,
        openai_client(port).realtime.connect(model="gpt-realtime") as connection,
    ):
        await connection.session.update(session=TEXT_SESSION)  # type: ignore[arg-type]
        await until(connection, "session.updated", seen)
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello there"}],
            }
        )
        await connection.response.create(event_id="first")
        await connection.response.create(event_id="second")
        error = await until(connection, "error", seen)
        done = await until(connection, "response.done", seen)
    assert (error.error.code, error.error.event_id) == (
        "conversation_already_has_active_response",
        "second",
    )
    assert done.response.status == "completed"
    assert [e.type for e in seen].count("response.created") == 1


RULES: list[tuple[dict[str, Any], str, str]] = [
    (
        {"type": "session.update", "session": {"instructions": "x"}},
        "missing_required_parameter",
        "session.type",
    ),
    (
        {"type": "session.update", "session": {"type": "realtime", "include": ["everything"]}},
        "invalid_value",
        "session.include[0]",
    ),
    (
        {"type": "session.update", "session": {"type": "realtime", "reasoning": {"effort": "max"}}},
        "invalid_value",
        "session.reasoning.effort",
    ),
    (
        {
            "type": "session.update",
            "session": {"type": "realtime", "tools": [{"type": "file_search"}]},
        },
        "invalid_value",
        "session.tools[0].type",
    ),
    (
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "truncation": {"type": "retention_ratio", "retention_ratio": 1.2},
            },
        },
        "decimal_above_max_value",
        "session.truncation.retention_ratio",
    ),
    (
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"format": "pcm16"}}},
        },
        "invalid_type",
        "session.audio.input.format",
    ),
    (
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"output": {"voice": "alloy", "pitch": 2}}},
        },
        "unknown_parameter",
        "session.audio.output.pitch",
    ),
    (
        {"type": "session.update", "session": {"type": "realtime", "model": "gpt-realtime-mini"}},
        "invalid_value",
        "session.model",
    ),
    (
        {"type": "session.update", "session": {"type": "realtime", "max_output_tokens": "many"}},
        "invalid_value",
        "session.max_output_tokens",
    ),
    (
        {"type": "session.update", "session": {"type": "realtime", "tool_choice": 3}},
        "invalid_type",
        "session.tool_choice",
    ),
    (
        {
            "type": "conversation.item.truncate",
            "item_id": "item_1",
            "content_index": 0,
            "audio_end_ms": -1,
        },
        "integer_below_min_value",
        "audio_end_ms",
    ),
    (
        {
            "type": "response.create",
            "response": {"input": [{"type": "item_reference", "id": "nope"}]},
        },
        "invalid_value",
        "response.input[0].id",
    ),
]


async def test_each_rule_is_answered_as_the_api_answers_it() -> None:
    seen: list[Any] = []
    async with (
        fake_server(FakeServerConfig.realistic()) as port,
        openai_client(port).realtime.connect(model="gpt-realtime") as connection,
    ):
        await until(connection, "session.created", seen)
        for index, (event, code, param) in enumerate(RULES):
            await connection.send({**event, "event_id": f"rule_{index}"})  # type: ignore[arg-type]
            error = await until(connection, "error", seen)
            assert (error.error.code, error.error.param, error.error.event_id) == (
                code,
                param,
                f"rule_{index}",
            ), error.error.message
        # Tracing, once set, stays: the second change is refused.
        await connection.session.update(session={"type": "realtime", "tracing": "auto"})
        await until(connection, "session.updated", seen)
        await connection.session.update(
            session={"type": "realtime", "tracing": {"workflow_name": "other"}}, event_id="trace"
        )
        error = await until(connection, "error", seen)
        assert (error.error.code, error.error.param) == ("invalid_value", "session.tracing")
        # What the GA types accept is accepted.
        await connection.session.update(
            session={
                "type": "realtime",
                "output_modalities": ["text"],
                "reasoning": {"effort": "low"},
                "parallel_tool_calls": False,
                "include": ["item.input_audio_transcription.logprobs"],
                "truncation": {"type": "retention_ratio", "retention_ratio": 0.8},
                "audio": {"input": {"turn_detection": {"type": "semantic_vad"}}},
            }
        )
        updated = await until(connection, "session.updated", seen)
    detection = updated.session.audio.input.turn_detection
    assert (detection.type, detection.eagerness, detection.interrupt_response) == (
        "semantic_vad",
        "auto",
        True,
    )
    assert [e for e in seen if e.type == "error"][-1].error.event_id == "trace"
