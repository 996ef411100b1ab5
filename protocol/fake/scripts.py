"""Scripts for the fake server: what a deterministic test expects, answers and breaks.

A ``FakeScript`` is a list of steps the server walks through in order, beside its normal
behaviour (rules, VAD, brain). A step either waits (``Expect`` a client event, ``Delay`` on the
timer) or acts the moment it is reached (``Respond``, ``Send``, and the faults ``DropAfter``,
``Garbage``, ``UnknownEvent``, ``ErrorEvent``, ``Expire``). Once the steps run out the server
goes on unscripted. Scripts are Python objects, or JSON (``FakeScript.from_json``) so that a
test suite in any language can share them; docs/fake-server.md has the format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

import attrs

from .. import wire
from ..errors import LocalProtocolError, RemoteProtocolError
from ..testing.scripts import ResponseScript, ScriptAudio, ScriptCall, ScriptOutput, ScriptText
from .voice import speech_duration_ms

__all__ = [
    "DEFAULT_IGNORED",
    "Delay",
    "DropAfter",
    "ErrorEvent",
    "Expect",
    "Expire",
    "FakeScript",
    "Garbage",
    "Mismatch",
    "Respond",
    "ScriptCursor",
    "ScriptStep",
    "Send",
    "UnknownEvent",
    "scripted_events",
]

ScriptedEvent: TypeAlias = wire.ServerEvent | Mapping[str, Any]

DEFAULT_IGNORED = frozenset({"input_audio_buffer.append"})
"""Client event types an ``Expect`` lets pass without a mismatch: audio streams are long and
their chunking is the client's business, so a script says what matters around them."""


def _events(value: Iterable[ScriptedEvent]) -> tuple[ScriptedEvent, ...]:
    """Server events, typed or JSON objects; a JSON object is checked now (a script's mistake
    should fail when it is written, not in the middle of a conversation)."""
    out: list[ScriptedEvent] = []
    for event in value:
        if isinstance(event, wire.ServerEventBase | wire.UnknownServerEvent):
            out.append(event)
            continue
        if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
            raise LocalProtocolError(
                f"a scripted server event is a typed event or a JSON object with a 'type', not"
                f" {event!r}"
            )
        try:
            wire.decode_server_event(json.dumps({"event_id": "event_0", **event}))
        except RemoteProtocolError as exc:
            raise LocalProtocolError(f"a scripted {event['type']} is invalid: {exc}") from None
        out.append(dict(event))
    return tuple(out)


