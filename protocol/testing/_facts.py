"""What a recorded run establishes, gathered in one incremental pass over its steps.

The session's view is the ground truth here: what the server said is read from the
``RawModelEvent`` the session emits for every server event it handled (so garbage frames, which
it cannot decode, say nothing), and what the session did from the client events, session events
and effects it emitted. Positions are ``(step index, output index)``; an input's own position is
``(step index, -1)``, before anything it caused.

Invariants that hold at every moment record a violation as soon as a step breaks them; those
that only hold once the run has come to rest (every request served, every call answered) keep
the facts for ``invariants`` to judge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from .. import events, inputs, wire
from ..agent import Agent, FunctionTool, Handoff
from ..config.values import Unset

if TYPE_CHECKING:
    from .transcript import Step

__all__ = ["Facts", "Position"]

Position = tuple[int, int]


@attrs.define(kw_only=True, eq=False)
class CallFacts:
    """A function call the server completed."""

    response_id: str | None
    name: str
    outputs: list[Position] = attrs.Factory(list)


@attrs.define(kw_only=True, eq=False)
class AudioFacts:
    """Assistant audio the session received for one item."""

    response_id: str
    content_index: int
    nbytes: int
    bytes_per_second: int

    @property
    def ms(self) -> float:
        return self.nbytes * 1000 / self.bytes_per_second


def _tool_name(tool: FunctionTool | Handoff) -> str:
    return tool.name if isinstance(tool, FunctionTool) else tool.tool_name


def _is_create(event: Any) -> bool:
    return isinstance(event, wire.ResponseCreate) or (
        isinstance(event, wire.RawClientEvent) and event.type == "response.create"
    )


def _create_params(event: Any) -> tuple[Any, str | None]:
    if isinstance(event, wire.ResponseCreate):
        return event.response, event.event_id
    payload = event.payload
    event_id = payload.get("event_id")
    return payload.get("response"), event_id if isinstance(event_id, str) else None


def _out_of_band(params: Any) -> bool:
    return isinstance(params, dict) and params.get("conversation") == "none"


class Facts:
    """The facts of a run so far; ``feed`` one step at a time, in order."""

    def __init__(self, agent: Agent) -> None:
        self.agent = agent  # current before the step being fed
        self.violations: dict[int, list[str]] = {1: [], 3: [], 4: [], 5: []}
        # (1) and (2): responses, requests and the response.create that serve them
        self.active: set[str] = set()
        self.out_of_band: set[str] = set()
        self.in_flight: int | None = None  # index in creates of the unanswered create
        self.creates: list[Position] = []
        self.refused: set[int] = set()
        self.create_ids: dict[str, int] = {}
        self.requests: list[tuple[Position, str]] = []
        self.vad_on = True  # the server's default until the session asks otherwise
        self.bytes_per_second = 48_000
        # (3) function calls
        self.calls: dict[str, CallFacts] = {}
        self.incomplete_calls: set[str] = set()
        self.response_calls: dict[str, list[str]] = {}
        self.done: dict[str, str] = {}  # response -> final status
        self.followed_up: set[str] = set()  # calls whose follow-up was asked for
        # (5) audio; (6) order
        self.audio: dict[str, AudioFacts] = {}
        self.previous: dict[str, str | None] = {}
        # Connections: a drop (or a recycle's switch) ends the server's responses; the
        # session asks again for the one cut off (a "resume" request), unless interrupted.
        self.live = True  # a connection carries the conversation
        self.connections = 0
        self.offline = False  # the session is reconnecting
        # Requests made while reconnecting wait in the session's queue (the one a lost
        # connection cut off too, unless an interruption withdraws it): they are made when
        # the queue drains, at the next Connected, one create each at most.
        self.waiting: list[str] = []
        self.offline_handoffs: list[str] = []  # their update and output wait for a replay
        self.resume: str | None = None
        self.queued: list[tuple[Position, str]] = []
        self.speaking = False
        self.vad_turn = False
        self.owed: str | None = None  # a VAD turn the server owes its response
        self.shown: set[str] = set()  # items the server showed (added or done), ever

    def feed(self, step: Step) -> None:
        if step.error is None:
            self._input(step)
            for index, output in enumerate(step.outputs):
                self._output(step, (step.index, index), output)
            self._connection(step)
        self.agent = step.agent

    # -- connections -------------------------------------------------------------------------

    def _connection(self, step: Step) -> None:
        event, here = step.input, (step.index, -1)
        if isinstance(event, inputs.ConnectionLost) and self.live:
            self.live = False
            if any(isinstance(o, events.ReconnectingEvent) for o in step.outputs):
                self.offline = True
                self._gone(here)
        elif isinstance(event, inputs.Connected):
            if self.live and self.connections:  # a recycle's switch: the old one is left now
                self._gone(here)
            self._replayed_handoffs(step)
            if self.connections:
                # A new server, a new conversation: its order is what its echoes say (a
                # call held back by the replay comes last, with its output).
                self.previous.clear()
            self.connections += 1
            self.live, self.offline = True, False
            waiting = [self.resume] if self.resume is not None else []
            self.queued += [(here, what) for what in [*waiting, *self.waiting]]
            self.waiting.clear()
            self.resume = None
        elif isinstance(event, inputs.Interrupt) and self.offline:
            self.resume = None  # the response cut off is not asked again

    def _replayed_handoffs(self, step: Step) -> None:
        """Handoffs made while reconnecting: the replay's session.update is the current
        agent's, and each call's output is sent again."""
        updates = [o for o in step.outputs if isinstance(o, wire.SessionUpdate)]
        for call_id in self.offline_handoffs:
            where = f"step {step.index}: the replay after the offline handoff of {call_id}"
            if not updates:
                self.violations[4].append(f"{where} has no session.update")
            elif not self._tools_match(updates[0], step.agent):
                self.violations[4].append(f"{where}: its session.update is not the agent's")
            if not any(
                isinstance(o, wire.ConversationItemCreate)
                and o.item.get("type") == "function_call_output"
                and o.item.get("call_id") == call_id
                for o in step.outputs
            ):
                self.violations[4].append(f"{where} does not send its output")
        self.offline_handoffs.clear()

    @staticmethod
    def _tools_match(update: wire.SessionUpdate, agent: Agent) -> bool:
        sent = {t.get("name") for t in update.session.get("tools") or ()}
        return sent == {_tool_name(t) for t in agent.all_tools()}

    def _gone(self, here: Position) -> None:
        """What the server was doing is gone: the session asks again for what it owed."""
        resume = self.in_flight is not None
        if self.owed is not None and self.owed in self.shown:
            # The session asks for the answer of a turn it has seen; one committed but never
            # shown goes back as its audio, which the new server's VAD answers.
            resume = True
        for response_id in sorted(self.active - self.out_of_band):
            made_calls = bool(self.response_calls.get(response_id))
            self._response_done({"id": response_id, "status": "incomplete"}, here)
            if not made_calls and not self.speaking:
                resume = True
        self.active.clear()
        self.in_flight = None
        self.owed = None
        self.speaking = self.vad_turn = False
        for call in self.calls.values():
            call.outputs.clear()  # the new conversation gets them again, once each
        if resume:
            self.resume = "the response a lost connection cut off"

    # -- inputs ------------------------------------------------------------------------------

    def _request(self, here: Position, what: str) -> None:
        if self.offline:
            self.waiting.append(what)
        else:
            self.requests.append((here, what))

    def _input(self, step: Step) -> None:
        event, here = step.input, (step.index, -1)
        if isinstance(event, inputs.SendMessage):
            self._request(here, "SendMessage")
        elif isinstance(event, inputs.SendAudio) and event.commit and not self.vad_on:
            self._request(here, "a push-to-talk commit (SendAudio(commit=True))")
        elif isinstance(event, inputs.UpdateSession) and self.offline:
            # Its session.update waits in the queue, ahead of what comes after it: the
            # commands queued later are read with its turn detection.
            detection = event.settings.turn_detection
            if not isinstance(detection, Unset):
                self.vad_on = detection is not None
        elif isinstance(event, inputs.SendRawEvent):
            raw = event.event
            kind: Any
            params: Any
            if isinstance(raw, wire.ClientEventBase):
                kind, params = raw.type, getattr(raw, "response", None)
            else:
                kind, params = raw.get("type"), raw.get("response")
            if kind == "response.create" and not _out_of_band(params):
                self._request(here, "a raw response.create")

    # -- outputs -----------------------------------------------------------------------------

    def _output(self, step: Step, here: Position, output: Any) -> None:
        if isinstance(output, events.RawModelEvent):
            self._server(output.data, here)
        elif _is_create(output):
            self._create(output, here)
        elif isinstance(output, wire.ConversationItemCreate):
            item = output.item
            if item.get("type") == "function_call_output":
                self._call_output(str(item.get("call_id")), here)
        elif isinstance(output, wire.SessionUpdate):
            self._settings(output.session)
        elif isinstance(output, wire.ConversationItemTruncate):
            self._truncate(output, here)
        elif isinstance(output, wire.ConversationItemDelete):
            audio = self.audio.get(output.item_id)
            if audio is not None and audio.response_id in self.out_of_band:
                self.violations[5].append(
                    f"step {here[0]}: deletes {output.item_id}, an item of the out-of-band"
                    f" response {audio.response_id}, which is in no conversation"
                )
        elif isinstance(output, events.HandoffEvent):
            self._handoff(step, here, output)
        elif isinstance(output, events.ToolEndEvent):
            self._tool_end(step, here, output)
        elif isinstance(output, events.GuardrailTrippedEvent):
            self.requests.append((here, f"the guardrail trip of {output.response_id}"))

    def _create(self, event: Any, here: Position) -> None:
        params, event_id = _create_params(event)
        if _out_of_band(params):
            return
        if self.in_flight is not None or self.active:
            busy = (
                f"response.create #{self.in_flight} is unanswered"
                if self.in_flight is not None
                else f"{sorted(self.active)} active"
            )
            self.violations[1].append(
                f"step {here[0]}: a response.create ({event_id}) went out while {busy}"
            )
        self.in_flight = len(self.creates)
        if event_id is not None:
            self.create_ids[event_id] = self.in_flight
        self.creates.append(here)

    def _settings(self, session: dict[str, Any]) -> None:
        audio = session.get("audio")
        audio_in = audio.get("input") if isinstance(audio, dict) else None
        if isinstance(audio_in, dict) and "turn_detection" in audio_in:
            self.vad_on = audio_in["turn_detection"] is not None
        audio_out = audio.get("output") if isinstance(audio, dict) else None
        fmt = audio_out.get("format") if isinstance(audio_out, dict) else None
        if isinstance(fmt, dict):
            self.bytes_per_second = 48_000 if fmt.get("type") == "audio/pcm" else 8_000

    # -- server events -----------------------------------------------------------------------

    def _server(self, event: Any, here: Position) -> None:
        if isinstance(event, wire.ResponseCreated):
            response_id = event.response.get("id")
            if not isinstance(response_id, str):
                return
            if event.response.get("conversation_id", "") is None:
                self.out_of_band.add(response_id)
            else:
                self.active.add(response_id)
                self.in_flight = None  # any response.created answers our request
                self.owed = None
        elif isinstance(event, wire.ResponseDone):
            self._response_done(event.response, here)
        elif isinstance(event, wire.ServerError):
            if event.error.code == "conversation_already_has_active_response":
                refused = self.create_ids.get(event.error.event_id or "", self.in_flight)
                if refused is not None:
                    self.refused.add(refused)
                    if refused == self.in_flight:
                        self.in_flight = None
        elif isinstance(event, wire.ResponseFunctionCallArgumentsDone):
            self._call(event.call_id, event.name, event.response_id)
        elif isinstance(
            event,
            wire.ResponseOutputItemDone | wire.ConversationItemDone | wire.ConversationItemAdded,
        ):
            self._item(event)
        elif isinstance(event, wire.InputAudioBufferCommitted):
            self.previous[event.item_id] = event.previous_item_id
            if self.vad_turn and self.vad_on:
                self.owed = event.item_id
            self.vad_turn = False
        elif isinstance(event, wire.InputAudioBufferSpeechStarted):
            self.speaking = True
        elif isinstance(
            event, wire.InputAudioBufferSpeechStopped | wire.InputAudioBufferTimeoutTriggered
        ):
            self.speaking, self.vad_turn = False, True
        elif isinstance(event, wire.ResponseOutputAudioDelta):
            audio = self.audio.get(event.item_id)
            if audio is None:
                audio = self.audio[event.item_id] = AudioFacts(
                    response_id=event.response_id,
                    content_index=event.content_index,
                    nbytes=0,
                    bytes_per_second=self.bytes_per_second,
                )
            audio.nbytes += len(event.delta)

    def _item(
        self,
        event: wire.ResponseOutputItemDone | wire.ConversationItemDone | wire.ConversationItemAdded,
    ) -> None:
        item = event.item
        if not isinstance(event, wire.ResponseOutputItemDone) and isinstance(item.get("id"), str):
            self.previous[item["id"]] = event.previous_item_id
            self.shown.add(item["id"])
        if item.get("type") != "function_call" or not isinstance(item.get("call_id"), str):
            return
        call_id = item["call_id"]
        if item.get("status") == "completed":
            response_id = getattr(event, "response_id", None)
            self._call(call_id, str(item.get("name")), response_id)
        elif item.get("status") == "incomplete":
            self.incomplete_calls.add(call_id)

    def _call(self, call_id: str, name: str, response_id: str | None) -> None:
        if call_id in self.calls:
            return
        self.calls[call_id] = CallFacts(response_id=response_id, name=name)
        if response_id is not None:
            self.response_calls.setdefault(response_id, []).append(call_id)

    def _response_done(self, response: dict[str, Any], here: Position) -> None:
        response_id = response.get("id")
        if not isinstance(response_id, str):
            return
        self.active.discard(response_id)
        if response_id in self.out_of_band:
            return
        self.done[response_id] = str(response.get("status"))
        self._follow_up(response_id, here)

    def _follow_up(self, response_id: str, here: Position) -> None:
        """A response that is over, not cancelled, with every call answered wants one more
        for the calls not followed up yet (a call that came after its response.done, once
        answered, wants one of its own)."""
        calls = [c for c in self.response_calls.get(response_id, ()) if c not in self.followed_up]
        if (
            not calls
            or self.done.get(response_id, "cancelled") == "cancelled"
            or not all(self.calls[c].outputs for c in calls)
        ):
            return
        self.followed_up.update(calls)
        self.requests.append((here, f"the follow-up of the tool calls of {response_id}"))

    # -- what the session answered -----------------------------------------------------------

    def _call_output(self, call_id: str, here: Position) -> None:
        call = self.calls.get(call_id)
        if call is None:
            what = "left incomplete" if call_id in self.incomplete_calls else "never completed"
            self.violations[3].append(
                f"step {here[0]}: a function_call_output for {call_id}, a call the server {what}"
            )
            return
        call.outputs.append(here)
        if len(call.outputs) > 1:
            self.violations[3].append(
                f"step {here[0]}: a second function_call_output for {call_id}"
                f" (the first at step {call.outputs[0][0]})"
            )
        if call.response_id is not None and call.response_id in self.done:
            self._follow_up(call.response_id, here)

    def _truncate(self, event: wire.ConversationItemTruncate, here: Position) -> None:
        audio = self.audio.get(event.item_id)
        where = f"step {here[0]}: truncates {event.item_id}"
        if audio is None:
            self.violations[5].append(f"{where}, which has received no assistant audio")
        elif audio.response_id in self.out_of_band:
            self.violations[5].append(f"{where}, an item of an out-of-band response")
        elif event.content_index != audio.content_index:
            self.violations[5].append(
                f"{where} at content {event.content_index}; its audio is content"
                f" {audio.content_index}"
            )
        elif event.audio_end_ms > audio.ms:
            self.violations[5].append(
                f"{where} at {event.audio_end_ms} ms, past the {audio.ms:.1f} ms received"
            )

    def _handoff(self, step: Step, here: Position, event: events.HandoffEvent) -> None:
        if self.offline:  # nothing is sent now: the replay must carry it (see _connection)
            self.offline_handoffs.append(event.call_id)
            return
        where = f"step {here[0]}: the handoff of {event.call_id} to {event.to_agent.name!r}"
        outputs = step.outputs
        updates = [
            o for o in outputs[: here[1]] if isinstance(o, wire.SessionUpdate | events.HandoffEvent)
        ]
        update = updates[-1] if updates else None
        if not isinstance(update, wire.SessionUpdate):
            self.violations[4].append(f"{where} has no session.update before it")
        else:
            sent = {t.get("name") for t in update.session.get("tools") or ()}
            wanted = {_tool_name(t) for t in event.to_agent.all_tools()}
            if sent != wanted:
                self.violations[4].append(
                    f"{where}: its session.update offers {sorted(map(str, sent))}, the agent has"
                    f" {sorted(wanted)}"
                )
        if not any(
            isinstance(o, wire.ConversationItemCreate) and o.item.get("call_id") == event.call_id
            for o in outputs[here[1] :]
        ):
            self.violations[4].append(f"{where} is not followed by its function_call_output")
        later = [o for o in outputs[here[1] + 1 :] if isinstance(o, events.HandoffEvent)]
        if not later and step.agent is not event.to_agent:
            self.violations[4].append(f"{where}: afterwards current_agent is {step.agent.name!r}")

    def _tool_end(self, step: Step, here: Position, event: events.ToolEndEvent) -> None:
        if not isinstance(event.tool, Handoff) or event.failed:
            return
        if not any(
            isinstance(o, events.HandoffEvent) and o.call_id == event.call_id
            for o in step.outputs[: here[1]]
        ):
            self.violations[4].append(
                f"step {here[0]}: the handoff call {event.call_id} succeeded without a"
                " HandoffEvent before its output"
            )
