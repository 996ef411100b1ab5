"""``SessionModelSettings``: what a ``session.update`` asks of the model, field by field.

Every field starts as ``UNSET``. Three states matter and must stay apart:

- ``UNSET``: say nothing; the server (or a lower layer of settings) decides;
- ``None``: explicitly off, where the API has an "off" (turn detection, i.e. push-to-talk;
  transcription; noise reduction; tracing), sent as JSON ``null``;
- a value: sent as given.

Layers combine with ``merge``: ``ModelConfig.initial_model_settings``, the agent's
instructions, then ``RunConfig.model_settings``, then a mid-session ``update_session``;
whatever the later layer set wins, ``None`` included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias

import attrs

from ..audio.formats import AudioFormat
from ..errors import LocalProtocolError
from .values import (
    UNSET,
    NoiseReductionConfig,
    PromptConfig,
    ToolChoice,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
    Unset,
    Validator,
    any_str,
    fail,
    nonempty_str,
)

__all__ = ["Modality", "SessionModelSettings", "TracingSetting", "Truncation"]

Modality: TypeAlias = Literal["audio", "text"]
Truncation: TypeAlias = Literal["auto", "disabled"]
TracingSetting: TypeAlias = Literal["auto"] | TracingConfig | None

SPEED_MIN = 0.25
SPEED_MAX = 1.5
MAX_OUTPUT_TOKENS_LIMIT = 4096


def _unless_unset(check: Validator) -> Validator:
    def wrapped(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not UNSET:
            check(instance, attribute, value)

    return wrapped


def _to_modalities(value: Sequence[Modality] | Unset) -> tuple[Modality, ...] | Unset:
    # A bare "audio" is a Sequence too; turning it into ('a', 'u', ...) would only give a
    # confusing error later, so it is refused here with the fix spelled out.
    if isinstance(value, str):
        raise LocalProtocolError(
            f"SessionModelSettings.output_modalities must be a list such as [{value!r}],"
            " not a bare str"
        )
    if isinstance(value, Unset) or not isinstance(value, Sequence):
        return value
    return tuple(value)


def _to_prompt(value: PromptConfig | Mapping[str, Any] | Unset) -> PromptConfig | Unset:
    if isinstance(value, Mapping):
        return PromptConfig.from_mapping(value)
    return value


def _check_speed(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        fail(instance, attribute, f"a number between {SPEED_MIN} and {SPEED_MAX}", value)
    if not SPEED_MIN <= value <= SPEED_MAX:
        fail(instance, attribute, f"a number between {SPEED_MIN} and {SPEED_MAX}", value)


def _check_modalities(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    # GA answers in audio (with a transcript) or in text, never both at once.
    if value not in (("audio",), ("text",)):
        fail(instance, attribute, "exactly one of ['audio'] or ['text']", value)


def _check_format(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, AudioFormat):
        fail(instance, attribute, "an AudioFormat (PCM16, PCMU or PCMA)", value)


def _instance_or_none(kind: type) -> Validator:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, kind):
            fail(instance, attribute, f"a {kind.__name__} or None (off)", value)

    return check


def _check_tool_choice(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("auto", "none", "required") and not isinstance(value, ToolChoiceFunction):
        fail(
            instance,
            attribute,
            "'auto', 'none', 'required' or ToolChoiceFunction(name=...)",
            value,
        )


def _check_max_tokens(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value == "inf":
        return
    if isinstance(value, bool) or not isinstance(value, int):
        fail(instance, attribute, f"an int from 1 to {MAX_OUTPUT_TOKENS_LIMIT} or 'inf'", value)
    if not 1 <= value <= MAX_OUTPUT_TOKENS_LIMIT:
        fail(instance, attribute, f"an int from 1 to {MAX_OUTPUT_TOKENS_LIMIT} or 'inf'", value)


def _check_tracing(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("auto", None) and not isinstance(value, TracingConfig):
        fail(instance, attribute, "'auto', a TracingConfig, or None (disabled)", value)


def _check_prompt(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, PromptConfig):
        fail(instance, attribute, "a PromptConfig or a {'id', 'version', 'variables'} dict", value)


def _check_truncation(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in ("auto", "disabled"):
        fail(instance, attribute, "'auto' or 'disabled'", value)


@attrs.frozen(kw_only=True, repr=False)
class SessionModelSettings:
    """Model settings for a Realtime session; see the module docstring for UNSET and None.

    Tools are not a field: the Session serialises the current agent's tools (and handoffs)
    and passes them to ``to_session_payload`` itself.
    """

    model_name: str | Unset = attrs.field(default=UNSET, validator=_unless_unset(nonempty_str))
    instructions: str | Unset = attrs.field(default=UNSET, validator=_unless_unset(any_str))
    voice: str | Unset = attrs.field(default=UNSET, validator=_unless_unset(nonempty_str))
    speed: float | Unset = attrs.field(default=UNSET, validator=_unless_unset(_check_speed))
    output_modalities: tuple[Modality, ...] | Unset = attrs.field(
        default=UNSET, converter=_to_modalities, validator=_unless_unset(_check_modalities)
    )
    input_audio_format: AudioFormat | Unset = attrs.field(
        default=UNSET, validator=_unless_unset(_check_format)
    )
    output_audio_format: AudioFormat | Unset = attrs.field(
        default=UNSET, validator=_unless_unset(_check_format)
    )
    input_audio_transcription: TranscriptionConfig | Unset | None = attrs.field(
        default=UNSET, validator=_unless_unset(_instance_or_none(TranscriptionConfig))
    )
    input_audio_noise_reduction: NoiseReductionConfig | Unset | None = attrs.field(
        default=UNSET, validator=_unless_unset(_instance_or_none(NoiseReductionConfig))
    )
    turn_detection: TurnDetectionConfig | Unset | None = attrs.field(
        default=UNSET, validator=_unless_unset(_instance_or_none(TurnDetectionConfig))
    )
    tool_choice: ToolChoice | Unset = attrs.field(
        default=UNSET, validator=_unless_unset(_check_tool_choice)
    )
    max_output_tokens: int | Literal["inf"] | Unset = attrs.field(
        default=UNSET, validator=_unless_unset(_check_max_tokens)
    )
    tracing: TracingSetting | Unset = attrs.field(
        default=UNSET, validator=_unless_unset(_check_tracing)
    )
    prompt: PromptConfig | Unset = attrs.field(
        default=UNSET, converter=_to_prompt, validator=_unless_unset(_check_prompt)
    )
    truncation: Truncation | Unset = attrs.field(
        default=UNSET, validator=_unless_unset(_check_truncation)
    )

    def is_set(self, name: str) -> bool:
        """Whether the field ``name`` holds a value (``None`` counts as set: it means off)."""
        if name not in _FIELD_NAMES:
            raise LocalProtocolError(
                f"SessionModelSettings has no field {name!r}; fields: {', '.join(_FIELD_NAMES)}"
            )
        return getattr(self, name) is not UNSET

    def set_fields(self) -> dict[str, Any]:
        """The fields that are set, by name, in declaration order."""
        return {name: value for name in _FIELD_NAMES if (value := getattr(self, name)) is not UNSET}

    def merge(self, other: SessionModelSettings) -> SessionModelSettings:
        """A copy of ``self`` where every field set in ``other`` (to ``None`` too) wins."""
        if not isinstance(other, SessionModelSettings):
            raise LocalProtocolError(
                f"SessionModelSettings.merge takes SessionModelSettings, got {type(other).__name__}"
            )
        overrides = other.set_fields()
        return attrs.evolve(self, **overrides) if overrides else self

    def __repr__(self) -> str:
        # Only the set fields: fifteen UNSETs would hide the two that matter.
        shown = ", ".join(f"{name}={value!r}" for name, value in self.set_fields().items())
        return f"SessionModelSettings({shown})"


_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in attrs.fields(SessionModelSettings))
