"""The API's surface as shapes (``_shapes``): what ``session.update`` and ``response.create``
accept, in GA and in beta, key by key, with the closed sets and ranges the API has.

Written from the ``openai`` package's request types (``RealtimeSessionCreateRequestParam``,
``RealtimeResponseCreateParamsWithReferencesParam`` and the types they nest; beta's
``session_update_event_param``); ``tests/test_fake_server_surface.py`` walks those types and
checks that every key they name is here and that nothing else is. Ranges the types only state
in their docstrings (``speed`` 0.25 to 1.5, ``threshold`` 0 to 1, ``retention_ratio`` 0 to 1,
``max_output_tokens`` 1 to 4096) are enforced as stated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.values import TURN_DETECTION_FIELDS
from ._shapes import Shape

__all__ = [
    "BETA_RESPONSE",
    "BETA_SESSION",
    "GA_RESPONSE",
    "GA_SESSION",
    "INCLUDE_LOGPROBS",
    "REASONING_EFFORTS",
]


def _leaf(*kinds: str, **options: Any) -> Shape:
    return Shape(kinds=frozenset(kinds), **options)


def _object(fields: Mapping[str, Shape], *extra_kinds: str, **options: Any) -> Shape:
    return Shape(kinds=frozenset({"object", *extra_kinds}), fields=fields, **options)


def _one_of(*values: Any, kinds: tuple[str, ...] = ("string",)) -> Shape:
    return _leaf(*kinds, values=frozenset(values))


def _variants(
    variants: Mapping[str, Shape], *extra_kinds: str, default: str | None = None, **options: Any
) -> Shape:
    """An object whose shape depends on its ``type``; each variant gets its ``type`` field."""
    full = {
        tag: Shape(
            kinds=shape.kinds,
            fields={"type": _one_of(tag), **(shape.fields or {})},
            required=shape.required,
        )
        for tag, shape in variants.items()
    }
    return Shape(
        kinds=frozenset({"object", *extra_kinds}), variants=full, default_variant=default, **options
    )


_STRING, _INTEGER, _NUMBER, _BOOLEAN = (
    _leaf("string"),
    _leaf("integer"),
    _leaf("number"),
    _leaf("boolean"),
)
_ANY_OBJECT = _leaf("object")
_STRINGS = Shape(kinds=frozenset({"array"}), items=_STRING)
_NULLABLE_STRING = _leaf("string", "null")
_STRING_MAP = Shape(kinds=frozenset({"object", "null"}), entries=_STRING)

INCLUDE_LOGPROBS = "item.input_audio_transcription.logprobs"
"""The one ``include`` value: logprobs on input transcription events."""
REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh")

_FORMAT = _variants(
    {
        "audio/pcm": _object({"rate": _one_of(24000, kinds=("integer",))}),
        "audio/pcmu": _object({}),
        "audio/pcma": _object({}),
    }
)

_TURN_DETECTION_KINDS = {
    "threshold": _leaf("number", minimum=0.0, maximum=1.0),
    "prefix_padding_ms": _leaf("integer", minimum=0),
    "silence_duration_ms": _leaf("integer", minimum=0),
    "idle_timeout_ms": _leaf("integer", "null", minimum=0),
    "create_response": _BOOLEAN,
    "interrupt_response": _BOOLEAN,
    "eagerness": _one_of("low", "medium", "high", "auto"),
}
# Which fields go with which type is the config's knowledge, kept in one place.
_TURN_DETECTION = _variants(
    {
        kind: _object({name: _TURN_DETECTION_KINDS[name] for name in sorted(names)})
        for kind, names in TURN_DETECTION_FIELDS.items()
    },
    "null",
)
_TRANSCRIPTION = _object(
    {
        "model": _STRING,
        "language": _STRING,
        "prompt": _STRING,
        "delay": _one_of(*REASONING_EFFORTS),
        "keywords": _STRINGS,
        "languages": _STRINGS,
    },
    "null",  # null turns transcription off
)
_NOISE_REDUCTION = _object(
    {"type": _one_of("near_field", "far_field"), "strength": _NUMBER}, "null"
)
_VOICE = _object({"id": _STRING}, "string", required=frozenset({"id"}))
_FUNCTION_TOOL = _object(
    {"name": _STRING, "description": _STRING, "parameters": _ANY_OBJECT},
    # The fake's brain calls tools by name: a function tool without one is refused.
    required=frozenset({"name"}),
)
_TOOL_FILTER = _object({"read_only": _BOOLEAN, "tool_names": _STRINGS})
_MCP_TOOL = _object(
    {
        "server_label": _STRING,
        "allowed_callers": Shape(
            kinds=frozenset({"array", "null"}), items=_one_of("direct", "programmatic")
        ),
        "allowed_tools": _object(_TOOL_FILTER.fields or {}, "array", "null", items=_STRING),
        "authorization": _STRING,
        "connector_id": _one_of(
            "connector_dropbox",
            "connector_gmail",
            "connector_googlecalendar",
            "connector_googledrive",
            "connector_microsoftteams",
            "connector_outlookcalendar",
            "connector_outlookemail",
            "connector_sharepoint",
        ),
        "defer_loading": _BOOLEAN,
        "headers": _STRING_MAP,
        "require_approval": _object(
            {"always": _TOOL_FILTER, "never": _TOOL_FILTER},
            "string",
            "null",
            values=frozenset({"always", "never"}),
        ),
        "server_description": _STRING,
        "server_url": _STRING,
        "tunnel_id": _STRING,
    },
    required=frozenset({"server_label"}),
)
_TOOLS = Shape(
    kinds=frozenset({"array"}),
    items=_variants({"function": _FUNCTION_TOOL, "mcp": _MCP_TOOL}, default="function"),
)
_TOOL_CHOICE = _variants(
    {
        "function": _object({"name": _STRING}, required=frozenset({"name"})),
        "mcp": _object(
            {"server_label": _STRING, "name": _NULLABLE_STRING},
            required=frozenset({"server_label"}),
        ),
    },
    "string",
    values=frozenset({"none", "auto", "required"}),
)
_MAX_TOKENS = _leaf("integer", "string", values=frozenset({"inf"}), minimum=1, maximum=4096)
_TRACING = _object(
    {"workflow_name": _STRING, "group_id": _STRING, "metadata": _ANY_OBJECT},
    "string",
    "null",
    values=frozenset({"auto"}),
)
_TRUNCATION = _variants(
    {
        "retention_ratio": _object(
            {
                "retention_ratio": _leaf("number", minimum=0.0, maximum=1.0),
                "token_limits": _object({"post_instructions": _leaf("integer", minimum=0)}),
            },
            required=frozenset({"retention_ratio"}),
        )
    },
    "string",
    values=frozenset({"auto", "disabled"}),
)
_PROMPT = _object(
    {
        "id": _STRING,
        "version": _NULLABLE_STRING,
        "variables": Shape(kinds=frozenset({"object", "null"}), entries=_leaf("string", "object")),
    },
    "null",
    required=frozenset({"id"}),
)
_REASONING = _object({"effort": _one_of(*REASONING_EFFORTS)})
_MODALITIES = Shape(kinds=frozenset({"array"}), items=_one_of("text", "audio"))

GA_SESSION = _object(
    {
        "type": _one_of("realtime"),
        "model": _STRING,
        "instructions": _STRING,
        "output_modalities": _MODALITIES,
        "audio": _object(
            {
                "input": _object(
                    {
                        "format": _FORMAT,
                        "transcription": _TRANSCRIPTION,
                        "noise_reduction": _NOISE_REDUCTION,
                        "turn_detection": _TURN_DETECTION,
                    }
                ),
                "output": _object(
                    {
                        "format": _FORMAT,
                        "voice": _VOICE,
                        "speed": _leaf("number", minimum=0.25, maximum=1.5),
                    }
                ),
            }
        ),
        "tools": _TOOLS,
        "tool_choice": _TOOL_CHOICE,
        "max_output_tokens": _MAX_TOKENS,
        "tracing": _TRACING,
        "truncation": _TRUNCATION,
        "prompt": _PROMPT,
        "include": Shape(kinds=frozenset({"array"}), items=_one_of(INCLUDE_LOGPROBS)),
        "parallel_tool_calls": _BOOLEAN,
        "reasoning": _REASONING,
    },
    required=frozenset({"type"}),
)
"""``session.update``'s ``session`` (GA)."""

