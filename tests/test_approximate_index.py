"""The vector index picks itself (issue 5.3): exact while small, HNSW past a threshold, tuned to
recall@10 >= 0.95 against exact search and reporting what it measured; filters still applied before
ranking (k hits whenever k allowed exist); removed vectors masked, and the graph rebuilt once many
are. The threshold is lowered here so that small indexes cross it; the scale is measured by
``benchmarks/vector_scale.py``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder

import newsindex.vectors as vectors_module
from newsindex import Article, NewsIndex, check_index
from newsindex.vectors import FaissRetriever, build_approximate, exact_search

DIM = 48


def _clustered(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors in clusters, as text embeddings are (uniform random vectors are unrealistically hard)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, DIM))
    x = centres[rng.integers(0, 40, n)] + 0.8 * rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def test_an_hnsw_index_reaches_the_recall_target_and_says_so() -> None:
    data = _clustered(4100)
    x, queries = data[:4000], data[4000:]  # fresh queries, from the same collection but not in it
    ids = np.arange(10, 4010, dtype=np.int64)
    retriever, measured = build_approximate(ids, x)
    assert retriever.kind == "hnsw" and retriever.ef_search is not None
    assert measured >= vectors_module.RECALL_TARGET
    _, truth = exact_search(x, ids, queries, 10)
    _, found = retriever.search(queries, 10)
    assert _recall(found, truth) >= 0.9
    again = FaissRetriever.from_bytes(retriever.to_bytes(), DIM)
    assert again.kind == "hnsw" and again.ef_search == retriever.ef_search


def test_filters_fill_k_and_removed_vectors_never_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    x = _clustered(3000)
    ids = np.arange(1, 3001, dtype=np.int64)
    retriever, _ = build_approximate(ids, x)
    queries = x[:5]
    narrow = ids[1000:1030]  # exact over the allowed vectors: the same as exact search
    _, got = retriever.search(queries, 10, allowed_ids=narrow)
    _, want = exact_search(x[1000:1030], narrow, queries, 10)
    assert (got == want).all()
    monkeypatch.setattr(vectors_module, "EXACT_BELOW", 10)  # now the graph answers, with the filter
    wide = ids[::3]
    _, got = retriever.search(queries, 10, allowed_ids=wide)
    assert (got >= 0).all() and np.isin(got, wide).all()

    removed = ids[:300]
    assert retriever.remove(removed) == 300
    assert retriever.remove(removed) == 0
    assert len(retriever) == 2700 and retriever.masked_fraction == pytest.approx(0.1)
    _, got = retriever.search(x[:50], 20)
    assert not np.isin(got, removed).any()
    _, got = retriever.search(x[:5], 10, allowed_ids=ids[:400])  # 100 allowed ones remain
    assert not np.isin(got, removed).any() and (got >= 0).all()
    assert vectors_module.vectors_due_rebuild(retriever) is False
    retriever.remove(ids[300:400])
    retriever.remove(ids[400:700])
    assert vectors_module.vectors_due_rebuild(retriever) is True  # more than 20% masked


def test_a_filtered_search_decodes_the_allowed_codes_as_faiss_does() -> None:
    x = _clustered(2000)
    ids = np.arange(5, 2005, dtype=np.int64)
    retriever, _ = build_approximate(ids, x)
    # Unsorted, with ids the index never held (committed after its last catch-up).
    wanted = np.array([1500, 7, 9999, 40, 1200, 3, 600], dtype=np.int64)
    held, decoded = retriever._decode_stored(wanted)
    assert held.tolist() == [1500, 7, 40, 1200, 600]
    assert np.array_equal(decoded, retriever._index.reconstruct_batch(held))
    _, got = retriever.search(x[:3], 5, allowed_ids=wanted)
    assert np.isin(got, held).all() and (got >= 0).all()
    # An index whose ids are out of order is decoded the slower way, with the same answer.
    shuffled = FaissRetriever.approximate(DIM, ids[::-1].copy(), x[::-1].copy())
    assert shuffled._decode_stored(wanted) is None
    _, again = shuffled.search(x[:3], 5, allowed_ids=wanted)
    assert np.isin(again, held).all() and (again >= 0).all()


def _article(i: int) -> Article:
    topics = ["harbour", "tram", "orchard", "museum", "stadium", "bridge", "ferry", "school"]
    body = f"Report {i} about the {topics[i % 8]} in district {i % 13}: marker mk{i:04d}q was noted."
    return Article(id=f"a{i:04d}", body=body, published=f"2026-01-{1 + i % 28:02d}")


def test_the_index_switches_to_hnsw_past_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 200)
    path = tmp_path / "ix"
    embedder = HashingEmbedder(dim=DIM)
    with NewsIndex.open(path, model=embedder) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(150)])
        assert ix.stats().vector_index == "flat" and ix.stats().vector_recall == 1.0
        reader = NewsIndex.open(path, model=embedder, read_only=True)  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(150, 400)])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["vector_index"] == "hnsw"
    assert manifest["vector_search"]["recall_at_10"] >= 0.95
    assert len(reader) == 400  # a reader opened before keeps its exact copy, caught up
    reader.close()

    with NewsIndex.open(path, model=embedder) as ix:  # type: ignore[arg-type]
        stats = ix.stats()
        assert (
            stats.vector_index == "hnsw" and stats.vector_recall == manifest["vector_search"]["recall_at_10"]
        )
        for i in range(0, 400, 40):  # an article's own text finds it
            assert ix.search(_article(i).body, k=1, mode="dense")[0].article.id == f"a{i:04d}"
        day = ix.search("report", k=20, mode="dense", since="2026-01-05", until="2026-01-05")
        assert len(day) == len([i for i in range(400) if 1 + i % 28 == 5])
        ix.delete([f"a{i:04d}" for i in range(60)])
        assert len(ix.search("report", k=1000, mode="dense")) == 340
    with NewsIndex.open(path, model=embedder) as ix:  # type: ignore[arg-type]
        dense = {h.article.id for h in ix.search("report", k=1000, mode="dense")}
        assert len(dense) == len(ix) == 340 and "a0000" not in dense
        assert ix._vectors.masked_fraction > 0  # removed ones are masked, not yet rebuilt
    assert check_index(path).findings == []

    with NewsIndex.open(path, model=embedder) as ix:  # type: ignore[arg-type]
        ix.delete([f"a{i:04d}" for i in range(60, 160)])  # past 20% masked: rebuilt on the next write
    with NewsIndex.open(path, model=embedder) as ix:  # type: ignore[arg-type]
        assert ix._vectors.kind == "hnsw" and ix._vectors.masked_fraction == 0
        assert {h.article.id for h in ix.search("report", k=1000, mode="dense")} == {
            f"a{i:04d}" for i in range(160, 400)
        }
    assert check_index(path).findings == []


def test_repair_rebuilds_an_approximate_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 100)
    path = tmp_path / "ix"
    embedder = HashingEmbedder(dim=DIM)
    with NewsIndex.open(path, model=embedder) as ix:  # type: ignore[arg-type]
        ix.add([_article(i) for i in range(200)])
    (path / "vectors.faiss").write_bytes(b"\0" * 100)
    report = check_index(path, repair=True)
    assert report.ok and len(report.findings) == 1
    assert json.loads((path / "manifest.json").read_text())["vector_index"] == "hnsw"
    with NewsIndex.open(path, model=embedder, read_only=True) as ix:  # type: ignore[arg-type]
        assert ix.search(_article(7).body, k=1, mode="dense")[0].article.id == "a0007"
