"""The Session's agents, tools, handoffs and guardrails (see ``session`` for the whole)."""

from __future__ import annotations

import json
from typing import Any

import attrs

from . import effects, events, inputs, wire
from ._guardrails import GuardrailRun
from ._session_state import SessionState
from ._tool_calls import Call, CallState
from .agent import Agent, FunctionTool, Handoff, ToolArgumentsError
from .errors import LocalProtocolError
from .items import (
    FunctionCall,
    function_call_output,
    item_to_wire,
    user_text,
)

__all__ = ["SessionTools"]

_HANDOFF_OUTPUT = '{{"assistant": {name}}}'


class SessionTools(SessionState):
    """Agents starting (instructions resolved), function calls with their one output each,
    handoffs, and output guardrails."""

    def _start_agent(self, agent: Agent, handoff: Call | None) -> None:
        """Make ``agent`` current once its instructions are known (asking for them if need be)."""
        if agent.instructions_are_dynamic:
            request_id = self._ids()
            self._awaiting[request_id] = (agent, handoff)
            if self._state == "starting" and handoff is None:
                self._start_request = request_id  # the start waits for these
            self._emit(
                effects.ResolveInstructions(
                    request_id=request_id, agent=agent, context=self.context
                )
            )
            return
        self._agent_ready(agent, agent.static_instructions or "", handoff)

    def _on_instructions(self, event: inputs.InstructionsResolved) -> None:
        pending = self._awaiting.pop(event.request_id, None)
        if pending is None:
            raise LocalProtocolError(f"no ResolveInstructions with request_id {event.request_id!r}")
        if self._state == "closed":
            return
        agent, handoff = pending
        if event.error is not None:
            self._emit(events.ErrorEvent(code="instructions_failed", message=event.error))
        self._agent_ready(agent, event.instructions, handoff)

    def _agent_ready(self, agent: Agent, instructions: str, handoff: Call | None) -> None:
        previous = self._agent
        self._agent, self._instructions = agent, instructions
        self._active_guardrails = (*agent.output_guardrails, *self.config.output_guardrails)
        first = self._state == "starting"
        if self._state != "reconnecting":  # else the replay sends the agent's update
            self._send_session_update(first=first)
        if handoff is not None:
            self._emit(
                events.HandoffEvent(from_agent=previous, to_agent=agent, call_id=handoff.call_id)
            )
            self._give_output(handoff, _HANDOFF_OUTPUT.format(name=json.dumps(agent.name)))
        if first:
            self._start_request = None
            self._connection_ready()

    # -- tools and handoffs -----------------------------------------------------------------

    def _function_call(
        self, call_id: str, name: str, arguments: str, response_id: str | None
    ) -> None:
        if self._calls.seen(call_id):
            return  # announced twice by the server, or repeated: run nothing twice
        agent = self._agent
        tool = agent.find_tool(name)
        state = CallState.HANDOFF if isinstance(tool, Handoff) else CallState.RUNNING
        call = Call(
            call_id=call_id,
            name=name,
            arguments=arguments,
            response_id=response_id,
            agent=agent,
            tool=tool,
            state=state,
        )
        full = self._calls.full
        self._calls.add(call)
        if full:
            self._give_output(
                call,
                f"Error: too many tool calls are still waiting for their output; {name!r} was"
                " not run.",
                failed=True,
            )
            return
        if tool is None:
            self._give_output(call, f"Error: there is no tool named {name!r}.", failed=True)
            return
        try:
            parsed = tool.parse_arguments(arguments)
        except ToolArgumentsError as exc:
            self._give_output(call, f"Error: invalid arguments for {name!r}: {exc}", failed=True)
            return
        if isinstance(tool, Handoff):
            if tool.on_handoff is None:
                self._start_agent(tool.agent, handoff=call)
            else:
                self._run(call, tool, parsed, timeout=self.config.tool_timeout_s)
            return
        call.parsed = parsed
        if tool.needs_approval:
            call.state = CallState.AWAITING_APPROVAL
            self._emit(
                events.ToolApprovalRequiredEvent(
                    agent=agent, tool=tool, call_id=call_id, arguments=arguments
                )
            )
            return
        self._emit(
            events.ToolStartEvent(agent=agent, tool=tool, call_id=call_id, arguments=arguments)
        )
        timeout = tool.timeout_s if tool.timeout_s is not None else self.config.tool_timeout_s
        self._run(call, tool, parsed, timeout=timeout)

    def _run(
        self,
        call: Call,
        tool: FunctionTool | Handoff,
        parsed: dict[str, Any],
        *,
        timeout: float | None,
    ) -> None:
        if timeout is not None:
            call.deadline = self._now + timeout
            self._calls.timed(call)
        self._emit(
            effects.CallTool(
                call_id=call.call_id,
                tool=tool,
                arguments=parsed,
                agent=call.agent,
                context=self.context,
                timeout_s=timeout,
            )
        )

    def _on_tool_result(self, event: inputs.ToolResult) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            raise LocalProtocolError(f"ToolResult for unknown call_id {event.call_id!r}")
        if call.state is CallState.DONE or self._state == "closed":
            return  # timed out already, or the session ended: the model has its answer
        if call.state is CallState.AWAITING_APPROVAL:
            raise LocalProtocolError(f"call {event.call_id!r} waits for approval, not a result")
        if isinstance(call.tool, Handoff):
            if event.failed:
                self._give_output(call, event.output, failed=True)
            else:
                call.deadline = None
                self._start_agent(call.tool.agent, handoff=call)
            return
        self._give_output(call, event.output, failed=event.failed)

    def _on_approve(self, event: inputs.ApproveTool) -> None:
        call = self._awaiting_approval(event.call_id)
        assert isinstance(call.tool, FunctionTool)
        call.state = CallState.RUNNING
        self._emit(
            events.ToolStartEvent(
                agent=call.agent, tool=call.tool, call_id=call.call_id, arguments=call.arguments
            )
        )
        timeout = (
            call.tool.timeout_s if call.tool.timeout_s is not None else self.config.tool_timeout_s
        )
        self._run(call, call.tool, call.parsed, timeout=timeout)

    def _on_reject(self, event: inputs.RejectTool) -> None:
        call = self._awaiting_approval(event.call_id)
        message = event.message or f"The user rejected the call of {call.name!r}."
        self._give_output(call, message, failed=True)

    def _awaiting_approval(self, call_id: str) -> Call:
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.AWAITING_APPROVAL:
            raise LocalProtocolError(f"no tool call {call_id!r} waits for approval")
        if self._state == "closed":
            raise LocalProtocolError(f"cannot answer the approval: {self._closed_why}")
        return call

    def _give_output(self, call: Call, output: str, *, failed: bool = False) -> None:
        """The call's one output: to subscribers, to the model, then the follow-up if due."""
        call.output = output
        self._emit(
            events.ToolEndEvent(
                agent=call.agent,
                tool=call.tool,
                call_id=call.call_id,
                output=output,
                failed=failed,
            )
        )
        answer = item_to_wire(function_call_output(call.call_id, output))
        held = self._held_calls.pop(call.call_id, None)
        if held is None:
            self._emit(wire.ConversationItemCreate(item=answer))
        else:
            # A replay kept the call back (no call without its output): both go now, at
            # the end, where the server puts an output; the history moves the call where
            # the server's echo says it went (``_placing``). Put back in its old place, it
            # could land before items the server has and the session has not seen yet.
            item = self.history.get(held)
            if isinstance(item, FunctionCall):
                self._placing.add(held)
                self._emit(
                    wire.ConversationItemCreate(item=item_to_wire(attrs.evolve(item, status=None)))
                )
            self._emit(wire.ConversationItemCreate(previous_item_id=held, item=answer))
        due = self._calls.finish(call)
        if due is not None or call.response_id is None:
            self._request_response()
        self._release_end(call.response_id)

    def _on_timer(self, event: inputs.TimerFired) -> None:
        self._now = event.now
        for call in self._calls.expired(event.now):
            self._give_output(
                call,
                f"Error: the tool {call.name!r} did not answer in time and was abandoned.",
                failed=True,
            )

    # -- guardrails -------------------------------------------------------------------------

    def _check_text(self, response_id: str, item_id: str, text: str | None) -> None:
        if text is None or response_id in self._tripped:
            return
        guardrails = self._active_guardrails
        if not guardrails or self._guardrails.full:
            return
        run_id = self._ids()
        self._guardrails.started(
            run_id, GuardrailRun(response_id=response_id, item_id=item_id, text=text)
        )
        self._emit(
            effects.RunGuardrails(
                run_id=run_id,
                response_id=response_id,
                item_id=item_id,
                text=text,
                guardrails=guardrails,
                agent=self._agent,
                context=self.context,
            )
        )

    def _on_guardrail_result(self, event: inputs.GuardrailResult) -> None:
        run = self._guardrails.runs.pop(event.run_id, None)
        if run is None:
            raise LocalProtocolError(f"no RunGuardrails with run_id {event.run_id!r}")
        if self._state == "closed":
            return
        if event.tripped and run.response_id not in self._tripped:
            self._trip(run, event)
        self._release_end(run.response_id)

    def _trip(self, run: GuardrailRun, event: inputs.GuardrailResult) -> None:
        self._tripped.add(run.response_id)
        self._emit(
            events.GuardrailTrippedEvent(
                guardrails=event.tripped,
                output_info=event.output_info,
                response_id=run.response_id,
                item_id=run.item_id,
                text=run.text,
            )
        )
        self._interrupt(cancel=True, only=run.response_id)
        notice = item_to_wire(user_text(f"guardrail triggered: {', '.join(event.tripped)}"))
        self._created(notice)
        self._emit(wire.ConversationItemCreate(item=notice))
        self._request_response()

    # -- the end of a response --------------------------------------------------------------

    def _end_turn(self, end: events.AgentEndEvent) -> None:
        """``AgentEndEvent``, held while its response still waits for guardrail verdicts or
        (wanting no follow-up) for its calls' outputs: what those bring (a trip's notice
        and its response, the tool ends) would otherwise come after the end with nothing to
        announce it, and whoever waits for an end with ``busy`` False would miss it."""
        if self._holds_end(end.response_id):
            self._held_ends[end.response_id] = end
        else:
            self._emit(end)

    def _release_end(self, response_id: str | None) -> None:
        if response_id is None or response_id not in self._held_ends:
            return
        if not self._holds_end(response_id):
            end = self._held_ends.pop(response_id)
            assert end is not None
            self._emit(end)

    def _holds_end(self, response_id: str) -> bool:
        return self._guardrails.awaiting(response_id) or self._calls.owe_unfollowed(response_id)
