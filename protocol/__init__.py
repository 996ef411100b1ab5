"""The pure core of realtime-sansio: no I/O, no clock, no randomness, no user code."""

from __future__ import annotations
