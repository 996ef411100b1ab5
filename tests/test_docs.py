"""Every ```python block in README.md and docs/*.md runs, and the quick starts say what they should.

How a block runs (the rules a docs writer needs):

- The blocks of one document run in order in one namespace, as a reader would type them into
  one session: a block may use what an earlier block of the same document defined.
- Top-level ``await``, ``async with`` and ``async for`` run on asyncio (as in
  ``python -m asyncio``). A block of ``>>>`` lines is a doctest.
- ``127.0.0.1:8765``, the docs' address of ``realtime-sansio serve-fake``, is a serve-fake that
  this test starts on a free port.
- A name that stands for the reader's own object (``agent``, ``frame``, ``url``... see
  ``_stand_ins``), used by a block that does not define it, gets a stand-in. ``session`` so
  used is a session of ``agent`` on the in-memory fake (push-to-talk), open for the block.
- ``<!-- not-a-test: why -->`` on the line before the fence skips a block: a live key, a server
  that runs until Ctrl-C. Keep them rare.
- No API key reaches a block: the keys in the environment are removed, so nothing reaches the
  real API.

A failure's traceback points at the document and its line.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import doctest
import functools
import inspect
import itertools
import re
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from realtime_sansio.protocol import (
    PCM16,
    Agent,
    RunConfig,
    SessionModelSettings,
    function_tool,
    wire,
)
from realtime_sansio.protocol.audio import write_wav
from realtime_sansio.protocol.fake import synthesize_speech
from realtime_sansio.transports.memory import FakeServerTransport
from realtime_sansio.transports.runner import run
from serve_helpers import serving

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SERVE_FAKE_ADDRESS = "127.0.0.1:8765"
FENCE = re.compile(r"^[ \t]*```python[ \t]*$")
NOT_A_TEST = re.compile(r"<!--\s*not-a-test:\s*(?P<why>\S.*?)\s*-->")
MAX_NOT_A_TEST = 4
TIMEOUT_S = 60

# What the quick starts print: the tool's answer and the reply after it (they used to quit
# before the tool had answered).
PRINTS = {
    "README.md": ["tool said: Sunny in Paris", "Here is what I found: Sunny in Paris."],
    "docs/guide.md": ["tool said: Sunny in Paris", "Here is what I found: Sunny in Paris."],
    "docs/voice.md": ["pipeline complete"],
}


@attrs.frozen(kw_only=True)
class Block:
    path: Path
    line: int  # of the block's first line in the document
    source: str
    skip: str | None  # why it is not a test


def python_blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    index = 0
    while index < len(lines):
        if FENCE.match(lines[index]):
            end = next(j for j in range(index + 1, len(lines)) if lines[j].strip() == "```")
            before = next((text for text in reversed(lines[:index]) if text.strip()), "")
            marker = NOT_A_TEST.search(before)
            found.append(
                Block(
                    path=path,
                    line=index + 2,
                    source=textwrap.dedent("\n".join(lines[index + 1 : end])),
                    skip=marker["why"] if marker else None,
                )
            )
            index = end
        index += 1
    return found


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


# -- stand-ins for the reader's own objects ------------------------------------------------------


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"Sunny in {city}"


AGENT = Agent(name="Assistant", instructions="Be brief.", tools=[get_weather])
# A server frame: the model calling get_weather as call_1 (what session.md's ToolResult answers).
TOOL_CALL_FRAME = wire.encode_server_event(
    wire.ResponseFunctionCallArgumentsDone(
        event_id="event_1",
        response_id="resp_1",
        item_id="item_1",
        output_index=0,
        call_id="call_1",
        name="get_weather",
        arguments='{"city": "Paris"}',
    )
)


class Speaker:
    """Plays nothing, instantly: everything it was given counts as played."""

    def __init__(self) -> None:
        self.played = 0

    def play(self, pcm: bytes) -> None:
        self.played += len(pcm)

    def played_ms(self, item_id: str) -> float:
        return self.played * 1000 / PCM16.bytes_per_second

    def stop(self) -> None:
        pass


@functools.cache
def _speech_halves() -> tuple[bytes, bytes]:
    speech = synthesize_speech("What is the weather in Paris?")
    half = len(speech) // 4 * 2
    return speech[:half], speech[half:]


def _stand_ins(served_url: str) -> dict[str, Callable[[], Any]]:
    """What to put in a block's namespace for each placeholder name (made only when used)."""
    return {
        "agent": lambda: AGENT,
        "my_agent": lambda: AGENT,
        "weather_agent": lambda: AGENT,
        "weather_tool": get_weather.to_wire,
        "ctx": lambda: None,
        "frame": lambda: TOOL_CALL_FRAME,
        "frame_text": lambda: TOOL_CALL_FRAME,
        "clock": lambda: functools.partial(next, itertools.count(1.0)),
        "url": lambda: served_url,
        "headers": list,
        "key": lambda: "unused",
        "speaker": Speaker,
        "pcm16_chunk": lambda: _speech_halves()[0],
        "last_chunk": lambda: _speech_halves()[1],
    }


