"""One realistic GA JSON object for every server and client event type.

Each sample is checked against the ``openai`` package's models (test_wire_conformance), so
the codec tests decode frames the real server could have sent.
"""

from __future__ import annotations

import base64
from typing import Any

AUDIO = bytes(range(256)) * 19  # 4,864 bytes: a bit over 100 ms of 24 kHz PCM16
AUDIO_B64 = base64.b64encode(AUDIO).decode("ascii")

R = {"response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0}

SESSION: dict[str, Any] = {
    "type": "realtime",
    "model": "gpt-realtime",
    "instructions": "Be brief.",
    "output_modalities": ["audio"],
    "audio": {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": {"model": "gpt-4o-mini-transcribe"},
            "noise_reduction": {"type": "near_field"},
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 500,
                "create_response": True,
                "interrupt_response": True,
            },
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy", "speed": 1.0},
    },
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        }
    ],
    "tool_choice": "auto",
    "max_output_tokens": "inf",
    "tracing": "auto",
}

USER_ITEM = {
    "id": "item_0",
    "type": "message",
    "role": "user",
    "status": "completed",
    "object": "realtime.item",
    "content": [{"type": "input_text", "text": "What's the weather in Paris?"}],
}
ASSISTANT_ITEM = {
    "id": "item_1",
    "type": "message",
    "role": "assistant",
    "status": "in_progress",
    "object": "realtime.item",
    "content": [{"type": "output_audio", "transcript": "It is sunny."}],
}
CALL_ITEM = {
    "id": "item_2",
    "type": "function_call",
    "status": "completed",
    "object": "realtime.item",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"city":"Paris"}',
}
RESPONSE = {
    "id": "resp_1",
    "object": "realtime.response",
    "status": "completed",
    "status_details": None,
    "output": [ASSISTANT_ITEM],
    "conversation_id": "conv_1",
    "output_modalities": ["audio"],
    "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}},
    "max_output_tokens": "inf",
    "metadata": None,
    "usage": {
        "total_tokens": 60,
        "input_tokens": 20,
        "output_tokens": 40,
        "input_token_details": {"text_tokens": 20, "audio_tokens": 0, "cached_tokens": 0},
        "output_token_details": {"text_tokens": 10, "audio_tokens": 30},
    },
}

