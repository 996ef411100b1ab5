"""The small value types of a session's configuration, and the ``UNSET`` sentinel.

Each type validates itself at construction and raises ``LocalProtocolError`` (also a
``ValueError``) naming the class, the field and the refused value, so a configuration mistake
is reported where it is made rather than as a server ``error`` event much later.
"""

from __future__ import annotations

import copy
import enum
import math
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, NoReturn, TypeAlias

import attrs

from ..errors import LocalProtocolError

__all__ = [
    "UNSET",
    "Eagerness",
    "GuardrailsSettings",
    "NoiseReductionConfig",
    "NoiseReductionType",
    "PromptConfig",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolChoiceMode",
    "TracingConfig",
    "TranscriptionConfig",
    "TurnDetectionConfig",
    "TurnDetectionType",
    "Unset",
]


class Unset(enum.Enum):
    """The type of ``UNSET``: a one-member enum, so that ``x is UNSET`` narrows under mypy."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET
"""A field left unset: nothing is sent for it, and merging keeps the other side's value.

Distinct from ``None``, which means "explicitly off" where the API allows it.
"""

TurnDetectionType: TypeAlias = Literal["server_vad", "semantic_vad"]
Eagerness: TypeAlias = Literal["low", "medium", "high", "auto"]
NoiseReductionType: TypeAlias = Literal["near_field", "far_field"]
ToolChoiceMode: TypeAlias = Literal["auto", "none", "required"]

Validator: TypeAlias = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def fail(
    instance: object, attribute: attrs.Attribute[Any], expected: str, value: object
) -> NoReturn:
    """Raise the one error shape every validator here uses."""
    raise LocalProtocolError(
        f"{type(instance).__name__}.{attribute.name} must be {expected}, got {value!r}"
    )


def one_of(*choices: str) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value not in choices:
            fail(instance, attribute, "one of " + ", ".join(repr(c) for c in choices), value)

    return check


def optional(check: Validator) -> Validator:
    def wrapped(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            check(instance, attribute, value)

    return wrapped


def nonempty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        fail(instance, attribute, "a non-empty str", value)


def any_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        fail(instance, attribute, "a str", value)


def boolean(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        fail(instance, attribute, "a bool", value)


def non_negative_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(instance, attribute, "an int >= 0 (milliseconds)", value)


def positive_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        fail(instance, attribute, "an int >= 1", value)


def finite_number(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # bool is an int subclass, but True is never a time or a duration.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        fail(instance, attribute, "a finite number", value)


def non_negative_number(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # Written as "not inside" so that NaN, which compares false to everything, is refused.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        fail(instance, attribute, "a finite number >= 0", value)


def positive_seconds(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A timeout: a finite number of seconds > 0, or None for none."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        fail(instance, attribute, "a number of seconds > 0, or None (no timeout)", value)


def unit_interval(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # bool is an int subclass, but True is never a meaningful threshold.
    # Written as "not inside" so that NaN, which compares false to everything, is refused.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        fail(instance, attribute, "a number between 0.0 and 1.0", value)


def str_keyed_mapping(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        fail(instance, attribute, "a mapping with str keys", value)


# Which optional fields each turn detection type accepts; the others are refused, so that a
# field the server would silently ignore (eagerness on server_vad) is caught at construction.
TURN_DETECTION_FIELDS: Final[dict[str, frozenset[str]]] = {
    "server_vad": frozenset(
        {
            "threshold",
            "prefix_padding_ms",
            "silence_duration_ms",
            "idle_timeout_ms",
            "create_response",
            "interrupt_response",
        }
    ),
    "semantic_vad": frozenset({"eagerness", "create_response", "interrupt_response"}),
}


@attrs.frozen(kw_only=True)
class TurnDetectionConfig:
    """Voice activity detection: ``server_vad`` (volume and silence) or ``semantic_vad``.

    Fields left ``None`` are not sent, so the server's defaults apply. Push-to-talk is not a
    type here: set ``SessionModelSettings.turn_detection=None``.
    """

    type: TurnDetectionType = attrs.field(validator=one_of("server_vad", "semantic_vad"))
    threshold: float | None = attrs.field(default=None, validator=optional(unit_interval))
    prefix_padding_ms: int | None = attrs.field(default=None, validator=optional(non_negative_int))
    silence_duration_ms: int | None = attrs.field(
        default=None, validator=optional(non_negative_int)
    )
    idle_timeout_ms: int | None = attrs.field(default=None, validator=optional(non_negative_int))
    eagerness: Eagerness | None = attrs.field(
        default=None, validator=optional(one_of("low", "medium", "high", "auto"))
    )
    create_response: bool | None = attrs.field(default=None, validator=optional(boolean))
    interrupt_response: bool | None = attrs.field(default=None, validator=optional(boolean))

    def __attrs_post_init__(self) -> None:
        allowed = TURN_DETECTION_FIELDS[self.type]
        wrong = [
            f.name
            for f in attrs.fields(TurnDetectionConfig)
            if f.name != "type" and f.name not in allowed and getattr(self, f.name) is not None
        ]
        if wrong:
            raise LocalProtocolError(
                f"TurnDetectionConfig field(s) {', '.join(wrong)} do not apply to"
                f" type={self.type!r}; it accepts {', '.join(sorted(allowed))}"
            )

    @classmethod
    def server_vad(
        cls,
        *,
        threshold: float | None = None,
        prefix_padding_ms: int | None = None,
        silence_duration_ms: int | None = None,
        idle_timeout_ms: int | None = None,
        create_response: bool | None = None,
        interrupt_response: bool | None = None,
    ) -> TurnDetectionConfig:
        return cls(
            type="server_vad",
            threshold=threshold,
            prefix_padding_ms=prefix_padding_ms,
            silence_duration_ms=silence_duration_ms,
            idle_timeout_ms=idle_timeout_ms,
            create_response=create_response,
            interrupt_response=interrupt_response,
        )

    @classmethod
    def semantic_vad(
        cls,
        *,
        eagerness: Eagerness | None = None,
        create_response: bool | None = None,
        interrupt_response: bool | None = None,
    ) -> TurnDetectionConfig:
        return cls(
            type="semantic_vad",
            eagerness=eagerness,
            create_response=create_response,
            interrupt_response=interrupt_response,
        )

    def to_wire(self) -> dict[str, Any]:
        """The GA ``audio.input.turn_detection`` object; ``None`` fields are left out."""
        wire: dict[str, Any] = {"type": self.type}
        for name in sorted(TURN_DETECTION_FIELDS[self.type]):
            value = getattr(self, name)
            if value is not None:
                wire[name] = value
        return wire


@attrs.frozen(kw_only=True)
class TranscriptionConfig:
    """Transcription of the user's audio, run by the server beside the model."""

    model: str = attrs.field(default="gpt-4o-mini-transcribe", validator=nonempty_str)
    language: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    prompt: str | None = attrs.field(default=None, validator=optional(any_str))

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"model": self.model}
        if self.language is not None:
            wire["language"] = self.language
        if self.prompt is not None:
            wire["prompt"] = self.prompt
        return wire


