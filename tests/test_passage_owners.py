"""A filter's allowed passages come from the articles it keeps through an in-memory map
(``PassageOwners``), kept up with what any handle commits: passages added, rewritten and removed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder
from helpers import errors_in_threads

import newsindex.passage_owners as owners_module
from newsindex import Article, NewsIndex
from newsindex.passage_owners import PassageOwners
from newsindex.store import ArticleFilter, Store


@pytest.mark.parametrize("seed", range(6))
def test_the_map_agrees_with_a_plain_one_through_adds_and_removals(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(owners_module, "TAIL_MAX", 7)  # merges happen every few updates
    rng = np.random.default_rng(seed)
    plain: dict[int, int] = {}  # passage id → article rid
    next_id = 1

    def added(count: int, rid_high: int) -> tuple[np.ndarray, np.ndarray]:
        nonlocal next_id
        rids = rng.integers(1, rid_high, count)
        ids = np.arange(next_id, next_id + count)
        next_id += count
        plain.update(zip(ids.tolist(), rids.tolist(), strict=True))
        return rids, ids

    owners = PassageOwners()
    assert not owners.loaded and owners.position == (0, 0)
    rids, ids = added(40, 12)
    order = rng.permutation(len(ids))  # any order
    owners.load(rids[order], ids[order], next_id - 1, 0)
    for step in range(60):
        new_rids, new_ids = added(int(rng.integers(0, 6)), 20)  # old articles and new ones
        held = np.array(sorted(plain), dtype=np.int64)
        removed = rng.choice(held, min(len(held), int(rng.integers(0, 4))), replace=False)
        removed = np.concatenate([removed, [next_id + 1000]])  # an id never held is ignored
        for i in removed.tolist():
            plain.pop(i, None)
        owners.update(new_rids, new_ids, removed, next_id - 1, step + 1)
        assert owners.position == (next_id - 1, step + 1) and len(owners) == len(plain)
        wanted = rng.choice(np.arange(0, 25), int(rng.integers(0, 10)), replace=False)
        expected = sorted(i for i, rid in plain.items() if rid in set(wanted.tolist()))
        assert sorted(owners.passages_of(wanted).tolist()) == expected
    assert owners.passages_of(np.zeros(0, dtype=np.int64)).tolist() == []


def _article(i: int, *, body: str = "") -> Article:
    words = " ".join(f"w{i}x{j}" for j in range(60))  # several passages each
    return Article(
        id=f"a{i:03d}",
        body=body or f"Report {i} on the harbour. {words}. " * 3,
        published=f"2026-03-{1 + i % 4:02d}",
    )


def _joined(store: Store, where: ArticleFilter) -> list[int]:
    clause, params = where.sql()
    rows = store.execute(
        f"SELECT p.id FROM passages p JOIN articles a ON a.rid = p.article WHERE {clause}", params
    )
    return sorted(int(r[0]) for r in rows)


def test_a_reader_filters_with_what_a_writer_commits(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    path = tmp_path / "ix"
    second_day = ArticleFilter(since=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 3, tzinfo=UTC))
    with NewsIndex.open(path, model=embedder) as writer:  # type: ignore[arg-type]
        writer.add([_article(i) for i in range(20)])
        reader = NewsIndex.open(path, model=embedder, read_only=True)  # type: ignore[arg-type]
        try:
            store = reader._store
            before = sorted(store.matching_passage_ids(second_day).tolist())
            assert store._owners.loaded and len(before) > 5 and before == _joined(store, second_day)

            writer.add([_article(i) for i in range(20, 24)])  # two more on the second day
            writer.add(_article(1, body="Rewritten: the harbour reopened. " * 40))  # new passages
            writer.delete(["a005"])
            found = sorted(store.matching_passage_ids(second_day).tolist())
            assert found == _joined(store, second_day)
            assert set(found) - set(before) and set(before) - set(found)  # some new, some gone
            assert store._owners.position[1] > 0  # the rewrite and the delete left tombstones
            hits = reader.search("harbour", k=50, since="2026-03-02", until="2026-03-02")
            assert {h.article.id for h in hits} == {f"a{i:03d}" for i in (1, 9, 13, 17, 21)}
        finally:
            reader.close()


def test_inside_a_write_transaction_the_join_answers(tmp_path: Path) -> None:
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(8)])
        store = ix._store
        everything = ArticleFilter(since=datetime(2026, 1, 1, tzinfo=UTC))
        with store.transaction():
            inside = sorted(store.matching_passage_ids(everything).tolist())
            assert not store._owners.loaded  # a write in progress may roll back: nothing cached
        assert inside == _joined(store, everything)
        assert sorted(store.matching_passage_ids(everything).tolist()) == inside
        assert store._owners.loaded


def test_filtered_searches_in_threads_beside_a_writing_thread(tmp_path: Path) -> None:
    """The map is caught up on a connection of its own: filtered searches from several threads never
    start a transaction on the connection that ``add`` writes through (which broke adds and
    committed half of one when they did), and what they find stays what the tables hold."""
    from newsindex import check_index

    path = tmp_path / "ix"
    with NewsIndex.open(path, model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(40)])

        def search() -> None:
            for _ in range(60):
                ix.search("harbour report", k=5, mode="dense", since="2026-03-02", until="2026-03-03")

        def write() -> None:
            for n in range(25):
                ix.add(_article(n, body=f"Version {n} of a harbour report. " * 30))

        assert errors_in_threads(search, search, write) == []
        second_day = ArticleFilter(
            since=datetime(2026, 3, 2, tzinfo=UTC), until=datetime(2026, 3, 3, tzinfo=UTC)
        )
        assert sorted(ix._store.matching_passage_ids(second_day).tolist()) == _joined(ix._store, second_day)
    assert check_index(path).findings == []