SERVER_SAMPLES: dict[str, dict[str, Any]] = {
    "error": {
        "type": "error",
        "event_id": "ev_1",
        "error": {
            "type": "invalid_request_error",
            "code": "conversation_already_has_active_response",
            "message": "Conversation already has an active response in progress: resp_1.",
            "param": None,
            "event_id": "client_7",
        },
    },
    "session.created": {"type": "session.created", "event_id": "ev_2", "session": SESSION},
    "session.updated": {"type": "session.updated", "event_id": "ev_3", "session": SESSION},
    "conversation.created": {
        "type": "conversation.created",
        "event_id": "ev_4",
        "conversation": {"id": "conv_1", "object": "realtime.conversation"},
    },
    "conversation.item.created": {
        "type": "conversation.item.created",
        "event_id": "ev_5",
        "previous_item_id": None,
        "item": USER_ITEM,
    },
    "conversation.item.added": {
        "type": "conversation.item.added",
        "event_id": "ev_6",
        "previous_item_id": "item_0",
        "item": ASSISTANT_ITEM,
    },
    "conversation.item.done": {
        "type": "conversation.item.done",
        "event_id": "ev_7",
        "previous_item_id": "item_0",
        "item": {**ASSISTANT_ITEM, "status": "completed"},
    },
    "conversation.item.retrieved": {
        "type": "conversation.item.retrieved",
        "event_id": "ev_8",
        "item": CALL_ITEM,
    },
    "conversation.item.deleted": {
        "type": "conversation.item.deleted",
        "event_id": "ev_9",
        "item_id": "item_1",
    },
    "conversation.item.truncated": {
        "type": "conversation.item.truncated",
        "event_id": "ev_10",
        "item_id": "item_1",
        "content_index": 0,
        "audio_end_ms": 1500,
    },
    "conversation.item.input_audio_transcription.completed": {
        "type": "conversation.item.input_audio_transcription.completed",
        "event_id": "ev_11",
        "item_id": "item_0",
        "content_index": 0,
        "transcript": "What's the weather in Paris?",
        "usage": {"type": "duration", "seconds": 2.5},
    },
    "conversation.item.input_audio_transcription.delta": {
        "type": "conversation.item.input_audio_transcription.delta",
        "event_id": "ev_12",
        "item_id": "item_0",
        "content_index": 0,
        "delta": "What's the",
    },
    "conversation.item.input_audio_transcription.failed": {
        "type": "conversation.item.input_audio_transcription.failed",
        "event_id": "ev_13",
        "item_id": "item_0",
        "content_index": 0,
        "error": {"type": "transcription_error", "code": "audio_unintelligible", "message": "?"},
    },
    "conversation.item.input_audio_transcription.segment": {
        "type": "conversation.item.input_audio_transcription.segment",
        "event_id": "ev_14",
        "id": "seg_1",
        "item_id": "item_0",
        "content_index": 0,
        "text": "What's the weather",
        "speaker": "A",
        "start": 0.0,
        "end": 1.25,
    },
    "input_audio_buffer.committed": {
        "type": "input_audio_buffer.committed",
        "event_id": "ev_15",
        "item_id": "item_0",
        "previous_item_id": None,
    },
    "input_audio_buffer.cleared": {"type": "input_audio_buffer.cleared", "event_id": "ev_16"},
    "input_audio_buffer.speech_started": {
        "type": "input_audio_buffer.speech_started",
        "event_id": "ev_17",
        "item_id": "item_0",
        "audio_start_ms": 120,
    },
    "input_audio_buffer.speech_stopped": {
        "type": "input_audio_buffer.speech_stopped",
        "event_id": "ev_18",
        "item_id": "item_0",
        "audio_end_ms": 2600,
    },
    "input_audio_buffer.timeout_triggered": {
        "type": "input_audio_buffer.timeout_triggered",
        "event_id": "ev_19",
        "item_id": "item_9",
        "audio_start_ms": 6000,
        "audio_end_ms": 11000,
    },
    "input_audio_buffer.dtmf_event_received": {
        "type": "input_audio_buffer.dtmf_event_received",
        "event": "5",
        "received_at": 1767225600,
    },
    "output_audio_buffer.started": {
        "type": "output_audio_buffer.started",
        "event_id": "ev_20",
        "response_id": "resp_1",
    },
    "output_audio_buffer.stopped": {
        "type": "output_audio_buffer.stopped",
        "event_id": "ev_21",
        "response_id": "resp_1",
    },
    "output_audio_buffer.cleared": {
        "type": "output_audio_buffer.cleared",
        "event_id": "ev_22",
        "response_id": "resp_1",
    },
    "rate_limits.updated": {
        "type": "rate_limits.updated",
        "event_id": "ev_23",
        "rate_limits": [
            {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60.0},
            {"name": "tokens", "limit": 50000, "remaining": 49940, "reset_seconds": 0.07},
        ],
    },
    "response.created": {
        "type": "response.created",
        "event_id": "ev_24",
        "response": {**RESPONSE, "status": "in_progress", "output": [], "usage": None},
    },
    "response.done": {"type": "response.done", "event_id": "ev_25", "response": RESPONSE},
    "response.output_item.added": {
        "type": "response.output_item.added",
        "event_id": "ev_26",
        "response_id": "resp_1",
        "output_index": 0,
        "item": {**ASSISTANT_ITEM, "content": []},
    },
    "response.output_item.done": {
        "type": "response.output_item.done",
        "event_id": "ev_27",
        "response_id": "resp_1",
        "output_index": 0,
        "item": {**ASSISTANT_ITEM, "status": "completed"},
    },
    "response.content_part.added": {
        "type": "response.content_part.added",
        "event_id": "ev_28",
        **R,
        "part": {"type": "audio", "transcript": ""},
    },
    "response.content_part.done": {
        "type": "response.content_part.done",
        "event_id": "ev_29",
        **R,
        "part": {"type": "audio", "transcript": "It is sunny."},
    },
    "response.output_text.delta": {
        "type": "response.output_text.delta",
        "event_id": "ev_30",
        **R,
        "delta": "It is",
    },
    "response.output_text.done": {
        "type": "response.output_text.done",
        "event_id": "ev_31",
        **R,
        "text": "It is sunny.",
    },
    "response.output_audio.delta": {
        "type": "response.output_audio.delta",
        "event_id": "ev_32",
        **R,
        "delta": AUDIO_B64,
    },
    "response.output_audio.done": {"type": "response.output_audio.done", "event_id": "ev_33", **R},
    "response.output_audio_transcript.delta": {
        "type": "response.output_audio_transcript.delta",
        "event_id": "ev_34",
        **R,
        "delta": "It is ",
    },
    "response.output_audio_transcript.done": {
        "type": "response.output_audio_transcript.done",
        "event_id": "ev_35",
        **R,
        "transcript": "It is sunny.",
    },
    "response.function_call_arguments.delta": {
        "type": "response.function_call_arguments.delta",
        "event_id": "ev_36",
        "response_id": "resp_1",
        "item_id": "item_2",
        "output_index": 1,
        "call_id": "call_1",
        "delta": '{"city":',
    },
    "response.function_call_arguments.done": {
        "type": "response.function_call_arguments.done",
        "event_id": "ev_37",
        "response_id": "resp_1",
        "item_id": "item_2",
        "output_index": 1,
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    },
    "mcp_list_tools.in_progress": {
        "type": "mcp_list_tools.in_progress",
        "event_id": "ev_38",
        "item_id": "mcp_1",
    },
    "mcp_list_tools.completed": {
        "type": "mcp_list_tools.completed",
        "event_id": "ev_39",
        "item_id": "mcp_1",
    },
    "mcp_list_tools.failed": {
        "type": "mcp_list_tools.failed",
        "event_id": "ev_40",
        "item_id": "mcp_1",
    },
    "response.mcp_call_arguments.delta": {
        "type": "response.mcp_call_arguments.delta",
        "event_id": "ev_41",
        "response_id": "resp_1",
        "item_id": "mcp_2",
        "output_index": 0,
        "delta": '{"q":',
    },
    "response.mcp_call_arguments.done": {
        "type": "response.mcp_call_arguments.done",
        "event_id": "ev_42",
        "response_id": "resp_1",
        "item_id": "mcp_2",
        "output_index": 0,
        "arguments": '{"q":"x"}',
    },
    "response.mcp_call.in_progress": {
        "type": "response.mcp_call.in_progress",
        "event_id": "ev_43",
        "item_id": "mcp_2",
        "output_index": 0,
    },
    "response.mcp_call.completed": {
        "type": "response.mcp_call.completed",
        "event_id": "ev_44",
        "item_id": "mcp_2",
        "output_index": 0,
    },
    "response.mcp_call.failed": {
        "type": "response.mcp_call.failed",
        "event_id": "ev_45",
        "item_id": "mcp_2",
        "output_index": 0,
    },
}

