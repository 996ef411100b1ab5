"""The bridge: page sockets in, conversations out, and a conversation that outlives a socket.

Theory of operation. A page connects (any ``Transport`` carrying text frames: our WebSocket
server, an ASGI socket) and says ``hello``. A new page gets a new conversation: the
``SessionKind`` opens a ``PageSession`` (a Realtime session of the agent; the voice pipeline
later), the page gets ``ready`` with the conversation's token, and from then on:

- the page's commands (``commands.parse_command``) go to ``PageSession.handle``; a bad one is
  answered with an ``error`` message and the conversation goes on;
- the conversation's messages (``timeline``) go to the page as JSON text frames.

When the page's socket drops, the conversation does not: it runs on, detached, for
``resume_grace_s``. Its messages wait in a backlog (``max_backlog`` messages, oldest dropped
first and counted; audio is not kept, since nobody can hear the past). A page that reconnects
with ``hello {resume: token}`` gets ``ready`` (``resumed: true``, with what it missed), the
backlog, then the live stream. Nobody back within the grace: the conversation is closed. A
second page resuming a conversation that still has one takes it over (the first is closed
with code 4001). When the conversation ends (the model's connection closed), the page gets
its ``closed`` message and its socket is closed.

The page connection that opened a conversation owns it: its ``serve`` call returns when the
conversation ends (its own page may have gone long before). At most ``max_conversations``
run at once; more are refused with close code 1013 (try again later). See docs/web.md.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, suppress
from typing import Any, Protocol

import anyio
from realtime_sansio.protocol import PCM16, LocalProtocolError

from ..auth import redact
from ..base import ConnectionClosed, Transport
from .commands import Command, CommandError, Hello, parse_command
from .timeline import PageMessage

__all__ = [
    "DEFAULT_MAX_BACKLOG",
    "DEFAULT_MAX_CONVERSATIONS",
    "DEFAULT_RESUME_GRACE_S",
    "PageSession",
    "SessionKind",
    "WebBridge",
]

DEFAULT_MAX_CONVERSATIONS = 4
"""Conversations at once (each is a model session, billed on the real API)."""
DEFAULT_RESUME_GRACE_S = 30.0
"""How long a conversation waits for its page to come back after the socket dropped."""
DEFAULT_MAX_BACKLOG = 2000
"""Messages kept for a page that is away (audio is never kept)."""
HELLO_TIMEOUT_S = 10.0
"""How long a new socket may take to say ``hello``."""

CLOSE_REPLACED = 4001
"""Close code for a page whose conversation another page resumed."""
_CLOSE_TRY_LATER = 1013
_CLOSE_POLICY = 1008
_log = logging.getLogger(__name__)

Deliver = Callable[[PageMessage], Awaitable[None]]


class PageSession(Protocol):
    """One conversation as the page sees it: where a session kind plugs into the bridge."""

    def describe(self) -> dict[str, Any]:
        """What ``ready`` tells the page: ``kind``, ``agent``, ``target``, ``hint``, ``audio``."""

    async def run(self, deliver: Deliver) -> None:
        """Deliver the conversation's messages until it ends (the last one: ``closed``)."""

    async def handle(self, command: Command) -> None:
        """Carry out one command from the page (``CommandError`` or ``LocalProtocolError``
        for one it cannot: the page is told, the conversation goes on)."""


SessionKind = Callable[[], AbstractAsyncContextManager[PageSession]]
"""Opens a conversation: ``async with kind() as page_session``."""


def _frame(message: PageMessage) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


