"""The fault-injection matrix: four scripted conversations (a text turn, two tool calls, a
handoff, an audio turn with a barge-in), each with its connection dropped before every single
frame in turn, both ways. After reconnecting: the history holds every item once, in order,
and is the last server's conversation; every call has exactly one output and ran once; no
user message is there twice; the last answer arrives (``resilience_helpers.check_outcome``).

The whole matrix runs in the pure core (a ``Session`` and the fake servers, no event loop:
about 550 runs in some ten seconds). Through the driver, on asyncio and trio, on a virtual
clock, a sample: every ``DRIVER_STRIDE``-th frame, the two loops taking different ones, so
that together they drop before two frames in ``DRIVER_STRIDE``.
"""

from __future__ import annotations

import pytest
from resilience_helpers import CONVERSATIONS, Conversation, PureLoop, through_driver
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

DRIVER_STRIDE = 7

IDS = [conversation.name for conversation in CONVERSATIONS]


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


def _failures(conversation: Conversation, frames: range) -> list[str]:
    failed = []
    for drop_before in frames:
        try:
            PureLoop(conversation, drop_before=drop_before).run().check()
        except AssertionError as exc:
            failed.append(f"dropped before frame {drop_before}: {exc}")
    return failed


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=IDS)
def test_a_drop_before_any_frame_loses_nothing(conversation: Conversation) -> None:
    whole = PureLoop(conversation).run()
    whole.check()
    assert not whole.dropped
    failed = _failures(conversation, range(1, whole.frames + 1))
    assert not failed, f"{len(failed)} of {whole.frames} drops went wrong:\n" + "\n".join(
        failed[:5]
    )


@pytest.mark.anyio
@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=IDS)
async def test_through_the_driver_a_drop_loses_nothing(
    conversation: Conversation, anyio_backend: tuple[str, object]
) -> None:
    frames = await through_driver(conversation)
    first = 1 if anyio_backend[0] == "asyncio" else 1 + DRIVER_STRIDE // 2
    for drop_before in range(first, frames + 1, DRIVER_STRIDE):
        await through_driver(conversation, drop_before)
