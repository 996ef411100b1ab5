"""The fake accepts exactly the GA surface: what the ``openai`` package's request types accept,
it accepts; what they refuse, it refuses with the real error shape and a precise ``param``;
and what it echoes (``session.created``, ``session.updated``) validates against the GA union.

The first test walks the ``openai`` package's TypedDicts for ``session.update`` and
``response.create`` and compares their keys, at every depth, with the fake's shapes
(``protocol/fake/_surface.py``): a key the types gained, or one the fake invented, fails it.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

import oracle
import pytest
from fake_helpers import Client, errors, kinds, one
from openai.types.realtime import (
    realtime_response_create_params_with_references_param as response_params,
)
from openai.types.realtime import realtime_session_create_request_param as session_params
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig
from realtime_sansio.protocol.fake._shapes import Shape
from realtime_sansio.protocol.fake._surface import GA_RESPONSE, GA_SESSION
from typing_extensions import is_typeddict

# Where either side stops describing keys: items are checked by item_problem; a schema, a
# tracing metadata object and a prompt's variables are free-form.
_FREE = ("response.input", ".parameters", "tracing.metadata", "prompt.variables", ".headers")


def _typed_keys(annotation: Any, path: str, out: set[str], seen: set[Any]) -> None:
    if path.endswith(_FREE):
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Required, typing.NotRequired):
        _typed_keys(args[0], path, out, seen)
    elif is_typeddict(annotation):
        if (annotation, path) in seen:
            return
        seen.add((annotation, path))
        for key, value in typing.get_type_hints(annotation).items():
            out.add(f"{path}.{key}")
            _typed_keys(value, f"{path}.{key}", out, seen)
    elif origin is typing.Union or str(origin) == "types.UnionType":
        for arg in args:
            _typed_keys(arg, path, out, seen)
    elif origin is not None and origin is not typing.Literal and args and origin is not dict:
        for arg in args:  # List, Iterable, SequenceNotStr...
            _typed_keys(arg, f"{path}[]", out, seen)


def _shape_keys(shape: Shape, path: str, out: set[str]) -> None:
    if path.endswith(_FREE):
        return
    for variant in (shape.variants or {}).values():
        _shape_keys(variant, path, out)
    for key, field in (shape.fields or {}).items():
        out.add(f"{path}.{key}")
        _shape_keys(field, f"{path}.{key}", out)
    if shape.items is not None:
        _shape_keys(shape.items, f"{path}[]", out)


@pytest.mark.parametrize(
    ("typed", "shape", "path"),
    [
        (session_params.RealtimeSessionCreateRequestParam, GA_SESSION, "session"),
        (response_params.RealtimeResponseCreateParamsWithReferencesParam, GA_RESPONSE, "response"),
    ],
)
def test_the_shapes_have_every_key_of_the_openai_types_and_no_other(
    typed: Any, shape: Shape, path: str
) -> None:
    theirs: set[str] = set()
    _typed_keys(typed, path, theirs, set())
    ours: set[str] = set()
    _shape_keys(shape, path, ours)
    assert sorted(theirs - ours) == [], "keys the GA types accept and the fake refuses"
    assert sorted(ours - theirs) == [], "keys the fake accepts and the GA types do not have"


def update(session: dict[str, Any], event_id: str = "u1") -> str:
    return json.dumps({"type": "session.update", "event_id": event_id, "session": session})


REALTIME = {"type": "realtime"}


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        # Five of these were accepted, and echoed in a session.updated the GA union refuses.
        ({**REALTIME, "include": ["bogus"]}, "invalid_value", "session.include[0]"),
        (
            {**REALTIME, "reasoning": {"effort": "huge"}},
            "invalid_value",
            "session.reasoning.effort",
        ),
        ({**REALTIME, "tools": [{"type": "web_search"}]}, "invalid_value", "session.tools[0].type"),
        (
            {**REALTIME, "truncation": {"type": "retention_ratio", "retention_ratio": 1.5}},
            "decimal_above_max_value",
            "session.truncation.retention_ratio",
        ),
        (
            {**REALTIME, "truncation": {"type": "retention_ratio"}},
            "missing_required_parameter",
            "session.truncation.retention_ratio",
        ),
        ({"instructions": "Be brief."}, "missing_required_parameter", "session.type"),
        ({"type": "conversation"}, "invalid_value", "session.type"),
        (
            {**REALTIME, "audio": {"input": {"format": "pcm16"}}},
            "invalid_type",
            "session.audio.input.format",
        ),
        (
            {**REALTIME, "audio": {"output": {"format": {"type": "pcm16"}}}},
            "invalid_value",
            "session.audio.output.format.type",
        ),
        (
            {**REALTIME, "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            "invalid_value",
            "session.audio.input.format.rate",
        ),
        # Unknown keys at any depth.
        (
            {**REALTIME, "tools": [{"type": "function", "name": "f", "strict": True}]},
            "unknown_parameter",
            "session.tools[0].strict",
        ),
        (
            {**REALTIME, "tools": [{"type": "mcp", "server_label": "x", "bogus": 1}]},
            "unknown_parameter",
            "session.tools[0].bogus",
        ),
        (
            {**REALTIME, "truncation": {"type": "retention_ratio", "retention_ratio": 0.5, "x": 1}},
            "unknown_parameter",
            "session.truncation.x",
        ),
        (
            {**REALTIME, "tool_choice": {"type": "function", "name": "f", "strict": True}},
            "unknown_parameter",
            "session.tool_choice.strict",
        ),
        (
            {**REALTIME, "reasoning": {"summary": "auto"}},
            "unknown_parameter",
            "session.reasoning.summary",
        ),
        # Wrong JSON types, and values outside the API's ranges.
        ({**REALTIME, "parallel_tool_calls": "yes"}, "invalid_type", "session.parallel_tool_calls"),
        (
            {**REALTIME, "include": "item.input_audio_transcription.logprobs"},
            "invalid_type",
            "session.include",
        ),
        (
            {**REALTIME, "max_output_tokens": 5000},
            "integer_above_max_value",
            "session.max_output_tokens",
        ),
        (
            {**REALTIME, "max_output_tokens": 0},
            "integer_below_min_value",
            "session.max_output_tokens",
        ),
        ({**REALTIME, "max_output_tokens": "lots"}, "invalid_value", "session.max_output_tokens"),
        (
            {**REALTIME, "tool_choice": {"type": "function"}},
            "missing_required_parameter",
            "session.tool_choice.name",
        ),
        ({**REALTIME, "tracing": "on"}, "invalid_value", "session.tracing"),
        (
            {**REALTIME, "audio": {"input": {"noise_reduction": {"type": "loud_field"}}}},
            "invalid_value",
            "session.audio.input.noise_reduction.type",
        ),
    ],
)
def test_what_the_ga_types_refuse_is_refused_with_a_precise_param(
    session: dict[str, Any], code: str, param: str
) -> None:
    client = Client()
    out = client.frame(update(session))
    (error,) = errors(out)
    assert (error.type, error.code, error.param, error.event_id) == (
        "invalid_request_error",
        code,
        param,
        "u1",
    ), error.message
    assert kinds(out) == ["error"]
    assert client.server.model.session["instructions"] != "Be brief."  # nothing applied
    assert not re.search(r"\b[A-Z][a-z]+[A-Z]\w*", error.message), error.message


def test_the_session_keeps_its_model_and_its_tracing_once_set() -> None:
    server = FakeRealtimeServer(model="gpt-realtime-mini")
    client = Client(server)
    assert client.opening[0].session["model"] == "gpt-realtime-mini"
    (error,) = errors(client.update(model="gpt-realtime"))
    assert (error.code, error.param) == ("invalid_value", "session.model")
    assert errors(client.update(model="gpt-realtime-mini")) == []  # the same model is no change

    assert errors(client.update(tracing={"workflow_name": "support"})) == []
    (error,) = errors(client.update(tracing={"workflow_name": "sales"}))
    assert (error.code, error.param) == ("invalid_value", "session.tracing")
    (error,) = errors(client.update(tracing=None))
    assert (error.code, error.param) == ("invalid_value", "session.tracing")
    assert errors(client.update(tracing={"workflow_name": "support"})) == []


def test_without_a_url_the_first_session_update_names_the_model() -> None:
    client = Client()  # in memory: no ?model= to read
    assert errors(client.update(model="gpt-realtime-mini")) == []
    (error,) = errors(client.update(model="gpt-realtime"))
    assert (error.code, error.param) == ("invalid_value", "session.model")


def test_a_negative_truncation_point_is_refused() -> None:
    client = Client()
    frame = {
        "type": "conversation.item.truncate",
        "event_id": "t1",
        "item_id": "item_1",
        "content_index": 0,
        "audio_end_ms": -5,
    }
    (error,) = errors(client.frame(json.dumps(frame)))
    assert (error.code, error.param, error.event_id) == (
        "integer_below_min_value",
        "audio_end_ms",
        "t1",
    )
    assert error.message == (
        "Invalid 'audio_end_ms': integer below minimum value. Expected a value >= 0, but got -5"
        " instead."
    )


def test_session_created_is_the_real_servers() -> None:
    server = FakeRealtimeServer(model="gpt-realtime", epoch=1_765_000_000.0)
    created = one(Client(server).opening, wire.SessionCreated).session
    assert created["audio"]["input"]["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }
    assert (created["truncation"], created["prompt"], created["include"], created["tracing"]) == (
        "auto",
        None,
        None,
        None,
    )
    assert created["expires_at"] == 1_765_000_000 + 3600
    assert created["instructions"].startswith("Your knowledge cutoff is 2023-10.")
    oracle.validate_server_event(
        wire.server_event_to_json(one(Client(server).opening, wire.SessionCreated))
    )


@pytest.mark.parametrize(
    ("detection", "expected"),
    [
        (
            {"type": "server_vad"},
            {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 200,
                "idle_timeout_ms": None,
                "create_response": True,
                "interrupt_response": True,
            },
        ),
        (
            {"type": "server_vad", "silence_duration_ms": 700, "interrupt_response": False},
            {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 700,
                "idle_timeout_ms": None,
                "create_response": True,
                "interrupt_response": False,
            },
        ),
        (
            {"type": "semantic_vad"},
            {
                "type": "semantic_vad",
                "eagerness": "auto",
                "create_response": True,
                "interrupt_response": True,
            },
        ),
        (None, None),
    ],
)
def test_session_updated_shows_the_turn_detection_defaults(
    detection: dict[str, Any] | None, expected: dict[str, Any] | None
) -> None:
    # openai-agents reads interrupt_response from session.updated: a bare type must show it.
    client = Client()
    updated = one(
        client.update(audio={"input": {"turn_detection": detection}}), wire.SessionUpdated
    )
    assert updated.session["audio"]["input"]["turn_detection"] == expected


def test_what_the_ga_types_accept_on_response_create_is_accepted() -> None:
    client = Client(FakeRealtimeServer(FakeServerConfig(brain=True)))
    client.say("Hello")
    item_id = client.server.model.last_item_id
    response = {
        "conversation": "none",
        "reasoning": {"effort": "low"},
        "parallel_tool_calls": False,
        "output_modalities": ["text"],
        "input": [{"type": "item_reference", "id": item_id}],
    }
    out = client.send(wire.ResponseCreate(response=response))
    assert errors(out) == []
    done = one(out, wire.ResponseDone)
    assert done.response["output"][0]["content"][0]["text"].startswith("You said: Hello.")


def test_an_item_reference_to_no_item_is_refused() -> None:
    client = Client()
    response = {"input": [{"type": "item_reference", "id": "item_404"}]}
    (error,) = errors(client.send(wire.ResponseCreate(event_id="r1", response=response)))
    assert (error.code, error.param, error.event_id) == (
        "invalid_value",
        "response.input[0].id",
        "r1",
    )
    response = {"input": [{"type": "item_reference"}]}
    (error,) = errors(client.send(wire.ResponseCreate(response=response)))
    assert (error.code, error.param) == ("missing_required_parameter", "response.input[0].id")


def test_transcript_deltas_carry_an_obfuscation_as_the_real_servers_do() -> None:
    client = Client()
    out = client.send(wire.ResponseCreate(response={"output_modalities": ["audio"]}))
    deltas = [o for o in out if isinstance(o, wire.ResponseOutputAudioTranscriptDelta)]
    assert deltas and all(d.obfuscation for d in deltas)
    assert len({d.obfuscation for d in deltas}) == len(deltas)
    again = Client().send(wire.ResponseCreate(response={"output_modalities": ["audio"]}))
    assert [o.obfuscation for o in again if isinstance(o, type(deltas[0]))] == [
        d.obfuscation for d in deltas
    ]  # deterministic


@pytest.mark.parametrize(
    ("item", "code", "param", "message"),
    [
        (
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": 5}]},
            "invalid_type",
            "item.content[0].text",
            "Invalid type for 'item.content[0].text': expected a string, but got an integer"
            " instead.",
        ),
        (
            {"type": "message", "role": "user", "content": "hello"},
            "invalid_type",
            "item.content",
            "Invalid type for 'item.content': expected an array, but got a string instead.",
        ),
        (
            {"type": "function_call_output", "call_id": 3, "output": "x"},
            "invalid_type",
            "item.call_id",
            "Invalid type for 'item.call_id': expected a string, but got an integer instead.",
        ),
        (
            {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "!"}]},
            "invalid_type",
            "item.content[0].audio",
            "Invalid type for 'item.content[0].audio': expected base64-encoded audio.",
        ),
        (
            {
                "type": "message",
                "role": "assistant",
                "status": "weird",
                "content": [{"type": "output_text", "text": "x"}],
            },
            "invalid_value",
            "item.status",
            "Invalid value: 'weird'. Supported values are: 'completed', 'incomplete',"
            " 'in_progress'.",
        ),
    ],
)
def test_an_item_of_the_wrong_json_type_is_invalid_type_in_the_apis_words(
    item: dict[str, Any], code: str, param: str, message: str
) -> None:
    # Regression: these were invalid_value, worded by the library's item reader.
    (error,) = errors(Client().send(wire.ConversationItemCreate(item=item)))
    assert (error.code, error.param, error.message) == (code, param, message)
