"""How well do the synthetic vectors of ``vector_scale.py`` stand in for real ones? (issue 5.4)

The 1M-passage run has only a few thousand real passage vectors; the rest are synthetic. This compares,
at the same size, the real passage vectors of an existing index (Reuters, as ``peers.py --keep``
leaves it) with synthetic collections made from them the way ``vector_scale.py`` makes its own
(``gaussian``: the real mean and covariance; ``mixture``: k-means groups of the real vectors, each with
the covariance around the group centres; ``copies``: real vectors plus noise), on what makes an
approximate search hard:

* how close a query's nearest neighbours are, and how far apart the 1st and the 10th are;
* recall@10 of the approximate index ``NewsIndex`` builds (``--kind``: IVF, as it builds now, or
  HNSW, as earlier versions built; the 40 candidates it fetches, reordered by exact score) at fixed
  settings (``nprobe`` as a share of the lists, or ``ef_search``), the setting its tuning picks with
  the recall the tuning measured, and the recall the title queries get at that setting (the tuning
  should not promise more than they get).

The queries are the titles of Reuters articles whose passages are left out of every collection.

    .venv/bin/python benchmarks/peers.py --datasets reuters --keep /tmp/peers   # once, for the store
    .venv/bin/python benchmarks/synthetic_check.py --store /tmp/peers/reuters/newsindex [--kind hnsw]
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
# Shares of the inverted lists an IVF search scans.
NPROBE_SHARES = (1 / 32, 1 / 16, 3 / 32, 1 / 8, 1 / 4)


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


def describe(name: str, vectors: np.ndarray, queries: np.ndarray, kind: str) -> dict[str, float | int | str]:
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
    approx, tuned = build_approximate(ids, vectors, kind=kind)
    row["build_s"] = time.perf_counter() - started
    ivf = kind == "ivf"
    lists = int(approx.search_settings().get("lists", 0))
    row["tuned"] = int((approx.nprobe if ivf else approx.ef_search) or 0)
    row["tuned_recall"] = tuned
    order = np.arange(len(ids))

    def recall_at(setting: int) -> float:
        if ivf:
            approx.nprobe = setting
        else:
            approx.ef_search = setting
        _, found = approx.search(queries, 10 * RERANK_DEPTH)
        found = rerank_exact(found, queries, vectors, ids, order, 10)
        pairs = zip(found.tolist(), truth.tolist(), strict=True)
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in pairs]))

    # What the titles get where the tuning stopped: the promise `newsindex info` makes, checked.
    row["titles_at_tuned"] = recall_at(int(row["tuned"]))
    for label, setting in settings(kind, lists):
        row[label] = recall_at(setting)
    return row


def settings(kind: str, lists: int) -> list[tuple[str, int]]:
    """The fixed settings compared, as (column, value)."""
    if kind == "ivf":
        return [(f"nprobe {share * 100:.1f}%", max(1, round(lists * share))) for share in NPROBE_SHARES]
    return [(f"recall_ef{ef}", ef) for ef in EF_VALUES]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="an index folder or its store.sqlite")
    parser.add_argument("--held-out", type=int, default=300, help="articles whose titles are the queries")
    parser.add_argument("--kind", choices=["ivf", "hnsw"], default="ivf", help="the approximate index")
    args = parser.parse_args()
    store = args.store / "store.sqlite" if args.store.is_dir() else args.store
    real, titles = read_store(store, args.held_out)
    indexer = EmbeddingIndexer(SentenceTransformerEmbedder())
    queries = np.stack([indexer.embed_query(t).reshape(-1) for t in titles[:200]]).astype(np.float32)
    print(f"{len(real):,} real passage vectors from {store}; {len(queries)} title queries held out")
    # Made from as many real vectors as vector_scale.py embeds (2,585), which are then left out: the
    # collection is synthetic throughout.
    seed = real[np.random.default_rng(1).permutation(len(real))[: min(2600, len(real))]]
    rows = [describe("real", real, queries, args.kind)]
    for how in ("gaussian", "mixture", "copies"):
        made = synthetic(seed, len(seed) + len(real), how)[len(seed) :]
        rows.append(describe(f"{how}, made from {len(seed):,} real", made, queries, args.kind))
    header = ["collection", "top1_cosine", "top10_cosine", "random_cosine", "tuned", "tuned_recall"]
    header += ["titles_at_tuned"]
    header += [label for label, _ in settings(args.kind, 1)]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row[h] if isinstance(row[h], str | int) else f"{row[h]:.3f}" for h in header]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
