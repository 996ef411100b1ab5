"""The bridge protocol's pure halves: page commands parsed, session events mapped to messages."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from realtime_sansio.protocol import Agent, RunConfig, SessionModelSettings, events, wire
from realtime_sansio.protocol.audio import PCMU
from realtime_sansio.protocol.config import TurnDetectionConfig
from realtime_sansio.protocol.items import (
    AssistantMessage,
    InputAudio,
    InputText,
    OutputAudio,
    UserMessage,
)
from realtime_sansio.transports.demo import GREETER, SUPPORT, get_weather
from realtime_sansio.transports.web import PageTimeline, RealtimeKind
from realtime_sansio.transports.web.commands import (
    MAX_AUDIO_BYTES,
    MAX_TEXT_CHARS,
    ApproveTool,
    AudioIn,
    AudioPlayed,
    CommandError,
    Hello,
    Interrupt,
    PushToTalk,
    RejectTool,
    SendText,
    parse_command,
)
from realtime_sansio.transports.web.realtime import _hands_free
from realtime_sansio.transports.web.timeline import MAX_OPEN

# -- commands ---------------------------------------------------------------------------------


def frame(**fields: Any) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(
    ("text", "command"),
    [
        (frame(type="hello"), Hello(resume=None)),
        (frame(type="hello", resume="tok"), Hello(resume="tok")),
        (
            frame(type="audio", pcm=base64.b64encode(b"\x01\x00\x02\x00").decode()),
            AudioIn(pcm=b"\x01\x00\x02\x00"),
        ),
        (
            frame(type="audio_played", item_id="item_1", content_index=0, ms=12),
            AudioPlayed(item_id="item_1", content_index=0, ms=12.0),
        ),
        (frame(type="interrupt"), Interrupt()),
        (frame(type="push_to_talk", pressed=True), PushToTalk(pressed=True)),
        (frame(type="text", text="  hi  "), SendText(text="hi")),
        (frame(type="approve_tool", call_id="c"), ApproveTool(call_id="c")),
        (frame(type="reject_tool", call_id="c"), RejectTool(call_id="c")),
    ],
)
def test_commands_parse(text: str, command: object) -> None:
    assert parse_command(text) == command


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[]", "one JSON object"),
        (frame(), "unknown command type None"),
        (frame(type="audio"), "'audio' needs 'pcm': base64 PCM16, not null"),
        (frame(type="audio", pcm="AAA"), "base64"),
        (frame(type="audio_played", item_id="i", content_index=-1, ms=1), "content_index >= 0"),
        (frame(type="audio_played", item_id="i", content_index=0, ms=-1), "ms >= 0"),
        (frame(type="audio_played", item_id=3, content_index=0, ms=1), "not integer"),
        (frame(type="push_to_talk", pressed=1), "true or false, not integer"),
        (frame(type="text", text="   "), "not blank"),
        (frame(type="text", text="x" * (MAX_TEXT_CHARS + 1)), f"at most {MAX_TEXT_CHARS}"),
        (frame(type="hello", resume=7), "the token of the conversation"),
        (frame(type="approve_tool"), "the id of the tool call"),
    ],
)
def test_bad_commands_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=None) as error:
        parse_command(text)
    assert says in str(error.value)


def test_an_audio_frame_is_bounded() -> None:
    most = base64.b64encode(bytes(MAX_AUDIO_BYTES)).decode()
    assert len(parse_command(frame(type="audio", pcm=most)).pcm) == MAX_AUDIO_BYTES  # type: ignore[union-attr]
    over = base64.b64encode(bytes(MAX_AUDIO_BYTES + 2)).decode()
    with pytest.raises(CommandError, match="at most 48000 bytes"):
        parse_command(frame(type="audio", pcm=over))


def test_a_command_repr_does_not_dump_the_audio() -> None:
    assert len(repr(AudioIn(pcm=bytes(4800)))) < 80


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
command_types = st.sampled_from(
    ["hello", "audio", "audio_played", "interrupt", "push_to_talk", "text", "approve_tool", "x"]
)


@given(
    kind=command_types,
    fields=st.dictionaries(
        st.sampled_from(
            ["pcm", "item_id", "content_index", "ms", "pressed", "text", "call_id", "resume"]
        ),
        json_values,
    ),
)
def test_any_frame_is_a_command_or_a_command_error(kind: str, fields: dict[str, Any]) -> None:
    """Whatever a page sends, the bridge gets a command or a clear refusal, never a crash."""
    try:
        command = parse_command(json.dumps({"type": kind, **fields}))
    except CommandError as error:
        assert str(error)
    else:
        assert type(command).__name__ in {
            "Hello",
            "AudioIn",
            "AudioPlayed",
            "Interrupt",
            "PushToTalk",
            "SendText",
            "ApproveTool",
        }


# -- the timeline -----------------------------------------------------------------------------


def messages(timeline: PageTimeline, *evs: events.SessionEvent) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, event in enumerate(evs):
        out.extend(timeline.messages(event, at=index * 0.5))
    return out


def test_a_turn_with_a_tool_and_a_handoff_reads_as_the_page_draws_it() -> None:
    timeline = PageTimeline()
    handoff_tool = GREETER.handoffs[0]
    out = messages(
        timeline,
        events.AgentStartEvent(agent=GREETER, response_id="resp_1"),
        events.ToolStartEvent(
            agent=GREETER, tool=get_weather, call_id="c1", arguments='{"city":"Paris"}'
        ),
        events.ToolEndEvent(agent=GREETER, tool=get_weather, call_id="c1", output="Sunny"),
        events.ToolStartEvent(agent=GREETER, tool=handoff_tool, call_id="c2", arguments="{}"),
        events.HandoffEvent(from_agent=GREETER, to_agent=SUPPORT, call_id="c2"),
        events.ToolEndEvent(agent=SUPPORT, tool=handoff_tool, call_id="c2", output=""),
        # The response that handed off ends under the new agent: the page names the first.
        events.AgentEndEvent(agent=SUPPORT, response_id="resp_1", status="completed"),
    )
    assert out == [
        {"type": "agent_start", "response_id": "resp_1", "agent": "Greeter", "t": 0.0},
        {
            "type": "tool_start",
            "call_id": "c1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
            "agent": "Greeter",
            "t": 0.5,
        },
        {
            "type": "tool_end",
            "call_id": "c1",
            "name": "get_weather",
            "output": "Sunny",
            "failed": False,
            "t": 1.0,
        },
        {"type": "handoff", "from": "Greeter", "to": "Support", "call_id": "c2", "t": 2.0},
        {
            "type": "agent_end",
            "response_id": "resp_1",
            "agent": "Greeter",
            "status": "completed",
            "t": 3.0,
        },
    ]


def test_captions_are_streamed_then_final() -> None:
    timeline = PageTimeline()
    spoken = AssistantMessage(
        id="item_2", content=(OutputAudio(transcript="Hello there"),), status="completed"
    )
    heard = UserMessage(id="item_1", content=(InputAudio(transcript="Hi"),))
    typed = UserMessage(id="item_3", content=(InputText(text="typed"),))
    out = messages(
        timeline,
        events.TranscriptDeltaEvent(role="user", item_id="item_1", content_index=0, delta="Hi"),
        events.HistoryUpdatedEvent(item_id="item_1", item=heard),
        events.TranscriptDeltaEvent(
            role="assistant", item_id="item_2", content_index=0, delta="Hello ", response_id="r"
        ),
        events.HistoryUpdatedEvent(
            item_id="item_2",
            item=AssistantMessage(
                id="item_2", content=(OutputAudio(transcript="Hello "),), status="in_progress"
            ),
        ),
        events.HistoryUpdatedEvent(item_id="item_2", item=spoken),
        events.HistoryUpdatedEvent(item_id="item_2", item=spoken),  # said once only
        events.HistoryAddedEvent(item=typed, previous_item_id="item_2"),
        events.HistoryAddedEvent(item=heard, previous_item_id=None),  # audio: its deltas tell it
    )
    kinds = [(m["type"], m.get("role"), m.get("delta") or m.get("text")) for m in out]
    assert kinds == [
        ("caption", "user", "Hi"),
        ("caption_done", "user", "Hi"),
        ("caption", "assistant", "Hello "),
        ("caption_done", "assistant", "Hello there"),
        ("caption_done", "user", "typed"),
    ]


def test_audio_interruptions_vad_metrics_errors_and_the_end() -> None:
    timeline = PageTimeline()
    out = messages(
        timeline,
        events.AudioEvent(data=b"\x01\x00", response_id="r", item_id="i", content_index=0),
        events.AudioEndEvent(response_id="r", item_id="i", content_index=0),
        events.RawModelEvent(
            data=wire.InputAudioBufferSpeechStarted(event_id="e", audio_start_ms=100, item_id="u")
        ),
        events.AudioInterruptedEvent(
            response_id="r", item_id="i", content_index=0, audio_end_ms=640
        ),
        events.TurnMetricsEvent(response_id="r", speech_stopped_to_first_audio_ms=210.5),
        events.GuardrailTrippedEvent(
            guardrails=("no_secrets",),
            output_info=(None,),
            response_id="r",
            item_id="i",
            text="the code is",
        ),
        events.ErrorEvent(code="boom", message="it broke"),
        events.ConnectionClosedEvent(code=1001, reason="session expired"),
    )
    assert [m["type"] for m in out] == [
        "audio",
        "audio_done",
        "speech",
        "interrupted",
        "metrics",
        "guardrail",
        "error",
        "closed",
    ]
    assert base64.b64decode(out[0]["pcm"]) == b"\x01\x00"
    assert out[3]["audio_end_ms"] == 640
    assert out[4]["speech_stopped_to_first_audio_ms"] == 210.5
    assert out[5]["guardrails"] == ["no_secrets"]
    assert out[6] == {
        "type": "error",
        "source": "session",
        "code": "boom",
        "message": "it broke",
        "t": 3.0,
    }
    assert "60 minutes" in out[7]["text"]


def test_a_replay_can_leave_the_audio_out_and_unknown_events_give_nothing() -> None:
    timeline = PageTimeline(audio=False)
    audio = events.AudioEvent(data=b"\x00\x00", response_id="r", item_id="i", content_index=0)
    other = events.RawModelEvent(data=wire.RateLimitsUpdated(event_id="e", rate_limits=[]))
    assert timeline.messages(audio, at=0) == []
    assert timeline.messages(other, at=0) == []
    assert timeline.messages(object(), at=0) == []  # type: ignore[arg-type]


def test_an_assistant_caption_says_where_its_words_start_in_the_audio() -> None:
    """Each assistant delta carries the item's audio that came before it, in the session's
    output format, so the page can show which words a cut left unheard."""

    def delta(text: str) -> events.TranscriptDeltaEvent:
        return events.TranscriptDeltaEvent(
            role="assistant", item_id="i", content_index=0, delta=text, response_id="r"
        )

    def audio(size: int) -> events.AudioEvent:
        return events.AudioEvent(data=bytes(size), response_id="r", item_id="i", content_index=0)

    for timeline, second in [(PageTimeline(), 4800), (PageTimeline(audio_format=PCMU), 800)]:
        out = messages(timeline, delta("Sunny, "), audio(second), delta("21 °C"), audio(2))
        captions = [m for m in out if m["type"] == "caption"]
        assert [m["audio_ms"] for m in captions] == [0, 100]
    # Forgotten with the caption, at the item's final transcript.
    done = AssistantMessage(id="i", content=(OutputAudio(transcript="x"),), status="completed")
    timeline.messages(events.HistoryUpdatedEvent(item_id="i", item=done), at=0)
    assert timeline._received == {}


def test_what_the_timeline_remembers_is_bounded() -> None:
    timeline = PageTimeline()
    for n in range(MAX_OPEN * 3):
        timeline.messages(events.AgentStartEvent(agent=GREETER, response_id=f"r{n}"), at=0)
        timeline.messages(
            events.TranscriptDeltaEvent(role="user", item_id=f"i{n}", content_index=0, delta="x"),
            at=0,
        )
        timeline.messages(
            events.AudioEvent(data=b"\x00\x00", response_id="r", item_id=f"a{n}", content_index=0),
            at=0,
        )
    assert len(timeline._agents) == len(timeline._captions) == len(timeline._received) == MAX_OPEN


# -- the Realtime kind ------------------------------------------------------------------------


def test_push_to_talk_restores_the_configured_turn_detection() -> None:
    semantic = TurnDetectionConfig(type="semantic_vad", eagerness="low")
    assert _hands_free(None) == TurnDetectionConfig(type="server_vad")
    assert (
        _hands_free(RunConfig(model_settings=SessionModelSettings(turn_detection=semantic)))
        == semantic
    )
    assert _hands_free(RunConfig(model_settings=SessionModelSettings(turn_detection=None))) is None


def test_the_page_speaks_pcm16_only() -> None:
    g711 = RunConfig(model_settings=SessionModelSettings(input_audio_format=PCMU))
    with pytest.raises(ValueError, match="PCM16 at 24 kHz"):
        RealtimeKind(Agent(name="A"), config=g711)


def test_a_key_quoted_in_an_error_never_reaches_the_page() -> None:
    key = "sk-proj-" + "k" * 40
    timeline = PageTimeline()
    error = events.ErrorEvent(code="invalid_api_key", message=f"Incorrect API key provided: {key}")
    closed = events.ConnectionClosedEvent(code=1008, reason=f"bad key {key}")
    out = messages(timeline, error, closed)
    assert key not in json.dumps(out)
    assert "<redacted>" in out[0]["message"]
