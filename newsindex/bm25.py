"""BM25 over the store's full-text index, scored in memory: FTS5's own ranking, without its cost.

SQLite's ``bm25()`` is computed row by row through FTS5's auxiliary-function interface: for a title
query that matches about 5,000 of 18,744 Reuters articles it took 5-6 ms, of which 0.4 ms was finding
the matches. Here each query term's postings (article, weighted term frequency) are read once from
the index itself, through an ``fts5vocab`` table, turned into that term's BM25 contribution per
article, and kept; a query then adds up a few arrays (0.26 ms on the same queries, once read;
``benchmarks/lexical_speed.py``). The scores are FTS5's: the same IDF, the same k1 and b, the same
column weights, document lengths and average length, read from FTS5's own records; the tests compare
them with ``bm25()`` to a relative 1e-12.

The cache lasts while the database does not change: SQLite's ``PRAGMA data_version``, on the cache's
own read-only connection, moves with every commit of any other connection or process (FTS5's own
records do not always: a ``'rebuild'`` can write back the same bytes over different content).
Everything is read on that connection, in one snapshot, so a search never sees half of a write.
Reading a term's postings costs about two FTS5 queries, so a term is read at its second query since
the last change and its first is left to FTS5: an index that takes in a feed while it is searched
pays FTS5's price, not twice it. A query this cannot answer exactly (a term the tokenizer splits in
two, a term too common to keep) returns None, and the caller asks FTS5.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .store import Store

__all__ = ["MemoryBm25", "decode_varints"]

#: FTS5's constants for bm25(): term-frequency saturation and length normalisation.
K1 = 1.2
B = 0.75
#: FTS5 keeps the row count and each column's token total in the record with this id.
_AVERAGES_ID = 1
#: Postings kept in all (16 bytes each: 64 MB), least recently used dropped first.
MAX_POSTINGS = 4_000_000
#: A term in more articles than this is left to FTS5: loading it would cost more than one query.
MAX_TERM_ARTICLES = 200_000
#: Sums go in one slot per rid (rather than sorting the rids) while the largest rid is at most this
#: many times the postings, plus the minimum: the slots then cost less than the sort.
_DENSE_SUMS_PER_POSTING = 16
_DENSE_SUMS_MIN = 262_144
#: Query terms whose tokens are remembered (the tokenizer does not depend on the data).
_MAX_TOKENIZED = 50_000
#: A term's postings are read at its second query since the database last changed; its first is left
#: to FTS5. Reading them costs about two FTS5 queries (Reuters: 12.9 against 6.1 ms), which pays off
#: only if the term comes back before the next commit empties the cache: an index that takes in a
#: feed while it is searched would otherwise pay twice FTS5's time on every query.
LOAD_AT_SIGHTING = 2
#: Cold terms remembered as seen once, per generation.
_MAX_SIGHTED = 50_000

FloatArray = npt.NDArray[np.float64]
IdArray = npt.NDArray[np.int64]


def decode_varints(data: bytes) -> IdArray:
    """SQLite's variable-length integers, one after another in ``data`` (big-endian groups of seven
    bits, the high bit set on every byte but the last). Values needing the rare ninth byte, above
    2**56, do not occur in token counts and are not decoded."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if not len(raw):
        return np.zeros(0, dtype=np.int64)
    last = raw < 0x80
    ends = np.flatnonzero(last)
    if not len(ends) or ends[-1] != len(raw) - 1:
        raise ValueError("the data ends inside a number")
    group = np.zeros(len(raw), dtype=np.int64)
    group[1:] = np.cumsum(last[:-1])
    shift = 7 * (ends[group] - np.arange(len(raw)))
    values = np.zeros(len(ends), dtype=np.int64)
    np.add.at(values, group, (raw & 0x7F).astype(np.int64) << shift)
    return values


@dataclass(frozen=True)
class _Postings:
    articles: IdArray  # rids, each once
    scores: FloatArray  # this term's BM25 contribution to each
    last: int  # the largest rid