class _Conversation:
    """One conversation, its page (if any) and what waits for a page that is away."""

    def __init__(self, token: str, session: PageSession, max_backlog: int) -> None:
        self.token = token
        self.session = session
        self.page: Transport | None = None
        self.ended = False
        self._backlog: deque[PageMessage] = deque()
        self._max_backlog = max_backlog
        self._missed_events = 0
        self._missed_audio_bytes = 0
        self._lock = anyio.Lock()  # one sender: the backlog and the live stream stay in order
        self._changed = anyio.Event()
        self._started = anyio.current_time()

    def stamp(self, message: PageMessage) -> PageMessage:
        """The bridge's own messages carry ``t`` too (seconds since the conversation began)."""
        return {**message, "t": round(anyio.current_time() - self._started, 3)}

    def _note_change(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()

    async def deliver(self, message: PageMessage) -> None:
        async with self._lock:
            if self.page is not None and await self._send(self.page, message):
                return
            self._keep(message)

    async def _send(self, page: Transport, message: PageMessage) -> bool:
        """Send to ``page``; False (and the page detached) if its socket is gone."""
        try:
            await page.send(_frame(message))
        except ConnectionClosed:
            if self.page is page:
                self.page = None
                self._note_change()
            return False
        return True

    def _keep(self, message: PageMessage) -> None:
        if message["type"] == "audio":
            self._missed_audio_bytes += len(message["pcm"]) * 3 // 4
            return
        if len(self._backlog) >= self._max_backlog:
            self._backlog.popleft()
            self._missed_events += 1
        self._backlog.append(message)

    async def attach(self, page: Transport, *, resumed: bool) -> None:
        """``page`` becomes this conversation's page: ``ready``, the backlog, then live."""
        async with self._lock:
            previous, self.page = self.page, page
            self._note_change()
            ready = self.stamp(
                {
                    "type": "ready",
                    **self.session.describe(),
                    "token": self.token,
                    "resumed": resumed,
                    "missed_events": self._missed_events,
                    "missed_audio_ms": self._missed_audio_bytes * 1000 // PCM16.bytes_per_second,
                }
            )
            self._missed_events = self._missed_audio_bytes = 0
            if await self._send(page, ready):
                while self._backlog and await self._send(page, self._backlog[0]):
                    self._backlog.popleft()
        if previous is not None and previous is not page:
            await previous.close(CLOSE_REPLACED, "another page resumed this conversation")

    def detach(self, page: Transport) -> None:
        if self.page is page:
            self.page = None
            self._note_change()

    async def end(self) -> None:
        """The conversation is over: close its page, wake whoever waits."""
        self.ended = True
        page, self.page = self.page, None
        self._note_change()
        if page is not None:
            await page.close(1000, "the conversation ended")

    async def wait_alone(self, grace_s: float) -> None:
        """Return when the conversation has ended, or has had no page for ``grace_s``."""
        while not self.ended:
            changed = self._changed
            if self.page is not None:
                await changed.wait()
                continue
            with anyio.move_on_after(grace_s):
                await changed.wait()
            if self.page is None and not changed.is_set():
                return


class WebBridge:
    """Serves pages: ``await bridge.serve(page)`` for each page connection (see the module
    docstring). ``kind`` opens a conversation; the bounds are documented constructor
    arguments."""

    def __init__(
        self,
        kind: SessionKind,
        *,
        max_conversations: int = DEFAULT_MAX_CONVERSATIONS,
        resume_grace_s: float = DEFAULT_RESUME_GRACE_S,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
    ) -> None:
        if max_conversations < 1 or max_backlog < 1 or not resume_grace_s >= 0:
            raise ValueError("max_conversations and max_backlog must be >= 1, resume_grace_s >= 0")
        self.kind = kind
        self.max_conversations = max_conversations
        self.resume_grace_s = resume_grace_s
        self.max_backlog = max_backlog
        self._conversations: dict[str, _Conversation] = {}
        self._opening = 0

    @property
    def conversations(self) -> int:
        """Conversations running now (with or without a page)."""
        return len(self._conversations)

    async def serve(self, page: Transport) -> None:
        """Serve one page connection; returns when its part is over (see the module doc)."""
        try:
            hello = await self._hello(page)
        except ConnectionClosed:
            return
        if hello is None:
            return
        conversation = self._conversations.get(hello.resume) if hello.resume else None
        if conversation is not None and not conversation.ended:
            await conversation.attach(page, resumed=True)
            await self._commands(page, conversation)
            return
        if hello.resume:
            notice = "that conversation has ended; this is a new one"
            await self._say(page, {"type": "notice", "text": notice})
        await self._converse(page)

    async def _hello(self, page: Transport) -> Hello | None:
        with anyio.move_on_after(HELLO_TIMEOUT_S):
            frame = await page.receive()
            try:
                command = parse_command(frame)
            except CommandError as exc:
                command, problem = None, str(exc)
            else:
                problem = "the first frame must be 'hello'"
            if isinstance(command, Hello):
                return command
            await self._say(page, _error(problem))
            await page.close(_CLOSE_POLICY, "expected hello")
            return None
        await page.close(_CLOSE_POLICY, "no hello")
        return None

    async def _converse(self, page: Transport) -> None:
        if self.conversations + self._opening >= self.max_conversations:
            busy = f"the server already runs {self.max_conversations} conversations"
            await self._say(page, _error(busy))
            await page.close(_CLOSE_TRY_LATER, "too many conversations")
            return
        self._opening += 1  # a slot taken while the model connects
        token = secrets.token_urlsafe(18)
        opened = False
        try:
            async with self.kind() as session:
                self._opening -= 1
                opened = True
                conversation = _Conversation(token, session, self.max_backlog)
                self._conversations[token] = conversation
                await self._run(page, conversation)
        except Exception as exc:  # the model could not be reached: the page is told why
            if opened:
                raise
            self._opening -= 1
            opened = True  # the slot is given back once
            text = redact(f"cannot start the conversation: {_describe(exc)}")
            _log.warning("%s", text)
            await self._say(page, _error(text))
            await self._say(page, {"type": "closed", "code": None, "reason": "", "text": text})
            await page.close(1011, "cannot start the conversation")
        finally:
            if not opened:  # cancelled while connecting
                self._opening -= 1
            self._conversations.pop(token, None)

    async def _run(self, page: Transport, conversation: _Conversation) -> None:
        async with anyio.create_task_group() as group:

            async def converse() -> None:
                try:
                    await conversation.session.run(conversation.deliver)
                finally:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                        await conversation.end()

            group.start_soon(converse)
            await conversation.attach(page, resumed=False)
            await self._commands(page, conversation)
            await conversation.wait_alone(self.resume_grace_s)
            group.cancel_scope.cancel()

    async def _commands(self, page: Transport, conversation: _Conversation) -> None:
        """The page's commands, until its socket closes or the conversation ends."""
        while not conversation.ended:
            try:
                frame = await page.receive()
            except ConnectionClosed:
                break
            try:
                command = parse_command(frame)
                if isinstance(command, Hello):
                    raise CommandError("'hello' comes once, first")
                await conversation.session.handle(command)
            except (CommandError, LocalProtocolError) as exc:
                if conversation.ended:
                    break
                await conversation.deliver(conversation.stamp(_error(str(exc))))
        conversation.detach(page)

    async def _say(self, page: Transport, message: PageMessage) -> None:
        with suppress(ConnectionClosed):
            await page.send(_frame(message))


def _describe(exc: BaseException) -> str:
    """One line for a failure to open a conversation (inside a task group's wrapping)."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error(message: str) -> PageMessage:
    return {"type": "error", "source": "bridge", "code": None, "message": message}
