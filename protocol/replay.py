"""Replaying a recording into a ``Session``: the same inputs at the same times, the same frames.

Theory of operation. A ``Session``'s outputs are a function of its inputs, the ``now`` each
came with, and its ids (a fresh ``Session`` counts them from ``rs_1`` as the recorded one did).
A recording written by the driver (``run(record=...)``, header ``"source": "session"``) holds
every input the session had, in order, with its time: the connection's opening and end, each
server frame, each application command, each answer of user code (tool results, guardrail
verdicts, instructions) and each timer tick. ``replay`` feeds them to a fresh ``Session`` at
``clock_start + t``, the very clock readings of the recording, and compares every client frame
the session emits with the recorded one, in order. The session's effects are not performed:
their recorded answers come in as the inputs they were.

A session that changed connections replays the same way: with the recorded ``RunConfig``
the fresh session asks for each new connection (``OpenConnection``) at the same input as the
recorded one, so each later ``connected`` line answers it; without, the replay names the
connection it did not ask for.

So a replay that passes proves: *given the same server frames at the same times, the same
application commands and the same answers from user code, the current code sends the same
frames.* It does not run the tools again (their outputs are the recorded ones) and says
nothing about the server: the server frames are the recorded ones, whatever the client sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from . import inputs, wire
from ._session_state import Output
from .agent import Agent
from .errors import LocalProtocolError
from .recording import (
    AudioPolicy,
    ClosedEntry,
    ConnectedEntry,
    Entry,
    FrameEntry,
    InputEntry,
    Recording,
    RecordingError,
    agents_by_name,
    decode_input,
    elide_audio,
)
from .session import Session

__all__ = ["Mismatch", "ReplayResult", "Step", "compare_frame", "replay"]

SHORT = 100
"""Characters of a frame or value a mismatch's description shows, at most."""


@attrs.frozen(kw_only=True)
class Mismatch:
    """The first client frame that differs from the recording (or an input the session refused).

    ``index`` counts client frames from 1; ``line`` is the recorded frame's line (None when the
    recording has no more client frames); ``expected`` and ``got`` are the two frames' JSON
    objects (or texts), None for the side that has none; ``path`` is where they first differ
    (``item.content[0].text``; ``""`` for the whole frame). ``refused`` explains an input the
    session refused instead.
    """

    index: int
    line: int | None
    expected: Any = attrs.field(repr=False)
    got: Any = attrs.field(repr=False)
    path: str = ""
    refused: str | None = None

    def describe(self) -> str:
        """One line naming the frame, its direction and what differs, shortened."""
        if self.refused is not None:
            return f"line {self.line}: {self.refused}"
        where = f"client frame {self.index}"
        if self.line is not None:
            where += f" (line {self.line}, {_type_of(self.expected)})"
        if self.expected is None:
            return f"{where}: expected nothing more (the recording ends), got {_short(self.got)}"
        if self.got is None:
            return (
                f"{where}: expected {_short(self.expected)}, got nothing (the session sent no more)"
            )
        expected, got = _at(self.expected, self.path), _at(self.got, self.path)
        at = f" at {self.path}" if self.path else ""
        return f"{where} differs{at}: expected {_short(expected)}, got {_short(got)}"


@attrs.frozen(kw_only=True)
class ReplayResult:
    """How a replay went: ``frames`` client frames matched, ``inputs`` entries were fed."""

    mismatch: Mismatch | None
    frames: int
    inputs: int

    @property
    def ok(self) -> bool:
        return self.mismatch is None


@attrs.frozen(kw_only=True)
class Step:
    """One recorded input fed to the session, and what the session gave back."""

    t: float
    entry: Entry
    outputs: tuple[Output, ...]


