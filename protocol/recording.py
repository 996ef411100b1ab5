"""The recording format: a session as JSON Lines, one frame, input or connection event a line.

Pure: this module turns frames and ``Session`` inputs into line objects and reads them back.
Writing the lines to a file is the transports' (``transports.recording``), feeding them to a
``Session`` again is ``replay``'s. docs/recording.md describes the format for readers.

A recording starts with a header line, then one line per event in the order it happened, each
with ``t``, the seconds since the recording started (the header's ``clock_start`` is the
clock's reading at that moment: ``clock_start + t`` is the very reading the session saw)::

    {"kind": "header", "format": "realtime-sansio recording", "version": 1, "side": "client",
     "source": "session", "clock_start": 812.25, "dialect": "ga", "audio": "keep", ...}
    {"kind": "connected", "t": 0.0}
    {"kind": "frame", "t": 0.0001, "from": "client", "frame": {"type": "session.update", ...}}
    {"kind": "frame", "t": 0.012, "from": "server", "frame": {"type": "session.created", ...}}
    {"kind": "input", "t": 0.5, "input": {"type": "SendMessage", "message": "Hi"}}
    {"kind": "closed", "t": 9.5, "code": 1000, "reason": ""}

A frame that is not a JSON object (a garbage frame) is kept as ``"text"`` instead of
``"frame"``. ``source`` says who wrote it: ``"session"`` (the driver, ``run(record=...)``:
every input of the ``Session``, so a replay can re-drive it) or ``"transport"`` (a
``RecordingTransport``: the frames alone). With ``"audio": "elide"`` every audio payload is
replaced by a length marker, ``"<9600 bytes elided>"``; a replay feeds silence of that length.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal, TypeAlias

import attrs

from . import inputs, wire
from .agent import Agent
from .config import SessionModelSettings, settings_from_session_payload, to_session_payload
from .errors import LocalProtocolError, RemoteProtocolError
from .items import UserMessage, item_from_wire, item_to_wire

__all__ = [
    "FORMAT",
    "VERSION",
    "AudioPolicy",
    "ClosedEntry",
    "ConnectedEntry",
    "Entry",
    "FrameEntry",
    "Header",
    "InputEntry",
    "Origin",
    "Recording",
    "RecordingError",
    "Side",
    "Source",
    "agents_by_name",
    "audio_size",
    "closed_line",
    "connected_line",
    "decode_input",
    "elide_audio",
    "encode_input",
    "frame_line",
    "header_line",
    "input_line",
    "restore_audio",
]

FORMAT: Final = "realtime-sansio recording"
VERSION: Final = 1

AudioPolicy: TypeAlias = Literal["keep", "elide"]
Side: TypeAlias = Literal["client", "server"]
Origin: TypeAlias = Literal["client", "server"]
Source: TypeAlias = Literal["session", "transport"]


class RecordingError(ValueError):
    """A recording that cannot be read: the message names the line and what is wrong."""


# -- audio ---------------------------------------------------------------------------------------

_ELIDED = re.compile(r"<(\d+) bytes elided>\Z")

# Where frames carry base64 audio: a field of the event itself, by event type (GA and beta).
_AUDIO_FIELDS: Final = {
    "input_audio_buffer.append": "audio",
    "response.output_audio.delta": "delta",
    "response.audio.delta": "delta",
}
# And inside an event's item (conversation.item.create/added/done...): input_audio parts.


def _marker(size: int) -> str:
    return f"<{size} bytes elided>"


def audio_size(text: str) -> int:
    """The bytes of audio a recorded payload stands for: an elided one's marker, or the size
    base64 decodes to (counted without decoding)."""
    found = _ELIDED.match(text)
    if found is not None:
        return int(found.group(1))
    if len(text) % 4:
        return len(text)  # not base64: its length stands in (nothing else can be said)
    return len(text) // 4 * 3 - text[-2:].count("=")


def _map_audio(frame: dict[str, Any], change: Callable[[str], str]) -> dict[str, Any]:
    """``frame`` with ``change`` applied to each of its audio payloads (a copy when any)."""
    out = frame
    field = _AUDIO_FIELDS.get(str(frame.get("type")))
    if field is not None and isinstance(frame.get(field), str):
        out = {**frame, field: change(frame[field])}
    item = frame.get("item")
    content = item.get("content") if isinstance(item, dict) else None
    if isinstance(item, dict) and isinstance(content, list):
        parts = [
            {**part, "audio": change(part["audio"])}
            if isinstance(part, dict) and isinstance(part.get("audio"), str)
            else part
            for part in content
        ]
        out = {**out, "item": {**item, "content": parts}}
    return out


def elide_audio(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame with each audio payload replaced by ``"<N bytes elided>"`` (N decoded bytes)."""
    return _map_audio(frame, lambda text: _marker(audio_size(text)))


