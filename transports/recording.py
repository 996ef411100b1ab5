"""A transport tap: wraps any transport and keeps the frames it carries, both ways.

For debugging a conversation, for tests that check every frame (the conformance tests run
through it), and for benchmarks that count frames. ``max_frames`` bounds each record (oldest
dropped first); None keeps everything, for short runs.
"""

from __future__ import annotations

from collections import deque
from types import TracebackType
from typing import Self

from .base import Transport

__all__ = ["RecordingTransport"]


class RecordingTransport:
    """Passes everything to ``inner``; ``sent`` and ``received`` hold the text frames."""

    def __init__(self, inner: Transport, *, max_frames: int | None = None) -> None:
        self.inner = inner
        self.sent: deque[str] = deque(maxlen=max_frames)
        self.received: deque[str] = deque(maxlen=max_frames)

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.inner.__aexit__(exc_type, exc, tb)

    async def send(self, text: str) -> None:
        self.sent.append(text)
        await self.inner.send(text)

    async def receive(self) -> str:
        text = await self.inner.receive()
        self.received.append(text)
        return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.inner.close(code, reason)
