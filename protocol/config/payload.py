"""``SessionModelSettings`` to and from the GA ``session`` object of ``session.update``.

GA nests audio settings (``audio.input.turn_detection``, ``audio.output.voice``, ...). Only the
fields that are set are written, so a ``session.update`` changes exactly what the caller meant
to change; ``None`` is written as JSON ``null`` (off). The beta dialect's flat shape is a
translation at the wire edge and does not live here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeVar

from ..audio.formats import AudioFormat
from ..errors import LocalProtocolError, RemoteProtocolError
from .settings import SessionModelSettings
from .values import (
    UNSET,
    NoiseReductionConfig,
    PromptConfig,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
)

__all__ = ["settings_from_session_payload", "to_session_payload"]

_T = TypeVar("_T")


def _wire(value: Any) -> Any:
    """A value object's GA form; ``None`` (off) stays ``None`` and becomes JSON null."""
    return None if value is None else value.to_wire()


def to_session_payload(
    settings: SessionModelSettings,
    *,
    instructions: str | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    model: str | None = None,
) -> dict[str, Any]:
    """The GA ``session`` object for ``session.update`` (``{"type": "realtime", ...}``).

    ``instructions`` and ``model`` are the defaults for fields ``settings`` leaves unset (the
    agent's instructions, the connection's model): a set field wins, as it would in a merge.
    ``tools`` are already-serialised GA tool objects (function tools with a JSON schema, MCP
    tools); ``None`` leaves the server's tools alone, while ``()`` sends ``[]`` and clears them,
    which a handoff to an agent without tools needs.
    """
    if not isinstance(settings, SessionModelSettings):
        raise LocalProtocolError(
            f"to_session_payload needs SessionModelSettings, got {type(settings).__name__}"
        )
    if instructions is not None and not isinstance(instructions, str):
        raise LocalProtocolError(f"instructions must be a str, got {instructions!r}")
    if model is not None and (not isinstance(model, str) or not model):
        raise LocalProtocolError(f"model must be a non-empty str, got {model!r}")

    session: dict[str, Any] = {"type": "realtime"}
    model_name = settings.model_name if settings.model_name is not UNSET else model
    if model_name is not None:
        session["model"] = model_name
    text = settings.instructions if settings.instructions is not UNSET else instructions
    if text is not None:
        session["instructions"] = text
    if settings.output_modalities is not UNSET:
        session["output_modalities"] = list(settings.output_modalities)

    audio_in: dict[str, Any] = {}
    if settings.input_audio_format is not UNSET:
        audio_in["format"] = settings.input_audio_format.to_wire()
    if settings.input_audio_transcription is not UNSET:
        audio_in["transcription"] = _wire(settings.input_audio_transcription)
    if settings.input_audio_noise_reduction is not UNSET:
        audio_in["noise_reduction"] = _wire(settings.input_audio_noise_reduction)
    if settings.turn_detection is not UNSET:
        audio_in["turn_detection"] = _wire(settings.turn_detection)
    audio_out: dict[str, Any] = {}
    if settings.output_audio_format is not UNSET:
        audio_out["format"] = settings.output_audio_format.to_wire()
    if settings.voice is not UNSET:
        audio_out["voice"] = settings.voice
    if settings.speed is not UNSET:
        audio_out["speed"] = settings.speed
    audio: dict[str, Any] = {}
    if audio_in:
        audio["input"] = audio_in
    if audio_out:
        audio["output"] = audio_out
    if audio:
        session["audio"] = audio

    if tools is not None:
        session["tools"] = _copy_tools(tools)
    if settings.tool_choice is not UNSET:
        choice = settings.tool_choice
        session["tool_choice"] = choice if isinstance(choice, str) else choice.to_wire()
    if settings.max_output_tokens is not UNSET:
        session["max_output_tokens"] = settings.max_output_tokens
    if settings.tracing is not UNSET:
        tracing = settings.tracing
        session["tracing"] = tracing if tracing is None or tracing == "auto" else _wire(tracing)
    if settings.prompt is not UNSET:
        session["prompt"] = settings.prompt.to_wire()
    if settings.truncation is not UNSET:
        session["truncation"] = settings.truncation
    return session