def _silence_for(text: str) -> str:
    found = _ELIDED.match(text)
    if found is None:
        return text
    return base64.b64encode(bytes(int(found.group(1)))).decode("ascii")


def restore_audio(frame: dict[str, Any]) -> dict[str, Any]:
    """The frame with each elided payload replaced by silence (zero bytes) of its length."""
    return _map_audio(frame, _silence_for)


def _audio_to_text(data: bytes, audio: AudioPolicy) -> str:
    if audio == "elide":
        return _marker(len(data))
    return base64.b64encode(data).decode("ascii")


def _audio_from_text(text: str, line: int) -> bytes:
    found = _ELIDED.match(text)
    if found is not None:
        return bytes(int(found.group(1)))
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise RecordingError(f"line {line}: audio that is neither base64 nor elided") from None


# -- lines ---------------------------------------------------------------------------------------


def header_line(
    *,
    side: Side,
    source: Source,
    clock_start: float,
    dialect: wire.Dialect,
    audio: AudioPolicy,
    agent: str | None = None,
    agent_ref: str | None = None,
    config_ref: str | None = None,
    recorded_at: str | None = None,
) -> dict[str, Any]:
    """The first line. ``agent`` is the starting agent's name; ``agent_ref`` and ``config_ref``
    (``"module:NAME"``) say where a replay finds the agent and its ``RunConfig``."""
    line: dict[str, Any] = {
        "kind": "header",
        "format": FORMAT,
        "version": VERSION,
        "side": side,
        "source": source,
        "clock_start": clock_start,
        "dialect": dialect,
        "audio": audio,
    }
    optional = {
        "recorded_at": recorded_at,
        "agent": agent,
        "agent_ref": agent_ref,
        "config_ref": config_ref,
    }
    line.update({key: value for key, value in optional.items() if value is not None})
    return line


def connected_line(t: float) -> dict[str, Any]:
    return {"kind": "connected", "t": t}


def closed_line(t: float, code: int | None, reason: str) -> dict[str, Any]:
    return {"kind": "closed", "t": t, "code": code, "reason": reason}


def frame_line(
    t: float, origin: Origin, frame: str | Mapping[str, Any], *, audio: AudioPolicy
) -> dict[str, Any]:
    """A frame as it went over the wire: its text, or already its JSON object."""
    obj: Any = frame
    if isinstance(frame, str):
        try:
            obj = json.loads(frame)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            return {"kind": "frame", "t": t, "from": origin, "text": frame}
    obj = dict(obj)
    return {
        "kind": "frame",
        "t": t,
        "from": origin,
        "frame": elide_audio(obj) if audio == "elide" else obj,
    }


def input_line(
    t: float, event: inputs.Input, *, clock_start: float, audio: AudioPolicy
) -> dict[str, Any]:
    return {
        "kind": "input",
        "t": t,
        "input": encode_input(event, clock_start=clock_start, audio=audio),
    }


# -- inputs --------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """A guardrail's output_info as JSON when it is, else its repr (it only reaches an event)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def encode_input(event: inputs.Input, *, clock_start: float, audio: AudioPolicy) -> dict[str, Any]:
    """An input as a JSON object ``{"type": <class name>, ...fields}``.

    Objects are written as what they stand for: a ``UserMessage`` as its GA item, settings as
    their ``session`` payload, an agent by its name, audio as base64 (or its length marker),
    ``TimerFired.now`` as seconds since the start, like ``t``.
    """
    name = type(event).__name__
    fields: dict[str, Any]
    if isinstance(event, inputs.SendMessage):
        message = event.message
        fields = {"message": message if isinstance(message, str) else item_to_wire(message)}
    elif isinstance(event, inputs.SendAudio):
        fields = {"data": _audio_to_text(event.data, audio), "commit": event.commit}
    elif isinstance(event, inputs.UpdateSession):
        fields = {"settings": to_session_payload(event.settings)}
    elif isinstance(event, inputs.UpdateAgent):
        fields = {"agent": event.agent.name}
    elif isinstance(event, inputs.SendRawEvent):
        raw = event.event
        typed = not isinstance(raw, Mapping)
        obj = dict(raw) if isinstance(raw, Mapping) else wire.client_event_to_json(raw)
        fields = {"event": elide_audio(obj) if audio == "elide" else obj, "typed": typed}
    elif isinstance(event, inputs.GuardrailResult):
        fields = {
            "run_id": event.run_id,
            "tripped": list(event.tripped),
            "output_info": [_jsonable(info) for info in event.output_info],
        }
    elif isinstance(event, inputs.TimerFired):
        fields = {"at": event.now - clock_start}
    elif isinstance(event, _PLAIN):
        fields = attrs.asdict(event)
    else:
        raise LocalProtocolError(f"cannot record {name}: not an application or effect input")
    return {"type": name, **fields}


