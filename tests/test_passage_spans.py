"""The in-memory table of passage spans agrees with the passages table, through writers and readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder
from helpers import errors_in_threads

import newsindex.store as store_module
from newsindex import Article, NewsIndex, check_index
from newsindex.passage_spans import PassageSpans
from newsindex.store import Store


@pytest.mark.parametrize("seed", range(4))
def test_the_table_agrees_with_a_plain_one_through_adds_and_removals(seed: int) -> None:
    rng = np.random.default_rng(seed)
    plain: dict[int, tuple[int, int, int]] = {}  # passage id → (article, start, end)
    next_id = 1

    def added(count: int) -> tuple[np.ndarray, ...]:
        nonlocal next_id
        ids = np.arange(next_id, next_id + count)
        next_id += count
        rows = rng.integers(0, 5000, (count, 3))
        plain.update({i: tuple(r) for i, r in zip(ids.tolist(), rows.tolist(), strict=True)})
        return ids, rows[:, 0], rows[:, 1], rows[:, 2]

    spans = PassageSpans()
    assert not spans.loaded and spans.position == (0, 0)
    ids, articles, starts, ends = added(30)
    order = rng.permutation(len(ids))
    spans.load(ids[order], articles[order], starts[order], ends[order], next_id - 1, 0)
    for step in range(50):
        new = added(int(rng.integers(0, 9)))  # now and then past the table's room
        held = np.array(sorted(plain), dtype=np.int64)
        removed = rng.choice(held, min(len(held), int(rng.integers(0, 4))), replace=False)
        removed = np.concatenate([removed, [next_id + 1000, -3]])  # ids never held are ignored
        for i in removed.tolist():
            plain.pop(i, None)
        spans.update(*new, removed, next_id - 1, step + 1)
        assert spans.position == (next_id - 1, step + 1)
        asked = rng.integers(-2, next_id + 50, 40)
        expected = [list(plain.get(i, (-1, -1, -1))) for i in asked.tolist()]
        assert spans.spans(asked).tolist() == expected
    assert spans.spans(np.zeros(0, dtype=np.int64)).shape == (0, 3)


def _sql_spans(store: Store, ids: np.ndarray) -> list[list[int]]:
    rows = {
        int(r[0]): [int(r[1]), int(r[2]), int(r[3])]
        for r in store.execute("SELECT id, article, start, end FROM passages")
    }
    return [rows.get(int(i), [-1, -1, -1]) for i in ids]


def _article(i: int, body: str = "") -> Article:
    return Article(id=f"a{i:03d}", body=body or f"Report {i} on the harbour. " * (5 + 20 * (i % 3)))


def test_a_reader_sees_spans_a_writer_commits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SPAN_MAP_AFTER", 0)
    embedder = HashingEmbedder()
    path = tmp_path / "ix"
    with NewsIndex.open(path, model=embedder) as writer:  # type: ignore[arg-type]
        writer.add([_article(i) for i in range(12)])
        reader = NewsIndex.open(path, model=embedder, read_only=True)  # type: ignore[arg-type]
        try:
            store = reader._store
            every = np.arange(-1, 200)
            assert store.passage_spans(every).tolist() == _sql_spans(store, every)
            assert store._spans.loaded
            writer.add([_article(i) for i in range(12, 16)])
            writer.add(_article(1, body="Rewritten: the harbour reopened. " * 60))  # new passages
            writer.delete(["a005"])
            assert store.passage_spans(every).tolist() == _sql_spans(store, every)
            assert store._spans.position[1] > 0  # the rewrite and the delete left tombstones
            hits = reader.search("harbour reopened", k=3, mode="dense")
            assert hits and all(h.passage == h.article.body[h.passage_start : h.passage_end] for h in hits)
        finally:
            reader.close()


def test_a_one_off_search_asks_sqlite(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(6)])
        ix.search("harbour", k=3, mode="dense")
        assert not ix._store._spans.loaded  # a search or two from the command line loads nothing
        for _ in range(store_module.SPAN_MAP_AFTER):
            ix.search("harbour", k=3, mode="dense")
        assert ix._store._spans.loaded


def test_inside_a_write_transaction_sqlite_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SPAN_MAP_AFTER", 0)
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(6)])
        store = ix._store
        asked = np.array([r[0] for r in store.execute("SELECT id FROM passages")], dtype=np.int64)
        with pytest.raises(_RolledBackError), store.transaction():
            store.execute("DELETE FROM passages WHERE article = (SELECT min(article) FROM passages)")
            inside = store.passage_spans(asked)
            assert not store._spans.loaded  # a write in progress may roll back: nothing cached
            assert inside.tolist() == _sql_spans(store, asked)
            assert -1 in inside[:, 0]  # its own deletion is seen
            raise _RolledBackError
        assert store.passage_spans(asked).tolist() == _sql_spans(store, asked)
        assert -1 not in store.passage_spans(asked)[:, 0]


class _RolledBackError(Exception):
    pass


def test_searches_in_threads_beside_a_writing_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "SPAN_MAP_AFTER", 0)
    path = tmp_path / "ix"
    with NewsIndex.open(path, model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(30)])

        def search() -> None:
            for _ in range(50):
                for hit in ix.search("harbour report", k=5, mode="dense"):
                    assert hit.passage == hit.article.body[hit.passage_start : hit.passage_end]

        def write() -> None:
            for n in range(20):
                ix.add(_article(n, body=f"Version {n} of a harbour report. " * (10 + n)))
                if n % 5 == 4:
                    ix.delete([f"a{n + 3:03d}"])

        assert errors_in_threads(search, search, write) == []
        every = np.arange(0, 400)
        assert ix._store.passage_spans(every).tolist() == _sql_spans(ix._store, every)
    assert check_index(path).findings == []


def test_offsets_past_32_bits_widen_the_table() -> None:
    spans = PassageSpans()
    spans.load(np.array([1, 2]), np.array([7, 7]), np.array([0, 10]), np.array([10, 20]), 2, 0)
    far = 3_000_000_000
    spans.update(
        np.array([3]), np.array([8]), np.array([far]), np.array([far + 5]), np.zeros(0, np.int64), 3, 0
    )
    assert spans.spans(np.array([3, 1, 9])).tolist() == [[8, far, far + 5], [7, 0, 10], [-1, -1, -1]]


def test_a_widened_table_stays_wide_when_it_grows() -> None:
    far = 3_000_000_000
    spans = PassageSpans()
    spans.load(np.array([1]), np.array([7]), np.array([0]), np.array([far]), 1, 0)
    more = np.arange(2, 40)
    spans.update(more, more, more, more + 1, np.zeros(0, np.int64), 39, 0)  # past the table's room
    assert spans.spans(np.array([1, 39])).tolist() == [[7, 0, far], [39, 39, 40]]
