"""Builders of typed GA server events and pickers of Session outputs, for the Session tests.

Server events carry fresh ``event_id``s; responses belong to the default conversation unless
``out_of_band=True``. ``sent(outputs)`` is the one way tests read client events: it checks
every one against the ``openai`` package's models (extra fields forbidden) first. The tests'
``Session`` is the real one whose ``handle`` also checks every client event it emits, so no
event escapes the check even where a test does not look at it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from oracle import validate_beta_client_event, validate_client_event
from realtime_sansio.protocol import Agent, RunConfig, events, inputs, wire
from realtime_sansio.protocol import Session as _Session
from realtime_sansio.protocol.agent import FunctionTool, function_tool
from realtime_sansio.protocol.session import Output

T = TypeVar("T")

_event_ids = itertools.count(1)


def _eid() -> str:
    return f"ev_{next(_event_ids)}"


# -- server events ---------------------------------------------------------------------------


def response(
    rid: str,
    *,
    status: str = "in_progress",
    out_of_band: bool = False,
    usage: dict[str, Any] | None = None,
    status_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A GA response resource."""
    return {
        "id": rid,
        "object": "realtime.response",
        "status": status,
        "status_details": status_details,
        "output": [],
        "conversation_id": None if out_of_band else "conv_1",
        "output_modalities": ["audio"],
        "max_output_tokens": "inf",
        "metadata": None,
        "usage": usage,
    }


def created(rid: str, *, out_of_band: bool = False) -> wire.ResponseCreated:
    return wire.ResponseCreated(event_id=_eid(), response=response(rid, out_of_band=out_of_band))


def done(
    rid: str,
    *,
    status: str = "completed",
    out_of_band: bool = False,
    usage: dict[str, Any] | None = None,
    error: tuple[str, str] | None = None,
) -> wire.ResponseDone:
    """``response.done``; ``error=(code, message)`` makes a failed response's details."""
    details = None
    if error is not None:
        code, message = error
        details = {
            "type": status,
            "error": {"type": "server_error", "code": code, "message": message},
        }
    resource = response(
        rid, status=status, out_of_band=out_of_band, usage=usage, status_details=details
    )
    return wire.ResponseDone(event_id=_eid(), response=resource)


def usage(total: int, inp: int, out: int) -> dict[str, Any]:
    return {"total_tokens": total, "input_tokens": inp, "output_tokens": out}


def _part(rid: str, iid: str, content_index: int = 0) -> dict[str, Any]:
    return {
        "event_id": _eid(),
        "response_id": rid,
        "item_id": iid,
        "output_index": 0,
        "content_index": content_index,
    }


def audio_delta(
    rid: str, iid: str, nbytes: int, *, content_index: int = 0
) -> wire.ResponseOutputAudioDelta:
    """``nbytes`` of assistant audio (silence) for item ``iid`` of response ``rid``."""
    return wire.ResponseOutputAudioDelta(delta=bytes(nbytes), **_part(rid, iid, content_index))


def audio_done(rid: str, iid: str) -> wire.ResponseOutputAudioDone:
    return wire.ResponseOutputAudioDone(**_part(rid, iid))


def transcript_delta(rid: str, iid: str, text: str) -> wire.ResponseOutputAudioTranscriptDelta:
    return wire.ResponseOutputAudioTranscriptDelta(delta=text, **_part(rid, iid))


def transcript_done(rid: str, iid: str, text: str) -> wire.ResponseOutputAudioTranscriptDone:
    return wire.ResponseOutputAudioTranscriptDone(transcript=text, **_part(rid, iid))


def text_delta(rid: str, iid: str, text: str) -> wire.ResponseOutputTextDelta:
    return wire.ResponseOutputTextDelta(delta=text, **_part(rid, iid))


def text_done(rid: str, iid: str, text: str) -> wire.ResponseOutputTextDone:
    return wire.ResponseOutputTextDone(text=text, **_part(rid, iid))


