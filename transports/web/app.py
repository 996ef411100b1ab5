"""What ``realtime-sansio web`` runs: a page for the demo agent, or for ``--agent module:attr``.

Against the fake Realtime server in memory by default (one fresh fake per conversation, its
audio paced at ``pace``: 0.5 streams a reply twice as fast as it plays, as the real server
streams faster than real time), the real API with ``--live``, or any server with ``--url``.
The fake hears no words in audio: for the demo agent it takes the first spoken turn for the
demo's weather question and the second for its handoff request (the page says so).

With ``--pipeline`` the agent answers through the voice pipeline instead (speech to text,
``AgentWorkflow``, text to speech, the turns cut by the local VAD): against a fresh fake
served on a loopback port per conversation (its speech endpoints and, for the agent's
text-only session, its Realtime endpoint), OpenAI's endpoints with ``--live``, or a server
that has both with ``--url`` (a ``serve-fake``).
"""

from __future__ import annotations

import importlib
import ipaddress
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Literal, TextIO

import anyio
import attrs
from realtime_sansio.protocol import Agent, ModelConfig
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeServerConfig

from .. import http
from ..auth import ApiKeyError, resolve_api_key
from ..base import Transport
from ..demo import DEMO_CONFIG, GREETER, HANDOFF_PROMPT, TEXT_PROMPT, _start_fake
from ..memory import FakeServerTransport
from ..voice import AgentWorkflow, OpenAISTTModel, OpenAITTSModel, VoicePipeline
from .bridge import WebBridge
from .pipeline import PipelineKind
from .realtime import RealtimeKind
from .server import serve_web

__all__ = ["WebError", "WebOptions", "build_kind", "load_agent", "run_web"]

FAKE_HEARS = (TEXT_PROMPT, HANDOFF_PROMPT)
"""What the fake takes the demo's first spoken turns for (it cannot hear words)."""


class WebError(Exception):
    """The page cannot be served; the message is the one line the user sees."""


@attrs.frozen(kw_only=True)
class WebOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    mode: Literal["fake", "live", "url"] = "fake"
    url: str | None = None
    agent: str | None = None
    """``module:attribute`` naming an ``Agent`` (or a function that returns one)."""
    pace: float = 0.5
    pipeline: bool = False
    """Answer through the voice pipeline (STT -> ``AgentWorkflow`` -> TTS)."""


