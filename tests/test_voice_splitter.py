"""The text splitter: boundaries, a short first piece, numbers and abbreviations, bounds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from realtime_sansio.protocol import LocalProtocolError
from realtime_sansio.protocol.voice import TextSplitter


def split(text: str, step: int = 3, **kwargs: int) -> list[str]:
    splitter = TextSplitter(**kwargs)
    pieces: list[str] = []
    for i in range(0, len(text), step):
        pieces += splitter.feed(text[i : i + step])
    return pieces + splitter.flush()


def test_the_first_piece_ends_at_the_first_clause_and_later_ones_at_sentences() -> None:
    text = (
        "Well, the weather in Paris today is sunny, with a light breeze from the west, "
        "and it will stay that way. Tomorrow, clouds. Then rain, then more rain after that."
    )
    assert split(text) == [
        "Well, the weather in Paris today is sunny,",
        "with a light breeze from the west, and it will stay that way.",
        "Tomorrow, clouds. Then rain, then more rain after that.",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "The value of pi is about 3.14 and e is 2.718 roughly, as you know well.",
        "Take the pills, e.g. with water, i.e. not with milk, as Dr. Smith said to Mr. Jones.",
        "J. R. R. Tolkien lived in the U.S. for a while? No, in the U.K. mostly, in fact.",
        "We met at 5 p.m. on the 3rd and talked until late into the quiet night.",
    ],
)
def test_numbers_abbreviations_and_initials_are_not_sentence_ends(text: str) -> None:
    pieces = split(text, first_min_chars=200, min_chars=1)
    assert pieces == [text] or (len(pieces) == 2 and "?" in pieces[0])


def test_etc_ends_a_sentence_only_before_a_capital() -> None:
    text = "Bring bread, milk, eggs etc. and some fruit. That is all etc. Then we go home."
    assert split(text, first_min_chars=100, min_chars=1) == [
        "Bring bread, milk, eggs etc. and some fruit.",
        "That is all etc.",
        "Then we go home.",
    ]


def test_closing_quotes_stay_with_their_sentence() -> None:
    assert split('He said "Stop right there." Then he left the room.', min_chars=1) == [
        'He said "Stop right there."',
        "Then he left the room.",
    ]


def test_text_without_boundaries_is_cut_between_words_at_the_bound() -> None:
    pieces = split("word " * 200, step=11, max_chars=60)
    assert all(len(piece) <= 60 for piece in pieces)
    assert all(piece.split() == ["word"] * len(piece.split()) for piece in pieces)
    assert sum(len(piece.split()) for piece in pieces) == 200


def test_a_pending_period_waits_for_the_next_character() -> None:
    splitter = TextSplitter(min_chars=1)
    assert splitter.feed("It costs 3.") == []
    assert splitter.feed("14 dollars. Cheap") == ["It costs 3.14 dollars."]
    assert splitter.flush() == ["Cheap"]


def test_bad_lengths_and_deltas_are_refused() -> None:
    with pytest.raises(LocalProtocolError):
        TextSplitter(min_chars=0)
    with pytest.raises(LocalProtocolError):
        TextSplitter(first_min_chars=300, max_chars=100)
    with pytest.raises(LocalProtocolError):
        TextSplitter().feed(b"bytes")  # type: ignore[arg-type]


_words = st.lists(
    st.sampled_from(["Hello", "world.", "3.14", "e.g.", "Dr.", "yes,", "no!", "why?", "and", "\n"]),
    max_size=60,
)


@given(_words, st.integers(1, 17))
def test_pieces_keep_every_word_in_order_whatever_the_deltas(words: list[str], step: int) -> None:
    text = " ".join(words)
    pieces = split(text, step=step, max_chars=80)
    assert " ".join(pieces).split() == text.split()
    assert all(len(piece) <= 80 for piece in pieces)
    assert pieces == split(text, step=len(text) + 1, max_chars=80)  # deltas do not matter
