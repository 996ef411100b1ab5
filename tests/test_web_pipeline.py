"""``realtime-sansio web --pipeline``: the voice pipeline behind the page, through the same
bridge, with a Python page over in-memory sockets, on asyncio and trio.

The conversation is what the command runs by default: the demo agent as an ``AgentWorkflow``,
against a fresh fake per conversation (its speech endpoints over real HTTP on a loopback
port, and its Realtime endpoint for the agent's text-only session). The fake takes the first
spoken turn for the weather question and the second for the request for support. The pure
mapping, ``PipelineTimeline``, is checked on its own against the pure pipeline core.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from realtime_sansio.protocol import PCM16
from realtime_sansio.protocol.items import AssistantMessage, OutputText
from realtime_sansio.protocol.voice import EnergyVad, Pipeline, VoicePipelineConfig, effects
from realtime_sansio.protocol.voice import inputs as vi
from realtime_sansio.transports.demo import HANDOFF_PROMPT
from realtime_sansio.transports.web import PipelinePageSession, WebBridge
from realtime_sansio.transports.web.pipeline import PipelineTimeline
from runner_helpers import speech
from test_web_bridge import connect, hello, running
from voice_helpers import CoreHarness, speech_audio
from web_helpers import ANSWER, QUESTION, LoggedPipelineKind, Page, pcm_ms, pcm_of

pytestmark = pytest.mark.anyio


async def play_along(page: Page, turn: str) -> dict[str, Any]:
    """Be a page that plays each chunk of ``turn`` at once and says so, until the turn ends."""
    played = 0.0
    with anyio.fail_after(10):
        while True:
            message = await page.receive()
            if message["type"] == "audio" and message["item_id"] == turn:
                played += pcm_ms(len(pcm_of(message)))
                await page.send(type="audio_played", item_id=turn, content_index=0, ms=played)
            elif message["type"] == "agent_end" and message["response_id"] == turn:
                return message


async def test_a_spoken_question_is_answered_through_the_pipeline() -> None:
    bridge = WebBridge(LoggedPipelineKind())
    async with running(bridge) as group:
        page = connect(bridge, group)
        ready = await hello(page)
        assert (ready["kind"], ready["agent"]) == ("pipeline", "Greeter")
        assert ready["controls"] == {"interrupt": True, "push_to_talk": False, "text": False}
        assert "speech endpoints" in ready["target"]
        assert QUESTION in ready["hint"] and "Speak over an answer" in ready["hint"]
        await page.send_audio(speech(QUESTION))
        started = await page.next("speech", state="started")
        stopped = await page.next("speech", state="stopped")
        said = await page.next("caption_done", role="user")
        turn = (await page.next("agent_start"))["response_id"]
        end = await play_along(page, turn)
        # A command the pipeline has no use for is refused, and the conversation goes on.
        await page.send(type="text", text="hello")
        refused = await page.next("error")
    assert 0 < started["ms"] < stopped["ms"]
    assert said["text"] == QUESTION
    assert end == {**end, "agent": "Greeter", "status": "completed"}
    tool = page.of("tool_start")[0]
    assert (tool["name"], page.of("tool_end")[0]["output"]) == (
        "get_weather",
        "Sunny, 21 °C in Paris",
    )
    deltas = [m["delta"] for m in page.of("caption") if m["item_id"] == turn]
    assert "".join(deltas) == ANSWER
    assert [m["item_id"] for m in page.of("audio_done")] == [turn]
    assert page.of("caption_done")[-1] == {**page.of("caption_done")[-1], "text": None}
    (metrics,) = page.of("metrics")
    assert metrics["speech_stopped_to_first_audio_ms"] > 0 and metrics["transcription_ms"] >= 0
    kinds = [m["type"] for m in page.seen]
    # The turn opens before its tool runs; its figures, then the end of its audio, close it.
    assert kinds.index("agent_start") < kinds.index("tool_start") < kinds.index("audio")
    assert kinds.index("metrics") < kinds.index("audio_done") < kinds.index("agent_end")
    assert refused["source"] == "bridge" and "finds your turns" in refused["message"]
    assert not [m for m in page.of("error") if m["source"] == "session"]


async def test_speech_during_the_reply_interrupts_it_where_the_page_was() -> None:
    kind = LoggedPipelineKind()
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        await hello(page)
        await page.send_audio(speech(QUESTION))
        turn = (await page.next("agent_start"))["response_id"]
        received = 0.0
        while received < 2000:  # the first piece (1.41 s) and some of the second
            received += pcm_ms(len(pcm_of(await page.next("audio", item_id=turn))))
        heard = 1700.5
        await page.send(type="audio_played", item_id=turn, content_index=0, ms=heard)
        await page.send_audio(speech(HANDOFF_PROMPT))
        cut = await page.next("interrupted")
        cancelled = await page.next("agent_end", response_id=turn)
        handoff = await page.next("handoff")
        reply = await page.next("caption", role="assistant")
        (session,) = kind.sessions
        assert isinstance(session, PipelinePageSession)
        history = session.agent_session
        assert history is not None
        texts = [
            "".join(part.text for part in item.content if isinstance(part, OutputText))
            for item in history.history
            if isinstance(item, AssistantMessage)
        ]
    assert (cut["item_id"], cut["audio_end_ms"]) == (turn, heard)
    assert [r.ms for r in kind.reports_when_cut(turn)] == [heard]
    assert cancelled["status"] == "cancelled"
    # The next turn hands off, and Support answers in it.
    assert (handoff["from"], handoff["to"]) == ("Greeter", "Support")
    assert reply["item_id"] != turn and reply["delta"].startswith("Hello, this is Support")
    # The agent keeps what was heard of the cut answer, not the answer.
    assert ANSWER not in texts
    assert "Here is what I found: Sunny," in texts


async def test_the_interrupt_button_cuts_the_reply_where_the_page_was() -> None:
    kind = LoggedPipelineKind()
    bridge = WebBridge(kind)
    async with running(bridge) as group:
        page = connect(bridge, group)
        ready = await hello(page)
        await page.send_audio(speech(QUESTION))
        turn = (await page.next("agent_start"))["response_id"]
        received = 0.0
        while received < 1000:
            received += pcm_ms(len(pcm_of(await page.next("audio", item_id=turn))))
        heard = 800.25
        # As the page does: the last report, then the button.
        await page.send(type="audio_played", item_id=turn, content_index=0, ms=heard)
        await page.send(type="interrupt")
        cut = await page.next("interrupted")
        cancelled = await page.next("agent_end", response_id=turn)
        # Nothing more is said until the user speaks again; then the conversation goes on.
        await page.send_audio(speech(HANDOFF_PROMPT))
        handoff = await page.next("handoff")
        starts = [m["response_id"] for m in page.of("agent_start")]
        (session,) = kind.sessions
        assert isinstance(session, PipelinePageSession) and session.agent_session is not None
        texts = [
            "".join(part.text for part in item.content if isinstance(part, OutputText))
            for item in session.agent_session.history
            if isinstance(item, AssistantMessage)
        ]
    assert ready["controls"]["interrupt"] is True
    assert (cut["item_id"], cut["audio_end_ms"]) == (turn, heard)
    assert cancelled["status"] == "cancelled"
    assert starts[0] == turn and (handoff["from"], handoff["to"]) == ("Greeter", "Support")
    assert ANSWER not in texts and any(text and ANSWER.startswith(text) for text in texts)
    assert not page.of("error")


class Mapped:
    """The pure pipeline core with an energy VAD, and the page messages of its events."""

    def __init__(self) -> None:
        self.harness = CoreHarness(
            Pipeline(VoicePipelineConfig(), vad=EnergyVad(), instant_playback=False)
        )
        self.timeline = PipelineTimeline(agent="Echo")
        self.seen: list[dict[str, Any]] = []
        self._mapped = 0
        self.handle(vi.Start())

    def handle(self, event: vi.AnyVoiceInput) -> None:
        self.harness.handle(event)
        self.map()

    def map(self) -> None:
        """Map the core's events since the last call (the harness answers effects itself)."""
        for output in self.harness.outputs[self._mapped :]:
            if not isinstance(output, effects.VoiceEffect):
                self.seen += self.timeline.messages(output, at=self.harness.now)
        self._mapped = len(self.harness.outputs)

    def audio(self, pcm: bytes) -> None:
        for start in range(0, len(pcm), 4800):
            self.handle(vi.AudioChunk(data=pcm[start : start + 4800]))
            self.harness.now += 0.1

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.seen if m["type"] == kind]


