"""``Harness``: a Session and a ServerModel wired together, every moving part in the caller's hands.

Between the two sit two queues of events in flight, so the session can send a
``response.create`` while the server, not having read it yet, starts a response of its own: the
races of a real connection, played in any order the caller (or hypothesis) picks. The harness
also plays the driver: it holds the effects the session asked for until the caller answers
them, and keeps a virtual clock that only moves when told to, firing the session's timer when
it comes due. It never sleeps and calls no user code: tool results, approvals and guardrail
verdicts are whatever the caller says they are.

``settle()`` brings the run to rest (everything delivered, every response streamed to its end,
every effect answered with a plain success, timers fired) for the invariants that only hold
then.

The connection can drop (``drop``: what was in flight is lost, the server with it) and the
session ask for a new one (``effects.OpenConnection``, kept in ``open_requests``), which
``reconnect`` opens to a fresh server from ``server_factory`` (a new conversation, as the
real server gives; ids that never repeat across servers) or ``fail_connect`` refuses. A
recycle's request is answered the same way, the old server still running until the switch.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Container
from typing import Any

from .. import effects, events, inputs, wire
from ..agent import Agent
from ..config import RunConfig
from ..errors import LocalProtocolError
from ..inputs import AnyInput
from ..session import Output, Session
from .server import ServerModel, counter_ids
from .transcript import Transcript

__all__ = ["Harness"]

ClientOut = wire.ClientEvent | wire.RawClientEvent


class Harness:
    """A Session talking to a ServerModel through in-flight queues (see the module docstring).

    ``id_factory`` makes the session's id factory (called once per session, so a replay gets a
    fresh one); ``None`` uses the session's default counter. ``server_factory`` makes the
    server of each new connection (by default a ``ServerModel`` whose ids go on from the
    previous ones'); ``server`` is the first one (default: made by the factory).
    """

    def __init__(
        self,
        agent: Agent,
        *,
        config: RunConfig | None = None,
        context: Any = None,
        server: ServerModel | None = None,
        id_factory: Callable[[], Callable[[], str]] | None = None,
        server_factory: Callable[[], ServerModel] | None = None,
    ) -> None:
        if server_factory is None:
            ids = counter_ids()
            server_factory = functools.partial(ServerModel, id_factory=ids)
        self.server_factory = server_factory
        self.server = server if server is not None else server_factory()
        self.servers = [self.server]
        """Every connection's server, in order (``server`` is the last)."""
        self.connected = True
        self.connected_at = 0.0
        self.open_requests: list[effects.OpenConnection] = []
        """``OpenConnection`` effects not answered yet (one at most)."""
        self.last_attempt = 0
        """The ``attempt`` of the last ``OpenConnection`` answered."""

        def make_session() -> Session:
            ids = None if id_factory is None else id_factory()
            return Session(agent, config=config, context=context, id_factory=ids)

        self.transcript = Transcript(make_session, server=self.server)
        self.clock = 0.0
        self.to_server: deque[ClientOut] = deque()
        self.to_client: deque[wire.ServerEvent] = deque()
        self.tool_calls: dict[str, effects.CallTool] = {}
        """``CallTool`` effects the session still waits for, by call id."""
        self.abandoned_calls: dict[str, effects.CallTool] = {}
        """``CallTool`` effects the session gave up on (timed out): an answer now comes late."""
        self.approvals: dict[str, events.ToolApprovalRequiredEvent] = {}
        self.guardrail_runs: dict[str, effects.RunGuardrails] = {}
        self.instruction_requests: dict[str, effects.ResolveInstructions] = {}
        self.audio_received: dict[str, int] = {}
        """Bytes of assistant audio delivered to the application, by item id."""
        self.audio_interrupted: set[str] = set()
        """Items the session told the application to stop playing."""
        self.server_log: list[wire.ServerEvent] = []
        """Every event the server model produced, in order (delivered or not)."""
        self.server_does(self.server.connect())
        self.handle(inputs.Connected())

    @property
    def session(self) -> Session:
        return self.transcript.session

    # -- the session side ----------------------------------------------------------------------

    def handle(self, event: AnyInput) -> list[Output]:
        """Give the session an input at the current clock reading; route what comes out."""
        outputs = self.transcript.handle(event, now=self.clock)
        for output in outputs:
            if isinstance(output, wire.ClientEventBase | wire.RawClientEvent):
                self.to_server.append(output)
            elif isinstance(output, effects.CallTool):
                self.tool_calls[output.call_id] = output
            elif isinstance(output, effects.RunGuardrails):
                self.guardrail_runs[output.run_id] = output
            elif isinstance(output, effects.ResolveInstructions):
                self.instruction_requests[output.request_id] = output
            elif isinstance(output, effects.OpenConnection):
                self.open_requests.append(output)
            elif isinstance(output, events.ToolEndEvent) and output.call_id in self.tool_calls:
                # Ended without our answer: the session's timer abandoned it.
                self.abandoned_calls[output.call_id] = self.tool_calls.pop(output.call_id)
            elif isinstance(output, events.ToolApprovalRequiredEvent):
                self.approvals[output.call_id] = output
            elif isinstance(output, events.AudioInterruptedEvent):
                self.audio_interrupted.add(output.item_id)
            elif isinstance(output, events.AudioEvent):
                self.audio_received[output.item_id] = self.audio_received.get(
                    output.item_id, 0
                ) + len(output.data)
        return outputs

    def answer_tool(self, call_id: str, output: str = "ok", *, failed: bool = False) -> None:
        """Answer a ``CallTool``, in time or late (the session ignores a late answer)."""
        if self.tool_calls.pop(call_id, None) is None:
            self.abandoned_calls.pop(call_id)
        self.handle(inputs.ToolResult(call_id=call_id, output=output, failed=failed))

    def approve(self, call_id: str) -> None:
        self.approvals.pop(call_id)
        self.handle(inputs.ApproveTool(call_id=call_id))

    def reject(self, call_id: str, message: str | None = None) -> None:
        self.approvals.pop(call_id)
        self.handle(inputs.RejectTool(call_id=call_id, message=message))

    def answer_guardrails(self, run_id: str, tripped: tuple[str, ...] = ()) -> None:
        self.guardrail_runs.pop(run_id)
        self.handle(inputs.GuardrailResult(run_id=run_id, tripped=tripped))

    def resolve_instructions(self, request_id: str, instructions: str | None = None) -> None:
        request = self.instruction_requests.pop(request_id)
        text = f"You are {request.agent.name}." if instructions is None else instructions
        self.handle(inputs.InstructionsResolved(request_id=request_id, instructions=text))

    def advance(self, seconds: float) -> None:
        """Move the virtual clock; fire the session's timer if it comes due."""
        if seconds < 0:
            raise LocalProtocolError("the clock only moves forward")
        self.clock += seconds
        deadline = self.session.get_timer()
        if deadline is not None and deadline <= self.clock:
            self.handle(inputs.TimerFired(now=self.clock))

    @property
    def audio_playing(self) -> list[str]:
        """Items with audio delivered and not interrupted, in id order."""
        return sorted(set(self.audio_received) - self.audio_interrupted)

    def ms_received(self, item_id: str) -> float:
        """Milliseconds of an item's audio delivered to the application."""
        rate = self.server.session["audio"]["output"]["format"]
        per_second = 48_000 if rate.get("type") == "audio/pcm" else 8_000
        return self.audio_received.get(item_id, 0) * 1000 / per_second

    # -- the wire ------------------------------------------------------------------------------

    def deliver_to_server(self, count: int | None = None) -> int:
        """The server reads ``count`` client events in flight (all by default)."""
        delivered = 0
        while self.to_server and (count is None or delivered < count):
            self.server_does(self.server.receive(self.to_server.popleft()))
            delivered += 1
        return delivered

    def deliver_to_client(self, count: int | None = None, *, as_frames: bool = False) -> int:
        """The session reads ``count`` server events in flight (all by default); as text
        frames, encoded with the GA codec, when ``as_frames``."""
        delivered = 0
        while self.to_client and (count is None or delivered < count):
            event = self.to_client.popleft()
            self.handle(wire.encode_server_event(event) if as_frames else event)
            delivered += 1
        return delivered

    def server_does(self, produced: list[wire.ServerEvent]) -> None:
        """Put what the server model produced (``step``, VAD...) in flight to the session
        (nothing, once the connection is gone)."""
        if not self.connected:
            return
        self.server_log += produced
        self.to_client.extend(produced)

    # -- the connection ------------------------------------------------------------------------

    def drop(self, code: int | None = 1006, reason: str = "dropped") -> None:
        """The connection ends: whatever was in flight, both ways, is lost."""
        self.to_server.clear()
        self.to_client.clear()
        self.connected = False
        self.handle(inputs.ConnectionLost(code=code, reason=reason))

    def reconnect(self) -> None:
        """Answer the session's ``OpenConnection``: a fresh server, a new conversation. A
        recycle's old server first gets what was already sent to it, then is left."""
        self.last_attempt = self.open_requests.pop(0).attempt
        if self.connected:
            self.deliver_to_server()
            self.to_client.clear()
        self.server = self.server_factory()
        self.servers.append(self.server)
        self.transcript.server = self.server
        self.connected, self.connected_at = True, self.clock
        self.server_does(self.server.connect())
        self.handle(inputs.Connected())
        # What the session sends first on the new connection (the agent's update, the
        # replay) reaches the server before anything can happen there: its VAD hears audio
        # the session sends after them.
        self.deliver_to_server()

    def fail_connect(self, status: int | None = None, *, permanent: bool = False) -> None:
        """Answer the session's ``OpenConnection`` with a failure."""
        self.last_attempt = self.open_requests.pop(0).attempt
        failure = inputs.ConnectFailed(reason="refused", status=status, permanent=permanent)
        self.handle(failure)

    # -- rest ----------------------------------------------------------------------------------

    @property
    def pending_effects(self) -> int:
        return (
            len(self.tool_calls)
            + len(self.approvals)
            + len(self.guardrail_runs)
            + len(self.instruction_requests)
        )

    @property
    def settled(self) -> bool:
        """Nothing in flight, nothing streaming, nothing to answer, no timer set."""
        return (
            self.connected
            and not self.open_requests
            and not self.to_server
            and not self.to_client
            and not self.server.active_response_ids
            and not self.server.speaking
            and not self.pending_effects
            and self._deadline() is None
        )

    def _deadline(self) -> float | None:
        """The session's timer while work is pending (a tool's timeout); at rest, its only
        timer is the far moment to recycle the connection, which is no work to wait for."""
        return self.session.get_timer() if self.session.busy else None

    def settle(self, *, never_answer: Container[str] = (), max_rounds: int = 1000) -> None:
        """Run to rest: deliver, stream, answer every effect with a success, fire timers.

        Calls of the tools named in ``never_answer`` are left to their timeout.
        """
        for _ in range(max_rounds):
            if self.settled or self.session.closed:
                return
            if self.open_requests:
                self.reconnect()
            elif self.to_server:
                self.deliver_to_server()
            elif self.to_client:
                self.deliver_to_client()
            elif self.server.speaking:
                self.server_does(self.server.speech_stopped())
            elif self.server.active_response_ids:
                self.server_does(self.server.drain())
            elif self._answer_everything(never_answer):
                pass
            else:
                deadline = self._deadline()
                if deadline is None:
                    break
                self.advance(max(0.0, deadline - self.clock))
        raise AssertionError(
            f"the run did not settle in {max_rounds} rounds: {len(self.to_server)} client and"
            f" {len(self.to_client)} server events in flight, responses"
            f" {self.server.active_response_ids} active, {self.pending_effects} effects open"
        )

    def _answer_everything(self, never_answer: Container[str]) -> bool:
        """Answer every open effect with a success; whether there was any to answer."""
        calls = [c for c, call in self.tool_calls.items() if call.name not in never_answer]
        others = [*self.approvals, *self.guardrail_runs, *self.instruction_requests]
        for call_id in calls:
            self.answer_tool(call_id)
        for call_id in list(self.approvals):
            self.approve(call_id)
        for run_id in list(self.guardrail_runs):
            self.answer_guardrails(run_id)
        for request_id in list(self.instruction_requests):
            self.resolve_instructions(request_id)
        return bool(calls or others)
