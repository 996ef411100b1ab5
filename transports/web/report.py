"""A recorded conversation drawn as the page draws it, in one self-contained HTML file.

``realtime-sansio replay FILE --html OUT.html`` (docs/recording.md), for bug reports:

- ``recording_messages(recording, agent=..., config=...)`` replays the recording into a fresh
  ``Session`` (``protocol.replay``, as the text timeline does) and maps the session's events
  with the live page's own mapping, ``PageTimeline(audio=False)``, at the recorded times; the
  connections and the application's commands become rows of their own. The replay's result
  (whether the current code sends the recorded frames) comes with the messages.
- ``timeline_html(messages, ...)`` writes the page's captions and timeline for them: the
  page's ``timeline.js`` (its ``Timeline`` class) and ``style.css``, inlined with the messages
  as JSON. The file loads nothing, and its Content-Security-Policy forbids it to: it opens
  offline, from a mail or a bug tracker, and shows the same picture on any machine.

Audio is left out (a recording's audio is not the point of a timeline, and would make the
file large); what was cut where is in the timeline all the same.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Sequence

from realtime_sansio.protocol import PCM16, UNSET, Agent, RunConfig, Session, events
from realtime_sansio.protocol.recording import ConnectedEntry, InputEntry, Recording
from realtime_sansio.protocol.replay import ReplayResult, Step, replay

from .server import StaticFiles
from .timeline import PageMessage, PageTimeline

__all__ = ["count_messages", "recording_messages", "timeline_html"]


def recording_messages(
    recording: Recording, *, agent: Agent, config: RunConfig | None = None
) -> tuple[list[PageMessage], ReplayResult]:
    """The page's messages for ``recording`` replayed into a fresh ``Session`` of ``agent``,
    and whether the replay sent the recorded client frames."""
    from ..replay import command_detail  # the replay's reading of an input, in one place

    output_format = config.model_settings.output_audio_format if config is not None else UNSET
    audio_format = PCM16 if output_format is UNSET else output_format
    timeline = PageTimeline(audio=False, audio_format=audio_format)
    session = Session(agent, config=config, dialect=recording.header.dialect)
    messages: list[PageMessage] = []
    connections = 0

    def on_step(step: Step) -> None:
        nonlocal connections
        entry, at = step.entry, round(step.t, 3)
        if isinstance(entry, ConnectedEntry):
            connections += 1
            if connections == 1:
                target = "replayed from a recording"
                ready = {"type": "ready", "agent": session.current_agent.name, "target": target}
                messages.append({**ready, "resumed": False, "t": at})
            else:
                agent_now = session.current_agent.name
                text = f"connected again (connection {connections}), agent {agent_now}"
                messages.append({"type": "notice", "text": text, "t": at})
        elif isinstance(entry, InputEntry) and (detail := command_detail(entry)) is not None:
            messages.append({"type": "notice", "text": f"application: {detail}", "t": at})
        for output in step.outputs:
            if isinstance(output, events.SessionEvent):
                messages.extend(timeline.messages(output, at=step.t))

    result = replay(recording, session, on_step=on_step)
    return messages, result


def count_messages(messages: Sequence[PageMessage]) -> str:
    """``5 turns, 1 tool call, 1 handoff, 0 errors`` (the summary's words)."""
    counts = Counter(message["type"] for message in messages)
    parts = [
        (counts["agent_start"], "turn"),
        (counts["tool_start"], "tool call"),
        (counts["handoff"], "handoff"),
        (counts["error"], "error"),
    ]
    return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in parts)


# Nothing may be loaded: the styles and the script are inline, the icon a data URL.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_REPORT_CSS = """
/* A report is read whole: the page's scrolling panes become plain columns. */
body { height: auto; min-height: 100vh; }
.pane, .scroll { overflow: visible; }
.facts { margin: 10px 20px 0; padding: 0; list-style: none; color: var(--muted); font-size: 13px; }
.facts li { display: inline; margin-right: 18px; }
.facts .bad { color: var(--bad); font-weight: 600; }
.facts .ok { color: var(--ok); }
"""
_DRAW = """
const messages = JSON.parse(document.getElementById("conversation").textContent);
const $ = (id) => document.getElementById(id);
const panes = { captions: $("captions"), timeline: $("timeline"), latency: $("latency") };
const timeline = new Timeline(panes);
for (const message of messages) timeline.apply(message);
window.replayPage = { messages: messages.length };
"""


def _inline(code: str, tag: str) -> str:
    if f"</{tag}" in code.lower():  # it would end the element early
        raise ValueError(f"cannot inline code that holds '</{tag}'")
    return code


def timeline_html(
    messages: Sequence[PageMessage], *, title: str, facts: Sequence[tuple[str, str]] = ()
) -> str:
    """One HTML file that draws ``messages`` as the page does. ``facts`` are shown above the
    panes, each (text, kind) with kind "" or "ok" or "bad"."""
    files = StaticFiles().files
    style = files["/style.css"].decode("utf-8")
    script = re.sub(r"^export ", "", files["/timeline.js"].decode("utf-8"), flags=re.MULTILINE)
    icon = files["/favicon.svg"].decode("utf-8")
    # Inside <script type="application/json"> only "</" could end it early: "<" is escaped.
    data = json.dumps(list(messages), ensure_ascii=False, separators=(",", ":")).replace(
        "<", "\\u003c"
    )
    listed = "".join(
        f'<li class="{html.escape(kind)}">{html.escape(text)}</li>' for text, kind in facts
    )
    icon_url = "data:image/svg+xml," + icon.replace("#", "%23").replace('"', "'")
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta http-equiv="Content-Security-Policy" content="{_POLICY}" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>{html.escape(title)}</title>
    <link rel="icon" href="{html.escape(icon_url)}" />
    <style>
{_inline(style, "style")}{_REPORT_CSS}
    </style>
  </head>
  <body>
    <header>
      <h1>realtime-sansio</h1>
      <span class="agent-name">{html.escape(title)}</span>
      <span class="target">drawn by realtime-sansio replay --html; audio left out</span>
    </header>
    <ul class="facts">{listed}</ul>
    <main>
      <section class="pane">
        <h2>Conversation</h2>
        <div class="scroll">
          <div id="captions" class="captions" data-empty="No words in this recording."></div>
        </div>
      </section>
      <section class="pane">
        <h2>Timeline</h2>
        <p id="latency" class="latency-summary"></p>
        <div class="scroll"><ol id="timeline" class="timeline"></ol></div>
      </section>
    </main>
    <script type="application/json" id="conversation">{data}</script>
    <script>
{_inline(script, "script")}{_DRAW}
    </script>
  </body>
</html>
"""
