"""Test-wide settings.

Hypothesis deadlines are off: a loaded CI machine makes single examples slow now and then,
and wall-clock speed is measured in bench/, never asserted in a test.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.load_profile("default")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Every anyio test runs on both loops: the driver must not care which."""
    return str(request.param)