class MemoryBm25:
    """FTS5's ``bm25(articles_fts, *weights)`` for unfiltered queries, from postings kept in memory.

    ``open_reader`` opens the read-only connection this uses, on first use. One instance may serve
    several :class:`~newsindex.store.Store` objects of one database (a store and its side reader).
    """

    def __init__(
        self,
        open_reader: Callable[[], Store],
        weights: Sequence[float] = (2.0, 1.0),
        *,
        max_postings: int = MAX_POSTINGS,
        max_term_articles: int = MAX_TERM_ARTICLES,
    ) -> None:
        self._open_reader = open_reader
        self._load_at = LOAD_AT_SIGHTING  # read at construction, so tests and benchmarks may set it
        self._weights = tuple(float(w) for w in weights)
        self._max_postings = max_postings
        self._max_term_articles = max_term_articles
        self._lock = threading.Lock()
        self._reader: Store | None = None
        self._usable = True
        self._closed = False
        self._generation: int | None = None
        self._refused: set[str] = set()  # tokens in too many articles, this generation
        self._sighted: dict[str, int] = {}  # cold tokens asked for, and how often, this generation
        self._rows = 0
        self._mean_length = 0.0
        self._postings: OrderedDict[str, _Postings] = OrderedDict()
        self._kept = 0
        self._tokens: dict[str, tuple[str, ...]] = {}
        self._columns: tuple[str, ...] = ()

    def close(self) -> None:
        with self._lock:
            self._closed = True  # a search racing the close must not open the reader again
            reader, self._reader = self._reader, None
            self._postings.clear()
            self._kept = 0
            self._generation = None
        if reader is not None:
            reader.close()

    def top(
        self,
        terms: Sequence[str],
        limit: int,
        *,
        cached_only: bool = False,
        among: IdArray | None = None,
    ) -> list[tuple[int, float]] | None:
        """The ``limit`` best articles for ``terms`` (each term one FTS5 phrase, any of them matching),
        as (rid, score), best first, ties by rid; score = -bm25. Only the rids in ``among`` (sorted)
        when it is given: a filter, which does not change the scores. None when this cannot answer
        exactly, and with ``cached_only`` also when a term's postings would have to be read first."""
        if not terms or not self._usable:
            return None
        # Asked for what is in memory only, it does not wait behind another thread reading postings.
        if not self._lock.acquire(blocking=not cached_only):
            return None
        try:
            found = self._found(terms, cached_only)
        finally:
            self._lock.release()
        if found is None:
            return None
        return _best(found, limit, among) if found else []  # none: an empty index

    # -- inside the lock -------------------------------------------------------------------------

    def _found(self, terms: Sequence[str], cached_only: bool) -> list[_Postings] | None:
        if self._closed:
            return None
        if self._reader is None:
            reader = self._open_reader()
            if not self._prepare(reader):
                self._usable = False
                reader.close()
                return None
            self._reader = reader
        reader = self._reader
        with reader.snapshot():
            self._follow(reader)
            if not self._rows:
                return []
            if cached_only and not all(self._in_memory(term) for term in terms):
                return None
            tokens = []
            for term in terms:
                tokenized = self._tokenized(reader, term)
                if len(tokenized) != 1:
                    return None  # a phrase of several tokens, or none: FTS5 knows what it means
                tokens.append(tokenized[0])
            if not self._worth_reading(tokens) or any(self._too_common(reader, t) for t in tokens):
                return None
            found = []
            for token in tokens:
                postings = self._load(reader, token)
                if postings is None:
                    return None
                found.append(postings)
            return found

    def _worth_reading(self, tokens: Sequence[str]) -> bool:
        """Whether the postings not in memory yet may be read now: each cold token counts a sighting,
        and all of them must have reached :data:`LOAD_AT_SIGHTING` (else FTS5 answers this once)."""
        ready = True
        for token in dict.fromkeys(tokens):  # a token twice in one query is one sighting
            if token in self._postings:
                continue
            seen = self._sighted.get(token, 0) + 1
            if seen < self._load_at:
                ready = False
                if len(self._sighted) >= _MAX_SIGHTED:
                    self._sighted.clear()
                self._sighted[token] = seen
        return ready

    def _prepare(self, reader: Store) -> bool:
        """The helper tables, in the connection's own temporary schema (the database is not touched)."""
        from .errors import NewsIndexError

        try:
            reader.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bm25_instances "
                "USING fts5vocab(main, articles_fts, 'instance')"
            )
            self._columns = tuple(
                str(row[1]) for row in reader.execute("PRAGMA table_info(articles_fts)").fetchall()
            )
            tokenizer = reader.execute("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'").fetchone()
            spec = _tokenize_option(tokenizer[0] if tokenizer else "")
            reader.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.bm25_probe USING fts5(x, tokenize={spec})"
            )
            reader.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bm25_probe_tokens "
                "USING fts5vocab(temp, bm25_probe, 'instance')"
            )
            reader.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bm25_terms "
                "USING fts5vocab(main, articles_fts, 'row')"
            )
        except NewsIndexError:
            return False
        return bool(self._columns)

    def _follow(self, reader: Store) -> None:
        """Start again when the database has changed since the postings were read. Called first in
        the snapshot: a commit landing between the version and the reads only costs a reload."""
        version = int(reader.execute("PRAGMA data_version").fetchone()[0])
        if version == self._generation:
            return
        row = reader.execute("SELECT block FROM articles_fts_data WHERE id = ?", (_AVERAGES_ID,)).fetchone()
        counts = decode_varints(bytes(row[0])) if row and row[0] else np.zeros(0, dtype=np.int64)
        rows = int(counts[0]) if len(counts) else 0
        tokens = int(counts[1:].sum()) if len(counts) > 1 else 0
        self._postings.clear()
        self._kept = 0
        self._refused.clear()
        self._sighted.clear()
        self._rows, self._mean_length = rows, (tokens / rows if rows else 0.0)
        self._generation = version  # last: a failure above leaves the next query to try again

    def _in_memory(self, term: str) -> bool:
        tokens = self._tokens.get(term)
        return tokens is not None and len(tokens) == 1 and tokens[0] in self._postings

    def _tokenized(self, reader: Store, term: str) -> tuple[str, ...]:
        known = self._tokens.get(term)
        if known is None:
            reader.execute("INSERT INTO temp.bm25_probe (rowid, x) VALUES (1, ?)", (term,))
            try:
                known = tuple(
                    str(row[0])
                    for row in reader.execute("SELECT term FROM temp.bm25_probe_tokens ORDER BY offset")
                )
            finally:
                reader.execute("DELETE FROM temp.bm25_probe")
            if len(self._tokens) >= _MAX_TOKENIZED:
                self._tokens.clear()
            self._tokens[term] = known
        return known

    def _too_common(self, reader: Store, token: str) -> bool:
        """Whether ``token`` is in too many articles to keep; asked of every cold token of a query
        before any is read, so a query FTS5 must answer anyway reads nothing."""
        if token in self._refused:
            return True
        if token in self._postings:
            return False
        articles_with = reader.execute("SELECT doc FROM temp.bm25_terms WHERE term = ?", (token,)).fetchone()
        if articles_with is not None and int(articles_with[0]) > self._max_term_articles:
            self._refused.add(token)
            return True
        return False

    def _load(self, reader: Store, token: str) -> _Postings | None:
        """``token``'s postings, kept or read now (:meth:`_too_common` has been asked first)."""
        kept = self._postings.get(token)
        if kept is not None:
            self._postings.move_to_end(token)
            return kept
        width = len(self._columns)
        # Each of a row's occurrences counts its column's weight; FTS5 gives unweighted columns 1.
        weights = [*self._weights[:width], *[1.0] * (width - len(self._weights))]
        weighted = " + ".join("? * sum(i.col = ?)" for _ in self._columns)
        rows = reader.execute(
            f"SELECT i.doc, {weighted}, d.sz FROM temp.bm25_instances i "
            "JOIN articles_fts_docsize d ON d.id = i.doc WHERE i.term = ? GROUP BY i.doc",
            [*(v for pair in zip(weights, self._columns, strict=True) for v in pair), token],
        ).fetchall()
        articles = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        frequency = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        sizes = decode_varints(b"".join(r[2] for r in rows))
        if len(sizes) != len(rows) * width:
            return None  # a size record of another shape than FTS5's usual one per column
        length = sizes.reshape(len(rows), width).sum(axis=1)
        # FTS5's IDF, floored as FTS5 floors it, so a term in most rows still counts a little.
        idf = math.log((self._rows - len(rows) + 0.5) / (len(rows) + 0.5))
        idf = idf if idf > 0 else 1e-6
        norm = K1 * (1 - B + B * length / self._mean_length)
        postings = _Postings(
            articles, idf * frequency * (K1 + 1) / (frequency + norm), int(articles.max(initial=0))
        )
        self._postings[token] = postings
        self._kept += len(rows)
        while self._kept > self._max_postings and len(self._postings) > 1:
            _, dropped = self._postings.popitem(last=False)
            self._kept -= len(dropped.articles)
        return postings


