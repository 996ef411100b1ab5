"""The ``realtime-sansio`` command: ``demo``, ``serve-fake``, ``probe``, ``voice``, ``web``
and ``replay``.

    realtime-sansio demo [--fake | --live | --url URL] [--input FILE.wav] [--output FILE.wav]
                         [--record FILE.jsonl]
    realtime-sansio serve-fake [--host 127.0.0.1] [--port 8765] [--script FILE.json]
                               [--pace 0.5] [--require-key KEY] [--record DIR]
    realtime-sansio probe [--timeout-ms 8000] [--model gpt-realtime] [--url URL]
    realtime-sansio voice [--fake | --live | --url URL] [--input FILE.wav] [--output FILE.wav]
                          [--agent] [--vad energy|silero]
    realtime-sansio web [--host 127.0.0.1] [--port 8080] [--live | --url URL] [--agent M:A]
                        [--pipeline]
    realtime-sansio replay FILE.jsonl [--check] [--json] [--html OUT.html] [--agent MODULE:NAME]

A failure is one line on stderr (``realtime-sansio: error: ...``) and exit status 1; with
``--debug`` it is the full traceback instead. The API key never appears in any output: while a
command runs, stdout and stderr (the demo's timeline, log records, the traceback) pass through
a ``Redactor`` of the key and the ``--url``'s credentials, line by line. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import math
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal, TextIO, cast

import anyio
from realtime_sansio.protocol import ModelConfig
from realtime_sansio.protocol.fake import FakeScript, FakeServerConfig

from .auth import ApiKeyError, Redactor, connection_secrets, resolve_api_key
from .diagnostics import ProbeResult, format_probe_failure, probe_text_turn
from .serve import serve_fake

if TYPE_CHECKING:
    from .web.app import WebOptions

__all__ = ["SKIP_REASONS", "main"]

PROG = "realtime-sansio"

SKIP_REASONS = frozenset(
    {
        "no_api_key",
        "insufficient_quota",
        "realtime_model_unavailable",
        "realtime_protocol_incompatible",
        "realtime_upstream_server_error",
        "probe_timeout",
    }
)
"""Probe failures that say nothing about this library: reported as SKIPPED, exit 0."""


class CliError(Exception):
    """A failure whose message is the one line to show."""


# -- demo ---------------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from .demo import DemoError, DemoOptions, run_demo  # numpy and the fake only when used

    options = DemoOptions(
        mode=_target(args),
        url=args.url,
        input_path=args.input,
        output_path=args.output,
        timeout_s=args.timeout,
        record_path=args.record,
    )
    return _run_command(run_demo, options, sys.stdout, sys.stderr, errors=(DemoError,))


def _target(args: argparse.Namespace) -> Literal["fake", "live", "url"]:
    """The server a command talks to: the embedded fake, the real API (--live), or --url's."""
    return "live" if args.live else "url" if args.url else "fake"


def _run_command(
    main: Callable[..., Awaitable[object]],
    *main_args: object,
    errors: tuple[type[Exception], ...] = (),
    serving: argparse.Namespace | None = None,
) -> int:
    """Run a command's async main. Its own ``errors``, raised inside task groups and so
    perhaps wrapped in a group, become one-line ``CliError``s; so does an ``OSError`` of a
    server (``serving``: the arguments with its host and port), whose Ctrl-C is how it is
    meant to stop."""
    try:
        with contextlib.suppress(KeyboardInterrupt) if serving else contextlib.nullcontext():
            anyio.run(main, *main_args)
    except BaseException as exc:
        leaf = _leaf(exc)
        if isinstance(leaf, errors):
            raise CliError(str(leaf)) from leaf
        if serving is not None and isinstance(leaf, OSError):  # the port is taken...
            where = f"{_url_host(serving.host)}:{serving.port}"
            raise CliError(f"cannot serve on {where}: {leaf.strerror or leaf}") from leaf
        raise
    return 0


# -- serve-fake ---------------------------------------------------------------------------------


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _serve(args: argparse.Namespace, script: FakeScript | None) -> None:
    host = args.host

    def ready(bound: int) -> None:
        url = f"ws://{_url_host(host)}:{bound}"
        print(
            f"serving the fake Realtime server on {url} (Ctrl-C stops it); openai client: "
            f'AsyncOpenAI(websocket_base_url="{url}/v1", api_key="unused")',
            flush=True,
        )

    async with anyio.create_task_group() as task_group:
        if sys.platform != "win32":
            # SIGTERM ends it as cleanly as Ctrl-C (a container's stop, a test's terminate).
            task_group.start_soon(_stop_on_sigterm, task_group.cancel_scope)
        # Timed like the real server; --pace 0 is the instant mode.
        pace = {} if args.pace is None else {"pace": args.pace}
        await serve_fake(
            host,
            args.port,
            script,
            config=FakeServerConfig.realistic(**pace),
            ready=ready,
            record_dir=args.record,
            require_key=args.require_key,
        )


