"""The conversation behind ``realtime-sansio demo``: a greeter with a tool and a handoff.

Three turns over a real WebSocket: a text question that makes the model call ``get_weather``,
an audio turn that server VAD detects (generated speech-like audio, or a WAV file), and a
request to be transferred to support. A ``DemoTimeline`` reads every session event in its own
task and prints what happened as it happens; the assistant's audio is kept and written to a
WAV file at the end. ``cli.py`` parses the options and turns failures into one line.

``Timeline``, the printer, is tied to no session: ``realtime-sansio replay`` prints a
recording's timeline with it (``transports.replay``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Literal, TextIO

import anyio
import anyio.abc
import attrs
from realtime_sansio.protocol import (
    PCM16,
    Agent,
    Handoff,
    LocalProtocolError,
    ModelConfig,
    RunConfig,
    SessionModelSettings,
    TranscriptionConfig,
    events,
    function_tool,
    wire,
)
from realtime_sansio.protocol.audio import WavWarning, read_wav, resample, to_mono, write_wav
from realtime_sansio.protocol.fake import FakeServerConfig, synthesize_speech
from realtime_sansio.protocol.items import AssistantMessage, Item, UserMessage

from .auth import ApiKeyError, resolve_api_key
from .base import describe_close
from .recording import Recorder
from .runner import RealtimeSession, run
from .serve import serve_fake

__all__ = ["DemoError", "DemoOptions", "UserAudio", "load_user_audio", "run_demo"]

RATE = PCM16.rate
CHUNK_MS = 20
PROGRESS_MIN_S = 5.0  # inputs at least this long show a progress bar while they are sent
SPOKEN_PROMPT = "Hello, can you hear me?"
TEXT_PROMPT = "What's the weather in Paris?"
HANDOFF_PROMPT = "Please transfer me to support"


class DemoError(Exception):
    """The demo could not go on; the message is the one line the user sees."""


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: The city, for example Paris.
    """
    return f"Sunny, 21 °C in {city}"


SUPPORT = Agent(
    name="Support",
    instructions="You are technical support. Greet the caller briefly and ask how to help.",
    handoff_description="technical problems, accounts and anything the greeter cannot do",
)
GREETER = Agent(
    name="Greeter",
    instructions=(
        "You are a friendly, brief greeter. Use get_weather for weather questions. "
        "When the user asks for support, transfer them to support."
    ),
    tools=[get_weather],
    handoffs=[SUPPORT],
)
# Transcription on, so the user's audio turn shows up as text in the timeline.
DEMO_CONFIG = RunConfig(
    model_settings=SessionModelSettings(input_audio_transcription=TranscriptionConfig())
)


@attrs.frozen(kw_only=True)
class DemoOptions:
    mode: Literal["fake", "live", "url"] = "fake"
    url: str | None = None
    input_path: str | None = None
    output_path: str = "demo-output.wav"
    timeout_s: float = 60.0
    record_path: str | None = None  # a recording of the session, for ``realtime-sansio replay``


@attrs.frozen(kw_only=True)
class UserAudio:
    """The audio turn: 24 kHz mono PCM16, silence around it included."""

    pcm: bytes
    description: str
    transcript: str | None  # what the fake server "hears"; None: its placeholder


