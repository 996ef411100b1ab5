"""Conversations that lose their connection: four scripted ones, a pure loop that drops the
connection before any chosen frame, and what must hold once they are over.

The four conversations (``CONVERSATIONS``): a text turn, a turn with two tool calls, a
handoff, and an audio turn the user barges in on. Each is a list of user steps (``Say`` a
message, ``Speak`` audio in real time, perhaps barging in once the assistant talks) against
a fake server made per connection (``FakeServers``: ids that never repeat, the script on the
first connection only, as a real model would not replay its choices).

``PureLoop`` runs one through a ``Session`` and the fake servers with no event loop: frames
in flight both ways, effects answered, the clocks of both sides honoured, on a virtual
clock. ``drop_before=k`` drops the connection (close 1006) instead of delivering frame ``k``
(counted from 1, both directions), losing whatever else was in flight. ``check_outcome``
says what a drop must not change.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from typing import Any

import anyio
import attrs
from realtime_sansio.protocol import (
    PCM16,
    Agent,
    RunConfig,
    Session,
    SessionModelSettings,
    ToolContext,
    TranscriptionConfig,
    effects,
    events,
    function_tool,
    inputs,
    wire,
)
from realtime_sansio.protocol.fake import (
    CloseConnection,
    FakeScript,
    FakeServerConfig,
    FakeServers,
    RawFrame,
    Respond,
    synthesize_speech,
)
from realtime_sansio.protocol.history import History
from realtime_sansio.protocol.items import (
    AssistantMessage,
    FunctionCall,
    FunctionCallOutput,
    InputText,
    OutputAudio,
    OutputText,
    UserMessage,
)
from realtime_sansio.protocol.testing import ScriptCall
from realtime_sansio.transports.base import ConnectionClosed, Transport
from realtime_sansio.transports.memory import FakeServerConnections
from realtime_sansio.transports.runner import RealtimeSession, run

__all__ = [
    "CONVERSATIONS",
    "Conversation",
    "PureLoop",
    "Say",
    "Speak",
    "check_outcome",
    "said_by_assistant",
    "through_driver",
]


@function_tool
async def get_weather(ctx: ToolContext[list[str]], city: str) -> str:
    """Get the current weather for a city."""
    # Async: a sync tool runs in a worker thread, which a virtual clock does not wait for.
    ctx.context.append(ctx.call_id)  # the runs, by call id (the context is a list)
    return f"Sunny in {city}"


SUPPORT = Agent(name="Support", instructions="Solve problems.", handoff_description="problems")
GREETER = Agent(name="Greeter", instructions="Greet.", tools=[get_weather], handoffs=[SUPPORT])

# Transcribed user audio: a replay sends a user turn as its transcript.
CONFIG = RunConfig(
    model_settings=SessionModelSettings(input_audio_transcription=TranscriptionConfig())
)
CHUNK_MS = 100


def quiet(ms: int) -> bytes:
    return bytes(PCM16.bytes_per_second * ms // 1000)


@attrs.frozen(kw_only=True)
class Say:
    text: str


@attrs.frozen(kw_only=True)
class Speak:
    """Audio streamed in real time; ``barge_in`` is streamed ``after_ms`` after the first
    audio of the assistant that answers it (once)."""

    audio: bytes = attrs.field(repr=False)
    barge_in: bytes = attrs.field(default=b"", repr=False)
    after_ms: int = 600


@attrs.frozen(kw_only=True)
class Conversation:
    name: str
    steps: tuple[Say | Speak, ...]
    final: str  # a regex the last assistant message matches
    fake: FakeServerConfig = attrs.field(factory=FakeServerConfig)
    script: FakeScript = attrs.field(factory=FakeScript)
    agent: Agent = GREETER
    final_agent: str = "Greeter"

    def servers(self) -> FakeServers:
        return FakeServers(self.fake, script=self.script)


def _speech(text: str) -> bytes:
    return quiet(400) + synthesize_speech(text) + quiet(1000)


CONVERSATIONS = (
    Conversation(
        name="text turn",
        steps=(Say(text="Hello there"),),
        final=r"^You said: Hello there\. What else can I do for you\?$",
    ),
    Conversation(
        name="two tool calls",
        steps=(Say(text="What's the weather in Paris and in London?"),),
        final=r"^Here is what I found: Sunny in (Paris|London)\.$",
        script=FakeScript(
            steps=[
                Respond(
                    outputs=(
                        ScriptCall(name="get_weather", arguments='{"city": "Paris"}'),
                        ScriptCall(name="get_weather", arguments='{"city": "London"}'),
                    )
                )
            ],
            connections=1,
        ),
    ),
    Conversation(
        name="handoff",
        steps=(Say(text="Please transfer me to support"),),
        final=r"^Hello, this is Support\. How can I help you\?$",
        final_agent="Support",
    ),
    Conversation(
        name="audio turn with barge-in",
        steps=(Speak(audio=_speech("Tell me about the weather"), barge_in=_speech("Stop there")),),
        final=r"^You said: \(\d+\.\d s of speech\)\. What else can I do for you\?$",
        fake=FakeServerConfig(pace=1.0),
    ),
)


def said_by_assistant(item: Any) -> str | None:
    if not isinstance(item, AssistantMessage):
        return None
    return " ".join(
        part.text if isinstance(part, OutputText) else (part.transcript or "")
        for part in item.content
        if isinstance(part, OutputText | OutputAudio)
    )


def check_outcome(
    history: History,
    conversation: Conversation,
    *,
    server_items: Sequence[str] | None = None,
    tool_runs: Sequence[str] = (),
    agent: str | None = None,
) -> None:
    """What a drop must not change: the history holds every item once, in order (the last
    server's conversation, when given); every call has exactly one output, and ran once;
    no user message is there twice; the last answer came, from the right agent."""
    items = history.items()
    ids = [item.id for item in items]
    assert len(set(ids)) == len(ids), f"an item twice in the history: {ids}"
    if server_items is not None:
        assert ids == list(server_items), f"history {ids} != conversation {list(server_items)}"
    calls = [item.call_id for item in items if isinstance(item, FunctionCall)]
    outputs = [item.call_id for item in items if isinstance(item, FunctionCallOutput)]
    assert sorted(calls) == sorted(outputs), f"calls {calls}, outputs {outputs}"
    assert len(set(outputs)) == len(outputs), f"a call answered twice: {outputs}"
    assert sorted(tool_runs) == sorted(set(tool_runs)), f"a tool ran twice: {tool_runs}"
    assert set(calls) <= set(tool_runs) | _handoffs(items), "a call in the history never ran"
    said = [
        part.text
        for item in items
        if isinstance(item, UserMessage)
        for part in item.content
        if isinstance(part, InputText)
    ]
    for step in conversation.steps:
        if isinstance(step, Say):
            assert said.count(step.text) == 1, f"{step.text!r} is in the history {said}"
    last = said_by_assistant(items[-1]) if items else None
    assert last is not None and re.search(conversation.final, last), f"last item: {items[-1:]}"
    if agent is not None:
        assert agent == conversation.final_agent


def _handoffs(items: Sequence[Any]) -> set[str]:
    return {
        item.call_id
        for item in items
        if isinstance(item, FunctionCall) and item.name.startswith("transfer_to_")
    }


class PureLoop:
    """A ``Session`` and fake servers, by hand, on a virtual clock (see the module doc)."""

    def __init__(
        self, conversation: Conversation, *, drop_before: int | None = None, max_steps: int = 50_000
    ) -> None:
        self.conversation = conversation
        self.drop_before = drop_before
        self.max_steps = max_steps
        self.now = 0.0
        self.session = Session(conversation.agent, config=CONFIG)
        self.servers = conversation.servers()
        self.server = self.servers()
        self.frames = 0  # frames delivered or dropped, both ways
        self.dropped = False
        self.to_server: deque[str] = deque()
        self.to_client: deque[str | CloseConnection] = deque()
        self.effects: deque[Any] = deque()
        self.events: list[events.SessionEvent] = []
        self.tool_runs: list[str] = []
        self.at: list[tuple[float, int, bytes]] = []  # (when, order, audio) to append
        self._order = 0
        self._barge: bytes = b""
        self._barge_after = 0.0
        self._from_server(self.server.connected(self.now))
        self._handle(inputs.Connected())

    # -- the session side ----------------------------------------------------------------

    def _handle(self, event: inputs.AnyInput) -> None:
        for output in self.session.handle(event, now=self.now):
            if isinstance(output, wire.ClientEventBase | wire.RawClientEvent):
                self.to_server.append(self.session.encode(output))
            elif isinstance(output, effects.CloseConnection):
                pass
            elif isinstance(output, effects.CallTool | effects.OpenConnection):
                self.effects.append(output)
            elif isinstance(output, effects.RunGuardrails | effects.ResolveInstructions):
                raise AssertionError(f"not in these conversations: {output!r}")
            else:
                self.events.append(output)
                if isinstance(output, events.AudioEvent) and self._barge:
                    self._schedule(self._barge, self.now + self._barge_after)
                    self._barge = b""

    def _from_server(self, outputs: Sequence[Any]) -> None:
        for output in outputs:
            if isinstance(output, CloseConnection):
                self.to_client.append(output)
            elif isinstance(output, RawFrame):
                self.to_client.append(output.text)
            else:
                self.to_client.append(wire.encode_server_event(output))

    def _schedule(self, audio: bytes, start: float) -> None:
        size = PCM16.bytes_per_second * CHUNK_MS // 1000
        for index, offset in enumerate(range(0, len(audio), size)):
            self._order += 1
            self.at.append(
                (start + index * CHUNK_MS / 1000, self._order, audio[offset : offset + size])
            )
        self.at.sort()

    # -- the wire --------------------------------------------------------------------------

    def _frame_due(self) -> bool:
        """One more frame goes, unless it is the one to drop."""
        self.frames += 1
        if self.frames != self.drop_before:
            return True
        self.drop(1006, "dropped before frame")
        return False

    def drop(self, code: int, reason: str) -> None:
        self.dropped = True
        self.to_server.clear()
        self.to_client.clear()
        self.server.disconnected(self.now)
        self._handle(inputs.ConnectionLost(code=code, reason=reason))

    def _open(self, effect: effects.OpenConnection) -> None:
        self.now += effect.delay_s
        self.server = self.servers()
        self._from_server(self.server.connected(self.now))
        self._handle(inputs.Connected())

    def _answer(self, effect: Any) -> None:
        if isinstance(effect, effects.OpenConnection):
            self._open(effect)
            return
        assert isinstance(effect, effects.CallTool)
        if effect.name.startswith("transfer_to_"):
            self._handle(inputs.ToolResult(call_id=effect.call_id, output=""))
            return
        self.tool_runs.append(effect.call_id)
        city = effect.arguments.get("city", "?")
        self._handle(inputs.ToolResult(call_id=effect.call_id, output=f"Sunny in {city}"))

    def step(self) -> bool:
        """One move (a frame, an effect's answer, or the clock to the next deadline); False
        once nothing is left to do."""
        if self.to_server:
            text = self.to_server.popleft()
            if self._frame_due():
                self._from_server(self.server.receive(text, self.now))
            return True
        if self.to_client:
            frame = self.to_client.popleft()
            if isinstance(frame, CloseConnection):
                self.drop(frame.code, frame.reason)
            elif self._frame_due():
                self._handle(frame)
            return True
        if self.effects:
            self._answer(self.effects.popleft())
            return True
        deadlines = [
            (t, kind)
            for t, kind in (
                (self.session.get_timer(), "session"),
                (self.server.get_timer(), "server"),
                (self.at[0][0] if self.at else None, "app"),
            )
            if t is not None and t < 3000  # not the recycle, far off
        ]
        if not deadlines:
            return False
        when, kind = min(deadlines)
        self.now = max(self.now, when)
        if kind == "session":
            self._handle(inputs.TimerFired(now=self.now))
        elif kind == "server":
            self._from_server(self.server.timer(self.now))
        else:
            _, _, chunk = self.at.pop(0)
            self._handle(inputs.SendAudio(data=chunk))
        return True

    def run(self) -> PureLoop:
        for step in self.conversation.steps:
            if isinstance(step, Say):
                self._handle(inputs.SendMessage(message=step.text))
            else:
                self._schedule(step.audio, self.now)
                self._barge, self._barge_after = step.barge_in, step.after_ms / 1000
            self._settle()
        return self

    def _settle(self) -> None:
        for _ in range(self.max_steps):
            if not self.step() and not self.session.busy:
                return
        raise AssertionError(f"no rest after {self.max_steps} steps ({self.frames} frames)")

    def check(self) -> None:
        check_outcome(
            self.session.history,
            self.conversation,
            server_items=self.server.model.conversation,
            tool_runs=self.tool_runs,
            agent=self.session.current_agent.name,
        )


# -- through the driver ------------------------------------------------------------------


class FrameCounter:
    """Counts the frames of every connection, both ways; says when to drop."""

    def __init__(self, drop_before: int | None) -> None:
        self.drop_before = drop_before
        self.frames = 0

    def due(self) -> bool:
        self.frames += 1
        return self.frames == self.drop_before


class Dropping:
    """A transport whose connection drops (1006) instead of carrying frame ``k``."""

    def __init__(self, inner: Transport, counter: FrameCounter) -> None:
        self.inner = inner
        self.counter = counter

    async def __aenter__(self) -> Dropping:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.inner.__aexit__(*exc)

    async def _drop(self) -> ConnectionClosed:
        await self.inner.close(1006, "dropped before frame")
        return ConnectionClosed(1006, "dropped before frame")

    async def send(self, text: str) -> None:
        if self.counter.due():
            raise await self._drop()
        await self.inner.send(text)

    async def receive(self) -> str:
        text = await self.inner.receive()
        if self.counter.due():
            raise await self._drop()
        return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.close(code, reason)


async def through_driver(conversation: Conversation, drop_before: int | None = None) -> int:
    """The conversation through ``run`` on the in-memory fake (a new server per connection),
    checked; the number of frames it took."""
    connections = FakeServerConnections(conversation.fake, script=conversation.script)
    counter = FrameCounter(drop_before)
    runs: list[str] = []
    async with run(
        conversation.agent,
        config=CONFIG,
        context=runs,
        transport_factory=lambda: Dropping(connections(), counter),
    ) as session:
        app_done = anyio.Event()
        for step in conversation.steps:
            if isinstance(step, Say):
                await session.send_message(step.text)
                app_done.set()
            else:
                await _speak(session, step, app_done)
        with anyio.fail_after(120):  # virtual seconds
            async for _ in session:
                if app_done.is_set() and _at_rest(session, conversation):
                    break
        check_outcome(
            session.history,
            conversation,
            server_items=connections.servers[-1].model.conversation,
            tool_runs=runs,
            agent=session.current_agent.name,
        )
    if drop_before is not None and drop_before <= counter.frames:
        assert connections.count >= 2, "the connection was dropped, and never opened again"
    return counter.frames


def _at_rest(session: RealtimeSession, conversation: Conversation) -> bool:
    if session.busy:
        return False
    items = session.history.items()
    said = said_by_assistant(items[-1]) if items else None
    return said is not None and re.search(conversation.final, said) is not None


async def _stream(session: RealtimeSession, audio: bytes) -> None:
    size = PCM16.bytes_per_second * CHUNK_MS // 1000
    for offset in range(0, len(audio), size):
        await session.send_audio(audio[offset : offset + size])
        await anyio.sleep(CHUNK_MS / 1000)


async def _speak(session: RealtimeSession, step: Speak, app_done: anyio.Event) -> None:
    heard = session.subscribe(raw=False)

    async def barge_in() -> None:
        async for event in heard:
            if isinstance(event, events.AudioEvent):
                break
        session.unsubscribe(heard)
        await anyio.sleep(step.after_ms / 1000)
        await _stream(session, step.barge_in)
        app_done.set()

    session._tg.start_soon(barge_in)
    await _stream(session, step.audio)
