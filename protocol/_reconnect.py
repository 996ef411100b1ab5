"""The pure parts of surviving a connection: which ends to retry, and what to send again.

- ``retryable_close`` / ``retryable_failure``: the classification of a drop and of a failed
  attempt (docs/resilience.md has the table).
- ``heard_text``: the part of an assistant item's transcript that was heard, estimated from
  the audio played, for a reply cut off by a barge-in or a drop.
- ``OwnItems``: the items the session created itself (user messages, notices, raw creates)
  that the server has not yet echoed: lost with a connection unless sent again.
- ``plan_replay``: the history as ``conversation.item.create`` events chained by
  ``previous_item_id``, with what is left out and what waits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from . import wire
from .config import UserAudioReplay
from .errors import RemoteProtocolError
from .items import (
    AssistantMessage,
    FunctionCall,
    FunctionCallOutput,
    InputAudio,
    InputImage,
    InputText,
    Item,
    OutputText,
    SystemMessage,
    UserContent,
    UserMessage,
    item_from_wire,
    item_to_wire,
)

__all__ = [
    "RETRYABLE_CLOSE_CODES",
    "OwnItems",
    "ReplayPlan",
    "heard_text",
    "plan_replay",
    "retryable_close",
    "retryable_failure",
]

RETRYABLE_CLOSE_CODES = frozenset({1001, 1006, 1011, 1012, 1013, 1014})
"""Close codes worth a new connection: going away (a restart, or the 60-minute cap), an
abnormal drop, a server error, service restart, try again later, bad gateway."""


def retryable_close(code: int | None) -> bool:
    """Whether a connection that ended with ``code`` is worth replacing. None (no close
    frame: a network error) is; 1000 (closed on purpose), 1002/1003/1007/1008/1009 (the
    protocol or a message refused: the same again would be refused too), 1005 and 4000+
    (the server's own reasons: 4000 refuses the beta shape) are not."""
    return code is None or code in RETRYABLE_CLOSE_CODES


def retryable_failure(status: int | None, *, permanent: bool) -> bool:
    """Whether a failed attempt to connect is worth another: a network error or timeout
    (no status), 408 and 5xx are; 401/403 (the key), 429 (quota or rate), other 4xx and
    whatever the driver calls permanent are not."""
    if permanent:
        return False
    return status is None or status == 408 or status >= 500


def heard_text(text: str, heard_ms: float, received_ms: float) -> str:
    """The part of ``text`` (a transcript) that ``heard_ms`` of the ``received_ms`` of audio
    it came with said: the same share of its characters, ended at a word. An estimate:
    speech runs at a roughly even pace, and the words are what a model needs back."""
    if received_ms <= 0 or heard_ms >= received_ms:
        return text if received_ms > 0 else ""
    share = int(len(text) * max(0.0, heard_ms) / received_ms)
    cut = text[:share]
    if share < len(text) and not text[share].isspace():
        cut = cut.rsplit(" ", 1)[0] if " " in cut else ""
    return cut.rstrip()


def _key(item: Item) -> tuple[Any, ...]:
    """What an item says, for matching an echo with what was sent: type, role and parts,
    without id, status or audio bytes (a server need not echo those)."""
    if isinstance(item, UserMessage | AssistantMessage | SystemMessage):
        parts = tuple(
            (part.type, getattr(part, "text", None) or getattr(part, "transcript", None))
            if not isinstance(part, InputImage)
            else (part.type, part.image_url)
            for part in item.content
        )
        return ("message", item.role, parts)
    if isinstance(item, FunctionCall):
        return ("function_call", item.call_id)
    if isinstance(item, FunctionCallOutput):
        return ("function_call_output", item.call_id, item.output)
    return (item.type,)


class OwnItems:
    """Items the session created (user messages, guardrail notices, raw creates) that the
    server has not echoed yet, oldest first: at most ``size`` (older ones are forgotten: a
    server that never echoes cannot grow it).

    Echoes come in the order the creates were sent; a create the server refused is never
    echoed, so an echo that matches a later entry settles the entries before it too.
    """

    __slots__ = ("_pending",)

    def __init__(self, size: int = 256) -> None:
        self._pending: deque[tuple[tuple[Any, ...], dict[str, Any]]] = deque(maxlen=size)

    def __len__(self) -> int:
        return len(self._pending)

    def sent(self, item: Mapping[str, Any]) -> None:
        try:
            parsed = item_from_wire(item)
        except RemoteProtocolError:
            return  # the server refuses it: it never joins a conversation
        self._pending.append((_key(parsed), dict(item)))

    def echoed(self, item: Item) -> None:
        key = _key(item)
        for index, (pending, _) in enumerate(self._pending):
            if pending == key:
                for _ in range(index + 1):
                    self._pending.popleft()
                return

    def take(self) -> list[dict[str, Any]]:
        """Every unechoed item, to send again on a new connection (and forget here)."""
        items = [item for _, item in self._pending]
        self._pending.clear()
        return items


@attrs.define(kw_only=True)
class ReplayPlan:
    """What a replay sends and what it changes in the history."""

    creates: list[wire.ConversationItemCreate] = attrs.Factory(list)
    replayed_ids: list[str] = attrs.Factory(list)
    left_out: list[str] = attrs.Factory(list)  # ids to remove from the history
    held_calls: list[str] = attrs.Factory(list)  # ids of calls sent with their output


def _user_message(
    item: UserMessage, audio_of: Callable[[str], bytes | None], mode: UserAudioReplay
) -> UserMessage | None:
    parts: list[UserContent] = []
    for part in item.content:
        if not isinstance(part, InputAudio):
            parts.append(part)
            continue
        # Kept audio means no final transcript yet in "transcript" mode (the session forgets
        # a turn's audio when its transcript completes): deltas so far say only part of it.
        kept = audio_of(item.id or "")
        audio = part.audio if part.audio is not None else kept
        as_text = InputText(text=part.transcript) if part.transcript else None
        as_audio = InputAudio(audio=audio) if audio else None
        first = as_text if mode == "transcript" and kept is None else as_audio
        chosen: UserContent | None = first or as_audio or as_text
        if chosen is not None:
            parts.append(chosen)
    return UserMessage(id=item.id, content=parts) if parts else None


def _assistant_message(item: AssistantMessage, heard: str | None) -> AssistantMessage | None:
    if heard is not None:
        text = heard
    else:
        text = " ".join(
            piece
            for part in item.content
            if (piece := part.text if isinstance(part, OutputText) else (part.transcript or ""))
        )
    # As text: the new connection has none of the audio, and a model reads its own words.
    return AssistantMessage(id=item.id, content=[OutputText(text=text)]) if text else None


def plan_replay(
    items: Iterable[Item],
    *,
    outputs: Mapping[str, str],
    pending_calls: Iterable[str],
    heard: Callable[[str], str | None],
    audio_of: Callable[[str], bytes | None],
    user_audio: UserAudioReplay,
    event_ids: Callable[[], str],
) -> ReplayPlan:
    """The history ``items`` (in order) as creates chained by ``previous_item_id``.

    Everything keeps its order. A function call is sent only with its output: from the
    history, or from ``outputs`` (call id -> an output given but never echoed, which goes
    last, as the server would have put it, new to the history and named with an
    ``event_ids()`` id so that the chain goes on). A call in ``pending_calls`` (running,
    awaiting approval or a handoff) waits, to be sent with its output when it comes, both
    at the end (``held_calls``); any other call was never made and is left out, as is an
    output whose call is not sent.
    User audio is sent as ``user_audio`` says (``_user_message``), assistant messages as
    the text heard (``heard(item_id)``, for a cut reply) or said. Items with nothing left to
    say, and items this library does not model, are left out.
    """
    history = list(items)
    in_history = {item.call_id for item in history if isinstance(item, FunctionCallOutput)}
    waiting = set(pending_calls)
    plan = ReplayPlan()
    previous: str | None = None
    sent_calls: list[str] = []

    def send(item: Item, *, replayed: bool = True) -> None:
        nonlocal previous
        assert item.id is not None
        create = wire.ConversationItemCreate(
            event_id=event_ids(), previous_item_id=previous, item=item_to_wire(item)
        )
        plan.creates.append(create)
        if replayed:
            plan.replayed_ids.append(item.id)
        previous = item.id

    for item in history:
        assert item.id is not None
        replayed: Item | None
        if isinstance(item, FunctionCall):
            if item.call_id in in_history or item.call_id in outputs:
                sent_calls.append(item.call_id)
                send(attrs.evolve(item, status=None))
            elif item.call_id in waiting:
                plan.held_calls.append(item.id)
            else:
                plan.left_out.append(item.id)
            continue
        if isinstance(item, FunctionCallOutput):
            replayed = attrs.evolve(item, status=None) if item.call_id in sent_calls else None
        elif isinstance(item, UserMessage):
            replayed = _user_message(item, audio_of, user_audio)
        elif isinstance(item, AssistantMessage):
            replayed = _assistant_message(item, heard(item.id))
        elif isinstance(item, SystemMessage):
            replayed = attrs.evolve(item, status=None)
        else:
            replayed = None  # an item this library does not model: not ours to re-create
        if replayed is None:
            plan.left_out.append(item.id)
        else:
            send(replayed)
    for call_id in sent_calls:
        if call_id not in in_history:
            # Given, never echoed: new to the history too (where the server would have put
            # it, at the end), named here so that the chain goes on.
            output = FunctionCallOutput(id=event_ids(), call_id=call_id, output=outputs[call_id])
            send(output, replayed=False)
    return plan