def args_done(
    rid: str, call_id: str, name: str, arguments: str = "{}", *, item_id: str | None = None
) -> wire.ResponseFunctionCallArgumentsDone:
    return wire.ResponseFunctionCallArgumentsDone(
        event_id=_eid(),
        response_id=rid,
        item_id=item_id or f"item_{call_id}",
        output_index=0,
        call_id=call_id,
        name=name,
        arguments=arguments,
    )


def call_item(
    call_id: str,
    name: str,
    arguments: str = "{}",
    *,
    item_id: str | None = None,
    status: str = "completed",
) -> dict[str, Any]:
    return {
        "id": item_id or f"item_{call_id}",
        "type": "function_call",
        "object": "realtime.item",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def user_item(iid: str, text: str | None = None) -> dict[str, Any]:
    """A user message: text, or (``text`` None) audio awaiting its transcript."""
    part = (
        {"type": "input_audio", "transcript": None}
        if text is None
        else {"type": "input_text", "text": text}
    )
    return {
        "id": iid,
        "type": "message",
        "object": "realtime.item",
        "role": "user",
        "status": "completed",
        "content": [part],
    }


def assistant_item(
    iid: str, transcript: str = "", *, status: str = "in_progress"
) -> dict[str, Any]:
    return {
        "id": iid,
        "type": "message",
        "object": "realtime.item",
        "role": "assistant",
        "status": status,
        "content": [{"type": "output_audio", "transcript": transcript}],
    }


def item_added(item: dict[str, Any], previous: str | None = None) -> wire.ConversationItemAdded:
    return wire.ConversationItemAdded(event_id=_eid(), item=item, previous_item_id=previous)


def item_done(item: dict[str, Any], previous: str | None = None) -> wire.ConversationItemDone:
    return wire.ConversationItemDone(event_id=_eid(), item=item, previous_item_id=previous)


def output_item_done(rid: str, item: dict[str, Any]) -> wire.ResponseOutputItemDone:
    return wire.ResponseOutputItemDone(event_id=_eid(), response_id=rid, output_index=0, item=item)


def item_deleted(iid: str) -> wire.ConversationItemDeleted:
    return wire.ConversationItemDeleted(event_id=_eid(), item_id=iid)


def item_truncated(iid: str, audio_end_ms: int) -> wire.ConversationItemTruncated:
    return wire.ConversationItemTruncated(
        event_id=_eid(), item_id=iid, content_index=0, audio_end_ms=audio_end_ms
    )


def error(
    code: str, event_id: str | None = None, message: str = "it went wrong"
) -> wire.ServerError:
    """A server ``error``; ``event_id`` is the client event it refers to."""
    detail = wire.ErrorDetail(
        type="invalid_request_error", code=code, message=message, event_id=event_id
    )
    return wire.ServerError(event_id=_eid(), error=detail)


def speech_started(iid: str = "item_user", ms: int = 0) -> wire.InputAudioBufferSpeechStarted:
    return wire.InputAudioBufferSpeechStarted(event_id=_eid(), item_id=iid, audio_start_ms=ms)


def speech_stopped(iid: str = "item_user", ms: int = 0) -> wire.InputAudioBufferSpeechStopped:
    return wire.InputAudioBufferSpeechStopped(event_id=_eid(), item_id=iid, audio_end_ms=ms)


def user_transcript_delta(iid: str, text: str) -> wire.InputAudioTranscriptionDelta:
    return wire.InputAudioTranscriptionDelta(
        event_id=_eid(), item_id=iid, content_index=0, delta=text
    )


def user_transcript_done(iid: str, text: str) -> wire.InputAudioTranscriptionCompleted:
    return wire.InputAudioTranscriptionCompleted(
        event_id=_eid(),
        item_id=iid,
        content_index=0,
        transcript=text,
        usage={"type": "duration", "seconds": 1.0},
    )


def session_updated(session: dict[str, Any]) -> wire.SessionUpdated:
    return wire.SessionUpdated(event_id=_eid(), session={"type": "realtime", **session})


# -- outputs ---------------------------------------------------------------------------------


def is_client_event(output: object) -> bool:
    return isinstance(output, wire.ClientEventBase | wire.RawClientEvent)


def sent(outputs: Iterable[object], *, dialect: str = "ga") -> list[Any]:
    """The client events among ``outputs``, each checked against the official models."""
    found = []
    for output in outputs:
        if is_client_event(output):
            payload = wire.client_event_to_json(output, dialect=dialect)  # type: ignore[arg-type]
            if dialect == "ga":
                validate_client_event(payload)
            else:
                validate_beta_client_event(payload)
            found.append(output)
    return found


def sent_types(outputs: Iterable[object]) -> list[str]:
    return [event.type for event in sent(outputs)]


def of_type(outputs: Iterable[object], cls: type[T]) -> list[T]:
    return [output for output in outputs if isinstance(output, cls)]


def one(outputs: Iterable[object], cls: type[T]) -> T:
    found = of_type(outputs, cls)
    assert len(found) == 1, f"expected one {cls.__name__}, got {found!r}"
    return found[0]


def notable(outputs: Iterable[object]) -> list[object]:
    """The outputs without the ``RawModelEvent`` echo of every server event."""
    return [output for output in outputs if not isinstance(output, events.RawModelEvent)]


def errors(outputs: Iterable[object]) -> list[events.ErrorEvent]:
    return of_type(outputs, events.ErrorEvent)


def creates(outputs: Iterable[object]) -> list[wire.ResponseCreate]:
    return [e for e in sent(outputs) if isinstance(e, wire.ResponseCreate)]


def outputs_given(outputs: Iterable[object]) -> list[dict[str, Any]]:
    """The ``function_call_output`` items sent, as JSON objects."""
    return [
        e.item
        for e in sent(outputs)
        if isinstance(e, wire.ConversationItemCreate) and e.item["type"] == "function_call_output"
    ]


# -- sessions and agents ---------------------------------------------------------------------


class Session(_Session):
    """The Session, checking every client event it emits (in its dialect) with the oracle."""

    def handle(self, event: inputs.AnyInput, *, now: float | None = None) -> list[Output]:
        out = super().handle(event, now=now)
        sent(out, dialect=self.dialect)
        return out


@function_tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    raise AssertionError("the core must not call user code")


def agent(name: str = "Assistant", **fields: Any) -> Agent:
    fields.setdefault("instructions", "Be brief.")
    return Agent(name=name, **fields)


def started(
    the_agent: Agent | None = None, *, config: RunConfig | None = None, **kwargs: Any
) -> Session:
    """A session past ``Connected`` (its instructions static)."""
    session = Session(the_agent or agent(tools=[get_weather]), config=config, **kwargs)
    sent(session.handle(inputs.Connected()))
    assert session.ready
    return session


class Feed:
    """A session fed a sequence of inputs; ``out`` collects every output in order."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.out: list[Output] = []

    def __call__(self, *items: Any, now: float | None = None) -> list[Output]:
        got: list[Output] = []
        for item in items:
            got.extend(self.session.handle(item, now=now))
        self.out.extend(got)
        return got


def active_response(session: Session, rid: str = "r1", *, now: float | None = None) -> None:
    """Ask for a response and have the server create it as ``rid``."""
    sent(session.handle(inputs.SendMessage(message="hello"), now=now))
    session.handle(created(rid), now=now)
    assert session.response_active


def tools_named(payload: dict[str, Any]) -> list[str]:
    return [t["name"] for t in payload.get("tools", [])]


def first_session_update(outputs: Sequence[object]) -> dict[str, Any]:
    updates = [e for e in sent(outputs) if isinstance(e, wire.SessionUpdate)]
    assert len(updates) == 1, updates
    return updates[0].session


def tool(name: str, **options: Any) -> FunctionTool:
    """A function tool taking ``{"n": int}``, never run by the core."""

    def run(n: int) -> str:
        raise AssertionError("the core must not call user code")

    return function_tool(run, name=name, description=f"The {name} tool.", **options)
