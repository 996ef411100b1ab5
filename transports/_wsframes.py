"""The WebSocket transport's two fast paths beside wsproto, for the frames a client sees most.

Sending: ``masked_text_frame`` writes a client's text frame as wsproto does (a test compares
them byte for byte), but masks it with one big-integer XOR: wsproto masks in Python with four
table translations per frame, which cost more than the rest of a send.

Receiving: ``InboundFrames`` splits what the socket gave into whole frames. A whole, final,
unmasked text frame (opcode 1, no RSV bit: the server's ordinary event) of at most
``max_bytes`` is decoded here, strictly as UTF-8, and handed on as its ``str``; every other
frame (control frames, fragments, anything masked, reserved or invalid, and everything once the
connection is no longer open) goes to wsproto whole, which validates it and makes its events as
before. Since wsproto only ever gets whole frames, it holds no partial frame between reads, and
the two never disagree on where a frame starts. That is checked, not assumed: the fast path is
used only while wsproto's frame decoder is idle and no fragmented message is under way (its
internal state, read defensively: if it cannot be read, everything goes to wsproto).

Bounds: the bytes of one incomplete frame wait here, at most ``max_bytes`` of payload plus a
read; a frame that announces more goes to wsproto at once (which streams it, and the transport
refuses it past the bound as it always did).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from wsproto import WSConnection
from wsproto.connection import ConnectionState

__all__ = ["InboundFrames", "masked_text_frame"]


def masked_text_frame(text: str, key: bytes) -> bytes:
    """One client text frame (FIN, unfragmented, no extension), masked with the 4-byte
    ``key``: byte for byte what wsproto writes for it."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        header = bytes((0x81, 0x80 | size))
    elif size < 65536:
        header = bytes((0x81, 0xFE)) + size.to_bytes(2, "big")
    else:
        header = bytes((0x81, 0xFF)) + size.to_bytes(8, "big")
    mask = (key * (size // 4 + 1))[:size]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(mask, "little")
    return header + key + masked.to_bytes(size, "little")


class InboundFrames:
    """A client connection's inbound bytes, as texts and wsproto events in stream order."""

    def __init__(self, connection: WSConnection, max_bytes: int) -> None:
        self._ws = connection
        self._max = max_bytes
        self._inbox = bytearray()
        proto = getattr(getattr(connection, "connection", None), "_proto", None)
        self._frames: Any = getattr(proto, "_frame_decoder", None)
        self._messages: Any = getattr(proto, "_message_decoder", None)
        inspectable = (
            connection.client
            and not getattr(proto, "extensions", [None])
            and all(hasattr(self._frames, name) for name in ("header", "buffer"))
            and hasattr(self._messages, "opcode")
        )
        self._usable = bool(inspectable)

    def _wsproto_idle(self) -> bool:
        """wsproto holds no partial frame and no unfinished message: a frame may start here."""
        return (
            self._usable
            and self._frames.header is None
            and not len(self._frames.buffer)
            and self._messages.opcode is None
            and self._ws.state is ConnectionState.OPEN
        )

    def feed(self, data: bytes, out: deque[Any]) -> None:
        """Take ``data`` from the socket; append what it completes to ``out``: texts as
        ``str``, wsproto's events as they are, in the order of the stream."""
        if not self._inbox and not self._wsproto_idle():
            self._to_wsproto(data, out)
            return
        inbox = self._inbox
        inbox += data
        limit = self._max
        start = 0
        too_big = False
        while True:
            available = len(inbox) - start
            if available < 2:
                break
            first, second = inbox[start], inbox[start + 1]
            size = second & 0x7F
            head = 2
            if size == 126:
                if available < 4:
                    break
                size = int.from_bytes(inbox[start + 2 : start + 4], "big")
                head = 4
            elif size == 127:
                if available < 10:
                    break
                size = int.from_bytes(inbox[start + 2 : start + 10], "big")
                head = 10
            if size > limit:  # not to be waited for here: wsproto streams it
                too_big = True
                break
            if second & 0x80:
                head += 4  # a masked frame: wsproto refuses it from a server
            end = start + head + size
            if end > len(inbox):
                break
            if first == 0x81 and not second & 0x80 and self._wsproto_idle():
                try:
                    out.append(inbox[start + head : end].decode("utf-8"))
                    start = end
                    continue
                except UnicodeDecodeError:
                    pass  # invalid text: wsproto closes the connection over it
            self._to_wsproto(bytes(inbox[start:end]), out)
            start = end
        del inbox[:start]
        if too_big:
            self.flush(out)

    def flush(self, out: deque[Any]) -> None:
        """Hand what waits here to wsproto (before reading for the closing handshake)."""
        if self._inbox:
            data = bytes(self._inbox)
            self._inbox.clear()
            self._to_wsproto(data, out)

    def _to_wsproto(self, data: bytes, out: deque[Any]) -> None:
        self._ws.receive_data(data)
        out.extend(self._ws.events())
