"""The Session's invariants, as plain functions of a recorded run (``Transcript``).

Each raises ``AssertionError`` naming the invariant, the step and what went wrong. Those marked
*settled* only make sense once the run has come to rest (nothing in flight either way, no
response active on the server, every effect answered, no timer due: ``Harness.settled``); the
others hold after every step.

1. At most one default-conversation response is active or requested at any time: no
   ``response.create`` goes out while the session's previous one is unanswered or the server
   has said a response is active (``response.created`` without its ``response.done``).
2. *Settled:* no request for a response is lost, and none is invented. Requests are
   ``SendMessage``, a push-to-talk commit, a raw ``response.create``, a guardrail trip, and the
   follow-up of a (not cancelled) response's tool calls once all have outputs (calls that
   come after their response's ``response.done`` want one more of their own). Every request is
   followed by a ``response.create`` the server accepted; between two accepted ones there is at
   least one request (deferred requests coalesce into one); and the session no longer believes
   a response is active.
3. Every function call the server completed gets exactly one ``function_call_output``
   (*settled:* at least one), whatever the tool did; no call the server left incomplete or never
   made gets one.
4. A handoff's ``session.update`` (with the target's tools) precedes its ``HandoffEvent`` and its
   tool output, in the same step; ``current_agent`` is the target afterwards.
5. Only assistant audio of the conversation is truncated (or deleted), never past the audio
   the session received for that item.
6. The history's ids are unique and its order agrees with every ``previous_item_id`` the server
   gave; *settled*, with a server model: it is the server's conversation, item for item.
7. ``Session.handle`` never raised for what the server sent (garbage frames included).
8. The same inputs give the same outputs: a fresh session replays the run exactly.
9. The same audio cut into different chunk sizes (whole samples) appends the same bytes and
   commits the same turns (``check_chunking``, a property of its own).

Besides these, ``check_server_view`` asserts the server model saw nothing a well-behaved
client never does (``ServerModel.violations``).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from .. import inputs, wire
from .harness import Harness
from .transcript import Transcript

__all__ = [
    "check_all",
    "check_chunking",
    "check_every_call_answered",
    "check_handoffs",
    "check_history",
    "check_never_raised",
    "check_one_response_at_a_time",
    "check_replay",
    "check_requests_served",
    "check_server_view",
    "check_tool_outputs",
    "check_truncations",
]


def _fail_if(number: int, what: str, problems: Sequence[str]) -> None:
    if problems:
        shown = "\n  ".join(problems[:5])
        more = f"\n  ... and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise AssertionError(f"invariant {number} ({what}) broken:\n  {shown}{more}")


def check_one_response_at_a_time(transcript: Transcript) -> None:
    """Invariant 1."""
    _fail_if(1, "one response at a time", transcript.facts.violations[1])


def check_requests_served(transcript: Transcript) -> None:
    """Invariant 2 (*settled*)."""
    facts = transcript.facts
    accepted = [pos for i, pos in enumerate(facts.creates) if i not in facts.refused]
    problems = []
    for pos, what in [*facts.requests, *facts.queued]:
        if bisect.bisect_right(accepted, pos) == len(accepted):
            problems.append(f"step {pos[0]}: {what} was never served by a response.create")
    requests = sorted(pos for pos, _ in facts.requests)
    # Requests that waited in a queue (while reconnecting) are made when it drains, one
    # after the other: each may justify one create of its own, from then on.
    queued = sorted(pos for pos, _ in facts.queued)
    used = 0
    previous = (-1, -1)
    for pos in accepted:
        if bisect.bisect_right(requests, pos) == bisect.bisect_right(requests, previous):
            if used < bisect.bisect_right(queued, pos):
                used += 1
            else:
                problems.append(f"step {pos[0]}: a response.create that no request asked for")
        previous = pos
    if transcript.session.response_active:
        problems.append("the run is settled but the session believes a response is active")
    _fail_if(2, "no request lost, none invented", problems)


def check_tool_outputs(transcript: Transcript) -> None:
    """Invariant 3, the part that holds at every step: at most one output per call, and only
    for calls the server completed."""
    _fail_if(3, "one function_call_output per call", transcript.facts.violations[3])


def check_every_call_answered(transcript: Transcript) -> None:
    """Invariant 3, the settled part: every call the server completed has its output."""
    check_tool_outputs(transcript)
    missing = [
        f"{call_id} ({call.name}) has no function_call_output"
        for call_id, call in transcript.facts.calls.items()
        if not call.outputs
    ]
    _fail_if(3, "one function_call_output per call", missing)


def check_handoffs(transcript: Transcript) -> None:
    """Invariant 4."""
    _fail_if(4, "handoffs switch before they answer", transcript.facts.violations[4])


def check_truncations(transcript: Transcript) -> None:
    """Invariant 5."""
    _fail_if(5, "truncation within the audio received", transcript.facts.violations[5])


def check_history(transcript: Transcript, *, settled: bool = False) -> None:
    """Invariant 6."""
    ids = [item.id for item in transcript.session.history]
    problems = []
    if len(set(ids)) != len(ids):
        problems.append(f"duplicate ids in the history: {ids}")
    where = {item_id: index for index, item_id in enumerate(ids)}
    previous = transcript.facts.previous
    for item_id, index in where.items():
        before = previous.get(item_id or "")
        if before is not None and before in where and where[before] > index:
            problems.append(f"{item_id} comes before {before}, though the server put it after")
    server = transcript.server
    if settled and server is not None and tuple(ids) != server.conversation:
        problems.append(
            f"the history {ids} is not the server's conversation {list(server.conversation)}"
        )
    _fail_if(6, "the history is the conversation", problems)


def check_never_raised(transcript: Transcript) -> None:
    """Invariant 7 (``Transcript.handle`` also raises at once when it happens)."""
    _fail_if(
        7,
        "handle never raises for the server",
        [f"step {s.index}: {s.error!r} for {s.input!r}" for s in transcript.crashes],
    )


def check_replay(transcript: Transcript) -> None:
    """Invariant 8: a fresh session given the same inputs gives the same outputs."""
    fresh = transcript.make_session()
    for step in transcript.steps:
        try:
            outputs = fresh.handle(step.input, now=step.now)
        except Exception as exc:
            if step.error is None or type(exc) is not type(step.error):
                raise AssertionError(
                    f"invariant 8 (replay) broken: step {step.index} raised {exc!r} on replay,"
                    f" {step.error!r} at first"
                ) from exc
            continue
        if step.error is not None or tuple(outputs) != step.outputs:
            raise AssertionError(
                f"invariant 8 (replay) broken at step {step.index} ({step.input!r}):\n"
                f"  first:  {list(step.outputs)!r}\n  replay: {outputs!r}"
            )


def check_server_view(transcript: Transcript) -> None:
    """What the server model saw (every connection's): nothing a well-behaved client never
    does."""
    problems = [
        f"{v.code}: {v.message} (for {v.event!r})"
        for server in transcript.servers
        for v in server.violations
    ]
    _fail_if(5, "the server saw no client mistake", problems)


def check_all(transcript: Transcript, *, settled: bool = False) -> None:
    """Every invariant that holds now (1 to 7, and the settled parts when ``settled``)."""
    check_never_raised(transcript)
    check_one_response_at_a_time(transcript)
    check_tool_outputs(transcript)
    check_handoffs(transcript)
    check_truncations(transcript)
    check_server_view(transcript)
    check_history(transcript, settled=settled)
    if settled:
        check_requests_served(transcript)
        check_every_call_answered(transcript)


def check_chunking(
    make_harness: Callable[[], Harness],
    turns: Sequence[bytes],
    chunkings: Sequence[Sequence[int]],
) -> None:
    """Invariant 9: each chunking (chunk sizes, used in a cycle) of the same ``turns`` of audio
    appends the same bytes, commits the same turns and sends the same other events.

    Chunk sizes count samples of the session's input format (2 bytes each in PCM16, whose
    chunks must be whole samples; 1 byte in G.711), and ``turns`` hold whole samples. Each run
    starts from ``make_harness()``; every turn is sent as ``SendAudio`` chunks, the last with
    ``commit=True``, and the run settles after each turn.
    """
    results = []
    for sizes in chunkings:
        if not sizes or min(sizes) < 1:
            raise ValueError(f"chunk sizes must be >= 1, got {list(sizes)}")
        harness = make_harness()
        harness.settle()
        width = harness.session.input_audio_format.bytes_per_sample
        for turn in turns:
            start, index = 0, 0
            while True:
                end = start + sizes[index % len(sizes)] * width
                last = end >= len(turn)
                harness.handle(inputs.SendAudio(data=turn[start:end], commit=last))
                if last:
                    break
                start, index = end, index + 1
            harness.settle()
        check_all(harness.transcript, settled=True)
        results.append((_wire_view(harness.transcript), list(harness.server.committed_audio)))
    first_view, first_turns = results[0]
    for sizes, (view, committed) in zip(chunkings[1:], results[1:], strict=True):
        if committed != first_turns:
            raise AssertionError(
                f"invariant 9 (chunking) broken: chunks of {list(sizes)} committed turns of"
                f" {[len(t) for t in committed]} bytes, chunks of {list(chunkings[0])} of"
                f" {[len(t) for t in first_turns]}"
            )
        if view != first_view:
            raise AssertionError(
                f"invariant 9 (chunking) broken: chunks of {list(sizes)} sent\n  {view}\n"
                f"chunks of {list(chunkings[0])} sent\n  {first_view}"
            )


def _wire_view(transcript: Transcript) -> list[object]:
    """The client events, with the appends between two other events joined into one."""
    view: list[object] = []
    pending = bytearray()
    for event in transcript.client_events():
        if isinstance(event, wire.InputAudioBufferAppend):
            pending += event.audio
            continue
        if pending:
            view.append(("append", bytes(pending)))
            pending.clear()
        view.append(event)
    if pending:
        view.append(("append", bytes(pending)))
    return view