_ITEMS = _leaf("array")  # each item is checked by _rules.item_problem

GA_RESPONSE = _object(
    {
        "audio": _object({"output": _object({"format": _FORMAT, "voice": _VOICE})}),
        "conversation": _STRING,
        "input": _ITEMS,
        "instructions": _STRING,
        "max_output_tokens": _MAX_TOKENS,
        "metadata": _STRING_MAP,
        "output_modalities": _MODALITIES,
        "parallel_tool_calls": _BOOLEAN,
        "prompt": _PROMPT,
        "reasoning": _REASONING,
        "tool_choice": _TOOL_CHOICE,
        "tools": _TOOLS,
    }
)
"""``response.create``'s ``response`` (GA)."""

_BETA_FORMAT = _one_of("pcm16", "g711_ulaw", "g711_alaw")

# The beta protocol names its models (the openai package's beta ``Session.model``); GA takes
# any string.
_BETA_MODEL = _one_of(
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-4o-realtime-preview",
    "gpt-4o-realtime-preview-2024-10-01",
    "gpt-4o-realtime-preview-2024-12-17",
    "gpt-4o-realtime-preview-2025-06-03",
    "gpt-4o-mini-realtime-preview",
    "gpt-4o-mini-realtime-preview-2024-12-17",
)
_BETA_TOOLS = Shape(
    kinds=frozenset({"array"}), items=_variants({"function": _FUNCTION_TOOL}, default="function")
)
_BETA_TOOL_CHOICE = _STRING  # beta names a function by its name, as a string

BETA_SESSION = _object(
    {
        "model": _BETA_MODEL,
        "instructions": _STRING,
        "modalities": _STRINGS,
        "voice": _STRING,
        "speed": _leaf("number", minimum=0.25, maximum=1.5),
        "input_audio_format": _BETA_FORMAT,
        "output_audio_format": _BETA_FORMAT,
        "input_audio_transcription": _TRANSCRIPTION,
        "input_audio_noise_reduction": _NOISE_REDUCTION,
        "turn_detection": _TURN_DETECTION,
        "tools": _BETA_TOOLS,
        "tool_choice": _BETA_TOOL_CHOICE,
        "temperature": _NUMBER,
        "max_response_output_tokens": _MAX_TOKENS,
        "tracing": _TRACING,
        "include": _STRINGS,
    }
)
"""``session.update``'s ``session`` in the beta dialect: flat, with format names."""

BETA_RESPONSE = _object(
    {
        "conversation": _STRING,
        "input": _ITEMS,
        "instructions": _STRING,
        "max_response_output_tokens": _MAX_TOKENS,
        "metadata": _STRING_MAP,
        "modalities": _STRINGS,
        "output_audio_format": _BETA_FORMAT,
        "temperature": _NUMBER,
        "tool_choice": _BETA_TOOL_CHOICE,
        "tools": _BETA_TOOLS,
        "voice": _STRING,
    }
)
"""``response.create``'s ``response`` in the beta dialect."""
