"""Bad input from the application gets a clear ``LocalProtocolError``, and nothing is lost.

Inputs check what they can on their own when they are made (types, finite numbers); what needs
the session's state (the input audio format) is checked by ``handle`` before anything is sent
or queued, so a refused input changes nothing and the session goes on.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from realtime_sansio.protocol import (
    PCMU,
    Agent,
    LocalProtocolError,
    RunConfig,
    SessionModelSettings,
    function_tool,
    handoff,
    inputs,
    wire,
)
from realtime_sansio.protocol.agent import FunctionTool
from realtime_sansio.protocol.items import InputImage, InputText, UserMessage
from session_helpers import (
    Session,
    agent,
    get_weather,
    sent,
    session_updated,
    started,
)

# -- audio ------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["abc", 5, None, [0, 0], bytes])
def test_send_audio_refuses_what_is_not_bytes_naming_the_type(data: Any) -> None:
    with pytest.raises(LocalProtocolError, match=f"SendAudio.data .*{type(data).__name__}"):
        inputs.SendAudio(data=data)


@pytest.mark.parametrize("data", [bytearray(b"\x01\x02"), memoryview(b"\x01\x02")])
def test_send_audio_takes_a_bytearray_or_memoryview_as_bytes(data: Any) -> None:
    audio = inputs.SendAudio(data=data)
    assert type(audio.data) is bytes and audio.data == b"\x01\x02"
    appended = sent(started().handle(audio))
    assert [e.audio for e in appended] == [b"\x01\x02"]


def test_send_audio_refuses_a_commit_that_is_not_a_bool() -> None:
    with pytest.raises(LocalProtocolError, match=r"SendAudio\.commit"):
        inputs.SendAudio(data=b"", commit="yes")  # type: ignore[arg-type]


def test_odd_length_pcm16_is_refused_and_nothing_is_lost() -> None:
    s = started()
    with pytest.raises(LocalProtocolError, match=r"odd.*PCM16.*3 bytes"):
        s.handle(inputs.SendAudio(data=b"\x01\x02\x03", commit=True))
    # The session goes on, and later audio stays aligned on whole samples.
    appended = sent(s.handle(inputs.SendAudio(data=b"\x01\x02")))
    assert [e.audio for e in appended] == [b"\x01\x02"]


def test_odd_length_pcm16_is_refused_before_it_is_queued_at_the_start() -> None:
    dynamic = agent(instructions=lambda context: "Be brief.")
    s = Session(dynamic)
    s.handle(inputs.Connected())
    assert not s.ready
    with pytest.raises(LocalProtocolError, match="odd"):
        s.handle(inputs.SendAudio(data=b"\x00"))
    assert len(s._queued) == 0


def test_g711_audio_of_any_length_is_taken() -> None:
    config = RunConfig(model_settings=SessionModelSettings(input_audio_format=PCMU))
    s = started(config=config)
    appended = sent(s.handle(inputs.SendAudio(data=b"\x01\x02\x03")))
    assert [e.audio for e in appended] == [b"\x01\x02\x03"]


def test_the_servers_word_on_the_input_format_counts() -> None:
    s = started()
    s.handle(session_updated({"audio": {"input": {"format": {"type": "audio/pcmu"}}}}))
    assert sent(s.handle(inputs.SendAudio(data=b"\x01\x02\x03")))
    s.handle(inputs.UpdateSession(settings=SessionModelSettings(input_audio_format=PCMU)))
    s.handle(
        session_updated({"audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}}}})
    )
    with pytest.raises(LocalProtocolError, match="odd"):
        s.handle(inputs.SendAudio(data=b"\x01\x02\x03"))


# -- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ms", [math.nan, math.inf, -math.inf, -1, -0.5, True, "5", None])
def test_audio_played_must_be_a_finite_number_at_least_zero(ms: Any) -> None:
    with pytest.raises(LocalProtocolError, match=r"AudioPlayed.ms must be a finite number >= 0"):
        inputs.AudioPlayed(item_id="item_1", ms=ms)


@pytest.mark.parametrize("ms", [0, 0.0, 1.5, 3])
def test_audio_played_takes_ints_and_floats(ms: float) -> None:
    assert inputs.AudioPlayed(item_id="item_1", ms=ms).ms == ms


def test_audio_played_names_an_item_by_its_str_id() -> None:
    with pytest.raises(LocalProtocolError, match=r"AudioPlayed\.item_id"):
        inputs.AudioPlayed(item_id=5, ms=1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf, True, "1", None])
def test_timer_fired_must_be_finite(now: Any) -> None:
    with pytest.raises(LocalProtocolError, match=r"TimerFired\.now must be a finite number"):
        inputs.TimerFired(now=now)


@pytest.mark.parametrize("now", [math.nan, math.inf, True])
def test_the_now_given_to_handle_must_be_finite(now: Any) -> None:
    s = started()
    with pytest.raises(LocalProtocolError, match="now must be a finite number"):
        s.handle(inputs.SendMessage(message="hi"), now=now)
    assert sent(s.handle(inputs.SendMessage(message="hi"), now=1.0))


# -- answers to effects ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: inputs.ToolResult(call_id="call_1", output={"temp": 20}), r"ToolResult\.output"),
        (lambda: inputs.ToolResult(call_id=1, output="ok"), r"ToolResult\.call_id"),
        (lambda: inputs.ToolResult(call_id="c", output="ok", failed=1), r"ToolResult\.failed"),
        (lambda: inputs.RejectTool(call_id="c", message=5), r"RejectTool\.message"),
        (lambda: inputs.InstructionsResolved(request_id="r", instructions=None), "instructions"),
    ],
)
def test_answers_to_effects_are_checked_when_made(make: Any, why: str) -> None:
    # A dict output would reach the model as an invalid function_call_output.
    with pytest.raises(LocalProtocolError, match=why):
        make()


# -- messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("message", [5, None, b"hi", ["hi"], InputText(text="hi")])
def test_send_message_refuses_other_types_naming_them(message: Any) -> None:
    with pytest.raises(LocalProtocolError, match=f"SendMessage.message .*{type(message).__name__}"):
        inputs.SendMessage(message=message)


def test_send_message_takes_a_dict_with_content_parts_as_a_user_message() -> None:
    message = {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "What is this?"},
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
        ],
    }
    command = inputs.SendMessage(message=message)
    assert command.message == UserMessage(
        content=(
            InputText(text="What is this?"),
            InputImage(image_url="data:image/png;base64,AAAA", detail="low"),
        )
    )
    created = sent(started().handle(command))[0]
    assert created.item["content"] == message["content"]
    assert inputs.SendMessage(message={"content": [{"type": "input_text", "text": "hi"}]})


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ({"content": "hi"}, "'content' must be a list"),
        ({"content": [{"type": "input_text", "text": 5}]}, r"content\[0\].text"),
        ({"content": [{"type": "output_text", "text": "hi"}]}, "a user message holds"),
        ({"content": [{"type": "video", "url": "x"}]}, "'video'"),
        ({"role": "assistant", "content": []}, "role"),
        ({"type": "function_call", "content": []}, "type"),
        ({"content": [], "metadata": {}}, "metadata"),
        ({}, "content"),
    ],
)
def test_send_message_refuses_a_bad_dict_saying_why(message: dict[str, Any], why: str) -> None:
    with pytest.raises(LocalProtocolError, match=why):
        inputs.SendMessage(message=message)


# -- tools and agents -------------------------------------------------------------------------


def _fine(x: int) -> str:
    return str(x)


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"name": ""}, "invalid tool name ''"),
        ({"timeout_s": True}, r"timeout_s must be a number of seconds > 0, or None .*, got True"),
        ({"timeout_s": math.nan}, "timeout_s"),
        ({"timeout_s": "5"}, "timeout_s"),
        ({"needs_approval": "yes"}, "needs_approval must be a bool"),
        ({"description": 5}, "description must be a str"),
        ({"strict_mode": 1}, "strict_mode must be a bool"),
    ],
)
def test_function_tool_refuses_bad_options_when_the_tool_is_made(
    options: dict[str, Any], why: str
) -> None:
    with pytest.raises(LocalProtocolError, match=why):
        function_tool(**options)(_fine)
    with pytest.raises(LocalProtocolError, match=why):
        function_tool(_fine, **options)


def test_a_function_tool_made_by_hand_refuses_a_bool_timeout() -> None:
    with pytest.raises(LocalProtocolError, match="timeout_s"):
        FunctionTool(name="f", on_invoke=_fine, timeout_s=True)
    with pytest.raises(LocalProtocolError, match="needs_approval"):
        FunctionTool(name="f", on_invoke=_fine, needs_approval=1)  # type: ignore[arg-type]


def test_an_agent_without_a_name_is_called_agent() -> None:
    unnamed = Agent()
    assert unnamed.name == "Agent"
    assert handoff(unnamed).tool_name == "transfer_to_agent"
    triage = Agent(name="Triage", handoffs=[Agent(instructions="Help.")])
    assert triage.find_tool("transfer_to_agent") is not None
    with pytest.raises(LocalProtocolError, match="non-empty name"):
        Agent(name="")


def test_the_unnamed_agent_runs() -> None:
    s = started(Agent(tools=[get_weather]))
    assert s.current_agent.name == "Agent"
    kinds = [type(e) for e in sent(s.handle(inputs.SendMessage(message="hi")))]
    assert kinds == [wire.ConversationItemCreate, wire.ResponseCreate]
