"""The pytest plugin: the fake Realtime server as fixtures for your own tests.

Installed with the package (entry point ``pytest11``; ``pip install realtime-sansio[testing]``
brings pytest and hypothesis), so a test asks for a fixture by name and nothing else:

- ``fake_realtime_url``: ``serve_fake`` on a free loopback port, for this test alone, timed like
  the real server (``FakeServerConfig.realistic()``), as ``ws://127.0.0.1:<port>``. Point this
  library at it (``ModelConfig(url=fake_realtime_url)``) or the ``openai`` package
  (``AsyncOpenAI(websocket_base_url=fake_realtime_url + "/v1", api_key="unused")``). It runs
  on an event loop of its own in a thread, so any test can use it: sync, asyncio, trio.
- ``fake_realtime_server`` and ``fake_realtime_transport``: the in-memory fake, a
  ``FakeRealtimeServer`` (assert on ``.model``, ``.heard``, ``.mismatches``) and a
  ``FakeServerTransport`` hosting it (``run(agent, transport=fake_realtime_transport)``). It is
  in the instant mode unless the test asks for another config; with a virtual clock (trio's
  ``MockClock``) a realistic one costs no wall time.

Per test, the ``fake_realtime`` marker sets what the fake does::

    @pytest.mark.fake_realtime(script=[Respond.text("Hello!")], config=FakeServerConfig(pace=0))

``script`` is a ``FakeScript``, a list of steps, or JSON (text or a path); ``config`` a
``FakeServerConfig``; ``require_key`` (the served fake only) a key to insist on. The fixtures
``fake_realtime_config`` and ``fake_realtime_script`` give the same settings and can be
overridden in a ``conftest.py`` for a whole directory. See docs/testing.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import anyio
import anyio.from_thread
import pytest
from realtime_sansio.protocol.fake import FakeRealtimeServer, FakeScript, FakeServerConfig

from .memory import FakeServerTransport
from .serve import serve_fake

__all__ = [
    "fake_realtime_config",
    "fake_realtime_script",
    "fake_realtime_server",
    "fake_realtime_transport",
    "fake_realtime_url",
]

_MARKER = "fake_realtime"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(script=None, config=None, require_key=None): what the realtime-sansio fake"
        " server does in this test (see the fake_realtime_url fixture)",
    )


def _marked(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(_MARKER)
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{_MARKER} takes keyword arguments only")
    unknown = set(marker.kwargs) - {"script", "config", "require_key"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{_MARKER}: unknown argument(s) {sorted(unknown)}")
    return dict(marker.kwargs)


def _script(value: Any) -> FakeScript | None:
    if value is None or isinstance(value, FakeScript):
        return value
    if isinstance(value, str | os.PathLike):
        return FakeScript.from_json(value)
    return FakeScript(steps=value)


@pytest.fixture
def fake_realtime_script(request: pytest.FixtureRequest) -> FakeScript | None:
    """The script of the fake in this test: the marker's ``script``, else none."""
    return _script(_marked(request).get("script"))


@pytest.fixture
def fake_realtime_config(request: pytest.FixtureRequest) -> FakeServerConfig | None:
    """The config of the fake in this test: the marker's ``config``, else None (each fixture's
    default: realistic when served, instant in memory)."""
    config = _marked(request).get("config")
    if config is not None and not isinstance(config, FakeServerConfig):
        raise pytest.UsageError(f"@pytest.mark.{_MARKER}(config=...) takes a FakeServerConfig")
    return config


@pytest.fixture
def fake_realtime_url(
    request: pytest.FixtureRequest,
    fake_realtime_config: FakeServerConfig | None,
    fake_realtime_script: FakeScript | None,
) -> Iterator[str]:
    """``ws://127.0.0.1:<port>``: the fake served for this test (realistic timing)."""
    config = fake_realtime_config or FakeServerConfig.realistic()
    require_key = _marked(request).get("require_key")
    with anyio.from_thread.start_blocking_portal() as portal:
        ports: list[int] = []
        ready = portal.call(anyio.Event)

        def on_ready(port: int) -> None:
            ports.append(port)
            ready.set()

        serving = portal.start_task_soon(
            lambda: serve_fake(
                "127.0.0.1",
                0,
                fake_realtime_script,
                config=config,
                ready=on_ready,
                require_key=require_key,
            )
        )
        portal.call(ready.wait)
        try:
            yield f"ws://127.0.0.1:{ports[0]}"
        finally:
            serving.cancel()


@pytest.fixture
def fake_realtime_server(
    fake_realtime_config: FakeServerConfig | None, fake_realtime_script: FakeScript | None
) -> FakeRealtimeServer:
    """The in-memory fake (instant unless the test sets a config)."""
    return FakeRealtimeServer(fake_realtime_config, script=fake_realtime_script)


@pytest.fixture
def fake_realtime_transport(fake_realtime_server: FakeRealtimeServer) -> FakeServerTransport:
    """A ``FakeServerTransport`` hosting ``fake_realtime_server``: pass it to ``run``."""
    return FakeServerTransport(fake_realtime_server)