def load_agent(spec: str) -> Agent:
    """The ``Agent`` that ``module:attribute`` names (the current directory is importable)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise WebError(f"--agent takes module:attribute (e.g. my_agents:support), not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        value: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise WebError(f"--agent: cannot import {module_name}: {exc}") from exc
    for name in attribute.split("."):
        try:
            value = getattr(value, name)
        except AttributeError:
            raise WebError(f"--agent: {module_name} has no {attribute}") from None
    if callable(value) and not isinstance(value, Agent):
        value = value()
    if not isinstance(value, Agent):
        raise WebError(f"--agent: {spec} is a {type(value).__name__}, not an Agent")
    return value


def _fake(options: WebOptions, demo: bool) -> Callable[[], Transport]:
    config = FakeServerConfig(
        pace=options.pace, transcripts=dict(enumerate(FAKE_HEARS)) if demo else None
    )
    return lambda: FakeServerTransport(FakeRealtimeServer(config))


def _fake_hint(demo: bool, pipeline: bool) -> str:
    heard = " and then ".join(f"“{line}”" for line in FAKE_HEARS)
    if not demo:
        return (
            "The fake server hears no words: a spoken turn comes out as how long you spoke."
            if pipeline
            else "The fake server hears no words in audio: type to say something specific."
        )
    if pipeline:
        return f"The fake server hears no words: it takes your spoken turns for {heard}."
    return (
        f"The fake server hears no words: it takes your spoken turns for {heard}. "
        "Typed messages are read as they are."
    )


def _live_key() -> None:
    try:
        key = resolve_api_key()
    except ApiKeyError as exc:
        raise WebError(str(exc)) from exc
    if key is None:
        raise WebError("--live needs an API key: set OPENAI_API_KEY or CODEX_API_KEY")


def build_kind(options: WebOptions) -> RealtimeKind | PipelineKind:
    """The conversations the page will have, from the options."""
    agent = load_agent(options.agent) if options.agent else GREETER
    demo = options.agent is None
    if options.pipeline:
        return _pipeline_kind(options, agent, demo)
    if options.mode == "fake":
        return RealtimeKind(
            agent,
            config=DEMO_CONFIG,
            transport=_fake(options, demo),
            target="the fake Realtime server, in memory",
            hint=_fake_hint(demo, pipeline=False),
        )
    if options.mode == "live":
        _live_key()
        return RealtimeKind(agent, config=DEMO_CONFIG, model_config=ModelConfig())
    url = options.url or ""
    return RealtimeKind(agent, config=DEMO_CONFIG, model_config=ModelConfig(url=url), target=url)


_PIPELINE_HINT = "Speak over an answer to interrupt it."


def _pipeline_kind(options: WebOptions, agent: Agent, demo: bool) -> PipelineKind:
    """The voice pipeline, the agent as its workflow, on the models the options name."""
    name = agent.name
    if options.mode == "fake":
        transcripts = dict(enumerate(FAKE_HEARS)) if demo else None

        @asynccontextmanager
        async def fake_pipeline() -> AsyncIterator[VoicePipeline]:
            async with anyio.create_task_group() as group:
                port = await _start_fake(group, FakeServerConfig(transcripts=transcripts))
                # Nothing is sent to the fake that a key would be for: keep the user's out.
                realtime = ModelConfig(url=f"ws://127.0.0.1:{port}", api_key="unused")
                yield _agent_pipeline(agent, realtime, f"http://127.0.0.1:{port}", "unused")
                group.cancel_scope.cancel()

        return PipelineKind(
            fake_pipeline,
            name=name,
            target="the voice pipeline, on the fake's speech endpoints",
            hint=f"{_fake_hint(demo, pipeline=True)} {_PIPELINE_HINT}",
        )
    if options.mode == "live":
        _live_key()
        return PipelineKind(
            lambda: _agent_pipeline(agent, ModelConfig(), None, None),
            name=name,
            target="the voice pipeline, on OpenAI's speech endpoints",
            hint=_PIPELINE_HINT,
        )
    url = options.url or ""
    speech_base = url.replace("ws", "http", 1) if url.startswith("ws") else url
    realtime_url = url.replace("http", "ws", 1) if url.startswith("http") else url
    return PipelineKind(
        lambda: _agent_pipeline(agent, ModelConfig(url=realtime_url), speech_base, None),
        name=name,
        target=f"the voice pipeline, on {speech_base}",
        hint=_PIPELINE_HINT,
    )


def _agent_pipeline(
    agent: Agent, realtime: ModelConfig, speech_base: str | None, key: str | None
) -> VoicePipeline:
    base = speech_base or http.DEFAULT_API_BASE
    return VoicePipeline(
        workflow=AgentWorkflow(agent, model_config=realtime),
        stt_model=OpenAISTTModel(api_key=key, base_url=base),
        tts_model=OpenAITTSModel(api_key=key, base_url=base),
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def run_web(
    options: WebOptions, out: TextIO, *, ready: Callable[[int], None] | None = None
) -> None:
    """Serve the page until cancelled; the address goes to ``out`` once it is bound."""
    kind = build_kind(options)
    bridge = WebBridge(kind)
    host = f"[{options.host}]" if ":" in options.host else options.host

    def on_ready(port: int) -> None:
        print(
            f"serving the page on http://{host}:{port} (agent {kind.name}, {kind.target};"
            " Ctrl-C stops it)",
            file=out,
            flush=True,
        )
        if not _loopback(options.host):
            print(
                "note: browsers give a page a microphone only on https or localhost; and"
                " whoever reaches this address talks through this server"
                + (" and your API key" if options.mode != "fake" else ""),
                file=out,
                flush=True,
            )
        if ready is not None:
            ready(port)

    await serve_web(bridge, options.host, options.port, ready=on_ready)