def _silence(ms: int) -> bytes:
    return bytes(PCM16.bytes_per_second * ms // 1000)


def _seconds(pcm: bytes) -> float:
    return len(pcm) / PCM16.bytes_per_second


def load_user_audio(path: str | None) -> UserAudio:
    """Generated speech, or a 16-bit WAV file downmixed and resampled to 24 kHz mono. Trailing
    silence lets server VAD hear the end of the turn (its default wait is 500 ms)."""
    if path is None:
        speech = synthesize_speech(SPOKEN_PROMPT)
        return UserAudio(
            pcm=_silence(600) + speech + _silence(1000),
            description=f'{_seconds(speech):.1f} s of generated speech for "{SPOKEN_PROMPT}"',
            transcript=SPOKEN_PROMPT,
        )
    pcm, rate, channels = read_wav(path)
    mono = resample(to_mono(pcm, channels), rate, RATE)
    converted = "" if (rate, channels) == (RATE, 1) else " -> 24000 Hz mono"
    return UserAudio(
        pcm=mono + _silence(1000),
        description=(
            f"{_seconds(mono):.1f} s from {os.path.basename(path)}"
            f" ({rate} Hz, {channels} channel{'s' if channels > 1 else ''}{converted})"
        ),
        transcript=None,
    )


def _transcript_done(item: Item | None) -> bool:
    """Whether an item's transcript is final: an assistant item once it is no longer in
    progress, a user item once the input transcription has arrived."""
    if isinstance(item, AssistantMessage):
        return item.status not in (None, "in_progress")
    if isinstance(item, UserMessage):
        return any(getattr(part, "transcript", None) is not None for part in item.content)
    return False


class Timeline:
    """Session events as timeline lines, ``"  1.23s  text"``: turns, tools, handoffs, what
    was said, latencies, errors.

    Synchronous and tied to no session or loop, so that the same lines come from a live
    session (``DemoTimeline``) and from a recording's replay (``transports.replay``); a
    subclass that overrides ``write`` sends them elsewhere. ``clock`` gives the time the lines
    are stamped with, counted from the timeline's creation.
    """

    def __init__(self, out: TextIO, *, clock: Callable[[], float]) -> None:
        self.out = out
        self.clock = clock
        self.start = clock()
        self.errors = 0
        self.closed: str | None = None
        self.tool_calls = 0
        self.handoffs = 0
        self.responses = 0
        self.heard_speech = False
        self._audio_by_response: dict[str, int] = {}
        self._transcripts: dict[str, tuple[str, list[str]]] = {}
        self._agents: dict[str, str] = {}  # response id -> the agent that started it
        self._tools: dict[str, str] = {}  # call id -> tool name

    def write(self, elapsed: float, text: str) -> None:
        print(f"{elapsed:6.2f}s  {text}", file=self.out, flush=True)

    def line(self, text: str) -> None:
        self.write(self.clock() - self.start, text)

    def user(self, text: str) -> None:
        self.line(f"user: {text}")

    def handle(self, event: events.SessionEvent) -> None:
        if isinstance(event, events.AudioEvent):
            self._audio_by_response[event.response_id] = self._audio_by_response.get(
                event.response_id, 0
            ) + len(event.data)
        elif isinstance(event, events.TranscriptDeltaEvent):
            entry = self._transcripts.setdefault(event.item_id, (event.role, []))
            entry[1].append(event.delta)
        elif isinstance(event, events.HistoryUpdatedEvent):
            if event.item_id in self._transcripts and _transcript_done(event.item):
                self._print_transcript(event.item_id)
        elif isinstance(event, events.AgentStartEvent):
            self._agents[event.response_id] = event.agent.name
            self.responses += 1
            self.line(f"agent {event.agent.name} starts ({event.response_id})")
        elif isinstance(event, events.AgentEndEvent):
            self._end(event)
        elif isinstance(event, events.ToolStartEvent):
            if not isinstance(event.tool, Handoff):
                self._tools[event.call_id] = event.tool.name
                self.tool_calls += 1
                self.line(f"tool call {event.tool.name} {event.arguments}")
        elif isinstance(event, events.ToolEndEvent):
            if not isinstance(event.tool, Handoff):
                name = self._tools.pop(event.call_id, "?")
                verdict = "failed" if event.failed else "->"
                self.line(f"tool {name} {verdict} {event.output}")
        elif isinstance(event, events.HandoffEvent):
            self.handoffs += 1
            self.line(f"handoff {event.from_agent.name} -> {event.to_agent.name}")
        elif isinstance(event, events.TurnMetricsEvent):
            self._metrics(event)
        elif isinstance(event, events.RawModelEvent):
            self._raw(event.data)
        elif isinstance(event, events.AudioInterruptedEvent):
            self.line(f"audio of {event.item_id} interrupted at {event.audio_end_ms} ms")
        elif isinstance(event, events.GuardrailTrippedEvent):
            self.line(f"guardrail tripped: {', '.join(event.guardrails)}")
        elif isinstance(event, events.ErrorEvent):
            self.errors += 1
            self.line(f"error {event.code or event.type or ''}: {event.message}")
        elif isinstance(event, events.ConnectionClosedEvent):
            self.closed = describe_close(event.code, event.reason)
        elif isinstance(event, events.ReconnectingEvent):
            if event.attempt == 1:
                cause = f"connection lost ({describe_close(event.code, event.reason)})"
            else:  # what ended the previous attempt: a refused handshake's status, or why
                status = f"HTTP {event.code}: " if event.code is not None else ""
                cause = f"attempt {event.attempt - 1} failed ({status}{event.reason})"
            self.line(f"{cause}: reconnecting, attempt {event.attempt} in {event.delay_s:.2f} s")
        elif isinstance(event, events.ReconnectedEvent | events.SessionRecycledEvent):
            what = "reconnected" if isinstance(event, events.ReconnectedEvent) else "recycled"
            self.line(
                f"{what}: {_plural(event.items_replayed, 'item')} replayed,"
                f" {event.downtime_s * 1000:.0f} ms of downtime"
            )

    def _end(self, event: events.AgentEndEvent) -> None:
        # The response that makes a handoff ends under the new agent; name the one that began.
        name = self._agents.pop(event.response_id, event.agent.name)
        size = self._audio_by_response.pop(event.response_id, 0)
        ms = size * 1000 // PCM16.bytes_per_second
        audio = f"{ms} ms of audio" if ms else "no audio"
        self.line(f"agent {name} ends ({event.response_id}, {event.status}, {audio})")

    def _metrics(self, event: events.TurnMetricsEvent) -> None:
        figures = [
            ("speech stopped -> first audio", event.speech_stopped_to_first_audio_ms),
            ("response.create -> first audio", event.create_to_first_audio_ms),
            ("interrupt -> truncation", event.interrupt_to_truncate_ms),
        ]
        for label, value in figures:
            if value is not None:
                self.line(f"latency {label}: {value:.0f} ms")

    def _raw(self, data: wire.ServerEvent) -> None:
        if isinstance(data, wire.InputAudioBufferSpeechStarted):
            self.heard_speech = True
            self.line(f"server VAD: speech started at {data.audio_start_ms} ms")
        elif isinstance(data, wire.InputAudioBufferSpeechStopped):
            self.line(f"server VAD: speech stopped at {data.audio_end_ms} ms")

    def _print_transcript(self, item_id: str, suffix: str = "") -> None:
        role, pieces = self._transcripts.pop(item_id)
        who = "assistant" if role == "assistant" else "user (transcribed)"
        self.line(f"{who}: {''.join(pieces).strip()}{suffix}")

    def flush_transcripts(self) -> None:
        for item_id in list(self._transcripts):
            self._print_transcript(item_id, " (unfinished)")

    def counts(self) -> str:
        """``5 responses, 1 tool call, 1 handoff, 0 errors``."""
        return ", ".join(
            [
                _plural(self.responses, "response"),
                _plural(self.tool_calls, "tool call"),
                _plural(self.handoffs, "handoff"),
                _plural(self.errors, "error"),
            ]
        )


class DemoTimeline(Timeline):
    """The demo's live timeline: reads every event of the session in its own task, prints it,
    keeps the assistant's audio, and tells the driver when a turn is over."""

    def __init__(self, session: RealtimeSession, out: TextIO) -> None:
        super().__init__(out, clock=anyio.current_time)
        self.session = session
        self.audio = bytearray()
        self._played_ms: dict[tuple[str, int], float] = {}
        self.turn_over = anyio.Event()
        self._sending = False
        self._started = 0
        self._open = 0
        self._speech = False
        self._awaiting_reply = False

    # -- turns ------------------------------------------------------------------------------

    def begin_turn(self) -> None:
        self.turn_over = anyio.Event()
        self._sending, self._started = True, 0

    def done_sending(self) -> None:
        self._sending = False
        self._check_turn()

    def _check_turn(self) -> None:
        # Over when a reply came and ended, nothing more is owed (no tool running, no
        # follow-up requested), and server VAD is not in the middle of another user turn.
        if (
            not self._sending
            and self._started
            and not self._open
            and not self._speech
            and not self._awaiting_reply
            and not self.session.busy
        ):
            self.turn_over.set()

    # -- events -------------------------------------------------------------------------------

    async def consume(self) -> None:
        async for event in self.session:
            self.handle(event)
            await self._follow(event)
        self.flush_transcripts()

    async def _follow(self, event: events.SessionEvent) -> None:
        """What the demo does beyond printing: keep and report the audio, follow the turn."""
        if isinstance(event, events.AudioEvent):
            await self._audio(event)
        elif isinstance(event, events.AgentStartEvent):
            self._started += 1
            self._open += 1
            self._awaiting_reply = False
        elif isinstance(event, events.AgentEndEvent):
            self._open = max(0, self._open - 1)
            self._check_turn()
        elif isinstance(event, events.RawModelEvent):
            data = event.data
            if isinstance(data, wire.InputAudioBufferSpeechStarted):
                self._speech = True
            elif isinstance(data, wire.InputAudioBufferSpeechStopped):
                self._speech = False
            elif isinstance(data, wire.InputAudioBufferCommitted):
                self._awaiting_reply = True  # server VAD committed a turn: a reply will follow
        elif isinstance(event, events.ConnectionClosedEvent):
            self.turn_over.set()  # wake the driver, which reports it

    async def _audio(self, event: events.AudioEvent) -> None:
        self.audio += event.data
        # Nothing is played aloud: report each chunk as heard at once, so that a barge-in
        # truncates at the audio received instead of at a clock-based estimate.
        key = (event.item_id, event.content_index)
        played = self._played_ms.get(key, 0.0) + len(event.data) * 1000 / PCM16.bytes_per_second
        self._played_ms[key] = played
        # The connection may have just closed; ConnectionClosedEvent will say so.
        with contextlib.suppress(LocalProtocolError):
            await self.session.audio_played(event.item_id, event.content_index, played)


async def _send_audio(session: RealtimeSession, pcm: bytes, err: TextIO) -> None:
    """Send in 20 ms chunks, as a microphone would; a long input shows a progress bar."""
    size = PCM16.bytes_per_second * CHUNK_MS // 1000
    show = _seconds(pcm) >= PROGRESS_MIN_S
    shown = -1
    for offset in range(0, len(pcm), size):
        await session.send_audio(pcm[offset : offset + size])
        tenths = min(10, (offset + size) * 10 // len(pcm))
        if show and tenths != shown:
            shown = tenths
            bar = "#" * tenths + "." * (10 - tenths)
            print(f"\r[{bar}] {tenths * 10}%", end="", file=err, flush=True)
    if show:
        print(file=err, flush=True)


def _has_key() -> bool:
    try:
        return resolve_api_key() is not None
    except ApiKeyError:  # an unreadable auth.json does not stop the fake demo
        return False


async def _start_fake(task_group: anyio.abc.TaskGroup, config: FakeServerConfig) -> int:
    """Start ``serve_fake`` on an ephemeral loopback port; the port it got."""
    ready = anyio.Event()
    ports: list[int] = []

    def on_ready(port: int) -> None:
        ports.append(port)
        ready.set()

    serve = functools.partial(serve_fake, "127.0.0.1", 0, config=config, ready=on_ready)
    task_group.start_soon(serve)
    await ready.wait()
    return ports[0]


async def _connect(
    stack: AsyncExitStack, model_config: ModelConfig, target: str, record_path: str | None
) -> RealtimeSession:
    # The header names the agent and its config, so that `replay FILE` needs no options.
    here = __name__
    record = (
        Recorder(record_path, agent_ref=f"{here}:GREETER", config_ref=f"{here}:DEMO_CONFIG")
        if record_path
        else None
    )
    try:
        return await stack.enter_async_context(
            run(GREETER, config=DEMO_CONFIG, model_config=model_config, record=record)
        )
    except TimeoutError:
        raise DemoError(f"cannot connect to {target}: timed out") from None
    except OSError as exc:
        raise DemoError(f"cannot connect to {target}: {_os_reason(exc)}") from exc


def _os_reason(exc: OSError) -> str:
    """The OS's words for a failed connection: anyio reports "All connection attempts
    failed" and keeps each attempt's error (connection refused...) in ``__cause__``."""
    cause: BaseException | None = exc
    while isinstance(cause, BaseExceptionGroup | OSError):
        if isinstance(cause, OSError) and cause.errno:
            # Negative numbers are getaddrinfo's (EAI_*), which os.strerror does not know.
            return os.strerror(cause.errno) if cause.errno > 0 else str(cause.strerror)
        cause = cause.exceptions[0] if isinstance(cause, BaseExceptionGroup) else cause.__cause__
    return str(exc)


def _check_writable(path: str) -> None:
    """Fail with a ``DemoError`` now if ``path`` cannot be written later: its folder is missing
    or read-only, or it is a folder. An existing file is left as it is (opened to append, not
    truncated); a file made only to try is removed again."""
    try:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        else:
            os.close(fd)
            os.remove(path)
    except OSError as exc:
        raise DemoError(f"cannot write the output file {path}: {exc.strerror or exc}") from exc


async def run_demo(options: DemoOptions, out: TextIO, err: TextIO) -> None:
    """Run the three turns, print the timeline to ``out`` and write the assistant's audio."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WavWarning)
        user_audio = load_user_audio(options.input_path)  # a bad file fails before connecting
    for warning in caught:  # a WAV cut short: one line each, not a source line and a trace
        print(f"warning: {warning.message}", file=err, flush=True)
    if options.mode == "live" and resolve_api_key() is None:
        raise DemoError(
            "--live needs an API key: set OPENAI_API_KEY or CODEX_API_KEY "
            "(or OPENAI_API_KEY in $CODEX_HOME/auth.json)"
        )
    for path in (options.output_path, options.record_path):
        if path:
            _check_writable(path)  # before the conversation spends any credit
    stage = "connecting"
    try:
        with anyio.fail_after(options.timeout_s):
            async with anyio.create_task_group() as task_group, AsyncExitStack() as stack:
                if options.mode == "fake":
                    fake = FakeServerConfig(
                        transcripts={0: user_audio.transcript} if user_audio.transcript else None
                    )
                    port = await _start_fake(task_group, fake)
                    target = f"ws://127.0.0.1:{port}"
                    why = "--live uses the real API" if _has_key() else "no API key found"
                    print(f"fake Realtime server on {target} ({why})", file=out, flush=True)
                    # The fake wants no key: keep a real one from going anywhere.
                    model_config = ModelConfig(url=target, api_key="unused")
                elif options.mode == "url":
                    target = options.url or ""
                    model_config = ModelConfig(url=target)
                else:
                    target = "the OpenAI Realtime API"
                    model_config = ModelConfig()
                session = await _connect(stack, model_config, target, options.record_path)
                timeline = DemoTimeline(session, out)
                timeline.line(f"connected to {target}, agent {session.current_agent.name}")
                task_group.start_soon(timeline.consume)

                async def say(text: str) -> None:
                    timeline.user(text)
                    await session.send_message(text)

                turns: list[tuple[str, Callable[[], Awaitable[None]]]] = [
                    ("text turn", functools.partial(say, TEXT_PROMPT)),
                    ("audio turn", functools.partial(_send_audio, session, user_audio.pcm, err)),
                    ("handoff turn", functools.partial(say, HANDOFF_PROMPT)),
                ]
                for stage, send in turns:
                    print(f"-- {stage}", file=out, flush=True)
                    if stage == "audio turn":
                        timeline.user(f"(audio) {user_audio.description}")
                    timeline.begin_turn()
                    await send()
                    timeline.done_sending()
                    await timeline.turn_over.wait()
                    if timeline.closed:
                        raise DemoError(f"{timeline.closed} during the {stage}")
                stage = "closing"
                await session.close()
                timeline.flush_transcripts()
                task_group.cancel_scope.cancel()  # stops the fake server
    except TimeoutError:
        hint = ""
        if stage == "audio turn" and not timeline.heard_speech:
            hint = ": server VAD heard no speech in it"
        raise DemoError(
            f"the demo did not finish within {options.timeout_s:g} s ({stage}{hint})"
        ) from None
    _summary(timeline, options.output_path, out)


def _summary(timeline: DemoTimeline, path: str, out: TextIO) -> None:
    write_wav(path, bytes(timeline.audio), RATE)
    seconds = _seconds(bytes(timeline.audio))
    print(f"-- done: {timeline.counts()}", file=out)
    print(f"wrote {path}: {seconds:.1f} s of assistant audio (24 kHz mono PCM16)", file=out)
    if timeline.errors:
        raise DemoError(f"the demo saw {timeline.errors} error event(s), shown in the timeline")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
