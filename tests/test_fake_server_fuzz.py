"""The fake server never raises, proven the way the decoder is: hypothesis feeds it sessions of
random and mutated client frames, in both dialects, instant, paced or timed like the real
server, with its timer fired as a host would.

The invariant, for every call: no exception; every output is a frame that parses as JSON and
validates against the ``openai`` package's models (GA, or beta for the beta dialect), or a
close; and afterwards the server still serves (a valid ``response.create`` gets a response).
The coverage-guided version of this test is ``fuzz/fake_server.py``.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from fake_helpers import check, kinds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.fake import (
    CloseConnection,
    FakeRealtimeServer,
    FakeServerConfig,
    RawFrame,
    ServerOutput,
    synthesize_speech,
)
from wire_samples import CLIENT_SAMPLES

SPEECH_B64 = base64.b64encode(synthesize_speech("Hello there, how are you?")).decode()
SILENCE_B64 = base64.b64encode(bytes(48_000)).decode()  # one second of PCM16

# Realistic events beside the samples, so that sessions reach the VAD, commits and tools.
EXTRA_SAMPLES: list[dict[str, Any]] = [
    {"type": "input_audio_buffer.append", "audio": SPEECH_B64},
    {"type": "input_audio_buffer.append", "audio": SILENCE_B64},
    {"type": "input_audio_buffer.commit", "event_id": "k1"},
    {"type": "response.create"},
    {"type": "response.cancel"},
    {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["text"],
            "audio": {"input": {"turn_detection": None, "transcription": {"model": "whisper-1"}}},
        },
    },
    {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "turn_detection": {"type": "semantic_vad", "eagerness": "high"},
                }
            },
        },
    },
    {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "What's the weather in Paris?"}],
        },
    },
    # The rest of the GA surface (issue 10): every parameter the fake now reads.
    {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "include": ["item.input_audio_transcription.logprobs"],
            "reasoning": {"effort": "low"},
            "parallel_tool_calls": True,
            "truncation": {"type": "retention_ratio", "retention_ratio": 0.5},
            "tool_choice": {"type": "function", "name": "get_weather"},
            "max_output_tokens": 5,
            "tracing": {"workflow_name": "fuzz"},
            "tools": [
                {
                    "type": "function",
                    "name": "get_weather",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                },
                {"type": "mcp", "server_label": "docs", "require_approval": "never"},
            ],
        },
    },
    {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "input": [{"type": "item_reference", "id": "item_1"}],
            "tool_choice": "required",
            "tools": [{"type": "function", "name": "lookup"}],
            "max_output_tokens": 3,
            "reasoning": {"effort": "minimal"},
            "parallel_tool_calls": False,
            "audio": {"output": {"format": {"type": "audio/pcma"}, "voice": "marin"}},
        },
    },
    {"type": "response.create", "response": {"input": [], "output_modalities": ["audio"]}},
]
SAMPLES = [*CLIENT_SAMPLES.values(), *EXTRA_SAMPLES]
# The events whose objects the fake reads deep down: mutated more often.
NESTED_SAMPLES = [
    s
    for s in SAMPLES
    if s["type"] in ("session.update", "response.create", "conversation.item.create")
]
FIELD_NAMES = sorted(
    {key for sample in SAMPLES for key in sample}
    | {"session", "response", "item", "audio", "format", "turn_detection", "type", "input"}
)


def nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels):
        value = [value]
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.just(2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
replacements = st.one_of(
    # Copied: a later mutation may add to the {} or [] this one put in.
    st.sampled_from([None, {}, [], "x"]).map(copy.deepcopy),
    st.sampled_from(["", 2**70, -1, 1e308, True, "pcm16", "audio/pcm"]),
    # Deeper than the fake's bound, within what json.dumps can write (deeper frames are text).
    st.integers(100, 600).map(nested),
    json_values,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a mutation can hit (the root's children down, not inside
    the deep nesting an earlier mutation put there)."""
    if isinstance(value, dict):
        children: Any = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return []
    found: list[tuple[Any, ...]] = []
    for key, child in children:
        found.append((*prefix, key))
        if len(prefix) < 8:
            found += paths(child, (*prefix, key))
    return found