CLIENT_SAMPLES: dict[str, dict[str, Any]] = {
    "session.update": {"type": "session.update", "event_id": "c1", "session": SESSION},
    "input_audio_buffer.append": {"type": "input_audio_buffer.append", "audio": AUDIO_B64},
    "input_audio_buffer.commit": {"type": "input_audio_buffer.commit"},
    "input_audio_buffer.clear": {"type": "input_audio_buffer.clear", "event_id": "c2"},
    "output_audio_buffer.clear": {"type": "output_audio_buffer.clear"},
    "conversation.item.create": {
        "type": "conversation.item.create",
        "previous_item_id": "item_0",
        "item": {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello."}],
        },
    },
    "conversation.item.retrieve": {"type": "conversation.item.retrieve", "item_id": "item_1"},
    "conversation.item.truncate": {
        "type": "conversation.item.truncate",
        "item_id": "item_1",
        "content_index": 0,
        "audio_end_ms": 1500,
    },
    "conversation.item.delete": {"type": "conversation.item.delete", "item_id": "item_1"},
    "response.create": {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "output_modalities": ["text"],
            "instructions": "Reply with exactly ok.",
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Hi"}],
                }
            ],
            "metadata": {"purpose": "probe"},
            "audio": {"output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}},
            "max_output_tokens": 16,
        },
    },
    "response.cancel": {"type": "response.cancel", "response_id": "resp_1"},
}


def strip_nones(value: Any) -> Any:
    """JSON with null members removed (how our encoder writes optional fields)."""
    if isinstance(value, dict):
        return {k: strip_nones(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nones(v) for v in value]
    return value