def _non_negative(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise LocalProtocolError(f"{type(instance).__name__}.{attribute.name} must be >= 0")


@attrs.frozen(kw_only=True)
class Expect:
    """Wait for the client's next event (of a type not ignored) and check it is ``type``.

    When it is: the server handles it normally first (unless ``handle`` is False: then the
    event is swallowed), then answers with ``then``. When it is not: the mismatch is recorded
    (``FakeRealtimeServer.mismatches``), answered with an ``error`` event (``script_mismatch``),
    the event is handled normally, and the step keeps waiting.
    """

    type: str
    then: tuple[ScriptedEvent, ...] = attrs.field(default=(), converter=_events)
    handle: bool = True


@attrs.frozen(kw_only=True)
class Respond:
    """What the next response says (queued for it: put it before the request it answers)."""

    outputs: tuple[ScriptOutput, ...] = ()
    failure: str | None = None
    """An error code: the response ends ``failed`` after its outputs."""
    out_of_band: bool = False
    """Queue it for the next out-of-band response (``conversation: "none"``) instead."""

    @property
    def script(self) -> ResponseScript:
        return ResponseScript(outputs=self.outputs, failure=self.failure)

    @classmethod
    def text(cls, text: str) -> Respond:
        return cls(outputs=(ScriptText(text=text),))

    @classmethod
    def audio(cls, transcript: str) -> Respond:
        """Speech for ``transcript``, as long as the fake's voice takes to say it."""
        return cls(outputs=(_audio(transcript),))

    @classmethod
    def call(cls, name: str, arguments: Mapping[str, Any] | str = "{}") -> Respond:
        return cls(outputs=(_call(name, arguments),))


def _audio(transcript: str, duration_ms: int | None = None) -> ScriptAudio:
    ms = speech_duration_ms(transcript) if duration_ms is None else duration_ms
    return ScriptAudio(transcript=transcript, duration_ms=ms)


def _call(name: str, arguments: Mapping[str, Any] | str) -> ScriptCall:
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    return ScriptCall(name=name, arguments=text)


@attrs.frozen(kw_only=True)
class Send:
    """Send these server events, unasked, when the step is reached."""

    events: tuple[ScriptedEvent, ...] = attrs.field(converter=_events)


@attrs.frozen(kw_only=True)
class DropAfter:
    """Drop the connection abruptly (close code 1006) after ``count`` more server frames."""

    count: int = attrs.field(default=0, validator=_non_negative)


@attrs.frozen(kw_only=True)
class Garbage:
    """Send a frame that is not JSON."""

    text: str = "{this is not json"


def _copy(value: Mapping[str, Any]) -> dict[str, Any]:
    return dict(value)


@attrs.frozen(kw_only=True)
class UnknownEvent:
    """Send a well-formed event of a type no client knows (forward compatibility)."""

    type: str = "response.new_thing"
    fields: Mapping[str, Any] = attrs.field(factory=dict, converter=_copy)


@attrs.frozen(kw_only=True)
class ErrorEvent:
    """Send an ``error`` event."""

    code: str
    message: str
    type: str = "invalid_request_error"
    param: str | None = None


@attrs.frozen(kw_only=True)
class Delay:
    """Hold the following steps for ``ms`` milliseconds (on the server's timer)."""

    ms: float = attrs.field(validator=_non_negative)


@attrs.frozen(kw_only=True)
class Expire:
    """The session expires ``after_ms`` from now instead of at ``max_session_s``."""

    after_ms: float = attrs.field(default=0, validator=_non_negative)


ScriptStep: TypeAlias = (
    Expect | Respond | Send | DropAfter | Garbage | UnknownEvent | ErrorEvent | Delay | Expire
)
_STEP_TYPES = (Expect, Respond, Send, DropAfter, Garbage, UnknownEvent, ErrorEvent, Delay, Expire)


def _steps(value: Iterable[ScriptStep]) -> tuple[ScriptStep, ...]:
    steps = tuple(value)
    for index, step in enumerate(steps):
        if not isinstance(step, _STEP_TYPES):
            raise LocalProtocolError(f"step {index} of a FakeScript is not a step: {step!r}")
    return steps


def _connections(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise LocalProtocolError(f"FakeScript.connections must be an int >= 1 or None: {value!r}")


@attrs.frozen(kw_only=True)
class FakeScript:
    """The steps, in order, and the client event types ``Expect`` passes over.

    ``connections``: how many connections the script plays for, from the first; later ones
    go unscripted (a drop that happens once, and a client that reconnects). None: every
    connection plays it from its first step.
    """

    steps: tuple[ScriptStep, ...] = attrs.field(default=(), converter=_steps)
    ignore: frozenset[str] = attrs.field(default=DEFAULT_IGNORED, converter=frozenset)
    connections: int | None = attrs.field(default=None, validator=_connections)

    def for_connection(self, number: int) -> FakeScript:
        """The script connection ``number`` (from 1) plays: this one, or none."""
        return self if self.connections is None or number <= self.connections else FakeScript()

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> FakeScript:
        """A script from JSON text, or from a file when given a path (or a string that does
        not start with ``[`` or ``{``): a list of steps, or ``{"steps": [...], "ignore": [...]}``.
        Reading the file is the one I/O here, done at the caller's explicit request."""
        if isinstance(source, str) and source.lstrip()[:1] in ("[", "{"):
            text = source
        else:
            with open(source, encoding="utf-8") as file:
                text = file.read()
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise LocalProtocolError(f"a FakeScript must be JSON: {exc}") from None
        return cls.from_data(data)

    @classmethod
    def from_data(cls, data: Any) -> FakeScript:
        """A script from decoded JSON (see ``from_json``): also
        ``{"steps": [...], "connections": 1}``."""
        ignore: Any = DEFAULT_IGNORED
        connections: Any = None
        if isinstance(data, dict):
            unknown = set(data) - {"steps", "ignore", "connections"}
            if unknown:
                raise LocalProtocolError(f"a FakeScript has no {sorted(unknown)}")
            ignore = data.get("ignore", DEFAULT_IGNORED)
            connections = data.get("connections")
            data = data.get("steps", [])
        if not isinstance(data, list):
            raise LocalProtocolError("a FakeScript's steps are a JSON array")
        if not isinstance(ignore, list | frozenset) or not all(isinstance(t, str) for t in ignore):
            raise LocalProtocolError("a FakeScript's 'ignore' is an array of event types")
        steps = []
        for index, step in enumerate(data):
            try:
                steps.append(_step(step))
            except (LocalProtocolError, TypeError, ValueError) as exc:
                raise LocalProtocolError(f"step {index} of the script: {exc}") from None
        return cls(steps=steps, ignore=frozenset(ignore), connections=connections)


# -- walking a script ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Mismatch:
    """A client event other than the one the script's ``Expect`` step waited for."""

    step: int
    expected: str
    actual: str
    event_id: str | None


class ScriptCursor:
    """Where one connection is in its script: the server acts on what ``take`` gives and
    reports each client event to ``meet``."""

    def __init__(self, script: FakeScript) -> None:
        self.script = script
        self.position = 0
        self.held = False
        """A ``Delay`` holds the following steps until ``release``."""
        self.mismatches: list[Mismatch] = []

    def _waiting(self) -> Expect | None:
        steps = self.script.steps
        if self.held or self.position >= len(steps):
            return None
        step = steps[self.position]
        return step if isinstance(step, Expect) else None

    def take(self) -> ScriptStep | None:
        """The next step to act on now; None while the script waits or once it has ended."""
        if self.held or self.position >= len(self.script.steps) or self._waiting():
            return None
        step = self.script.steps[self.position]
        self.position += 1
        self.held = isinstance(step, Delay)
        return step

    def release(self) -> None:
        self.held = False

    def meet(self, event_type: str, event_id: str | None) -> Expect | Mismatch | None:
        """A client event arrived: the ``Expect`` it satisfies (passed, so ``take`` goes on),
        the ``Mismatch`` it is (recorded; the step keeps waiting), or None."""
        step = self._waiting()
        if step is None or (event_type != step.type and event_type in self.script.ignore):
            return None
        if event_type == step.type:
            self.position += 1
            return step
        mismatch = Mismatch(
            step=self.position, expected=step.type, actual=event_type, event_id=event_id
        )
        self.mismatches.append(mismatch)
        return mismatch


def scripted_events(
    events: Iterable[ScriptedEvent], new_id: Callable[[str], str]
) -> list[wire.ServerEvent]:
    """Scripted events as typed ones; JSON objects without an ``event_id`` get a fresh one."""
    out: list[wire.ServerEvent] = []
    for event in events:
        if isinstance(event, Mapping):
            obj = {"event_id": new_id("event"), **event}
            out.append(wire.decode_server_event(json.dumps(obj)))
        else:
            out.append(event)
    return out


# -- JSON ------------------------------------------------------------------------------------

_KINDS = {
    "expect": {"then", "handle"},
    "respond": {"failure", "out_of_band"},
    "send": set(),
    "drop_after": set(),
    "garbage": set(),
    "unknown_event": {"fields"},
    "error": set(),
    "delay_ms": set(),
    "expire_after_ms": set(),
}


def _step(data: Any) -> ScriptStep:
    if not isinstance(data, dict):
        raise LocalProtocolError(f"a step is a JSON object, not {data!r}")
    kinds = [k for k in data if k in _KINDS]
    if len(kinds) != 1:
        raise LocalProtocolError(f"a step has exactly one of {sorted(_KINDS)}: {data!r}")
    kind = kinds[0]
    extra = set(data) - {kind} - _KINDS[kind]
    if extra:
        raise LocalProtocolError(f"a {kind!r} step has no {sorted(extra)}")
    value = data[kind]
    if kind == "expect":
        return Expect(type=value, then=data.get("then", ()), handle=data.get("handle", True))
    if kind == "respond":
        outputs = value if isinstance(value, list) else [value]
        return Respond(
            outputs=tuple(_output(o) for o in outputs),
            failure=data.get("failure"),
            out_of_band=bool(data.get("out_of_band", False)),
        )
    if kind == "send":
        return Send(events=value if isinstance(value, list) else [value])
    if kind == "drop_after":
        return DropAfter(count=value)
    if kind == "garbage":
        return Garbage() if value is True else Garbage(text=str(value))
    if kind == "unknown_event":
        return UnknownEvent(type=value, fields=data.get("fields", {}))
    if kind == "error":
        if not isinstance(value, dict):
            raise LocalProtocolError("an 'error' step is {'code': ..., 'message': ...}")
        return ErrorEvent(**value)
    if kind == "delay_ms":
        return Delay(ms=value)
    return Expire(after_ms=value)


def _output(data: Any) -> ScriptOutput:
    if not isinstance(data, dict):
        raise LocalProtocolError(f"an output is a JSON object, not {data!r}")
    if set(data) == {"text"}:
        return ScriptText(text=str(data["text"]))
    if "audio" in data and set(data) <= {"audio", "duration_ms"}:
        return _audio(str(data["audio"]), data.get("duration_ms"))
    if "call" in data and set(data) <= {"call", "arguments"}:
        return _call(str(data["call"]), data.get("arguments", {}))
    raise LocalProtocolError(
        "an output is {'text': ...}, {'audio': ..., 'duration_ms'?: ...} or"
        f" {{'call': ..., 'arguments'?: ...}}, not {data!r}"
    )
