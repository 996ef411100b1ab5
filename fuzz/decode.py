"""Coverage-guided fuzzing of ``decode_server_event`` with atheris.

    python fuzz/decode.py -runs=100000            # both dialects, bytes straight in
    python fuzz/decode.py corpus_dir -max_total_time=60

The invariant is the codec's promise: whatever the bytes, decoding returns a typed event or
raises ``RemoteProtocolError``; any other exception is a crash that atheris reports with the
input that caused it. The hypothesis tests in tests/test_wire.py hold the same invariant in CI
on machines where atheris cannot be installed.
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from realtime_sansio.protocol.errors import RemoteProtocolError
    from realtime_sansio.protocol.wire import (
        CLIENT_EVENT_CLASSES,
        SERVER_EVENT_CLASSES,
        Dialect,
        decode_client_event,
        decode_server_event,
    )
    from realtime_sansio.protocol.wire.beta import BETA_TO_GA_EVENT_NAMES

# Random bytes are almost never JSON, and the JSON parser is C (not instrumented): half of
# the inputs are instead turned into an object of a real event type with fuzzed field values.
EVENT_TYPES = sorted(
    {c.type for c in SERVER_EVENT_CLASSES}
    | {c.type for c in CLIENT_EVENT_CLASSES}
    | set(BETA_TO_GA_EVENT_NAMES)
)
FIELD_NAMES = sorted(
    {
        "event_id",
        "item_id",
        "response_id",
        "output_index",
        "content_index",
        "delta",
        "audio",
        "session",
        "item",
        "response",
        "error",
        "part",
        "previous_item_id",
        "audio_end_ms",
        "transcript",
        "arguments",
        "call_id",
        "name",
        "rate_limits",
        "usage",
        "start",
        "end",
    }
)


def fuzzed_value(fdp: Any, depth: int = 0) -> Any:
    kind = fdp.ConsumeIntInRange(0, 7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeInt(8)
    if kind == 3:
        return fdp.ConsumeRegularFloat()
    if kind == 4:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 40))
    if kind == 5:
        return [fuzzed_value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    return {
        fdp.PickValueInList([*FIELD_NAMES, "type", "format", "audio", "input"]): fuzzed_value(
            fdp, depth + 1
        )
        for _ in range(fdp.ConsumeIntInRange(0, 4))
    }


def structured(data: bytes) -> bytes:
    fdp = atheris.FuzzedDataProvider(data)
    obj: dict[str, Any] = {"type": fdp.PickValueInList(EVENT_TYPES)}
    for _ in range(fdp.ConsumeIntInRange(0, 8)):
        obj[fdp.PickValueInList(FIELD_NAMES)] = fuzzed_value(fdp)
    return json.dumps(obj).encode()


def test_one_input(data: bytes) -> None:
    # The first byte picks the dialect, the side and the mode, so one corpus covers them all.
    if not data:
        return
    selector, payload = data[0], data[1:]
    if selector & 4:
        payload = structured(payload)
    dialect: Dialect = "beta" if selector & 1 else "ga"
    decode = decode_client_event if selector & 2 else decode_server_event
    with contextlib.suppress(RemoteProtocolError):
        decode(payload, dialect=dialect)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
