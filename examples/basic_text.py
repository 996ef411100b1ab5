"""A text turn: send a message and print the reply as it streams in.

python examples/basic_text.py                            # the in-memory fake server
python examples/basic_text.py --url ws://127.0.0.1:8765  # a running `realtime-sansio serve-fake`
"""

from __future__ import annotations

import argparse
from contextlib import AbstractAsyncContextManager

import anyio
from realtime_sansio.protocol import Agent, ModelConfig, events
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run

agent = Agent(name="Assistant", instructions="Be brief and friendly.")


def connect(url: str | None) -> AbstractAsyncContextManager[RealtimeSession]:
    """The fake server in memory, or a WebSocket to ``url``."""
    if url is None:
        return run(agent, transport=FakeServerTransport())
    return run(agent, model_config=ModelConfig(url=url))


async def main(url: str | None) -> None:
    async with connect(url) as session:
        print("user: Hello there")
        await session.send_message("Hello there")
        print("assistant: ", end="")
        async for event in session:
            if isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                print(event.delta, end="", flush=True)  # the reply, as it streams
            elif isinstance(event, events.AgentEndEvent) and not session.busy:
                break  # the response is done and nothing else is coming
        print()
        print(f"history: {[type(item).__name__ for item in session.history]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A text turn.")
    parser.add_argument("--url", help="a Realtime server (default: the fake server in memory)")
    anyio.run(main, parser.parse_args().url)