def replay(
    recording: Recording,
    session: Session,
    *,
    agents: Mapping[str, Agent] | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> ReplayResult:
    """Feed ``recording``'s inputs to ``session`` (a fresh one, made with the recorded agent and
    config) and compare the client frames it sends with the recorded ones.

    ``agents`` resolves an ``UpdateAgent`` by name (default: the agents reachable from the
    session's, through handoffs). ``on_step`` sees each step, for a timeline. After the first
    mismatch the replay goes on (the timeline is whole) but compares no more.
    """
    header = recording.header
    if header.side != "client" or header.source != "session":
        raise RecordingError(
            f"a {header.side}-side recording of the {header.source}'s frames cannot be replayed "
            "into a Session: that takes the inputs a session recorded (run(record=...))"
        )
    known = agents if agents is not None else agents_by_name(session.current_agent)
    expected = iter(recording.frames("client"))
    index = 0
    fed = 0
    mismatch: Mismatch | None = None
    for entry in recording.entries:
        if isinstance(entry, FrameEntry) and entry.origin == "client":
            continue
        now = header.clock_start + entry.t
        try:
            outputs = session.handle(_input_of(entry, known, header.clock_start), now=now)
        except LocalProtocolError as exc:
            if mismatch is None:
                what = entry.type if isinstance(entry, InputEntry) else type(entry).__name__
                why = f"the session refused the recorded {what}: {exc}"
                if isinstance(entry, ConnectedEntry):
                    why = _unasked_connection(entry, session)
                mismatch = Mismatch(
                    index=index + 1, line=entry.line, expected=None, got=None, refused=why
                )
            continue
        fed += 1
        if on_step is not None:
            on_step(Step(t=entry.t, entry=entry, outputs=tuple(outputs)))
        for output in outputs:
            if not isinstance(output, (wire.ClientEventBase, wire.RawClientEvent)):
                continue
            index += 1
            if mismatch is not None:
                continue
            got = _as_json(wire.client_event_to_json(output, dialect=header.dialect))
            mismatch = compare_frame(index, next(expected, None), got, audio=header.audio)
    if mismatch is None:
        missing = next(expected, None)
        if missing is not None:
            mismatch = Mismatch(
                index=index + 1, line=missing.line, expected=_recorded(missing), got=None
            )
    matched = index if mismatch is None else mismatch.index - 1
    return ReplayResult(mismatch=mismatch, frames=matched, inputs=fed)


def compare_frame(
    index: int, recorded: FrameEntry | None, got: Any, *, audio: AudioPolicy
) -> Mismatch | None:
    """None when ``got`` (a frame's JSON object, or its text when it is not one) is the
    ``recorded`` frame; else the ``Mismatch`` naming where they differ. With ``audio="elide"``
    the audio of ``got`` is elided as the recording's was."""
    if recorded is None:
        return Mismatch(index=index, line=None, expected=None, got=got)
    if isinstance(got, dict) and audio == "elide":
        got = elide_audio(got)
    expected = _recorded(recorded)
    path = _first_difference(expected, got)
    if path is None:
        return None
    return Mismatch(index=index, line=recorded.line, expected=expected, got=got, path=path)


def _unasked_connection(entry: ConnectedEntry, session: Session) -> str:
    """Why a recorded new connection did not replay: the recorded session asked for one (a
    reconnect after a drop, a recycle at a quiet moment) and this one did not, at that input."""
    config = session.config
    return (
        f"the recording opens a new connection at t={entry.t:g} s and the session asked for none"
        f" (the recorded session reconnected or recycled where this one did not: replay it with"
        f" the RunConfig it ran with; this one has recycle_after_s={config.recycle_after_s!r},"
        f" reconnect {'on' if config.reconnect is not None else 'off'})"
    )


def _input_of(entry: Entry, agents: Mapping[str, Agent], clock_start: float) -> inputs.AnyInput:
    if isinstance(entry, ConnectedEntry):
        return inputs.Connected()
    if isinstance(entry, ClosedEntry):
        return inputs.ConnectionLost(code=entry.code, reason=entry.reason)
    if isinstance(entry, FrameEntry):
        return entry.wire_text()
    return decode_input(entry.input, agents=agents, clock_start=clock_start, line=entry.line)


def _recorded(entry: FrameEntry) -> Any:
    return entry.frame if entry.frame is not None else entry.text


def _as_json(obj: Any) -> Any:
    """``obj`` as JSON reads it back (tuples become lists), to compare like with like."""
    return json.loads(json.dumps(obj))


def _first_difference(expected: Any, got: Any, path: str = "") -> str | None:
    """Where two JSON values first differ (a dotted path), or None when they are equal."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in [*expected, *(k for k in got if k not in expected)]:
            if key not in expected or key not in got:
                return _join(path, key)
            found = _first_difference(expected[key], got[key], _join(path, key))
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list):
        for position, (left, right) in enumerate(zip(expected, got, strict=False)):
            found = _first_difference(left, right, f"{path}[{position}]")
            if found is not None:
                return found
        return None if len(expected) == len(got) else f"{path}[{min(len(expected), len(got))}]"
    if type(expected) is type(got) and expected == got:
        return None
    return path


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_ABSENT = object()


def _at(value: Any, path: str) -> Any:
    """The part of ``value`` at ``path`` (``_ABSENT`` when it has none there)."""
    if not path:
        return value
    for piece in path.replace("[", ".[").split("."):
        if not piece:
            continue
        if piece.startswith("["):
            position = int(piece[1:-1])
            if not isinstance(value, list) or position >= len(value):
                return _ABSENT
            value = value[position]
        else:
            if not isinstance(value, dict) or piece not in value:
                return _ABSENT
            value = value[piece]
    return value


def _type_of(frame: Any) -> str:
    return str(frame.get("type")) if isinstance(frame, dict) else "not JSON"


def _short(value: Any) -> str:
    """A JSON value in at most ``SHORT`` characters."""
    if value is _ABSENT:
        return "nothing there"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."