def at(value: Any, path: Any) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def mutated(draw: st.DrawFn, dialect: str) -> dict[str, Any]:
    """A real client event (in the dialect's shapes) with a few values replaced by null, {},
    [], a string, a huge number or deep nesting; keys dropped; keys added."""
    sample = copy.deepcopy(draw(st.sampled_from(SAMPLES) | st.sampled_from(NESTED_SAMPLES)))
    obj = wire.client_event_to_json(sample, dialect=dialect)  # type: ignore[arg-type]
    for _ in range(draw(st.integers(0, 3))):
        spots = paths(obj)
        # Half the time an object or an array: where a null, {} or [] crashes a reader.
        containers = [p for p in spots if isinstance(at(obj, p), dict | list)]
        if containers and draw(st.booleans()):
            spots = containers
        if not spots:
            break
        *parents, last = draw(st.sampled_from(spots))
        parent = at(obj, parents)
        action = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if action == "replace":
            parent[last] = draw(replacements)
        elif action == "drop":
            del parent[last]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(FIELD_NAMES))] = draw(replacements)
        else:
            parent.append(draw(replacements))
    return obj


def frames(dialect: str) -> st.SearchStrategy[str]:
    typed = st.fixed_dictionaries(
        {"type": st.sampled_from(sorted(cls.type for cls in wire.CLIENT_EVENT_CLASSES))},
        optional={name: json_values for name in FIELD_NAMES if name != "type"},
    )
    return st.one_of(
        mutated(dialect).map(json.dumps),
        mutated(dialect).map(json.dumps),
        typed.map(json.dumps),
        json_values.map(json.dumps),
        st.text(max_size=12),
        # Deeper than any recursion limit (hypothesis raises the limit while a test runs).
        st.sampled_from([200, 1_000, 100_000]).map(lambda n: "[" * n + "]" * n),
    )


def checked(outputs: list[ServerOutput], dialect: str) -> list[ServerOutput]:
    for output in outputs:
        assert isinstance(output, wire.ServerEventBase | RawFrame | CloseConnection), output
        if isinstance(output, RawFrame):
            json.loads(output.text)  # no script here: every raw frame is an event
    return check(outputs, dialect=dialect)


def drive(server: FakeRealtimeServer, steps: list[tuple[str, float, bool]], dialect: str) -> float:
    """Connect, then each frame (``dt`` seconds after the last), firing the timer when it is
    due, or early when the step asks (a slow host; never as far as the session's expiry, so
    the server is still open at the end); returns the clock."""
    now = 0.0
    checked(server.connected(now), dialect)
    for text, dt, early in steps:
        now += dt
        deadline = server.get_timer()
        fire_early = early
        while deadline is not None and (deadline <= now or (fire_early and deadline < now + 60)):
            now = max(now, deadline)
            fire_early = False  # once at most
            checked(server.timer(now), dialect)
            deadline = server.get_timer()
        checked(server.receive(text, now), dialect)
    return now


def still_serves(server: FakeRealtimeServer, now: float, dialect: str) -> None:
    """Let active responses end on the timer, then a valid response.create gets one."""
    for _ in range(10_000):
        deadline = server.get_timer()
        if not server.model.active_response_ids or deadline is None:
            break
        now = max(now, deadline)
        checked(server.timer(now), dialect)
    out = checked(server.receive(json.dumps({"type": "response.create"}), now), dialect)
    assert "response.created" in kinds(out), kinds(out)


def fuzz_sessions(dialect: str, examples: int = 200) -> Callable[..., None]:
    """The fuzz test for one dialect (more ``examples`` for a longer hunt than CI's)."""

    @settings(max_examples=examples, suppress_health_check=[HealthCheck.too_slow])
    @given(
        steps=st.lists(
            st.tuples(frames(dialect), st.sampled_from([0.0, 0.02, 0.3, 2.0]), st.booleans()),
            min_size=1,
            max_size=8,
        ),
        timing=st.sampled_from(["instant", "real time", "realistic"]),
    )
    def run(steps: list[tuple[str, float, bool]], timing: str) -> None:
        config = {
            "instant": FakeServerConfig(dialect=dialect),  # type: ignore[arg-type]
            "real time": FakeServerConfig(dialect=dialect, pace=1.0),  # type: ignore[arg-type]
            "realistic": FakeServerConfig.realistic(dialect=dialect),
        }[timing]
        server = FakeRealtimeServer(config)
        now = drive(server, steps, dialect)
        still_serves(server, now, dialect)

    return run


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_random_and_mutated_frames_never_make_the_fake_raise(dialect: str) -> None:
    fuzz_sessions(dialect)()
