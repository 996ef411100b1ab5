"""The page in a real browser: headless Chromium, driven by Playwright, a WAV as its microphone.

The WAVs are made here from the fake's speech synthesiser, so the fake's server VAD hears them,
and the fake takes the turns for known words (``FakeServerConfig.transcripts``). What runs is
the whole path: the page's capture worklet resamples the "microphone" to 24 kHz, the bridge
feeds a ``RealtimeSession``, the fake answers, the page plays the answer through its jitter
buffer and reports what it played. Server side, one log keeps the page's commands and the
client events in the order they happened.

Chromium is Debian's (``apt-get install chromium``; ``.ci/run`` installs it where it can),
used through ``executable_path``: nothing is downloaded. Without it, or without Playwright,
these tests are skipped and say why. ``REALTIME_SANSIO_SCREENSHOT=path.png`` saves the page
after the barge-in test's conversation (docs/web.md's picture is made so).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
import pytest
from realtime_sansio.protocol import PCM16
from realtime_sansio.protocol.audio import write_wav
from realtime_sansio.protocol.fake import FakeServerConfig, synthesize_speech
from realtime_sansio.transports.demo import HANDOFF_PROMPT
from realtime_sansio.transports.web import SessionKind, WebBridge, serve_web
from realtime_sansio.transports.web.commands import AudioPlayed
from web_helpers import ANSWER, QUESTION, LoggedKind, LoggedPipelineKind

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    from playwright.async_api import BrowserContext, Page, async_playwright
except ImportError:  # pragma: no cover - the test extra has it
    async_playwright = None

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        async_playwright is None, reason="playwright is not installed: pip install -e '.[test]'"
    ),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium on PATH: apt-get install chromium (.ci/run does so where it may)",
    ),
    pytest.mark.skipif(sys.platform != "linux", reason="the browser tests run on Linux"),
]

# The headless flags the project settles on, then a WAV file as the microphone.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
WAIT_MS = 30_000  # a generous bound for a loaded machine; nothing here is a timing assertion
HEARS = FakeServerConfig(pace=0.5, transcripts={0: QUESTION, 1: HANDOFF_PROMPT})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Playwright's async API is asyncio's


def silence(ms: int) -> bytes:
    return bytes(PCM16.bytes_per_second * ms // 1000)


def wav(path: Path, *pieces: bytes) -> Path:
    write_wav(str(path), b"".join(pieces), PCM16.rate)
    return path


@asynccontextmanager
async def serving(kind: SessionKind) -> AsyncIterator[int]:
    ports: list[int] = []
    bound = anyio.Event()

    def ready(port: int) -> None:
        ports.append(port)
        bound.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: serve_web(WebBridge(kind), "127.0.0.1", 0, ready=ready))
        await bound.wait()
        yield ports[0]
        group.cancel_scope.cancel()


@asynccontextmanager
async def chromium(microphone: Path | None, profile: Path) -> AsyncIterator[Page]:
    """A fresh headless Chromium whose microphone plays ``microphone`` once (None: it has no
    microphone to give); page errors and console errors (a CSP violation among them) fail
    the test."""
    assert async_playwright is not None and CHROMIUM is not None
    problems: list[str] = []
    if microphone is None:
        args = [flag for flag in FLAGS if "media-stream" not in flag]
    else:
        args = [*FLAGS, f"--use-file-for-fake-audio-capture={microphone}%noloop"]
    async with async_playwright() as playwright:
        context: BrowserContext = await playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=args,
            viewport={"width": 1280, "height": 800},
        )
        try:
            page = await context.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )
            yield page
        finally:
            await context.close()
    assert not problems, problems


async def state(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.realtimePage.state")
    return result


async def until(page: Page, condition: str) -> None:
    """Wait for a JavaScript condition on ``state`` (the page's ``window.realtimePage.state``)."""
    await page.wait_for_function(
        f"() => {{ const state = window.realtimePage.state; return {condition}; }}",
        timeout=WAIT_MS,
    )


def played_in_full(item: str) -> str:
    return (
        f"state.audioDone.includes({item!r}) && state.played[{item!r}] === state.received[{item!r}]"
    )


async def test_a_spoken_question_is_answered_and_played(tmp_path: Path) -> None:
    kind = LoggedKind(HEARS)
    microphone = wav(
        tmp_path / "question.wav", silence(300), synthesize_speech(QUESTION), silence(1000)
    )
    async with serving(kind) as port, chromium(microphone, tmp_path / "profile") as page:
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.click("#start")
        await until(page, "state.audioDone.length === 1")
        item = (await state(page))["audioDone"][0]
        await until(page, played_in_full(item))
        await page.wait_for_selector(".bubble.assistant.done")
        seen = await state(page)
        captions = await page.inner_text("#captions")
        timeline = await page.inner_text("#timeline")
        # Every row of a turn starts at the same place (latency rows once sat further right).
        lefts = await page.eval_on_selector_all(
            ".details > .row .time", "nodes => nodes.map(n => n.getBoundingClientRect().left)"
        )
    assert len(lefts) >= 2 and len(set(lefts)) == 1, lefts
    # The question reached the agent, whose tool ran ...
    outputs = [
        e["item"]["output"]
        for e in kind.client_events("conversation.item.create")
        if e["item"]["type"] == "function_call_output"
    ]
    assert outputs == ["Sunny, 21 °C in Paris"]
    # ... and the answer was played, all of it, and said so to the server.
    received_ms = seen["received"][item] * 1000 / PCM16.rate
    assert seen["samplesPlayed"] == seen["received"][item] > 0
    reports = [c for c in kind.log if isinstance(c, AudioPlayed) and c.item_id == item]
    assert reports[-1].ms == received_ms
    assert [r.ms for r in reports] == sorted(r.ms for r in reports)
    assert [(r["item_id"], r["ms"]) for r in seen["reports"]] == [
        (r.item_id, r.ms) for r in reports
    ]
    # Captions and timeline show it.
    assert QUESTION in captions and ANSWER in captions
    assert "get_weather" in timeline and "Sunny, 21 °C in Paris" in timeline
    assert "speech stopped" in timeline
    assert seen["latencies"], "the page measured no end-of-speech -> first-audio latency"
    print(f"\npage-measured latency, end of speech -> first audio played: {seen['latencies']} ms")
    assert seen["micChunksSent"] > 0 and not seen["errors"]
    kind.recordings[0].check_conformance()


async def test_speech_during_the_reply_interrupts_it_where_the_page_was(tmp_path: Path) -> None:
    kind = LoggedKind(HEARS)
    # The question; the answer starts about half a second after it (the VAD's silence); the
    # user asks for support about a second into the answer's 2.8 s.
    microphone = wav(
        tmp_path / "barge-in.wav",
        silence(300),
        synthesize_speech(QUESTION),
        silence(1600),
        synthesize_speech(HANDOFF_PROMPT),
        silence(1000),
    )
    async with serving(kind) as port, chromium(microphone, tmp_path / "profile") as page:
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.click("#start")
        await until(page, "state.interruptions.length === 1 && state.stopped.length === 1")
        await page.wait_for_selector(".bubble.cut")
        seen = await state(page)
        cut_text = await page.inner_text(".bubble.cut")
        struck = await page.eval_on_selector_all(
            ".bubble.cut .unheard", "nodes => nodes.map(n => n.textContent).join('')"
        )
        # The interruption was a request for support: the handoff, and Support's greeting.
        await page.wait_for_function(
            "() => document.querySelectorAll('.bubble.assistant.done').length === 2",
            timeout=WAIT_MS,
        )
        captions = await page.inner_text("#captions")
        timeline = await page.inner_text("#timeline")
        if screenshot := os.environ.get("REALTIME_SANSIO_SCREENSHOT"):
            # Support's greeting (the cut answer never arrived whole), heard to its end.
            await until(page, "state.audioDone.length === 1")
            await until(page, played_in_full((await state(page))["audioDone"][0]))
            await page.screenshot(path=screenshot)
    (truncate,) = kind.client_events("conversation.item.truncate")
    item, end_ms = truncate["item_id"], truncate["audio_end_ms"]
    # The server cut where the page last said it was when the user spoke.
    reports = kind.reports_when_cut(truncate)
    assert end_ms == math.floor(max(r.ms for r in reports))
    # Mid-answer: less than what had been received, which the page never all played.
    received_ms = seen["received"][item] * 1000 / PCM16.rate
    assert 0 < end_ms < received_ms
    (interruption,) = seen["interruptions"]
    (stopped,) = seen["stopped"]
    assert interruption["item_id"] == stopped["item_id"] == item
    assert interruption["audio_end_ms"] == end_ms
    assert end_ms <= interruption["reported_ms"] <= stopped["ms"] < received_ms
    heard_s = float(cut_text.split("interrupted: heard ")[1].split(" s")[0])
    assert abs(heard_s - end_ms / 1000) <= 0.005 + 1e-9  # shown to the hundredth
    # The words whose audio came after the cut are struck through: the end of what the page
    # had received (the whole answer, unless a loaded machine delivered it slowly); the words
    # before them were heard and stay.
    assert struck and struck in ANSWER and len(struck) < len(ANSWER)
    heard_words = ANSWER[: ANSWER.index(struck)].strip()
    assert heard_words and heard_words in cut_text
    assert "Hello, this is Support" in captions
    assert "Greeter → Support" in timeline
    print(
        f"\ncut at {end_ms} ms of {received_ms:.0f} ms received; the page had reported"
        f" {interruption['reported_ms']:.0f} ms when told, and stopped at {stopped['ms']:.0f} ms"
    )


async def test_the_pipeline_answers_a_spoken_question(tmp_path: Path) -> None:
    """``web --pipeline``: the local VAD finds the turn, the fake transcribes it, the agent's
    tool runs in its text session, the reply is synthesised and played in full."""
    kind = LoggedPipelineKind()
    microphone = wav(
        tmp_path / "question.wav", silence(300), synthesize_speech(QUESTION), silence(1000)
    )
    async with serving(kind) as port, chromium(microphone, tmp_path / "profile") as page:
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.click("#start")
        await until(page, "state.audioDone.length === 1")
        turn = (await state(page))["audioDone"][0]
        await until(page, played_in_full(turn))
        await page.wait_for_selector(".turn.completed")
        seen = await state(page)
        captions = await page.inner_text("#captions")
        timeline = await page.inner_text("#timeline")
        disabled = await page.eval_on_selector_all(
            "#interrupt, #talk, #text, #send", "nodes => nodes.map(n => n.disabled)"
        )
    assert QUESTION in captions and ANSWER in captions
    assert "get_weather" in timeline and "Sunny, 21 °C in Paris" in timeline
    assert "speech stopped" in timeline and "transcription" in timeline
    assert disabled == [True, True, True, True]  # the pipeline is interrupted by speaking
    # Played to the end, and said so: the pipeline ended the turn on the page's reports.
    reports = [c for c in kind.log if isinstance(c, AudioPlayed) and c.item_id == turn]
    assert reports[-1].ms == seen["received"][turn] * 1000 / PCM16.rate > 0
    assert seen["latencies"] and not seen["errors"]
    print(f"\npipeline, end of speech -> first audio played: {seen['latencies']} ms")


async def test_speech_over_the_pipeline_reply_interrupts_it(tmp_path: Path) -> None:
    kind = LoggedPipelineKind()
    # The reply starts about 0.7 s after the question (the VAD's 600 ms of silence, then the
    # models); the user asks for support about a second into its 2.75 s.
    microphone = wav(
        tmp_path / "barge-in.wav",
        silence(300),
        synthesize_speech(QUESTION),
        silence(1700),
        synthesize_speech(HANDOFF_PROMPT),
        silence(1000),
    )
    async with serving(kind) as port, chromium(microphone, tmp_path / "profile") as page:
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.click("#start")
        await until(page, "state.interruptions.length === 1 && state.stopped.length === 1")
        await page.wait_for_selector(".bubble.cut")
        seen = await state(page)
        struck = await page.eval_on_selector_all(
            ".bubble.cut .unheard", "nodes => nodes.map(n => n.textContent).join('')"
        )
        await page.wait_for_function(
            "() => document.querySelector('#captions').innerText.includes('this is Support')",
            timeout=WAIT_MS,
        )
        timeline = await page.inner_text("#timeline")
        if screenshot := os.environ.get("REALTIME_SANSIO_PIPELINE_SCREENSHOT"):
            await page.wait_for_selector(".turn.completed")
            await page.screenshot(path=screenshot)
    (interruption,) = seen["interruptions"]
    (stopped,) = seen["stopped"]
    turn, end_ms = interruption["item_id"], interruption["audio_end_ms"]
    # Cut where the page had said it was when the user's speech began, mid-reply.
    assert end_ms == max(r.ms for r in kind.reports_when_cut(turn))
    received_ms = seen["received"][turn] * 1000 / PCM16.rate
    assert 0 < end_ms <= interruption["reported_ms"] <= stopped["ms"] < received_ms
    assert stopped["item_id"] == turn
    assert "Greeter → Support" in timeline and "cut at" in timeline
    # Cut within the first piece (1.41 s): the second piece's words were never heard.
    assert end_ms < 1410 and struck == " Sunny, 21 °C in Paris."
    print(
        f"\npipeline cut at {end_ms:.0f} ms of {received_ms:.0f} ms received; the page had"
        f" reported {interruption['reported_ms']:.0f} ms when told, stopped at {stopped['ms']:.0f}"
    )


async def test_without_a_microphone_the_page_says_so_for_as_long_as_it_lasts(
    tmp_path: Path,
) -> None:
    async with serving(LoggedKind()) as port, chromium(None, tmp_path / "profile") as page:
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.click("#start")
        await until(page, "state.status === 'connected'")
        banner = await page.inner_text("#banner")  # it was cleared once the socket connected
        disabled = await page.eval_on_selector_all(
            "#mute, #talk, #text", "nodes => nodes.map(n => n.disabled)"
        )
    assert banner.startswith("No microphone (") and banner.endswith("you can still type.")
    assert disabled == [True, True, False]


class DroppingProxy:
    """A TCP forwarder to the page's server that can drop every connection it carries."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.streams: list[anyio.abc.ByteStream] = []

    async def serve(self, listener: anyio.abc.Listener[anyio.abc.SocketStream]) -> None:
        await listener.serve(self._forward)

    async def _forward(self, client: anyio.abc.SocketStream) -> None:
        server = await anyio.connect_tcp("127.0.0.1", self.upstream)
        self.streams += [client, server]

        async def pump(source: anyio.abc.ByteStream, sink: anyio.abc.ByteStream) -> None:
            try:
                async for data in source:
                    await sink.send(data)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                pass
            await sink.aclose()

        async with anyio.create_task_group() as group:
            group.start_soon(pump, client, server)
            group.start_soon(pump, server, client)

    async def drop(self) -> None:
        streams, self.streams = self.streams, []
        for stream in streams:
            await stream.aclose()


async def test_the_page_survives_a_dropped_socket(tmp_path: Path) -> None:
    kind = LoggedKind(HEARS)
    microphone = wav(tmp_path / "quiet.wav", silence(1000))
    async with serving(kind) as port, anyio.create_task_group() as group:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        proxy = DroppingProxy(port)
        group.start_soon(proxy.serve, listener)
        proxied = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with chromium(microphone, tmp_path / "profile") as page:
            await page.goto(f"http://127.0.0.1:{proxied}/")
            await page.click("#start")
            await until(page, "state.status === 'connected'")
            await page.fill("#text", "Hello")
            await page.click("#send")
            await page.wait_for_selector(".bubble.assistant.done")
            await proxy.drop()
            await until(page, "state.drops === 1")
            await until(page, "state.resumes === 1 && state.status === 'connected'")
            banner = await page.inner_text("#banner")
            await page.fill("#text", QUESTION)
            await page.click("#send")
            await page.wait_for_function(
                "text => document.querySelector('#captions').innerText.includes(text)",
                arg=ANSWER,
                timeout=WAIT_MS,
            )
            timeline = await page.inner_text("#timeline")
            seen = await state(page)
        group.cancel_scope.cancel()
    assert "Reconnected" in banner
    assert "connection to the server lost" in timeline
    assert "resumed the conversation" in timeline
    assert kind.opened == 1  # one conversation, carried over the new socket
    assert seen["connects"] == 2
    assert len(kind.recordings) == 1
