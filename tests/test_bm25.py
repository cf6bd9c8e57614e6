"""BM25 scored in memory gives FTS5's own bm25() scores, through writes, readers and threads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder
from helpers import errors_in_threads

from newsindex import Article, NewsIndex, load_articles
from newsindex.bm25 import MemoryBm25, decode_varints
from newsindex.search import fts_query, query_terms
from newsindex.store import ArticleFilter, Store

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
EVERYTHING = ArticleFilter()

QUERIES = [
    "drone strikes on energy infrastructure near Kharkiv",
    "strike strikes striking",  # one stem three times: three phrases, as FTS5 counts them
    "shelling Zaporizhzhia",
    "grain exports Odesa port",
    "earthquake Peru magnitude",
    "manifestation agriculteurs Bruxelles",
    "Stellenabbau",
    "café résumé naïve",  # diacritics are folded by the tokenizer
    "2026 370 drones 21 missiles",
    "the of and",  # stop words only: no terms
    "zzzunknownword harbour",
    "harbour",
]


@pytest.fixture(autouse=True)
def read_postings_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests check the scores, so every query reads the postings it lacks; when they are read
    is tested on its own below."""
    monkeypatch.setattr("newsindex.bm25.LOAD_AT_SIGHTING", 1)


def _encode_varint(value: int) -> bytes:
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(reversed(groups))


def test_varints_decode_as_sqlite_writes_them() -> None:
    values = [0, 1, 127, 128, 300, 16_383, 16_384, 2**21 + 5, 2**35 + 7]
    assert decode_varints(b"".join(_encode_varint(v) for v in values)).tolist() == values
    assert decode_varints(b"").tolist() == []
    with pytest.raises(ValueError, match="ends inside"):
        decode_varints(b"\x81")


def _corpus() -> list[Article]:
    articles = load_articles(SEEDS, on_error="skip")
    # Short and long harbour reports, so that document lengths differ widely.
    articles += [
        Article(id=f"h{i}", title=f"Harbour report {i}", body=("The harbour reopened. " * (1 + 7 * i)))
        for i in range(6)
    ]
    return articles


def _same(store: Store, query: str, limit: int = 20) -> list[tuple[int, float]]:
    """The in-memory answer, after checking it against FTS5's (equal scores; equal rids but among
    ties, which SQLite orders as it likes)."""
    terms = query_terms(query)
    if not terms:
        return []
    memory = store.lexical(fts_query(terms), EVERYTHING, limit, terms=terms)
    sql = store.lexical(fts_query(terms), EVERYTHING, limit)
    assert len(memory) == len(sql), query
    np.testing.assert_allclose([s for _, s in memory], [s for _, s in sql], rtol=1e-12, atol=1e-12)
    cut = sql[-1][1] if len(sql) == limit else -1.0
    assert {r for r, s in memory if s > cut + 1e-9} == {r for r, s in sql if s > cut + 1e-9}, query
    return memory


