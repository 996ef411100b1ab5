"""The web bridge's protocol, with a Python page over in-memory sockets, on asyncio and trio.

The page here is ``web_helpers.Page``: it speaks the bridge protocol as the browser's page
does (docs/web.md). The conversation is the demo agent against the fake in memory, and one log
holds every page command and every client event in the order they happened, so a test can say
"the truncate sent was at the position the page reported last".
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest
from realtime_sansio.protocol import Agent, ModelConfig, function_tool
from realtime_sansio.protocol.fake import DropAfter, FakeServerConfig
from realtime_sansio.transports.base import ConnectionClosed
from realtime_sansio.transports.demo import GREETER
from realtime_sansio.transports.memory import memory_pair
from realtime_sansio.transports.web import PageSession, RealtimeKind, WebBridge
from realtime_sansio.transports.web.bridge import CLOSE_REPLACED
from realtime_sansio.transports.web.commands import PushToTalk
from runner_helpers import speech
from web_helpers import ANSWER, INTERJECTION, QUESTION, LoggedKind, Page, pcm_ms

pytestmark = pytest.mark.anyio

HEARS = FakeServerConfig(transcripts={0: QUESTION, 1: INTERJECTION})


@asynccontextmanager
async def running(bridge: WebBridge) -> AsyncIterator[anyio.abc.TaskGroup]:
    async with anyio.create_task_group() as group:
        with anyio.fail_after(20):
            yield group
        group.cancel_scope.cancel()


def connect(bridge: WebBridge, group: anyio.abc.TaskGroup, done: anyio.Event | None = None) -> Page:
    """A new page connection to ``bridge``; ``done`` is set when the bridge's part ends."""
    client, server = memory_pair()

    async def serve() -> None:
        await bridge.serve(server)
        if done is not None:
            done.set()

    group.start_soon(serve)
    return Page(client)


async def hello(page: Page, resume: str | None = None) -> dict[str, Any]:
    await page.send(type="hello", resume=resume)
    return await page.next("ready")


async def answered(page: Page) -> dict[str, Any]:
    """Wait for the assistant's answer to be whole: its caption, its audio and its turn."""
    caption = await page.next("caption_done", role="assistant")
    await page.next("agent_end")
    return caption


def audio_item(page: Page) -> str:
    items = {m["item_id"] for m in page.of("audio")}
    assert len(items) == 1, items
    return items.pop()


async def test_a_typed_question_runs_the_tool_and_is_answered_with_audio() -> None:
    kind = LoggedKind()
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        ready = await hello(page)
        assert ready["kind"] == "realtime"
        assert ready["agent"] == "Greeter"
        assert ready["audio"] == {"format": "pcm16", "rate": 24000}
        assert ready["resumed"] is False
        assert len(ready["token"]) >= 24
        await page.send(type="text", text=QUESTION)
        tool = await page.next("tool_start")
        assert (tool["name"], json.loads(tool["arguments"])) == ("get_weather", {"city": "Paris"})
        assert (await page.next("tool_end"))["output"] == "Sunny, 21 °C in Paris"
        assert (await answered(page))["text"] == ANSWER
    user = [m for m in page.of("caption_done") if m["role"] == "user"]
    assert [m["text"] for m in user] == [QUESTION]
    item = audio_item(page)
    assert page.audio_bytes(item) > 0
    assert [m["item_id"] for m in page.of("audio_done")] == [item]
    deltas = [m["delta"] for m in page.of("caption") if m["item_id"] == item]
    assert "".join(deltas) == ANSWER
    metrics = [m for m in page.of("metrics") if m["create_to_first_audio_ms"] is not None]
    assert metrics
    assert all(isinstance(m["t"], float) for m in page.seen)
    assert [m["status"] for m in page.of("agent_end")] == ["completed", "completed"]
    kind.recordings[0].check_conformance()


async def test_speech_is_heard_transcribed_and_answered() -> None:
    kind = LoggedKind(HEARS)
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.send_audio(speech(QUESTION))
        assert (await page.next("speech", state="started"))["ms"] >= 0
        await page.next("speech", state="stopped")
        done = await page.next("caption_done", role="user")
        assert done["text"] == QUESTION
        await page.next("tool_end")
        assert (await answered(page))["text"] == ANSWER
    user_deltas = [m["delta"] for m in page.of("caption") if m["role"] == "user"]
    assert "".join(user_deltas).strip() == QUESTION
    kind.recordings[0].check_conformance()


async def test_a_barge_in_is_cut_where_the_page_said_it_played() -> None:
    kind = LoggedKind(HEARS)
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.send(type="text", text=QUESTION)
        await answered(page)
        item = audio_item(page)
        received_ms = pcm_ms(page.audio_bytes(item))
        for ms in (400.5, 700.75):  # the page's reports as it plays
            await page.send(type="audio_played", item_id=item, content_index=0, ms=ms)
        await page.send_audio(speech(INTERJECTION))
        cut = await page.next("interrupted")
    assert (cut["item_id"], cut["audio_end_ms"]) == (item, 700)
    assert received_ms > 700  # it was cut mid-way, not at its end
    (truncate,) = kind.client_events("conversation.item.truncate")
    assert (truncate["item_id"], truncate["audio_end_ms"]) == (item, 700)
    assert [r.ms for r in kind.reports_when_cut(truncate)] == [400.5, 700.75]


