"""The user audio a replay may need: the tail the server has not committed, and turns' audio.

A connection that drops takes the server's input audio buffer with it: what the user said
since the last commit is gone, and so is the audio of each committed turn (the session only
ever sent it). ``InputAudioLog`` keeps, for the current connection:

- the *tail*: the audio appended since the last commit the server confirmed, at most
  ``max_tail`` bytes (the oldest forgotten first); a new connection is sent it again, so a
  user cut off mid-sentence is heard whole;
- the audio of committed turns, by item id, at most ``max_kept`` bytes in all (the oldest
  turn forgotten first), for a replay that sends a turn as its audio.

The bounds are given with each call: they are durations, and the bytes a second depend on
the input format of the moment.

Positions are byte offsets in the audio appended on the connection, the server's own audio
clock: a VAD commit ends where ``speech_stopped`` said (``audio_end_ms``), a manual commit
where the session sent it; a turn that began before the tail's start keeps what is left.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Container

__all__ = ["InputAudioLog"]


class InputAudioLog:
    """The uncommitted tail and the kept turns of one session (see the module doc)."""

    __slots__ = (
        "_appended",
        "_commits",
        "_kept",
        "_kept_bytes",
        "_speech_end",
        "_tail",
        "_tail_start",
    )

    def __init__(self) -> None:
        self._tail = bytearray()
        self._tail_start = 0  # offset of the tail's first byte
        self._appended = 0  # bytes appended on this connection
        self._commits: deque[int] = deque(maxlen=64)  # our commits, not yet confirmed
        self._speech_end: int | None = None  # where the last speech_stopped put the end
        self._kept: OrderedDict[str, bytes] = OrderedDict()
        self._kept_bytes = 0

    @property
    def tail(self) -> bytes:
        return bytes(self._tail)

    def appended(self, data: bytes, max_tail: int) -> None:
        self._tail += data
        self._appended += len(data)
        excess = len(self._tail) - max_tail
        if excess > 0:
            del self._tail[:excess]
            self._tail_start += excess

    def commit_sent(self) -> None:
        self._commits.append(self._appended)

    def speech_stopped(self, end: int) -> None:
        self._speech_end = end

    def cleared(self) -> None:
        self._tail_start = self._appended
        self._tail.clear()
        self._commits.clear()
        self._speech_end = None

    def committed(self, item_id: str, max_kept: int) -> None:
        """The server committed a turn as ``item_id``: its audio leaves the tail, and is kept
        by id (within ``max_kept`` bytes for all turns)."""
        if self._speech_end is not None:
            end, self._speech_end = self._speech_end, None
        elif self._commits:
            end = self._commits.popleft()
        else:
            end = self._appended  # the server's own commit (an idle timeout): all it had
        end = max(self._tail_start, min(end, self._appended))
        size = end - self._tail_start
        turn = bytes(self._tail[:size])
        del self._tail[:size]
        self._tail_start = end
        if turn and len(turn) <= max_kept:
            self._kept[item_id] = turn
            self._kept_bytes += len(turn)
            while self._kept_bytes > max_kept:
                _, oldest = self._kept.popitem(last=False)
                self._kept_bytes -= len(oldest)

    def audio_of(self, item_id: str) -> bytes | None:
        return self._kept.get(item_id)

    def unknown_turns(self, known: Container[str]) -> bytes:
        """The audio of the kept turns whose item is not in ``known`` (the server committed
        them, then the connection dropped before it said what it made of them), in order;
        forgotten here: it goes back at the front of the tail, to be heard again."""
        audio = bytearray()
        for item_id in [item_id for item_id in self._kept if item_id not in known]:
            turn = self._kept.pop(item_id)
            self._kept_bytes -= len(turn)
            audio += turn
        return bytes(audio)

    def forget(self, item_id: str) -> None:
        turn = self._kept.pop(item_id, None)
        if turn is not None:
            self._kept_bytes -= len(turn)

    def restart(self) -> bytes:
        """A new connection: its audio clock starts at 0. Returns the tail, to send again."""
        tail = bytes(self._tail)
        self._tail.clear()
        self._tail_start = self._appended = 0
        self._commits.clear()
        self._speech_end = None
        return tail
