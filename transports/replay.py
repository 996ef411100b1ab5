"""Replaying recordings: the timeline, the exact check, and a transport that plays one back.

- ``read_recording(path)``: a recording file, parsed (``protocol.recording``).
- ``replay_timeline(recording, out, agent=..., config=...)``: the conversation's timeline, the
  very lines the demo prints (``demo.Timeline``), from a fresh ``Session`` fed the recording;
  its ``ReplayResult`` says whether the session sent the recorded frames (``protocol.replay``).
  A recording of frames alone (a ``RecordingTransport``, ``serve-fake --record``) has no
  session inputs to feed: ``frames_timeline`` lists its frames instead.
- ``ReplayTransport(recording)``: a transport that stands in for the recorded server, for
  testing a whole application (its loop, its tools) against a recording.

``realtime-sansio replay FILE [--check] [--html OUT.html]`` is these, on the command line
(docs/recording.md); ``--html`` draws the timeline as the web page does (``web.report``).
"""

from __future__ import annotations

import importlib
import json
import os
from typing import Any, TextIO

import anyio
import attrs
from realtime_sansio.protocol import PCM16, UNSET, Agent, RunConfig, Session, events
from realtime_sansio.protocol.recording import (
    ClosedEntry,
    ConnectedEntry,
    Entry,
    FrameEntry,
    InputEntry,
    Recording,
    RecordingError,
    audio_size,
)
from realtime_sansio.protocol.replay import Mismatch, ReplayResult, Step, compare_frame, replay

from .base import ClosingOnExit, ConnectionClosed, describe_close
from .demo import Timeline

__all__ = [
    "ReplayMismatch",
    "ReplayTransport",
    "command_detail",
    "frames_timeline",
    "load_object",
    "read_recording",
    "replay_timeline",
]


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """The recording in the file at ``path``; a ``RecordingError`` names the file and line."""
    with open(path, encoding="utf-8") as file:
        try:
            return Recording.parse(file)
        except RecordingError as exc:
            raise RecordingError(f"{os.fspath(path)}: {exc}") from None


def load_object(ref: str) -> Any:
    """The object a ``"module:NAME"`` reference names (``NAME`` may be dotted)."""
    module_name, _, attribute = ref.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{ref!r} is not a MODULE:NAME reference")
    value: Any = importlib.import_module(module_name)
    for piece in attribute.split("."):
        value = getattr(value, piece)
    return value


# -- the timeline ------------------------------------------------------------------------------


def replay_timeline(
    recording: Recording,
    timeline: Timeline | TextIO,
    *,
    agent: Agent,
    config: RunConfig | None = None,
) -> ReplayResult:
    """Replay ``recording`` into a fresh ``Session`` of ``agent`` and print its timeline.

    ``timeline`` is a ``demo.Timeline`` (made with ``clock=`` whatever: the replay sets the
    recorded times) or a text stream to print one to. The result says whether the session sent
    the recorded client frames (see ``protocol.replay`` for what that proves).
    """
    clock = _ReplayClock()
    lines = timeline if isinstance(timeline, Timeline) else Timeline(timeline, clock=clock)
    lines.clock, lines.start = clock, 0.0
    header = recording.header
    session = Session(agent, config=config, dialect=header.dialect)
    audio_runs = _audio_runs(recording.entries, _bytes_per_second(config))

    def on_step(step: Step) -> None:
        clock.now = step.t
        entry = step.entry
        if isinstance(entry, ConnectedEntry):
            lines.line(f"connected, agent {session.current_agent.name}")
        elif isinstance(entry, InputEntry):
            _input_line(lines, entry, audio_runs)
        for output in step.outputs:
            if isinstance(output, events.SessionEvent):
                lines.handle(output)
        if isinstance(entry, ClosedEntry):
            lines.line(describe_close(entry.code, entry.reason))

    result = replay(recording, session, on_step=on_step)
    lines.flush_transcripts()
    return result


@attrs.define
class _ReplayClock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


def _input_line(lines: Timeline, entry: InputEntry, audio_runs: dict[int, float]) -> None:
    kind = entry.type
    if kind == "SendMessage":
        message = entry.input.get("message")
        if not isinstance(message, str):  # a UserMessage: its text parts
            parts = message.get("content", []) if isinstance(message, dict) else []
            texts = [p.get("text", "") for p in parts if isinstance(p, dict) and "text" in p]
            message = " ".join(texts) + (" (with images)" if len(texts) < len(parts) else "")
        lines.user(message)
    elif entry.line in audio_runs:
        lines.user(f"(audio) {audio_runs[entry.line]:.1f} s")
    elif (detail := command_detail(entry)) is not None:
        lines.line(f"application: {detail}")