async def test_the_interrupt_button_cuts_at_the_last_report() -> None:
    kind = LoggedKind()
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.send(type="text", text="Tell me something")
        await answered(page)
        item = audio_item(page)
        await page.send(type="audio_played", item_id=item, content_index=0, ms=450.25)
        await page.send(type="interrupt")
        cut = await page.next("interrupted")
    assert cut["audio_end_ms"] == 450
    (truncate,) = kind.client_events("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 450
    assert [r.ms for r in kind.reports_when_cut(truncate)] == [450.25]


async def test_push_to_talk_switches_turn_detection_off_while_held() -> None:
    kind = LoggedKind(HEARS)
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.send(type="push_to_talk", pressed=True)
        await page.send(type="push_to_talk", pressed=True)  # a second press changes nothing
        await page.send_audio(speech(QUESTION, silence_ms=100))
        await page.send(type="push_to_talk", pressed=False)
        assert (await answered(page))["text"] == ANSWER
    updates = kind.client_events("session.update")
    detections = [u["session"]["audio"]["input"].get("turn_detection", "unset") for u in updates]
    # The agent's update, off while held, then server VAD again after the release.
    assert detections[1:] == [None, {"type": "server_vad"}]
    # The release commits the held audio, asks for the answer, and turns the VAD back on. (The
    # driver's writer task may still be writing the last appends when the release is logged:
    # the wire order is what counts.)
    release = kind.log.index(PushToTalk(pressed=False))
    sent = [e["type"] for e in kind.log if isinstance(e, dict)]
    last_append = len(sent) - 1 - sent[::-1].index("input_audio_buffer.append")
    assert sent[last_append + 1 : last_append + 4] == [
        "input_audio_buffer.commit",
        "response.create",
        "session.update",
    ]
    commits = [
        i for i, e in enumerate(kind.log) if isinstance(e, dict) and e["type"].endswith(".commit")
    ]
    assert commits and commits[-1] > release
    assert not page.of("speech")  # nobody listened for speech while the button was held
    assert len(kind.client_events("input_audio_buffer.clear")) == 1


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("not json", "one JSON object"),
        ('{"type": "audio", "pcm": "!!"}', "base64"),
        ('{"type": "audio_played", "item_id": "i", "content_index": true, "ms": 1}', "boolean"),
        ('{"type": "dance"}', "unknown command type 'dance'"),
        ('{"type": "hello"}', "'hello' comes once"),
    ],
)
async def test_a_bad_command_is_answered_and_the_conversation_goes_on(
    frame: str, says: str
) -> None:
    bridge = WebBridge(LoggedKind())
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.transport.send(frame)
        error = await page.next("error")
        assert error["source"] == "bridge"
        assert says in error["message"]
        await page.send(type="text", text=QUESTION)
        assert (await answered(page))["text"] == ANSWER


async def test_the_first_frame_must_be_hello() -> None:
    kind = LoggedKind()
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await page.send(type="text", text="hi")
        assert "first frame must be 'hello'" in (await page.next("error"))["message"]
        with pytest.raises(ConnectionClosed) as closed:
            await page.next("never")
    assert closed.value.code == 1008
    assert kind.opened == 0


async def test_a_dropped_page_resumes_its_conversation_and_gets_what_it_missed() -> None:
    kind = LoggedKind()
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        first = connect(bridge, group)
        token = (await hello(first))["token"]
        await first.send(type="text", text=QUESTION)
        await first.transport.close(1006, "")  # gone before a word of the answer came
        recording = kind.recordings[0]
        while sum('"response.done"' in frame for frame in recording.received) < 2:
            await anyio.wait_all_tasks_blocked()
        await anyio.wait_all_tasks_blocked()  # the answer's events reach the backlog
        second = connect(bridge, group)
        ready = await hello(second, resume=token)
        assert (ready["resumed"], ready["token"]) == (True, token)
        assert ready["missed_audio_ms"] > 0
        assert (await answered(second))["text"] == ANSWER
        await second.send(type="text", text="Thanks")  # the same conversation goes on
        await answered(second)
    assert kind.opened == 1
    types = [m["type"] for m in second.seen]
    answer = next(i for i, m in enumerate(second.seen) if m.get("role") == "assistant")
    assert types.index("tool_start") < types.index("tool_end") < answer
    # What it missed came back, but not the audio: nobody can hear the past.
    missed = types[: [i for i, kind in enumerate(types) if kind == "agent_end"][1]]
    assert "caption" in missed
    assert "audio" not in missed
    assert "audio" in types  # the answer to "Thanks", live


