"""A one-request HTTP/1.1 server on loopback, for the tests of the HTTP client and of what
is built on it (client secrets, the voice models)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import anyio.abc
import h11

Reply = Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]


async def serve_once(reply: Reply, task_status: anyio.abc.TaskStatus[int]) -> None:
    """A one-request HTTP server: ``reply(method, target, headers, body)``."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    task_status.started(listener.extra(anyio.abc.SocketAttribute.local_port))
    async with listener:
        stream = await listener.listeners[0].accept()
        async with stream:
            conn = h11.Connection(h11.SERVER)
            method = target = ""
            headers: dict[str, str] = {}
            body = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await stream.receive())
                elif isinstance(event, h11.Request):
                    method, target = event.method.decode(), event.target.decode()
                    headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
            status, payload = reply(method, target, headers, body)
            await stream.send(
                conn.send(
                    h11.Response(
                        status_code=status,
                        headers=[
                            ("Content-Type", "application/json"),
                            ("Content-Length", str(len(payload))),
                        ],
                    )
                )
            )
            await stream.send(conn.send(h11.Data(data=payload)))
            await stream.send(conn.send(h11.EndOfMessage()))


async def against(reply: Reply, call: Callable[[str], Any]) -> Any:
    """``await call(base_url)`` while a one-request server answers with ``reply``."""
    result: Any = None
    failure: Exception | None = None
    async with anyio.create_task_group() as tg:
        port = await tg.start(serve_once, reply)
        try:
            result = await call(f"http://127.0.0.1:{port}")
        except Exception as exc:  # raised outside the task group, not inside an ExceptionGroup
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return result
