"""The ``realtime-sansio`` command: ``demo``, ``serve-fake`` and ``probe``.

    realtime-sansio demo [--fake | --live | --url URL] [--input FILE.wav] [--output FILE.wav]
    realtime-sansio serve-fake [--host 127.0.0.1] [--port 8765] [--script FILE.json]
    realtime-sansio probe [--timeout-ms 8000] [--model gpt-realtime] [--url URL]

A failure is one line on stderr (``realtime-sansio: error: ...``) and exit status 1; with
``--debug`` it is the full traceback instead. The API key never appears in any output.
See docs/cli.md.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import math
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Literal

import anyio
from realtime_sansio.protocol import ModelConfig
from realtime_sansio.protocol.fake import FakeScript, FakeServerConfig

from .auth import ApiKeyError, redact, resolve_api_key
from .diagnostics import ProbeResult, format_probe_failure, probe_text_turn
from .serve import serve_fake

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

    mode: Literal["fake", "live", "url"] = "live" if args.live else "url" if args.url else "fake"
    options = DemoOptions(
        mode=mode,
        url=args.url,
        input_path=args.input,
        output_path=args.output,
        timeout_s=args.timeout,
    )
    try:
        anyio.run(run_demo, options, sys.stdout, sys.stderr)
    except BaseException as exc:
        # Raised inside the demo's task group, a DemoError may arrive wrapped in a group.
        leaf = _leaf(exc)
        if isinstance(leaf, DemoError):
            raise CliError(str(leaf)) from leaf
        raise
    return 0


# -- serve-fake ---------------------------------------------------------------------------------


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _serve(host: str, port: int, script: FakeScript | None, pace: float) -> None:
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
        await serve_fake(host, port, script, config=FakeServerConfig(pace=pace), ready=ready)


async def _stop_on_sigterm(scope: anyio.CancelScope) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM) as signals:
        async for _ in signals:
            scope.cancel()
            return


def _serve_fake(args: argparse.Namespace) -> int:
    script = FakeScript.from_json(args.script) if args.script else None
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how it is meant to stop
            anyio.run(_serve, args.host, args.port, script, args.pace)
    except BaseException as exc:
        leaf = _leaf(exc)
        if isinstance(leaf, OSError):  # the port is taken, the address is not ours...
            where = f"{_url_host(args.host)}:{args.port}"
            raise CliError(f"cannot serve on {where}: {leaf.strerror or leaf}") from leaf
        raise
    return 0


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
        line = redact(format_probe_failure(result), _secret()).removeprefix("probe failed: ")
        print(f"SKIPPED: {line}")
        return 0
    raise CliError(format_probe_failure(result))


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
        description="Voice agents on the OpenAI Realtime API: a demo, a fake server, a probe.",
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
    demo.add_argument("--input", metavar="FILE.wav", help="16-bit WAV for the audio turn")
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
        default=0.0,
        help="audio pacing: 0 streams a reply at once (default), 1.0 in real time",
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


def _secret() -> str | None:
    try:
        return resolve_api_key()
    except ApiKeyError:
        return None


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
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:
        if args.debug or isinstance(exc, SystemExit | GeneratorExit):
            raise
        if isinstance(_leaf(exc), KeyboardInterrupt):
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
        print(f"{PROG}: error: {redact(describe_error(exc), _secret())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