_PLAIN: Final = (
    inputs.ConnectFailed,
    inputs.Close,
    inputs.ClearAudio,
    inputs.Interrupt,
    inputs.AudioPlayed,
    inputs.ToolResult,
    inputs.ApproveTool,
    inputs.RejectTool,
    inputs.InstructionsResolved,
)
_BY_NAME: Final[dict[str, type]] = {cls.__name__: cls for cls in _PLAIN}


def agents_by_name(*agents: Agent) -> dict[str, Agent]:
    """Every agent reachable from ``agents`` through handoffs, by name (the first wins)."""
    found: dict[str, Agent] = {}
    waiting = list(agents)
    while waiting:
        agent = waiting.pop(0)
        if agent.name in found:
            continue
        found[agent.name] = agent
        waiting.extend(handoff.agent for handoff in agent.handoffs)
    return found


def decode_input(
    obj: Mapping[str, Any], *, agents: Mapping[str, Agent], clock_start: float, line: int = 0
) -> inputs.Input:
    """The input an ``encode_input`` object stands for; ``agents`` resolves ``UpdateAgent``."""
    name = obj.get("type")
    fields = {key: value for key, value in obj.items() if key != "type"}
    try:
        if name == "SendMessage":
            message = fields["message"]
            if not isinstance(message, str):
                item = item_from_wire(message)
                if not isinstance(item, UserMessage):
                    raise RecordingError(f"line {line}: SendMessage holds a {item.type} item")
                message = item
            return inputs.SendMessage(message=message)
        if name == "SendAudio":
            data = _audio_from_text(fields["data"], line)
            return inputs.SendAudio(data=data, commit=bool(fields.get("commit", False)))
        if name == "UpdateSession":
            settings: SessionModelSettings = settings_from_session_payload(fields["settings"])
            return inputs.UpdateSession(settings=settings)
        if name == "UpdateAgent":
            agent = agents.get(fields["agent"])
            if agent is None:
                known = ", ".join(sorted(agents)) or "none"
                raise RecordingError(
                    f"line {line}: UpdateAgent to {fields['agent']!r}, an agent the replay "
                    f"does not know (it knows: {known})"
                )
            return inputs.UpdateAgent(agent=agent)
        if name == "SendRawEvent":
            raw = restore_audio(dict(fields["event"]))
            typed = wire.decode_client_event(json.dumps(raw)) if fields.get("typed") else raw
            return inputs.SendRawEvent(event=typed)
        if name == "GuardrailResult":
            return inputs.GuardrailResult(
                run_id=fields["run_id"],
                tripped=tuple(fields.get("tripped", ())),
                output_info=tuple(fields.get("output_info", ())),
            )
        if name == "TimerFired":
            return inputs.TimerFired(now=clock_start + float(fields["at"]))
        cls = _BY_NAME.get(str(name))
        if cls is None:
            raise RecordingError(f"line {line}: unknown input type {name!r}")
        result: inputs.Input = cls(**fields)
        return result
    except RecordingError:
        raise
    except (KeyError, TypeError, ValueError, RemoteProtocolError, LocalProtocolError) as exc:
        raise RecordingError(f"line {line}: a {name} input that cannot be read: {exc}") from None


# -- reading -------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Header:
    """What the header line says (``raw`` keeps every field, known or not)."""

    version: int
    side: Side
    source: Source
    clock_start: float
    dialect: wire.Dialect
    audio: AudioPolicy
    agent: str | None = None
    agent_ref: str | None = None
    config_ref: str | None = None
    recorded_at: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class ConnectedEntry:
    line: int
    t: float


@attrs.frozen(kw_only=True)
class ClosedEntry:
    line: int
    t: float
    code: int | None
    reason: str


