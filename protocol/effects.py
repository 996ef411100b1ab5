"""What the Session asks its driver to do: the work that needs user code or I/O.

Each effect names what the driver must send back (``CallTool`` -> ``inputs.ToolResult``,
``RunGuardrails`` -> ``inputs.GuardrailResult``, ``ResolveInstructions`` ->
``inputs.InstructionsResolved``). The core never calls user code itself: that is how it stays
deterministic, and how a tool that hangs can never hang the protocol.
"""

from __future__ import annotations

from typing import Any, Literal

import attrs

from .agent import Agent, FunctionTool, Handoff, OutputGuardrail

__all__ = [
    "CallTool",
    "CloseConnection",
    "Effect",
    "OpenConnection",
    "ResolveInstructions",
    "RunGuardrails",
]


@attrs.frozen(kw_only=True)
class CallTool:
    """Run a function tool (or a handoff's ``on_handoff`` callback) and answer ``ToolResult``.

    ``arguments`` are already parsed and checked against the tool's schema. ``timeout_s`` is
    informational: the session enforces it on its own timer and answers the model with a
    timeout error itself; a late ``ToolResult`` is then ignored.
    """

    call_id: str
    tool: FunctionTool | Handoff
    arguments: dict[str, Any]
    agent: Agent
    context: Any = attrs.field(repr=False)
    timeout_s: float | None = None

    @property
    def name(self) -> str:
        return self.tool.name if isinstance(self.tool, FunctionTool) else self.tool.tool_name


@attrs.frozen(kw_only=True)
class RunGuardrails:
    """Run the output guardrails on an assistant item's text and answer ``GuardrailResult``."""

    run_id: str
    response_id: str
    item_id: str
    text: str
    guardrails: tuple[OutputGuardrail, ...]
    agent: Agent
    context: Any = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class ResolveInstructions:
    """Call the agent's instructions function with the context; answer ``InstructionsResolved``."""

    request_id: str
    agent: Agent
    context: Any = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class CloseConnection:
    """Close the transport (WebSocket close ``code`` and ``reason``)."""

    code: int = 1000
    reason: str = ""


@attrs.frozen(kw_only=True)
class OpenConnection:
    """Open a new connection to the server and make it the session's; answer
    ``inputs.Connected`` once it is open, or ``inputs.ConnectFailed``.

    ``reason="reconnect"``: the connection dropped. Wait ``delay_s``, plus a random extra of
    up to ``jitter_s`` (the session draws no random numbers), then open. ``"recycle"``: the
    connection is old (``RunConfig.recycle_after_s``) and the session is quiet. Open the new
    one while the old one still runs (no wait), then switch: the session's outputs from
    ``Connected`` on go to the new connection; close the old one (code 1000) and report
    nothing of its end. ``attempt`` counts the attempts of this outage (or recycle) from 1.
    """

    reason: Literal["reconnect", "recycle"]
    attempt: int = 1
    delay_s: float = 0.0
    jitter_s: float = 0.0


Effect = CallTool | RunGuardrails | ResolveInstructions | CloseConnection | OpenConnection
