"""Splitting an article body into passages that fit the embedding model's window.

Passages follow paragraphs: whole paragraphs are packed together while they fit; a paragraph too long
for the window is cut at sentence ends, and a sentence too long is cut between tokens. Every character
of the body lies in exactly one passage (apart from the white space between them), so nothing is ever
truncated away.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Passage", "TokenSpans", "embedding_text", "split_passages"]

#: A tokenizer reduced to what splitting needs: text → character spans of its tokens (no specials).
TokenSpans = Callable[[str], Sequence[tuple[int, int]]]

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before white space.
_SENTENCE_END = re.compile(r"""[.!?…]["'”’»)\]]*\s+""")


@dataclass(frozen=True, slots=True)
class Passage:
    """A span of an article body: ``body[start:end]``; ``seq`` is its position in the article."""

    seq: int
    start: int
    end: int
    tokens: int

    def text(self, body: str) -> str:
        """The passage's text, cut from the body it was split from."""
        return body[self.start : self.end]


def embedding_text(title: str | None, passage_text: str) -> str:
    """What is embedded for a passage: the title gives the context, then the passage itself."""
    return f"{title}\n{passage_text}" if title else passage_text


def _trimmed(body: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and body[start].isspace():
        start += 1
    while end > start and body[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _spans_between(body: str, pattern: re.Pattern[str], start: int, end: int) -> list[tuple[int, int]]:
    """Cut ``body[start:end]`` at every match of ``pattern``; the pieces, trimmed."""
    pieces = []
    cursor = start
    for match in pattern.finditer(body, start, end):
        piece = _trimmed(body, cursor, match.start() if pattern is _PARAGRAPH_BREAK else match.end())
        if piece:
            pieces.append(piece)
        cursor = match.end()
    last = _trimmed(body, cursor, end)
    if last:
        pieces.append(last)
    return pieces


def split_passages(body: str, token_spans: TokenSpans, max_tokens: int) -> list[Passage]:
    """Split ``body`` into passages of at most ``max_tokens`` tokens each.

    ``token_spans`` is called once on the whole body; all counting uses the spans it returns.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    spans = list(token_spans(body))
    starts = [s for s, _ in spans]

    def count(start: int, end: int) -> int:
        return bisect_left(starts, end) - bisect_left(starts, start)

    units: list[tuple[int, int, int]] = []  # (start, end, tokens), each fitting the window
    for p_start, p_end in _spans_between(body, _PARAGRAPH_BREAK, 0, len(body)):
        n = count(p_start, p_end)
        if n <= max_tokens:
            units.append((p_start, p_end, n))
            continue
        for s_start, s_end in _spans_between(body, _SENTENCE_END, p_start, p_end):
            n = count(s_start, s_end)
            if n <= max_tokens:
                units.append((s_start, s_end, n))
            else:
                units.extend(_cut_by_tokens(body, spans, starts, s_start, s_end, max_tokens))
    return _pack(body, units, max_tokens)


def _cut_by_tokens(
    body: str,
    spans: Sequence[tuple[int, int]],
    starts: Sequence[int],
    start: int,
    end: int,
    max_tokens: int,
) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence into windows of ``max_tokens`` tokens, preferring word boundaries."""
    first = bisect_left(starts, start)
    last = bisect_left(starts, end)
    pieces = []
    i = first
    while i < last:
        j = min(i + max_tokens, last)
        if j < last:
            # Step back to a token that starts a new word, so words stay whole where possible.
            k = j
            while k > i + max_tokens // 2 and spans[k][0] == spans[k - 1][1]:
                k -= 1
            if k > i + max_tokens // 2:
                j = k
        piece_start = spans[i][0] if i > first else start
        piece_end = spans[j][0] if j < last else end
        trimmed = _trimmed(body, piece_start, piece_end)
        if trimmed:
            pieces.append((trimmed[0], trimmed[1], j - i))
        i = j
    return pieces


def _pack(body: str, units: list[tuple[int, int, int]], max_tokens: int) -> list[Passage]:
    """Greedily join consecutive units into passages while they fit."""
    passages: list[Passage] = []
    cur_start = cur_end = cur_tokens = -1
    for start, end, tokens in units:
        if cur_start >= 0 and cur_tokens + tokens <= max_tokens:
            cur_end, cur_tokens = end, cur_tokens + tokens
            continue
        if cur_start >= 0:
            passages.append(Passage(len(passages), cur_start, cur_end, cur_tokens))
        cur_start, cur_end, cur_tokens = start, end, tokens
    if cur_start >= 0:
        passages.append(Passage(len(passages), cur_start, cur_end, cur_tokens))
    return passages