async def test_nobody_back_within_the_grace_ends_the_conversation() -> None:
    kind = LoggedKind()
    bridge = WebBridge(kind, resume_grace_s=0)
    async with running(bridge) as group:
        owner_done = anyio.Event()
        first = connect(bridge, group, owner_done)
        token = (await hello(first))["token"]
        assert bridge.conversations == 1
        await first.transport.close(1006, "")
        await owner_done.wait()
        assert bridge.conversations == 0
        second = connect(bridge, group)
        await second.send(type="hello", resume=token)
        notice = await second.next("notice")
        assert "has ended" in notice["text"]
        ready = await second.next("ready")
        assert ready["resumed"] is False
        assert ready["token"] != token
    assert kind.opened == 2


async def test_a_second_page_resuming_takes_the_conversation_over() -> None:
    bridge = WebBridge(LoggedKind())
    async with running(bridge) as group:
        first = connect(bridge, group)
        token = (await hello(first))["token"]
        second = connect(bridge, group)
        assert (await hello(second, resume=token))["resumed"] is True
        with pytest.raises(ConnectionClosed) as closed:
            await first.next("never")
        assert closed.value.code == CLOSE_REPLACED
        await second.send(type="text", text=QUESTION)
        await answered(second)


async def test_conversations_are_bounded() -> None:
    kind = LoggedKind()
    bridge = WebBridge(kind, max_conversations=1)
    async with running(bridge) as group:
        first = connect(bridge, group)
        await hello(first)
        second = connect(bridge, group)
        await second.send(type="hello", resume=None)
        assert "already runs 1 conversations" in (await second.next("error"))["message"]
        with pytest.raises(ConnectionClosed) as closed:
            await second.next("never")
        assert closed.value.code == 1013
    assert kind.opened == 1


async def test_when_the_model_goes_away_the_page_is_told_and_closed() -> None:
    kind = LoggedKind(script=[DropAfter(count=1)])
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        owner_done = anyio.Event()
        page = connect(bridge, group, owner_done)
        await hello(page)
        closed = await page.next("closed")
        assert closed["code"] == 1006
        assert "dropped" in closed["text"]
        with pytest.raises(ConnectionClosed) as ended:
            await page.next("never")
        assert ended.value.code == 1000
        await owner_done.wait()
    assert bridge.conversations == 0


async def test_a_conversation_that_cannot_start_says_why() -> None:
    kind = RealtimeKind(GREETER, model_config=ModelConfig(url="ws://127.0.0.1:1", api_key="unused"))
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await page.send(type="hello", resume=None)
        error = await page.next("error")
        assert error["message"].startswith("cannot start the conversation: ")
        await page.next("closed")
        with pytest.raises(ConnectionClosed) as closed:
            await page.next("never")
        assert closed.value.code == 1011
        assert bridge.conversations == 0
        # The slot it took is free again.
        again = connect(bridge, group)
        await again.send(type="hello", resume=None)
        await again.next("error")


@function_tool(needs_approval=True)
def delete_account(user: str) -> str:
    """Delete the account of a user."""
    return f"deleted {user}"


async def test_a_tool_that_needs_approval_waits_for_the_page() -> None:
    agent = Agent(name="Admin", instructions="Be careful.", tools=[delete_account])
    bridge = WebBridge(LoggedKind(agent=agent))
    async with running(bridge) as group:
        page = connect(bridge, group)
        assert (await hello(page))["agent"] == "Admin"
        await page.send(type="text", text="Please delete account for Bob")
        approval = await page.next("approval")
        assert approval["name"] == "delete_account"
        await page.send(type="approve_tool", call_id=approval["call_id"])
        assert (await page.next("tool_end"))["output"] == "deleted Bob"
        await page.send(type="text", text="And delete account for Eve")
        approval = await page.next("approval")
        await page.send(type="reject_tool", call_id=approval["call_id"])
        assert (await page.next("tool_end"))["failed"] is True
    outputs = [m["output"] for m in page.of("tool_end")]
    assert outputs[0] == "deleted Bob"
    assert "deleted Eve" not in outputs[1]


async def test_audio_from_the_page_must_be_pcm16() -> None:
    bridge = WebBridge(LoggedKind())
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.send(type="audio", pcm=base64.b64encode(b"\x01\x02\x03").decode())
        assert "odd number of bytes" in (await page.next("error"))["message"]


async def test_a_page_gone_while_its_conversation_connects_gives_its_slot_back() -> None:
    opened = 0

    @asynccontextmanager
    async def slow_then_fine() -> AsyncIterator[PageSession]:
        nonlocal opened
        opened += 1
        if opened == 1:
            await anyio.sleep_forever()  # a model that never answers the first time
        async with LoggedKind()() as session:
            yield session

    bridge = WebBridge(slow_then_fine, max_conversations=1)
    async with running(bridge) as group:
        async with anyio.create_task_group() as first:
            client, server = memory_pair()
            first.start_soon(bridge.serve, server)
            await Page(client).send(type="hello")
            await anyio.wait_all_tasks_blocked()
            first.cancel_scope.cancel()  # its server stops serving it meanwhile
        second = connect(bridge, group)
        assert (await hello(second))["agent"] == "Greeter"
