"""The pytest plugin, tested as a user's suite meets it: ``pytester`` writes test files into a
fresh directory and runs pytest on them, with the plugin found through its ``pytest11`` entry
point (not imported by hand), and each inner test asks for a fixture by name."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

AGENT = """
import anyio
import pytest
from realtime_sansio.protocol import Agent, ModelConfig, events
from realtime_sansio.transports.runner import run

pytestmark = pytest.mark.anyio
agent = Agent(name="Helper", instructions="Be brief.")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request):
    return request.param


async def reply(**options):
    text = []
    async with run(agent, **options) as session:
        await session.send_message("Hello there")
        with anyio.fail_after(20):
            async for event in session:
                if isinstance(event, events.TranscriptDeltaEvent) and event.role == "assistant":
                    text.append(event.delta)
                if isinstance(event, events.AgentEndEvent):
                    return "".join(text)
"""


def test_a_served_fake_in_one_fixture_argument_timed_like_the_real_server(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        AGENT
        + """
async def test_talks_to_the_fake(fake_realtime_url):
    assert fake_realtime_url.startswith("ws://127.0.0.1:")
    started = anyio.current_time()
    config = ModelConfig(url=fake_realtime_url, api_key="unused")
    assert await reply(model_config=config) == (
        "You said: Hello there. What else can I do for you?"
    )
    assert anyio.current_time() - started > 0.2  # the first token took a realistic while


def test_a_sync_test_gets_a_url_too(fake_realtime_url):
    import json
    from websockets.sync.client import connect

    with connect(fake_realtime_url + "/v1/realtime?model=gpt-realtime-mini") as connection:
        created = json.loads(connection.recv())
    assert created["session"]["model"] == "gpt-realtime-mini"
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_marker_scripts_the_fake_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        AGENT
        + """
from realtime_sansio.protocol.fake import FakeServerConfig, Respond
from realtime_sansio.transports.websocket import HandshakeError


@pytest.mark.fake_realtime(script=[Respond.text("Scripted hello.")], config=FakeServerConfig())
async def test_served_and_scripted(fake_realtime_url):
    config = ModelConfig(url=fake_realtime_url, api_key="unused")
    assert await reply(model_config=config) == "Scripted hello."


@pytest.mark.fake_realtime(script='[{"respond": {"text": "From JSON."}}]')
async def test_in_memory_and_scripted(fake_realtime_transport, fake_realtime_server):
    assert await reply(transport=fake_realtime_transport) == "From JSON."
    assert fake_realtime_server.mismatches == []
    assert [i["role"] for i in fake_realtime_server.model.items()] == ["user", "assistant"]


@pytest.mark.fake_realtime(require_key="sk-the-right-key-000000000000")
async def test_a_key_can_be_required(fake_realtime_url):
    wrong = ModelConfig(url=fake_realtime_url, api_key="sk-wrong-key-0000000000")
    with pytest.raises(HandshakeError) as refused:
        await reply(model_config=wrong)
    assert refused.value.status == 401


@pytest.mark.fake_realtime("positional")
def test_misuse(fake_realtime_server):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6, errors=1)
    result.stdout.fnmatch_lines(["*fake_realtime takes keyword arguments only*"])


def test_a_conftest_sets_the_fake_for_a_whole_directory(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from realtime_sansio.protocol.fake import FakeServerConfig

@pytest.fixture
def fake_realtime_config():
    return FakeServerConfig(brain=False)
"""
    )
    pytester.makepyfile(
        AGENT
        + """
async def test_without_the_brain(fake_realtime_transport):
    assert await reply(transport=fake_realtime_transport) == "OK."
"""
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