@attrs.frozen(kw_only=True)
class NoiseReductionConfig:
    """Input noise reduction: ``near_field`` for headsets, ``far_field`` for laptops and rooms."""

    type: NoiseReductionType = attrs.field(validator=one_of("near_field", "far_field"))

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type}


def _copy_metadata(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # A private deep copy: the caller's later edits must not change a frozen config.
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) else value


@attrs.frozen(kw_only=True)
class TracingConfig:
    """Tracing with explicit names; ``"auto"`` in the settings lets the server choose them."""

    workflow_name: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    group_id: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    metadata: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_copy_metadata, validator=optional(str_keyed_mapping)
    )

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {}
        if self.workflow_name is not None:
            wire["workflow_name"] = self.workflow_name
        if self.group_id is not None:
            wire["group_id"] = self.group_id
        if self.metadata is not None:
            wire["metadata"] = copy.deepcopy(dict(self.metadata))
        return wire


@attrs.frozen(kw_only=True)
class ToolChoiceFunction:
    """Force the model to call the function tool of this name."""

    name: str = attrs.field(validator=nonempty_str)

    def to_wire(self) -> dict[str, Any]:
        return {"type": "function", "name": self.name}


ToolChoice: TypeAlias = ToolChoiceMode | ToolChoiceFunction


def _prompt_variables(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    str_keyed_mapping(instance, attribute, value)
    assert isinstance(value, Mapping)
    for key, item in value.items():
        # A variable is a plain string or a Responses input object (input_text, input_image,
        # input_file), which is always tagged by "type".
        if not isinstance(item, str) and not (
            isinstance(item, Mapping) and isinstance(item.get("type"), str)
        ):
            fail(instance, attribute, f"str values or typed input objects (at {key!r})", item)


@attrs.frozen(kw_only=True)
class PromptConfig:
    """A reference to a stored prompt template: ``{"id", "version", "variables"}`` in GA."""

    id: str = attrs.field(validator=nonempty_str)
    version: str | None = attrs.field(default=None, validator=optional(nonempty_str))
    variables: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_copy_metadata, validator=_prompt_variables
    )

    @classmethod
    def from_mapping(cls, value: Mapping[str, Any]) -> PromptConfig:
        """Build from the GA object; unknown keys are refused so a typo is not dropped."""
        unknown = set(value) - {"id", "version", "variables"}
        if unknown:
            raise LocalProtocolError(
                f"prompt has unknown key(s) {sorted(unknown)}; expected id, version, variables"
            )
        if "id" not in value:
            raise LocalProtocolError("prompt needs an 'id'")
        return cls(id=value["id"], version=value.get("version"), variables=value.get("variables"))

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"id": self.id}
        if self.version is not None:
            wire["version"] = self.version
        if self.variables is not None:
            wire["variables"] = copy.deepcopy(dict(self.variables))
        return wire


@attrs.frozen(kw_only=True)
class GuardrailsSettings:
    """How often output guardrails run while a response streams."""

    debounce_text_length: int = attrs.field(default=100, validator=positive_int)
    """Run the guardrails each time this many more characters of an item's text have arrived
    (and once more when the item is done)."""