# The application's commands besides its messages and audio (a timeline line each).
_COMMANDS = frozenset({"ClearAudio", "Interrupt", "UpdateSession", "UpdateAgent", "SendRawEvent"})


def command_detail(entry: InputEntry) -> str | None:
    """An application command as a few words (``Interrupt``, ``UpdateAgent Support``, the raw
    event's type), or None for the application's messages, audio and answers to effects."""
    if entry.type not in _COMMANDS:
        return None
    detail = entry.input.get("agent") or entry.input.get("event", {}).get("type") or ""
    return f"{entry.type} {detail}".rstrip()


_RUN_BREAKERS = _COMMANDS | {"SendMessage"}


def _audio_runs(entries: tuple[Entry, ...], bytes_per_second: int) -> dict[int, float]:
    """The first line of each run of ``SendAudio`` inputs, with the run's seconds of audio (a
    run ends at a commit or another application command; effect answers do not end it)."""
    runs: dict[int, float] = {}
    first: int | None = None
    for entry in entries:
        if not isinstance(entry, InputEntry):
            continue
        if entry.type == "SendAudio":
            if first is None:
                first = entry.line
                runs[first] = 0.0
            data = entry.input.get("data")
            runs[first] += audio_size(data) / bytes_per_second if isinstance(data, str) else 0
            if entry.input.get("commit"):
                first = None
        elif entry.type in _RUN_BREAKERS:
            first = None
    return runs


def _bytes_per_second(config: RunConfig | None) -> int:
    audio_format = config.model_settings.input_audio_format if config is not None else UNSET
    return PCM16.bytes_per_second if audio_format is UNSET else audio_format.bytes_per_second


_QUIET = (".delta", "input_audio_buffer.append")


def frames_timeline(recording: Recording, timeline: Timeline | TextIO) -> None:
    """A recording's frames, one line each in the timeline's form (audio and text deltas
    counted, not listed): for recordings without session inputs."""
    clock = _ReplayClock()
    lines = timeline if isinstance(timeline, Timeline) else Timeline(timeline, clock=clock)
    lines.clock, lines.start = clock, 0.0
    quiet = 0
    for entry in recording.entries:
        clock.now = entry.t
        if isinstance(entry, FrameEntry) and entry.type.endswith(_QUIET):
            quiet += 1
            continue
        if quiet:
            lines.line(f"({quiet} delta and audio frames)")
            quiet = 0
        if isinstance(entry, ConnectedEntry):
            lines.line("connected")
        elif isinstance(entry, ClosedEntry):
            lines.line(describe_close(entry.code, entry.reason))
        elif isinstance(entry, FrameEntry):
            lines.line(f"{entry.origin} {entry.type}{_detail(entry.frame)}")
        elif isinstance(entry, InputEntry):
            lines.line(f"application: {entry.type}")


def _detail(frame: dict[str, Any] | None) -> str:
    """A few words of what a frame says, for the frames' timeline."""
    if frame is None:
        return ""
    kind = frame.get("type")
    if kind == "error" and isinstance(frame.get("error"), dict):
        error = frame["error"]
        return f": {error.get('code') or error.get('type')}: {error.get('message')}"
    if kind == "response.function_call_arguments.done":
        return f": {frame.get('name')} {frame.get('arguments')}"
    if isinstance(frame.get("transcript"), str):
        return f": {frame['transcript']}"
    item = frame.get("item")
    if isinstance(item, dict) and isinstance(item.get("content"), list):
        texts = [p.get("text") for p in item["content"] if isinstance(p, dict)]
        words = " ".join(t for t in texts if isinstance(t, str))
        if words:
            return f": {item.get('role')}: {words}"
    if isinstance(item, dict) and item.get("type") == "function_call_output":
        return f": output {item.get('output')}"
    return ""


# -- the transport -----------------------------------------------------------------------------


class ReplayMismatch(AssertionError):
    """The client sent a frame other than the recorded one; ``mismatch`` says which, where."""

    def __init__(self, mismatch: Mismatch) -> None:
        super().__init__(mismatch.describe())
        self.mismatch = mismatch


