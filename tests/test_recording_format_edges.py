"""The recording format and the replay's report at their edges: lines that cannot be read are
named by line and cause, inputs that cannot be recorded are refused, agents reachable in a
cycle are found once, and a mismatch says what is there and what is not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from realtime_sansio.protocol import Agent, Session, inputs
from realtime_sansio.protocol.agent import handoff
from realtime_sansio.protocol.errors import LocalProtocolError
from realtime_sansio.protocol.recording import (
    Recording,
    RecordingError,
    agents_by_name,
    audio_size,
    decode_input,
    encode_input,
    header_line,
)
from realtime_sansio.protocol.replay import Mismatch, replay


def decoded(obj: dict[str, Any]) -> inputs.Input:
    return decode_input(obj, agents={}, clock_start=0.0, line=7)


def test_the_audio_size_of_text_that_is_not_base64_is_its_length() -> None:
    assert audio_size("AAAA") == 3
    assert audio_size("AAA=") == 2
    assert audio_size("<9600 bytes elided>") == 9600
    assert audio_size("abcde") == 5  # not base64: nothing better to say


@pytest.mark.parametrize(
    ("obj", "says"),
    [
        ({"type": "SendAudio", "data": "!!!!"}, "line 7: audio that is neither base64 nor elided"),
        (
            {
                "type": "SendMessage",
                "message": {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "hi"}],
                },
            },
            "line 7: SendMessage holds a message item",  # an assistant one: not a user message
        ),
        ({"type": "Teleport"}, "line 7: unknown input type 'Teleport'"),
        ({"type": "ToolResult", "output": "x"}, "line 7: a ToolResult input that cannot be read"),
        ({"type": "TimerFired", "at": "soon"}, "line 7: a TimerFired input that cannot be read"),
    ],
)
def test_inputs_that_cannot_be_read_name_their_line(obj: dict[str, Any], says: str) -> None:
    with pytest.raises(RecordingError, match=says):
        decoded(obj)


def test_only_application_and_effect_inputs_are_recorded() -> None:
    with pytest.raises(LocalProtocolError, match="cannot record Connected: not an application"):
        encode_input(inputs.Connected(), clock_start=0.0, audio="keep")


def test_agents_in_a_cycle_of_handoffs_are_found_once() -> None:
    sales = Agent(name="Sales", instructions="Sell.")
    support = Agent(name="Support", instructions="Help.", handoffs=[handoff(sales)])
    sales = sales.clone(handoffs=[handoff(support)])
    found = agents_by_name(sales)
    assert list(found) == ["Sales", "Support"]
    assert found["Sales"] is sales


def lines(*entries: dict[str, Any], side: str = "client", source: str = "session") -> list[str]:
    header = header_line(
        side=side,  # type: ignore[arg-type]
        source=source,  # type: ignore[arg-type]
        clock_start=10.0,
        dialect="ga",
        audio="keep",
    )
    return [json.dumps(header), *(json.dumps(e) for e in entries)]


def test_a_frame_line_must_hold_a_json_object() -> None:
    with pytest.raises(RecordingError, match="line 2: a frame that is not a JSON object"):
        Recording.parse(lines({"kind": "frame", "t": 0.0, "from": "server", "frame": [1, 2]}))


def test_only_a_sessions_own_recording_replays_into_a_session() -> None:
    recording = Recording.parse(lines(side="server", source="transport"))
    session = Session(Agent(name="A", instructions="Hi."))
    with pytest.raises(RecordingError, match="a server-side recording of the transport's frames"):
        replay(recording, session)


@pytest.mark.parametrize(
    ("expected", "got", "path", "says"),
    [
        # A key only the session sent: the recording has nothing there.
        (
            {"type": "response.create"},
            {"type": "response.create", "response": {}},
            "response",
            "differs at response: expected nothing there, got {}",
        ),
        # A list the session made longer.
        ({"a": [1]}, {"a": [1, 2]}, "a[1]", "differs at a[1]: expected nothing there, got 2"),
        # A key the session left out.
        ({"a": {"b": 1}}, {"a": {}}, "a.b", "differs at a.b: expected 1, got nothing there"),
        # A garbage frame against an object: the whole frames differ.
        ("garbage", {"type": "x"}, "", 'differs: expected "garbage", got {"type": "x"}'),
        # A path that starts with an index (a frame that is a list).
        ([1], [2], "[0]", "differs at [0]: expected 1, got 2"),
    ],
)
def test_a_mismatch_says_what_each_side_has_there(
    expected: Any, got: Any, path: str, says: str
) -> None:
    mismatch = Mismatch(index=2, line=5, expected=expected, got=got, path=path)
    assert mismatch.describe().endswith(says)
    assert mismatch.describe().startswith("client frame 2 (line 5, ")