def _best(found: Sequence[_Postings], limit: int, among: IdArray | None) -> list[tuple[int, float]]:
    """The articles with the highest summed contributions (of those ``among``, when given), best
    first, ties by rid."""
    articles = np.concatenate([p.articles for p in found])
    if not len(articles):
        return []
    contributions = np.concatenate([p.scores for p in found])
    if max(p.last for p in found) <= _DENSE_SUMS_PER_POSTING * len(articles) + _DENSE_SUMS_MIN:
        # Summed into one slot per rid: three times faster than sorting, where rids are not too sparse.
        sums = np.bincount(articles, weights=contributions)
        unique = np.flatnonzero(sums)  # every contribution is positive, so a hit never sums to 0
        scores = sums[unique]
    else:
        unique, where = np.unique(articles, return_inverse=True)
        scores = np.bincount(where, weights=contributions)
    if among is not None:
        at = np.minimum(np.searchsorted(among, unique), max(len(among) - 1, 0))
        allowed = among[at] == unique if len(among) else np.zeros(len(unique), dtype=bool)
        unique, scores = unique[allowed], scores[allowed]
        if not len(unique):
            return []
    if len(scores) > limit:
        # Every article scoring at least the limit-th score, so that ties at the cut are settled by
        # rid (the lowest kept, as FTS5 keeps them), not by where the partition left them.
        cut = -np.partition(-scores, limit - 1)[limit - 1]
        keep = np.flatnonzero(scores >= cut)
    else:
        keep = np.arange(len(scores))
    order = keep[np.lexsort((unique[keep], -scores[keep]))][:limit]
    return list(zip(unique[order].tolist(), scores[order].tolist(), strict=True))


def _tokenize_option(create_sql: str) -> str:
    """The ``tokenize=`` value of the full-text table's CREATE statement, as written there."""
    match = re.search(r"tokenize\s*=\s*('(?:[^']|'')*')", create_sql, re.IGNORECASE)
    return match.group(1) if match else "'unicode61'"
