"""Compiles a decoder and an encoder for each wire event class from its attrs fields.

Why generate code: decoding sits on the per-frame hot path (a 100 ms audio delta every 100 ms,
transcript deltas far more often). A generic loop over field descriptors costs several times
the ``json.loads`` it follows; straight-line code specialised per class costs little more than
the constructor call. The generated source is small and built once, at import.

The field types the wire uses are few: ``str``, ``int``, ``float``, ``bool``, ``bytes``
(base64 on the wire, decoded exactly once, here), a JSON object (``dict[str, Any]``), a list of
JSON objects, ``Any``, a nested attrs class, and any of these ``| None``. A field with no
default is required; ``None`` optionals are omitted when encoding.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from .._repr import json_kind
from .._slots import slot_setters
from ..errors import LocalProtocolError, RemoteProtocolError
from . import speedups

__all__ = ["Codec", "compile_codec", "generated_functions"]

T = TypeVar("T")


@attrs.frozen(slots=True)
class _Field:
    name: str
    kind: str  # str, int, float, bool, bytes, dict, list, any, nested
    optional: bool
    required: bool
    nested: type | None = None


def _classify(cls: type, field: attrs.Attribute[Any]) -> _Field:
    annotation = field.type
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) != len(typing.get_args(annotation)) - 1 or len(args) != 1:
            raise TypeError(f"{cls.__name__}.{field.name}: unsupported union {annotation}")
        optional = True
        annotation = args[0]
        origin = typing.get_origin(annotation)
    nested = None
    if annotation in (str, int, float, bool, bytes):
        kind = annotation.__name__
    elif annotation is Any:
        kind = "any"
    elif annotation is dict or origin is dict:
        kind = "dict"
    elif annotation is list or origin is list:
        kind = "list"
    elif isinstance(annotation, type) and attrs.has(annotation):
        kind = "nested"
        nested = annotation
    else:
        raise TypeError(f"{cls.__name__}.{field.name}: unsupported type {annotation}")
    required = field.default is attrs.NOTHING
    return _Field(field.name, kind, optional, required, nested)


@attrs.frozen(slots=True)
class Codec:
    """The compiled pair for one class: JSON object -> instance, instance -> JSON object."""

    cls: type
    fields: tuple[_Field, ...]
    decode: Callable[[dict[str, Any]], Any]
    encode: Callable[[Any], dict[str, Any]]
    decode_flat: Callable[[dict[str, Any]], Any] | None = None
    """For a class whose every field is a string, integer, boolean or base64 text (or null):
    ``decode`` where the object has no key but the header's and the fields' (so that the
    decoder has checked every value in it), and None where it has another key or fails a
    check, with no error raised. None for other classes. The speed extra's fast path
    (``codec.decode_server_event``)."""


def _remote_failure(label: str, name: str, value: Any, expected: str) -> RemoteProtocolError:
    if value is _MISSING:
        message = f"{label}: required field {name!r} is missing"
    else:
        message = f"{label}: field {name!r} must be {expected}, got {json_kind(value)}"
    return RemoteProtocolError(message, event_type=label, field=name)


_MISSING = object()


def _expected(f: _Field) -> str:
    base = {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "a boolean",
        "bytes": "a base64 string",
        "dict": "an object",
        "list": "an array",
        "nested": "an object",
        "any": "any value",
    }[f.kind]
    return base + (" or null" if f.optional else "")


def compile_codec(cls: type, label: str, *, header: dict[str, Any] | None = None) -> Codec:
    """Build the decoder and encoder of ``cls``.

    ``label`` names the event (its ``type``) in error messages. ``header`` holds constant
    fields that the encoder writes first (``{"type": ...}`` for events).
    """
    attrs.resolve_types(cls)
    fields = tuple(_classify(cls, f) for f in attrs.fields(cls))
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_MISSING": _MISSING,
        "_fail": _remote_failure,
        "_local": _local_failure,
        "_label": label,
        "_header": dict(header or {}),
        "_codecs": _CODECS,
    }
    dec: list[str] = ["def decode(o):"]
    for i, f in enumerate(fields):
        v = f"v{i}"
        namespace[f"_exp{i}"] = _expected(f)
        fail = f"raise _fail(_label, {f.name!r}, {v}, _exp{i})"
        if f.required and not f.optional:
            dec.append(f"    {v} = o.get({f.name!r}, _MISSING)")
            guard = ""
        else:
            dec.append(f"    {v} = o.get({f.name!r})")
            guard = f"{v} is not None and "
        check = _decode_check(f, v)
        if check:
            dec.append(f"    if {guard}{check}: {fail}")
        if f.kind == "bytes":
            body = f"{v} = _b64decode({v})"
            dec.append(f"    if {v} is not None:" if guard else "    if True:")
            dec.append(f"        try: {body}")
            dec.append(
                f"        except ValueError: raise _fail(_label, {f.name!r}, 'x', 'valid base64')"
            )
        elif f.kind == "float":
            dec.append(f"    if {guard}type({v}) is int:")
            dec.append(f"        try: {v} = float({v})")
            dec.append(f"        except OverflowError: {fail}")
        elif f.kind == "nested":
            namespace[f"_n{i}"] = f.nested
            dec.append(f"    if {v} is not None: {v} = _codecs[_n{i}].decode({v})")
        elif f.kind == "list":
            dec.append(f"    if {v} is not None:")
            dec.append(f"        for _e in {v}:")
            dec.append(
                f"            if type(_e) is not dict: raise _fail(_label, {f.name!r}, "
                f"{v}, 'an array of objects')"
            )
    build = _build_lines(cls, namespace)
    dec += build
    flat = all(f.kind in ("str", "int", "bool", "bytes") for f in fields)
    if flat:
        dec += ["", *_flat_decoder(fields, len(header or {})), *build]

    enc: list[str] = ["def encode(e):", "    d = dict(_header)"]
    for i, f in enumerate(fields):
        v = f"v{i}"
        enc.append(f"    {v} = e.{f.name}")
        if f.optional and f.required:
            # Required but nullable: JSON null is written, not omitted.
            enc.append(f"    if {v} is None: d[{f.name!r}] = None")
        if f.optional or not f.required:
            enc.append(f"    if {v} is not None:")
            indent = "        "
        else:
            indent = "    "
        check = _encode_check(f, v, i)
        if check:
            enc.append(f"{indent}if {check}: raise _local(_label, {f.name!r}, {v}, _exp{i})")
        if f.kind == "bytes":
            enc.append(f"{indent}d[{f.name!r}] = _b64encode({v})")
        elif f.kind == "nested":
            enc.append(f"{indent}d[{f.name!r}] = _codecs[_n{i}].encode({v})")
        else:
            enc.append(f"{indent}d[{f.name!r}] = {v}")
    enc.append("    return d")

    speedups.bind(namespace)  # _b64decode, _b64encode: the codec's current path
    source = "\n".join(dec) + "\n\n" + "\n".join(enc) + "\n"
    exec(compile(source, f"<wire codec {cls.__name__}>", "exec"), namespace)
    codec = Codec(
        cls, fields, namespace["decode"], namespace["encode"], namespace.get("decode_flat")
    )
    _CODECS[cls] = codec
    return codec


def _build_lines(cls: type, namespace: dict[str, Any]) -> list[str]:
    """The decoder's last lines: the instance of ``cls`` from ``v0``, ``v1``..., stored
    through its slots at half the cost of attrs' frozen ``__init__`` (``_slots``; a wire class
    is plain data, and one with a validator or converter is refused here)."""
    namespace["_new"] = object.__new__
    lines = ["    e = _new(_cls)"]
    for i, (_, setter) in enumerate(slot_setters(cls)):
        namespace[f"_set{i}"] = setter
        lines.append(f"    _set{i}(e, v{i})")
    return [*lines, "    return e"]


def _flat_decoder(fields: tuple[_Field, ...], header_keys: int) -> list[str]:
    """``decode_flat``'s lines up to the build (see ``Codec.decode_flat``): a required field
    by subscript (cheaper than ``get``), any failure a plain None, and a count of the keys it
    knows, which must be all the object has."""
    lines = ["def decode_flat(o):", "    try:"]
    required = [(i, f) for i, f in enumerate(fields) if f.required and not f.optional]
    lines += [f"        v{i} = o[{f.name!r}]" for i, f in required] or ["        pass"]
    lines += ["    except KeyError:", "        return None"]
    lines.append(f"    n = {header_keys + len(required)}")
    for i, f in enumerate(fields):
        v = f"v{i}"
        if not (f.required and not f.optional):
            lines.append(f"    {v} = o.get({f.name!r}, _MISSING)")
            lines.append(f"    if {v} is _MISSING: {v} = None")
            lines.append("    else: n += 1")
            guard = f"{v} is not None and "
        else:
            guard = ""
        lines.append(f"    if {guard}{_decode_check(f, v)}: return None")
        if f.kind == "bytes":
            lines.append(f"    if {v} is not None:" if guard else "    if True:")
            lines.append(f"        try: {v} = _b64decode({v})")
            lines.append("        except ValueError: return None")
    lines.append("    if len(o) != n: return None")
    return lines


def _decode_check(f: _Field, v: str) -> str:
    if f.kind in ("str", "bytes"):
        return f"type({v}) is not str"
    if f.kind == "int":
        return f"type({v}) is not int"
    if f.kind == "float":
        return f"type({v}) is not float and type({v}) is not int"
    if f.kind == "bool":
        return f"type({v}) is not bool"
    if f.kind in ("dict", "nested"):
        return f"type({v}) is not dict"
    if f.kind == "list":
        return f"type({v}) is not list"
    if f.required and not f.optional:  # "any", required: only presence is checked
        return f"{v} is _MISSING"
    return ""


def _encode_check(f: _Field, v: str, index: int) -> str:
    if f.kind == "str":
        return f"not isinstance({v}, str)"
    if f.kind == "bytes":
        return f"not isinstance({v}, (bytes, bytearray, memoryview))"
    if f.kind == "int":
        return f"type({v}) is bool or not isinstance({v}, int)"
    if f.kind == "float":
        return f"type({v}) is bool or not isinstance({v}, (int, float))"
    if f.kind == "bool":
        return f"not isinstance({v}, bool)"
    if f.kind == "dict":
        return f"not isinstance({v}, dict)"
    if f.kind == "list":
        return f"not isinstance({v}, list)"
    if f.kind == "nested":
        return f"not isinstance({v}, _n{index})"
    return ""


def _local_failure(label: str, name: str, value: Any, expected: str) -> LocalProtocolError:
    return LocalProtocolError(
        f"{label}: field {name!r} must be {expected}, got {type(value).__name__}"
    )


_CODECS: dict[type, Codec] = {}


def generated_functions() -> list[Callable[..., Any]]:
    """Every decoder and encoder compiled so far (all of the wire's, once it is imported).

    Built by ``exec``, they have no module source for a coverage-guided fuzzer's import hook
    (``atheris.instrument_imports``) to instrument; a fuzz harness passes each to
    ``atheris.instrument_func`` instead, which patches its code in place, so the codec's
    tables keep calling the instrumented function (fuzz/harness.py).
    """
    return [function for codec in _CODECS.values() for function in (codec.decode, codec.encode)]
