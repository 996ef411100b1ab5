"""The beta dialect as a translation of JSON objects, GA <-> beta, at the codec's edge.

The beta protocol (still spoken by Azure and compatible proxies; OpenAI itself has switched it
off, ``beta_api_shape_disabled``) differs from GA in a few event names and in three shapes:

- the session is flat: ``modalities``, ``voice``, ``input_audio_format: "pcm16"``,
  ``turn_detection``, ``input_audio_transcription``, ``max_response_output_tokens`` ... where GA
  nests ``audio.input`` / ``audio.output`` and says ``output_modalities``;
- ``response.create`` parameters and the response resource are flat the same way;
- assistant message content is ``text`` / ``audio`` where GA says ``output_text`` /
  ``output_audio``;
- a forced function tool choice is its bare name, where GA says
  ``{"type": "function", "name": ...}``.

Functions named ``*_to_beta`` translate what *we* produce (misuse is a LocalProtocolError);
``*_to_ga`` translate what a peer sent (bad data is a RemoteProtocolError). Fields neither
dialect renames pass through untouched, so a field this module does not know is not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ..audio.formats import AudioFormat
from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "BETA_TO_GA_EVENT_NAMES",
    "GA_TO_BETA_EVENT_NAMES",
    "client_event_to_beta",
    "client_event_to_ga",
    "item_to_beta",
    "item_to_ga",
    "response_params_to_beta",
    "response_params_to_ga",
    "server_event_to_beta",
    "server_event_to_ga",
    "session_to_beta",
    "session_to_ga",
]

GA_TO_BETA_EVENT_NAMES: dict[str, str] = {
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
}
BETA_TO_GA_EVENT_NAMES: dict[str, str] = {v: k for k, v in GA_TO_BETA_EVENT_NAMES.items()}

_ITEM_EVENTS = frozenset(
    {
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.retrieved",
        "conversation.item.create",
        "response.output_item.added",
        "response.output_item.done",
    }
)
_ASSISTANT_PART_TO_BETA = {"output_text": "text", "output_audio": "audio"}
_ASSISTANT_PART_TO_GA = {v: k for k, v in _ASSISTANT_PART_TO_BETA.items()}

# GA audio.input.* and audio.output.* keys <-> beta's flat keys (formats handled apart).
_INPUT_KEYS = {
    "transcription": "input_audio_transcription",
    "noise_reduction": "input_audio_noise_reduction",
    "turn_detection": "turn_detection",
}
_OUTPUT_KEYS = {"voice": "voice", "speed": "speed"}
_FLAT_INPUT = {v: k for k, v in _INPUT_KEYS.items()}
_FLAT_OUTPUT = {v: k for k, v in _OUTPUT_KEYS.items()}


def _object(value: Any, where: str, *, local: bool) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    error = LocalProtocolError if local else RemoteProtocolError
    raise error(f"{where} must be a JSON object, got {type(value).__name__}")


def _format_to_beta(value: Any) -> str:
    if isinstance(value, AudioFormat):
        return value.beta_name
    try:
        return AudioFormat.from_wire(value).beta_name
    except RemoteProtocolError as exc:
        raise LocalProtocolError(str(exc)) from None


def _format_to_ga(value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        raise RemoteProtocolError(f"beta audio format must be a string, got {value!r}")
    return AudioFormat.from_beta_name(value).to_wire()


_TOOL_CHOICE_MODES = ("auto", "none", "required")


def _tool_choice_to_beta(value: Any) -> Any:
    # Beta names a forced function by its bare name; GA by {"type": "function", "name": ...}.
    if isinstance(value, dict) and value.get("type") == "function" and "name" in value:
        name = value["name"]
        if name in _TOOL_CHOICE_MODES:
            # The bare name would be read as the mode: forcing a function named "none" would
            # silently become "call no tool".
            raise LocalProtocolError(
                f"tool_choice: the beta dialect cannot force a function named {name!r}, "
                f"which it reads as the tool_choice mode {name!r}; rename the function"
            )
        return name
    return value


def _tool_choice_to_ga(value: Any) -> Any:
    if isinstance(value, str) and value not in _TOOL_CHOICE_MODES:
        return {"type": "function", "name": value}
    return value


def _modalities_to_beta(value: Any) -> Any:
    # Beta audio output always comes with its text; GA names only the one modality.
    if isinstance(value, list) and "audio" in value:
        return ["audio", "text"]
    return value


def _modalities_to_ga(value: Any) -> Any:
    if isinstance(value, list) and "audio" in value:
        return ["audio"]
    return value


def session_to_beta(session: dict[str, Any]) -> dict[str, Any]:
    """A GA ``session`` object in the beta flat shape."""
    out: dict[str, Any] = {}
    for key, value in session.items():
        if key == "type":
            continue  # beta sessions carry no type
        if key == "output_modalities":
            out["modalities"] = _modalities_to_beta(value)
        elif key == "max_output_tokens":
            out["max_response_output_tokens"] = value
        elif key == "tool_choice":
            out[key] = _tool_choice_to_beta(value)
        elif key == "audio":
            _flatten_audio(_object(value, "session.audio", local=True), out)
        else:
            out[key] = value
    return out


def _flatten_audio(audio: dict[str, Any], out: dict[str, Any]) -> None:
    audio_in = _object(audio.get("input", {}), "session.audio.input", local=True)
    audio_out = _object(audio.get("output", {}), "session.audio.output", local=True)
    if "format" in audio_in:
        out["input_audio_format"] = _format_to_beta(audio_in["format"])
    for ga_key, beta_key in _INPUT_KEYS.items():
        if ga_key in audio_in:
            out[beta_key] = audio_in[ga_key]
    if "format" in audio_out:
        out["output_audio_format"] = _format_to_beta(audio_out["format"])
    for ga_key, beta_key in _OUTPUT_KEYS.items():
        if ga_key in audio_out:
            out[beta_key] = audio_out[ga_key]


def session_to_ga(session: dict[str, Any]) -> dict[str, Any]:
    """A beta flat ``session`` object in the GA shape."""
    out: dict[str, Any] = {"type": "realtime"}
    audio_in: dict[str, Any] = {}
    audio_out: dict[str, Any] = {}
    for key, value in session.items():
        if key == "modalities":
            out["output_modalities"] = _modalities_to_ga(value)
        elif key == "max_response_output_tokens":
            out["max_output_tokens"] = value
        elif key == "tool_choice":
            out[key] = _tool_choice_to_ga(value)
        elif key == "input_audio_format":
            audio_in["format"] = _format_to_ga(value)
        elif key == "output_audio_format":
            audio_out["format"] = _format_to_ga(value)
        elif key in _FLAT_INPUT:
            audio_in[_FLAT_INPUT[key]] = value
        elif key in _FLAT_OUTPUT:
            audio_out[_FLAT_OUTPUT[key]] = value
        else:
            out[key] = value
    _nest_audio(out, audio_in, audio_out)
    return out


def _nest_audio(out: dict[str, Any], audio_in: dict[str, Any], audio_out: dict[str, Any]) -> None:
    if audio_in or audio_out:
        audio: dict[str, Any] = {}
        if audio_in:
            audio["input"] = audio_in
        if audio_out:
            audio["output"] = audio_out
        out["audio"] = audio


def response_params_to_beta(params: dict[str, Any], *, resource: bool = False) -> dict[str, Any]:
    """``response.create``'s ``response`` in the beta shape; ``resource=True`` for the response
    object of ``response.created``/``done``, which keeps ``max_output_tokens`` in both dialects."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "max_output_tokens" and not resource:
            out["max_response_output_tokens"] = value
        elif key == "tool_choice":
            out[key] = _tool_choice_to_beta(value)
        elif key == "output_modalities":
            out["modalities"] = _modalities_to_beta(value)
        elif key == "audio":
            audio_out = _object(
                _object(value, "response.audio", local=True).get("output", {}),
                "response.audio.output",
                local=True,
            )
            if "format" in audio_out:
                out["output_audio_format"] = _format_to_beta(audio_out["format"])
            if "voice" in audio_out:
                out["voice"] = audio_out["voice"]
        elif key in ("input", "output") and isinstance(value, list):
            out[key] = [item_to_beta(i) if isinstance(i, dict) else i for i in value]
        else:
            out[key] = value
    return out


