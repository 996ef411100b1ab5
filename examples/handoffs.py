"""Handoffs: the model transfers the user to another agent, which takes over the session.

python examples/handoffs.py [--url ws://127.0.0.1:8765]
"""

from __future__ import annotations

import argparse
from contextlib import AbstractAsyncContextManager

import anyio
from realtime_sansio.protocol import Agent, ModelConfig, events
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run

support = Agent(
    name="Support",
    instructions="You are technical support.",
    handoff_description="technical problems and accounts",  # what the model sees
)
greeter = Agent(name="Greeter", instructions="Greet, then route.", handoffs=[support])


def connect(url: str | None) -> AbstractAsyncContextManager[RealtimeSession]:
    if url is None:
        return run(greeter, transport=FakeServerTransport())
    return run(greeter, model_config=ModelConfig(url=url))


async def main(url: str | None) -> None:
    async with connect(url) as session:
        print(f"agent: {session.current_agent.name}")
        await session.send_message("Please transfer me to support")
        async for event in session:
            if isinstance(event, events.HandoffEvent):
                # Instructions and tools are already the new agent's: the model was told.
                print(f"handoff: {event.from_agent.name} -> {event.to_agent.name}")
            elif isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                print(event.delta, end="", flush=True)
            elif isinstance(event, events.AgentEndEvent) and not session.busy:
                break
        print(f"\nagent: {session.current_agent.name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A handoff between agents.")
    parser.add_argument("--url", help="a Realtime server (default: the fake server in memory)")
    anyio.run(main, parser.parse_args().url)
