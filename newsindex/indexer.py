"""``EmbeddingIndexer``: articles → passages → normalised float32 vectors.

One of the three public parts (DESIGN §3). It splits each article into passages that fit the model's
window, embeds each passage with its title, encodes in length-sorted batches (less padding, so less
work for the same vectors), keeps a bounded cache of recent passage vectors, and reports progress.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .embedding import Embedder, FloatArray, SentenceTransformerEmbedder
from .models import Article
from .passages import Passage, embedding_text, split_passages

__all__ = ["ArticleVectors", "EmbeddingIndexer", "ProgressCallback"]

#: Called with (passages done, passages in total) as encoding goes on.
ProgressCallback = Callable[[int, int], None]

# Titles give context but must leave room for the passage itself in the window.
_MAX_TITLE_TOKENS = 48


@dataclass(frozen=True)
class ArticleVectors:
    """An article's passages and one vector per passage (rows in passage order)."""

    article: Article
    passages: list[Passage]
    vectors: FloatArray


class EmbeddingIndexer:
    """Turns articles into passage vectors with a given :class:`~newsindex.embedding.Embedder`.

    ``embedder`` may be an Embedder, a model name or path, or None for the default model.
    """

    def __init__(
        self,
        embedder: Embedder | str | None = None,
        *,
        batch_size: int = 32,
        cache_size: int = 10_000,
    ) -> None:
        if embedder is None or isinstance(embedder, str):
            embedder = SentenceTransformerEmbedder(embedder, batch_size=batch_size)
        self.embedder: Embedder = embedder
        self.batch_size = batch_size
        self._cache: OrderedDict[bytes, FloatArray] = OrderedDict()
        self._cache_size = cache_size
        # Searches in several threads encode through one indexer: a lookup and its move to the end
        # must not straddle another thread's eviction of the same key.
        self._cache_lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def passages(self, article: Article) -> list[Passage]:
        """The passages ``article`` is split into."""
        return self.prepare(article)[0]

    def _title_for_context(self, title: str | None) -> str | None:
        if not title:
            return None
        # At most a quarter of the window, so the passage always keeps most of it.
        cap = min(_MAX_TITLE_TOKENS, self.embedder.max_tokens // 4)
        spans = self.embedder.token_spans(title)
        if cap < 1:
            return None
        if len(spans) > cap:
            return title[: spans[cap - 1][1]]
        return title

    def prepare(self, article: Article) -> tuple[list[Passage], list[str], list[int]]:
        """Passages, the texts to embed for them, and their token counts (for length sorting)."""
        title = self._title_for_context(article.title)
        title_tokens = len(self.embedder.token_spans(title)) if title else 0
        budget = self.embedder.max_tokens - title_tokens
        passages = split_passages(article.body, self.embedder.token_spans, budget)
        texts = [embedding_text(title, p.text(article.body)) for p in passages]
        return passages, texts, [p.tokens + title_tokens for p in passages]

    def embed(
        self, articles: Iterable[Article], *, progress: ProgressCallback | None = None
    ) -> list[ArticleVectors]:
        """Split and embed ``articles``; one :class:`ArticleVectors` per article, in order."""
        prepared = [(a, *self.prepare(a)) for a in articles]
        texts = [t for _, _, ts, _ in prepared for t in ts]
        lengths = [n for _, _, _, ns in prepared for n in ns]
        vectors = self.encode(texts, lengths=lengths, progress=progress)
        out = []
        row = 0
        for article, passages, _, _ in prepared:
            out.append(ArticleVectors(article, passages, vectors[row : row + len(passages)]))
            row += len(passages)
        return out

    def encode(
        self,
        texts: Sequence[str],
        *,
        lengths: Sequence[int] | None = None,
        progress: ProgressCallback | None = None,
    ) -> FloatArray:
        """Encode texts (each must fit the window) in length-sorted batches; rows in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: list[int] = []
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        with self._cache_lock:
            for i, key in enumerate(keys):
                cached = self._cache.get(key)
                if cached is not None:
                    out[i] = cached
                    self._cache.move_to_end(key)
                else:
                    todo.append(i)
        done = len(texts) - len(todo)
        if progress:
            progress(done, len(texts))
        if lengths is None:
            lengths = [len(t) for t in texts]
        # Longest first: similar lengths share a batch, so little padding is computed.
        todo.sort(key=lambda i: -lengths[i])
        for pos in range(0, len(todo), self.batch_size):
            batch = todo[pos : pos + self.batch_size]
            vectors = self.embedder.encode([texts[i] for i in batch])
            out[batch] = vectors
            with self._cache_lock:
                for i, vector in zip(batch, vectors, strict=True):
                    self._remember(keys[i], vector)
            done += len(batch)
            if progress:
                progress(done, len(texts))
        return out

    def _remember(self, key: bytes, vector: FloatArray) -> None:
        if self._cache_size <= 0:
            return
        self._cache[key] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def embed_query(self, query: str) -> FloatArray:
        """One normalised vector for a query; a query longer than the window is split like an
        article and its passage vectors averaged, so no part of it is ignored."""
        limit = self.embedder.max_tokens
        # A query that fits the window (most do) is not split: counting its tokens costs less.
        spans = self.embedder.token_spans(query)
        passages = [] if len(spans) <= limit else split_passages(query, lambda _: spans, limit)
        if len(passages) <= 1:
            vectors = self.embedder.encode([query.strip() or query])
        else:
            vectors = self.encode([p.text(query) for p in passages])
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        unit: FloatArray = (mean / norm if norm > 0 else mean).astype(np.float32)[None, :]
        return unit
