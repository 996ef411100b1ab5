"""Recording sessions: a transport tap, and the writer both it and ``run(record=...)`` use.

``RecordingTransport(inner)`` wraps any transport and keeps the frames it carries, both ways:
in memory (``sent``, ``received``: for debugging, for the tests that check every frame, for
benchmarks that count them) and, given a ``path``, in a recording file. ``run(agent,
record=path)`` records more: every input of the session (the frames, the application's
commands, the answers of tools and guardrails, timer ticks) with the clock reading it came
with, which is what ``realtime-sansio replay --check`` needs to replay it exactly.

A ``Recorder`` writes the lines (the format is ``protocol.recording``'s, docs/recording.md).
Bounds: a file recording streams to disk, each line written and flushed as it happens (a
crash loses at most the line being written), and keeps nothing in memory; an in-memory one
keeps its last ``max_lines`` lines (None: all, for short runs). The API key is never written:
the handshake is below the frames and never recorded, and each line goes through
``auth.redact`` (the session's key and anything shaped like one) before it is written.
"""

from __future__ import annotations

import datetime
import json
import os
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import IO, Any, Self

import anyio
from realtime_sansio.protocol import Agent, ModelConfig, inputs, wire
from realtime_sansio.protocol.recording import (
    AudioPolicy,
    Origin,
    Side,
    Source,
    closed_line,
    connected_line,
    frame_line,
    header_line,
    input_line,
)
from realtime_sansio.protocol.session import Output

from .auth import redact
from .base import ConnectionClosed, Transport

__all__ = ["Recorder", "RecordingTransport", "recording_name", "session_recording"]

_JSON_SEPARATORS = (",", ":")