def test_scores_equal_fts5_bm25_on_real_articles(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        report = ix.add(_corpus())
        assert report.added >= 20
        answered = 0
        for query in QUERIES:
            for limit in (1, 5, 50):
                found = _same(ix._store, query, limit)
                answered += bool(found)
        assert answered >= 25  # most queries match something
        assert ix._store._bm25._postings  # and were answered from memory
        top = _same(ix._store, "harbour", 3)
        # Of the six harbour reports, those saying it most often come first: the frequency grows as
        # fast as the length, and BM25 only damps it.
        assert [ix._store.articles([r])[r].id for r, _ in top] == ["h5", "h4", "h3"]


def test_the_scores_follow_adds_rewrites_and_deletes_seen_by_a_reader(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    path = tmp_path / "ix"
    with NewsIndex.open(path, model=embedder) as writer:  # type: ignore[arg-type]
        writer.add(_corpus())
        reader = NewsIndex.open(path, model=embedder, read_only=True)  # type: ignore[arg-type]
        try:
            before = _same(reader._store, "harbour reopened")
            writer.add(Article(id="h9", title="Harbour", body="Harbour harbour harbour reopened."))
            writer.add(Article(id="h0", title="Quiet", body="Nothing to report from the town."))  # rewritten
            writer.delete(["h3"])
            after = _same(reader._store, "harbour reopened")
            ids = {reader._store.articles([r])[r].id for r, _ in after}
            assert "h9" in ids and "h0" not in ids and "h3" not in ids
            assert before != after
            # The writer's own store answers from the same kind of cache, caught up too.
            _same(writer._store, "harbour reopened")
            hits = reader.search("harbour reopened", k=10, mode="lexical")
            assert "h9" in {h.article.id for h in hits} and "h3" not in {h.article.id for h in hits}
        finally:
            reader.close()


def test_inside_a_write_transaction_fts5_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        store = ix._store

        def not_here(terms: object, limit: int) -> None:
            raise AssertionError("a write in progress is only visible on its own connection")

        monkeypatch.setattr(store._bm25, "top", not_here)
        with store.transaction():
            found = store.lexical(fts_query(["harbour"]), EVERYTHING, 5, terms=["harbour"])
        assert len(found) == 5


def test_what_memory_cannot_answer_exactly_is_left_to_fts5(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        store = ix._store
        bm25 = MemoryBm25(lambda: Store(store.path, read_only=True), max_term_articles=3)
        try:
            assert bm25.top(["new york"], 5) is None  # two tokens: a phrase
            assert bm25.top(["harbour"], 5) is None  # in six articles, above the limit set here
            assert bm25.top(["kharkiv"], 5) is not None
            assert bm25.top([], 5) is None
        finally:
            bm25.close()


def test_a_small_cache_drops_old_terms_and_stays_right(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        ix._store._bm25._max_postings = 10
        for query in QUERIES:
            _same(ix._store, query)
        assert ix._store._bm25._kept <= 10 or len(ix._store._bm25._postings) == 1


def test_lexical_searches_in_threads_beside_a_writing_thread(tmp_path: Path) -> None:
    from newsindex import check_index

    path = tmp_path / "ix"
    with NewsIndex.open(path, model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())

        def searches(mode: str) -> Callable[[], None]:
            def search() -> None:
                for _ in range(40):
                    ix.search("harbour reopened drones", k=5, mode=mode)

            return search

        def write() -> None:
            for n in range(20):
                ix.add(Article(id=f"w{n % 5}", title="Harbour", body=f"Version {n}: harbour drones. " * 9))

        assert errors_in_threads(searches("hybrid"), searches("lexical"), write) == []
        _same(ix._store, "harbour reopened drones")
    assert check_index(path).findings == []


def test_searches_find_what_they_found_through_fts5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        queries = [q for q in QUERIES if query_terms(q)]

        def run() -> list[list[tuple[str, float]]]:
            return [
                [(h.article.id, round(h.score, 9)) for h in ix.search(q, k=8, mode=mode)]
                for q in queries
                for mode in ("hybrid", "lexical")
            ]

        run()  # the postings are read
        from_memory = run()
        assert ix._store._bm25._postings
        monkeypatch.setattr(ix._store._bm25, "top", lambda *args, **kwargs: None)
        assert run() == from_memory


def test_a_storage_error_while_scoring_is_ours_and_frees_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from newsindex import NewsIndexError

    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        bm25 = ix._store._bm25
        load = bm25._load

        def failing(*args: object) -> None:
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(bm25, "_load", failing)
        with pytest.raises(NewsIndexError, match="disk I/O error"):
            ix.search("harbour", k=3, mode="lexical")
        monkeypatch.setattr(bm25, "_load", load)
        assert ix.search("harbour", k=3, mode="lexical")  # neither the lock nor the snapshot is held


def test_a_term_without_tokens_is_left_to_fts5(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        bm25 = ix._store._bm25
        # A symbol the tokenizer does not keep: no token at all, before and after it is known.
        assert bm25.top(["™"], 5, cached_only=True) is None
        assert bm25.top(["™"], 5) is None
        assert bm25._tokens["™"] == ()
        assert bm25.top(["™"], 5, cached_only=True) is None
        assert ix.search("™ harbour", k=3, mode="hybrid")


def test_filtered_scores_equal_fts5_filtered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        articles = _corpus()
        ix.add(articles)
        store = ix._store
        filters = [
            ArticleFilter(exclude_ids=("h5", "h4")),
            ArticleFilter(since=datetime(2026, 1, 1, tzinfo=UTC)),
            ArticleFilter(sources=("no such source",)),
        ]
        compared = 0
        for where in filters:
            among, _ = store.matching(where)
            assert among is not None and list(among) == sorted(among)
            for query in QUERIES:
                terms = query_terms(query)
                if not terms:
                    continue
                memory = store.lexical(fts_query(terms), where, 5, terms=terms, among=among)
                sql = store.lexical(fts_query(terms), where, 5)
                np.testing.assert_allclose([s for _, s in memory], [s for _, s in sql], rtol=1e-12)
                cut = sql[-1][1] + 1e-9 if len(sql) == 5 else float("-inf")
                assert {r for r, s in memory if s > cut} == {r for r, s in sql if s > cut}
                compared += len(sql)
        assert compared > 40

        # A filtered search finds what it found through FTS5.
        def run() -> list[list[tuple[str, float]]]:
            return [
                [(h.article.id, round(h.score, 9)) for h in ix.search(q, k=6, mode=mode, since="2026-01-01")]
                for q in ("drone strikes energy", "talks border", "harbour")
                for mode in ("hybrid", "lexical")
            ]

        run()
        from_memory = run()
        assert sum(map(len, from_memory)) > 12
        monkeypatch.setattr(store._bm25, "top", lambda *args, **kwargs: None)
        assert run() == from_memory


def test_a_rebuild_that_writes_back_the_same_records_is_still_seen(tmp_path: Path) -> None:
    """FTS5's 'rebuild' (what ``check --repair`` runs) can leave its averages and structure records
    byte for byte as a cached state had them, over different content."""
    import sqlite3

    path = tmp_path / "ix"
    with NewsIndex.open(path, model=HashingEmbedder()) as writer:  # type: ignore[arg-type]
        writer.add(
            [
                Article(id="a", title="Port", body="alpha beta"),
                Article(id="b", title="Port", body="gamma delta"),
            ]
        )
        db = sqlite3.connect(path / "store.sqlite", isolation_level=None)
        try:
            records = "SELECT id, block FROM articles_fts_data WHERE id IN (1, 10) ORDER BY id"
            before = db.execute(records).fetchall()
            reader = NewsIndex.open(path, model=HashingEmbedder(), read_only=True)  # type: ignore[arg-type]
            try:
                assert _same(reader._store, "alpha")
                writer.add(Article(id="a", title="Port", body="omega beta"))  # same lengths, same rid
                db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
                assert db.execute(records).fetchall() == before  # what made it invisible
                assert _same(reader._store, "alpha") == []
                assert [h.article.id for h in reader.search("omega", k=3, mode="lexical")] == ["a"]
            finally:
                reader.close()
        finally:
            db.close()


def test_ties_at_the_cut_keep_the_articles_fts5_keeps(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        # Syndicated copies: three bodies, many identical articles each, so scores tie in blocks.
        bodies = ["Storm hits the harbour.", "Storm hits the harbour and the port.", "A harbour storm."]
        ix.add([Article(id=f"t{i}", title="Wire", body=bodies[i % 3]) for i in range(90)])
        store = ix._store
        for limit in (1, 10, 35, 50):
            terms = ["harbour", "storm"]
            memory = store.lexical(fts_query(terms), EVERYTHING, limit, terms=terms)
            sql = store.lexical(fts_query(terms), EVERYTHING, limit)
            assert [r for r, _ in memory] == [r for r, _ in sql], limit
        assert store._bm25._postings


def test_a_term_in_too_many_articles_is_refused_once_per_generation(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        bm25 = MemoryBm25(lambda: Store(ix._store.path, read_only=True), max_term_articles=3)
        try:
            statements: list[str] = []
            assert bm25.top(["harbour"], 5) is None
            assert bm25._reader is not None
            bm25._reader._db.set_trace_callback(statements.append)
            assert bm25.top(["harbour"], 5) is None
            assert not [s for s in statements if "bm25_instances" in s or "bm25_terms" in s]
        finally:
            bm25.close()


def test_a_warm_lookup_does_not_wait_for_another_thread_reading_postings(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        store = ix._store
        assert store.lexical("", EVERYTHING, 5, terms=["harbour"])  # now in memory
        assert store.lexical_from_memory(["harbour"], EVERYTHING, 5)
        with store._bm25._lock:  # as while another thread reads a cold term's postings
            assert store.lexical_from_memory(["harbour"], EVERYTHING, 5) is None
        assert store.lexical_from_memory(["harbour"], EVERYTHING, 5)


def test_after_close_no_reader_is_opened_again(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(_corpus())
        bm25 = ix._store._bm25
        assert bm25.top(["harbour"], 5)
    assert bm25.top(["harbour"], 5) is None
    assert bm25._reader is None


def test_an_index_emptied_by_deletions_answers_nothing(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([Article(id="a0", body="harbour omnia.")])
        assert _same(ix._store, "harbour")
        ix.delete(["a0"])
        assert ix._store._bm25.top(["harbour"], 5) == []
        assert ix.search("harbour", k=3) == []


def test_a_term_is_read_at_its_second_query_since_the_last_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("newsindex.bm25.LOAD_AT_SIGHTING", 2)
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:
        ix.add(load_articles(SEEDS))
        bm25 = ix._store._bm25
        assert bm25.top(["harbour", "kharkiv"], 5) is None, "first sighting: FTS5 answers"
        assert bm25.top(["harbour"], 5, cached_only=True) is None
        answer = bm25.top(["harbour", "kharkiv"], 5)
        assert answer, "second sighting: read and kept"
        assert bm25.top(["harbour", "kharkiv"], 5, cached_only=True) == answer
        # One term warm, one cold: the cold one is seen once more before it is read.
        assert bm25.top(["harbour", "drones"], 5) is None
        assert bm25.top(["harbour", "drones"], 5)
        # A commit empties the cache and the count: the first query after it goes to FTS5 again.
        ix.add(Article(id="later", title="Harbour news", body="The harbour of Odesa reopened on Monday."))
        assert bm25.top(["harbour"], 5) is None
        assert bm25.top(["harbour"], 5)
        # Searches give FTS5's answers either way.
        sql = ix._store.lexical(fts_query(["harbour"]), EVERYTHING, 5)
        assert [r for r, _ in bm25.top(["harbour"], 5) or []] == [r for r, _ in sql]


def test_nothing_is_read_for_a_query_fts5_must_answer_anyway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("newsindex.bm25.LOAD_AT_SIGHTING", 2)
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:
        ix.add(_corpus())
        bm25 = MemoryBm25(lambda: Store(ix._store.path, read_only=True), max_term_articles=3)
        try:
            for _ in range(3):
                assert bm25.top(["kharkiv", "harbour"], 5) is None  # harbour: in six articles
            assert "kharkiv" not in bm25._postings, "read although FTS5 had to answer"
            assert bm25.top(["kharkiv"], 5), "on its own it is read (its second sighting was counted)"
        finally:
            bm25.close()


def test_a_token_twice_in_one_query_is_one_sighting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("newsindex.bm25.LOAD_AT_SIGHTING", 3)
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:
        ix.add(load_articles(SEEDS))
        bm25 = ix._store._bm25
        terms = ["strike", "strikes"]  # one stem: one token
        assert bm25.top(terms, 5) is None
        assert bm25.top(terms, 5) is None
        assert bm25.top(terms, 5)