def _copy_tools(tools: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        raise LocalProtocolError(f"tools must be a sequence of tool dicts, got {tools!r}")
    copied = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or tool.get("type") not in ("function", "mcp"):
            raise LocalProtocolError(
                f"tools[{index}] must be a GA tool dict with type 'function' or 'mcp', got {tool!r}"
            )
        # Deep copy: the payload is handed to the encoder and may be kept in logs; it must
        # not share mutable schema dicts with the agent's tool definitions.
        copied.append(copy.deepcopy(dict(tool)))
    return copied


# --- parsing ---------------------------------------------------------------------------------

_ABSENT: Final = object()


class _Reader:
    """Typed access to a server's session object, with the dotted path of each field."""

    def __init__(self, event_type: str | None) -> None:
        self.event_type = event_type

    def error(self, path: str, message: str) -> RemoteProtocolError:
        where = f" in {self.event_type}" if self.event_type else ""
        return RemoteProtocolError(
            f"session field {path}{where}: {message}", event_type=self.event_type, field=path
        )

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, f"expected an object, got {type(value).__name__}")
        return value

    def get(self, parent: Mapping[str, Any], key: str, path: str, *kinds: type) -> Any:
        """``parent[key]`` checked against ``kinds``; ``_ABSENT`` if missing, ``None`` if null."""
        value = parent.get(key, _ABSENT)
        if value is _ABSENT or value is None:
            return value
        # bool is an int subclass; a true/false where a number belongs is a type error.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.error(f"{path}.{key}" if path else key, f"expected {names}, got {value!r}")
        return value

    def required(self, parent: Mapping[str, Any], key: str, path: str, kind: type) -> Any:
        value = self.get(parent, key, path, kind)
        if value is _ABSENT or value is None:
            raise self.error(f"{path}.{key}", "missing")
        return value

    def build(self, path: str, make: Callable[..., _T], **kwargs: Any) -> _T:
        """Construct a value object; its validation error becomes the peer's fault."""
        try:
            return make(**{k: v for k, v in kwargs.items() if v is not _ABSENT})
        except LocalProtocolError as exc:
            raise self.error(path, str(exc)) from None


def settings_from_session_payload(
    session: Mapping[str, Any], *, event_type: str | None = None
) -> SessionModelSettings:
    """Parse a GA ``session`` object (from ``session.created`` / ``session.updated``).

    Unknown fields are ignored. A wrong type or an invalid value raises ``RemoteProtocolError``
    whose ``field`` is the dotted path (``audio.input.turn_detection.threshold``). A missing
    field stays ``UNSET``; ``null`` is ``None`` (off) for turn detection, transcription, noise
    reduction and tracing, and ``UNSET`` elsewhere. Valid GA values these settings cannot
    hold (a custom voice object, an MCP tool choice, retention-ratio truncation) stay ``UNSET``.
    """
    r = _Reader(event_type)
    root = r.obj(session, "session")
    kind = r.get(root, "type", "", str)
    if kind not in (_ABSENT, None, "realtime"):
        raise r.error("type", f"expected 'realtime', got {kind!r}")
    fields: dict[str, Any] = {
        "model_name": r.get(root, "model", "", str),
        "instructions": r.get(root, "instructions", "", str),
    }
    modalities = r.get(root, "output_modalities", "", list)
    if isinstance(modalities, list):
        fields["output_modalities"] = modalities

    audio = r.get(root, "audio", "", Mapping)
    audio_in = r.get(audio, "input", "audio", Mapping) if isinstance(audio, Mapping) else None
    if isinstance(audio_in, Mapping):
        fields.update(_parse_audio_input(r, audio_in))
    audio_out = r.get(audio, "output", "audio", Mapping) if isinstance(audio, Mapping) else None
    if isinstance(audio_out, Mapping):
        path = "audio.output"
        fields["output_audio_format"] = _parse_format(r, audio_out, path)
        voice = r.get(audio_out, "voice", path, str, Mapping)
        fields["voice"] = voice if isinstance(voice, str) else _ABSENT
        fields["speed"] = r.get(audio_out, "speed", path, int, float)

    fields["tool_choice"] = _parse_tool_choice(r, root)
    tokens = r.get(root, "max_output_tokens", "", int, str)
    fields["max_output_tokens"] = tokens
    fields["tracing"] = _parse_tracing(r, root)
    prompt = r.get(root, "prompt", "", Mapping)
    if isinstance(prompt, Mapping):
        fields["prompt"] = r.build(
            "prompt",
            PromptConfig,
            id=r.required(prompt, "id", "prompt", str),
            version=r.get(prompt, "version", "prompt", str),
            variables=r.get(prompt, "variables", "prompt", Mapping),
        )
    truncation = r.get(root, "truncation", "", str, Mapping)
    fields["truncation"] = truncation if isinstance(truncation, str) else _ABSENT

    given = {k: v for k, v in fields.items() if v is not _ABSENT}
    # null means "off" only where the API has an off; anywhere else it just means unset.
    given = {k: v for k, v in given.items() if v is not None or k in _NULLABLE}
    # One field at a time first, so the error names the field the server got wrong.
    for name, value in given.items():
        r.build(_WIRE_PATHS.get(name, name), SessionModelSettings, **{name: value})
    return SessionModelSettings(**given)


