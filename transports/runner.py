"""The anyio driver: runs a pure ``Session`` over a transport on asyncio or trio alike.

The driver owns what the core must not: tasks, the clock, timers, running user code (tools,
guardrails, instruction functions) and subscribers. Everything it does goes through one
synchronous step, ``_step(input)``: the core's ``handle`` and the dispatch of its outputs (client
events queued for sending in order, session events buffered for subscribers, effects started
as tasks). A step has no ``await`` inside, so steps never interleave and the core sees one
event at a time, in the order the loop produced them.

    async with run(agent, transport=transport) as session:
        await session.send_message("Hello")
        async for event in session:
            ...
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
import typing
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import attrs
import sniffio
from realtime_sansio.protocol import (
    Agent,
    FunctionTool,
    GuardrailFunctionOutput,
    Handoff,
    LocalProtocolError,
    ModelConfig,
    RunConfig,
    Session,
    SessionModelSettings,
    ToolArgumentsError,
    ToolContext,
    effects,
    events,
    inputs,
    wire,
)
from realtime_sansio.protocol.history import History
from realtime_sansio.protocol.items import UserMessage

from .auth import ApiKeyError, Redactor, connection_secrets, resolve_api_key
from .base import ConnectionClosed, Transport
from .connections import Connections
from .recording import Recorder, session_recording
from .subscriptions import (
    DEFAULT_MAX_AUDIO_S,
    DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_RAW,
    SlowSubscriberError,
    Subscription,
    check_max_events,
    former_max_buffer,
)

__all__ = [
    "MAX_BATCH",
    "MAX_UNSENT",
    "RealtimeSession",
    "Runner",
    "SlowSubscriberError",
    "Subscription",
    "run",
]

MAX_UNSENT = 32
"""Frames the application's commands may queue for the writer task; a command that finds
this many unsent waits until they are written (the socket's pace holds the application)."""

MAX_BATCH = 32
"""Frames the reader steps in one go before the loop runs other tasks (subscribers, other
sessions): what the transport has already received, no more than this. After a full batch
the reader yields to the loop; a transport's ``receive_many`` that returns fewer waits for
its next frames (a checkpoint) on its next call."""


_SESSION_EVENTS = frozenset(typing.get_args(events.SessionEvent))


def _loop_clock() -> Callable[[], float]:
    """The running loop's clock, the one ``anyio.current_time()`` reads, without the lookups
    it makes on each call (a step reads it for every frame and command)."""
    library = sniffio.current_async_library()
    if library == "asyncio":
        return asyncio.get_running_loop().time
    if library == "trio":
        import trio

        return trio.current_time
    return anyio.current_time


def _tool_output(result: Any) -> str:
    """What the model is told a tool returned: text as is, JSON for data, else ``str``."""
    if isinstance(result, str):
        return result
    if result is None:
        return ""
    try:
        return json.dumps(result)
    except (TypeError, ValueError):
        return str(result)


async def _call_user(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call user code: coroutine functions awaited, sync functions in a worker thread (so a
    blocking tool never stalls the loop; a hung one is abandoned on cancellation)."""
    if inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(
        getattr(func, "__call__", None)  # noqa: B004
    ):
        result = await func(*args, **kwargs)
    else:
        # Boxed: trio refuses a worker thread's result that is a coroutine (a sync function
        # handing back an awaitable, such as a lambda around an async one), asyncio does not.
        (result,) = await anyio.to_thread.run_sync(
            lambda: (func(*args, **kwargs),), abandon_on_cancel=True
        )
    if inspect.isawaitable(result):
        result = await result
    return result


class RealtimeSession(Connections):
    """A running session: the application's handle on one conversation (see ``run``)."""

    def __init__(
        self,
        core: Session,
        transport: Transport,
        task_group: anyio.abc.TaskGroup,
        *,
        subscriber_buffer: int = DEFAULT_MAX_EVENTS,
        redact: Callable[[str], str] | None = None,
        recorder: Recorder | None = None,
        connect: Callable[[], Transport] | None = None,
    ) -> None:
        self._core = core
        self._redact = redact or Redactor()
        self._recorder = recorder
        self._transport = transport
        self._connect = connect  # makes the transport of each later connection
        self._tg = task_group
        self._subscriber_buffer = subscriber_buffer
        self._outgoing: deque[wire.ClientEvent | wire.RawClientEvent] = deque()
        self._unsent: list[str] = []  # encoded, in order, for the next write
        self._writer_wake = anyio.Event()
        # The loop's own Event class: a new one per wake, without anyio's backend lookup.
        self._new_event: Callable[[], anyio.Event] = type(self._writer_wake)
        # Uncontended, it takes no trip through the scheduler (the send is the checkpoint).
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._send_many: Callable[[list[str]], Awaitable[None]] | None = getattr(
            transport, "send_many", None
        )
        self._subscriptions: list[Subscription] = []
        self._timer_changed = anyio.Event()
        self._deadline: float | None = None  # the one _tick waits for
        self._clock = _loop_clock()
        self._tasks: dict[str, anyio.CancelScope] = {}  # call id -> its tool task
        self._closed = anyio.Event()
        self._close_error: ConnectionClosed | None = None
        self._default = self.subscribe()  # made before any step, so `async for` misses nothing

    # -- the application's API --------------------------------------------------------------

    @property
    def current_agent(self) -> Agent:
        return self._core.current_agent

    @property
    def history(self) -> History:
        return self._core.history

    @property
    def response_active(self) -> bool:
        return self._core.response_active

    @property
    def busy(self) -> bool:
        """More is coming: a response is active or requested, a tool call, a guardrail check
        or a handoff's instructions are still pending (``Session.busy``), or a tool task
        still runs. ``AgentEndEvent`` with ``busy`` False: the conversation is at rest."""
        return self._core.busy or bool(self._tasks)

    async def send_message(self, message: str | UserMessage | Mapping[str, Any]) -> None:
        """Text, a ``UserMessage``, or a GA user message dict with ``content`` parts."""
        await self._command(inputs.SendMessage(message=message))

    async def send_audio(
        self, pcm: bytes | bytearray | memoryview, *, commit: bool = False
    ) -> None:
        """Audio in the input format (PCM16: whole samples, an even number of bytes)."""
        await self._command(inputs.SendAudio(data=pcm, commit=commit))

    async def clear_audio(self) -> None:
        await self._command(inputs.ClearAudio())

    async def send_raw_event(self, event: wire.ClientEvent | Mapping[str, Any]) -> None:
        await self._command(inputs.SendRawEvent(event=event))

    async def interrupt(self, *, force_cancel: bool = False) -> None:
        await self._command(inputs.Interrupt(force_cancel=force_cancel))

    async def update_session(self, settings: SessionModelSettings) -> None:
        await self._command(inputs.UpdateSession(settings=settings))

    async def update_agent(self, agent: Agent) -> None:
        await self._command(inputs.UpdateAgent(agent=agent))

    async def audio_played(self, item_id: str, content_index: int, ms: float) -> None:
        await self._command(inputs.AudioPlayed(item_id=item_id, content_index=content_index, ms=ms))

    async def approve_tool(self, call_id: str) -> None:
        await self._command(inputs.ApproveTool(call_id=call_id))

    async def reject_tool(self, call_id: str, message: str | None = None) -> None:
        await self._command(inputs.RejectTool(call_id=call_id, message=message))

    def subscribe(
        self,
        *,
        max_events: int | None = None,
        max_audio_s: float = DEFAULT_MAX_AUDIO_S,
        raw: bool = True,
        max_raw: int = DEFAULT_MAX_RAW,
        max_buffer: int | None = None,
    ) -> Subscription:
        """A new subscriber: every event from now on, with its own bounds (see
        ``subscriptions`` for them and the overflow policy; ``max_events`` defaults to
        ``run(subscriber_buffer=...)``, ``max_buffer`` is its former name). Audio is measured
        in the session's current output format. Idempotent to end with ``unsubscribe``."""
        if max_buffer is not None:
            max_events = former_max_buffer(max_buffer, "subscribe")
        core = self._core
        subscription = Subscription(
            self._subscriber_buffer if max_events is None else max_events,
            max_audio_s=max_audio_s,
            raw=raw,
            max_raw=max_raw,
            audio_format=lambda: core.output_audio_format,
        )
        if self._closed.is_set():
            subscription.end()
        self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        subscription.end()

    def __aiter__(self) -> AsyncIterator[events.SessionEvent]:
        return self._default

    async def close(self) -> None:
        """End the session: close the connection, cancel pending tools; returns promptly."""
        if not self._closed.is_set():
            self._step(inputs.Close())
            with anyio.move_on_after(2):  # a peer that never answers the close is not waited for
                await self._flush()
                await self._transport.close(1000, "session closed")
            self._finish()
        self._tg.cancel_scope.cancel()

    async def wait_closed(self) -> None:
        """Wait until the connection has ended."""
        await self._closed.wait()

    # -- the one synchronous step -------------------------------------------------------------

    async def _command(self, event: inputs.Input) -> None:
        if self._close_error is not None:
            # The transport's ConnectionClosed quotes the server's close reason.
            why = self._redact(str(self._close_error))
            raise LocalProtocolError(f"cannot {type(event).__name__}: {why}")
        self._step(event)
        self._encode_queued()  # a frame that cannot be encoded is the caller's error
        if len(self._unsent) < MAX_UNSENT:
            # The writer task sends it at its next turn, with whatever else is queued by
            # then: a command costs no trip through the scheduler, and commands in a row
            # share one write (as the websockets library's send, which does not wait either).
            self._writer_wake.set()
        else:
            # The writer is behind: wait for the socket. So at least every MAX_UNSENT
            # commands, a command yields to the loop and is a cancellation point.
            await self._flush()

    def _step(self, event: inputs.AnyInput, now: float | None = None) -> None:
        self._dispatch(event, self._clock() if now is None else now)
        self._check_timer()

    def _check_timer(self) -> None:
        if self._core.get_timer() != self._deadline:  # else _tick sleeps on, not woken
            self._timer_changed.set()

    def _dispatch(self, event: inputs.AnyInput, now: float) -> None:
        """The core's step and its outputs, without the timer's check (``_step``)."""
        outputs = self._core.handle(event, now=now)
        if self._recorder is not None:
            self._recorder.step(event, outputs, now)
        for output in outputs:
            if type(output) in _SESSION_EVENTS:  # most outputs: one set lookup
                self._publish(output)  # type: ignore[arg-type]
            elif isinstance(output, (wire.ClientEventBase, wire.RawClientEvent)):
                self._outgoing.append(output)
            elif isinstance(output, effects.CallTool):
                self._start_tool(output)
            elif isinstance(output, effects.RunGuardrails):
                self._tg.start_soon(self._run_guardrails, output)
            elif isinstance(output, effects.ResolveInstructions):
                self._tg.start_soon(self._resolve_instructions, output)
            elif isinstance(output, effects.CloseConnection):
                self._tg.start_soon(self._transport.close, output.code, output.reason)
            elif isinstance(output, effects.OpenConnection):
                self._tg.start_soon(self._open_connection, output)
            else:
                self._publish(output)

    def _publish(self, event: events.SessionEvent) -> None:
        if isinstance(event, events.ToolEndEvent):
            # The core answered the call itself (a timeout): stop the task that still runs it.
            scope = self._tasks.pop(event.call_id, None)
            if scope is not None:
                scope.cancel()
        for subscription in self._subscriptions:
            subscription.deliver(event)

    def _encode_queued(self) -> None:
        """Encode the events the steps queued, in order, for the next write (an event that
        fails to encode raises here; those before it are kept)."""
        outgoing = self._outgoing
        while outgoing:
            self._unsent.append(self._core.encode(outgoing.popleft()))

    async def _flush(self) -> None:
        """Send what the steps queued, in order (one sender at a time keeps the order), all
        that is queued in one write when the transport can (``send_many``). Returns once
        what was queued is sent: with nothing queued and no send under way, at once."""
        self._encode_queued()
        if not self._unsent and not self._send_lock.locked():
            return
        async with self._send_lock:
            while self._unsent:
                frames, self._unsent = self._unsent, []
                if not await self._send_frames(frames):
                    self._outgoing.clear()
                    self._unsent.clear()
                    return

    async def _write(self) -> None:
        """The writer task: sends what the application's commands queued (``_command``)."""
        while True:
            await self._writer_wake.wait()
            self._writer_wake = self._new_event()
            await self._flush()

    async def _send_frames(self, frames: list[str]) -> bool:
        """Send ``frames``; False once the connection is gone."""
        try:
            if self._send_many is not None and len(frames) > 1:
                await self._send_many(frames)
            else:
                for frame in frames:
                    await self._transport.send(frame)
        except ConnectionClosed:
            return False
        return True

    async def _answer(self, event: inputs.Input) -> None:
        """An effect's answer: a step and its sends, unless the session has ended."""
        if self._closed.is_set():
            return
        self._step(event)
        await self._flush()

    # -- background tasks -----------------------------------------------------------------------

    async def _start(self) -> None:
        self._step(inputs.Connected())
        await self._flush()
        self._tg.start_soon(self._read, self._transport)
        self._tg.start_soon(self._tick)
        self._tg.start_soon(self._write)
        # The tasks started so far (the reader, the transport's own) run before the body.
        await anyio.lowlevel.checkpoint()

    async def _read(self, transport: Transport) -> None:
        """Step each frame of ``transport`` as it comes, while it is the session's (a new
        connection, or the end of a recycled one, makes it no longer so: see
        ``connections``); what the transport has already received (up to ``MAX_BATCH``
        frames, with ``receive_many``) in one go, then their sends in one write."""
        receive_many: Callable[[int], Awaitable[list[str]]] | None = getattr(
            transport, "receive_many", None
        )
        receive = transport.receive
        while True:
            try:
                frames = (
                    [await receive()] if receive_many is None else await receive_many(MAX_BATCH)
                )
            except ConnectionClosed as closed:
                if transport is not self._transport:
                    return  # left for a new one: its end is no news
                self._step(inputs.ConnectionLost(code=closed.code, reason=closed.reason))
                if self._core.closed:  # else the core reconnects
                    self._close_error = closed
                    self._finish()
                return
            if transport is not self._transport:
                return
            now = self._clock()  # one reading for the frames read together
            dispatch = self._dispatch
            for frame in frames:
                dispatch(frame, now)
            self._check_timer()  # once for them all: _tick runs only once this task waits
            if self._outgoing or self._unsent or self._send_lock.locked():
                await self._flush()  # (a coroutine's cost saved per read, most have no sends)
            if len(frames) >= MAX_BATCH:
                # More may be there without a wait (frames parsed from the same read): let
                # the subscribers and the loop's other sessions have their turn first.
                await anyio.lowlevel.cancel_shielded_checkpoint()

    def _finish(self) -> None:
        self._closed.set()
        for scope in self._tasks.values():
            scope.cancel()
        self._tasks.clear()
        for subscription in self._subscriptions:
            subscription.end()

    async def _tick(self) -> None:
        """Wake the core at its deadlines (tool timeouts), on the loop's own clock."""
        while not self._closed.is_set():
            self._timer_changed = self._new_event()
            deadline = self._deadline = self._core.get_timer()
            if deadline is None:
                await self._timer_changed.wait()
                continue
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                await self._timer_changed.wait()
            if anyio.current_time() >= deadline and not self._closed.is_set():
                await self._answer(inputs.TimerFired(now=anyio.current_time()))

    def _start_tool(self, effect: effects.CallTool) -> None:
        scope = anyio.CancelScope()
        self._tasks[effect.call_id] = scope
        self._tg.start_soon(self._run_tool, effect, scope)

    async def _run_tool(self, effect: effects.CallTool, scope: anyio.CancelScope) -> None:
        with scope:
            try:
                output = await self._invoke(effect)
                failed = False
            except ToolArgumentsError as exc:
                output, failed = f"Error: invalid arguments for {effect.name!r}: {exc}", True
            except Exception as exc:  # a tool's failure is news for the model, not a crash
                # Its message may quote a credential (an HTTP client's error): not to the model.
                output, failed = self._redact(f"Error: {type(exc).__name__}: {exc}"), True
            self._tasks.pop(effect.call_id, None)
            await self._answer(
                inputs.ToolResult(call_id=effect.call_id, output=output, failed=failed)
            )

    async def _invoke(self, effect: effects.CallTool) -> str:
        tool = effect.tool
        if isinstance(tool, Handoff):
            if tool.on_handoff is not None:
                await _call_user(
                    tool.on_handoff, *tool.build_callback_args(effect.arguments, effect.context)
                )
            return ""
        assert isinstance(tool, FunctionTool)
        context = ToolContext(context=effect.context, call_id=effect.call_id, tool_name=tool.name)
        args, kwargs = tool.build_call_args(effect.arguments, context)
        return _tool_output(await _call_user(tool.on_invoke, *args, **kwargs))

    async def _run_guardrails(self, effect: effects.RunGuardrails) -> None:
        tripped: list[str] = []
        infos: list[Any] = []
        for guardrail in effect.guardrails:
            try:
                verdict = await _call_user(
                    guardrail.guardrail_function, effect.context, effect.agent, effect.text
                )
            except Exception as exc:  # reported; the reply goes on unchecked by this one
                name, kind = guardrail.get_name(), type(exc).__name__
                message = self._redact(f"guardrail {name!r} raised {kind}: {exc}")
                self._publish(events.ErrorEvent(code="guardrail_failed", message=message))
                continue
            if isinstance(verdict, GuardrailFunctionOutput) and verdict.tripwire_triggered:
                tripped.append(guardrail.get_name())
                infos.append(verdict.output_info)
        await self._answer(
            inputs.GuardrailResult(
                run_id=effect.run_id, tripped=tuple(tripped), output_info=tuple(infos)
            )
        )

    async def _resolve_instructions(self, effect: effects.ResolveInstructions) -> None:
        instructions = effect.agent.instructions
        assert not isinstance(instructions, str)
        try:
            text = await _call_user(instructions, effect.context)
        except Exception as exc:  # the session starts without them, and says so
            name, kind = effect.agent.name, type(exc).__name__
            error = self._redact(f"the instructions of agent {name!r} raised {kind}: {exc}")
            answer = inputs.InstructionsResolved(request_id=effect.request_id, error=error)
        else:
            answer = inputs.InstructionsResolved(
                request_id=effect.request_id, instructions=str(text)
            )
        await self._answer(answer)


@asynccontextmanager
async def run(
    agent: Agent,
    *,
    config: RunConfig | None = None,
    model_config: ModelConfig | None = None,
    context: Any = None,
    transport: Transport | None = None,
    subscriber_buffer: int = DEFAULT_MAX_EVENTS,
    record: str | os.PathLike[str] | Recorder | None = None,
    transport_factory: Callable[[], Transport] | None = None,
) -> AsyncIterator[RealtimeSession]:
    """Run ``agent`` over ``transport``: a session for the duration of the ``async with``.

    ``transport`` defaults to a WebSocket connection made from ``model_config`` (see
    ``transports.websocket``); the in-memory fake server is ``transports.memory``.

    A dropped connection is survived (``RunConfig.reconnect``) and an old one replaced
    (``RunConfig.recycle_after_s``) on a new connection from ``transport_factory``, which
    makes a transport (not yet connected) each time it is called. Without ``transport``,
    it makes the first one too; without either, connections are made from ``model_config``.
    A single ``transport`` without a factory cannot be opened again: reconnecting and
    recycling are then off (docs/resilience.md).

    An exception raised in the ``async with`` body comes out as itself (``except KeyError``
    around the block catches it), not wrapped by the task groups inside; a failure of the
    connection or of a background task does too. Several failures at once come out as one
    flat ``ExceptionGroup``. A tool's exception is not raised: the model is told about it.

    Whatever the server says reaches events and errors with the credentials redacted: the
    key, secret headers and URL credentials of ``model_config``, the key the environment
    holds, and those of the transport (its ``redactor``, when it has one).

    ``subscriber_buffer`` is the default ``max_events`` of the session's subscriptions
    (``subscriptions`` has the bounds).

    ``record`` (a file path, or a ``recording.Recorder``) records the session: every input it
    had and every frame it sent, with times, for ``realtime-sansio replay`` (docs/recording.md).
    """
    check_max_events(subscriber_buffer, "subscriber_buffer")  # before connecting
    model_config = model_config or ModelConfig()
    if transport is None and transport_factory is None:
        transport_factory = functools.partial(_default_transport, model_config)
    if transport is None:
        assert transport_factory is not None
        transport = transport_factory()
    elif transport_factory is None:
        config = attrs.evolve(config or RunConfig(), reconnect=None, recycle_after_s=None)
    redact = _redactor(model_config, transport)
    core = Session(
        agent,
        config=config,
        context=context,
        dialect=model_config.dialect,
        initial_model_settings=model_config.initial_model_settings,
        redact=redact,
    )
    body_error: BaseException | None = None
    try:
        recording = session_recording(record, agent=agent, model_config=model_config, redact=redact)
        async with recording as recorder, transport, anyio.create_task_group() as task_group:
            session = RealtimeSession(
                core,
                transport,
                task_group,
                subscriber_buffer=subscriber_buffer,
                redact=redact,
                recorder=recorder,
                connect=transport_factory,
            )
            await session._start()
            try:
                yield session
            except BaseException as exc:
                body_error = exc
                raise
            finally:
                await session.close()
    except BaseExceptionGroup as group:
        failure = _unwrap(group, keep=body_error)
    else:
        return
    # Raised outside the `except` block, so the user's exception gets no group as context;
    # contextlib sees the very exception of the body and lets it go on with its traceback.
    raise failure


def _unwrap(
    group: BaseExceptionGroup[BaseException], *, keep: BaseException | None
) -> BaseException:
    """What the task groups of ``run`` (the transport's, the driver's) wrapped, unwrapped:
    the one failure itself, or several in one flat group. ``keep``, the body's own exception,
    stays whole when it is a group of the user's (trio's nursery may have copied it: its
    leaves, all there, say it is the one)."""
    leaves = _leaves(group)
    if isinstance(keep, BaseExceptionGroup):
        own = {id(leaf) for leaf in _leaves(keep)}
        if own <= {id(leaf) for leaf in leaves}:
            first = next(index for index, leaf in enumerate(leaves) if id(leaf) in own)
            others = [leaf for leaf in leaves if id(leaf) not in own]
            leaves = [*others[:first], keep, *others[first:]]
    if len(leaves) == 1:
        return leaves[0]
    return BaseExceptionGroup(group.message, leaves)


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        found.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return found


def _redactor(model_config: ModelConfig, transport: Transport) -> Redactor:
    """Every credential this session may have sent: the transport knows its own, the config
    and the environment hold the rest (a callable key is the transport's to call, not ours)."""
    key = model_config.api_key
    if key is None:
        try:
            key = resolve_api_key()
        except ApiKeyError:  # an unreadable auth.json: no key to hide
            key = None
    secrets = connection_secrets(
        model_config.url, model_config.headers.items(), key if isinstance(key, str) else None
    )
    own = getattr(transport, "redactor", None)
    return own.adding(*secrets) if isinstance(own, Redactor) else Redactor(*secrets)


def _default_transport(model_config: ModelConfig) -> Transport:
    from .connect import open_realtime  # the network stack only when it is used

    return open_realtime(model_config)


class Runner:
    """An agent with its configuration, to run as many sessions as needed."""

    def __init__(
        self,
        agent: Agent,
        *,
        config: RunConfig | None = None,
        model_config: ModelConfig | None = None,
    ) -> None:
        self.agent = agent
        self.config = config
        self.model_config = model_config

    def run(
        self,
        *,
        context: Any = None,
        transport: Transport | None = None,
        record: str | os.PathLike[str] | Recorder | None = None,
        transport_factory: Callable[[], Transport] | None = None,
    ) -> AbstractAsyncContextManager[RealtimeSession]:
        """``async with runner.run(context=...) as session``: a new session of the agent."""
        return run(
            self.agent,
            config=self.config,
            model_config=self.model_config,
            context=context,
            transport=transport,
            record=record,
            transport_factory=transport_factory,
        )
