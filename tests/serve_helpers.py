"""``realtime-sansio serve-fake`` as a subprocess on a free port, for the CLI and docs tests."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator

CLI = [sys.executable, "-m", "realtime_sansio.transports.cli"]


def first_line(process: subprocess.Popen[str], timeout: float = 90) -> str:
    """The first line a subprocess prints, without hanging the tests if it never does. (A
    guard, not a measure: a CLI started under coverage on a loaded machine took over 15 s.)"""
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, f"nothing printed within {timeout} s"
    return lines[0]


@contextlib.contextmanager
def serving(*options: str) -> Iterator[str]:
    """A ``realtime-sansio serve-fake`` subprocess on a free port: its URL, from the line it
    prints; on exit, SIGTERM must stop it cleanly. Instant (``--pace 0``) unless the options
    set a pace: these tests are about the command, not the latency model."""
    pace = [] if "--pace" in options else ["--pace", "0"]
    process = subprocess.Popen(
        [*CLI, "serve-fake", "--port", "0", *pace, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = first_line(process)
        assert line.startswith("serving the fake Realtime server on ws://"), line
        url = line.split(" on ", 1)[1].split()[0]
        assert f'AsyncOpenAI(websocket_base_url="{url}/v1", api_key="unused")' in line
        yield url
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert err == ""
