"""Helpers for the driver's end-to-end tests: a recording transport and event collection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import oracle
from realtime_sansio.protocol import PCM16, Agent, events, function_tool
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig, ScriptStep
from realtime_sansio.protocol.fake.voice import synthesize_speech
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.recording import RecordingTransport
from realtime_sansio.transports.runner import RealtimeSession


class Recording(RecordingTransport):
    """The fake server in memory, every frame both ways recorded."""

    def __init__(
        self,
        config: FakeServerConfig | None = None,
        script: list[ScriptStep] | None = None,
    ) -> None:
        self.server = FakeRealtimeServer(config, script=script)
        super().__init__(FakeServerTransport(self.server))

    def check_conformance(self) -> None:
        """Every frame both ways validates against the openai package's GA models (garbage
        and unknown types, sent on purpose by fault scripts, excepted)."""
        for text in self.sent:
            oracle.validate_client_event(json.loads(text))
        for text in self.received:
            try:
                payload = json.loads(text)
            except ValueError:
                continue  # a Garbage fault
            if payload.get("type") in oracle.SERVER_EVENT_MODELS:
                oracle.validate_server_event(payload)


async def collect_until(
    session: RealtimeSession,
    stop: Callable[[events.SessionEvent], bool],
    *,
    timeout: float = 10.0,
    on_event: Callable[[events.SessionEvent], Any] | None = None,
) -> list[events.SessionEvent]:
    """Session events until ``stop`` says so (that one included)."""
    seen: list[events.SessionEvent] = []
    with anyio.fail_after(timeout):
        async for event in session:
            seen.append(event)
            if on_event is not None:
                result = on_event(event)
                if hasattr(result, "__await__"):
                    await result
            if stop(event):
                return seen
    return seen


def turn_over(session: RealtimeSession) -> Callable[[events.SessionEvent], bool]:
    """Stop at the end of a response when nothing else is coming (no tool running, no
    follow-up owed)."""

    def stop(event: events.SessionEvent) -> bool:
        return isinstance(event, events.AgentEndEvent) and not session.busy

    return stop


def of(seen: list[events.SessionEvent], cls: type[Any]) -> list[Any]:
    return [e for e in seen if isinstance(e, cls)]


def speech(text: str, *, silence_ms: int = 800) -> bytes:
    quiet = bytes(PCM16.bytes_per_second * silence_ms // 1000)
    return quiet + synthesize_speech(text) + quiet


def chunks(data: bytes, ms: int = 20) -> list[bytes]:
    size = PCM16.bytes_per_second * ms // 1000
    return [data[i : i + size] for i in range(0, len(data), size)]


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


SUPPORT = Agent(name="Support", instructions="Solve problems.", handoff_description="problems")
GREETER = Agent(name="Greeter", instructions="Greet.", tools=[get_weather], handoffs=[SUPPORT])
