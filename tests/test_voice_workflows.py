"""Workflows: every shape of output a workflow may give becomes text (or a clear TypeError),
and ``AgentWorkflow`` turns what goes wrong in its Realtime session into a ``WorkflowError``:
a failed response, a lost connection, no reply in time, a session not open. On asyncio and
trio, with a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from realtime_sansio.protocol import Agent
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig
from realtime_sansio.protocol.fake.scripts import Delay, DropAfter, Expect, Respond
from realtime_sansio.protocol.items import AssistantMessage
from realtime_sansio.protocol.testing import ScriptAudio, ScriptText
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.voice.workflows import AgentWorkflow, WorkflowError, iterate_text
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

pytestmark = pytest.mark.anyio


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


async def texts(output: Any) -> list[str]:
    return [text async for text in iterate_text(output)]


async def test_every_shape_of_output_becomes_text() -> None:
    async def later() -> str:
        return "awaited"

    async def streamed() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    def generated() -> Iterator[str]:  # advanced in a worker thread
        yield "one "
        yield "two"

    assert await texts("plain") == ["plain"]
    assert await texts(later()) == ["awaited"]
    assert await texts(streamed()) == ["a", "b"]
    assert await texts(("x", "y")) == ["x", "y"]
    assert await texts(generated()) == ["one ", "two"]


async def test_output_that_is_not_text_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="a workflow yields text, not int"):
        await texts(42)
    with pytest.raises(TypeError, match="a workflow yields str, not bytes"):
        await texts(iter([b"raw"]))
    with pytest.raises(TypeError, match="a workflow yields str, not int"):
        await texts([1])


AGENT = Agent(name="Helper", instructions="Answer briefly.")


def workflow(*steps: Any, reply_timeout_s: float = 60.0) -> AgentWorkflow:
    server = FakeRealtimeServer(script=steps)
    return AgentWorkflow(
        AGENT, transport=lambda: FakeServerTransport(server), reply_timeout_s=reply_timeout_s
    )


async def test_a_workflow_whose_session_is_not_open_says_so() -> None:
    agent_workflow = workflow()
    with pytest.raises(WorkflowError, match="session is not open"):
        agent_workflow.session  # noqa: B018
    await agent_workflow.on_interrupted("heard", "spoken")  # nothing to trim: no error
    await agent_workflow.__aexit__(None, None, None)  # closing what never opened is fine


async def test_a_reply_streams_the_assistants_text() -> None:
    async with workflow(Respond(outputs=(ScriptText(text="Paris is sunny."),))) as agent_workflow:
        assert "".join(await texts(agent_workflow.run("Weather?"))) == "Paris is sunny."


async def test_a_failed_response_is_a_workflow_error() -> None:
    failing = Respond(outputs=(ScriptText(text="Part"),), failure="server_error")
    async with workflow(failing) as agent_workflow:
        with pytest.raises(WorkflowError, match="the response failed"):
            await texts(agent_workflow.run("Weather?"))


async def test_a_lost_connection_is_a_workflow_error() -> None:
    dropping = workflow(Expect(type="response.create", handle=False), DropAfter(count=0))
    async with dropping as agent_workflow:
        with pytest.raises(WorkflowError, match=r"the Realtime (connection|session) ended"):
            await texts(agent_workflow.run("Weather?"))


async def test_no_reply_in_time_is_a_workflow_error() -> None:
    silent = workflow(Expect(type="response.create", handle=False), Delay(ms=600_000))
    silent.reply_timeout_s = 2.0
    async with silent as agent_workflow:
        with pytest.raises(WorkflowError, match="no reply within 2 s"):
            await texts(agent_workflow.run("Anyone?"))


async def test_an_interrupted_reply_is_stopped_and_replaced_by_what_was_heard() -> None:
    spoken = "One. Two. Three. Four. Five. Six. Seven. Eight."
    long_reply = Respond(outputs=(ScriptAudio(transcript=spoken, duration_ms=4000),))
    server = FakeRealtimeServer(FakeServerConfig(pace=1.0), script=[long_reply])
    paced = AgentWorkflow(AGENT, transport=lambda: FakeServerTransport(server))
    async with paced as agent_workflow:
        replies = agent_workflow.run("Count.")
        heard = await replies.__anext__()
        session = agent_workflow.session
        assert session.response_active  # still streaming, at the pace of its audio
        await replies.aclose()
        await agent_workflow.on_interrupted(heard=heard, spoken=spoken)
        assert not session.response_active
        await anyio.sleep(1)  # the deletion and the new message reach the server and back
        assistant = [item for item in session.history if isinstance(item, AssistantMessage)]
        assert [part.text for item in assistant for part in item.content] == [heard]
