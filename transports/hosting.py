"""Hosting a server core (the fake Realtime server) on one connection, for any transport.

The loop mirrors the client driver's: every frame and every timer tick is one synchronous
step of the core, whose outputs are sent in order; the core's timer is honoured on the loop's
clock. The in-memory transport and ``serve_fake`` (WebSocket) both use it.
"""

from __future__ import annotations

import anyio
from realtime_sansio.protocol import wire
from realtime_sansio.protocol.fake.host import CloseConnection, RawFrame, ServerCore, ServerOutput

from .base import ConnectionClosed, Transport

__all__ = ["host_connection"]


async def host_connection(core: ServerCore, connection: Transport) -> None:
    """Serve one client connection with ``core`` until either side closes it."""
    lock = anyio.Lock()
    timer_changed = anyio.Event()
    done = anyio.Event()

    async def emit(outputs: list[ServerOutput]) -> None:
        async with lock:
            try:
                for output in outputs:
                    if isinstance(output, CloseConnection):
                        await connection.close(output.code, output.reason)
                        done.set()
                        return
                    if isinstance(output, RawFrame):
                        await connection.send(output.text)
                    else:
                        await connection.send(wire.encode_server_event(output))
            except ConnectionClosed:
                done.set()  # the client went away while we were sending
                return
        timer_changed.set()

    async def read() -> None:
        try:
            while not done.is_set():
                text = await connection.receive()
                await emit(core.receive(text, anyio.current_time()))
        except ConnectionClosed:
            pass
        done.set()

    async def tick() -> None:
        nonlocal timer_changed
        while not done.is_set():
            timer_changed = anyio.Event()
            deadline = core.get_timer()
            if deadline is None:
                await timer_changed.wait()
                continue
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
                await timer_changed.wait()
            if anyio.current_time() >= deadline and not done.is_set():
                await emit(core.timer(anyio.current_time()))

    try:
        async with anyio.create_task_group() as tg:
            await emit(core.connected(anyio.current_time()))
            tg.start_soon(read)
            tg.start_soon(tick)
            await done.wait()
            tg.cancel_scope.cancel()
    finally:
        core.disconnected(anyio.current_time())
