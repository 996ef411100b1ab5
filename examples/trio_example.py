"""The same library on trio: anyio underneath, so nothing changes but ``trio.run``.

python examples/trio_example.py [--url ws://127.0.0.1:8765]
"""

from __future__ import annotations

import argparse
from contextlib import AbstractAsyncContextManager

import trio
from realtime_sansio.protocol import Agent, ModelConfig, events, function_tool
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run


@function_tool
async def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    await trio.sleep(0.05)  # a trio-native tool: it runs in trio's loop
    return f"Sunny, 21 °C in {city}"


agent = Agent(name="Assistant", instructions="Be brief.", tools=[get_weather])


def connect(url: str | None) -> AbstractAsyncContextManager[RealtimeSession]:
    if url is None:
        return run(agent, transport=FakeServerTransport())
    return run(agent, model_config=ModelConfig(url=url))


async def main(url: str | None) -> None:
    async with connect(url) as session:
        await session.send_message("What's the weather in Paris?")
        async for event in session:
            if isinstance(event, events.ToolEndEvent):
                print(f"tool output: {event.output}")
            elif isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                print(event.delta, end="", flush=True)
            elif isinstance(event, events.AgentEndEvent) and not session.busy:
                break
        print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A turn with a tool, on trio.")
    parser.add_argument("--url", help="a Realtime server (default: the fake server in memory)")
    trio.run(main, parser.parse_args().url)
