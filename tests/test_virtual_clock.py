"""The virtual clock the slow-consumer tests run on: time jumps, I/O still arrives."""

from __future__ import annotations

import anyio
import pytest
from virtual_clock import VIRTUAL_CLOCK_BACKENDS, virtual_clock_backend

pytestmark = pytest.mark.anyio


@pytest.fixture(params=VIRTUAL_CLOCK_BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> object:
    return virtual_clock_backend(request.param)


async def test_an_hour_of_sleeping_is_a_jump_of_the_clock() -> None:
    start = anyio.current_time()
    await anyio.sleep(3600)
    assert anyio.current_time() - start == pytest.approx(3600)


async def test_timers_fire_in_order() -> None:
    fired: list[str] = []

    async def after(seconds: float, name: str) -> None:
        await anyio.sleep(seconds)
        fired.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(after, 20.0, "late")
        tg.start_soon(after, 10.0, "early")
    assert fired == ["early", "late"]


async def test_with_no_timer_the_loop_waits_for_io() -> None:
    # A worker thread's answer comes back through the loop's I/O wakeup.
    assert await anyio.to_thread.run_sync(lambda: "from the thread") == "from the thread"


async def test_a_deadline_passes_without_waiting() -> None:
    with pytest.raises(TimeoutError):
        with anyio.fail_after(600):
            await anyio.Event().wait()
    assert anyio.current_time() >= 600