def free_names(tree: ast.AST) -> set[str]:
    """Names a block reads but never binds (an over-estimate of what it binds is harmless)."""
    loaded, bound = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound - set(dir(builtins))


# -- running a document ------------------------------------------------------------------------


async def _in_session(body: Any, namespace: dict[str, Any]) -> None:
    push_to_talk = RunConfig(model_settings=SessionModelSettings(turn_detection=None))
    async with run(AGENT, config=push_to_talk, transport=FakeServerTransport()) as session:
        namespace["session"] = session
        await body


async def _awaited(body: Any) -> None:
    await body


def _run_block(block: Block, namespace: dict[str, Any], served_url: str) -> None:
    source = block.source.replace(SERVE_FAKE_ADDRESS, served_url.removeprefix("ws://"))
    if source.lstrip().startswith(">>>"):
        parser = doctest.DocTestParser()
        name, line = _name(block.path), block.line - 1
        test = parser.get_doctest(source, namespace, name, str(block.path), line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        results = runner.run(test, out=print)
        assert results.failed == 0, f"the doctest at {_name(block.path)}:{block.line} failed"
        return
    padded = "\n" * (block.line - 1) + source  # so that tracebacks give the document's lines
    tree = ast.parse(padded)
    stand_ins = _stand_ins(served_url)
    wanted = free_names(tree) - namespace.keys()
    for name in wanted & stand_ins.keys():
        namespace[name] = stand_ins[name]()
    code = compile(
        tree,
        str(block.path),
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )
    body = eval(code, namespace)
    if code.co_flags & inspect.CO_COROUTINE:
        if "session" in wanted:
            asyncio.run(_in_session(body, namespace))
        else:
            asyncio.run(_awaited(body))


def run_document(path: Path, served_url: str) -> dict[str, Any]:
    """Run the document's blocks; the namespace they leave."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for block in python_blocks(path):
        if block.skip is not None:
            continue
        try:
            _run_block(block, namespace, served_url)
        except BaseException as exc:
            exc.add_note(f"in the python block at {_name(block.path)}:{block.line}")
            raise
    return namespace


def _in_a_thread(target: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run a document where a hang becomes a failure (a block's own event loop included)."""
    outcome: list[dict[str, Any]] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:
            failure.append(exc)

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    assert not worker.is_alive(), f"still running after {TIMEOUT_S} s"
    if failure:
        raise failure[0]
    return outcome[0]


# -- the tests ----------------------------------------------------------------------------------

DOCS_WITH_CODE = [path for path in DOCS if python_blocks(path)]


@pytest.fixture(scope="module")
def served_url() -> Iterator[str]:
    with serving() as url:
        yield url


@pytest.fixture
def no_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CODEX_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path))


@pytest.fixture
def reader_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files the docs assume the reader has (``question.wav``), in the working folder."""
    monkeypatch.chdir(tmp_path)
    speech = synthesize_speech("What is the weather in Paris?")
    write_wav(tmp_path / "question.wav", speech, PCM16.rate)


@pytest.mark.parametrize("path", DOCS_WITH_CODE, ids=_name)
def test_the_python_blocks_run(
    path: Path,
    served_url: str,
    no_key: None,
    reader_files: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    namespace = _in_a_thread(lambda: run_document(path, served_url))
    printed = capsys.readouterr().out
    for text in PRINTS.get(_name(path), []):
        assert text in printed
    if "speaker" in namespace:  # the guide's playback loop heard the reply, then stopped
        assert namespace["speaker"].played > 0


def test_every_block_is_found_and_few_are_skipped() -> None:
    skipped = []
    for path in DOCS:
        blocks = python_blocks(path)
        assert len(blocks) == path.read_text(encoding="utf-8").count("```python\n")
        skipped += [f"{_name(path)}:{block.line}" for block in blocks if block.skip]
    assert len(skipped) <= MAX_NOT_A_TEST, skipped


def test_free_names_and_markers() -> None:
    tree = ast.parse("import a.b\nfrom c import d as e\nx = f(y)\nasync with g() as h:\n  h(k)")
    assert free_names(tree) == {"f", "y", "g", "k"}
    marker = NOT_A_TEST.search("<!-- not-a-test: needs a live key -->")
    assert marker is not None and marker["why"] == "needs a live key"
    assert NOT_A_TEST.search("<!-- not-a-test: -->") is None  # a reason is required
