"""The codec's two paths (``wire.speedups``: the standard library, or orjson and pybase64) give
the same results: the same values, and the same errors for the same bad input."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import wire_samples as samples
from hypothesis import given, settings
from hypothesis import strategies as st
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.errors import RemoteProtocolError
from realtime_sansio.protocol.wire import speedups

pytestmark = pytest.mark.skipif(
    not speedups.AVAILABLE, reason="the speed extra (orjson, pybase64) is not installed"
)


def on_path(fast: bool, function: Callable[[], Any]) -> Any:
    """``function()`` on one path: its value, or its exception's type and text."""
    was = speedups.active()
    speedups.use(fast)
    try:
        return ("value", function())
    except (ValueError, RecursionError, RemoteProtocolError) as exc:
        return ("error", type(exc).__name__, str(exc))
    finally:
        speedups.use(was)


def both(function: Callable[[], Any]) -> tuple[Any, Any]:
    return on_path(False, function), on_path(True, function)


def same(a: Any, b: Any) -> bool:
    """The same values: repr tells -0.0 from 0.0, 1 from 1.0, and sees NaN as itself."""
    return repr(a) == repr(b)


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    was = speedups.active()
    yield
    speedups.use(was)


def test_the_switch_reports_what_it_did() -> None:
    assert speedups.use(True) is True
    assert speedups.active()
    assert speedups.use(False) is False
    assert not speedups.active()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)

# Pieces that the two parsers might treat differently, glued into texts at random.
TRICKY = [
    "NaN",
    "-Infinity",
    "Infinity",
    "1e400",
    "-0",
    "-0.0",
    "1E5",
    "0.1",
    "18446744073709551616",
    "-9223372036854775809",
    "123456789012345678901234567890",
    '"\\ud800"',
    '"\\udc00\\ud800"',
    '"\\u0000"',
    '"\x01"',
    "\ufeff",
    " ",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    '"a"',
    '"type"',
    "true",
    "false",
    "null",
    "tru",
    "01",
    "1.",
    ".5",
    "+1",
    "[1,]",
    '{"a":1,"a":2}',
    "\ud800",
]


@settings(max_examples=400)
@given(json_values)
def test_json_texts_parse_the_same(value: Any) -> None:
    text = json.dumps(value)
    fast, stdlib = (
        on_path(True, lambda: speedups.loads(text)),
        on_path(False, lambda: speedups.loads(text)),
    )
    assert same(fast, stdlib)


@settings(max_examples=600)
@given(st.lists(st.sampled_from(TRICKY) | st.text(max_size=3), max_size=8))
def test_odd_texts_parse_or_fail_the_same(pieces: list[str]) -> None:
    text = "".join(pieces)
    fast, stdlib = (
        on_path(True, lambda: speedups.loads(text)),
        on_path(False, lambda: speedups.loads(text)),
    )
    assert same(fast, stdlib), (text, fast, stdlib)


def test_deep_nesting_fails_or_parses_the_same() -> None:
    # json's limit is the recursion limit less the stack in use: only json decides deep text.
    for depth in (10, 63, 64, 65, 66, 256, 1023, 1024, 1025, 5000, 100_000):
        for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
            fast, stdlib = both(lambda text=text: speedups.loads(text))
            assert fast == stdlib, depth


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@settings(max_examples=800)
@given(st.text(alphabet=B64 + "=\n -_.é", max_size=24))
def test_base64_texts_decode_or_fail_the_same(text: str) -> None:
    fast = on_path(True, lambda: speedups.b64decode(text))
    stdlib = on_path(False, lambda: speedups.b64decode(text))
    assert fast[0] == stdlib[0], (text, fast, stdlib)
    if fast[0] == "value":
        assert fast == stdlib


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_base64_encodes_the_same(data: bytes) -> None:
    for view in (data, bytearray(data), memoryview(data)):
        fast, stdlib = both(lambda view=view: speedups.b64encode(view))
        assert fast == stdlib == ("value", base64.b64encode(data).decode())
        text = fast[1]
        assert on_path(True, lambda text=text: speedups.b64decode(text)) == ("value", data)


@pytest.mark.parametrize("event_type", sorted(samples.SERVER_SAMPLES))
def test_every_server_event_decodes_to_the_same_event(event_type: str) -> None:
    text = json.dumps(samples.SERVER_SAMPLES[event_type])
    fast, stdlib = both(lambda: wire.decode_server_event(text))
    assert fast == stdlib and fast[0] == "value"
    encoded = both(lambda: wire.encode_server_event(fast[1]))
    assert encoded[0] == encoded[1]  # the same text, not only the same JSON


@settings(max_examples=300)
@given(st.sampled_from(sorted(samples.SERVER_SAMPLES)), st.sampled_from(TRICKY), st.data())
def test_damaged_server_events_fail_the_same(
    event_type: str, junk: str, data: st.DataObject
) -> None:
    text = json.dumps(samples.SERVER_SAMPLES[event_type])
    cut = data.draw(st.integers(0, len(text)))
    damaged = text[:cut] + junk + text[cut:]
    fast, stdlib = both(lambda: wire.decode_server_event(damaged))
    assert fast[0] == stdlib[0]
    assert same(fast, stdlib)


# The events whose decoder checks every value it keeps (``Codec.decode_flat``): orjson's parse is
# trusted there without a walk, so the values json and orjson could disagree on are put into
# their fields and beside them.
FLAT_TYPES = sorted(
    t for t in samples.SERVER_SAMPLES if wire.codec._SERVER[t].decode_flat is not None
)
ODD_VALUES = [
    "18446744073709551616",  # past 64 bits: orjson's float, json's int
    "9223372036854775808",
    "-9223372036854775809",
    "123456789012345678901234567890",
    "1e400",
    "1.0",
    "-0",
    '"\\ud800"',
    '"\\u0000"',
    '"AAA="',
    '"0000="',
    "[" * 70 + "]" * 70,  # deeper than the walk trusts
    "[" * 1020 + "]" * 1020,  # past json's recursion limit, within orjson's
    '{"a":' * 70 + "1" + "}" * 70,
    "[1, 2.5]",
    "null",
    "true",
]


def test_the_hot_events_take_the_unchecked_path() -> None:
    # The figure bench/session.py reports rests on these: every audio and transcript delta.
    for event_type in (
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.output_text.delta",
        "response.function_call_arguments.delta",
    ):
        assert event_type in FLAT_TYPES


def test_flat_events_with_odd_values_decode_or_fail_the_same() -> None:
    # Every flat event, with each of its fields (and a key beside them) set to each odd value:
    # a few thousand decodes, each both ways.
    for event_type in FLAT_TYPES:
        sample = samples.SERVER_SAMPLES[event_type]
        for key in [*(k for k in sample if k != "type"), "extra"]:
            rest = json.dumps({k: v for k, v in sample.items() if k != key})
            for odd in ODD_VALUES:
                text = rest[:-1] + f', "{key}": {odd}' + "}"
                fast, stdlib = both(lambda text=text: wire.decode_server_event(text))
                assert same(fast, stdlib), (text[:200], fast, stdlib)