@attrs.frozen
class _Cue:
    """A server frame (or the end of the connection) and the client frames recorded before it."""

    entry: FrameEntry | ClosedEntry
    after: int


class ReplayTransport(ClosingOnExit):
    """A transport that plays a recording's server frames and checks the client's.

    Each recorded server frame is delivered once the client has sent every client frame
    recorded before it, so the two sides keep their recorded order; each frame the client
    sends is compared with the next recorded one, and the first that differs raises
    ``ReplayMismatch`` from ``send`` (through ``run``, from the application's call or from the
    ``async with``). After the recorded server frames, ``receive`` waits for the client to
    close; a recorded close ends the connection as it did. ``check_complete()`` at the end
    says whether the client sent every recorded frame.

    The application and its tools run for real: the test drives the application as the
    recording's did (its commands are in the recording when ``run(record=...)`` made it).
    ``timed=True`` also delivers each server frame at its recorded time after the start: under
    a virtual clock (trio's ``MockClock``) that reproduces the recorded times, so clock-based
    behaviour (truncation estimates, tool timeouts, latency figures) replays too; on a real
    clock it takes as long as the recording did. ``connection`` picks one of several
    recorded connections (0: the first). Works with client- and server-side recordings.
    """

    def __init__(
        self,
        recording: Recording | str | os.PathLike[str],
        *,
        timed: bool = False,
        connection: int = 0,
    ) -> None:
        if not isinstance(recording, Recording):
            recording = read_recording(recording)
        self.recording = recording
        self.mismatch: Mismatch | None = None
        self._timed = timed
        self._cues, self._expected, self._offset = _one_connection(recording, connection)
        self._next = 0
        self._sent = 0
        self._start = 0.0
        self._progress = anyio.Event()
        self._closed: ConnectionClosed | None = None

    async def __aenter__(self) -> ReplayTransport:
        self._start = anyio.current_time() - self._offset
        return self

    def _wake(self) -> None:
        self._progress.set()
        self._progress = anyio.Event()

    async def receive(self) -> str:
        while True:
            if self._closed is not None:
                raise self._closed
            if self._next < len(self._cues) and self._cues[self._next].after <= self._sent:
                break
            await self._progress.wait()  # the client's next frame, or the close
        cue = self._cues[self._next]
        if self._timed:
            await anyio.sleep_until(self._start + cue.entry.t)
        self._next += 1
        if isinstance(cue.entry, ClosedEntry):
            self._closed = ConnectionClosed(cue.entry.code, cue.entry.reason)
            self._wake()
            raise self._closed
        return cue.entry.wire_text()

    async def send(self, text: str) -> None:
        if self._closed is not None:
            raise self._closed
        recorded = self._expected[self._sent] if self._sent < len(self._expected) else None
        try:
            got: Any = json.loads(text)
        except ValueError:
            got = text
        mismatch = compare_frame(self._sent + 1, recorded, got, audio=self.recording.header.audio)
        if mismatch is not None:
            # Raised once, where the client sent it; the connection ends with it, so that the
            # driver's later sends (its close) end quietly instead of hiding the first one.
            self.mismatch = mismatch
            self._closed = ConnectionClosed(1011, "the client left the recording")
            self._wake()
            raise ReplayMismatch(mismatch)
        self._sent += 1
        self._wake()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed is None:
            self._closed = ConnectionClosed(code, reason)
            self._wake()

    def check_complete(self) -> None:
        """Raise ``ReplayMismatch`` unless the client sent every recorded frame, each the same."""
        if self.mismatch is not None:
            raise ReplayMismatch(self.mismatch)
        if self._sent < len(self._expected):
            missing = self._expected[self._sent]
            raise ReplayMismatch(
                Mismatch(
                    index=self._sent + 1,
                    line=missing.line,
                    expected=missing.frame if missing.frame is not None else missing.text,
                    got=None,
                )
            )


def _one_connection(
    recording: Recording, connection: int
) -> tuple[list[_Cue], list[FrameEntry], float]:
    """The cues and the client frames of the ``connection``-th recorded connection, and the
    time it opened."""
    number = -1
    opened = 0.0
    cues: list[_Cue] = []
    expected: list[FrameEntry] = []
    for entry in recording.entries:
        if isinstance(entry, ConnectedEntry):
            number += 1
            opened = entry.t if number == connection else opened
        elif max(number, 0) != connection:
            continue
        elif isinstance(entry, FrameEntry) and entry.origin == "client":
            expected.append(entry)
        elif isinstance(entry, FrameEntry | ClosedEntry):
            cues.append(_Cue(entry, len(expected)))
    if max(number, 0) < connection:
        raise RecordingError(
            f"the recording holds {number + 1} connection(s): there is no connection {connection}"
        )
    return cues, expected, opened


