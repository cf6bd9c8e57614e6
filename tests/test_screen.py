"""The literal screen skips only regular expressions that cannot match (newsindex.events.screen)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsindex.events import classify, dates
from newsindex.events.screen import LiteralScreen, necessary_literals


def _i(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def test_literals_every_match_needs() -> None:
    assert necessary_literals(_i(r"\b(?:protest\w*|rall(?:y|ies))\b")) == {"protest", "rall"}
    # The longest literal of a sequence is the most selective one.
    assert necessary_literals(_i(r"\bair (?:\w+ ){0,2}strikes?\b")) == {"strike"}
    # Case-sensitive parts are screened in lower case too.
    assert necessary_literals(re.compile(r"\b(?-i:March)\b", re.IGNORECASE)) == {"march"}
    # A repeat that may be absent, and an alternation with a branch lacking literals, need nothing.
    assert necessary_literals(_i(r"(?:the )?\d+")) is None
    assert necessary_literals(_i(r"\b(?:killed|\d+)\b")) is None
    assert necessary_literals(_i(r"\b(?:killed|\d+ dead)\b")) == {"killed", " dead"}
    assert necessary_literals(_i(r"\w+ed")) is None


def test_screen_reports_literals_that_overlap_or_nest() -> None:
    patterns = [_i(r"air strikes?"), _i(r"strike"), _i(r"\bikes\b"), _i(r"kerala")]
    screen = LiteralScreen(patterns)
    assert screen.candidates("Air strikes hit the city") == [0, 1, 2]
    assert screen.candidates("a strike") == [1]
    assert screen.candidates("nothing here") == []


def test_text_with_letters_that_fold_to_ascii_is_not_screened() -> None:
    # Under IGNORECASE the Kelvin sign matches "k"; a lower-cased search would not see "kill".
    pattern = _i(r"\bkilled\b")
    text = "\u212ailled in the blast"
    assert pattern.search(text) is not None
    assert LiteralScreen([pattern]).candidates(text) == [0]


_FRAGMENTS = [
    "air strike",
    "Strikes",
    "protest",
    "DEMONSTRATORS",
    "rallied",
    "killed",
    "shelled",
    "on 5 March 2022",
    "monday",
    "yesterday",
    "talks",
    "arrested",
    "tear gas",
    "police",
    " ",
    ", ",
    "-",
    "é",
    "\u212a",
    "ing",
    "ed",
    "s",
]


_SCREENS = [
    (patterns, LiteralScreen(patterns))
    for patterns in ([t.pattern for t in classify.TRIGGERS], [r.pattern for r in dates._RULES])
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=14), st.text(max_size=20))
def test_no_pattern_that_matches_is_skipped(fragments: list[str], noise: str) -> None:
    text = "".join(fragments) + noise
    for patterns, screen in _SCREENS:
        kept = set(screen.candidates(text))
        matching = {i for i, p in enumerate(patterns) if p.search(text)}
        assert matching <= kept


def test_trigger_weights_are_the_same_with_and_without_the_screen() -> None:
    sentences = [
        "Russian forces launched 370 drones and 21 missiles overnight, officials said.",
        "Hundreds of protesters rallied in the capital on Saturday; police fired tear gas.",
        "The talks in Abu Dhabi will resume next week.",
        "A car bomb exploded near a market, killing 12 people.",
        "Shares fell 3% after the company announced layoffs.",
        "Ce n'est pas une grève, a-t-il dit.",
    ]
    for sentence in sentences:
        assert classify.match_triggers(sentence) == classify.match_triggers(sentence, list(classify.TRIGGERS))
