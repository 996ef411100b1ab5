"""Strict JSON schemas of Python signatures, and a validator for the subset they use.

The machinery behind ``@function_tool`` and ``handoff(input_type=...)``, kept apart from the
definitions in ``agent.py``. ``derive`` turns an annotation into a schema and a converter (JSON
value to Python value); ``check`` validates a JSON value against a schema without any
dependency; ``parse_object`` is the tools' argument parser built from the two.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import enum
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeAlias

import attrs

from ._repr import json_kind
from .errors import LocalProtocolError

Convert: TypeAlias = Callable[[Any], Any]
MISSING: Any = object()


class ToolArgumentsError(ValueError):
    """The model's arguments for a tool are unusable: bad JSON, or not what the schema says.

    The message is meant for the model as well: the session sends it back as ``Error: ...``
    so that the model can correct the call.
    """


def empty_parameters() -> dict[str, Any]:
    return {"type": "object", "properties": {}, "additionalProperties": False, "required": []}


# -- a validator for the JSON Schema subset that tools use ---------------------------------


def _is_type(value: Any, name: str) -> bool:
    actual = json_kind(value)
    if name == "number":
        return actual in ("integer", "number")
    if name == "integer" and actual == "number":
        return float(value).is_integer()  # JSON Schema: 2.0 is an integer
    return actual == name if name in _JSON_TYPES else True  # unknown names: not ours to judge


_JSON_TYPES = frozenset(("null", "boolean", "integer", "number", "string", "array", "object"))


def _same_json(a: Any, b: Any) -> bool:
    # In Python True == 1; in JSON a boolean never equals a number.
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def _label(path: str) -> str:
    return f"property {path!r}" if path else "the arguments"


def check(schema: Mapping[str, Any], value: Any, path: str, root: Mapping[str, Any]) -> str | None:
    """The first way ``value`` breaks ``schema``, as a sentence, or None when it conforms."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        target: Any = root
        for key in filter(None, ref[1:].split("/")):
            target = target.get(key.replace("~1", "/").replace("~0", "~"), {})
        return check(target, value, path, root)
    branches = schema.get("anyOf")
    if branches is not None:
        errors = [check(b, value, path, root) for b in branches]
        if all(errors):
            # Report the branch of the value's own type, whose error says most.
            fitting = [e for b, e in zip(branches, errors, strict=True) if _type_fits(b, value)]
            if len(fitting) == 1:
                return fitting[0]
            wanted = " or ".join(_describe(b) for b in branches)
            return f"{_label(path)}: expected {wanted}, got {json_kind(value)}"
    wanted_types = schema.get("type")
    if wanted_types is not None:
        names = [wanted_types] if isinstance(wanted_types, str) else list(wanted_types)
        if not any(_is_type(value, n) for n in names):
            return f"{_label(path)}: expected {' or '.join(names)}, got {json_kind(value)}"
    if "enum" in schema and not any(_same_json(value, e) for e in schema["enum"]):
        allowed = ", ".join(json.dumps(e) for e in schema["enum"])
        return f"{_label(path)}: {json.dumps(value)} is not one of {allowed}"
    if "const" in schema and not _same_json(value, schema["const"]):
        return f"{_label(path)}: must be {json.dumps(schema['const'])}"
    if isinstance(value, dict):
        return _check_object(schema, value, path, root)
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        for index, element in enumerate(value):
            error = check(items, element, f"{path}[{index}]", root)
            if error:
                return error
    return None


