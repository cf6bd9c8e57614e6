"""The highlighter's quick path for ASCII stems finds exactly what its regular expression finds."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from newsindex.search import Highlighter

# Letters that make case-insensitive matching differ from lower-casing, letters that lower-case to
# two, word characters that are not alphanumeric (the underscore), digits, accents and spaces.
_ALPHABET = "abcKkSsſıİIiß_1é ,.-\u212a\u0307"


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    text=st.text(alphabet=_ALPHABET, max_size=60),
    terms=st.lists(st.text(alphabet="abcksi1é", min_size=1, max_size=4), min_size=1, max_size=3),
    bounds=st.tuples(st.integers(0, 60), st.integers(0, 60)),
)
@example(text="a ſa", terms=["s"], bounds=(0, 4))  # the long s matches "s" case-insensitively
@example(text="kı ki", terms=["ki"], bounds=(0, 5))  # so does the dotless i match "i"
@example(text="Kİ ki", terms=["ki"], bounds=(0, 5))  # and "İ", which lower-cases to two letters
@example(text="\u212a", terms=["k"], bounds=(0, 1))  # the Kelvin sign lower-cases to "k"
def test_the_quick_path_finds_what_the_expression_finds(
    text: str, terms: list[str], bounds: tuple[int, int]
) -> None:
    highlighter = Highlighter(terms)
    start, end = min(bounds), min(max(bounds), len(text))
    start = min(start, end)
    expected = [m.span() for m in highlighter._pattern.finditer(text, start, end)]
    assert highlighter.spans(text, start, end) == expected


def test_words_are_marked_whole_at_word_starts_only() -> None:
    highlighter = Highlighter(["strikes", "kyiv"])
    text = "Drone STRIKES hit Kyiv's outskirts; airstrike, striking, Strike_force, 2strike."
    marked = [text[a:b] for a, b in highlighter.spans(text, 0, len(text))]
    assert marked == ["STRIKES", "Kyiv", "striking", "Strike"]
    # Inside a window, a word cut by the window's start is not a word start: "[air]strike".
    inside = text.index("airstrike") + 3
    assert [text[a:b] for a, b in highlighter.spans(text, inside, len(text))][:1] == ["striking"]


def test_terms_a_caller_writes_otherwise_are_found_as_the_expression_finds_them() -> None:
    text = "Strike! The U.S. army, e-mail, Kyiv and kyiv, in New York."
    for terms in (["Strike"], ["u.s"], ["e-mail"], ["new york"], ["Kyiv"], [""]):
        highlighter = Highlighter(terms)
        expected = [m.span() for m in highlighter._pattern.finditer(text, 0, len(text))]
        assert highlighter.spans(text, 0, len(text)) == expected, terms
