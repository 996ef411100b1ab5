"""The codec's optional accelerators: orjson and pybase64 (the ``speed`` extra).

``pip install "realtime-sansio[speed]"`` installs them.

When both are importable the codec parses frames with ``orjson.loads`` and decodes and encodes
audio with ``pybase64``; otherwise with the standard library (``json``, ``binascii``). The
results are the same either way, values and errors alike:

- JSON text that orjson refuses (``NaN``, ``Infinity``, lone surrogates, nesting past its
  limit, malformed text) goes to ``json`` after all, which accepts it or raises its own error:
  the standard library's answer, whatever orjson thought. So does text that gave a float
  outside +-2**63: orjson reads an integer past 64 bits as a float, ``json`` as an ``int``.
  And so does text nested deeper than ``MAX_FAST_DEPTH``: the two nest to different depths
  (orjson to 1,024, json to what is left of the recursion limit), and only json's limit is
  the standard library's answer. Both checks are one walk over the parsed values (a few
  dozen in a realtime event), far cheaper than a scan of the text. The codec skips even the
  walk for the events whose every field is a string, integer, boolean or base64 text (the
  audio and transcript deltas among them): its decoder checks each value it keeps, takes an
  object with no other key, and leaves the rest to the walk or to json (``unchecked_loads``).
- base64 decodes in strict mode either way: what ``pybase64.b64decode(validate=True)``
  accepts, ``binascii.a2b_base64(strict_mode=True)`` accepts alike (a test checks it); what it
  refuses goes to binascii, which decides (it takes a few odd endings, such as ``"0000="``).
  Encoding is standard base64 in both.
- Frames are still written by ``json`` (its exact text: separators, float and escape spelling
  differ in orjson), so a recording is the same text on both paths.

``use(on)`` switches the path for the whole process (tests run the codec both ways); it
returns whether the accelerators are now in use (False when asked for and not installed).
Pure: neither library does I/O.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - the speed extra is optional
    orjson = None  # type: ignore[assignment]
try:
    import pybase64
except ImportError:  # pragma: no cover
    pybase64 = None  # type: ignore[assignment]

__all__ = [
    "AVAILABLE",
    "active",
    "agrees_with_json",
    "b64decode",
    "b64encode",
    "bind",
    "loads",
    "unchecked_loads",
    "use",
]

AVAILABLE = orjson is not None and pybase64 is not None
"""Whether the speed extra is installed."""

_json_loads = json.JSONDecoder().decode


def _std_b64decode(data: str) -> bytes:
    return binascii.a2b_base64(data, strict_mode=True)


def _std_b64encode(data: bytes | bytearray | memoryview) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


_INT64 = float(2**63)
MAX_FAST_DEPTH = 64
"""Values nested deeper than this are parsed by ``json`` (see the module doc)."""


def _fast_loads(text: str) -> Any:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses, json decides (see the module doc)
        return _json_loads(text)
    return value if agrees_with_json(value) else _json_loads(text)


def agrees_with_json(value: Any) -> bool:
    """Whether ``value``, parsed by orjson, is what ``json`` gives for the same text: no float
    at or past 2**63 (which may be an integer orjson rounded), no nesting deeper than
    ``MAX_FAST_DEPTH`` (where json's recursion limit may differ)."""
    kind = type(value)
    if kind is dict or kind is list:
        return _nested_agree(value, 1)
    return kind is not float or -_INT64 < value < _INT64


def _nested_agree(value: Any, depth: int) -> bool:
    if depth > MAX_FAST_DEPTH:
        return False
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is dict or kind is list:
            if not _nested_agree(item, depth + 1):
                return False
        elif kind is float and not -_INT64 < item < _INT64:
            return False
    return True


def _fast_b64decode(data: str) -> bytes:
    try:
        # Positional (altchars, validate): pybase64's keyword parsing costs a third as much
        # again as decoding a 100 ms delta.
        return pybase64.b64decode(data, None, True)
    except ValueError:  # what pybase64 refuses, binascii decides (it is laxer at the end)
        return _std_b64decode(data)


def _fast_b64encode(data: bytes | bytearray | memoryview) -> str:
    return pybase64.b64encode_as_string(data)


loads: Callable[[str], Any] = _json_loads
"""Parse one JSON text (the codec calls it as ``speedups.loads``)."""
unchecked_loads: Callable[[str], Any] | None = None
"""orjson's own parse while the accelerators are in use, else None: what it returns is the
standard library's answer only where ``agrees_with_json`` says so, or where the caller checks
as much itself (the codec's decoders of scalar-only events: ``wire.codec``). It raises
``ValueError`` for text that json must decide."""
b64decode: Callable[[str], bytes] = _std_b64decode
"""Strict base64 to bytes (``ValueError`` for anything else)."""
b64encode: Callable[[bytes | bytearray | memoryview], str] = _std_b64encode
"""Bytes to standard base64 text."""

_namespaces: list[dict[str, Any]] = []
_active = False


def bind(namespace: dict[str, Any]) -> None:
    """Give generated code (``_schema``) the current base64 functions, now and on each switch."""
    namespace["_b64decode"] = b64decode
    namespace["_b64encode"] = b64encode
    _namespaces.append(namespace)


def active() -> bool:
    """Whether the codec uses the accelerators now."""
    return _active


def use(on: bool) -> bool:
    """Use the accelerators (when installed) or the standard library; returns ``active()``."""
    global loads, unchecked_loads, b64decode, b64encode, _active
    _active = on and AVAILABLE
    if _active:
        loads, b64decode, b64encode = _fast_loads, _fast_b64decode, _fast_b64encode
        unchecked_loads = orjson.loads
    else:
        loads, b64decode, b64encode = _json_loads, _std_b64decode, _std_b64encode
        unchecked_loads = None
    for namespace in _namespaces:
        namespace["_b64decode"] = b64decode
        namespace["_b64encode"] = b64encode
    return _active


use(True)
