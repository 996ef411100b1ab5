"""Hypothesis strategies for Realtime conversations, and ``SessionMachine``.

``SessionMachine`` drives your ``Agent`` through a real ``Session`` against the ``ServerModel``,
with hypothesis choosing the order of everything: the application's commands, the server's
steps and VAD turns, the delivery of events in flight in both directions (so the races of a
real connection happen), tool results and failures, approvals, guardrail verdicts, timer ticks
on a virtual clock, garbage frames. After every step it checks the invariants
(``invariants``); at the end it lets the run settle and checks the rest, then replays it::

    class MyAgentMachine(SessionMachine):
        agent = my_agent

    TestMyAgent = MyAgentMachine.TestCase

This module needs hypothesis: ``pip install realtime-sansio[testing]``.
"""

from __future__ import annotations

import functools
import json
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

try:
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
except ImportError as exc:  # pragma: no cover - exercised without hypothesis installed
    raise ImportError(
        "realtime_sansio.protocol.testing.strategies needs hypothesis:"
        " pip install realtime-sansio[testing]"
    ) from exc

from .. import inputs, wire
from ..agent import Agent
from ..config import RunConfig, SessionModelSettings, TurnDetectionConfig
from ..errors import RemoteProtocolError
from .harness import Harness
from .invariants import check_all, check_replay
from .scripts import ResponseScript, ScriptAudio, ScriptCall, ScriptOutput, ScriptText
from .server import ServerModel, counter_ids