def _check_object(
    schema: Mapping[str, Any], value: dict[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    properties = schema.get("properties", {})
    for name in schema.get("required", ()):
        if name not in value:
            where = f" in {path!r}" if path else ""
            return f"missing required property {name!r}{where}"
    extra = schema.get("additionalProperties", True)
    for key, element in value.items():
        sub = f"{path}.{key}" if path else key
        if key in properties:
            error = check(properties[key], element, sub, root)
        elif extra is False:
            error = f"unexpected property {sub!r}"
        elif isinstance(extra, Mapping):
            error = check(extra, element, sub, root)
        else:
            error = None
        if error:
            return error
    return None


def _type_fits(schema: Mapping[str, Any], value: Any) -> bool:
    wanted = schema.get("type")
    if wanted is None:
        return False
    names = [wanted] if isinstance(wanted, str) else wanted
    return any(_is_type(value, n) for n in names)


def _describe(schema: Mapping[str, Any]) -> str:
    wanted = schema.get("type")
    if isinstance(wanted, str):
        return wanted
    return "/".join(wanted) if isinstance(wanted, list) else "a matching value"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_object(tool_name: str, schema: Mapping[str, Any], arguments_json: str) -> dict[str, Any]:
    # Models send "" for a call without arguments; that is the empty object.
    if not arguments_json.strip():
        value: Any = {}
    else:
        try:
            value = json.loads(arguments_json, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            raise ToolArgumentsError(f"invalid JSON arguments for {tool_name!r}: {exc}") from None
    if not isinstance(value, dict):
        raise ToolArgumentsError(
            f"arguments for {tool_name!r} must be a JSON object, got {json_kind(value)}"
        )
    try:
        error = check(schema, value, "", schema)
    except RecursionError:
        error = "the arguments are nested too deeply"
    if error:
        raise ToolArgumentsError(f"invalid arguments for {tool_name!r}: {error}")
    return value


# -- deriving a strict schema from type hints ----------------------------------------------


@attrs.frozen(kw_only=True)
class Prop:
    """One property of an object schema: a function parameter or a class field."""

    name: str
    annotation: Any
    has_default: bool
    default: Any = None
    description: str | None = None
    positional_only: bool = False


@attrs.frozen(kw_only=True)
class Field:
    """How one property's JSON value becomes its Python value."""

    name: str
    convert: Convert
    has_default: bool
    default: Any
    positional_only: bool


def _admits_null(schema: Mapping[str, Any]) -> bool:
    wanted = schema.get("type")
    if wanted == "null" or (isinstance(wanted, list) and "null" in wanted):
        return True
    return any(_admits_null(b) for b in schema.get("anyOf", ()))


def _identity(value: Any) -> Any:
    return value


def type_hints(obj: Any, where: str, *, extras: bool = True) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj, include_extras=extras)
    except Exception as exc:  # NameError, TypeError...: whatever stops hints from resolving
        raise LocalProtocolError(f"{where}: cannot resolve type hints ({exc})") from exc


def object_schema(
    props: Iterable[Prop], strict: bool, where: str, stack: tuple[Any, ...]
) -> tuple[dict[str, Any], list[Field]]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    fields: list[Field] = []
    for prop in props:
        schema, convert = derive(prop.annotation, strict, f"{where}, {prop.name!r}", stack)
        schema = dict(schema)
        description = prop.description or schema.pop("description", None)
        schema.pop("description", None)
        if prop.has_default and strict and not _admits_null(schema):
            schema = {"anyOf": [schema, {"type": "null"}]}
        if description:
            schema["description"] = description
        properties[prop.name] = schema
        if strict or not prop.has_default:
            required.append(prop.name)
        fields.append(
            Field(
                name=prop.name,
                convert=convert,
                has_default=prop.has_default,
                default=prop.default,
                positional_only=prop.positional_only,
            )
        )
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    schema["required"] = required
    return schema, fields


def class_props(cls: Any, where: str) -> list[Prop] | None:
    """The constructor fields of a dataclass, attrs class or TypedDict; None for other types."""
    if dataclasses.is_dataclass(cls) and isinstance(cls, type):
        hints = type_hints(cls, where)
        return [
            Prop(
                name=f.name,
                annotation=hints[f.name],
                has_default=f.default is not dataclasses.MISSING
                or f.default_factory is not dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
            if f.init
        ]
    if isinstance(cls, type) and attrs.has(cls):
        hints = type_hints(cls, where)
        return [
            Prop(name=a.alias, annotation=hints[a.name], has_default=a.default is not attrs.NOTHING)
            for a in attrs.fields(cls)
            if a.init
        ]
    if typing.is_typeddict(cls):
        hints = type_hints(cls, where)  # Required/NotRequired kept; derive() unwraps them
        return [
            Prop(name=k, annotation=t, has_default=not _required_key(cls, k, t))
            for k, t in hints.items()
        ]
    return None


def _required_key(cls: Any, key: str, hint: Any) -> bool:
    # A TypedDict whose annotations are strings (from __future__ import annotations) cannot
    # see NotRequired/Required, and counts the key by its totality alone: the resolved hint
    # says what was meant.
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) is typing.NotRequired:
        return False
    if typing.get_origin(hint) is typing.Required:
        return True
    return key in cls.__required_keys__


def _build(factory: Callable[..., Any], fields: list[Field]) -> Convert:
    def convert(value: dict[str, Any]) -> Any:
        kwargs = {}
        for f in fields:
            element = value.get(f.name, MISSING)
            if element is MISSING or (element is None and f.has_default):
                continue  # the class's own default (or factory) applies
            kwargs[f.name] = f.convert(element)
        return factory(**kwargs)

    return convert


def _union(branches: list[tuple[dict[str, Any], Convert]]) -> Convert:
    def convert(value: Any) -> Any:
        for schema, branch in branches:
            if check(schema, value, "", schema) is None:
                return branch(value)
        return value

    return convert


def _enum_schema(values: list[Any], where: str) -> dict[str, Any]:
    for value in values:
        if value is not None and type(value) not in (str, int, float, bool):
            raise LocalProtocolError(f"{where}: {value!r} is not a JSON string, number or boolean")
    kinds = {json_kind(v) for v in values}
    # One JSON type gets a "type" too, which strict mode likes; mixed ones rely on the enum.
    return {"type": kinds.pop(), "enum": values} if len(kinds) == 1 else {"enum": values}


def derive(
    annotation: Any, strict: bool, where: str, stack: tuple[Any, ...]
) -> tuple[dict[str, Any], Convert]:
    """The JSON schema of one annotation, and how a conforming JSON value becomes Python."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        schema, convert = derive(args[0], strict, where, stack)
        text = next((m for m in args[1:] if isinstance(m, str)), None)
        return ({**schema, "description": text} if text else schema), convert
    if origin in (typing.Required, typing.NotRequired):
        return derive(args[0], strict, where, stack)
    if annotation is None or annotation is type(None):
        return {"type": "null"}, _identity
    scalar = {str: "string", bool: "boolean", int: "integer", float: "number"}.get(annotation)
    if scalar is not None:
        # int() turns a JSON 2.0 into 2; float() a JSON 2 into 2.0.
        convert = annotation if annotation in (int, float) else _identity
        return {"type": scalar}, convert
    if origin in (typing.Union, types.UnionType):
        branches = [derive(a, strict, where, stack) for a in args]
        return {"anyOf": [s for s, _ in branches]}, _union(branches)
    if origin is Literal:
        return _enum_schema(list(args), where), _identity
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_schema([m.value for m in annotation], where), annotation
    if annotation in (list, tuple, dict, collections.abc.Sequence, collections.abc.Mapping):
        raise LocalProtocolError(
            f"{where}: a bare {annotation!r} says nothing of its contents; use list[T],"
            " tuple[T, ...] or a dataclass"
        )
    if origin in (list, tuple, collections.abc.Sequence):
        if origin is tuple and (len(args) != 2 or args[1] is not ...):
            raise LocalProtocolError(
                f"{where}: {annotation!r} needs one item type (list[T] or tuple[T, ...])"
            )
        items, convert = derive(args[0], strict, where, stack)
        container: Callable[[Any], Any] = tuple if origin is tuple else list
        return {"type": "array", "items": items}, lambda v: container(convert(x) for x in v)
    if origin in (dict, collections.abc.Mapping):
        if strict:
            raise LocalProtocolError(
                f"{where}: strict schemas forbid free-form objects ({annotation!r}); use a"
                " dataclass or TypedDict, or strict_mode=False"
            )
        if args[0] is not str:
            raise LocalProtocolError(f"{where}: JSON object keys are strings, not {args[0]!r}")
        value_schema, convert = derive(args[1], strict, where, stack)
        schema = {"type": "object", "additionalProperties": value_schema}
        return schema, lambda v: {k: convert(x) for k, x in v.items()}
    if annotation in stack:
        raise LocalProtocolError(f"{where}: recursive type {annotation!r} is not supported")
    props = class_props(annotation, where)
    if props is not None:
        schema, fields = object_schema(props, strict, where, (*stack, annotation))
        factory = dict if typing.is_typeddict(annotation) else annotation
        return schema, _build(factory, fields)
    raise LocalProtocolError(
        f"{where}: cannot describe {annotation!r} as JSON; use str, int, float, bool, list[T],"
        " Literal, Enum, a dataclass, an attrs class or a TypedDict"
    )


# -- docstrings ----------------------------------------------------------------------------

_GOOGLE_SECTIONS = frozenset(("args:", "arguments:", "parameters:", "params:"))
_GOOGLE_ENTRY = re.compile(r"\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)")
_REST_PARAM = re.compile(r":param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google_params(lines: list[str]) -> dict[str, list[str]]:
    """``Args:`` entries: ``name (type): text``, continued on more deeply indented lines."""
    params: dict[str, list[str]] = {}
    section: int | None = None  # the header's indent while inside a section
    entry_indent: int | None = None
    current: str | None = None
    for number, line in enumerate(lines):
        # The first line follows the opening quotes, so its indent says nothing; and Python
        # 3.13+ dedents the rest at compile time. A header there owns every later line.
        stripped, indent = line.strip(), (-1 if number == 0 else _indent(line))
        if not stripped:
            continue
        if section is not None and indent <= section:
            section = current = None  # the section ended; this line may open another
        if section is None:
            if stripped.lower() in _GOOGLE_SECTIONS:
                section, entry_indent = indent, None
            continue
        if entry_indent is None:
            entry_indent = indent
        if indent <= entry_indent:
            entry = _GOOGLE_ENTRY.match(stripped)
            current = entry.group(1) if entry else None
            if entry:
                params[entry.group(1)] = [entry.group(2)]
        elif current is not None:
            params[current].append(stripped)
    return params


def _rest_params(lines: list[str]) -> dict[str, list[str]]:
    """``:param x: text`` (or ``:param int x:``), continued on more deeply indented lines."""
    params: dict[str, list[str]] = {}
    current: str | None = None
    param_indent = 0
    for line in lines:
        stripped = line.strip()
        entry = _REST_PARAM.match(stripped)
        if entry:
            current, param_indent = entry.group(1), _indent(line)
            params[current] = [entry.group(2)]
        elif current is not None and stripped and _indent(line) > param_indent:
            params[current].append(stripped)
        else:
            current = None
    return params


def parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """The summary (first paragraph) and parameter descriptions, Google or reST style."""
    if not doc or not doc.strip():
        return None, {}
    # Raw indentation, not inspect.cleandoc's: a docstring opening with "Args:" on its first
    # line would otherwise see its entries dedented to the header's level.
    lines = doc.expandtabs().splitlines()
    summary: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped and summary:
            break
        if stripped.lower() in _GOOGLE_SECTIONS or stripped.startswith(":"):
            break
        if stripped:
            summary.append(stripped)
    found = {**_google_params(lines), **_rest_params(lines)}
    described = {name: " ".join(p for p in parts if p) for name, parts in found.items()}
    return (" ".join(summary) or None), {k: v for k, v in described.items() if v}
