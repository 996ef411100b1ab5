"""Microseconds per server event for ``decode_server_event``, beside the floor measured in the
same run: plain ``json.loads`` plus ``base64.b64decode`` of the audio, over the same frames.

    python bench/codec.py [--turns N] [--repeat R]

The stream is a realistic conversation: per spoken turn, input VAD and transcription events,
``response.created``, item and content-part events, 100 ms audio deltas (4,800 bytes of 24 kHz
PCM16, 6,400 base64 characters) each with a transcript delta, the ``.done`` events and
``response.done`` with usage; every third turn also calls a function with streamed arguments.
Target: at most 1.5x the floor over the whole stream.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from realtime_sansio.protocol.wire import decode_server_event

TARGET = 1.5


def conversation(turns: int) -> list[str]:
    """The frames of ``turns`` spoken turns, as the GA server sends them."""
    frames: list[dict[str, Any]] = []
    n = 0

    def ev(event_type: str, **fields: Any) -> None:
        nonlocal n
        n += 1
        frames.append({"type": event_type, "event_id": f"event_{n:06d}", **fields})

    audio = base64.b64encode(bytes(range(256)) * 18 + bytes(192)).decode()  # 4,800 bytes
    words = [
        "the",
        "weather",
        "in",
        "paris",
        "is",
        "sunny",
        "with",
        "a",
        "light",
        "breeze",
        "this",
        "afternoon",
    ]
    for turn in range(turns):
        user, item, resp = f"item_u{turn}", f"item_a{turn}", f"resp_{turn}"
        ev("input_audio_buffer.speech_started", item_id=user, audio_start_ms=turn * 9000)
        ev("input_audio_buffer.speech_stopped", item_id=user, audio_end_ms=turn * 9000 + 2000)
        ev("input_audio_buffer.committed", item_id=user, previous_item_id=f"item_a{turn - 1}")
        ev(
            "conversation.item.added",
            item={
                "id": user,
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "transcript": None}],
            },
        )
        ev(
            "response.created",
            response={
                "id": resp,
                "object": "realtime.response",
                "status": "in_progress",
                "output": [],
            },
        )
        ev(
            "conversation.item.input_audio_transcription.delta",
            item_id=user,
            content_index=0,
            delta="what is the weather",
        )
        ev(
            "conversation.item.input_audio_transcription.completed",
            item_id=user,
            content_index=0,
            transcript="what is the weather in paris",
            usage={"type": "duration", "seconds": 2.0},
        )
        if turn % 3 == 2:
            call = {
                "id": f"item_c{turn}",
                "type": "function_call",
                "call_id": f"call_{turn}",
                "name": "get_weather",
                "arguments": "",
            }
            ev("response.output_item.added", response_id=resp, output_index=0, item=call)
            for piece in ['{"ci', 'ty":', ' "Pa', 'ris"', "}"]:
                ev(
                    "response.function_call_arguments.delta",
                    response_id=resp,
                    item_id=call["id"],
                    output_index=0,
                    call_id=call["call_id"],
                    delta=piece,
                )
            ev(
                "response.function_call_arguments.done",
                response_id=resp,
                item_id=call["id"],
                output_index=0,
                call_id=call["call_id"],
                name="get_weather",
                arguments='{"city": "Paris"}',
            )
            ev(
                "response.output_item.done",
                response_id=resp,
                output_index=0,
                item={**call, "arguments": '{"city": "Paris"}', "status": "completed"},
            )
        r = {"response_id": resp, "item_id": item, "output_index": 0, "content_index": 0}
        msg = {"id": item, "type": "message", "role": "assistant", "content": []}
        ev("response.output_item.added", response_id=resp, output_index=0, item=msg)
        ev("conversation.item.added", previous_item_id=user, item=msg)
        ev("response.content_part.added", **r, part={"type": "audio", "transcript": ""})
        for i in range(30):  # 3 s of speech
            ev("response.output_audio_transcript.delta", **r, delta=words[i % len(words)] + " ")
            ev("response.output_audio.delta", **r, delta=audio)
        ev("response.output_audio.done", **r)
        ev("response.output_audio_transcript.done", **r, transcript=" ".join(words))
        ev("response.content_part.done", **r, part={"type": "audio", "transcript": "..."})
        ev("response.output_item.done", response_id=resp, output_index=0, item=msg)
        ev("conversation.item.done", previous_item_id=user, item=msg)
        ev(
            "response.done",
            response={
                "id": resp,
                "object": "realtime.response",
                "status": "completed",
                "output": [msg],
                "usage": {"total_tokens": 300, "input_tokens": 100, "output_tokens": 200},
            },
        )
        ev(
            "rate_limits.updated",
            rate_limits=[
                {"name": "tokens", "limit": 50000, "remaining": 49000, "reset_seconds": 1.2}
            ],
        )
    return [json.dumps(f) for f in frames]


def floor(frames: list[str]) -> None:
    loads, b64decode = json.loads, base64.b64decode
    for frame in frames:
        obj = loads(frame)
        if obj["type"] == "response.output_audio.delta":
            b64decode(obj["delta"])


def ours(frames: list[str]) -> None:
    for frame in frames:
        decode_server_event(frame)


def best_of(fn: Callable[[list[str]], None], frames: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(frames)
        best = min(best, time.perf_counter() - start)
    return best


def measure(label: str, frames: list[str], repeat: int) -> float:
    # Interleave the two so that frequency scaling and noise hit both alike.
    base = min(best_of(floor, frames, 1) for _ in range(repeat))
    mine = min(best_of(ours, frames, 1) for _ in range(repeat))
    base = min(base, best_of(floor, frames, repeat))
    mine = min(mine, best_of(ours, frames, repeat))
    per = 1e6 / len(frames)
    ratio = mine / base
    print(
        f"{label:<28} {len(frames):>7} frames  floor {base * per:7.2f} us/event  "
        f"decode_server_event {mine * per:7.2f} us/event  ratio {ratio:5.2f}x"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    frames = conversation(args.turns)
    audio = [f for f in frames if '"response.output_audio.delta"' in f]
    small = [f for f in frames if '"response.output_audio.delta"' not in f]
    print(f"python {sys.version.split()[0]}; floor = json.loads + base64.b64decode (audio)")
    ratio = measure("whole conversation", frames, args.repeat)
    measure("  audio deltas only", audio, args.repeat)
    measure("  all other events", small, args.repeat)
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"whole-stream ratio {ratio:.2f}x {verdict} the target of at most {TARGET}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
