"""Test-wide settings.

Hypothesis deadlines are off: a loaded CI machine makes single examples slow now and then,
and wall-clock speed is measured in bench/, never asserted in a test.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("default", deadline=None)
settings.load_profile("default")
