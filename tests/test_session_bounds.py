"""A hostile server cannot grow the Session's memory: everything kept per server id is bounded.

Each test plays a server that names ever new responses, items or calls (and never finishes
them, or finishes them out of order), then walks every container the session holds, helpers
included, and checks that none grew past the documented bounds (docs/session.md, "Bounds",
gives the memory measured with 200,000 such events). These runs are small enough to stay fast,
and well past every bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from realtime_sansio.protocol import (
    Agent,
    GuardrailsSettings,
    RunConfig,
    effects,
    events,
    inputs,
    output_guardrail,
)
from realtime_sansio.protocol._guardrails import MAX_OUTSTANDING_RUNS
from realtime_sansio.protocol._recent import MAX_TRACKED_RESPONSES, Recent, RecentMap
from realtime_sansio.protocol._tool_calls import MAX_PENDING_CALLS, MAX_REMEMBERED_CALLS
from realtime_sansio.protocol.agent import FunctionTool, Handoff, OutputGuardrail
from realtime_sansio.protocol.history import History
from realtime_sansio.protocol.session import Session
from session_helpers import (
    agent,
    args_done,
    audio_delta,
    created,
    creates,
    done,
    get_weather,
    of_type,
    outputs_given,
    text_delta,
    tool,
)

N = 1_000
"""Hostile events per test: far past every bound, yet quick."""

_SKIPPED = (Agent, FunctionTool, Handoff, OutputGuardrail, RunConfig, History)


def _sized(obj: Any) -> int | None:
    if isinstance(obj, (dict, set, frozenset, list, tuple, Recent, RecentMap)):
        return len(obj)
    try:
        return len(obj) if type(obj).__module__ == "collections" else None
    except TypeError:
        return None


def containers(
    obj: Any, path: str = "session", seen: set[int] | None = None
) -> Iterator[tuple[str, int]]:
    """Every container reachable from ``obj`` through the library's own objects, with its
    size: the session's dicts, the helpers' maps, and what their values hold."""
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, (str, bytes, _SKIPPED)):
        return
    seen.add(id(obj))
    size = _sized(obj)
    if size is not None:
        yield path, size
        if isinstance(obj, (dict, RecentMap)):
            members: Any = list(obj.values())
        elif isinstance(obj, (set, frozenset, Recent)):
            members = []
        else:
            members = list(obj)
        for index, member in enumerate(members[:8]):  # a sample: sizes of the values
            yield from containers(member, f"{path}[{index}]", seen)
        return
    if not type(obj).__module__.startswith("realtime_sansio.protocol"):
        return
    names = list(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        names += list(getattr(cls, "__slots__", ()))
    for name in names:
        if name.startswith("__") or not hasattr(obj, name):
            continue
        value = getattr(obj, name)
        if callable(value) and not isinstance(value, (dict, RecentMap)):
            continue
        yield from containers(value, f"{path}.{name}", seen)


def largest(session: Session) -> tuple[int, str]:
    return max((size, path) for path, size in containers(session))


def _started(the_agent: Agent | None = None, config: RunConfig | None = None) -> Session:
    # The bare Session: the oracle-checking one of session_helpers is too slow for N events.
    session = Session(the_agent or agent(tools=[get_weather]), config=config)
    session.handle(inputs.Connected())
    return session


# -- responses that never finish ---------------------------------------------------------------


def test_responses_created_without_their_done_are_forgotten_past_the_bound() -> None:
    session = _started()
    for n in range(N):
        session.handle(created(f"r{n}"), now=float(n))
    size, path = largest(session)
    assert size <= MAX_TRACKED_RESPONSES, path
    # The newest is still known: its end names the agent that started it.
    (end,) = of_type(session.handle(done(f"r{N - 1}")), events.AgentEndEvent)
    assert end.agent is session.current_agent


def test_calls_of_responses_that_never_finish_are_bounded() -> None:
    session = _started()
    for n in range(N):
        session.handle(created(f"r{n}"))
        session.handle(args_done(f"r{n}", f"call_{n}", "get_weather", '{"city": "Oslo"}'))
        session.handle(inputs.ToolResult(call_id=f"call_{n}", output="Sunny"))
    size, path = largest(session)
    assert size <= MAX_REMEMBERED_CALLS, path
    assert len(session._calls._responses) <= MAX_TRACKED_RESPONSES


# -- calls that arrive after their response.done -----------------------------------------------


def _late_call(session: Session, n: int) -> list[Any]:
    session.handle(created(f"r{n}"))
    session.handle(done(f"r{n}"))
    out = session.handle(args_done(f"r{n}", f"call_{n}", "get_weather", '{"city": "Oslo"}'))
    assert of_type(out, effects.CallTool), "a late call still runs"
    return session.handle(inputs.ToolResult(call_id=f"call_{n}", output="Sunny"))


def test_late_calls_are_bounded() -> None:
    session = _started()
    for n in range(N):
        out = _late_call(session, n)
        session.handle(created(f"follow_{n}"))
        session.handle(done(f"follow_{n}"))
    size, path = largest(session)
    assert size <= MAX_REMEMBERED_CALLS, path
    assert len(session._calls._responses) <= MAX_TRACKED_RESPONSES
    assert len(creates(out)) == 1


def test_a_late_call_gets_its_follow_up_response() -> None:
    session = _started()
    out = _late_call(session, 1)
    assert [o["call_id"] for o in outputs_given(out)] == ["call_1"]
    assert len(creates(out)) == 1  # the request the late call makes is not lost


def test_late_calls_of_one_response_together_get_one_follow_up() -> None:
    session = _started()
    session.handle(created("r1"))
    session.handle(done("r1"))
    session.handle(args_done("r1", "call_a", "get_weather", '{"city": "Oslo"}'))
    session.handle(args_done("r1", "call_b", "get_weather", '{"city": "Rome"}'))
    first = session.handle(inputs.ToolResult(call_id="call_a", output="Sunny"))
    assert creates(first) == []  # call_b still runs
    second = session.handle(inputs.ToolResult(call_id="call_b", output="Rainy"))
    assert len(creates(second)) == 1
    # A straggler after that follow-up is a batch of its own: it gets one more.
    session.handle(created("r2"))
    session.handle(done("r2"))
    session.handle(args_done("r1", "call_c", "get_weather", '{"city": "Bern"}'))
    third = session.handle(inputs.ToolResult(call_id="call_c", output="Cold"))
    assert len(creates(third)) == 1


def test_a_late_call_waits_for_the_active_response_before_its_follow_up() -> None:
    session = _started()
    session.handle(created("r1"))
    session.handle(done("r1"))
    session.handle(created("r2"))  # another response is active (VAD)
    session.handle(args_done("r1", "call_1", "get_weather", '{"city": "Oslo"}'))
    out = session.handle(inputs.ToolResult(call_id="call_1", output="Sunny"))
    assert creates(out) == []  # deferred by the gate, not refused by the server
    assert len(creates(session.handle(done("r2")))) == 1


def test_a_late_call_of_a_cancelled_response_gets_its_output_but_no_follow_up() -> None:
    session = _started()
    session.handle(created("r1"))
    session.handle(done("r1", status="cancelled"))
    session.handle(args_done("r1", "call_1", "get_weather", '{"city": "Oslo"}'))
    out = session.handle(inputs.ToolResult(call_id="call_1", output="Sunny"))
    assert len(outputs_given(out)) == 1
    assert creates(out) == []


# -- calls that are never answered ---------------------------------------------------------------


def test_calls_awaiting_an_answer_are_bounded_and_the_excess_answered_at_once() -> None:
    approve = tool("send", needs_approval=True)
    session = _started(agent(tools=[approve]))
    session.handle(created("r1"))
    refused = []
    for n in range(MAX_PENDING_CALLS + 10):
        out = session.handle(args_done("r1", f"call_{n}", "send", '{"n": 1}'))
        refused += outputs_given(out)
    excess = range(MAX_PENDING_CALLS, MAX_PENDING_CALLS + 10)
    assert [o["call_id"] for o in refused] == [f"call_{n}" for n in excess]
    assert all("too many" in o["output"] for o in refused)
    # The ones kept still wait for their approval, and can have it.
    out = session.handle(inputs.RejectTool(call_id="call_0"))
    assert [o["call_id"] for o in outputs_given(out)] == ["call_0"]


def test_finished_calls_are_forgotten_even_behind_one_that_never_ends() -> None:
    # The oldest call waits for an approval that never comes; the finished ones after it
    # must still be forgotten past the bound.
    session = _started(agent(tools=[get_weather, tool("send", needs_approval=True)]))
    session.handle(created("r0"))
    session.handle(args_done("r0", "call_stuck", "send", '{"n": 1}'))
    for n in range(MAX_REMEMBERED_CALLS + 100):
        session.handle(args_done("r0", f"call_{n}", "get_weather", '{"city": "Oslo"}'))
        session.handle(inputs.ToolResult(call_id=f"call_{n}", output="Sunny"))
    size, path = largest(session)
    assert size <= MAX_REMEMBERED_CALLS, path


# -- items the server names and never finishes ---------------------------------------------------


def test_text_of_items_never_done_is_bounded_under_guardrails() -> None:
    @output_guardrail
    def never_trips(context: Any, the_agent: Agent, text: str) -> Any:
        raise AssertionError("the core calls no user code")

    config = RunConfig(
        output_guardrails=[never_trips],
        guardrails_settings=GuardrailsSettings(debounce_text_length=1000),
    )
    session = _started(config=config)
    session.handle(created("r1"))
    for n in range(N):
        session.handle(text_delta("r1", f"item_{n}", "word "))
    size, path = largest(session)
    assert size <= MAX_TRACKED_RESPONSES, path


def test_guardrail_runs_past_the_bound_do_not_make_a_late_verdict_an_error() -> None:
    @output_guardrail
    def slow(context: Any, the_agent: Agent, text: str) -> Any:
        raise AssertionError("the core calls no user code")

    config = RunConfig(
        output_guardrails=[slow], guardrails_settings=GuardrailsSettings(debounce_text_length=1)
    )
    session = _started(config=config)
    session.handle(created("r1"))
    runs = []
    for n in range(N):
        out = session.handle(text_delta("r1", f"item_{n}", "word"))
        runs += of_type(out, effects.RunGuardrails)
    assert len(runs) == MAX_OUTSTANDING_RUNS  # the checks past the bound were skipped
    size, path = largest(session)
    assert size <= MAX_OUTSTANDING_RUNS, path
    # Every run that went out can be answered, in any order, without an error.
    for run in reversed(runs):
        session.handle(inputs.GuardrailResult(run_id=run.run_id))


def test_audio_of_ever_new_items_is_bounded() -> None:
    session = _started()
    for n in range(N):
        session.handle(created(f"r{n}"), now=0.0)
        session.handle(audio_delta(f"r{n}", f"item_{n}", 480), now=0.0)
        session.handle(inputs.Interrupt(), now=0.001)
    size, path = largest(session)
    assert size <= MAX_TRACKED_RESPONSES, path
