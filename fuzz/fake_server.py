"""Coverage-guided fuzzing of the fake Realtime server with atheris.

    python fuzz/fake_server.py -runs=100000
    python fuzz/fake_server.py corpus_dir -max_total_time=600
    FUZZ_PLAIN_CODECS=1 python fuzz/fake_server.py -runs=100000   # without the codecs' coverage

Each input is one session: the first byte picks the dialect (GA or beta) and the timing
(instant, audio in real time on the timer, or the realistic latency model); the rest is a
sequence of steps, each a client frame (raw bytes as text, an object of a real client event
type with fuzzed fields, or a real client event mutated at fuzzer-chosen places: null, {}, [],
strings, huge numbers, deep nesting, keys dropped or added) or a clock step that fires the
server's timer when it is due.

The invariant is docs/fake-server.md's promise: whatever the client sends, no call raises;
every output is a close, or a frame that parses as JSON and that our client codec decodes as
a known server event; and at the end the server still serves (once its responses are over, a
valid ``response.create`` gets ``response.created``). tests/test_fake_server_fuzz.py holds the
same invariant in CI with hypothesis, and checks every event against the ``openai`` package.
"""

from __future__ import annotations

import base64
import copy
import json
import sys
from typing import Any

import atheris
from harness import FIELD_NAMES, INSTRUMENTED, fuzzed_value, instrument_codecs, mutate

with atheris.instrument_imports(include=INSTRUMENTED):
    from realtime_sansio.protocol import Agent, Session, function_tool, inputs, wire
    from realtime_sansio.protocol.fake import (
        CloseConnection,
        FakeRealtimeServer,
        FakeServerConfig,
        RawFrame,
        ServerOutput,
        synthesize_speech,
    )

instrument_codecs()


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return city


def _client_samples() -> list[dict[str, Any]]:
    """Real client events, GA: what our Session sends first, and the rest by hand."""
    agent = Agent(name="Greeter", instructions="Be brief.", tools=[get_weather])
    opening = Session(agent).handle(inputs.Connected())
    samples = [wire.client_event_to_json(e) for e in opening if isinstance(e, wire.ClientEventBase)]
    speech = base64.b64encode(synthesize_speech("What is the weather in Paris?")).decode()
    user_text = {"type": "input_text", "text": "What is the weather in Paris?"}
    return [
        *samples,
        {"type": "input_audio_buffer.append", "audio": speech},
        {"type": "input_audio_buffer.append", "audio": base64.b64encode(bytes(9600)).decode()},
        {"type": "input_audio_buffer.commit"},
        {"type": "input_audio_buffer.clear"},
        {
            "type": "conversation.item.create",
            "item": {"type": "message", "role": "user", "content": [user_text]},
        },
        {"type": "conversation.item.retrieve", "item_id": "item_1"},
        {
            "type": "conversation.item.truncate",
            "item_id": "item_2",
            "content_index": 0,
            "audio_end_ms": 100,
        },
        {"type": "conversation.item.delete", "item_id": "item_1"},
        {"type": "response.create"},
        {
            "type": "response.create",
            "response": {
                "conversation": "none",
                "output_modalities": ["text"],
                "metadata": {"purpose": "fuzz"},
                "input": [{"type": "message", "role": "user", "content": [user_text]}],
                "audio": {"output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}},
            },
        },
        {"type": "response.cancel"},
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcma"},
                        "transcription": {"model": "whisper-1"},
                        "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
                    }
                },
            },
        },
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        },
    ]


SAMPLES = _client_samples()
CLIENT_TYPES = sorted(cls.type for cls in wire.CLIENT_EVENT_CLASSES)


def client_frame(fdp: Any, dialect: wire.Dialect) -> str:
    mode = fdp.ConsumeIntInRange(0, 3)
    if mode == 0:
        return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 64)))
    if mode == 1:
        obj: dict[str, Any] = {"type": fdp.PickValueInList(CLIENT_TYPES)}
        for _ in range(fdp.ConsumeIntInRange(0, 6)):
            obj[fdp.PickValueInList(FIELD_NAMES)] = fuzzed_value(fdp)
        return json.dumps(obj)
    sample = copy.deepcopy(fdp.PickValueInList(SAMPLES))
    return json.dumps(mutate(fdp, wire.client_event_to_json(sample, dialect=dialect)))


def checked(outputs: list[ServerOutput], dialect: wire.Dialect) -> None:
    for output in outputs:
        if isinstance(output, CloseConnection):
            continue
        # The beta dialect sends only raw frames.
        text = output.text if isinstance(output, RawFrame) else wire.encode_server_event(output)
        event = wire.decode_server_event(text, dialect=dialect)
        if isinstance(event, wire.UnknownServerEvent):
            raise AssertionError(f"the fake sent an event nobody knows: {text[:200]}")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    flags = fdp.ConsumeIntInRange(0, 5)
    dialect: wire.Dialect = "beta" if flags & 1 else "ga"
    timing = flags >> 1  # instant, real time, or the latency model of the real server
    config = (
        FakeServerConfig.realistic(dialect=dialect)
        if timing == 2
        else FakeServerConfig(dialect=dialect, pace=float(timing))
    )
    server = FakeRealtimeServer(config)
    now = 0.0
    checked(server.connected(now), dialect)
    for _ in range(fdp.ConsumeIntInRange(1, 8)):
        if fdp.ConsumeIntInRange(0, 4) == 0:
            now += fdp.PickValueInList([0.02, 0.3, 2.0, 30.0])
            deadline = server.get_timer()
            while deadline is not None and deadline <= now:
                checked(server.timer(deadline), dialect)
                deadline = server.get_timer()
        else:
            checked(server.receive(client_frame(fdp, dialect), now), dialect)
    if server.closed:
        return
    for _ in range(10_000):  # let the responses end, on the timer
        deadline = server.get_timer()
        if not server.model.active_response_ids or deadline is None:
            break
        now = max(now, deadline)
        checked(server.timer(now), dialect)
    # In text: a spoken reply would spend most of the run synthesising speech.
    final = wire.ResponseCreate(response={"output_modalities": ["text"]})
    out = server.receive(wire.encode_client_event(final, dialect=dialect), now)
    checked(out, dialect)
    if not server.closed and not any(_kind(o) == "response.created" for o in out):
        raise AssertionError(f"the fake no longer serves: {[_kind(o) for o in out]}")


def _kind(output: ServerOutput) -> str:
    if isinstance(output, RawFrame):
        return str(json.loads(output.text).get("type"))
    return "close" if isinstance(output, CloseConnection) else output.type


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
