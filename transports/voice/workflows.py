"""Workflows: what answers a turn. Any object with ``run(transcript)`` yielding text.

A workflow is any object with

- ``run(transcript) -> AsyncIterator[str] | Iterable[str]`` (also a coroutine returning one,
  or a ``str``): the reply, streamed in pieces of any size;
- optionally ``on_start() -> AsyncIterator[str] | Iterable[str]``: a greeting, spoken before
  the user says anything;
- optionally ``async on_interrupted(heard, spoken)``: the reply was cut (barge-in, a failed
  synthesis); only ``heard`` of the ``spoken`` text reached the listener, and a workflow with
  memory should keep only that.

``SimpleWorkflow(fn, greeting=...)`` is the seed's: a function of the transcript.
``AgentWorkflow(agent)`` runs a realtime ``Agent`` (its tools, handoffs and output
guardrails) through a text-only Realtime session, with the library's one agent loop (the
``Session`` core and the ``runner`` driver), keeping the conversation across turns.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

import anyio
import attrs
from realtime_sansio.protocol import Agent, ModelConfig, RunConfig, SessionModelSettings, events

from ..base import Transport
from ..runner import RealtimeSession, run

__all__ = [
    "AgentWorkflow",
    "SimpleWorkflow",
    "VoiceWorkflow",
    "WorkflowError",
    "WorkflowOutput",
    "iterate_text",
]

WorkflowOutput = AsyncIterator[str] | Iterable[str] | Awaitable[Any] | str


class WorkflowError(Exception):
    """The workflow could not answer (the Realtime session failed, the connection ended)."""


@runtime_checkable
class VoiceWorkflow(Protocol):
    """The one method a workflow needs (see the module docstring for the optional ones)."""

    def run(self, transcript: str) -> WorkflowOutput: ...


async def iterate_text(output: WorkflowOutput) -> AsyncIterator[str]:
    """The text of a workflow's output, whatever its shape. A lazy synchronous iterator (a
    generator) is advanced in a worker thread, so a blocking one never stalls the loop."""
    while inspect.isawaitable(output):
        output = await output
    if isinstance(output, str):
        yield output
        return
    if hasattr(output, "__aiter__"):
        async for text in output:
            yield _text(text)
        return
    if isinstance(output, list | tuple):
        for text in output:
            yield _text(text)
        return
    if not isinstance(output, Iterable):
        raise TypeError(f"a workflow yields text, not {type(output).__name__}")
    iterator = iter(output)
    done = object()
    while True:
        item = await anyio.to_thread.run_sync(next, iterator, done, abandon_on_cancel=True)
        if item is done:
            return
        yield _text(item)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a workflow yields str, not {type(value).__name__}")
    return value


class SimpleWorkflow:
    """The seed's ``SimpleWorkflow``: ``fn(transcript)`` gives the reply (a list, an iterator
    or an async iterator of text, a str, or a coroutine returning one), and ``greeting`` is
    said first."""

    def __init__(self, fn: Callable[[str], WorkflowOutput], *, greeting: str | None = None):
        self.fn = fn
        self.greeting = greeting

    def run(self, transcript: str) -> WorkflowOutput:
        return self.fn(transcript)

    def on_start(self) -> Iterable[str]:
        return [self.greeting] if self.greeting else []


_TEXT_ONLY = SessionModelSettings(output_modalities=["text"], turn_detection=None)


@attrs.define
class _Turn:
    """The assistant messages of the turn being answered (replaced when it is cut)."""

    items: list[str] = attrs.Factory(list)


class AgentWorkflow:
    """A realtime ``Agent`` as the pipeline's brain, through a text-only Realtime session.

    The session is opened when the pipeline starts (``async with`` is done by the pipeline)
    and kept for all turns, so the conversation, the current agent after a handoff, and the
    tools' context carry over. ``run`` sends the transcript as a user message and streams the
    assistant's text until the agent is done (tool calls and handoffs included). When a reply
    is cut, its assistant message is replaced by the part that was heard.

    ``config`` and ``model_config`` are the Realtime ones (``output_modalities`` is forced to
    text and server turn detection off); ``transport`` makes the connection (default: a
    WebSocket from ``model_config``; ``FakeServerTransport`` for the in-memory fake).
    """

    def __init__(
        self,
        agent: Agent,
        *,
        config: RunConfig | None = None,
        model_config: ModelConfig | None = None,
        context: Any = None,
        transport: Callable[[], Transport] | None = None,
        greeting: str | None = None,
        reply_timeout_s: float = 60.0,
    ) -> None:
        self.agent = agent
        base = config or RunConfig()
        self.config = attrs.evolve(base, model_settings=base.model_settings.merge(_TEXT_ONLY))
        self.model_config = model_config
        self.context = context
        self.transport = transport
        self.greeting = greeting
        self.reply_timeout_s = reply_timeout_s
        self._run: AbstractAsyncContextManager[RealtimeSession] | None = None
        self._session: RealtimeSession | None = None
        self._turn = _Turn()

    @property
    def session(self) -> RealtimeSession:
        if self._session is None:
            raise WorkflowError("the AgentWorkflow's session is not open (use it in a pipeline)")
        return self._session

    async def __aenter__(self) -> AgentWorkflow:
        self._run = run(
            self.agent,
            config=self.config,
            model_config=self.model_config,
            context=self.context,
            transport=self.transport() if self.transport is not None else None,
        )
        self._session = await self._run.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session_run, self._run, self._session = self._run, None, None
        if session_run is not None:
            await session_run.__aexit__(exc_type, exc, tb)

    async def on_start(self) -> AsyncIterator[str]:
        if self.greeting:
            await self._add_assistant_message(self.greeting)
            yield self.greeting

    async def run(self, transcript: str) -> AsyncIterator[str]:
        session = self.session
        self._turn = _Turn()
        subscription = session.subscribe()
        try:
            await session.send_message(transcript)  # the session is busy from here on
            deadline = anyio.current_time() + self.reply_timeout_s
            while True:  # no cancel scope around a yield: per-read timeouts instead
                try:
                    event = await subscription.next(max(0.0, deadline - anyio.current_time()))
                except TimeoutError:
                    raise WorkflowError(f"no reply within {self.reply_timeout_s:g} s") from None
                except StopAsyncIteration:
                    raise WorkflowError("the Realtime session ended during the reply") from None
                for text in self._read(event):
                    yield text
                if not session.busy:
                    break
            # Steps deliver synchronously: every event of the reply is buffered by now.
            while True:
                try:
                    event = await subscription.next(timeout=0)
                except (TimeoutError, StopAsyncIteration):
                    break
                for text in self._read(event):
                    yield text
        finally:
            session.unsubscribe(subscription)

    def _read(self, event: events.SessionEvent) -> list[str]:
        """The assistant's text in ``event``; a failed response or a lost connection raise."""
        if isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
            if event.item_id not in self._turn.items:
                self._turn.items.append(event.item_id)
            return [event.delta]
        if isinstance(event, events.ErrorEvent) and event.response_id is not None:
            raise WorkflowError(f"the response failed: {event.message}")
        if isinstance(event, events.ConnectionClosedEvent):
            raise WorkflowError(f"the Realtime connection ended: {event.reason or event.code}")
        return []

    async def on_interrupted(self, heard: str, spoken: str) -> None:
        """Keep only what was heard of the reply: stop the response if it still runs, delete
        the turn's assistant messages, and add one with the heard text."""
        session = self._session
        if session is None:
            return
        if session.response_active:
            subscription = session.subscribe()
            try:
                await session.interrupt()
                with anyio.move_on_after(5):
                    async for event in subscription:
                        if isinstance(event, events.AgentEndEvent) and not session.busy:
                            break
            finally:
                session.unsubscribe(subscription)
        for item_id in self._turn.items:
            await session.send_raw_event({"type": "conversation.item.delete", "item_id": item_id})
        self._turn = _Turn()
        if heard:
            await self._add_assistant_message(heard)

    async def _add_assistant_message(self, text: str) -> None:
        item = {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text}],
        }
        await self.session.send_raw_event({"type": "conversation.item.create", "item": item})