async def _stop_on_sigterm(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


def _serve_fake(args: argparse.Namespace) -> int:
    script = FakeScript.from_json(args.script) if args.script else None
    if args.record:
        try:  # now, so that a folder that cannot be made is not taken for a port problem
            os.makedirs(args.record, exist_ok=True)
        except OSError as exc:
            raise CliError(f"cannot record in {args.record}: {exc.strerror or exc}") from exc
    return _run_command(_serve, args, script, serving=args)


# -- probe --------------------------------------------------------------------------------------


def _probe(args: argparse.Namespace) -> int:
    if args.url:
        # A local or custom server needs no real key; never send one there by accident.
        model_config = ModelConfig(url=args.url, api_key="unused", model=args.model)
    else:
        model_config = ModelConfig(model=args.model)
    probe = functools.partial(
        probe_text_turn, timeout_ms=args.timeout_ms, model_config=model_config
    )
    result: ProbeResult = anyio.run(probe)
    if result.ok:
        print(format_probe_failure(result))
        return 0
    if result.reason in SKIP_REASONS:
        # format_probe_failure's one line names the session id, to report upstream.
        line = format_probe_failure(result).removeprefix("probe failed: ")
        print(f"SKIPPED: {line}")
        return 0
    raise CliError(format_probe_failure(result))


# -- voice --------------------------------------------------------------------------------------


def _voice(args: argparse.Namespace) -> int:
    from .voice.demo import VoiceDemoError, VoiceDemoOptions, run_voice_demo

    options = VoiceDemoOptions(
        mode=_target(args),
        url=args.url,
        input_path=args.input,
        output_path=args.output,
        agent=args.agent,
        vad=args.vad,
        timeout_s=args.timeout,
    )
    return _run_command(run_voice_demo, options, sys.stdout, sys.stderr, errors=(VoiceDemoError,))


# -- web ----------------------------------------------------------------------------------------


async def _serve_web(options: WebOptions) -> None:
    from .web.app import run_web

    async with anyio.create_task_group() as task_group:
        if sys.platform != "win32":
            task_group.start_soon(_stop_on_sigterm, task_group.cancel_scope)
        await run_web(options, sys.stdout)


def _web(args: argparse.Namespace) -> int:
    from .web.app import WebError, WebOptions

    options = WebOptions(
        host=args.host,
        port=args.port,
        mode=_target(args),
        url=args.url,
        agent=args.agent,
        pace=args.pace,
        pipeline=args.pipeline,
    )
    return _run_command(_serve_web, options, errors=(WebError,), serving=args)


def _add_voice(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    voice = commands.add_parser(
        "voice",
        help="a multi-turn voice pipeline conversation: STT -> workflow -> TTS",
        description=(
            "Speech-to-text, a workflow and text-to-speech, turn by turn, with a local VAD."
            " Without --live everything runs against the fake server on a free loopback port:"
            " three generated utterances (or --input), a timeline with each turn's latency,"
            " the replies written to --output."
        ),
    )
    where = voice.add_mutually_exclusive_group()
    where.add_argument("--fake", action="store_true", help="the embedded fake (default)")
    where.add_argument("--live", action="store_true", help="the real API (needs an API key)")
    where.add_argument("--url", help="another server's base, e.g. http://127.0.0.1:8765")
    voice.add_argument("--input", metavar="FILE.wav", help="16-bit WAV (any rate): the speech")
    voice.add_argument(
        "--output",
        metavar="FILE.wav",
        default="voice-output.wav",
        help="where the replies' audio goes (default: voice-output.wav)",
    )
    voice.add_argument(
        "--agent",
        action="store_true",
        help="answer with the demo agent (a tool and a handoff) instead of the simple workflow",
    )
    voice.add_argument(
        "--vad",
        choices=("energy", "silero"),
        default="energy",
        help="the local VAD (silero needs the vad extra; default: energy)",
    )
    voice.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="give up after this long (default: 60)",
    )
    _add_debug(voice, argparse.SUPPRESS)
    voice.set_defaults(handler=_voice)


# -- replay -------------------------------------------------------------------------------------


def _replay(args: argparse.Namespace) -> int:
    from .replay import replay_command  # the demo's timeline (numpy) only when used

    result = replay_command(
        args.file,
        sys.stdout,
        as_json=args.json,
        check=args.check,
        agent_ref=args.agent,
        config_ref=args.config,
        html_path=args.html,
    )
    if not args.check or result is None:
        return 0
    failure = result.mismatch.describe() if result.mismatch is not None else None
    if args.json:
        verdict = {"check": "failed" if failure else "passed", "frames": result.frames}
        print(json.dumps({**verdict, "inputs": result.inputs, "mismatch": failure}))
    if failure is not None:
        raise CliError(f"replay check failed: {failure}")
    if not args.json:
        print(
            f"check passed: the current code sent the {result.frames} recorded client frames"
            f" ({result.inputs} inputs replayed)"
        )
    return 0


# -- the parser ---------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _pace(text: str) -> float:
    # float() takes "inf" and "nan", which FakeServerConfig would refuse with a traceback.
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535 (0: any free port), got {value}")
    return value


def _add_debug(parser: argparse.ArgumentParser, default: object) -> None:
    # Accepted before and after the subcommand. Each parser gets its own action: a shared one
    # would share its default too. Subcommands default to SUPPRESS, so that leaving --debug
    # out after the subcommand does not reset the one given before it.
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help="show full tracebacks instead of one-line errors",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Voice agents on the OpenAI Realtime API: a demo, a fake server, a probe, a page,"
            " a replay."
        ),
    )
    _add_debug(parser, False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="a full voice-agent conversation (fake server unless --live)",
        description=(
            "A greeter agent with a get_weather tool and a handoff to support: a text turn, an"
            " audio turn and a handoff turn over a real WebSocket. Without --live it talks to"
            " the fake server, started on a free loopback port."
        ),
    )
    where = demo.add_mutually_exclusive_group()
    where.add_argument("--fake", action="store_true", help="the embedded fake server (default)")
    where.add_argument("--live", action="store_true", help="the real API (needs an API key)")
    where.add_argument("--url", help="any Realtime server, e.g. ws://127.0.0.1:8765")
    demo.add_argument("--input", metavar="FILE.wav", help="16-bit WAV (any rate): the turn")
    demo.add_argument(
        "--output",
        metavar="FILE.wav",
        default="demo-output.wav",
        help="where the assistant's audio goes (default: demo-output.wav)",
    )
    demo.add_argument(
        "--timeout",
        type=_positive_float,
        default=60.0,
        metavar="SECONDS",
        help="give up after this long (default: 60)",
    )
    demo.add_argument(
        "--record", metavar="FILE.jsonl", help="record the session, for `replay FILE --check`"
    )
    _add_debug(demo, argparse.SUPPRESS)
    demo.set_defaults(handler=_demo)

    serve = commands.add_parser(
        "serve-fake",
        help="serve the fake Realtime server over WebSocket until Ctrl-C",
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=_port, default=8765, help="default: 8765; 0: any")
    serve.add_argument("--script", metavar="FILE.json", help="a FakeScript in JSON")
    serve.add_argument(
        "--pace",
        type=_pace,
        default=None,
        help=(
            "audio pacing: 0.5 (default) generates audio twice as fast as it plays, with the"
            " real server's latencies; 1.0 in real time; 0 streams a reply at once (no latency)"
        ),
    )
    serve.add_argument(
        "--require-key",
        metavar="KEY",
        help="accept only connections that carry KEY (a 401 with the API's body otherwise)",
    )
    serve.add_argument(
        "--record", metavar="DIR", help="record each connection in a file of its own in DIR"
    )
    _add_debug(serve, argparse.SUPPRESS)
    serve.set_defaults(handler=_serve_fake)

    probe = commands.add_parser(
        "probe",
        help="one raw text turn against the API: proof, SKIPPED, or a failure",
    )
    probe.add_argument("--timeout-ms", type=_positive_int, default=8000, help="default: 8000")
    probe.add_argument("--model", default="gpt-realtime", help="default: gpt-realtime")
    probe.add_argument("--url", help="probe this server instead (no key is sent)")
    _add_debug(probe, argparse.SUPPRESS)
    probe.set_defaults(handler=_probe)
    _add_voice(commands)

    web = commands.add_parser(
        "web",
        help="a page to talk to an agent from the browser (fake server unless --live)",
        description=(
            "Serves a page and its WebSocket on one port: the browser's microphone to the agent,"
            " the agent's voice and a live timeline back. The API key stays on this server."
        ),
    )
    web.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    web.add_argument("--port", type=_port, default=8080, help="default: 8080; 0: any")
    web_where = web.add_mutually_exclusive_group()
    web_where.add_argument("--live", action="store_true", help="the real API (needs an API key)")
    web_where.add_argument(
        "--url",
        help="any Realtime server, e.g. ws://127.0.0.1:8765 (with --pipeline: one that also"
        " has the speech endpoints, e.g. a serve-fake)",
    )
    web.add_argument(
        "--pipeline",
        action="store_true",
        help="answer through the voice pipeline (speech to text, the agent, text to speech)"
        " instead of a Realtime session",
    )
    web.add_argument(
        "--agent",
        metavar="MODULE:ATTR",
        help="your own Agent (default: the demo's greeter with its tool and handoff)",
    )
    web.add_argument(
        "--pace",
        type=_positive_float,
        default=0.5,
        help="the fake's audio pacing: 0.5 streams a reply twice as fast as it plays (default)",
    )
    _add_debug(web, argparse.SUPPRESS)
    web.set_defaults(handler=_web)

    replay = commands.add_parser(
        "replay",
        help="a recording's timeline; --check replays it against the current code",
        description=(
            "Print the timeline of a recorded session (run(record=...), demo --record,"
            " serve-fake --record). --check feeds the recorded inputs to the current code and"
            " fails, naming the frame, unless it sends the recorded frames. See"
            " docs/recording.md."
        ),
    )
    replay.add_argument("file", metavar="FILE.jsonl", help="the recording")
    replay.add_argument("--check", action="store_true", help="exit 1 unless the replay matches")
    replay.add_argument("--json", action="store_true", help="JSON lines instead of text")
    replay.add_argument(
        "--html",
        metavar="OUT.html",
        help="draw the timeline as the web page does, in one self-contained file",
    )
    replay.add_argument(
        "--agent", metavar="MODULE:NAME", help="the agent (default: the recording's agent_ref)"
    )
    replay.add_argument(
        "--config", metavar="MODULE:NAME", help="its RunConfig (default: config_ref, or none)"
    )
    _add_debug(replay, argparse.SUPPRESS)
    replay.set_defaults(handler=_replay)
    return parser


