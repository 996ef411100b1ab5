"""Driving the fake Realtime server as a host does, with every frame it sends checked.

``Client`` plays the host and the client at once: it encodes client events into text frames,
hands them to the server with a clock reading, fires the server's timer, and checks every
output against the ``openai`` package's models (GA, or beta for the beta dialect) before a
test sees it. Raw frames that are no known event (the scripted garbage and unknown events)
are left to the test, which asserts on them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import oracle
from realtime_sansio.protocol import PCM16, AudioFormat, wire
from realtime_sansio.protocol.fake import (
    CloseConnection,
    FakeRealtimeServer,
    RawFrame,
    ServerOutput,
    synthesize_speech,
)

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
SUPPORT = {
    "type": "function",
    "name": "transfer_to_support",
    "description": "Handoff to the Support agent to handle the request.",
    "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
}


def check(outputs: Sequence[ServerOutput], *, dialect: str = "ga") -> list[ServerOutput]:
    """The outputs, each event validated by the oracle first."""
    for output in outputs:
        if isinstance(output, CloseConnection):
            continue
        if isinstance(output, RawFrame):
            try:
                obj = json.loads(output.text)
            except ValueError:
                continue  # scripted garbage: the test asserts on it
            kind = obj.get("type")
            if dialect == "beta" and kind in oracle.BETA_SERVER_EVENT_TYPES:
                oracle.validate_beta_server_event(obj)
            elif kind in oracle.SERVER_EVENT_MODELS:
                oracle.validate_server_event(obj)
            continue
        assert dialect == "ga", f"the beta dialect sends RawFrames only, not {output!r}"
        oracle.validate_server_event(wire.server_event_to_json(output))
    return list(outputs)


def kind(output: ServerOutput) -> str:
    """An output's event type ("close", or "garbage" for a frame that is not JSON)."""
    if isinstance(output, CloseConnection):
        return "close"
    if isinstance(output, RawFrame):
        try:
            return str(json.loads(output.text)["type"])
        except ValueError:
            return "garbage"
    return output.type


def kinds(outputs: Sequence[ServerOutput]) -> list[str]:
    return [kind(o) for o in outputs]


def events(outputs: Sequence[ServerOutput], cls: type[Any]) -> list[Any]:
    return [o for o in outputs if isinstance(o, cls)]


def one(outputs: Sequence[ServerOutput], cls: type[Any]) -> Any:
    found = events(outputs, cls)
    assert len(found) == 1, f"{len(found)} {cls.__name__} in {kinds(outputs)}"
    return found[0]


def errors(outputs: Sequence[ServerOutput]) -> list[wire.ErrorDetail]:
    return [o.error for o in outputs if isinstance(o, wire.ServerError)]


def silence(fmt: AudioFormat, ms: int) -> bytes:
    code = {"audio/pcm": b"\x00\x00", "audio/pcmu": b"\xff", "audio/pcma": b"\xd5"}[fmt.type]
    return code * (fmt.rate * ms // 1000)


def utterance(
    text: str, fmt: AudioFormat = PCM16, *, before: int = 400, after: int = 1000
) -> bytes:
    """Speech between silences, as a microphone would send it."""
    return silence(fmt, before) + synthesize_speech(text, fmt) + silence(fmt, after)


def is_speech_like(pcm: bytes) -> bool:
    samples = np.frombuffer(pcm, "<i2").astype(float)
    return bool(samples.size) and float(np.sqrt(np.mean(samples**2))) > 100


class Client:
    """A host and a client around one FakeRealtimeServer, on a virtual clock."""

    def __init__(self, server: FakeRealtimeServer | None = None) -> None:
        self.server = server if server is not None else FakeRealtimeServer()
        self.dialect = self.server.config.dialect
        self.now = 0.0
        self.log: list[ServerOutput] = []
        self.timeline: list[tuple[float, ServerOutput]] = []
        """Every output with the clock reading it came at."""
        self.opening = self._seen(self.server.connected(self.now))

    def _seen(self, outputs: list[ServerOutput]) -> list[ServerOutput]:
        check(outputs, dialect=self.dialect)
        self.log += outputs
        self.timeline += [(self.now, o) for o in outputs]
        return outputs

    def send(self, event: Any, *, at: float | None = None) -> list[ServerOutput]:
        """One client event (typed, or a JSON object) as a text frame."""
        return self.frame(wire.encode_client_event(event, dialect=self.dialect), at=at)

    def frame(self, text: str, *, at: float | None = None) -> list[ServerOutput]:
        if at is not None:
            self.now = at
        return self._seen(self.server.receive(text, self.now))

    def update(self, **session: Any) -> list[ServerOutput]:
        return self.send(wire.SessionUpdate(session={"type": "realtime", **session}))

    def say(self, text: str) -> list[ServerOutput]:
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
        return self.send(wire.ConversationItemCreate(item=item))

    def stream(
        self, audio: bytes, *, chunk_ms: int = 100, fmt: AudioFormat = PCM16
    ) -> list[ServerOutput]:
        """Append ``audio`` in real time: ``chunk_ms`` of it per frame, the clock moving along
        (and the server's timer fired whenever it comes due in between)."""
        size = fmt.bytes_per_second * chunk_ms // 1000
        out: list[ServerOutput] = []
        for start in range(0, len(audio), size):
            out += self.send(wire.InputAudioBufferAppend(audio=audio[start : start + size]))
            out += self.run_until(self.now + chunk_ms / 1000)  # each deadline at its time
        return out

    def run_until(self, when: float) -> list[ServerOutput]:
        """Fire the server's timer at each deadline up to ``when``; the clock ends at ``when``."""
        out: list[ServerOutput] = []
        while True:
            deadline = self.server.get_timer()
            if deadline is None or deadline > when:
                break
            self.now = max(self.now, deadline)
            out += self._seen(self.server.timer(self.now))
        self.now = max(self.now, when)
        return out
