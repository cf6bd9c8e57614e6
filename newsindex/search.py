"""Query → dense and lexical candidates → filters → fusion → one hit per article → highlights.

Filters are resolved to a set of allowed articles in SQL first and pushed into both retrievers (an id
selector inside FAISS, a WHERE clause beside FTS5), so asking for k hits returns k whenever k matching
articles exist. Dense results are per passage; they are collapsed to articles by their best passage,
fetching deeper until k distinct articles are found or the candidates run out.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .errors import ConfigurationError
from .indexer import EmbeddingIndexer
from .models import Article, SearchHit
from .store import ArticleFilter, Store
from .vectors import FaissRetriever, unit, unit_mean

__all__ = ["MODES", "RRF_K", "Highlighter", "Searcher", "fts_query", "query_terms"]

MODES = ("hybrid", "dense", "lexical")
#: Whether a hybrid search runs its lexical query in a second thread, on the store's second
#: connection, from before the query is encoded until the dense candidates are found (SQLite, the
#: model and FAISS all release the GIL). Interleaved A/B on 2 idle cores, 200 title queries each:
#: 10.2 against 14.1 ms p50 without the thread on 18,744 Reuters articles, 7.8 against 8.7 ms on
#: 2,225 BBC ones. Starting it only once the query is encoded gave 12.7 and 7.7 ms: the two compete
#: for the cores, but on Reuters the lexical query outlasts the encoding. On 2 cores already busy
#: with other work, an earlier form of this overlap cost 12% on 600 BBC articles.
OVERLAP_LEXICAL = True
#: The usual reciprocal-rank-fusion constant: damps the weight of the very first ranks.
RRF_K = 60
# Long queries (a whole article used as a query) keep their most frequent terms only.
_MAX_QUERY_TERMS = 64
# An article used as a query keeps fewer terms: its most frequent words name the story, the long
# tail mostly adds noise to BM25.
_RELATED_TERMS = 16

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_WORD_REST = re.compile(r"[^\W_]*")
# Letters that a case-insensitive expression matches to an ASCII letter though they do not lower-case
# to it (found by trying every code point against every ASCII letter and digit).
_CASE_ODD = re.compile("[\u0130\u0131\u017f]")
# Common English function words: they carry no topic and make FTS5 match everything.
_STOPWORD_TEXT = (
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers herself him himself his how i if in into is it "
    "its itself just me more most my myself no nor not now of off on once only or other our ours "
    "ourselves out over own same she should so some such than that the their theirs them "
    "themselves then there these they this those through to too under until up very was we were "
    "what when where which while who whom why will with would you your yours yourself yourselves "
    "said says say"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SUFFIXES = ("ings", "ing", "ies", "es", "ed", "s")


def query_terms(query: str) -> list[str]:
    """The words of a query that matter for matching: lower-cased, stop words out, most frequent first."""
    words = [w.lower() for w in _WORD.findall(query)]
    counts = Counter(w for w in words if w not in _STOPWORDS and (len(w) > 1 or w.isdigit()))
    return [w for w, _ in counts.most_common(_MAX_QUERY_TERMS)]


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression: any of the terms, each quoted so no query text acts as syntax."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _stem(term: str) -> str:
    for suffix in _SUFFIXES:
        if term.endswith(suffix) and len(term) - len(suffix) >= 3:
            return term[: -len(suffix)]
    return term


class Highlighter:
    """Finds words that start with a query term's stem: "strikes" marks "strike" and "striking".

    One regular expression: a word start (no letter or digit before it), one of the stems, then the
    rest of the word. The stems are tried longest first, so a word is marked whole. With stems of
    lower-case ASCII letters and digits there is a quicker way to the same spans (4 against 14 µs a
    passage on average; a search highlights a passage or more per hit): each stem found in the
    lower-cased passage with ``str.find``, kept at word starts, and extended to the word's end. It
    is taken where lower-casing gives what the expression's case-insensitive match would: the same
    length, and none of the three letters that match an ASCII one without lower-casing to it ("İ",
    "ı", "ſ").
    """

    def __init__(self, terms: Sequence[str]) -> None:
        self.stems = frozenset(_stem(t) for t in terms)
        ordered = sorted(self.stems, key=lambda s: (-len(s), s))
        alternatives = "|".join(re.escape(s) for s in ordered)
        self._pattern = re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)
        # Only lower-case ASCII letters and digits: what query_terms gives (a caller's "U.S." or
        # "Kyiv" goes through the expression).
        quick = all(s.isascii() and s.isalnum() and s == s.lower() for s in ordered)
        self._ascii_stems = ordered if quick else None

    def __bool__(self) -> bool:
        return bool(self.stems)

    def spans(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        if not self.stems:
            return []
        if self._ascii_stems is not None:
            passage = text[start:end]
            lowered = passage.lower()
            if passage.isascii() or (len(lowered) == len(passage) and not _CASE_ODD.search(passage)):
                return _found_at_word_starts(text, start, end, lowered, self._ascii_stems)
        return [match.span() for match in self._pattern.finditer(text, start, end)]


def _found_at_word_starts(
    text: str, start: int, end: int, lowered: str, stems: Sequence[str]
) -> list[tuple[int, int]]:
    """The words of ``text[start:end]`` (lower-cased: ``lowered``) that begin with one of ``stems``."""
    word_starts = set()
    for stem in stems:
        at = lowered.find(stem)
        while at >= 0:
            if not (start + at and text[start + at - 1].isalnum()):  # [^\W_] is str.isalnum
                word_starts.add(at)
            at = lowered.find(stem, at + 1)
    spans = []
    for at in sorted(word_starts):
        word = _WORD_REST.match(text, start + at, end)
        assert word is not None  # it matches the empty string
        spans.append((start + at, word.end()))
    return spans


@dataclass
class _Candidate:
    rid: int
    score: float = 0.0
    dense: float | None = None
    lexical: float | None = None
    passage: tuple[int, int] | None = None  # best passage (start, end) when known
    ranks: dict[str, int] = field(default_factory=dict)


class _SideQuery:
    """A lexical query running in its own thread on the store's second connection.
    A plain thread per search, not a pool: a pool's worker does not survive a fork."""

    def __init__(
        self, store: Store, terms: Sequence[str], where: ArticleFilter, limit: int, among: np.ndarray | None
    ) -> None:
        self._found: list[list[tuple[int, float]]] = []
        self._failed: list[BaseException] = []

        def run() -> None:
            try:
                self._found.append(store.lexical(fts_query(terms), where, limit, terms=terms, among=among))
            except BaseException as exc:  # re-raised in the caller's thread by result()
                self._failed.append(exc)

        self._thread = threading.Thread(target=run, name="newsindex-lexical", daemon=True)
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    def result(self) -> list[tuple[int, float]]:
        self._thread.join()
        if self._failed:
            raise self._failed[0]
        return self._found[0]


