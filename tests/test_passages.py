"""Splitting bodies into passages that fit the model's window (DESIGN §6: never silently truncated)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pytest
from conftest import SEED_FILE, HashingEmbedder

from newsindex import Article, Embedder, EmbeddingError, EmbeddingIndexer, load_articles
from newsindex.embedding import surely_fits
from newsindex.passages import Passage, split_passages

_WORD = re.compile(r"\w+")


def word_spans(text: str) -> Sequence[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _WORD.finditer(text)]


def piece_spans(text: str) -> Sequence[tuple[int, int]]:
    """A sub-word tokenizer: every word cut into pieces of at most 3 characters (like word pieces)."""
    spans = []
    for m in _WORD.finditer(text):
        for start in range(m.start(), m.end(), 3):
            spans.append((start, min(start + 3, m.end())))
    return spans


def tokens_in(spans: Sequence[tuple[int, int]], start: int, end: int) -> int:
    return sum(1 for s, _ in spans if start <= s < end)


def assert_covers(body: str, passages: list[Passage]) -> None:
    """Every non-space character lies in exactly one passage, and passages are in order."""
    previous_end = 0
    covered = [0] * len(body)
    for seq, p in enumerate(passages):
        assert p.seq == seq
        assert 0 <= p.start < p.end <= len(body)
        assert p.start >= previous_end, "passages overlap or are out of order"
        previous_end = p.end
        assert p.text(body) == body[p.start : p.end]
        assert p.text(body).strip() == p.text(body), "passages are trimmed of surrounding space"
        for i in range(p.start, p.end):
            covered[i] += 1
    for i, ch in enumerate(body):
        if not ch.isspace():
            assert covered[i] == 1, f"character {i} ({ch!r}) is in {covered[i]} passages"
    joined = "".join("".join(p.text(body).split()) for p in passages)
    assert joined == "".join(body.split())


def assert_fits(body: str, passages: list[Passage], spans: Sequence[tuple[int, int]], limit: int) -> None:
    for p in passages:
        assert p.tokens <= limit
        assert tokens_in(spans, p.start, p.end) == p.tokens
        assert tokens_in(spans, p.start, p.end) <= limit


def paragraph(n_words: int, tag: str) -> str:
    return " ".join(f"{tag}{i}" for i in range(n_words)) + "."


def test_short_body_is_one_passage() -> None:
    body = "Just one short paragraph."
    passages = split_passages(body, word_spans, 50)
    assert passages == [Passage(0, 0, len(body), 4)]


def test_blank_body_gives_no_passages_and_bad_limit_is_refused() -> None:
    assert split_passages("  \n\n  ", word_spans, 10) == []
    with pytest.raises(ValueError):
        split_passages("text", word_spans, 0)


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [paragraph(10, t) for t in ("a", "b", "c", "d", "e")]
    body = "\n\n".join(paragraphs)
    starts = [body.index(p) for p in paragraphs]
    for limit in (10, 15, 25, 35, 1000):
        passages = split_passages(body, word_spans, limit)
        assert_covers(body, passages)
        assert_fits(body, passages, word_spans(body), limit)
        for start, text in zip(starts, paragraphs, strict=True):
            owners = [p for p in passages if p.start <= start and start + len(text) <= p.end]
            assert len(owners) == 1, f"paragraph at {start} was cut (limit {limit})"
    # 10-word paragraphs with a window of 10 or 15: exactly one paragraph per passage.
    assert [p.text(body) for p in split_passages(body, word_spans, 15)] == paragraphs
    # Windows of 25: two paragraphs per passage, packed greedily.
    assert len(split_passages(body, word_spans, 25)) == 3
    assert len(split_passages(body, word_spans, 1000)) == 1


def test_paragraph_breaks_with_several_blank_lines_and_spaces() -> None:
    body = "First para one two.\n \n\n   \nSecond para three four.\r\n\r\n\t\nThird five."
    passages = split_passages(body, word_spans, 4)
    assert_covers(body, passages)
    assert [p.text(body) for p in passages] == [
        "First para one two.",
        "Second para three four.",
        "Third five.",
    ]


def test_long_paragraph_is_cut_at_sentence_ends() -> None:
    sentences = [f"Sentence {t} " + " ".join(f"w{t}{i}" for i in range(6)) + "." for t in "abcdef"]
    body = " ".join(sentences)  # one paragraph of 6 sentences, 8 tokens each = 48 tokens
    passages = split_passages(body, word_spans, 20)
    assert len(passages) > 1
    assert_covers(body, passages)
    assert_fits(body, passages, word_spans(body), 20)
    for p in passages:
        assert p.text(body).endswith("."), "a cut fell inside a sentence"
    for sentence in sentences:
        start = body.index(sentence)
        assert any(p.start <= start and start + len(sentence) <= p.end for p in passages)


def test_sentence_end_variants() -> None:
    body = 'He asked "why?" Then left! Really… yes. (Done.) End'
    passages = split_passages(body, word_spans, 3)
    assert_covers(body, passages)
    assert_fits(body, passages, word_spans(body), 3)


def test_absurdly_long_sentence_is_cut_by_tokens_at_word_boundaries() -> None:
    body = " ".join(f"word{i}" for i in range(1000))  # no sentence end at all
    passages = split_passages(body, word_spans, 64)
    assert len(passages) >= 1000 // 64
    assert_covers(body, passages)
    assert_fits(body, passages, word_spans(body), 64)
    for p in passages:
        assert p.start == 0 or not body[p.start - 1].isalnum(), "a word was cut"
        assert p.end == len(body) or not body[p.end].isalnum(), "a word was cut"


def test_subword_tokens_keep_words_whole_where_possible() -> None:
    body = " ".join("abcdef" for _ in range(200))  # every word is two 3-character pieces
    spans = piece_spans(body)
    passages = split_passages(body, piece_spans, 7)
    assert_covers(body, passages)
    assert_fits(body, passages, spans, 7)
    for p in passages:
        assert p.text(body).split() == ["abcdef"] * len(p.text(body).split()), "a word was cut"


def test_a_single_word_longer_than_the_window_is_still_covered() -> None:
    body = "x" * 300 + " tail."
    spans = piece_spans(body)
    passages = split_passages(body, piece_spans, 10)
    assert_covers(body, passages)
    assert_fits(body, passages, spans, 10)


def test_mixed_document() -> None:
    long_sentence = " ".join(f"long{i}" for i in range(90))
    body = "\n\n".join(
        [
            paragraph(5, "intro"),
            " ".join(paragraph(7, f"s{i}x") for i in range(8)),
            long_sentence,
            paragraph(3, "outro"),
        ]
    )
    for limit in (8, 16, 40, 500):
        passages = split_passages(body, word_spans, limit)
        assert_covers(body, passages)
        assert_fits(body, passages, word_spans(body), limit)


def test_token_spans_is_called_once_on_the_whole_body() -> None:
    calls: list[str] = []

    def spans(text: str) -> Sequence[tuple[int, int]]:
        calls.append(text)
        return word_spans(text)

    body = "\n\n".join(paragraph(30, t) for t in "abc")
    split_passages(body, spans, 10)
    assert calls == [body]


# ------------------------------------------------------------------------------------------------
# The real seed with the real tokenizer


def test_real_seed_with_real_tokenizer(real_embedder: Embedder) -> None:
    [seed] = load_articles(SEED_FILE)
    body = seed.body
    assert real_embedder.max_tokens == 254
    spans = real_embedder.token_spans(body)
    passages = split_passages(body, real_embedder.token_spans, 254)
    assert len(passages) > 1
    assert passages[0].start == 0
    assert body.startswith("Russia's wave")
    assert_covers(body, passages)
    assert_fits(body, passages, spans, 254)
    for p in passages:
        # What is embedded is the passage on its own: tokenised alone it must still fit the window.
        assert 0 < len(real_embedder.token_spans(p.text(body))) <= 254
    # No paragraph of the seed is longer than the window, so none is cut.
    for para in re.split(r"\n\s*\n", body):
        para = para.strip()
        start = body.index(para)
        assert any(p.start <= start and start + len(para) <= p.end for p in passages)


def test_real_seed_with_a_long_title_fits_the_real_window(real_embedder: Embedder) -> None:
    [seed] = load_articles(SEED_FILE)
    title = "Overnight attack on energy infrastructure " * 20  # far more than any headline
    indexer = EmbeddingIndexer(real_embedder)
    passages, texts, _ = indexer.prepare(Article(title=title, body=seed.body))
    assert len(passages) > 1
    assert_covers(seed.body, passages)
    for p, text in zip(passages, texts, strict=True):
        assert text.startswith("Overnight attack on energy infrastructure")
        assert text.endswith(p.text(seed.body))
        assert len(real_embedder.token_spans(text)) <= real_embedder.max_tokens


def test_real_embedder_refuses_to_truncate(real_embedder: Embedder) -> None:
    with pytest.raises(EmbeddingError):
        real_embedder.encode(["word " * 1000])


# ------------------------------------------------------------------------------------------------
# The title gives the context


def test_prepare_texts_start_with_the_title() -> None:
    embedder = HashingEmbedder(max_tokens=40)
    indexer = EmbeddingIndexer(embedder)
    body = "\n\n".join(paragraph(25, t) for t in "abcd")
    article = Article(title="Flood warning for the valley", body=body)
    passages, texts, lengths = indexer.prepare(article)
    assert len(passages) > 1
    assert len(texts) == len(passages) == len(lengths)
    for p, text, n in zip(passages, texts, lengths, strict=True):
        assert text.startswith("Flood warning for the valley")
        assert text.endswith(p.text(body))
        assert p.text(body) in text
        # Title and passage together fit the window: nothing is truncated by the model.
        assert len(embedder.token_spans(text)) <= embedder.max_tokens
        assert n == len(embedder.token_spans(text))
    assert_covers(body, passages)


def test_prepare_without_title_embeds_the_passage_alone() -> None:
    indexer = EmbeddingIndexer(HashingEmbedder(max_tokens=40))
    body = "\n\n".join(paragraph(25, t) for t in "ab")
    passages, texts, _ = indexer.prepare(Article(body=body))
    assert texts == [p.text(body) for p in passages]


def test_a_very_long_title_leaves_room_for_the_passage() -> None:
    embedder = HashingEmbedder(max_tokens=60)
    indexer = EmbeddingIndexer(embedder)
    title = " ".join(f"t{i}" for i in range(200))
    body = paragraph(100, "b")
    passages, texts, _ = indexer.prepare(Article(title=title, body=body))
    assert_covers(body, passages)
    for p, text in zip(passages, texts, strict=True):
        assert text.startswith("t0 t1 t2")
        assert text.endswith(p.text(body))
        assert len(embedder.token_spans(text)) <= embedder.max_tokens


def test_indexer_vectors_one_per_passage() -> None:
    embedder = HashingEmbedder(max_tokens=40)
    indexer = EmbeddingIndexer(embedder)
    articles = [
        Article(title=f"T{i}", body="\n\n".join(paragraph(30, f"p{i}") for _ in range(3))) for i in range(3)
    ]
    out = indexer.embed(articles)
    assert [item.article for item in out] == articles
    for item in out:
        assert item.vectors.shape == (len(item.passages), embedder.dim)
        assert item.vectors.dtype.name == "float32"


class ByteTokens(HashingEmbedder):
    """A byte-level tokenizer: one token per UTF-8 byte, so "€" is three tokens over one character."""

    def __init__(self) -> None:
        super().__init__(max_tokens=40)
        self.longest = 0

    def token_spans(self, text: str) -> Sequence[tuple[int, int]]:
        return [(i, i + 1) for i, char in enumerate(text) for _ in char.encode("utf-8")]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.longest = max([self.longest, *(len(self.token_spans(t)) for t in texts)])
        return super().encode(texts)


def test_surely_fits_counts_bytes_not_characters() -> None:
    assert surely_fits("a" * 40, 40)
    assert not surely_fits("a" * 41, 40)
    assert not surely_fits("€" * 20, 40), "20 characters, but 60 bytes: a byte-level model's 60 tokens"
    assert surely_fits("€" * 13, 40)


def test_a_short_query_of_many_byte_level_tokens_is_split_not_cut() -> None:
    embedder = ByteTokens()
    query = "€ strike " * 4  # 36 characters, within the 40-token window; but 44 bytes, over it
    assert len(query) <= embedder.max_tokens < len(embedder.token_spans(query))
    vector = EmbeddingIndexer(embedder).embed_query(query)
    assert vector.shape == (1, embedder.dim)
    assert 0 < embedder.longest <= embedder.max_tokens


class ExpandingTokens(HashingEmbedder):
    """A tokenizer that normalises as NFKC does: "ﷺ" (one character, three bytes) is four words."""

    def __init__(self) -> None:
        super().__init__(max_tokens=18)
        self.longest = 0

    def token_spans(self, text: str) -> Sequence[tuple[int, int]]:
        return [(i, i + 1) for i, char in enumerate(text) for _ in range(4 if char == "ﷺ" else 1)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.longest = max([self.longest, *(len(self.token_spans(t)) for t in texts)])
        return super().encode(texts)


def test_a_query_whose_tokenizer_expands_it_is_split_not_cut() -> None:
    embedder = ExpandingTokens()
    query = "ﷺ ﷺ ﷺ ﷺ"  # 15 bytes, within the window of 18; but 19 tokens
    assert len(query.encode()) <= embedder.max_tokens < len(embedder.token_spans(query))
    EmbeddingIndexer(embedder).embed_query(query)
    assert 0 < embedder.longest <= embedder.max_tokens