_NULLABLE: Final = frozenset(
    {"input_audio_transcription", "input_audio_noise_reduction", "turn_detection", "tracing"}
)
_WIRE_PATHS: Final = {
    "model_name": "model",
    "voice": "audio.output.voice",
    "speed": "audio.output.speed",
    "input_audio_format": "audio.input.format",
    "output_audio_format": "audio.output.format",
}


def _parse_format(r: _Reader, parent: Mapping[str, Any], path: str) -> Any:
    value = parent.get("format", _ABSENT)
    if value is _ABSENT or value is None:
        return _ABSENT
    # AudioFormat.from_wire looks "type" up in a dict, which a list or object there would
    # turn into a TypeError; a non-str type is refused here first.
    if isinstance(value, Mapping) and not isinstance(value.get("type"), str):
        raise r.error(f"{path}.format", f"invalid audio format {value!r}")
    try:
        return AudioFormat.from_wire(value)
    except (RemoteProtocolError, LocalProtocolError) as exc:
        raise r.error(f"{path}.format", str(exc)) from None


def _parse_audio_input(r: _Reader, audio_in: Mapping[str, Any]) -> dict[str, Any]:
    path = "audio.input"
    fields: dict[str, Any] = {"input_audio_format": _parse_format(r, audio_in, path)}

    transcription = r.get(audio_in, "transcription", path, Mapping)
    if isinstance(transcription, Mapping):
        tpath = f"{path}.transcription"
        model = r.get(transcription, "model", tpath, str)
        transcription = r.build(
            tpath,
            TranscriptionConfig,
            model=_ABSENT if model is None else model,
            language=r.get(transcription, "language", tpath, str),
            prompt=r.get(transcription, "prompt", tpath, str),
        )
    fields["input_audio_transcription"] = transcription

    noise = r.get(audio_in, "noise_reduction", path, Mapping)
    if isinstance(noise, Mapping):
        npath = f"{path}.noise_reduction"
        noise_type = r.get(noise, "type", npath, str)
        # GA lets a server omit the type (only a strength); that cannot be held here.
        noise = (
            _ABSENT
            if noise_type in (_ABSENT, None)
            else r.build(npath, NoiseReductionConfig, type=noise_type)
        )
    fields["input_audio_noise_reduction"] = noise

    turn = r.get(audio_in, "turn_detection", path, Mapping)
    if isinstance(turn, Mapping):
        fields["turn_detection"] = _parse_turn_detection(r, turn, f"{path}.turn_detection")
    else:
        fields["turn_detection"] = turn
    return fields


def _parse_turn_detection(r: _Reader, turn: Mapping[str, Any], path: str) -> TurnDetectionConfig:
    kind = r.get(turn, "type", path, str)
    common = {
        "create_response": r.get(turn, "create_response", path, bool),
        "interrupt_response": r.get(turn, "interrupt_response", path, bool),
    }
    # Only the fields of the announced type are read: a server echoing a default of another
    # type's field is not worth failing the whole session object over.
    if kind == "server_vad":
        return r.build(
            path,
            TurnDetectionConfig,
            type=kind,
            threshold=r.get(turn, "threshold", path, int, float),
            prefix_padding_ms=r.get(turn, "prefix_padding_ms", path, int),
            silence_duration_ms=r.get(turn, "silence_duration_ms", path, int),
            idle_timeout_ms=r.get(turn, "idle_timeout_ms", path, int),
            **common,
        )
    if kind == "semantic_vad":
        return r.build(
            path,
            TurnDetectionConfig,
            type=kind,
            eagerness=r.get(turn, "eagerness", path, str),
            **common,
        )
    raise r.error(f"{path}.type", f"expected 'server_vad' or 'semantic_vad', got {kind!r}")


def _parse_tool_choice(r: _Reader, root: Mapping[str, Any]) -> Any:
    choice = r.get(root, "tool_choice", "", str, Mapping)
    if not isinstance(choice, Mapping):
        return choice
    if choice.get("type") == "function":
        return r.build(
            "tool_choice",
            ToolChoiceFunction,
            name=r.required(choice, "name", "tool_choice", str),
        )
    if choice.get("type") == "mcp":
        return _ABSENT
    raise r.error("tool_choice.type", f"expected 'function' or 'mcp', got {choice.get('type')!r}")


def _parse_tracing(r: _Reader, root: Mapping[str, Any]) -> Any:
    tracing = r.get(root, "tracing", "", str, Mapping)
    if not isinstance(tracing, Mapping):
        return tracing
    return r.build(
        "tracing",
        TracingConfig,
        workflow_name=r.get(tracing, "workflow_name", "tracing", str),
        group_id=r.get(tracing, "group_id", "tracing", str),
        metadata=r.get(tracing, "metadata", "tracing", Mapping),
    )
