"""Conversation items (wire round trips, checked against the openai package) and the History."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import validate_client_event, validate_server_event
from realtime_sansio.protocol.errors import LocalProtocolError, RemoteProtocolError
from realtime_sansio.protocol.history import History
from realtime_sansio.protocol.items import (
    AssistantMessage,
    FunctionCall,
    FunctionCallOutput,
    InputAudio,
    InputImage,
    InputText,
    Item,
    OutputAudio,
    OutputText,
    SystemMessage,
    UnknownItem,
    UserMessage,
    content_from_wire,
    content_to_wire,
    function_call_output,
    item_from_wire,
    item_to_wire,
    system_text,
    user_message,
    user_text,
)

# -- strategies ----------------------------------------------------------------------------

ids = st.none() | st.text("abcdef0123456789_", min_size=1, max_size=12).map("item_".__add__)
statuses = st.sampled_from([None, "completed", "incomplete", "in_progress"])
texts = st.text(max_size=30)
audio = st.none() | st.binary(max_size=40)
user_parts = st.one_of(
    st.builds(InputText, text=texts),
    st.builds(InputAudio, audio=audio, transcript=st.none() | texts),
    st.builds(
        InputImage,
        image_url=st.just("data:image/png;base64,iVBORw0KGgo="),
        detail=st.sampled_from([None, "auto", "low", "high"]),
    ),
)
assistant_parts = st.one_of(
    st.builds(OutputText, text=texts),
    st.builds(OutputAudio, audio=audio, transcript=st.none() | texts),
)
items: st.SearchStrategy[Item] = st.one_of(
    st.builds(UserMessage, id=ids, content=st.lists(user_parts, max_size=3), status=statuses),
    st.builds(
        AssistantMessage, id=ids, content=st.lists(assistant_parts, max_size=3), status=statuses
    ),
    st.builds(
        SystemMessage,
        id=ids,
        content=st.lists(st.builds(InputText, text=texts), max_size=2),
        status=statuses,
    ),
    st.builds(FunctionCall, id=ids, call_id=texts, name=texts, arguments=texts, status=statuses),
    st.builds(FunctionCallOutput, id=ids, call_id=texts, output=texts, status=statuses),
)


def create_event(item: Item) -> dict[str, Any]:
    return {"type": "conversation.item.create", "item": item_to_wire(item)}


# -- wire ----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(items)
def test_round_trip_and_every_item_is_a_valid_item_create(item: Item) -> None:
    wire = item_to_wire(item)
    assert item_from_wire(wire) == item
    assert None not in wire.values()
    validate_client_event(create_event(item))


@settings(max_examples=100, deadline=None)
@given(items.filter(lambda i: i.id is not None))
def test_items_in_server_events_validate_as_the_server_sends_them(item: Item) -> None:
    event = {
        "type": "conversation.item.added",
        "event_id": "event_1",
        "previous_item_id": None,
        "item": {**item_to_wire(item), "object": "realtime.item"},
    }
    validate_server_event(event)
    assert item_from_wire(event["item"]) == item


def test_convenience_constructors_give_valid_items() -> None:
    made = [
        user_text("hello"),
        user_message(
            "look", ["https://example.com/a.png", InputImage(image_url="x", detail="low")]
        ),
        system_text("be brief", id="sys_1"),
        function_call_output("call_1", "Sunny"),
    ]
    for item in made:
        validate_client_event(create_event(item))
    assert item_to_wire(made[0]) == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "hello"}],
    }
    assert item_to_wire(made[3]) == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "Sunny",
    }


def test_audio_is_base64_on_the_wire_and_bytes_in_items() -> None:
    item = UserMessage(content=[InputAudio(audio=b"\x00\x01\xff", transcript="hi")])
    assert item_to_wire(item)["content"][0] == {
        "type": "input_audio",
        "audio": "AAH/",
        "transcript": "hi",
    }
    parsed = item_from_wire(item_to_wire(item))
    assert isinstance(parsed, UserMessage)
    assert parsed.content[0] == InputAudio(audio=b"\x00\x01\xff", transcript="hi")
    assert "bytes" in repr(OutputAudio(audio=b"x" * 100_000)) and len(repr(parsed)) < 200


def test_assistant_content_uses_ga_output_text() -> None:
    wire = item_to_wire(AssistantMessage(content=[OutputText(text="hi")]))
    assert wire["content"] == [{"type": "output_text", "text": "hi"}]
    with pytest.raises(pydantic.ValidationError):  # the oracle refuses the beta spelling
        validate_client_event(
            {"type": "conversation.item.create", "item": {**wire, "content": [{"type": "text"}]}}
        )


def test_content_parts_on_their_own() -> None:
    part = content_from_wire({"type": "output_audio", "transcript": ""})
    assert part == OutputAudio(transcript="")
    assert content_to_wire(part) == {"type": "output_audio", "transcript": ""}
    with pytest.raises(RemoteProtocolError) as info:
        content_from_wire({"type": "output_hologram"})
    assert info.value.field == "type"


@pytest.mark.parametrize(
    ("wire", "field", "words"),
    [
        (
            {"type": "function_call", "id": "i", "name": "f", "arguments": "{}"},
            "call_id",
            "missing",
        ),
        ({"type": "function_call", "call_id": "c", "name": 3}, "name", "int"),
        ({"type": "function_call_output", "call_id": "c"}, "output", "function_call_output"),
        ({"type": "message", "role": "user", "content": "hi"}, "content", "user message"),
        ({"type": "message", "content": []}, "role", "message item"),
        (
            {"type": "message", "role": "user", "content": [{"type": "input_text"}]},
            "content[0].text",
            "user message",
        ),
        (
            {"type": "message", "role": "user", "content": [{"type": "input_audio", "audio": "!"}]},
            "content[0].audio",
            "base64",
        ),
        (
            {"type": "message", "role": "assistant", "content": [], "status": "done"},
            "status",
            "in_progress",
        ),
        (
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "detail": "x"}],
            },
            "content[0].image_url",
            "missing",
        ),
        (
            {"type": "message", "role": "user", "content": [{"type": "output_text", "text": ""}]},
            "content",
            "OutputText",
        ),
        ({"id": "x"}, "type", "item"),
        ([], "item", "list"),
    ],
)
def test_malformed_items_name_the_item_and_the_field(wire: Any, field: str, words: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        item_from_wire(wire)
    assert info.value.field == field
    assert words in str(info.value)


def test_what_is_not_modelled_is_kept_whole() -> None:
    mcp = {"type": "mcp_call", "id": "mcp_1", "server_label": "s", "name": "n", "arguments": "{}"}
    odd_role = {"type": "message", "id": "m_1", "role": "developer", "content": []}
    odd_part = {"type": "message", "id": "m_2", "role": "user", "content": [{"type": "input_file"}]}
    for wire in (mcp, odd_role, odd_part):
        item = item_from_wire(wire)
        assert item == UnknownItem(id=wire["id"], type=wire["type"], raw=wire)
        assert item_to_wire(item) == wire


def test_a_role_holds_only_its_own_parts() -> None:
    with pytest.raises(LocalProtocolError, match="assistant message"):
        AssistantMessage(content=[InputText(text="x")])  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError, match="system message"):
        SystemMessage(content=[InputAudio()])  # type: ignore[list-item]


# -- History -------------------------------------------------------------------------------


def msg(item_id: str, text: str = "") -> UserMessage:
    return UserMessage(id=item_id, content=[InputText(text=text)])


def order(history: History) -> list[str | None]:
    return [item.id for item in history]


def test_history_orders_by_previous_item_id() -> None:
    history = History()
    assert history.upsert(msg("a")) is True
    assert history.upsert(msg("c"), previous_item_id="a") is True
    assert history.upsert(msg("b"), previous_item_id="a") is True
    assert history.upsert(msg("z"), at_start=True) is True
    assert history.upsert(msg("d"), previous_item_id="never_seen") is True
    assert order(history) == ["z", "a", "b", "c", "d"]
    assert history.previous_id("b") == "a" and history.previous_id("z") is None
    assert history.last_id == "d"
    assert len(history) == 5 and "b" in history and "q" not in history


def test_history_replaces_known_items_in_place() -> None:
    history = History()
    for name in "abc":
        history.upsert(msg(name))
    assert history.upsert(msg("b", "new"), previous_item_id="c") is False
    assert order(history) == ["a", "b", "c"]
    assert history.get("b") == msg("b", "new")


def test_history_delete_get_clear() -> None:
    history = History()
    for name in "abc":
        history.upsert(msg(name))
    assert history.delete("b") == msg("b")
    assert history.delete("b") is None
    assert history.get("b") is None
    assert order(history) == ["a", "c"] and history.previous_id("c") == "a"
    history.clear()
    assert len(history) == 0 and history.items() == [] and history.last_id is None


def test_history_refuses_misuse() -> None:
    history = History()
    with pytest.raises(LocalProtocolError, match="id"):
        history.upsert(user_text("no id"))
    with pytest.raises(LocalProtocolError, match="not both"):
        history.upsert(msg("a"), previous_item_id="x", at_start=True)
    with pytest.raises(LocalProtocolError, match="max_items"):
        History(max_items=0)
    with pytest.raises(KeyError):
        history.previous_id("nope")


def test_history_forgets_the_first_items_beyond_its_bound() -> None:
    history = History(max_items=3)
    for name in "abcde":
        history.upsert(msg(name))
    assert order(history) == ["c", "d", "e"]
    assert History().max_items == 10_000


def test_iterating_is_over_a_snapshot() -> None:
    history = History()
    for name in "abc":
        history.upsert(msg(name))
    seen = []
    for item in history:
        assert item.id is not None
        seen.append(item.id)
        history.delete(item.id)
    assert seen == ["a", "b", "c"] and len(history) == 0


def test_deltas_accumulate_text_transcripts_and_arguments() -> None:
    history = History()
    history.upsert(AssistantMessage(id="a", content=[]))
    assert history.append_transcript("a", 0, "x") is False  # no part yet
    assert history.set_content_part("a", 0, OutputAudio(transcript="")) is True
    assert history.set_content_part("a", 1, OutputText(text="")) is True
    assert history.set_content_part("a", 3, OutputText(text="")) is False  # a gap
    assert history.set_content_part("a", 2, InputText(text="")) is False  # not an assistant's
    chunks = [f"w{i} " for i in range(3000)]  # more than one compaction's worth
    for chunk in chunks:
        assert history.append_transcript("a", 0, chunk)
    assert history.append_transcript("a", 1, "te") and history.append_transcript("a", 1, "xt")
    item = history.get("a")
    assert item == AssistantMessage(
        id="a", content=[OutputAudio(transcript="".join(chunks)), OutputText(text="text")]
    )
    assert history.append_transcript("a", 1, "!") and history.items()[0] == AssistantMessage(
        id="a", content=[OutputAudio(transcript="".join(chunks)), OutputText(text="text!")]
    )

    history.upsert(FunctionCall(id="f", call_id="c", name="get", arguments=""))
    for chunk in ['{"ci', 'ty": ', '"Paris"}']:
        assert history.append_arguments("f", chunk)
    assert history.get("f") == FunctionCall(
        id="f", call_id="c", name="get", arguments='{"city": "Paris"}'
    )
    assert history.append_arguments("a", "x") is False
    assert history.append_transcript("f", 0, "x") is False
    assert history.append_transcript("unknown", 0, "x") is False


def test_a_new_server_version_of_an_item_supersedes_buffered_deltas() -> None:
    history = History()
    history.upsert(AssistantMessage(id="a", content=[OutputText(text="")]))
    history.append_transcript("a", 0, "partial")
    done = AssistantMessage(id="a", content=[OutputText(text="whole")], status="completed")
    history.upsert(done)
    assert history.get("a") == done


def test_input_transcription_and_truncation() -> None:
    history = History()
    history.upsert(UserMessage(id="u", content=[InputAudio()]))
    assert history.append_transcript("u", 0, "hel")
    assert history.set_transcript("u", 0, "hello")
    assert history.get("u") == UserMessage(id="u", content=[InputAudio(transcript="hello")])
    assert history.set_transcript("u", 1, "x") is False

    history.upsert(AssistantMessage(id="a", content=[OutputAudio(transcript="")]))
    history.append_transcript("a", 0, "words the user never heard")
    assert history.truncation("a") is None
    assert history.truncate_audio("a", 0, 1500) is True
    assert history.get("a") == AssistantMessage(id="a", content=[OutputAudio(transcript="")])
    assert history.truncation("a") == (0, 1500)
    assert history.truncate_audio("u", 0, 10) is False  # only assistant audio is truncated
    with pytest.raises(LocalProtocolError):
        history.truncate_audio("a", 0, -1)
    history.delete("a")
    assert history.truncation("a") is None


# A reference model: the same operations on a plain list, O(n) each, obviously right.
id_pool = st.sampled_from([f"i{n}" for n in range(8)])
operations = st.lists(
    st.one_of(
        st.tuples(st.just("upsert"), id_pool, st.none() | id_pool, st.booleans(), texts),
        st.tuples(st.just("delete"), id_pool),
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(operations, st.integers(min_value=1, max_value=6))
def test_history_agrees_with_a_list_model(ops: list[tuple[Any, ...]], bound: int) -> None:
    history = History(max_items=bound)
    model: list[tuple[str, str]] = []
    for op in ops:
        ids_now = [i for i, _ in model]
        if op[0] == "delete":
            _, item_id = op
            removed = history.delete(item_id)
            assert (removed is not None) == (item_id in ids_now)
            model = [(i, t) for i, t in model if i != item_id]
        else:
            _, item_id, previous, at_start, text = op
            at_start = at_start and previous is None
            new = history.upsert(msg(item_id, text), previous_item_id=previous, at_start=at_start)
            assert new == (item_id not in ids_now)
            if not new:
                model[ids_now.index(item_id)] = (item_id, text)
            elif at_start:
                model.insert(0, (item_id, text))
            elif previous in ids_now:
                model.insert(ids_now.index(previous) + 1, (item_id, text))
            else:
                model.append((item_id, text))
            del model[: max(0, len(model) - bound)]
        assert history.items() == [msg(i, t) for i, t in model]
        assert len(history) == len(model) == len({i for i, _ in model})
        for index, (item_id, _) in enumerate(model):
            assert history.previous_id(item_id) == (model[index - 1][0] if index else None)
        assert history.last_id == (model[-1][0] if model else None)