# -- the command -------------------------------------------------------------------------------


class JsonTimeline(Timeline):
    """The timeline as JSON lines, ``{"t": 1.23, "text": "..."}``, for programs."""

    def write(self, elapsed: float, text: str) -> None:
        print(json.dumps({"t": round(elapsed, 6), "text": text}), file=self.out, flush=True)


def replay_command(
    path: str,
    out: TextIO,
    *,
    as_json: bool = False,
    check: bool = False,
    agent_ref: str | None = None,
    config_ref: str | None = None,
    html_path: str | None = None,
) -> ReplayResult | None:
    """``realtime-sansio replay``: print the timeline of the recording at ``path`` (or with
    ``html_path``, draw it as the web page does into that file); the replay's result, or None
    when the recording could not be replayed into a session (frames only, or no agent known:
    then the frames are listed, and ``check`` and ``html_path`` are refused)."""
    recording = read_recording(path)
    header = recording.header
    timeline = (JsonTimeline if as_json else Timeline)(out, clock=_ReplayClock())
    agent_ref = agent_ref or header.agent_ref
    why = _not_replayable(recording, agent_ref)
    if why is not None:
        if check or html_path is not None:
            raise ValueError(f"cannot {'check' if check else 'draw'} {path}: {why}")
        timeline.line(f"({why}: the frames as recorded)")
        frames_timeline(recording, timeline)
        return None
    assert agent_ref is not None
    agent = _load(agent_ref, Agent, "--agent")
    config_ref = config_ref or header.config_ref
    config = _load(config_ref, RunConfig, "--config") if config_ref else None
    if header.agent is not None and agent.name != header.agent:
        raise ValueError(
            f"the recording's session started with agent {header.agent!r}, {agent_ref} is "
            f"agent {agent.name!r}"
        )
    if html_path is not None:
        return _draw(recording, path, html_path, out, agent=agent, config=config, as_json=as_json)
    result = replay_timeline(recording, timeline, agent=agent, config=config)
    if as_json:
        print(json.dumps({"summary": timeline.counts()}), file=out)
    else:
        print(f"-- done: {timeline.counts()}", file=out)
    return result


def _draw(
    recording: Recording,
    path: str,
    html_path: str,
    out: TextIO,
    *,
    agent: Agent,
    config: RunConfig | None,
    as_json: bool,
) -> ReplayResult:
    """``replay FILE --html OUT``: the page's timeline of the recording, in one HTML file."""
    from .web.report import count_messages, recording_messages, timeline_html

    messages, result = recording_messages(recording, agent=agent, config=config)
    header = recording.header
    facts = [(f"agent {agent.name}", "")]
    if header.recorded_at:
        facts.append((f"recorded {header.recorded_at}", ""))
    kept = "audio kept (not drawn)" if header.audio == "keep" else "audio elided"
    facts.append((kept, ""))
    if result.mismatch is None:
        facts.append((f"the current code sends the {result.frames} recorded frames", "ok"))
    else:
        facts.append((f"the current code differs: {result.mismatch.describe()}", "bad"))
    page = timeline_html(messages, title=f"replay of {os.path.basename(path)}", facts=facts)
    with open(html_path, "w", encoding="utf-8") as file:
        file.write(page)
    summary = count_messages(messages)
    if as_json:
        print(json.dumps({"html": html_path, "summary": summary}), file=out)
    else:
        print(f"wrote {html_path}: the page's timeline of {path} ({summary})", file=out)
    return result


def _not_replayable(recording: Recording, agent_ref: str | None) -> str | None:
    header = recording.header
    if header.side != "client":
        return "a server-side recording holds frames only"
    if header.source != "session":
        return "a transport's recording holds frames only, not the session's inputs"
    if agent_ref is None:
        return "the recording names no agent (give --agent MODULE:NAME)"
    return None


def _load(ref: str, kind: type[Any], option: str) -> Any:
    try:
        value = load_object(ref)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ValueError(f"{option} {ref}: cannot load it: {exc}") from None
    if not isinstance(value, kind):
        raise ValueError(f"{option} {ref} is a {type(value).__name__}, not a {kind.__name__}")
    return value
