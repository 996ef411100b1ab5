"""What the fuzz harnesses share: instrumenting the wire's generated codecs, fuzzed JSON values,
and mutating real events at fuzzer-chosen places.

This module imports no part of the library at import time: a harness imports the library
inside ``atheris.instrument_imports()`` first, so that it is instrumented, and then calls
``instrument_codecs()``.
"""

from __future__ import annotations

import os
from typing import Any

import atheris

__all__ = [
    "FIELD_NAMES",
    "INSTRUMENTED",
    "fuzzed_value",
    "instrument_codecs",
    "mutate",
]

INSTRUMENTED = ["realtime_sansio"]
"""What ``atheris.instrument_imports(include=...)`` instruments: the library, not numpy."""

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
        "type",
        "format",
        "input",
        "output",
        "turn_detection",
        "tools",
        "content",
        "status",
    }
)


def instrument_codecs() -> int:
    """Instrument the wire's decoders and encoders, which ``exec`` built and the import hook
    cannot see; returns how many. ``FUZZ_PLAIN_CODECS=1`` in the environment leaves them
    alone, to measure what the instrumentation adds (compare the ``cov:`` figures)."""
    from realtime_sansio.protocol.wire._schema import generated_functions

    if os.environ.get("FUZZ_PLAIN_CODECS") == "1":
        return 0
    functions = generated_functions()
    for function in functions:
        atheris.instrument_func(function)
    return len(functions)


def fuzzed_value(fdp: Any, depth: int = 0) -> Any:
    """Any JSON value, nested a few levels."""
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
        fdp.PickValueInList(FIELD_NAMES): fuzzed_value(fdp, depth + 1)
        for _ in range(fdp.ConsumeIntInRange(0, 4))
    }


def _replacement(fdp: Any) -> Any:
    kind = fdp.ConsumeIntInRange(0, 7)
    if kind == 0:
        return None
    if kind == 1:
        return {}
    if kind == 2:
        return []
    if kind == 3:
        return fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 12))
    if kind == 4:
        return fdp.PickValueInList([2**70, -1, 0, 1e308, True, "pcm16", "audio/pcm"])
    if kind == 5:
        nested: Any = []
        for _ in range(fdp.ConsumeIntInRange(100, 600)):
            nested = [nested]
        return nested
    return fuzzed_value(fdp)


def _places(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
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
            found += _places(child, (*prefix, key))
    return found


def mutate(fdp: Any, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` (changed in place) with up to three values replaced (by null, {}, [], a string,
    a huge number, deep nesting or any value), keys dropped, or keys added."""
    for _ in range(fdp.ConsumeIntInRange(0, 3)):
        places = _places(obj)
        if not places:
            break
        *path, last = fdp.PickValueInList(places)
        parent: Any = obj
        for key in path:
            parent = parent[key]
        action = fdp.ConsumeIntInRange(0, 3)
        if action <= 1:
            parent[last] = _replacement(fdp)
        elif action == 2:
            del parent[last]
        elif isinstance(parent, dict):
            parent[fdp.PickValueInList(FIELD_NAMES)] = _replacement(fdp)
        else:
            parent.append(_replacement(fdp))
    return obj
