"""What the fake server says that the server model does not: the rate limits of a new
connection, the expiry message, and the beta protocol's stand-ins for GA-only events."""

from __future__ import annotations

import attrs

from .. import wire

__all__ = ["expiry_message", "obfuscation", "rate_limits", "to_beta"]

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def to_beta(event: wire.ServerEvent) -> wire.ServerEvent | None:
    """The event a beta server sends instead: ``conversation.item.created`` for ``.added``,
    nothing for ``.done`` (neither exists in the beta protocol)."""
    if isinstance(event, wire.ConversationItemAdded):
        return wire.ConversationItemCreated(
            event_id=event.event_id, item=event.item, previous_item_id=event.previous_item_id
        )
    if isinstance(event, wire.ConversationItemDone):
        return None
    if isinstance(event, wire.ResponseOutputAudioTranscriptDelta):
        return attrs.evolve(event, obfuscation=None)  # a GA addition
    return event


def rate_limits(event_id: str) -> wire.RateLimitsUpdated:
    """The ``rate_limits.updated`` a connection starts with: nothing used yet."""
    limits = [
        {"name": "requests", "limit": 1000, "remaining": 1000, "reset_seconds": 0.0},
        {"name": "tokens", "limit": 50_000, "remaining": 50_000, "reset_seconds": 0.0},
    ]
    return wire.RateLimitsUpdated(event_id=event_id, rate_limits=limits)


def expiry_message(seconds: float) -> str:
    """The real server's words ("... of 60 minutes."), for any duration."""
    if seconds >= 60 and round(seconds) % 60 == 0:
        minutes = round(seconds) // 60
        length = f"{minutes} minute{'s' if minutes != 1 else ''}"
    else:
        length = f"{seconds:g} seconds"
    return f"Your session hit the maximum duration of {length}."


def obfuscation(delta: str, n: int) -> str:
    """The padding of the ``n``-th transcript delta, as the real server adds one (random
    characters that bring small deltas to a similar size); here a function of ``n``, so the
    same session gives the same frames."""
    length = max(2, 16 - len(delta.encode()))
    return "".join(_ALPHABET[(n * 7919 + i * 104_729) % len(_ALPHABET)] for i in range(length))
