"""Property-test your agents: a model of the GA Realtime server, a harness and the invariants.

- ``ServerModel`` (``server``): a pure, deterministic, well-behaved GA server; what its responses
  say is scripted (``ResponseScript``, ``ScriptText``, ``ScriptAudio``, ``ScriptCall``).
- ``Harness`` (``harness``): a ``Session`` and a ``ServerModel`` with events in flight both ways,
  effects to answer and a virtual clock, every move in the caller's hands.
- ``Transcript`` (``transcript``) and ``invariants``: the run as recorded, and what must hold.
"""

from __future__ import annotations

from . import invariants
from .harness import Harness
from .invariants import check_all, check_chunking, check_replay
from .scripts import DEFAULT_SCRIPT, ResponseScript, ScriptAudio, ScriptCall, ScriptText
from .server import ServerModel, Violation
from .transcript import Step, Transcript

__all__ = [
    "DEFAULT_SCRIPT",
    "Harness",
    "ResponseScript",
    "ScriptAudio",
    "ScriptCall",
    "ScriptText",
    "ServerModel",
    "Step",
    "Transcript",
    "Violation",
    "check_all",
    "check_chunking",
    "check_replay",
    "invariants",
]
