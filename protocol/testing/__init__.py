"""Property-test your agents: a model of the GA Realtime server, a harness, the invariants, and
(with hypothesis) strategies and a ready-made state machine.

- ``ServerModel`` (``server``): a pure, deterministic, well-behaved GA server; what its responses
  say is scripted (``ResponseScript``, ``ScriptText``, ``ScriptAudio``, ``ScriptCall``).
- ``Harness`` (``harness``): a ``Session`` and a ``ServerModel`` with events in flight both ways,
  effects to answer and a virtual clock, every move in the caller's hands.
- ``Transcript`` (``transcript``) and ``invariants``: the run as recorded, and what must hold.
- ``SessionMachine`` and the strategies (``strategies``): need hypothesis
  (``pip install realtime-sansio[testing]``); imported on first use, so the rest works without.

See docs/testing.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import invariants
from .harness import Harness
from .invariants import check_all, check_chunking, check_replay
from .scripts import DEFAULT_SCRIPT, ResponseScript, ScriptAudio, ScriptCall, ScriptText
from .server import ServerModel, Violation
from .transcript import Step, Transcript

if TYPE_CHECKING:
    from . import strategies
    from .strategies import SessionMachine

__all__ = [
    "DEFAULT_SCRIPT",
    "Harness",
    "ResponseScript",
    "ScriptAudio",
    "ScriptCall",
    "ScriptText",
    "ServerModel",
    "SessionMachine",
    "Step",
    "Transcript",
    "Violation",
    "check_all",
    "check_chunking",
    "check_replay",
    "invariants",
    "strategies",
]

_NEEDS_HYPOTHESIS = {"SessionMachine": "SessionMachine", "strategies": None}


def __getattr__(name: str) -> Any:
    # The hypothesis-dependent half loads on first use: importing the package must work
    # without hypothesis, and fail with the install hint only when that half is asked for.
    if name not in _NEEDS_HYPOTHESIS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.strategies")
    attribute = _NEEDS_HYPOTHESIS[name]
    return module if attribute is None else getattr(module, attribute)
