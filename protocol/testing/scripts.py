"""What a scripted response contains: the caller chooses, the ``ServerModel`` streams it.

A real model decides what to say; a test wants to decide instead, so that hypothesis can pick
(and shrink) the contents. A ``ResponseScript`` lists the response's output items in order:
text, audio with its transcript, function calls; and optionally a failure, after which the
response ends with status ``failed``. How finely each output is cut into deltas is part of the
script too, so one conversation can be streamed in many different chunkings.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import attrs

from ..errors import LocalProtocolError

__all__ = [
    "DEFAULT_SCRIPT",
    "ResponseScript",
    "ScriptAudio",
    "ScriptCall",
    "ScriptOutput",
    "ScriptText",
    "chunks",
    "estimate_tokens",
    "limit_tokens",
]


def _positive(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LocalProtocolError(f"{type(instance).__name__}.{attribute.name} must be >= 1")


def _non_negative(instance: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LocalProtocolError(f"{type(instance).__name__}.{attribute.name} must be >= 0")


@attrs.frozen(kw_only=True, slots=True)
class ScriptText:
    """An assistant message in text, streamed ``chunk`` characters per delta."""

    text: str
    chunk: int = attrs.field(default=8, validator=_positive)


@attrs.frozen(kw_only=True, slots=True)
class ScriptAudio:
    """An assistant message in audio: ``duration_ms`` of audio in ``chunk_ms`` deltas, and its
    transcript in ``transcript_chunk``-character deltas beside them."""

    transcript: str
    duration_ms: int = attrs.field(default=400, validator=_non_negative)
    chunk_ms: int = attrs.field(default=100, validator=_positive)
    transcript_chunk: int = attrs.field(default=8, validator=_positive)


@attrs.frozen(kw_only=True, slots=True)
class ScriptCall:
    """A function call: ``arguments`` (any text, valid JSON or not) streamed ``chunk``
    characters per delta. The server model gives it a fresh ``call_id``."""

    name: str
    arguments: str = "{}"
    chunk: int = attrs.field(default=16, validator=_positive)


ScriptOutput: TypeAlias = ScriptText | ScriptAudio | ScriptCall


def _to_outputs(value: Any) -> tuple[ScriptOutput, ...]:
    outputs = tuple(value)
    for output in outputs:
        if not isinstance(output, ScriptText | ScriptAudio | ScriptCall):
            raise LocalProtocolError(
                f"a ResponseScript holds ScriptText, ScriptAudio or ScriptCall, not {output!r}"
            )
    return outputs


@attrs.frozen(kw_only=True, slots=True)
class ResponseScript:
    """The output items of one response, in order; ``failure`` (an error code) makes the
    response end ``failed`` once they are streamed."""

    outputs: tuple[ScriptOutput, ...] = attrs.field(default=(), converter=_to_outputs)
    failure: str | None = None
    incomplete: str | None = None
    """Why the response stopped short (``max_output_tokens``, ``content_filter``): it ends
    ``incomplete`` with that reason, its last output item ``incomplete`` too."""

    @property
    def has_audio(self) -> bool:
        return any(isinstance(output, ScriptAudio) for output in self.outputs)


DEFAULT_SCRIPT = ResponseScript(outputs=(ScriptText(text="OK.", chunk=8),))
"""What a response says when nothing was scripted: a short text reply, no tool call, so that
a conversation left to run on its own comes to rest."""


def chunks(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of ``size`` characters (no pieces for an empty text)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def estimate_tokens(text: str) -> int:
    """Tokens in ``text``, by the usual rule of thumb for English: four characters each."""
    return math.ceil(len(text) / 4)


def limit_tokens(script: ResponseScript, budget: int) -> ResponseScript:
    """``script`` cut to ``budget`` output tokens (text, transcripts and arguments counted by
    ``estimate_tokens``), as ``max_output_tokens`` cuts a response: the output that reaches
    the limit stops there (audio with its transcript), later ones are dropped, and the script
    is marked ``incomplete``. A script within the budget comes back as it is."""
    kept: list[ScriptOutput] = []
    for output in script.outputs:
        text = (
            output.text
            if isinstance(output, ScriptText)
            else output.transcript
            if isinstance(output, ScriptAudio)
            else output.arguments
        )
        tokens = estimate_tokens(text)
        if tokens <= budget:
            kept.append(output)
            budget -= tokens
            continue
        cut = text[: 4 * budget]
        if isinstance(output, ScriptText):
            kept.append(attrs.evolve(output, text=cut))
        elif isinstance(output, ScriptAudio):
            ms = output.duration_ms * len(cut) // max(1, len(text))
            kept.append(attrs.evolve(output, transcript=cut, duration_ms=ms))
        else:
            kept.append(attrs.evolve(output, arguments=cut))
        return attrs.evolve(script, outputs=tuple(kept), incomplete="max_output_tokens")
    return script
