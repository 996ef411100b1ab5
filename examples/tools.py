"""Function tools: the model calls them, the session runs them and sends the result back.

python examples/tools.py [--url ws://127.0.0.1:8765]
"""

from __future__ import annotations

import argparse
from contextlib import AbstractAsyncContextManager

import anyio
from realtime_sansio.protocol import Agent, FunctionTool, ModelConfig, events, function_tool
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import RealtimeSession, run


@function_tool
async def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city, for example Paris.
    """
    await anyio.sleep(0.1)  # async tools run in the event loop; sync ones in a worker thread
    return f"Sunny, 21 °C in {city}"


agent = Agent(name="Assistant", instructions="Use your tools.", tools=[get_weather])


def connect(url: str | None) -> AbstractAsyncContextManager[RealtimeSession]:
    if url is None:
        return run(agent, transport=FakeServerTransport())
    return run(agent, model_config=ModelConfig(url=url))


async def main(url: str | None) -> None:
    async with connect(url) as session:
        await session.send_message("What's the weather in Paris?")
        async for event in session:
            if isinstance(event, events.ToolStartEvent) and isinstance(event.tool, FunctionTool):
                print(f"tool call: {event.tool.name} {event.arguments}")
            elif isinstance(event, events.ToolEndEvent):
                print(f"tool output: {event.output}")
            elif isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                print(event.delta, end="", flush=True)
            elif isinstance(event, events.AgentEndEvent) and not session.busy:
                break  # busy stays True while the tool runs and its follow-up is owed
        print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A function tool.")
    parser.add_argument("--url", help="a Realtime server (default: the fake server in memory)")
    anyio.run(main, parser.parse_args().url)