@attrs.frozen(kw_only=True)
class FrameEntry:
    """A frame: ``frame`` is its JSON object, or None when ``text`` holds a frame that is not
    one (a garbage frame)."""

    line: int
    t: float
    origin: Origin
    frame: dict[str, Any] | None = attrs.field(repr=False)
    text: str | None = attrs.field(default=None, repr=False)

    @property
    def type(self) -> str:
        return str(self.frame.get("type")) if self.frame is not None else "(not JSON)"

    def wire_text(self) -> str:
        """The frame as text again, elided audio replaced by silence of its length."""
        if self.frame is None:
            return self.text or ""
        return json.dumps(restore_audio(self.frame), ensure_ascii=False)


@attrs.frozen(kw_only=True)
class InputEntry:
    line: int
    t: float
    input: dict[str, Any] = attrs.field(repr=False)

    @property
    def type(self) -> str:
        return str(self.input.get("type"))


Entry: TypeAlias = ConnectedEntry | ClosedEntry | FrameEntry | InputEntry


@attrs.frozen(kw_only=True)
class Recording:
    """A parsed recording: its header and its entries in order."""

    header: Header
    entries: tuple[Entry, ...]

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Recording:
        """Read a recording's lines; a ``RecordingError`` names the first line it cannot read."""
        header: Header | None = None
        entries: list[Entry] = []
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                raise RecordingError(f"line {number}: not JSON") from None
            if not isinstance(obj, dict):
                raise RecordingError(f"line {number}: not a JSON object")
            if header is None:
                header = _header(obj, number)
                continue
            entries.append(_entry(obj, number))
        if header is None:
            raise RecordingError("an empty file: a recording starts with its header line")
        return cls(header=header, entries=tuple(entries))

    def frames(self, origin: Origin) -> list[FrameEntry]:
        return [e for e in self.entries if isinstance(e, FrameEntry) and e.origin == origin]


def _header(obj: dict[str, Any], line: int) -> Header:
    if obj.get("kind") != "header" or obj.get("format") != FORMAT:
        raise RecordingError(f"line {line}: not a realtime-sansio recording (no header line)")
    version = obj.get("version")
    if version != VERSION:
        raise RecordingError(
            f"line {line}: recording format version {version!r}; this code reads version {VERSION}"
        )
    try:
        return Header(
            version=version,
            side=_one_of(obj.get("side"), ("client", "server"), "side", line),
            source=_one_of(obj.get("source"), ("session", "transport"), "source", line),
            clock_start=float(obj.get("clock_start", 0.0)),
            dialect=_one_of(obj.get("dialect", "ga"), ("ga", "beta"), "dialect", line),
            audio=_one_of(obj.get("audio", "keep"), ("keep", "elide"), "audio", line),
            agent=obj.get("agent"),
            agent_ref=obj.get("agent_ref"),
            config_ref=obj.get("config_ref"),
            recorded_at=obj.get("recorded_at"),
            raw=obj,
        )
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"line {line}: a header that cannot be read: {exc}") from None


def _one_of(value: Any, choices: tuple[str, ...], name: str, line: int) -> Any:
    if value not in choices:
        raise RecordingError(
            f"line {line}: {name} must be one of {', '.join(choices)}, not {value!r}"
        )
    return value


def _entry(obj: dict[str, Any], line: int) -> Entry:
    kind = obj.get("kind")
    try:
        t = float(obj["t"])
        if kind == "frame":
            origin = _one_of(obj.get("from"), ("client", "server"), "from", line)
            frame = obj.get("frame")
            if frame is None:
                return FrameEntry(line=line, t=t, origin=origin, frame=None, text=str(obj["text"]))
            if not isinstance(frame, dict):
                raise RecordingError(f"line {line}: a frame that is not a JSON object")
            return FrameEntry(line=line, t=t, origin=origin, frame=frame)
        if kind == "input":
            event = obj["input"]
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                raise RecordingError(f"line {line}: an input without a type")
            return InputEntry(line=line, t=t, input=event)
        if kind == "connected":
            return ConnectedEntry(line=line, t=t)
        if kind == "closed":
            code = obj.get("code")
            return ClosedEntry(
                line=line,
                t=t,
                code=None if code is None else int(code),
                reason=str(obj.get("reason", "")),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise RecordingError(f"line {line}: a {kind} line that cannot be read: {exc!r}") from None
    raise RecordingError(f"line {line}: unknown kind {kind!r}")
