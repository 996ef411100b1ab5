"""The fake server never raises on a client frame: each malformed frame gets the real server's
``error`` event (``invalid_request_error``, with the API's field path in ``param``), every
output validates against the ``openai`` package's models (``Client`` checks them), and the
server stays usable afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_helpers import Client, kinds
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig, RawFrame


def client_in(dialect: str) -> Client:
    return Client(FakeRealtimeServer(FakeServerConfig(dialect=dialect)))  # type: ignore[arg-type]


def still_answers(client: Client) -> None:
    """A valid response.create afterwards still gets a whole response."""
    out = client.frame(json.dumps({"type": "response.create"}))
    assert "response.done" in kinds(out), kinds(out)


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


GA_SESSION = {"type": "realtime"}


@pytest.mark.parametrize(
    ("dialect", "frame", "code", "param"),
    [
        # The frames, one by one.
        (
            "ga",
            {"type": "session.update", "session": {**GA_SESSION, "audio": {"output": None}}},
            "invalid_type",
            "session.audio.output",
        ),
        ("ga", deep(1000), "invalid_json", None),
        ("beta", deep(1000), "invalid_json", None),
        (
            "beta",
            {"type": "session.update", "session": {"input_audio_format": None}},
            "invalid_type",
            "session.input_audio_format",
        ),
        (
            "beta",
            {"type": "session.update", "session": {"turn_detection": {"type": {}}}},
            "invalid_type",
            "session.turn_detection.type",
        ),
        (
            "beta",
            {"type": "session.update", "session": {"turn_detection": {"type": []}}},
            "invalid_type",
            "session.turn_detection.type",
        ),
        # Their relatives: the same holes one level up or down, in the other dialect.
        (
            "ga",
            {"type": "session.update", "session": {**GA_SESSION, "audio": None}},
            "invalid_type",
            "session.audio",
        ),
        (
            "ga",
            {"type": "session.update", "session": {**GA_SESSION, "audio": {"input": []}}},
            "invalid_type",
            "session.audio.input",
        ),
        (
            "ga",
            {
                "type": "session.update",
                "session": {**GA_SESSION, "audio": {"input": {"format": None}}},
            },
            "invalid_type",
            "session.audio.input.format",
        ),
        (
            "ga",
            {
                "type": "session.update",
                "session": {**GA_SESSION, "audio": {"input": {"turn_detection": {"type": {}}}}},
            },
            "invalid_type",
            "session.audio.input.turn_detection.type",
        ),
        (
            "ga",
            {
                "type": "session.update",
                "session": {**GA_SESSION, "audio": {"input": {"turn_detection": {}}}},
            },
            "missing_required_parameter",
            "session.audio.input.turn_detection.type",
        ),
        (
            "beta",
            {"type": "session.update", "session": {"audio": {"input": {"format": None}}}},
            "unknown_parameter",
            "session.audio",
        ),
        (
            "beta",
            {"type": "session.update", "session": {"input_audio_format": "mp3"}},
            "invalid_value",
            "session.input_audio_format",
        ),
        (
            "beta",
            {
                "type": "session.update",
                "session": {"turn_detection": {"type": "server_vad", "threshold": "loud"}},
            },
            "invalid_type",
            "session.turn_detection.threshold",
        ),
        (
            "beta",
            {
                "type": "session.update",
                "session": {"turn_detection": {"type": "server_vad", "threshold": 7}},
            },
            "integer_above_max_value",
            "session.turn_detection.threshold",
        ),
        (
            # Found by the fuzz test: session.updated echoed a model beta clients cannot read.
            "beta",
            {"type": "session.update", "session": {"model": "x"}},
            "invalid_value",
            "session.model",
        ),
        (
            "ga",
            {
                "type": "session.update",
                "session": {
                    **GA_SESSION,
                    "tools": [{"type": "function", "name": "f", "parameters": []}],
                },
            },
            "invalid_type",
            "session.tools[0].parameters",
        ),
        (
            "ga",
            {"type": "response.create", "response": {"audio": None}},
            "invalid_type",
            "response.audio",
        ),
        (
            "ga",
            {"type": "response.create", "response": {"audio": {"output": {"format": []}}}},
            "invalid_type",
            "response.audio.output.format",
        ),
        (
            "beta",
            {"type": "response.create", "response": {"output_audio_format": None}},
            "invalid_type",
            "response.output_audio_format",
        ),
    ],
)
def test_a_malformed_frame_is_the_real_servers_error_never_an_exception(
    dialect: str, frame: Any, code: str, param: str | None
) -> None:
    client = client_in(dialect)
    out = client.frame(frame if isinstance(frame, str) else json.dumps(frame))
    (error,) = error_objects(out)
    assert (error["type"], error["code"], error.get("param")) == (
        "invalid_request_error",
        code,
        param,
    ), error["message"]
    still_answers(client)


def nested_schema(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"x": schema}}
    return schema


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_a_frame_nested_deeper_than_the_bound_is_refused_even_when_it_parses(
    dialect: str,
) -> None:
    # 450 levels parse (under Python's recursion limit) but used to crash later, when the
    # session was copied or the brain read the tool's schema.
    tool = {"type": "function", "name": "get_x", "parameters": nested_schema(450)}
    session: dict[str, Any] = {"tools": [tool]}
    if dialect == "ga":
        session["type"] = "realtime"
    client = client_in(dialect)
    out = client.frame(json.dumps({"type": "session.update", "session": session}))
    (error,) = error_objects(out)
    assert (error["code"], error.get("param")) == ("invalid_json", None)
    assert "nested deeper than 128 levels" in error["message"]
    still_answers(client)


def test_a_tool_schema_nested_within_the_bound_still_gets_a_call() -> None:
    # Each level of a schema is two of the frame's (an object, its properties).
    tool = {"type": "function", "name": "get_x", "parameters": nested_schema(55)}
    client = Client()
    client.update(output_modalities=["text"], tools=[tool])
    client.say("get x please")
    out = client.frame(json.dumps({"type": "response.create"}))
    assert "response.function_call_arguments.done" in kinds(out)


def error_objects(outputs: list[Any]) -> list[dict[str, Any]]:
    """The ``error`` objects of the error events among ``outputs``, as the client reads them
    (typed events in GA, ready-made frames in beta)."""
    found = []
    for output in outputs:
        if isinstance(output, wire.ServerError):
            found.append(wire.server_event_to_json(output)["error"])
        elif isinstance(output, RawFrame):
            obj = json.loads(output.text)
            if obj["type"] == "error":
                found.append(obj["error"])
    return found
