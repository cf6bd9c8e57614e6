"""A flat index answers single queries through a float16 copy of its vectors and then scores the
candidates again in float32 (``newsindex.halfscan``): the answer must be the exact one, as the plain
float32 scan and the numpy oracle give it, whatever the data: near-ties that force a deeper fetch,
vectors that are not unit length, vectors float16 cannot hold, and copies that lag behind the index."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import newsindex.halfscan as halfscan_module
from newsindex.vectors import FaissRetriever, exact_search

DIM = 32


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _filled(vectors: np.ndarray, first_id: int = 100) -> tuple[FaissRetriever, np.ndarray]:
    retriever = FaissRetriever(vectors.shape[1])
    ids = np.arange(first_id, first_id + len(vectors), dtype=np.int64)
    retriever.add(ids, vectors)
    return retriever, ids


def _assert_exact(
    retriever: FaissRetriever, vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int
) -> None:
    scores, found = retriever.search(query, k)
    want_scores, _ = exact_search(vectors, ids, query[None, :], k)
    # The score at each rank is the exact one; equal scores may come in either order, so each id is
    # checked against its own float32 score rather than against the oracle's order.
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5, atol=1e-5)
    rows = np.searchsorted(ids, found[0])
    np.testing.assert_allclose(scores[0], vectors[rows] @ query, rtol=1e-5, atol=1e-5)
    assert retriever._scan is not None and retriever._scan.valid, "the float16 copy answered"


def test_single_queries_get_the_exact_top_k() -> None:
    rng = np.random.default_rng(0)
    vectors = _unit(rng.standard_normal((3000, DIM)))
    retriever, ids = _filled(vectors)
    for query in _unit(rng.standard_normal((20, DIM))):
        for k in (1, 10, 200, 3000):
            _assert_exact(retriever, vectors, ids, query, k)


def _counting_scans(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each search through the float16 copy, whether it proved its answer."""
    proved: list[bool] = []
    original = halfscan_module.HalfScan.search

    def recording(self: halfscan_module.HalfScan, query: np.ndarray, k: int) -> object:
        found = original(self, query, k)
        proved.append(found is not None)
        return found

    monkeypatch.setattr(halfscan_module.HalfScan, "search", recording)
    return proved


def test_near_ties_fall_back_to_the_float32_scan_and_stay_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of scores closer together than float16 can tell apart (but float32 can): the copy
    cannot prove its answer, and the float32 scan gives it."""
    rng = np.random.default_rng(1)
    base = _unit(rng.standard_normal((1, DIM)))[0]
    wiggle = 3e-4 * rng.standard_normal((600, DIM)).astype(np.float32)
    vectors = _unit(base + wiggle)
    retriever, ids = _filled(vectors)
    proved = _counting_scans(monkeypatch)
    query = _unit((base + 0.5 * _unit(rng.standard_normal((1, DIM)))[0])[None, :])[0]
    _assert_exact(retriever, vectors, ids, query, 10)
    assert proved == [False], "the near-ties left the copy unable to prove its answer"


def test_a_query_faiss_finds_nothing_for_is_padded_like_faiss() -> None:
    vectors = _unit(np.random.default_rng(7).standard_normal((50, DIM)))
    retriever, _ = _filled(vectors)
    _, found = retriever.search(np.full(DIM, np.nan, dtype=np.float32), 5)
    assert found.shape == (1, 5) and (found == -1).all()


def test_vectors_of_any_length_and_a_growing_index() -> None:
    rng = np.random.default_rng(2)
    vectors = (rng.standard_normal((800, DIM)) * rng.uniform(0.01, 50, (800, 1))).astype(np.float32)
    retriever, ids = _filled(vectors[:500])
    query = rng.standard_normal(DIM).astype(np.float32) * 3
    _assert_exact(retriever, vectors[:500], ids, query, 25)
    more = np.arange(ids[-1] + 1, ids[-1] + 301, dtype=np.int64)
    retriever.add(more, vectors[500:])  # appended to the copy as well
    assert retriever._scan is not None and retriever._scan.count == 800
    _assert_exact(retriever, vectors, np.concatenate([ids, more]), query, 25)


def test_removing_drops_the_copy_and_the_next_search_remakes_it() -> None:
    rng = np.random.default_rng(3)
    vectors = _unit(rng.standard_normal((400, DIM)))
    retriever, ids = _filled(vectors)
    query = vectors[7]
    assert retriever.search(query, 5)[1][0][0] == ids[7]
    retriever.remove(ids[:50])
    assert retriever._scan is None
    _, found = retriever.search(query, 5)
    want = exact_search(vectors[50:], ids[50:], query[None, :], 5)
    assert found.tolist() == want[1].tolist()
    assert retriever._scan is not None and retriever._scan.count == 350


def test_a_copy_that_lags_behind_is_remade() -> None:
    rng = np.random.default_rng(4)
    vectors = _unit(rng.standard_normal((300, DIM)))
    retriever, ids = _filled(vectors[:200])
    retriever.search(vectors[0], 3)
    retriever._index.add_with_ids(vectors[200:], ids[-1] + 1 + np.arange(100))  # behind the copy's back
    _, found = retriever.search(vectors[250], 3)
    assert found[0][0] == ids[-1] + 51
    assert retriever._scan is not None and retriever._scan.count == 300


def test_vectors_float16_cannot_hold_are_scanned_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((200, DIM)).astype(np.float32)
    vectors[3] *= 1e6
    retriever, ids = _filled(vectors)
    made: list[int] = []
    original = halfscan_module.HalfScan.__init__

    def counting(self: halfscan_module.HalfScan, *args: object) -> None:
        made.append(1)
        original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(halfscan_module.HalfScan, "__init__", counting)
    for _ in range(3):
        _, found = retriever.search(vectors[3], 4)
        want = exact_search(vectors, ids, vectors[3][None, :], 4)
        assert found.tolist() == want[1].tolist()
    assert retriever._scan is not None and not retriever._scan.valid
    assert made == [1], "the copy that cannot hold them is made once, not at every search"


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=300),
    k=st.integers(min_value=1, max_value=60),
    duplicates=st.integers(min_value=0, max_value=50),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_property_the_copy_never_changes_the_answer(n: int, k: int, duplicates: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vectors = _unit(rng.standard_normal((n, DIM)))
    if duplicates:  # exact and near duplicates: ties at the cut
        picks = vectors[rng.integers(0, n, duplicates)]
        vectors = np.concatenate([vectors, _unit(picks + 1e-5 * rng.standard_normal(picks.shape))])
    retriever, ids = _filled(vectors)
    query = vectors[int(rng.integers(0, len(vectors)))]
    _assert_exact(retriever, vectors, ids, query, min(k, len(vectors)))
