"""The latencies the fake produces against a config (the realistic defaults by default).

    python bench/fake_latency.py [--turns 200] [--seed 0]

Not a speed benchmark: the fake is driven on its own clock (the ``now`` of its calls), as a
host would drive it, and the figures are the times it puts between events, in milliseconds of
that clock. Each turn is the same on a fresh server (a different ``Latency.seed`` each): a
text reply to a typed question, and a spoken reply to a spoken turn under server VAD with
input transcription on. Printed: the median and the 10th/90th percentiles of each figure, and
how often the transcription of a spoken turn completed before the reply's first output.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import attrs
from realtime_sansio.protocol import PCM16, wire
from realtime_sansio.protocol.fake import (
    REALISTIC_LATENCY,
    FakeRealtimeServer,
    FakeServerConfig,
    synthesize_speech,
)


class Client:
    """A host in miniature: frames in with a clock reading, the timer fired at each deadline,
    every output kept with the time it went out."""

    def __init__(self, server: FakeRealtimeServer) -> None:
        self.server = server
        self.now = 0.0
        self.timeline: list[tuple[float, Any]] = [(0.0, o) for o in server.connected(0.0)]

    @property
    def log(self) -> list[Any]:
        return [output for _, output in self.timeline]

    def send(self, event: wire.ClientEvent, *, at: float | None = None) -> None:
        self.now = self.now if at is None else at
        text = wire.encode_client_event(event)
        self.timeline += [(self.now, o) for o in self.server.receive(text, self.now)]

    def run_until(self, when: float) -> None:
        while (deadline := self.server.get_timer()) is not None and deadline <= when:
            self.now = max(self.now, deadline)
            self.timeline += [(self.now, o) for o in self.server.timer(self.now)]
        self.now = max(self.now, when)

    def say(self, text: str) -> None:
        content = [{"type": "input_text", "text": text}]
        self.send(
            wire.ConversationItemCreate(
                item={"type": "message", "role": "user", "content": content}
            )
        )

    def update(self, **session: Any) -> None:
        self.send(wire.SessionUpdate(session={"type": "realtime", **session}))

    def stream(self, audio: bytes, chunk_ms: int = 100) -> None:
        size = PCM16.bytes_per_second * chunk_ms // 1000
        for start in range(0, len(audio), size):
            self.send(wire.InputAudioBufferAppend(audio=audio[start : start + size]))
            self.run_until(self.now + chunk_ms / 1000)


def first(client: Client, kind: str, after: float = 0.0) -> float:
    return next(at for at, o in client.timeline if getattr(o, "type", "") == kind and at >= after)


def last(client: Client, kind: str) -> float:
    return [at for at, o in client.timeline if getattr(o, "type", "") == kind][-1]


def text_turn(config: FakeServerConfig) -> dict[str, float]:
    client = Client(FakeRealtimeServer(config))
    client.say("What can you tell me about the weather this week?")
    asked = 1.0
    client.send(wire.ResponseCreate(response={"output_modalities": ["text"]}), at=asked)
    client.run_until(asked + 30)
    deltas = [o for o in client.log if isinstance(o, wire.ResponseOutputTextDelta)]
    first_delta, done = first(client, "response.output_text.delta"), last(client, "response.done")
    tokens = sum(-(-len(d.delta) // 4) for d in deltas)
    return {
        "text: response.create -> response.created": first(client, "response.created") - asked,
        "text: response.create -> first delta": first_delta - asked,
        "text: tokens per second": tokens
        / max(1e-9, last(client, "response.output_text.done") - first_delta),
        "text: response.create -> response.done": done - asked,
    }


def spoken_turn(config: FakeServerConfig) -> dict[str, float]:
    client = Client(
        FakeRealtimeServer(
            attrs.evolve(config, transcripts={0: "What is the weather in Paris this week"})
        )
    )
    client.update(audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}}})
    quiet = bytes(PCM16.bytes_per_second // 2)
    client.stream(quiet + synthesize_speech("What is the weather in Paris this week") + quiet)
    client.run_until(client.now + 60)
    stopped = first(client, "input_audio_buffer.speech_stopped")
    audio = [(at, o) for at, o in client.timeline if isinstance(o, wire.ResponseOutputAudioDelta)]
    seconds = sum(len(o.delta) for _, o in audio) / PCM16.bytes_per_second
    first_audio = audio[0][0]
    done = last(client, "response.done")
    completed = first(client, "conversation.item.input_audio_transcription.completed")
    return {
        "audio: speech stopped -> response.created": first(client, "response.created") - stopped,
        "audio: speech stopped -> first audio": first_audio - stopped,
        "audio: generated x real time": seconds / max(1e-9, done - first_audio),
        "audio: response.done -> end of playback": first_audio + seconds - done,
        "transcription: speech stopped -> completed": completed - stopped,
        "transcription before the first output": float(
            completed < first(client, "response.output_item.added")
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {}
    for turn in range(args.turns):
        latency = attrs.evolve(REALISTIC_LATENCY, seed=args.seed + turn)
        config = FakeServerConfig.realistic(latency=latency)
        for name, value in {**text_turn(config), **spoken_turn(config)}.items():
            figures.setdefault(name, []).append(value)
    print(f"FakeServerConfig.realistic(), {args.turns} turns of each kind:")
    for name, values in figures.items():
        if name.startswith("transcription before"):
            print(f"  {name}: {100 * statistics.mean(values):.0f}% of spoken turns")
            continue
        deciles = statistics.quantiles(values, n=10)
        rate = "per second" in name or "real time" in name
        scale, unit, digits = (1, "", 1) if rate else (1000, " ms", 0)
        print(
            f"  {name}: median {statistics.median(values) * scale:.{digits}f}{unit}"
            f" (10%: {deciles[0] * scale:.{digits}f}, 90%: {deciles[-1] * scale:.{digits}f})"
        )


if __name__ == "__main__":
    main()