def test_the_mapping_of_a_turn_cut_by_speech_and_of_a_failed_one() -> None:
    """``PipelineTimeline`` on the pure core: a reply cut where the page had played it, the
    next turn failing in synthesis, then the end of the session."""
    mapped = Mapped()
    mapped.audio(speech("Hello there, how are you?"))
    mapped.harness.answer_all(transcript=lambda e: "Hello there")
    mapped.map()
    (turn,) = {m["item_id"] for m in mapped.of("audio")}
    assert turn == "turn_1"
    mapped.handle(vi.AudioPlayed(turn_id=turn, ms=300.25))
    mapped.audio(speech("Stop, please."))
    kinds = [m["type"] for m in mapped.seen]
    assert kinds[:3] == ["caption_done", "agent_start", "caption"]
    assert mapped.seen[0] == {
        "type": "caption_done",
        "item_id": "turn_1:user",
        "role": "user",
        "text": "Hello there",
        "t": mapped.seen[0]["t"],
    }
    deltas = [m["delta"] for m in mapped.of("caption")]
    assert "".join(deltas) == "You said Hello there. Anything else?"
    assert deltas[1].startswith(" ")  # pieces are spoken as one caption
    # Each piece's words start after the audio of the pieces before it.
    first_piece_ms = len(speech_audio("You said Hello there.")) * 1000 / PCM16.bytes_per_second
    assert [m["audio_ms"] for m in mapped.of("caption")] == [0, first_piece_ms]
    assert kinds[-4:] == ["metrics", "interrupted", "caption_done", "agent_end"]
    assert mapped.seen[-3]["audio_end_ms"] == 300.25
    assert mapped.seen[-2] == {**mapped.seen[-2], "item_id": turn, "text": None}
    assert mapped.seen[-1] == {**mapped.seen[-1], "agent": "Echo", "status": "cancelled"}
    # The second turn is answered, and its synthesis fails: an error, and a failed turn.
    for event in [
        vi.Transcribed(turn_id="turn_2", text="Stop, please."),
        vi.WorkflowText(turn_id="turn_2", text="Stopping now. "),
        vi.WorkflowDone(turn_id="turn_2"),
    ]:
        mapped.handle(event)
    (synthesis,) = [e for e in mapped.harness.take(effects.Synthesize) if e.turn_id == "turn_2"]
    leak = "HTTP 500: sk-abcdefghijklmnopqrstuvwxyz0123"
    mapped.handle(vi.SynthesisFailed(piece_id=synthesis.piece_id, error=leak))
    mapped.handle(vi.InputClosed())
    kinds = [m["type"] for m in mapped.seen]
    assert kinds[-5:] == ["error", "metrics", "caption_done", "agent_end", "closed"]
    error = mapped.of("error")[0]
    assert error["code"] == "synthesis" and "sk-abcdef" not in error["message"]
    assert mapped.of("agent_end")[-1]["status"] == "failed"
    assert mapped.seen[-1]["text"] == "the voice pipeline ended"
    assert not [m for m in mapped.seen if m.get("item_id") == "turn_2" and m["type"] == "audio"]
