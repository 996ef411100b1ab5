"""``realtime-sansio replay FILE --html OUT.html``: the page's timeline of a recording, in one
self-contained file. A recording of the demo (its three turns over a real WebSocket) is drawn;
the embedded messages are checked in Python, and the DOM in headless Chromium (skipped, saying
why, without it), with the file opened from disk and every request watched."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from realtime_sansio.transports.cli import main
from realtime_sansio.transports.demo import (
    HANDOFF_PROMPT,
    SPOKEN_PROMPT,
    TEXT_PROMPT,
    DemoOptions,
    run_demo,
)
from realtime_sansio.transports.web.report import timeline_html
from test_web_browser import CHROMIUM, FLAGS, async_playwright


@pytest.fixture(scope="module")
def demo_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.jsonl"
    options = DemoOptions(output_path=str(folder / "out.wav"), record_path=str(path))
    anyio.run(run_demo, options, io.StringIO(), io.StringIO())
    return path


@pytest.fixture(scope="module")
def drawn(demo_recording: Path) -> tuple[Path, str]:
    """The demo's recording drawn, and what the command said."""
    out = demo_recording.with_suffix(".html")
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        assert main(["replay", str(demo_recording), "--html", str(out), "--check"]) == 0
    return out, said.getvalue()


def embedded(page: str) -> list[dict[str, Any]]:
    found = re.search(r'<script type="application/json" id="conversation">(.*?)</script>', page)
    assert found is not None
    messages: list[dict[str, Any]] = json.loads(found.group(1))
    return messages


def test_the_demo_drawn_holds_its_turns_tools_and_handoff(drawn: tuple[Path, str]) -> None:
    path, out = drawn
    page = path.read_text(encoding="utf-8")
    messages = embedded(page)
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "ready" and messages[0]["agent"] == "Greeter"
    assert [m["agent"] for m in messages if m["type"] == "agent_start"] == [
        "Greeter",
        "Greeter",
        "Greeter",
        "Greeter",
        "Support",
    ]
    (tool,) = [m for m in messages if m["type"] == "tool_start"]
    (output,) = [m for m in messages if m["type"] == "tool_end"]
    assert (tool["name"], output["output"]) == ("get_weather", "Sunny, 21 °C in Paris")
    (handoff,) = [m for m in messages if m["type"] == "handoff"]
    assert (handoff["from"], handoff["to"]) == ("Greeter", "Support")
    said = [m["text"] for m in messages if m["type"] == "caption_done" and m["role"] == "user"]
    assert said == [TEXT_PROMPT, SPOKEN_PROMPT, HANDOFF_PROMPT]
    assert {"speech", "metrics", "usage", "closed"} <= set(kinds)
    assert "audio" not in kinds  # a timeline, not a recording of the sound
    times = [m["t"] for m in messages]
    assert times == sorted(times) and times[-1] < 30
    # Self-contained: the styles and the script inline, nothing to load, and a policy that
    # forbids loading anything.
    assert "default-src 'none'" in page
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "class Timeline" in page and "export class" not in page
    assert "the current code sends the " in page
    assert out.startswith(f"wrote {path}: the page's timeline of ")
    assert "(5 turns, 1 tool call, 1 handoff, 0 errors)" in out
    assert "check passed" in out


def test_what_the_conversation_says_cannot_end_the_script_early() -> None:
    said = "</script><script>alert(1)</script> <!-- & ' \""
    page = timeline_html([{"type": "notice", "text": said, "t": 0.0}], title="<b>x</b>")
    assert embedded(page) == [{"type": "notice", "text": said, "t": 0.0}]
    assert page.count("</script>") == 2  # the data's and the code's own
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in page


def test_a_recording_without_session_inputs_cannot_be_drawn(
    tmp_path: Path, demo_recording: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = demo_recording.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["source"] = "transport"
    frames_only = tmp_path / "frames.jsonl"
    frames_only.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.html"
    assert main(["replay", str(frames_only), "--html", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"cannot draw {frames_only}: a transport's recording holds frames only" in err
    assert not out.exists()


@pytest.mark.skipif(async_playwright is None, reason="playwright is not installed")
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: apt-get install chromium")
@pytest.mark.skipif(sys.platform != "linux", reason="the browser tests run on Linux")
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # Playwright's async API is asyncio's
async def test_the_drawn_file_shows_the_conversation_in_a_browser(
    drawn: tuple[Path, str], anyio_backend: str
) -> None:
    url = drawn[0].as_uri()
    assert async_playwright is not None and CHROMIUM is not None
    problems: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            page = await browser.new_page()
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None,
            )
            page.on(
                "request",
                lambda r: problems.append(f"request: {r.url}") if r.url != url else None,
            )
            await page.goto(url)
            await page.wait_for_function("() => window.replayPage !== undefined")
            turns = await page.eval_on_selector_all(
                ".turn .turn-head .agent", "nodes => nodes.map(n => n.textContent)"
            )
            tool = await page.inner_text(".row.tool .call")
            handoff = await page.inner_text(".row.handoff .body")
            captions = await page.inner_text("#captions")
            facts = await page.inner_text(".facts")
        finally:
            await browser.close()
    assert not problems, problems
    assert turns == ["Greeter", "Greeter", "Greeter", "Greeter", "Support"]
    assert "get_weather" in tool and "Sunny, 21 °C in Paris" in tool
    assert handoff == "Greeter → Support"
    for said in (TEXT_PROMPT, SPOKEN_PROMPT, HANDOFF_PROMPT, "Hello, this is Support"):
        assert said in captions
    assert "the current code sends the " in facts
