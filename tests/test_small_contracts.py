"""Small contracts that the larger tests pass by: the bounded map the session keeps per id,
refusals of values that are not what a field takes, and server data the session passes over."""

from __future__ import annotations

import pytest
from realtime_sansio.protocol import ModelConfig, wire
from realtime_sansio.protocol._recent import RecentMap
from realtime_sansio.protocol.audio.formats import AudioFormat
from realtime_sansio.protocol.errors import LocalProtocolError, RemoteProtocolError
from realtime_sansio.protocol.items import InputImage, UserMessage, item_from_wire
from session_helpers import item_added, notable, started, user_transcript_delta


def test_a_recent_map_forgets_its_oldest_entry_past_its_bound() -> None:
    recent: RecentMap[str, int] = RecentMap(size=2)
    recent["a"], recent["b"] = 1, 2
    recent["a"] = 10  # replacing a value keeps its place
    recent["c"] = 3
    assert list(recent) == ["b", "c"]  # "a" was the oldest
    assert recent["c"] == 3 and "a" not in recent
    with pytest.raises(KeyError):
        recent["a"]
    assert recent.pop("a") is None and recent.pop("b") == 2
    assert list(recent.items()) == [("c", 3)] and list(recent.values()) == [3]


def test_values_a_field_does_not_take_are_refused() -> None:
    with pytest.raises(LocalProtocolError, match="unknown audio format 'audio/flac'"):
        AudioFormat(type="audio/flac")
    with pytest.raises(LocalProtocolError, match="a ws:// or wss:// URL, or None"):
        ModelConfig(url=443)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="a raw client event is a JSON object with a"):
        wire.RawClientEvent(payload={"audio": "AAAA"})


def test_an_item_part_that_is_not_an_object_is_named_with_its_python_type() -> None:
    with pytest.raises(RemoteProtocolError, match=r"'content\[0\]' must be an object \(got set\)"):
        item_from_wire({"type": "message", "role": "user", "content": [{1, 2}]})


def test_an_unknown_beta_event_is_kept_whole() -> None:
    event = wire.decode_server_event('{"type": "x.new", "event_id": "e", "n": 1}', dialect="beta")
    assert isinstance(event, wire.UnknownServerEvent)
    assert event.raw == {"type": "x.new", "event_id": "e", "n": 1}


def test_a_transcript_aimed_at_an_image_leaves_it_be() -> None:
    session = started()
    image = InputImage(image_url="data:image/png;base64,AAAA")
    item = {
        "id": "item_1",
        "type": "message",
        "role": "user",
        "status": "completed",
        "object": "realtime.item",
        "content": [{"type": "input_image", "image_url": image.image_url}],
    }
    session.handle(item_added(item))
    assert notable(session.handle(user_transcript_delta("item_1", "hello")))  # still told
    assert session.history.get("item_1") == UserMessage(
        id="item_1", content=(image,), status="completed"
    )