class Recorder:
    """Writes one recording, a line at a time: to ``path``, or kept in memory in ``lines``.

    ``audio="elide"`` writes each audio payload as its length. ``secrets`` are redacted from
    every line (as is anything shaped like an OpenAI key), after ``redact`` when one is given
    (a driver's redactor, which knows the connection's other credentials). ``agent_ref`` and
    ``config_ref`` (``"module:NAME"``) go in the header, so that ``realtime-sansio replay``
    finds the agent and its ``RunConfig`` by itself.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        audio: AudioPolicy = "keep",
        max_lines: int | None = None,
        secrets: Iterable[str | None] = (),
        redact: Callable[[str], str] | None = None,
        agent_ref: str | None = None,
        config_ref: str | None = None,
    ) -> None:
        if audio not in ("keep", "elide"):
            raise ValueError(f"audio must be 'keep' or 'elide', not {audio!r}")
        self.path = None if path is None else os.fspath(path)
        self.audio: AudioPolicy = audio
        self.lines: deque[str] = deque(maxlen=0 if path is not None else max_lines)
        self._secrets = tuple(secret for secret in secrets if secret)
        self._redact = redact
        self._refs = {"agent_ref": agent_ref, "config_ref": config_ref}
        self._file: IO[str] | None = None
        if self.path is not None:
            # Opened now, so that a path that cannot be written fails before any connection.
            # Line-buffered: each line reaches the file when it is written.
            self._file = open(self.path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._clock_start: float | None = None
        self._dialect: wire.Dialect = "ga"

    def add_secrets(self, *secrets: str | None) -> None:
        """More strings never to write (the session's key, once it is known)."""
        self._secrets += tuple(secret for secret in secrets if secret)

    def redact_also(self, redact: Callable[[str], str]) -> None:
        """Also pass every line through ``redact`` (a driver's, which knows the credentials
        the session connected with), after the one given at construction."""
        first = self._redact
        self._redact = redact if first is None else lambda text: redact(first(text))

    @property
    def started(self) -> bool:
        return self._clock_start is not None

    def start(
        self,
        *,
        side: Side,
        source: Source,
        clock_start: float,
        dialect: wire.Dialect = "ga",
        agent: str | None = None,
    ) -> None:
        """Write the header; ``clock_start`` is the clock reading times are counted from."""
        if self._clock_start is not None:
            return  # one header a recording (a reconnecting session keeps its recorder)
        self._clock_start = clock_start
        self._dialect = dialect
        now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
        self._write(
            header_line(
                side=side,
                source=source,
                clock_start=clock_start,
                dialect=dialect,
                audio=self.audio,
                agent=agent,
                recorded_at=now.replace("+00:00", "Z"),
                **self._refs,
            )
        )

    def _t(self, now: float) -> float:
        if self._clock_start is None:
            raise RuntimeError("Recorder.start() first: the header comes before any line")
        return now - self._clock_start

    def connected(self, now: float) -> None:
        self._write(connected_line(self._t(now)))

    def closed(self, now: float, code: int | None, reason: str) -> None:
        self._write(closed_line(self._t(now), code, reason))

    def frame(self, origin: Origin, frame: str | bytes | Mapping[str, Any], now: float) -> None:
        if isinstance(frame, bytes | bytearray):
            frame = bytes(frame).decode("utf-8", errors="replace")
        self._write(frame_line(self._t(now), origin, frame, audio=self.audio))

    def input(self, event: inputs.Input, now: float) -> None:
        t = self._t(now)
        self._write(input_line(t, event, clock_start=now - t, audio=self.audio))

    def step(self, event: inputs.AnyInput, outputs: Sequence[Output], now: float) -> None:
        """One step of the driver: the session's input, then the client frames it made."""
        if isinstance(event, inputs.Connected):
            self.connected(now)
        elif isinstance(event, inputs.ConnectionLost):
            self.closed(now, event.code, event.reason)
        elif isinstance(event, str | bytes | bytearray):
            self.frame("server", event, now)
        elif isinstance(event, wire.ServerEventBase | wire.UnknownServerEvent):
            self.frame("server", wire.server_event_to_json(event, dialect=self._dialect), now)
        else:
            self.input(event, now)
        for output in outputs:
            if isinstance(output, wire.ClientEventBase | wire.RawClientEvent):
                obj = wire.client_event_to_json(output, dialect=self._dialect)
                self.frame("client", obj, now)

    def _write(self, line: Mapping[str, Any]) -> None:
        text = _dumps(line)
        if self._redact is not None:
            text = self._redact(text)
        text = redact(text, *self._secrets)
        if self._file is not None:
            self._file.write(text + "\n")
        else:
            self.lines.append(text)

    def close(self) -> None:
        """Close the file (idempotent); an in-memory recording keeps its lines."""
        if self._file is not None:
            self._file.close()
            self._file = None


def recording_name(number: int) -> str:
    """A file name that sorts by time: the UTC time to the microsecond, then ``number`` (for
    two connections in the same microsecond)."""
    now = datetime.datetime.now(datetime.UTC)
    return f"{now:%Y%m%dT%H%M%S.%fZ}-{number:04d}.jsonl"


def _dumps(line: Mapping[str, Any]) -> str:
    return json.dumps(line, ensure_ascii=False, separators=_JSON_SEPARATORS)


class RecordingTransport:
    """Passes everything to ``inner``; ``sent`` and ``received`` hold the text frames.

    ``max_frames`` bounds each of them (oldest dropped first); None keeps everything when there
    is no ``path`` (for short runs), nothing when there is. With ``path`` every frame is also
    written to a recording file (``source: "transport"``: frames only, enough for a timeline
    and a ``ReplayTransport``, not for ``replay --check``). ``side`` says which end ``inner``
    is: ``"server"`` when it is a server's connection (``serve-fake --record``).
    """

    def __init__(
        self,
        inner: Transport,
        path: str | os.PathLike[str] | None = None,
        *,
        max_frames: int | None = None,
        audio: AudioPolicy = "keep",
        side: Side = "client",
        dialect: wire.Dialect = "ga",
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.inner = inner
        bound = 0 if path is not None and max_frames is None else max_frames
        self.sent: deque[str] = deque(maxlen=bound)
        self.received: deque[str] = deque(maxlen=bound)
        self.recorder = None if path is None else Recorder(path, audio=audio, secrets=secrets)
        self._side: Side = side
        self._dialect: wire.Dialect = dialect
        self._closing: ConnectionClosed | None = None  # our close, until the connection ends
        self._ended_logged = False

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        if self.recorder is not None:
            now = anyio.current_time()
            self.recorder.start(
                side=self._side, source="transport", clock_start=now, dialect=self._dialect
            )
            self.recorder.connected(now)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.inner.__aexit__(exc_type, exc, tb)
        finally:
            self._ended(self._closing or ConnectionClosed(1000, ""))
            if self.recorder is not None:
                self.recorder.close()

    def _origin(self, sent: bool) -> Origin:
        ours: Origin = self._side
        return ours if sent else ("server" if ours == "client" else "client")

    def _ended(self, closed: ConnectionClosed) -> None:
        """The connection is over: one ``closed`` line, after every frame that came before."""
        if self.recorder is not None and not self._ended_logged:
            self.recorder.closed(anyio.current_time(), closed.code, closed.reason)
        self._ended_logged = True

    async def send(self, text: str) -> None:
        self.sent.append(text)
        if self.recorder is not None:
            self.recorder.frame(self._origin(sent=True), text, anyio.current_time())
        try:
            await self.inner.send(text)
        except ConnectionClosed as closed:
            self._ended(closed)
            raise

    async def receive(self) -> str:
        try:
            text = await self.inner.receive()
        except ConnectionClosed as closed:
            self._ended(closed)
            raise
        self.received.append(text)
        if self.recorder is not None:
            self.recorder.frame(self._origin(sent=False), text, anyio.current_time())
        return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        # Frames already on their way may still arrive: the closed line waits for the end.
        self._closing = self._closing or ConnectionClosed(code, reason)
        await self.inner.close(code, reason)


@asynccontextmanager
async def session_recording(
    record: str | os.PathLike[str] | Recorder | None,
    *,
    agent: Agent,
    model_config: ModelConfig,
    redact: Callable[[str], str],
) -> AsyncIterator[Recorder | None]:
    """The recorder ``run(record=...)`` gives its session (None when not recording), started
    now and closed at the end. A path is recorded with its audio kept; pass a ``Recorder``
    for the other options. ``redact`` is the session's redactor (its key, secret headers and URL
    credentials): a line passes through it before it is written."""
    if record is None:
        yield None
        return
    recorder = record if isinstance(record, Recorder) else Recorder(record)
    recorder.redact_also(redact)
    try:
        recorder.start(
            side="client",
            source="session",
            clock_start=anyio.current_time(),
            dialect=model_config.dialect,
            agent=agent.name,
        )
        yield recorder
    finally:
        recorder.close()
