"""The official ``openai`` package's GA pydantic models as a conformance oracle (test-only).

DESIGN.md section 7: wrap the unions in a real tagged union, and forbid extra fields on the
client side so that a misspelt field we emit fails the test instead of being ignored.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Union

import pydantic
from openai.types import realtime
from openai.types.beta import realtime as beta_realtime

__all__ = [
    "BETA_SERVER_EVENT_TYPES",
    "CLIENT_EVENT_MODELS",
    "SERVER_EVENT_MODELS",
    "validate_beta_client_event",
    "validate_beta_server_event",
    "validate_client_event",
    "validate_server_event",
    "validate_session_request",
]


def _members(union: Any) -> tuple[type[pydantic.BaseModel], ...]:
    if typing.get_origin(union) is Annotated:
        union = typing.get_args(union)[0]
    return typing.get_args(union)


def _type_of(model: type[pydantic.BaseModel]) -> str:
    (literal,) = typing.get_args(model.model_fields["type"].annotation)
    return str(literal)


CLIENT_EVENT_MODELS = {_type_of(m): m for m in _members(realtime.RealtimeClientEvent)}
SERVER_EVENT_MODELS = {_type_of(m): m for m in _members(realtime.RealtimeServerEvent)}

_FORBID = pydantic.ConfigDict(extra="forbid")


def _forbidding(model: type[pydantic.BaseModel], seen: dict[type, type]) -> type:
    """A copy of ``model`` (and every model nested in it) that rejects unknown fields."""
    if model in seen:
        return seen[model]
    fields: dict[str, Any] = {}
    placeholder = pydantic.create_model(model.__name__ + "Strict", __config__=_FORBID)
    seen[model] = placeholder
    for name, info in model.model_fields.items():
        annotation = _strict_annotation(info.annotation, seen)
        default = ... if info.is_required() else info.default
        fields[name] = (annotation, pydantic.Field(default, alias=info.alias))
    strict = pydantic.create_model(model.__name__ + "Strict", __config__=_FORBID, **fields)
    seen[model] = strict
    return strict


def _strict_annotation(annotation: Any, seen: dict[type, type]) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return _forbidding(annotation, seen)
    origin = typing.get_origin(annotation)
    if origin is None:
        return annotation
    args = typing.get_args(annotation)
    if origin is Annotated:
        return Annotated[(_strict_annotation(args[0], seen), *args[1:])]  # type: ignore[misc]
    new_args = tuple(_strict_annotation(a, seen) for a in args)
    if origin is Union or str(origin) == "types.UnionType":
        return Union[new_args]  # noqa: UP007
    if origin is typing.Literal:
        return annotation
    try:
        return origin[new_args]
    except TypeError:
        return annotation


_seen: dict[type, type] = {}
_STRICT_CLIENT = {t: _forbidding(m, _seen) for t, m in CLIENT_EVENT_MODELS.items()}
_SERVER_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
    Annotated[Union[tuple(SERVER_EVENT_MODELS.values())], pydantic.Field(discriminator="type")]  # type: ignore[misc]  # noqa: UP007
)
_CLIENT_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
    Annotated[Union[tuple(_STRICT_CLIENT.values())], pydantic.Field(discriminator="type")]  # type: ignore[misc]  # noqa: UP007
)
_SESSION_REQUEST = _forbidding(realtime.RealtimeSessionCreateRequest, _seen)

_BETA_CLIENT_MODELS = {_type_of(m): m for m in _members(beta_realtime.RealtimeClientEvent)}
_BETA_SERVER_MODELS = {_type_of(m): m for m in _members(beta_realtime.RealtimeServerEvent)}
BETA_SERVER_EVENT_TYPES = frozenset(_BETA_SERVER_MODELS)
_BETA_CLIENT_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
    Annotated[  # type: ignore[misc]
        Union[tuple(_forbidding(m, {}) for m in _BETA_CLIENT_MODELS.values())],  # noqa: UP007
        pydantic.Field(discriminator="type"),
    ]
)
_BETA_SERVER_ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(
    Annotated[Union[tuple(_BETA_SERVER_MODELS.values())], pydantic.Field(discriminator="type")]  # type: ignore[misc]  # noqa: UP007
)


def validate_client_event(payload: dict[str, Any]) -> Any:
    """Validate one client event (a decoded JSON object); raises pydantic.ValidationError."""
    return _CLIENT_ADAPTER.validate_python(payload)


def validate_server_event(payload: dict[str, Any]) -> Any:
    """Validate one server event (a decoded JSON object); raises pydantic.ValidationError."""
    return _SERVER_ADAPTER.validate_python(payload)


def validate_session_request(session: dict[str, Any]) -> Any:
    """Validate a GA ``session`` object as sent in ``session.update``, unknown fields refused."""
    return _SESSION_REQUEST.model_validate(session)  # type: ignore[attr-defined]


def validate_beta_client_event(payload: dict[str, Any]) -> Any:
    """Validate a beta-dialect client event, unknown fields refused."""
    return _BETA_CLIENT_ADAPTER.validate_python(payload)


def validate_beta_server_event(payload: dict[str, Any]) -> Any:
    """Validate a beta-dialect server event (its type must exist in the beta protocol)."""
    return _BETA_SERVER_ADAPTER.validate_python(payload)
