"""A page to talk to an agent from the browser, served by the library (``realtime-sansio web``).

The browser captures the microphone, streams it to this server, which runs the conversation
(a ``RealtimeSession`` of the agent, or the voice pipeline) and sends back the assistant's audio
and a compact event stream the page draws: captions, the timeline of turns, tools, handoffs,
guardrails, errors and latencies. The API key stays on the server.

- ``commands``: what the page sends (JSON text frames, audio in base64), parsed and checked;
- ``timeline``: session events -> page messages, pure (a replay can draw the same timeline);
- ``bridge``: ``WebBridge`` joins page sockets to conversations, which survive a dropped
  socket; ``SessionKind`` / ``PageSession`` are where a kind of conversation plugs in;
- ``realtime``: ``RealtimeKind``, the Realtime session kind;
- ``pipeline``: ``PipelineKind``, the voice pipeline kind (STT -> workflow -> TTS);
- ``server``: ``serve_web``, the page and the socket on one port (h11 + wsproto);
- ``app``: what ``realtime-sansio web`` runs (the demo agent against the fake by default).

See docs/web.md.
"""

from .bridge import PageSession, SessionKind, WebBridge
from .pipeline import PipelineKind, PipelinePageSession, PipelineTimeline
from .realtime import RealtimeKind, RealtimePageSession
from .server import serve_web
from .timeline import PageTimeline

__all__ = [
    "PageSession",
    "PageTimeline",
    "PipelineKind",
    "PipelinePageSession",
    "PipelineTimeline",
    "RealtimeKind",
    "RealtimePageSession",
    "SessionKind",
    "WebBridge",
    "serve_web",
]