# -- errors -------------------------------------------------------------------------------------


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups that task groups raise."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def describe_error(exc: BaseException) -> str:
    """One line for the user: the message, named by kind when it is not one of ours."""
    exc = _leaf(exc)
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"no such file: {exc.filename}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, CliError | ApiKeyError | ValueError):
        return text
    return f"{type(exc).__name__}: {text}"


def _redactor(args: argparse.Namespace) -> Redactor:
    """The key the environment holds and the credentials of ``--url``, hidden."""
    try:
        key = resolve_api_key()
    except ApiKeyError:
        key = None
    return Redactor(*connection_secrets(getattr(args, "url", None), (), key))


class _RedactingWriter(io.TextIOBase):
    """A text stream that writes to ``stream`` a line at a time, each redacted: a secret cut
    across two writes of one line is whole again when its line is."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        if "\n" in text:
            lines, newline, self._pending = self._pending.rpartition("\n")
            self._stream.write(self._redact(lines + newline))
        return len(text)

    def flush(self) -> None:
        if self._pending:  # a progress bar's partial line
            self._stream.write(self._redact(self._pending))
            self._pending = ""
        self._stream.flush()


@contextlib.contextmanager
def _redacted_output(redact: Redactor) -> Iterator[None]:
    out = _RedactingWriter(sys.stdout, redact)
    err = _RedactingWriter(sys.stderr, redact)
    try:
        with (
            contextlib.redirect_stdout(cast(TextIO, out)),
            contextlib.redirect_stderr(cast(TextIO, err)),
        ):
            yield
    finally:
        out.flush()
        err.flush()


def _quiet_encoding_errors() -> None:
    # A console that cannot show "°" must not turn the demo into an error.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; the exit status (0 success or skip, 1 failure, 2 usage)."""
    _quiet_encoding_errors()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    handler: Callable[[argparse.Namespace], int] = args.handler
    with _redacted_output(_redactor(args)):
        return _run(handler, args)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:
        if isinstance(exc, SystemExit | GeneratorExit):
            raise
        if isinstance(_leaf(exc), KeyboardInterrupt):
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
        if args.debug:
            # Printed here rather than raised, so that it goes through the redaction too.
            print("".join(traceback.format_exception(exc)), end="", file=sys.stderr)
        else:
            print(f"{PROG}: error: {describe_error(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
