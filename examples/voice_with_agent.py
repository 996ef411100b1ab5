"""The voice pipeline with a realtime Agent as its brain: tools and handoffs, by voice.

python examples/voice_with_agent.py                            # the fake server, started here
python examples/voice_with_agent.py --url ws://127.0.0.1:8765  # a running serve-fake

``AgentWorkflow`` runs the agent through a text-only Realtime session (the same Session core
and runner as a speech-to-speech session), kept open across turns: the conversation, the
current agent after a handoff and the tools all carry over. Against a serve-fake started
elsewhere the fake cannot know what was said (a placeholder transcript), so the agent only
echoes; started here, it hears the questions and calls its tool and its handoff.
"""

from __future__ import annotations

import argparse
import functools

import anyio
import anyio.abc
from realtime_sansio.protocol import Agent, ModelConfig, function_tool
from realtime_sansio.protocol.fake import FakeServerConfig, synthesize_speech
from realtime_sansio.transports.serve import serve_fake
from realtime_sansio.transports.voice import (
    AgentWorkflow,
    OpenAISTTModel,
    OpenAITTSModel,
    StreamedAudioInput,
    VoicePipeline,
    VoiceStreamEventLifecycle,
    VoiceStreamEventText,
    VoiceStreamEventTranscript,
)


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city, for example Paris.
    """
    return f"Sunny and 21 degrees in {city}"


support = Agent(name="Support", instructions="You are technical support. Be brief.")
greeter = Agent(
    name="Greeter",
    instructions="Use get_weather for the weather; transfer to support when asked.",
    tools=[get_weather],
    handoffs=[support],
)
QUESTIONS = ["What's the weather in Paris?", "Please transfer me to support."]


async def start_fake(task_group: anyio.abc.TaskGroup) -> int:
    ready, ports = anyio.Event(), list[int]()
    fake = FakeServerConfig(transcripts=dict(enumerate(QUESTIONS)))

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    task_group.start_soon(functools.partial(serve_fake, port=0, config=fake, ready=on_ready))
    await ready.wait()
    return ports[0]


async def main(url: str | None) -> None:
    async with anyio.create_task_group() as task_group:
        ws = url or f"ws://127.0.0.1:{await start_fake(task_group)}"
        base = ws.replace("ws", "http", 1)
        # The Realtime session of the agent: here the fake server; by default the real API.
        workflow = AgentWorkflow(greeter, model_config=ModelConfig(url=ws, api_key="unused"))
        pipeline = VoicePipeline(
            workflow=workflow,
            stt_model=OpenAISTTModel(base_url=base),
            tts_model=OpenAITTSModel(base_url=base),
        )
        microphone = StreamedAudioInput()
        turn_over = anyio.Event()

        async def speak() -> None:
            nonlocal turn_over
            for question in QUESTIONS:
                await microphone.add_audio(synthesize_speech(question) + bytes(48000))
                await turn_over.wait()
                turn_over = anyio.Event()
            microphone.close()

        async with pipeline.run(microphone) as result:
            task_group.start_soon(speak)
            async for event in result:
                if isinstance(event, VoiceStreamEventTranscript):
                    print(f"user: {event.text}")
                elif isinstance(event, VoiceStreamEventText):
                    agent = workflow.session.current_agent.name
                    print(f"{agent}: {event.text}")
                elif isinstance(event, VoiceStreamEventLifecycle) and event.event in (
                    "turn_ended",
                    "turn_interrupted",
                ):
                    turn_over.set()
        task_group.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A realtime Agent behind a voice pipeline.")
    parser.add_argument("--url", help="a running serve-fake, e.g. ws://127.0.0.1:8765")
    anyio.run(main, parser.parse_args().url)
