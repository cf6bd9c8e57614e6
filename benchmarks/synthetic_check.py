"""How well do the synthetic vectors of ``vector_scale.py`` stand in for real ones? (issue 5.4)

The 1M-passage run has only a few thousand real passage vectors; the rest are synthetic. This compares,
at the same size, the real passage vectors of an existing index (Reuters, as ``peers.py --keep``
leaves it) with synthetic collections made from them the way ``vector_scale.py`` makes its own
(``gaussian``: the real mean and covariance; ``mixture``: k-means groups of the real vectors, each with
the covariance around the group centres; ``copies``: real vectors plus noise), on what makes an
approximate search hard:

* how close a query's nearest neighbours are, and how far apart the 1st and the 10th are;
* recall@10 of the HNSW index ``NewsIndex`` builds (the same links and construction effort, the
  40 candidates it fetches, reordered by exact score) at fixed ``ef_search`` values, the
  ``ef_search`` its tuning picks with the recall the tuning measured, and the recall the title
  queries get at that ``ef_search`` (the tuning should not promise more than they get).

The queries are the titles of Reuters articles whose passages are left out of every collection.

    .venv/bin/python benchmarks/peers.py --datasets reuters --keep /tmp/peers   # once, for the store
    .venv/bin/python benchmarks/synthetic_check.py --store /tmp/peers/reuters/newsindex
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import numpy as np
from vector_scale import exact_top, synthetic

from newsindex.embedding import SentenceTransformerEmbedder
from newsindex.indexer import EmbeddingIndexer
from newsindex.vectors import RERANK_DEPTH, build_approximate, rerank_exact

# 40 is the least: NewsIndex fetches 40 candidates, and FAISS keeps at least as many.
EF_VALUES = (40, 64, 128, 256, 512)


def read_store(store: Path, held_out: int) -> tuple[np.ndarray, list[str]]:
    """The passage vectors of all but the last ``held_out`` articles, and the titles of those."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    (dim,) = db.execute("SELECT length(vector) / 4 FROM passages LIMIT 1").fetchone()
    rids = [r for (r,) in db.execute("SELECT rid FROM articles ORDER BY rid")]
    cut = rids[-held_out]
    rows = db.execute("SELECT vector FROM passages WHERE article < ? ORDER BY id", (cut,)).fetchall()
    vectors = np.frombuffer(b"".join(r[0] for r in rows), dtype=np.float32).reshape(-1, dim)
    titles = [t for (t,) in db.execute("SELECT title FROM articles WHERE rid >= ? ORDER BY rid", (cut,))]
    db.close()
    return np.ascontiguousarray(vectors), [t for t in titles if t]


def describe(name: str, vectors: np.ndarray, queries: np.ndarray) -> dict[str, float | int | str]:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    truth = exact_top(vectors, queries)
    scores = np.take_along_axis(queries @ vectors.T, truth - 1, axis=1)
    row: dict[str, float | int | str] = {
        "collection": name,
        "top1_cosine": float(scores[:, 0].mean()),
        "top10_cosine": float(scores[:, 9].mean()),
        "random_cosine": float((queries @ vectors[:: max(1, len(vectors) // 2000)].T).mean()),
    }
    started = time.perf_counter()
    hnsw, tuned = build_approximate(ids, vectors)
    row["build_s"] = time.perf_counter() - started
    row["tuned_ef"] = int(hnsw.ef_search or 0)
    row["tuned_recall"] = tuned
    order = np.arange(len(ids))

    def recall_at(ef: int) -> float:
        hnsw.ef_search = ef
        _, found = hnsw.search(queries, 10 * RERANK_DEPTH)
        found = rerank_exact(found, queries, vectors, ids, order, 10)
        pairs = zip(found.tolist(), truth.tolist(), strict=True)
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in pairs]))

    # What the titles get where the tuning stopped: the promise `newsindex info` makes, checked.
    row["titles_at_tuned"] = recall_at(int(row["tuned_ef"]))
    for ef in EF_VALUES:
        row[f"recall_ef{ef}"] = recall_at(ef)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="an index folder or its store.sqlite")
    parser.add_argument("--held-out", type=int, default=300, help="articles whose titles are the queries")
    args = parser.parse_args()
    store = args.store / "store.sqlite" if args.store.is_dir() else args.store
    real, titles = read_store(store, args.held_out)
    indexer = EmbeddingIndexer(SentenceTransformerEmbedder())
    queries = np.stack([indexer.embed_query(t).reshape(-1) for t in titles[:200]]).astype(np.float32)
    print(f"{len(real):,} real passage vectors from {store}; {len(queries)} title queries held out")
    # Made from as many real vectors as vector_scale.py embeds (2,585), which are then left out: the
    # collection is synthetic throughout.
    seed = real[np.random.default_rng(1).permutation(len(real))[: min(2600, len(real))]]
    rows = [describe("real", real, queries)]
    for how in ("gaussian", "mixture", "copies"):
        made = synthetic(seed, len(seed) + len(real), how)[len(seed) :]
        rows.append(describe(f"{how}, made from {len(seed):,} real", made, queries))
    header = ["collection", "top1_cosine", "top10_cosine", "random_cosine", "tuned_ef", "tuned_recall"]
    header += ["titles_at_tuned"]
    header += [f"recall_ef{ef}" for ef in EF_VALUES]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row[h] if isinstance(row[h], str) else f"{row[h]:.3f}" for h in header]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