class Searcher:
    """Runs searches over one store, its vector index and the indexer that embeds queries."""

    def __init__(self, store: Store, vectors: FaissRetriever, indexer: EmbeddingIndexer) -> None:
        self.store = store
        self.vectors = vectors
        self.indexer = indexer

    def search(
        self,
        query: str,
        *,
        k: int,
        mode: str,
        where: ArticleFilter,
        min_score: float | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[SearchHit]:
        if mode not in MODES:
            raise ConfigurationError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        if k < 1:
            raise ConfigurationError(f"k must be at least 1, got {k}")
        if not query.strip() and query_vector is None:
            raise ConfigurationError("the query is empty")
        # Every article has passages, so no allowed passage means no matching article.
        among, allowed = self.store.matching(where) if where.active else (None, None)
        if allowed is not None and not len(allowed):
            return []
        terms = query_terms(query)
        depth = k if mode != "hybrid" else max(2 * k, 50)
        dense: list[_Candidate] = []
        rows: list[tuple[int, float]] = []
        want_lexical = mode in ("hybrid", "lexical") and bool(terms)
        if want_lexical and mode == "hybrid":
            # Terms already in memory are scored in a fraction of a millisecond: less than a thread
            # costs to start. Otherwise the lexical query runs beside the encoding.
            found = self.store.lexical_from_memory(terms, where, depth, among=among)
            if found is not None:
                rows, want_lexical = found, False
        if mode in ("hybrid", "dense"):
            side = None
            if want_lexical and OVERLAP_LEXICAL:
                side = _SideQuery(self.store.side_reader(), terms, where, depth, among)
            try:
                vector = query_vector if query_vector is not None else self.indexer.embed_query(query)
                dense = self._dense(vector, depth, allowed)
            finally:
                if side is not None:
                    side.join()  # even on failure: the next search needs the second connection free
            if side is not None:
                rows = side.result()
                want_lexical = False
        if want_lexical:
            rows = self.store.lexical(fts_query(terms), where, depth, terms=terms, among=among)
        lexical = [_Candidate(rid, score=s, lexical=s) for rid, s in rows]
        fused = self._fuse(dense, lexical) if mode == "hybrid" else (dense or lexical)
        if min_score is not None:
            fused = [c for c in fused if c.score >= min_score]
        return self._hits(fused[:k], terms)

    def related(
        self, rid: int, k: int, mode: str, dim: int, tiers: dict[int, int] | None = None
    ) -> list[SearchHit]:
        """Articles related to the stored article ``rid``, compared as whole articles.

        Each article is represented by the normalised mean of its passage vectors; the query is
        expanded once with its nearest neighbour (a standard pseudo-relevance step that pulls in
        the other reports of the same story). Lexical candidates come from the article's most
        frequent terms. Hybrid adds the two scores after standardising each over the candidates
        (CombSUM of z-scores): unlike rank fusion it keeps how far apart candidates are, which
        matters when one signal is much surer than the other.

        ``tiers`` puts articles ahead of the others whatever their score: lower tier first (the
        articles about the same events), then by score.
        """
        tiers = tiers or {}
        if mode not in MODES:
            raise ConfigurationError(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
        own = self.store.passage_vectors_of([rid], dim).get(rid)
        article = self.store.articles([rid])[rid]
        if own is None:
            return []
        query = unit_mean(own[1])
        depth = max(2 * k, 50)
        candidates: set[int] = set()
        if mode != "lexical":
            candidates.update(c.rid for c in self._dense(query[None, :], depth + 1, None))
        text = f"{article.title}\n{article.body}" if article.title else article.body
        terms = query_terms(text)[:_RELATED_TERMS]
        lexical: dict[int, float] = {}
        if mode != "dense" and terms:
            exclude = ArticleFilter(exclude_ids=(article.id,))
            lexical = dict(self.store.lexical(fts_query(terms), exclude, depth, terms=terms))
            candidates.update(lexical)
        candidates.update(tiers)
        candidates.discard(rid)
        rows_article, spans, matrix = self.store.passage_matrix_of(sorted(candidates), dim)
        if not len(rows_article):
            return []
        # Rows come grouped by article, in rid order: one sum per group, then normalised, is each
        # article's normalised mean passage vector.
        articles, first = np.unique(rows_article, return_index=True)
        sums = np.add.reduceat(matrix, first, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        centroids = (sums / np.where(norms > 0, norms, 1)).astype(np.float32)
        order: list[int] = articles.tolist()
        dense = centroids @ query
        expanded = unit(query + centroids[int(np.argmax(dense))])
        dense = centroids @ expanded
        bm25 = _values_at(articles, lexical, 0.0)
        if mode == "dense":
            scores = dense.astype(np.float64)
        elif mode == "lexical":
            scores = bm25
        else:
            scores = _zscores(dense) + _zscores(bm25)
        last = max(tiers.values(), default=0) + 1
        tier = _values_at(articles, {r: float(t) for r, t in tiers.items()}, last)
        ranked: list[int] = np.lexsort((-scores, tier))[:k].tolist()  # by tier, then score; stable
        if mode == "lexical":
            ranked = [i for i in ranked if bm25[i] > 0 or order[i] in tiers]
        # Each article's best passage for the query: rows ordered by article, then best score first
        # (ties keep passage order); an article's first row is its best.
        by_fit = np.lexsort((-(matrix @ query), rows_article))
        heads, first_of = np.unique(rows_article[by_fit], return_index=True)
        best_row = dict(zip(heads.tolist(), by_fit[first_of].tolist(), strict=True))
        picked = [
            _Candidate(
                order[i],
                score=float(scores[i]),
                passage=(int(spans[best_row[order[i]], 0]), int(spans[best_row[order[i]], 1])),
            )
            for i in ranked
        ]
        return self._hits(picked, terms)

    def _dense(self, vector: np.ndarray, depth: int, allowed_passages: np.ndarray | None) -> list[_Candidate]:
        """Best passage per article, best articles first; deepens until ``depth`` articles are found.
        ``allowed_passages`` (ids) restricts the search, None searches all."""
        available = len(allowed_passages) if allowed_passages is not None else len(self.vectors)
        fetch = max(depth * 4, 64)
        while True:
            scores, ids = self.vectors.search(vector, fetch, allowed_ids=allowed_passages)
            keep = ids[0] >= 0
            ids, scores = ids[0][keep], scores[0][keep]
            if self.vectors.kind != "flat":
                ids, scores = self._rescored(ids, vector)
            rows = self.store.passage_spans(ids)
            # Passages removed since have no row; of an article's passages the first (best) one counts.
            present = np.flatnonzero(rows[:, 0] >= 0)
            _, first = np.unique(rows[present, 0], return_index=True)
            best = present[np.sort(first)]
            if len(best) >= depth or fetch >= available:
                return [
                    _Candidate(
                        int(rows[i, 0]),
                        score=float(scores[i]),
                        dense=float(scores[i]),
                        passage=(int(rows[i, 1]), int(rows[i, 2])),
                    )
                    for i in best[:depth]
                ]
            fetch *= 4

    def _rescored(self, ids: np.ndarray, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of an approximate index scored again with the stored float vectors, best first:
        its 8-bit codes cannot order near-ties, and the scores become the exact cosines."""
        ids, stored = self.store.present_vectors(ids, self.vectors.dim)
        exact = stored @ np.asarray(vector, np.float32).reshape(-1)
        order = np.argsort(-exact, kind="stable")
        return ids[order], exact[order]

    @staticmethod
    def _fuse(*lists: list[_Candidate]) -> list[_Candidate]:
        """Reciprocal rank fusion: each list adds 1 / (RRF_K + rank) to an article's score."""
        merged: dict[int, _Candidate] = {}
        for candidates in lists:
            for rank, cand in enumerate(candidates, start=1):
                entry = merged.setdefault(cand.rid, _Candidate(cand.rid))
                entry.score += 1.0 / (RRF_K + rank)
                if cand.dense is not None:
                    entry.dense, entry.passage = cand.dense, cand.passage
                if cand.lexical is not None:
                    entry.lexical = cand.lexical
        return sorted(merged.values(), key=lambda c: -c.score)

    def _hits(self, candidates: list[_Candidate], terms: Sequence[str]) -> list[SearchHit]:
        rids = [c.rid for c in candidates]
        articles = self.store.articles(rids)
        highlighter = Highlighter(terms)
        need_passages = [c.rid for c in candidates if c.passage is None]
        passages = self.store.passages_of(need_passages) if need_passages else {}
        hits: list[SearchHit] = []
        for cand in candidates:
            article = articles.get(cand.rid)
            if article is None:
                continue
            span = cand.passage or _best_lexical_passage(article, passages.get(cand.rid, []), highlighter)
            start, end = span
            highlights = highlighter.spans(article.body, start, end)
            hits.append(
                SearchHit.model_construct(
                    rank=len(hits) + 1,
                    score=float(cand.score),
                    article=article,
                    passage=article.body[start:end],
                    passage_start=start,
                    passage_end=end,
                    highlights=highlights,
                    event_ids=[],
                )
            )
        return hits


def _values_at(keys: np.ndarray, values: dict[int, float], default: float) -> np.ndarray:
    """``values`` looked up for each of the sorted ``keys``, ``default`` where there is none."""
    out = np.full(len(keys), default, dtype=np.float64)
    if values and len(keys):
        wanted = np.fromiter(values.keys(), dtype=np.int64, count=len(values))
        found = np.fromiter(values.values(), dtype=np.float64, count=len(values))
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        hit = keys[at] == wanted
        out[at[hit]] = found[hit]
    return out


def _zscores(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    centred = values.astype(np.float64) - float(values.mean())
    return centred / spread if spread > 0 else centred


def _best_lexical_passage(
    article: Article, passages: list[tuple[int, int, int]], highlighter: Highlighter
) -> tuple[int, int]:
    """The passage with the most query-term matches (the first on ties)."""
    if not passages:
        return 0, len(article.body)
    if not highlighter:
        return passages[0][1], passages[0][2]
    best = max(passages, key=lambda p: len(highlighter.spans(article.body, p[1], p[2])))
    return best[1], best[2]
