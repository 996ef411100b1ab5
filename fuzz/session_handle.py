"""Coverage-guided fuzzing of the ``Session`` with atheris: server frames and application
inputs, interleaved.

    python fuzz/session_handle.py -runs=100000
    python fuzz/session_handle.py corpus_dir -max_total_time=600
    FUZZ_PLAIN_CODECS=1 python fuzz/session_handle.py -runs=100000   # without the codecs' coverage

Each input is one session: the first byte picks the dialect (GA or beta); the rest is a
sequence of steps, each one of: a server frame (raw bytes as text; an object of a real server
event type with fuzzed fields; a frame the fake server really sent in a recorded
conversation, as it is or mutated at fuzzer-chosen places), an application input
(``SendMessage``, ``SendAudio``, ``Interrupt``, ``AudioPlayed``, ``ToolResult`` and the other
effects' answers, with ids the session asked about or made up, ``TimerFired``, ``Connected``,
``ConnectionLost``, ``Close``...).

The invariant is the Session's contract (DESIGN.md section 2): anything the server can send
never makes ``handle`` raise, and application misuse raises ``LocalProtocolError`` only. Any
other exception is a crash that atheris reports with the input that caused it.
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import atheris
from harness import FIELD_NAMES, INSTRUMENTED, fuzzed_value, instrument_codecs, mutate

with atheris.instrument_imports(include=INSTRUMENTED):
    from realtime_sansio.protocol import (
        Agent,
        LocalProtocolError,
        Session,
        effects,
        function_tool,
        inputs,
        wire,
    )
    from realtime_sansio.protocol.agent import GuardrailFunctionOutput, output_guardrail
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


@output_guardrail
def no_secrets(context: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(tripwire_triggered="secret" in text)


SUPPORT = Agent(name="Support", instructions=lambda context: "Help.")
AGENT = Agent(
    name="Greeter",
    instructions="Be brief.",
    tools=[get_weather],
    handoffs=[SUPPORT],
    output_guardrails=[no_secrets],
)


def _recorded(dialect: wire.Dialect) -> list[str]:
    """Every frame the fake sends in a conversation with text, a tool call, a handoff, spoken
    replies, a VAD turn with transcription, a truncation, and a refused event."""
    server = FakeRealtimeServer(FakeServerConfig(dialect=dialect))
    frames: list[str] = []

    def keep(outputs: list[ServerOutput]) -> None:
        for output in outputs:
            if isinstance(output, RawFrame):
                frames.append(output.text)
            elif not isinstance(output, CloseConnection):
                frames.append(wire.encode_server_event(output))

    def send(event: wire.ClientEvent) -> None:
        keep(server.receive(wire.encode_client_event(event, dialect=dialect), 1.0))

    def say(text: str) -> None:
        content = [{"type": "input_text", "text": text}]
        send(
            wire.ConversationItemCreate(
                item={"type": "message", "role": "user", "content": content}
            )
        )

    keep(server.connected(0.0))
    tools = [tool.to_wire() for tool in AGENT.all_tools()]
    transcription = {"model": "whisper-1"}
    send(
        wire.SessionUpdate(
            session={
                "type": "realtime",
                "tools": tools,
                "audio": {"input": {"transcription": transcription}},
            }
        )
    )
    say("What's the weather in Paris?")
    send(wire.ResponseCreate(response={"output_modalities": ["text"]}))
    call = next((i for i in server.model.items() if i.get("type") == "function_call"), None)
    if call is not None:
        output = {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny"}
        send(wire.ConversationItemCreate(item=output))
    send(wire.ResponseCreate())
    say("Please transfer me to support")
    send(wire.ResponseCreate())
    speech = synthesize_speech("Tell me a secret")
    send(wire.InputAudioBufferAppend(audio=bytes(9600) + speech + bytes(48_000)))
    spoken = [i for i in server.model.items() if i.get("role") == "assistant"]
    if spoken:
        send(
            wire.ConversationItemTruncate(item_id=spoken[0]["id"], content_index=0, audio_end_ms=50)
        )
    keep(server.receive('{"type": "response.dance", "event_id": "e1"}', 2.0))
    # Three of each type at most: audio deltas would otherwise be a third of the picks.
    seen: dict[str, int] = {}
    kept = []
    for frame in frames:
        kind = json.loads(frame)["type"]
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= 3:
            kept.append(frame)
    return kept


RECORDED = {"ga": _recorded("ga"), "beta": _recorded("beta")}
ITEM_IDS = {
    dialect: sorted({str(json.loads(f).get("item_id")) for f in frames if '"item_id"' in f})
    for dialect, frames in RECORDED.items()
}
SERVER_TYPES = sorted(cls.type for cls in wire.SERVER_EVENT_CLASSES)


def server_frame(fdp: Any, dialect: wire.Dialect) -> str:
    mode = fdp.ConsumeIntInRange(0, 4)
    if mode == 0:
        return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 64)))
    if mode == 1:
        obj: dict[str, Any] = {"type": fdp.PickValueInList(SERVER_TYPES)}
        for _ in range(fdp.ConsumeIntInRange(0, 6)):
            obj[fdp.PickValueInList(FIELD_NAMES)] = fuzzed_value(fdp)
        return json.dumps(obj)
    frame = str(fdp.PickValueInList(RECORDED[dialect]))
    if mode == 2:
        return frame  # as sent: the conversation moves on
    return json.dumps(mutate(fdp, copy.deepcopy(json.loads(frame))))


class Driver:
    """A session and what the fuzzer may refer to: the ids its effects asked about, items."""

    def __init__(self, dialect: wire.Dialect) -> None:
        self.session = Session(AGENT, dialect=dialect)
        self.now = 0.0
        self.ids: dict[str, list[str]] = {"call": [], "run": [], "request": [], "item": []}
        self.ids["item"] += ITEM_IDS[dialect]

    def server(self, text: str) -> None:
        self._seen(self.session.handle(text, now=self.now))

    def app(self, event: Any) -> None:
        try:
            outputs = self.session.handle(event, now=self.now)
        except LocalProtocolError:
            return  # misuse: the one exception the contract allows
        self._seen(outputs)

    def _seen(self, outputs: list[Any]) -> None:
        for output in outputs:
            if isinstance(output, effects.CallTool):
                self.ids["call"].append(output.call_id)
            elif isinstance(output, effects.RunGuardrails):
                self.ids["run"].append(output.run_id)
                self.ids["item"].append(output.item_id)
            elif isinstance(output, effects.ResolveInstructions):
                self.ids["request"].append(output.request_id)

    def an_id(self, fdp: Any, kind: str) -> str:
        known = self.ids[kind]
        if known and fdp.ConsumeBool():
            return str(fdp.PickValueInList(known))
        return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 8)))


def app_input(fdp: Any, driver: Driver) -> Any:
    def text() -> str:
        return str(fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 24)))

    choice = fdp.ConsumeIntInRange(0, 14)
    if choice == 0:
        return inputs.SendMessage(message=text())
    if choice == 1:
        return inputs.SendAudio(
            data=fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 9600)), commit=fdp.ConsumeBool()
        )
    if choice == 2:
        return inputs.ClearAudio()
    if choice == 3:
        return inputs.Interrupt(force_cancel=fdp.ConsumeBool())
    if choice == 4:
        item = driver.an_id(fdp, "item")
        return inputs.AudioPlayed(
            item_id=item, content_index=fdp.ConsumeIntInRange(-1, 2), ms=fdp.ConsumeRegularFloat()
        )
    if choice == 5:
        return inputs.ToolResult(
            call_id=driver.an_id(fdp, "call"), output=text(), failed=fdp.ConsumeBool()
        )
    if choice == 6:
        tripped = ("no_secrets",) if fdp.ConsumeBool() else ()
        return inputs.GuardrailResult(run_id=driver.an_id(fdp, "run"), tripped=tripped)
    if choice == 7:
        error = text() if fdp.ConsumeBool() else None
        return inputs.InstructionsResolved(
            request_id=driver.an_id(fdp, "request"), instructions=text(), error=error
        )
    if choice == 8:
        return inputs.ApproveTool(call_id=driver.an_id(fdp, "call"))
    if choice == 9:
        return inputs.RejectTool(call_id=driver.an_id(fdp, "call"), message=text())
    if choice == 10:
        return inputs.SendRawEvent(
            event={
                "type": fdp.PickValueInList(sorted(c.type for c in wire.CLIENT_EVENT_CLASSES)),
                FIELD_NAMES[0]: fuzzed_value(fdp),
            }
        )
    if choice == 11:
        return inputs.Connected()
    if choice == 12:
        return inputs.ConnectionLost(
            code=fdp.PickValueInList([None, 1000, 1001, 1006, 1011, 4000]), reason=text()
        )
    if choice == 13:
        return inputs.Close()
    timer = driver.session.get_timer()
    return inputs.TimerFired(now=timer if timer is not None else driver.now)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    dialect: wire.Dialect = "beta" if fdp.ConsumeBool() else "ga"
    driver = Driver(dialect)
    driver.app(inputs.Connected())
    for _ in range(fdp.ConsumeIntInRange(1, 12)):
        driver.now += fdp.PickValueInList([0.0, 0.0, 0.05, 1.0, 40.0])
        if fdp.ConsumeIntInRange(0, 2):
            driver.server(server_frame(fdp, dialect))
        else:
            driver.app(app_input(fdp, driver))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
