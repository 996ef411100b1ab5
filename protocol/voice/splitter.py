"""Cutting a workflow's streamed text into speakable pieces for text-to-speech.

Theory of operation
-------------------
Text arrives in deltas of any size (a token, a word, a whole paragraph). A piece is sent to
synthesis as soon as it is known to be complete, so that the first audio can start while
the workflow is still writing, and each piece is long enough to be spoken with a natural
intonation. A boundary is:

- a *sentence* end: ``.``, ``!``, ``?`` or ``…`` (closing quotes and brackets after it
  included), followed by white space; or a line break;
- a *clause* end: ``,``, ``;``, ``:`` or a dash, followed by white space.

A period is no sentence end inside a number (``3.14``: no space follows), after a known
abbreviation (``e.g.``, ``Dr.``, ``Mr.``, ``etc.`` followed by a lower-case word ...), after
a single letter (an initial: ``J. Smith``, ``U.S.``). A boundary needs the character after
it, so a sentence end at the very end of the text so far waits for the next delta (or
``flush``).

The *first* piece is cut at the first boundary of either kind once it has
``first_min_chars``: a short first piece is what makes the first audio early. Later pieces
are cut at sentence ends once they have ``min_chars`` (short sentences are merged), and at
clause ends only when they grow past ``max_chars``. Text with no boundary at all is cut at
the last space before ``max_chars`` (never inside a word unless a single word is longer):
the buffer never holds more than ``max_chars`` characters plus one delta.
"""

from __future__ import annotations

import re

from ..errors import LocalProtocolError

__all__ = ["ABBREVIATIONS", "TextSplitter"]

ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "approx",
        "no",
        "vol",
        "fig",
        "inc",
        "ltd",
        "co",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "a.m",
        "p.m",
    }
)
"""Words (lower case, without the final period) whose period ends no sentence."""

# Sentence and clause punctuation, then closing quotes or brackets, then white space.
_CLOSERS = "\"')]\u201d\u2019"  # closing quotes (straight and curly) and brackets
_BOUNDARY = re.compile(
    rf"([.!?\u2026]+|[,;:]|\s[-\u2013\u2014])([{re.escape(_CLOSERS)}]*)(?=\s)|\n"
)
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]\.?")
# "etc." ends a sentence when a capital follows, and is an abbreviation before lower case.
_SOMETIMES_FINAL = frozenset({"etc", "inc", "ltd", "co", "no"})


def _check_count(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise LocalProtocolError(f"TextSplitter {name} must be an int >= 1, got {value!r}")
    return value


class TextSplitter:
    """``feed(delta) -> [pieces]`` while text streams, ``flush() -> [pieces]`` at its end."""

    def __init__(
        self, *, first_min_chars: int = 12, min_chars: int = 40, max_chars: int = 250
    ) -> None:
        self.first_min_chars = _check_count("first_min_chars", first_min_chars)
        self.min_chars = _check_count("min_chars", min_chars)
        self.max_chars = _check_count("max_chars", max_chars)
        if not first_min_chars <= max_chars or not min_chars <= max_chars:
            raise LocalProtocolError("TextSplitter needs first_min_chars, min_chars <= max_chars")
        self._buffer = ""
        self.pieces_out = 0

    @property
    def pending(self) -> str:
        """Text received and not yet given out as a piece."""
        return self._buffer

    def feed(self, delta: str) -> list[str]:
        if not isinstance(delta, str):
            raise LocalProtocolError(f"workflow text must be str, got {type(delta).__name__}")
        self._buffer += delta
        pieces: list[str] = []
        while True:
            piece = self._next_piece()
            if piece is None:
                return pieces
            pieces.append(piece)

    def flush(self) -> list[str]:
        """The text is complete: whatever is left, cut as usual, the rest as a last piece."""
        pieces = self.feed(" ")  # a final space completes a boundary at the very end
        rest = self._buffer.strip()
        self._buffer = ""
        if rest:
            pieces.append(rest)
            self.pieces_out += 1
        return pieces

    def _next_piece(self) -> str | None:
        at = self._boundary(first=self.pieces_out == 0)
        if at is None:
            if len(self._buffer) <= self.max_chars:
                return None
            at = self._forced_cut()
        piece, self._buffer = self._buffer[:at].strip(), self._buffer[at:].lstrip()
        if not piece:
            return None
        self.pieces_out += 1
        return piece

    def _boundary(self, first: bool) -> int | None:
        """Where the next piece ends, or None to wait for more text."""
        text = self._buffer
        fallback: int | None = None  # the last boundary within max_chars
        for match in _BOUNDARY.finditer(text):
            end = match.end()
            punctuation = match.group(1) or "\n"
            sentence = punctuation[0] in ".!?…\n"
            if punctuation[0] == "." and not self._ends_sentence(text, match.start()):
                continue  # an abbreviation's period is no clause end either
            length = len(text[:end].strip())
            if length > self.max_chars:
                break
            if first and length >= self.first_min_chars:
                return end
            if sentence and length >= self.min_chars:
                return end
            fallback = end
        if len(text) > self.max_chars:
            return fallback
        return None

    def _ends_sentence(self, text: str, period: int) -> bool:
        word_match = _WORD_BEFORE.search(text, 0, period)
        word = word_match.group(1).lower() if word_match else ""
        if not word:
            return True
        if len(word.rstrip(".")) == 1 and word[0].isalpha():
            return False  # an initial: "J. Smith", the "S" of "U.S."
        if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
            base = word.rstrip(".")
            if base in _SOMETIMES_FINAL:
                after = text[period + 1 :].lstrip(" " + _CLOSERS)
                return bool(after) and after[0].isupper()
            return False
        # "e.g", "U.S": letters with inner periods are no sentence end either.
        return not _INITIALS.fullmatch(word)

    def _forced_cut(self) -> int:
        window = self._buffer[: self.max_chars + 1]
        space = window.rfind(" ")
        return space if space > 0 else self.max_chars
