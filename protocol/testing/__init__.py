"""Property-test your agents: a model of the GA Realtime server, to begin with.

- ``ServerModel`` (``server``): a pure, deterministic, well-behaved GA server; what its responses
  say is scripted (``ResponseScript``, ``ScriptText``, ``ScriptAudio``, ``ScriptCall``).
"""

from __future__ import annotations

from .scripts import DEFAULT_SCRIPT, ResponseScript, ScriptAudio, ScriptCall, ScriptText
from .server import ServerModel, Violation

__all__ = [
    "DEFAULT_SCRIPT",
    "ResponseScript",
    "ScriptAudio",
    "ScriptCall",
    "ScriptText",
    "ServerModel",
    "Violation",
]
