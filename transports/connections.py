"""The driver's side of a session's connections: it opens new ones when the core asks.

The core owns the policy (``protocol/_session_connection.py``): when to try, how long to
wait, what to send on the new connection. The driver does the I/O. For each
``effects.OpenConnection`` it

1. waits the delay (a reconnect), plus a random jitter of up to ``jitter_s``;
2. makes a transport (``transport_factory``) and connects it, in a task of its own that will
   hold it and read it: a connection entered in a task must be left in the same task;
3. switches: under the send lock (so whatever was queued for the old connection goes there
   first), the new transport becomes the session's and the core gets ``Connected``, whose
   outputs (the replay) are then sent on it; only then does its reader start;
4. retires the old one, for a recycle: closed with 1000, its reader stopped; a retired
   connection's end is no news for the core.

A transport that cannot be made or connected is answered ``ConnectFailed`` with the
handshake's HTTP status when there was one (``HandshakeError.status``); a missing key or a
malformed address is ``permanent``. The first connection is not this module's: ``run()``
enters it (a failure to connect then comes out of ``run()`` as it always did).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import anyio
import anyio.abc
from realtime_sansio.protocol import effects, inputs

from .auth import ApiKeyError
from .base import Transport

if TYPE_CHECKING:
    from collections import deque

    from realtime_sansio.protocol import Session, wire

__all__ = ["CLOSE_TIMEOUT_S", "Connections"]

CLOSE_TIMEOUT_S = 2.0
"""How long a connection being left may take to close; a peer that never answers is not
waited for longer."""


def _failure(exc: Exception, redact: Callable[[str], str]) -> inputs.ConnectFailed:
    status = getattr(exc, "status", None)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        status = None
    # No key, a malformed URL or certificate (ssl's errors are ValueErrors too): retrying
    # cannot help.
    permanent = isinstance(exc, ApiKeyError | ValueError | TypeError)
    reason = redact(f"{type(exc).__name__}: {exc}")
    return inputs.ConnectFailed(reason=reason, status=status, permanent=permanent)


class Connections:
    """The connection half of ``RealtimeSession`` (a mixin: see the module docstring)."""

    _core: Session
    _tg: anyio.abc.TaskGroup
    _transport: Transport
    _connect: Callable[[], Transport] | None
    _redact: Callable[[str], str]
    _closed: anyio.Event
    _send_lock: anyio.Lock
    _outgoing: deque[wire.ClientEvent | wire.RawClientEvent]
    _unsent: list[str]
    _send_many: Callable[[list[str]], Awaitable[None]] | None

    if TYPE_CHECKING:  # RealtimeSession's

        def _step(self, event: inputs.AnyInput, now: float | None = None) -> None: ...

        def _encode_queued(self) -> None: ...

        async def _send_frames(self, frames: list[str]) -> bool: ...

        async def _flush(self) -> None: ...

        async def _answer(self, event: inputs.Input) -> None: ...

        async def _read(self, transport: Transport) -> None: ...

        def _finish(self) -> None: ...

    async def _open_connection(self, effect: effects.OpenConnection) -> None:
        """``OpenConnection``: a new connection, or ``ConnectFailed``."""
        if effect.delay_s or effect.jitter_s:
            await anyio.sleep(effect.delay_s + random.uniform(0.0, effect.jitter_s))
        if self._closed.is_set():
            return
        try:
            if self._connect is None:  # run() turns reconnecting off: never asked, then
                raise ValueError("this session has no transport factory to connect again")
            transport = self._connect()
            live = await self._tg.start(self._hold, transport)
        except Exception as exc:  # any failure to connect is the core's to judge
            await self._answer(_failure(exc, self._redact))
            if self._core.closed and not self._closed.is_set():
                self._finish()  # it gave up
            return
        if self._closed.is_set():
            return
        old = self._transport
        async with self._send_lock:
            # What the steps queued before the switch is the old connection's (the writer
            # task's frames too: it waits for this lock).
            self._encode_queued()
            frames, self._unsent = self._unsent, []
            if frames:
                await self._send_frames(frames)  # a closed one loses them: the replay has them
            self._transport = transport
            self._send_many = getattr(transport, "send_many", None)
            self._step(inputs.Connected())
        live.set()
        if effect.reason == "recycle":
            with anyio.move_on_after(CLOSE_TIMEOUT_S):
                await old.close(1000, "recycled")
        await self._flush()

    async def _hold(
        self,
        transport: Transport,
        *,
        task_status: anyio.abc.TaskStatus[anyio.Event] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Connect ``transport``, then read it once it is the session's, until it ends or
        is left; leave it in this same task (a transport may hold a task group, whose scope
        must be left where it was entered; transports release themselves when cancelled)."""
        await transport.__aenter__()
        try:
            live = anyio.Event()
            task_status.started(live)
            await live.wait()
            await self._read(transport)
        finally:
            await transport.__aexit__(None, None, None)
