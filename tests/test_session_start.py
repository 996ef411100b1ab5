"""Session start: the first session.update, tracing, dynamic instructions, the start queue,
closing, determinism and the beta dialect."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from oracle import validate_client_event
from realtime_sansio.protocol import (
    PCMU,
    Agent,
    LocalProtocolError,
    NoiseReductionConfig,
    RunConfig,
    SessionModelSettings,
    ToolChoiceFunction,
    TracingConfig,
    TranscriptionConfig,
    TurnDetectionConfig,
    effects,
    events,
    handoff,
    inputs,
    wire,
)
from session_helpers import (
    Feed,
    Session,
    agent,
    args_done,
    audio_delta,
    created,
    creates,
    done,
    first_session_update,
    get_weather,
    of_type,
    one,
    outputs_given,
    sent,
    sent_types,
    started,
    tool,
    tools_named,
    transcript_delta,
)

# -- the first session.update ----------------------------------------------------------------


def test_connected_sends_one_session_update_with_instructions_and_tools() -> None:
    billing = Agent(name="Billing Agent", instructions="Bill.")
    session = Session(agent(instructions="Be brief.", tools=[get_weather], handoffs=[billing]))
    out = session.handle(inputs.Connected())
    assert sent_types(out) == ["session.update"]
    payload = first_session_update(out)
    assert payload["type"] == "realtime"
    assert payload["instructions"] == "Be brief."
    assert tools_named(payload) == ["get_weather", "transfer_to_billing_agent"]
    weather = payload["tools"][0]
    assert weather["description"] == "Weather for a city."
    assert weather["parameters"]["properties"] == {"city": {"type": "string"}}
    assert session.ready


def test_one_transfer_tool_per_handoff() -> None:
    targets = [Agent(name=n, instructions="x") for n in ("Sales", "Tech Support", "Refunds")]
    session = Session(agent(handoffs=[*targets[:2], handoff(targets[2], tool_name_override="r")]))
    payload = first_session_update(session.handle(inputs.Connected()))
    assert tools_named(payload) == ["transfer_to_sales", "transfer_to_tech_support", "r"]
    assert all(t["type"] == "function" for t in payload["tools"])


def test_session_update_carries_voice_formats_turn_detection_transcription_noise_and_choice() -> (
    None
):
    settings = SessionModelSettings(
        voice="marin",
        input_audio_format=PCMU,
        output_audio_format=PCMU,
        turn_detection=TurnDetectionConfig.semantic_vad(eagerness="low"),
        input_audio_transcription=TranscriptionConfig(model="whisper-1", language="fr"),
        input_audio_noise_reduction=NoiseReductionConfig(type="far_field"),
        tool_choice=ToolChoiceFunction(name="get_weather"),
    )
    session = Session(agent(tools=[get_weather]), config=RunConfig(model_settings=settings))
    payload = first_session_update(session.handle(inputs.Connected()))
    audio_in, audio_out = payload["audio"]["input"], payload["audio"]["output"]
    assert audio_in["format"] == {"type": "audio/pcmu"}
    assert audio_in["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    assert audio_in["transcription"] == {"model": "whisper-1", "language": "fr"}
    assert audio_in["noise_reduction"] == {"type": "far_field"}
    assert audio_out == {"format": {"type": "audio/pcmu"}, "voice": "marin"}
    assert payload["tool_choice"] == {"type": "function", "name": "get_weather"}


def test_push_to_talk_and_no_transcription_are_sent_as_null() -> None:
    settings = SessionModelSettings(turn_detection=None, input_audio_transcription=None)
    session = Session(agent(), config=RunConfig(model_settings=settings))
    payload = first_session_update(session.handle(inputs.Connected()))
    assert payload["audio"]["input"] == {"turn_detection": None, "transcription": None}


def test_run_config_settings_override_the_agents_instructions() -> None:
    settings = SessionModelSettings(instructions="Speak French.", speed=1.2)
    session = Session(agent(instructions="Be brief."), config=RunConfig(model_settings=settings))
    payload = first_session_update(session.handle(inputs.Connected()))
    assert payload["instructions"] == "Speak French."
    assert payload["audio"]["output"]["speed"] == 1.2


def test_unset_settings_are_not_sent() -> None:
    payload = first_session_update(Session(agent()).handle(inputs.Connected()))
    assert set(payload) == {"type", "instructions", "tools", "tracing"}
    assert payload["tools"] == []


def test_user_callables_are_never_serialised() -> None:
    sales = Agent(name="Sales", instructions="Sell.")
    the_agent = agent(
        tools=[get_weather, tool("count", needs_approval=True, timeout_s=3)],
        handoffs=[handoff(sales, on_handoff=lambda ctx: None)],
    )
    payload = first_session_update(Session(the_agent).handle(inputs.Connected()))
    text = json.dumps(payload)  # fails on any function object
    assert "lambda" not in text
    assert "<function" not in text
    assert set(payload["tools"][1]) == {"type", "name", "description", "parameters"}


def test_the_first_session_update_validates_with_the_official_models() -> None:
    settings = SessionModelSettings(
        voice="alloy",
        output_audio_format=PCMU,
        turn_detection=TurnDetectionConfig.server_vad(silence_duration_ms=400),
        input_audio_transcription=TranscriptionConfig(),
        tool_choice="required",
        max_output_tokens=300,
    )
    session = Session(agent(tools=[get_weather]), config=RunConfig(model_settings=settings))
    (update,) = session.handle(inputs.Connected())
    validate_client_event(wire.client_event_to_json(update))  # type: ignore[arg-type]


# -- tracing ---------------------------------------------------------------------------------


def test_tracing_is_auto_by_default() -> None:
    payload = first_session_update(Session(agent()).handle(inputs.Connected()))
    assert payload["tracing"] == "auto"


def test_a_tracing_config_is_sent_as_an_object() -> None:
    tracing = TracingConfig(workflow_name="support", group_id="g-7", metadata={"shop": "north"})
    config = RunConfig(model_settings=SessionModelSettings(tracing=tracing))
    payload = first_session_update(Session(agent(), config=config).handle(inputs.Connected()))
    assert payload["tracing"] == {
        "workflow_name": "support",
        "group_id": "g-7",
        "metadata": {"shop": "north"},
    }


def test_tracing_is_null_when_disabled() -> None:
    config = RunConfig(
        tracing_disabled=True,
        model_settings=SessionModelSettings(tracing=TracingConfig(workflow_name="w")),
    )
    payload = first_session_update(Session(agent(), config=config).handle(inputs.Connected()))
    assert "tracing" in payload and payload["tracing"] is None


def test_tracing_set_to_none_is_sent_as_null() -> None:
    config = RunConfig(model_settings=SessionModelSettings(tracing=None))
    payload = first_session_update(Session(agent(), config=config).handle(inputs.Connected()))
    assert "tracing" in payload and payload["tracing"] is None


# -- ModelConfig.initial_model_settings: the lowest layer -------------------------------------


def test_initial_model_settings_are_the_lowest_layer_of_the_first_update() -> None:
    initial = SessionModelSettings(
        voice="alloy",
        speed=1.2,
        instructions="Not the agent's.",
        turn_detection=None,
        tracing=TracingConfig(workflow_name="initial"),
    )
    config = RunConfig(model_settings=SessionModelSettings(voice="cedar"))
    session = Session(agent(tools=[get_weather]), config=config, initial_model_settings=initial)
    payload = first_session_update(session.handle(inputs.Connected()))
    assert payload["audio"]["output"] == {"voice": "cedar", "speed": 1.2}  # the RunConfig wins
    assert payload["instructions"] == "Be brief."  # the agent's sit above this layer
    assert payload["audio"]["input"]["turn_detection"] is None
    assert payload["tracing"] == {"workflow_name": "initial"}
    # The session goes by them too: push-to-talk, so a commit asks for a response.
    assert creates(session.handle(inputs.SendAudio(data=bytes(4800), commit=True)))


def test_the_runs_settings_override_the_initial_ones_instructions_included() -> None:
    initial = SessionModelSettings(instructions="Initial.", tracing=TracingConfig(group_id="g"))
    config = RunConfig(
        model_settings=SessionModelSettings(instructions="From the run."), tracing_disabled=True
    )
    session = Session(agent(), config=config, initial_model_settings=initial)
    payload = first_session_update(session.handle(inputs.Connected()))
    assert payload["instructions"] == "From the run."
    assert payload["tracing"] is None


def test_initial_model_settings_must_be_settings() -> None:
    with pytest.raises(LocalProtocolError, match="initial_model_settings"):
        Session(agent(), initial_model_settings={"voice": "alloy"})  # type: ignore[arg-type]


def test_tracing_is_sent_only_in_the_first_session_update() -> None:
    session = started(agent())
    out = session.handle(inputs.UpdateSession(settings=SessionModelSettings(voice="cedar")))
    payload = first_session_update(out)
    assert "tracing" not in payload
    assert payload["audio"]["output"]["voice"] == "cedar"


# -- dynamic instructions --------------------------------------------------------------------


def _dynamic_agent(*, is_async: bool = False) -> Agent:
    if is_async:

        async def instructions(ctx: Any) -> str:
            raise AssertionError("the core must not call user code")

        return agent(instructions=instructions, tools=[get_weather])

    def sync_instructions(ctx: Any) -> str:
        raise AssertionError("the core must not call user code")

    return agent(instructions=sync_instructions, tools=[get_weather])


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_dynamic_instructions_are_asked_for_before_the_session_update(is_async: bool) -> None:
    the_agent = _dynamic_agent(is_async=is_async)
    session = Session(the_agent, context={"user": "ada"})
    out = session.handle(inputs.Connected())
    assert sent(out) == []
    ask = one(out, effects.ResolveInstructions)
    assert ask.agent is the_agent
    assert ask.context == {"user": "ada"}
    assert not session.ready
    out = session.handle(inputs.InstructionsResolved(request_id=ask.request_id, instructions="Hi"))
    payload = first_session_update(out)
    assert payload["instructions"] == "Hi"
    assert tools_named(payload) == ["get_weather"]
    assert session.ready


def test_app_inputs_wait_for_the_instructions_and_replay_in_order() -> None:
    session = Session(_dynamic_agent())
    ask = one(session.handle(inputs.Connected()), effects.ResolveInstructions)
    waiting: list[inputs.Input] = [
        inputs.SendMessage(message="first"),
        inputs.SendAudio(data=b"\x01\x00" * 10),
        inputs.SendMessage(message="second"),
    ]
    for command in waiting:
        assert session.handle(command) == []
    out = session.handle(inputs.InstructionsResolved(request_id=ask.request_id, instructions="I"))
    assert sent_types(out) == [
        "session.update",
        "conversation.item.create",
        "response.create",
        "input_audio_buffer.append",
        "conversation.item.create",
    ]
    texts = [e.item["content"][0]["text"] for e in of_type(out, wire.ConversationItemCreate)]
    assert texts == ["first", "second"]


def test_app_inputs_before_connected_are_queued_too() -> None:
    session = Session(agent())
    assert session.handle(inputs.SendMessage(message="early")) == []
    out = session.handle(inputs.Connected())
    assert sent_types(out) == ["session.update", "conversation.item.create", "response.create"]


def test_the_start_queue_is_bounded() -> None:
    session = Session(_dynamic_agent(), config=RunConfig(max_pending_app_inputs=2))
    session.handle(inputs.Connected())
    session.handle(inputs.SendMessage(message="1"))
    session.handle(inputs.SendMessage(message="2"))
    with pytest.raises(LocalProtocolError, match="max_pending_app_inputs"):
        session.handle(inputs.SendMessage(message="3"))


def test_failed_instructions_give_an_error_event_and_the_session_still_starts() -> None:
    session = Session(_dynamic_agent())
    ask = one(session.handle(inputs.Connected()), effects.ResolveInstructions)
    out = session.handle(
        inputs.InstructionsResolved(request_id=ask.request_id, error="KeyError: 'user'")
    )
    error = one(out, events.ErrorEvent)
    assert error.code == "instructions_failed"
    assert "KeyError" in error.message
    assert sent_types(out) == ["session.update"]
    assert session.ready
    assert sent_types(session.handle(inputs.SendMessage(message="hi")))[-1] == "response.create"


def test_an_unknown_instructions_request_is_the_callers_error() -> None:
    session = Session(_dynamic_agent())
    session.handle(inputs.Connected())
    with pytest.raises(LocalProtocolError):
        session.handle(inputs.InstructionsResolved(request_id="nope", instructions="x"))


# -- closing ---------------------------------------------------------------------------------


def test_close_asks_to_close_the_connection_and_ends_the_session() -> None:
    session = started()
    out = session.handle(inputs.Close())
    assert one(out, effects.CloseConnection).code == 1000
    assert one(out, events.ConnectionClosedEvent).code == 1000
    assert session.closed
    with pytest.raises(LocalProtocolError, match="closed"):
        session.handle(inputs.SendMessage(message="still there?"))


def test_connection_lost_ends_the_session_naming_code_and_reason() -> None:
    session = started(config=RunConfig(reconnect=None))  # (with it, 1011 is retried)
    out = session.handle(inputs.ConnectionLost(code=1011, reason="keepalive ping timeout"))
    closed = one(out, events.ConnectionClosedEvent)
    assert (closed.code, closed.reason) == (1011, "keepalive ping timeout")
    assert of_type(out, effects.CloseConnection) == []
    with pytest.raises(LocalProtocolError, match=r"1011.*keepalive ping timeout"):
        session.handle(inputs.SendAudio(data=b"\x00\x00"))


@pytest.mark.parametrize(
    "end", [inputs.Close(), inputs.ConnectionLost(code=1008, reason="policy")], ids=repr
)
def test_a_tool_result_after_the_end_is_ignored(end: inputs.Input) -> None:
    session = started()
    session.handle(created("r1"))
    session.handle(args_done("r1", "call_1", "get_weather", '{"city": "Oslo"}'))
    session.handle(end)
    assert session.handle(inputs.ToolResult(call_id="call_1", output="Sunny")) == []


def test_server_events_after_the_end_are_only_echoed() -> None:
    session = started()
    session.handle(inputs.Close())
    out = session.handle(audio_delta("r1", "i1", 480))
    assert [type(o) for o in out] == [events.RawModelEvent]


# -- determinism -----------------------------------------------------------------------------


def _script() -> list[tuple[Any, float]]:
    return [
        (inputs.Connected(), 0.0),
        (inputs.SendMessage(message="weather in Oslo?"), 0.1),
        (inputs.SendMessage(message="and in Rome?"), 0.2),
        (created("r1"), 0.3),
        (audio_delta("r1", "i1", 4800), 0.4),
        (transcript_delta("r1", "i1", "Let me check."), 0.4),
        (args_done("r1", "call_1", "get_weather", '{"city": "Oslo"}'), 0.5),
        (inputs.Interrupt(), 0.6),
        (done("r1", status="cancelled"), 0.7),
        (inputs.ToolResult(call_id="call_1", output="Rain"), 0.8),
        (inputs.TimerFired(now=40.0), 40.0),
    ]


def _run(session: Session, script: list[tuple[Any, float]]) -> list[Any]:
    feed = Feed(session)
    for item, now in script:
        feed(item, now=now)
    return feed.out


def test_the_same_inputs_give_the_same_outputs() -> None:
    the_agent = agent(tools=[get_weather])
    script = _script()
    first, second = _run(Session(the_agent), script), _run(Session(the_agent), script)
    assert first == second
    assert len(sent(first)) >= 6


def test_the_same_inputs_give_the_same_outputs_with_a_custom_id_factory() -> None:
    the_agent = agent(tools=[get_weather])

    def ids() -> Any:
        counter = iter(range(1000))
        return lambda: f"custom-{next(counter)}"

    script = _script()
    first = _run(Session(the_agent, id_factory=ids()), script)
    second = _run(Session(the_agent, id_factory=ids()), script)
    assert first == second
    # Ids come from the factory only: the session.update took the first, the create the next.
    assert creates(first)[0].event_id == "custom-1"


# -- the beta dialect ------------------------------------------------------------------------


def test_a_beta_session_decodes_beta_frames() -> None:
    session = started(dialect="beta")
    session.handle(created("r1"))
    frame = json.dumps(
        {
            "type": "response.audio.delta",
            "event_id": "ev_1",
            "response_id": "r1",
            "item_id": "i1",
            "output_index": 0,
            "content_index": 0,
            "delta": base64.b64encode(b"\x01\x02" * 240).decode(),
        }
    )
    out = session.handle(frame)
    audio = one(out, events.AudioEvent)
    assert audio.data == b"\x01\x02" * 240
    assert (audio.response_id, audio.item_id) == ("r1", "i1")


def test_a_beta_session_encodes_beta_frames() -> None:
    settings = SessionModelSettings(voice="alloy", output_audio_format=PCMU)
    session = Session(agent(), config=RunConfig(model_settings=settings), dialect="beta")
    out = session.handle(inputs.Connected())
    (update,) = sent(out, dialect="beta")
    frame = json.loads(session.encode(update))
    assert frame["session"]["voice"] == "alloy"
    assert frame["session"]["output_audio_format"] == "g711_ulaw"
    assert "audio" not in frame["session"]


def test_a_ga_frame_of_a_beta_only_name_is_not_audio_in_a_ga_session() -> None:
    session = started()
    out = session.handle(json.dumps({"type": "response.audio.delta", "event_id": "e"}))
    assert of_type(out, events.AudioEvent) == []
    assert isinstance(one(out, events.RawModelEvent).data, wire.UnknownServerEvent)


def test_the_determinism_script_answers_its_call_once() -> None:
    out = _run(Session(agent(tools=[get_weather])), _script())
    assert [o["call_id"] for o in outputs_given(out)] == ["call_1"]