__all__ = [
    "SESSION_UPDATES",
    "SessionMachine",
    "garbage_frames",
    "json_for_schema",
    "response_event_sequences",
    "response_scripts",
    "tool_arguments",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_TEXT = st.text(string.ascii_letters + string.digits + " .,!?'éü", max_size=60)
_MAX_DEPTH = 3


# -- tool arguments ------------------------------------------------------------------------


def json_for_schema(
    schema: Mapping[str, Any], *, root: Mapping[str, Any] | None = None, depth: int = 0
) -> st.SearchStrategy[Any]:
    """JSON values that conform to ``schema``: the subset of JSON Schema that tool schemas use
    (type, properties, required, additionalProperties, items, enum, const, anyOf, $ref)."""
    root = schema if root is None else root
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for key in ref[2:].split("/"):
            target = target.get(key, {})
        return json_for_schema(target, root=root, depth=depth)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    if "anyOf" in schema:
        return st.one_of([json_for_schema(b, root=root, depth=depth) for b in schema["anyOf"]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(
            [json_for_schema({**schema, "type": k}, root=root, depth=depth) for k in kind]
        )
    deeper = depth + 1
    if kind == "object":
        properties = schema.get("properties", {})
        required = [name for name in schema.get("required", ()) if name in properties]
        optional = {n: json_for_schema(s, root=root, depth=deeper) for n, s in properties.items()}
        fixed = st.fixed_dictionaries(
            {name: optional.pop(name) for name in required}, optional=optional
        )
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping) and depth < _MAX_DEPTH:
            more = st.dictionaries(
                st.text(string.ascii_lowercase, min_size=1, max_size=5),
                json_for_schema(extra, root=root, depth=deeper),
                max_size=2,
            )
            return st.tuples(more, fixed).map(lambda pair: {**pair[0], **pair[1]})
        return fixed
    if kind == "array":
        items = schema.get("items", {})
        if depth >= _MAX_DEPTH or not isinstance(items, Mapping):
            return st.just([])
        return st.lists(json_for_schema(items, root=root, depth=deeper), max_size=2)
    scalars: dict[str, st.SearchStrategy[Any]] = {
        "string": _TEXT,
        "integer": st.integers(-1000, 1000),
        "number": st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
        "boolean": st.booleans(),
        "null": st.none(),
    }
    return scalars.get(str(kind), st.none())


def tool_arguments(tool: Mapping[str, Any]) -> st.SearchStrategy[str]:
    """The JSON arguments of a call of ``tool`` (a GA tool object): mostly valid, sometimes
    not JSON at all or not what the schema asks."""
    schema = tool.get("parameters")
    valid = json_for_schema(schema if isinstance(schema, Mapping) else {"type": "object"})
    return st.one_of(
        valid.map(lambda value: json.dumps(value, ensure_ascii=False)),
        valid.map(lambda value: json.dumps(value, ensure_ascii=False)),
        st.sampled_from(['{"city": ', "[]", '{"unexpected": true}', "not json", ""]),
    )


# -- scripts and server events -------------------------------------------------------------


def _outputs(
    tools: Sequence[Mapping[str, Any]], calls: bool, audio: bool
) -> st.SearchStrategy[ScriptOutput]:
    text = st.builds(ScriptText, text=_TEXT, chunk=st.integers(1, 40))
    speech = st.builds(
        ScriptAudio,
        transcript=_TEXT,
        duration_ms=st.sampled_from([0, 150, 600, 1500, 4000]),
        chunk_ms=st.sampled_from([20, 40, 100, 240]),
        transcript_chunk=st.integers(1, 40),
    )
    kinds: list[st.SearchStrategy[ScriptOutput]] = [text, speech, speech] if audio else [text]
    if calls:
        named = [t for t in tools if isinstance(t.get("name"), str)]
        call_options = [
            st.builds(ScriptCall, name=st.just(t["name"]), arguments=tool_arguments(t))
            for t in named
        ]
        call_options.append(
            st.builds(ScriptCall, name=st.just("no_such_tool"), arguments=st.just("{}"))
        )
        # Calls weigh double: they lead to the paths that matter most (tools, handoffs).
        kinds += [st.one_of(call_options).flatmap(_with_chunk)] * 2
    return st.one_of(kinds)


def _with_chunk(call: ScriptCall) -> st.SearchStrategy[ScriptCall]:
    return st.integers(1, 24).map(
        lambda chunk: ScriptCall(name=call.name, arguments=call.arguments, chunk=chunk)
    )


def response_scripts(
    tools: Sequence[Mapping[str, Any]] = (),
    *,
    calls: bool = True,
    audio: bool = True,
    failures: bool = True,
) -> st.SearchStrategy[ResponseScript]:
    """Scripts of one response: text and audio replies, calls of ``tools`` (GA tool objects,
    e.g. ``ServerModel.tools``) or of a tool that does not exist, and failures."""
    return st.builds(
        ResponseScript,
        outputs=st.lists(_outputs(tools, calls, audio), max_size=3),
        failure=st.sampled_from([None, None, None, "server_error"]) if failures else st.none(),
    )


def response_event_sequences(
    tools: Sequence[Mapping[str, Any]] = (),
) -> st.SearchStrategy[list[wire.ServerEvent]]:
    """Whole, valid GA server event sequences: a connection's first events, then one to three
    server-made responses streamed to their end by a ``ServerModel``."""

    def play(scripts: list[ResponseScript]) -> list[wire.ServerEvent]:
        server = ServerModel()
        produced = server.connect()
        for script in scripts:
            produced += server.start_response(script)
            produced += server.drain()
        return produced

    return st.lists(response_scripts(tools), min_size=1, max_size=3).map(play)


def _is_garbage(frame: str | bytes) -> bool:
    try:
        return isinstance(wire.decode_server_event(frame), wire.UnknownServerEvent)
    except RemoteProtocolError:
        return True


def garbage_frames() -> st.SearchStrategy[str | bytes]:
    """Frames that are not server events a session could act on: not JSON, not an object,
    no type, a known type with missing or mistyped fields, or a type from the future."""
    known = st.sampled_from(sorted(cls.type for cls in wire.SERVER_EVENT_CLASSES))
    junk = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.just([1, {}]))
    frames: st.SearchStrategy[str | bytes] = st.one_of(
        st.binary(max_size=24),
        st.text(max_size=24),
        st.sampled_from(["null", "[]", "[1, 2]", '"text"', "{}", '{"type": 7}', "{"]),
        known.map(lambda t: json.dumps({"type": t})),
        st.builds(lambda t, v: json.dumps({"type": t, "event_id": v}), known, junk),
        st.builds(
            lambda t, v: json.dumps({"type": t, "event_id": "ev_x", "response_id": v}),
            known,
            junk,
        ),
        st.builds(lambda v: json.dumps({"type": "future.event", "event_id": "ev_y", "x": v}), junk),
    )
    return frames.filter(_is_garbage)


# -- the state machine ---------------------------------------------------------------------


def _guarded(method: _F) -> _F:
    """Mark the machine broken while a rule runs, so that when one fails, teardown does not
    pile a second error on the first."""

    @functools.wraps(method)
    def wrapper(self: SessionMachine, *args: Any, **kwargs: Any) -> Any:
        self.broken = True
        result = method(self, *args, **kwargs)
        self.broken = False
        return result

    return wrapper  # type: ignore[return-value]


def _out_of_band(modality: str) -> dict[str, Any]:
    response = {
        "conversation": "none",
        "output_modalities": [modality],
        "metadata": {"purpose": "classify"},
    }
    return {"type": "response.create", "response": response}


SESSION_UPDATES = (
    SessionModelSettings(speed=1.1),
    SessionModelSettings(max_output_tokens=512),
    SessionModelSettings(turn_detection=None),
    SessionModelSettings(turn_detection=TurnDetectionConfig.server_vad()),
)
"""The ``UpdateSession`` settings ``SessionMachine`` sends by default: harmless changes, and
switches between push-to-talk and server VAD."""

_OTHER_COMMANDS: list[object] = [
    inputs.SendRawEvent(event=wire.ResponseCreate()),
    inputs.ClearAudio(),
    inputs.Interrupt(),
    inputs.Interrupt(force_cancel=True),
    _out_of_band("text"),
    _out_of_band("audio"),
]
_TICKS = [0.02, 0.05, 0.1, 0.25, 1.0, 3.0]


class SessionMachine(RuleBasedStateMachine):
    """Drives ``agent`` through a ``Session`` against the ``ServerModel`` (see the module doc).

    Subclasses set ``agent``, and optionally ``config`` and ``context`` (as given to
    ``Session``), ``failing_tools`` (tool names whose calls are always answered
    ``failed=True``) and ``never_answered_tools`` (names whose calls are never answered: their
    timeout must end them, so they need one).

    What a run may do can be narrowed: ``out_of_band_audio`` (False: out-of-band responses
    answer in text only), ``session_updates`` (the settings of the ``UpdateSession``
    commands), ``quiet_before_speech`` (True: everything in flight is delivered, both ways,
    before the user starts or stops speaking, so no VAD turn races a ``response.create``),
    ``close_cancelled_items`` (see ``ServerModel``), ``late_calls`` (False: the server never
    sends a function call after its response's ``response.done``, ``ServerModel.late_call``),
    ``drops`` (False: the connection never drops; with a ``RunConfig.reconnect`` it drops at
    any moment, the session asks for a new one, which fails a few times or opens to a fresh
    server, and the invariants hold across connections).

    ``harness`` is the run; add your own ``@invariant()`` methods to check more.
    """

    agent: ClassVar[Agent]
    config: ClassVar[RunConfig | None] = None
    context: ClassVar[Any] = None
    failing_tools: ClassVar[frozenset[str]] = frozenset()
    never_answered_tools: ClassVar[frozenset[str]] = frozenset()
    out_of_band_audio: ClassVar[bool] = True
    session_updates: ClassVar[Sequence[SessionModelSettings]] = SESSION_UPDATES
    quiet_before_speech: ClassVar[bool] = False
    close_cancelled_items: ClassVar[bool] = True
    late_calls: ClassVar[bool] = True
    drops: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        agent = getattr(type(self), "agent", None)
        if not isinstance(agent, Agent):
            raise TypeError(
                f"{type(self).__name__} must set the class attribute agent = Agent(...)"
            )
        self.broken = False
        self._data: st.DataObject | None = None
        server_factory = functools.partial(
            ServerModel,
            script_source=self._script,
            close_cancelled_items=type(self).close_cancelled_items,
            id_factory=counter_ids(),
        )
        self.harness = Harness(
            agent,
            config=type(self).config,
            context=type(self).context,
            server_factory=server_factory,
        )
        self._policy = self.harness.session.config.reconnect

    def _script(self, server: ServerModel, out_of_band: bool) -> ResponseScript | None:
        """What a response the server starts now says: drawn by the rule that caused it,
        with the tools the session has declared by then."""
        if self._data is None:
            return None  # settling: the default short reply
        scripts = (
            response_scripts(calls=False, audio=self.out_of_band_audio)
            if out_of_band
            else response_scripts(server.tools)
        )
        return self._data.draw(scripts, label="out-of-band script" if out_of_band else "script")

    def _drawing(self, data: st.DataObject, action: Callable[[], object]) -> None:
        self._data = data
        try:
            action()
        finally:
            self._data = None

    def _quiet(self) -> None:
        harness = self.harness
        while harness.to_server or harness.to_client:
            harness.deliver_to_server()
            harness.deliver_to_client()

    # -- the application ----------------------------------------------------------------------

    @rule(text=_TEXT)
    @_guarded
    def send_message(self, text: str) -> None:
        self.harness.handle(inputs.SendMessage(message=text))

    @rule(ms=st.integers(0, 300), commit=st.booleans())
    @_guarded
    def send_audio(self, ms: int, commit: bool) -> None:
        self.harness.handle(inputs.SendAudio(data=bytes(48 * ms), commit=commit))

    @precondition(lambda self: self.harness.audio_playing)
    @rule(data=st.data(), barge_in=st.booleans())
    @_guarded
    def audio_played(self, data: st.DataObject, barge_in: bool) -> None:
        """The application reports how much of an item it played (a running total, perhaps
        past what it received); the user may barge in right then."""
        item_id = data.draw(st.sampled_from(self.harness.audio_playing))
        received = self.harness.ms_received(item_id)
        share = data.draw(st.sampled_from([0.0, 0.25, 0.5, 0.9, 1.0, 1.2]), label="share")
        ms = received * share
        self.harness.handle(inputs.AudioPlayed(item_id=item_id, ms=ms))
        if barge_in:
            self.harness.handle(inputs.Interrupt())

    @rule(data=st.data())
    @_guarded
    def other_command(self, data: st.DataObject) -> None:
        """The less frequent commands: interruptions out of the blue, session updates, raw
        events, clearing the audio (one rule, so that together they weigh like one; most
        interruptions come with ``audio_played``, when something was heard)."""
        updates = [inputs.UpdateSession(settings=s) for s in self.session_updates]
        command = data.draw(st.sampled_from([*_OTHER_COMMANDS, *updates]), label="command")
        if isinstance(command, dict):
            params = dict(command["response"])
            if not self.out_of_band_audio:
                params["output_modalities"] = ["text"]
            command = inputs.SendRawEvent(event={**command, "response": params})
        assert isinstance(command, inputs.Input)  # narrows for mypy
        self.harness.handle(command)

    # -- the wire and the server --------------------------------------------------------------

    @rule(data=st.data(), count=st.integers(1, 20))
    @_guarded
    def deliver_to_server(self, data: st.DataObject, count: int) -> None:
        self._drawing(data, lambda: self.harness.deliver_to_server(count))

    @rule(
        count=st.integers(1, 40),
        as_frames=st.booleans(),
        garbage=st.none() | st.none() | garbage_frames(),
    )
    @_guarded
    def deliver_to_client(self, count: int, as_frames: bool, garbage: str | bytes | None) -> None:
        """The session reads server events (as typed events or text frames), perhaps after a
        garbage frame."""
        if garbage is not None:
            self.harness.handle(garbage)
        self.harness.deliver_to_client(count, as_frames=as_frames)

    @precondition(lambda self: self.harness.server.active_response_ids)
    @rule(count=st.integers(1, 30))
    @_guarded
    def server_steps(self, count: int) -> None:
        for _ in range(count):
            self.harness.server_does(self.harness.server.step())

    @precondition(lambda self: self.late_calls and self.harness.server.ended_responses)
    @rule(data=st.data())
    @_guarded
    def late_call(self, data: st.DataObject) -> None:
        """The server sends a function call of a response that has already ended."""
        server = self.harness.server
        tools = server.tools
        if not tools:
            return
        response_id = data.draw(st.sampled_from(server.ended_responses[-3:]), label="response")
        called = data.draw(st.sampled_from(tools), label="tool")
        arguments = data.draw(tool_arguments(called), label="arguments")
        self.harness.server_does(server.late_call(response_id, called["name"], arguments))

    @precondition(lambda self: self.harness.server.turn_detection is not None)
    @rule(data=st.data(), ms=st.integers(100, 3000), whole=st.booleans())
    @_guarded
    def user_speaks(self, data: st.DataObject, ms: int, whole: bool) -> None:
        """Server VAD: the user starts speaking, stops, or says a whole turn."""
        server = self.harness.server
        if self.quiet_before_speech:
            self._drawing(data, self._quiet)
            if server.turn_detection is None:
                return  # what was in flight switched it to push-to-talk
        if not server.speaking:
            self.harness.server_does(server.speech_started())
            if not whole:
                return
        self._drawing(data, lambda: self.harness.server_does(server.speech_stopped(ms)))

    # -- the connection ------------------------------------------------------------------------

    def _attempts_left(self) -> int:
        """How many more attempts the session would make if the connection dropped now
        (one that drops soon after it opened goes on counting: ``stable_after_s``); the
        machine keeps one in reserve, so that the session never gives up."""
        policy, harness = self._policy, self.harness
        if policy is None or not type(self).drops:
            return 0
        young = harness.clock - harness.connected_at < policy.stable_after_s
        used = harness.last_attempt if young or harness.open_requests else 0
        return policy.max_attempts - used - 1

    @precondition(lambda self: self.harness.connected and self._attempts_left() > 1)
    @rule(code=st.sampled_from([1006, 1006, 1011, 1001, None]))
    @_guarded
    def connection_drops(self, code: int | None) -> None:
        """The connection ends, with what was in flight both ways (1001: the server's age
        cap came first)."""
        self.harness.drop(code, "dropped by the test")

    @precondition(lambda self: self.harness.open_requests)
    @rule(data=st.data())
    @_guarded
    def connection_opens(self, data: st.DataObject) -> None:
        """The session's new connection opens (a reconnect's, or a recycle's)."""
        self._drawing(data, self.harness.reconnect)

    @precondition(
        lambda self: (
            self.harness.open_requests
            and self.harness.open_requests[0].reason == "reconnect"
            and self._policy is not None
            and self.harness.open_requests[0].attempt < self._policy.max_attempts - 1
        )
    )
    @rule(status=st.sampled_from([None, 503, 408]))
    @_guarded
    def connection_fails(self, status: int | None) -> None:
        """An attempt to connect fails in a way worth another (a timeout, a 5xx)."""
        self.harness.fail_connect(status)

    # -- the driver: effects and time ---------------------------------------------------------

    def _answerable(self) -> list[str]:
        harness, never = self.harness, self.never_answered_tools
        open_calls = [c for c, call in harness.tool_calls.items() if call.name not in never]
        return sorted([*open_calls, *harness.abandoned_calls])

    @precondition(lambda self: self._answerable())
    @rule(data=st.data(), failed=st.booleans())
    @_guarded
    def tool_answers(self, data: st.DataObject, failed: bool) -> None:
        """A tool returns or raises, in time or after its timeout."""
        call_id = data.draw(st.sampled_from(self._answerable()))
        calls = self.harness.tool_calls
        name = (calls.get(call_id) or self.harness.abandoned_calls[call_id]).name
        failed = failed or name in self.failing_tools
        output = f"Error: {name} failed" if failed else f"{name} says hi"
        self.harness.answer_tool(call_id, output, failed=failed)

    @precondition(lambda self: self.harness.approvals)
    @rule(data=st.data(), approve=st.booleans())
    @_guarded
    def approval(self, data: st.DataObject, approve: bool) -> None:
        call_id = data.draw(st.sampled_from(sorted(self.harness.approvals)))
        if approve:
            self.harness.approve(call_id)
        else:
            self.harness.reject(call_id)

    @precondition(lambda self: self.harness.guardrail_runs)
    @rule(data=st.data(), trip=st.booleans())
    @_guarded
    def guardrail_verdict(self, data: st.DataObject, trip: bool) -> None:
        run_id = data.draw(st.sampled_from(sorted(self.harness.guardrail_runs)))
        names = [g.get_name() for g in self.harness.guardrail_runs[run_id].guardrails]
        self.harness.answer_guardrails(run_id, tuple(names) if trip else ())

    @precondition(lambda self: self.harness.instruction_requests)
    @rule(data=st.data())
    @_guarded
    def instructions_resolved(self, data: st.DataObject) -> None:
        request_id = data.draw(st.sampled_from(sorted(self.harness.instruction_requests)))
        self.harness.resolve_instructions(request_id)

    @rule(seconds=st.sampled_from(_TICKS))
    @_guarded
    def clock_ticks(self, seconds: float) -> None:
        self.harness.advance(seconds)

    # -- the checks ---------------------------------------------------------------------------

    @invariant()
    @_guarded
    def invariants_hold(self) -> None:
        check_all(self.harness.transcript, settled=self.harness.settled)

    def teardown(self) -> None:
        if self.broken:
            return  # the failure is reported already; settling would only add noise
        self.harness.settle(never_answer=self.never_answered_tools)
        check_all(self.harness.transcript, settled=True)
        check_replay(self.harness.transcript)
