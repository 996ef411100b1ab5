"""Where the listener is in the assistant's audio, so an interruption cuts it exactly there.

The server streams audio faster than real time; the listener hears it later. When the user
interrupts, the conversation must keep only what was *heard*, or the model believes it said
things nobody heard. For each assistant audio item this tracks the bytes received and the
played position: the application's ``AudioPlayed`` reports when it sends them, otherwise an
estimate from the injected clock (playback starts at the first delta and runs in real time).
The position is always clamped to the audio received (the official SDKs truncated past it, and
the server refused). Nothing played means the item is deleted, not truncated to zero.
"""

from __future__ import annotations

import math

from ._recent import RecentMap
from .audio.formats import PCM16, AudioFormat
from .wire import ConversationItemDelete, ConversationItemTruncate

__all__ = ["Playback", "Track"]

MAX_TRACKS = 64
"""Items whose playback is remembered; older ones have long finished playing."""


class Track:
    """One assistant audio item (one content part) as received and played."""

    __slots__ = (
        "content_index",
        "cut",
        "fmt",
        "received_bytes",
        "replayed",
        "reported_ms",
        "response_id",
        "started_at",
    )

    def __init__(self, response_id: str, content_index: int, fmt: AudioFormat, now: float):
        self.response_id = response_id
        self.content_index = content_index
        self.fmt = fmt
        self.received_bytes = 0
        self.started_at = now
        self.reported_ms: float | None = None
        self.cut = False
        self.replayed = False  # sent again as text on a new connection: cut here only

    @property
    def received_ms(self) -> float:
        return self.received_bytes * 1000 / self.fmt.bytes_per_second

    def played_ms(self, now: float) -> float:
        """The heard position: the latest report, else the clock's estimate; never past the
        audio received."""
        heard = self.reported_ms
        if heard is None:
            heard = (now - self.started_at) * 1000
        return max(0.0, min(heard, self.received_ms))


class Playback:
    """The tracks of recent assistant audio items, keyed by item id."""

    __slots__ = ("_tracks", "output_format")

    def __init__(self) -> None:
        self._tracks: RecentMap[str, Track] = RecentMap(MAX_TRACKS)
        self.output_format: AudioFormat = PCM16

    def received(
        self, item_id: str, response_id: str, content_index: int, nbytes: int, now: float
    ) -> Track:
        """Audio arrived for an item: its track (made on the first delta)."""
        track = self._tracks.get(item_id)
        if track is None:
            track = self._tracks[item_id] = Track(
                response_id, content_index, self.output_format, now
            )
        track.received_bytes += nbytes
        return track

    def get(self, item_id: str) -> Track | None:
        return self._tracks.get(item_id)

    def replayed(self) -> None:
        """The conversation was sent again to a new connection, assistant audio as text: an
        interruption still stops the listener, but the server has no audio to cut."""
        for track in self._tracks.values():
            track.replayed = True

    def report(self, item_id: str, ms: float) -> None:
        """``AudioPlayed``: the application has played ``ms`` of the item (kept monotonic)."""
        track = self._tracks.get(item_id)
        if track is not None and (track.reported_ms is None or ms > track.reported_ms):
            track.reported_ms = ms

    def playing(self, now: float, *, active_response: str | None) -> list[tuple[str, Track]]:
        """Items the listener may still be hearing: not cut, and either not fully played or
        still receiving audio (their response is active)."""
        return [
            (item_id, track)
            for item_id, track in self._tracks.items()
            if not track.cut
            and (track.response_id == active_response or track.played_ms(now) < track.received_ms)
        ]

    def cut(
        self, item_id: str, track: Track, now: float
    ) -> tuple[ConversationItemTruncate | ConversationItemDelete, int]:
        """Cut an item at the heard position: the event to send, and the position in ms."""
        track.cut = True
        # Whole milliseconds heard, floored; the epsilon keeps 0.6 s - 0.0 s from reading 599.
        end_ms = math.floor(track.played_ms(now) + 1e-6)
        if end_ms <= 0:
            return ConversationItemDelete(item_id=item_id), 0
        return (
            ConversationItemTruncate(
                item_id=item_id, content_index=track.content_index, audio_end_ms=end_ms
            ),
            end_ms,
        )