def response_params_to_ga(params: dict[str, Any], *, resource: bool = False) -> dict[str, Any]:
    """The inverse of ``response_params_to_beta``."""
    out: dict[str, Any] = {}
    audio_out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "max_response_output_tokens" and not resource:
            out["max_output_tokens"] = value
        elif key == "tool_choice":
            out[key] = _tool_choice_to_ga(value)
        elif key == "modalities":
            out["output_modalities"] = _modalities_to_ga(value)
        elif key == "output_audio_format":
            audio_out["format"] = _format_to_ga(value)
        elif key == "voice":
            audio_out["voice"] = value
        elif key in ("input", "output") and isinstance(value, list):
            out[key] = [item_to_ga(i) if isinstance(i, dict) else i for i in value]
        else:
            out[key] = value
    if audio_out:
        out["audio"] = {"output": audio_out}
    return out


def _rename_assistant_parts(item: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    content = item.get("content")
    if item.get("role") != "assistant" or not isinstance(content, list):
        return item
    parts = [
        {**part, "type": names[part["type"]]}
        if isinstance(part, dict) and part.get("type") in names
        else part
        for part in content
    ]
    return {**item, "content": parts}


def item_to_beta(item: dict[str, Any]) -> dict[str, Any]:
    return _rename_assistant_parts(item, _ASSISTANT_PART_TO_BETA)


def item_to_ga(item: dict[str, Any]) -> dict[str, Any]:
    return _rename_assistant_parts(item, _ASSISTANT_PART_TO_GA)


@attrs.frozen
class _Direction:
    """One way of the translation: its shape translators, and the event names it renames.
    ``local``: what it translates is ours (misuse is a LocalProtocolError), else the peer's."""

    session: Callable[[dict[str, Any]], dict[str, Any]]
    response: Callable[..., dict[str, Any]]
    item: Callable[[dict[str, Any]], dict[str, Any]]
    names: dict[str, str]
    local: bool


_TO_BETA = _Direction(
    session=session_to_beta,
    response=response_params_to_beta,
    item=item_to_beta,
    names=GA_TO_BETA_EVENT_NAMES,
    local=True,
)
_TO_GA = _Direction(
    session=session_to_ga,
    response=response_params_to_ga,
    item=item_to_ga,
    names=BETA_TO_GA_EVENT_NAMES,
    local=False,
)


def _translate(obj: dict[str, Any], way: _Direction, *, rename: bool) -> dict[str, Any]:
    """``obj`` one way: its type renamed (server events only) and its payload reshaped."""
    renamed = way.names.get(obj["type"]) if rename else None
    if renamed is not None:
        obj = {**obj, "type": renamed}
    event_type, local = obj["type"], way.local
    if event_type in ("session.update", "session.created", "session.updated"):
        if "session" in obj:
            return {**obj, "session": way.session(_object(obj["session"], "session", local=local))}
    elif event_type in ("response.create", "response.created", "response.done"):
        if obj.get("response") is not None:
            value = _object(obj["response"], "response", local=local)
            resource = event_type != "response.create"
            return {**obj, "response": way.response(value, resource=resource)}
    elif event_type in _ITEM_EVENTS and "item" in obj:
        return {**obj, "item": way.item(_object(obj["item"], "item", local=local))}
    return obj


def client_event_to_beta(obj: dict[str, Any]) -> dict[str, Any]:
    """A GA client event object in the beta dialect (client event names are shared)."""
    return _translate(obj, _TO_BETA, rename=False)


def client_event_to_ga(obj: dict[str, Any]) -> dict[str, Any]:
    """A beta client event object in GA terms."""
    return _translate(obj, _TO_GA, rename=False)


def server_event_to_beta(obj: dict[str, Any]) -> dict[str, Any]:
    """A GA server event object in the beta dialect."""
    return _translate(obj, _TO_BETA, rename=True)


def server_event_to_ga(obj: dict[str, Any]) -> dict[str, Any]:
    """A beta server event object in GA terms."""
    return _translate(obj, _TO_GA, rename=True)
