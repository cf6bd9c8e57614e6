"""Sentences with their character offsets, the unit the extractor types and reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "split_clauses", "split_sentences", "word_set"]


def word_set(words: str) -> frozenset[str]:
    """A vocabulary written as white-space separated words (the stages' cue lists)."""
    return frozenset(words.split())


# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) before white space and a
# capital, digit or opening quote; or at a blank line.
_BOUNDARY = re.compile(r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|\n\s*\n""")
# Abbreviations after which a full stop does not end the sentence.
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Col|Lt|Capt|Sgt|Gov|Sen|Rep|St|Jr|Sr|Inc|Ltd|Co|Corp|No|vs|etc|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|U\.S|U\.K|U\.N|e\.g|i\.e)|\b[A-Z])\.$"
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """``body[start:end] == text``."""

    start: int
    end: int
    text: str


def split_sentences(body: str) -> list[Sentence]:
    """Split ``body`` into sentences, keeping offsets; white space is trimmed from each."""
    sentences: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(body):
        if "\n\n" not in match.group(0) and _ABBREV.search(body[max(0, match.start() - 12) : match.start()]):
            continue
        _append(body, start, match.start(), sentences)
        start = match.end()
    _append(body, start, len(body), sentences)
    return sentences


def _append(body: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end, body[start:end]))


# Where one sentence often joins two happenings: "..., Zelensky said on Saturday as peace talks resumed in
# the UAE". Only conjunctions that start a new clause; "as well as", "such as", "as part of" and the like
# are kept whole.
_CLAUSE_BREAK = re.compile(
    r";\s+|,?\s+(?:while|whereas|meanwhile)\s+|,\s+as\s+(?!well\b|part\b|many\b|much\b|if\b|of\b|a\b|an\b|soon\b|"
    r"long\b|far\b|reported\b|such\b)|(?<=[a-z]) as (?=(?:peace |the )?(?:talks|negotiations|fighting|"
    r"protests?|clashes)\b)"
)


def split_clauses(sentence: Sentence) -> list[Sentence]:
    """Split a sentence into clauses at conjunctions that usually start another happening."""
    clauses: list[Sentence] = []
    start = 0
    for match in _CLAUSE_BREAK.finditer(sentence.text):
        if match.start() - start < 12:
            continue
        _append(sentence.text, start, match.start(), clauses)
        start = match.end()
    _append(sentence.text, start, len(sentence.text), clauses)
    if len(clauses) <= 1:
        return [sentence]
    return [Sentence(sentence.start + c.start, sentence.start + c.end, c.text) for c in clauses]
