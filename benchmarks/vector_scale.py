"""Scale of the vector part (issue 5.3, 5.4): query latency against index size, exact and approximate
(IVF), and one index of ``--passages`` passages opened, searched and added to as a user would.

Vectors. ``--real-articles`` Reuters articles are split into passages and embedded with the packaged
all-MiniLM-L6-v2 (the real vectors). The rest, up to ``--passages``, are **synthetic** (``--synthetic``,
see :func:`synthetic`): by default drawn from a normal distribution with the real vectors' mean and
covariance, then normalised. The queries are real: the titles of held-out Reuters articles, embedded
with the same model.

1. Latency against size (``--sizes``): for each size, exact (flat) search and the approximate index
   (IVF) built and tuned as ``NewsIndex`` builds it: p50/p95 of single-query searches (k=10, the query vector
   given; for IVF the 40 candidates ``NewsIndex`` fetches, before it orders them by their exact
   scores), recall@10 against exact for the real queries after that reordering, build time. A PNG plot
   of p50 against size is written to ``--plot``.
2. The full index: a real index directory (``store.sqlite`` with articles and passages, the IVF
   vector file and its manifest, as ``NewsIndex`` writes them), then, in a fresh process: open time,
   resident memory added by the open, query p50/p95 through ``NewsIndex.search`` (dense, query
   embedding included) with and without a date filter keeping 1% of the articles (``--dates``: one
   day's articles scattered through the store, or in one block), and the time of adding single real
   articles (the whole pipeline) compared with the same adds to a 1,000-article index.

    .venv/bin/python benchmarks/vector_scale.py [--passages 1000000] [--sizes 10000 100000 1000000]
        [--real-articles 4000] [--workdir DIR] [--plot docs/img/query-latency.png] [--json FILE]
        [--synthetic gaussian|mixture|copies] [--dates interleaved|"in order"] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT, data_file

from newsindex import Article, NewsIndex, load_articles
from newsindex.embedding import SentenceTransformerEmbedder
from newsindex.indexer import EmbeddingIndexer
from newsindex.manifest import MANIFEST_FILE, STORE_FILE, VECTORS_FILE, manifest_content, write_manifest
from newsindex.store import Store
from newsindex.vectorfile import VectorFileState, write_vector_file
from newsindex.vectors import RERANK_DEPTH, FaissRetriever, build_approximate, exact_search, rerank_exact

NOISE_NORM = 1.0
PASSAGES_PER_ARTICLE = 3
DAYS = 100  # articles spread over 100 days: one day is 1% of them
START = datetime(2025, 1, 1, tzinfo=UTC)


def reuters(count: int) -> list[Article]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Reuters has records with an empty body; skipping them is expected
        return load_articles(data_file("corpus-reuters.jsonl"), on_error="skip")[:count]


def real_vectors(articles: list[Article], queries: list[str], cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors of ``articles`` and query vectors of ``queries`` (cached in ``cache``)."""
    if cache.is_file():
        data = np.load(cache)
        return data["passages"], data["queries"].reshape(len(data["queries"]), -1)
    indexer = EmbeddingIndexer(SentenceTransformerEmbedder())
    started = time.perf_counter()
    done = indexer.embed(articles)
    passages = np.concatenate([d.vectors for d in done]).astype(np.float32)
    query_vectors = np.stack([indexer.embed_query(q).reshape(-1) for q in queries]).astype(np.float32)
    print(f"embedded {len(passages):,} real passages in {time.perf_counter() - started:.0f} s", flush=True)
    np.savez(cache, passages=passages, queries=query_vectors)
    return passages, query_vectors


def synthetic(real: np.ndarray, total: int, how: str = "gaussian", seed: int = 0) -> np.ndarray:
    """``total`` vectors: the real ones, then synthetic ones, all unit length.

    ``gaussian``: drawn from a normal distribution with the real vectors' mean and covariance, then
    normalised: the same first and second moments as real passages (on 2,585 Reuters passages the
    cosine between two random vectors averages 0.19, sd 0.12, real; 0.19, sd 0.11, drawn).
    ``mixture``: see :func:`_mixture`; the real vectors' grouping kept as well as their spread.
    ``copies``: a random real vector plus isotropic noise of norm ``NOISE_NORM``, normalised. Each
    real vector then has hundreds of near-identical copies, the top 10 of a query are near-ties, and
    two random vectors are less alike than real ones (0.10, sd 0.08): a harder and less realistic
    collection, kept for comparison with the first measurements.
    """
    if how == "gaussian":
        return _gaussian(real, total, seed)
    if how == "mixture":
        return _mixture(real, total, seed)
    rng = np.random.default_rng(seed)
    out = np.empty((total, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real[:total]
    for pos in range(len(real), total, 100_000):
        n = min(100_000, total - pos)
        noise = rng.standard_normal((n, real.shape[1])).astype(np.float32)
        noise *= NOISE_NORM / np.linalg.norm(noise, axis=1, keepdims=True)
        block = real[rng.integers(0, len(real), n)] + noise
        out[pos : pos + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _gaussian(real: np.ndarray, total: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mean = real.mean(axis=0)
    spread, axes = np.linalg.eigh(np.cov(real, rowvar=False))
    # z @ scale, z standard normal, has the covariance of the real vectors.
    scale = (np.sqrt(np.clip(spread, 0.0, None))[:, None] * axes.T).astype(np.float32)
    out = np.empty((total, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real[:total]
    for pos in range(len(real), total, 100_000):
        n = min(100_000, total - pos)
        block = mean + rng.standard_normal((n, real.shape[1])).astype(np.float32) @ scale
        out[pos : pos + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _mixture(real: np.ndarray, total: int, seed: int, clusters: int = 64) -> np.ndarray:
    """A mixture of normals: the real vectors grouped by k-means, each draw a group's centre plus a
    deviation with the covariance of the real vectors around their own centres (shared by all
    groups: a few thousand real vectors cannot estimate one 384 × 384 covariance per group)."""
    import faiss

    rng = np.random.default_rng(seed)
    kmeans = faiss.Kmeans(real.shape[1], clusters, niter=25, seed=seed, verbose=False)
    kmeans.train(np.ascontiguousarray(real, dtype=np.float32))
    _, labels = kmeans.index.search(np.ascontiguousarray(real, dtype=np.float32), 1)
    labels = labels.reshape(-1)
    centres = kmeans.centroids.astype(np.float32)
    spread, axes = np.linalg.eigh(np.cov(real - centres[labels], rowvar=False))
    scale = (np.sqrt(np.clip(spread, 0.0, None))[:, None] * axes.T).astype(np.float32)
    weights = np.bincount(labels, minlength=clusters) / len(labels)
    out = np.empty((total, real.shape[1]), dtype=np.float32)
    out[: len(real)] = real[:total]
    for pos in range(len(real), total, 100_000):
        n = min(100_000, total - pos)
        picked = rng.choice(clusters, size=n, p=weights)
        block = centres[picked] + rng.standard_normal((n, real.shape[1])).astype(np.float32) @ scale
        out[pos : pos + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> np.ndarray:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    best = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for pos in range(0, len(vectors), 100_000):
        scores, found = exact_search(vectors[pos : pos + 100_000], ids[pos : pos + 100_000], queries, k)
        best_scores = np.concatenate([best_scores, scores], axis=1)
        best = np.concatenate([best, found], axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")[:, :k]
        best_scores, best = np.take_along_axis(best_scores, order, 1), np.take_along_axis(best, order, 1)
    return best


def latencies(retriever: FaissRetriever, queries: np.ndarray, k: int = 10) -> tuple[float, float]:
    """p50 and p95 in ms of single-query searches (after a warm-up)."""
    for q in queries[:10]:
        retriever.search(q, k)
    timings = []
    for q in queries:
        started = time.perf_counter()
        retriever.search(q, k)
        timings.append(time.perf_counter() - started)
    return float(np.percentile(timings, 50) * 1000), float(np.percentile(timings, 95) * 1000)


def recall(retriever: FaissRetriever, queries: np.ndarray, truth: np.ndarray, vectors: np.ndarray) -> float:
    """recall@10 of the search NewsIndex runs: 4 × 10 candidates, ordered by their exact scores."""
    _, found = retriever.search(queries, 10 * RERANK_DEPTH)
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    found = rerank_exact(found, queries, vectors, ids, np.arange(len(ids)), 10)
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


def by_size(vectors: np.ndarray, queries: np.ndarray, sizes: list[int]) -> tuple[list[dict[str, Any]], Any]:
    rows = []
    last: FaissRetriever | None = None
    for size in sizes:
        part = vectors[:size]
        ids = np.arange(1, size + 1, dtype=np.int64)
        flat = FaissRetriever(part.shape[1])
        flat.add(ids, part)
        row: dict[str, Any] = {"size": size}
        row["flat_p50_ms"], row["flat_p95_ms"] = latencies(flat, queries)
        truth = exact_top(part, queries)
        del flat
        started = time.perf_counter()
        approx, tuned = build_approximate(ids, part)
        row["approx_build_s"] = time.perf_counter() - started
        row["approx_p50_ms"], row["approx_p95_ms"] = latencies(approx, queries, 10 * RERANK_DEPTH)
        row["approx_kind"] = approx.kind
        row["approx_settings"] = approx.search_settings()
        row["approx_recall_tuning"] = tuned
        row["approx_recall_real_queries"] = recall(approx, queries, truth, part)
        row["approx_bytes"] = len(approx.to_bytes())
        rows.append(row)
        print(
            f"{size:>9,}: flat p50 {row['flat_p50_ms']:.2f} ms | "
            f"{approx.kind} p50 {row['approx_p50_ms']:.2f} ms "
            f"p95 {row['approx_p95_ms']:.2f} ms, {approx.search_settings()}, "
            f"recall@10 {row['approx_recall_real_queries']:.3f} (tuning {tuned:.3f}), "
            f"built in {row['approx_build_s']:.0f} s, {row['approx_bytes'] / 2**20:.0f} MiB",
            flush=True,
        )
        last = approx
    return rows, last


def write_index(
    directory: Path, vectors: np.ndarray, approx: FaissRetriever, tuned: float, dates: str = "interleaved"
) -> None:
    """An index directory as NewsIndex writes it: the store (articles, passages with their vectors,
    the lexical index), the approximate vector file and the manifest.

    The articles are spread over ``DAYS`` days, ``dates="interleaved"``: article ``a`` on day
    ``a % DAYS``, so one day's articles are scattered through the store (the harder case for a date
    filter, as for a filter on one of many sources); ``"in order"``: in blocks of consecutive
    articles, as a feed read in publication order fills the store."""
    embedder = SentenceTransformerEmbedder()
    directory.mkdir(parents=True)
    store = Store(directory / STORE_FILE)
    store.create_schema(
        {"format_version": "3", "model": embedder.name, "dim": str(embedder.dim), "metric": "cosine"}
    )
    # Three passages per article; the last article takes what is left, so every vector has its row.
    n_articles = -(-len(vectors) // PASSAGES_PER_ARTICLE)
    started = time.perf_counter()
    with store.transaction():
        for a in range(n_articles):
            day = a % DAYS if dates == "interleaved" else a * DAYS // n_articles
            published = START + timedelta(days=day, seconds=a)
            words = f"Synthetic report {a} filed on day {day}."
            store.execute(
                "INSERT INTO articles (rid, id, title, body, url, source, published, published_ts, language, "
                "authors, tags, metadata, content_hash, record_hash, added_at, updated_at) "
                "VALUES (?, ?, NULL, ?, NULL, 'Synthetic', ?, ?, 'en', '[]', '[]', '{}', ?, ?, ?, ?)",
                (a + 1, f"s{a}", words, published.isoformat(), published.timestamp(), str(a), str(a),
                 START.isoformat(), START.isoformat()),
            )  # fmt: skip
            rows = [
                (a * PASSAGES_PER_ARTICLE + p + 1, a + 1, p, 0, len(words),
                 vectors[a * PASSAGES_PER_ARTICLE + p].tobytes())
                for p in range(min(PASSAGES_PER_ARTICLE, len(vectors) - a * PASSAGES_PER_ARTICLE))
            ]  # fmt: skip
            store.executemany(
                "INSERT INTO passages (id, article, seq, start, end, vector) VALUES (?, ?, ?, ?, ?, ?)", rows
            )
        store.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
    print(f"wrote the store ({n_articles:,} articles) in {time.perf_counter() - started:.0f} s", flush=True)
    counts = {"articles": n_articles, "passages": len(vectors)}

    def record(state: VectorFileState) -> None:
        write_manifest(
            directory / MANIFEST_FILE,
            manifest_content(
                model=embedder.name,
                dim=embedder.dim,
                vector_index=approx.kind,
                counts=counts,
                vector_states=[state],
                vector_search={**approx.search_settings(), "recall_at_10": tuned},
            ),
        )

    write_vector_file(approx, directory / VECTORS_FILE, 0, record)
    store.close()


# Run in a fresh process, so that the memory and the open time are the index's own.
PROBE = r"""
import json, resource, sys, time, warnings
import numpy as np
sys.path.insert(0, sys.argv[3])
from _common import data_file
from newsindex import NewsIndex, load_articles

def rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

path, small = sys.argv[1], sys.argv[2]
out = {}
import newsindex.index, faiss, torch  # loaded before measuring, so the open is measured alone
before = rss_mb()
started = time.perf_counter()
ix = NewsIndex.open(path, read_only=True)
out["open_s"] = time.perf_counter() - started
out["open_rss_mb"] = rss_mb() - before
out["stats"] = ix.stats().model_dump(mode="json")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    articles = load_articles(data_file("corpus-reuters.jsonl"), on_error="skip")
queries = [a.title or a.body[:80] for a in articles[-300:]]
ix.search(queries[0], k=10, mode="dense")  # loads the model
def timed(**filters):
    timings = []
    for q in queries[:200]:
        started = time.perf_counter()
        hits = ix.search(q, k=10, mode="dense", **filters)
        timings.append(time.perf_counter() - started)
        assert len(hits) == 10, len(hits)
    return float(np.percentile(timings, 50) * 1000), float(np.percentile(timings, 95) * 1000)
vectors = [ix.indexer.embed_query(q) for q in queries[:200]]
def timed_vectors(search):
    for v in vectors[:20]:
        search(v)
    timings = []
    for v in vectors:
        started = time.perf_counter()
        search(v)
        timings.append(time.perf_counter() - started)
    return float(np.percentile(timings, 50) * 1000), float(np.percentile(timings, 95) * 1000)
# The vector part alone: the FAISS search for the 40 candidates a k=10 search fetches; then the
# whole dense retrieval without the query embedding (candidates, exact re-scoring from the store,
# one passage per article).
out["vector_p50_ms"], out["vector_p95_ms"] = timed_vectors(lambda v: ix._vectors.search(v, 40))
out["dense_p50_ms"], out["dense_p95_ms"] = timed_vectors(lambda v: ix._searcher._dense(v, 10, None))
out["query_p50_ms"], out["query_p95_ms"] = timed()
out["filtered_p50_ms"], out["filtered_p95_ms"] = timed(since="2025-01-05", until="2025-01-05")
ix.close()
probe = articles[-330:-300]
def add_cost(index_path):
    with NewsIndex.open(index_path) as w:
        timings = []
        for a in probe:
            started = time.perf_counter()
            w.add([a])
            timings.append(time.perf_counter() - started)
        w.delete([a.id for a in probe])
    return float(np.median(timings) * 1000)
out["add_ms_small"] = add_cost(small)
out["add_ms_large"] = add_cost(path)
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 30_000, 100_000, 300_000, 1_000_000])
    parser.add_argument("--real-articles", type=int, default=4000)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the index and caches here")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "query-latency.png")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--synthetic", choices=["gaussian", "mixture", "copies"], default="gaussian", help="see synthetic()"
    )
    parser.add_argument(
        "--dates",
        choices=["interleaved", "in order"],
        default="interleaved",
        help="how the articles' days are spread through the store (see write_index)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the index in --workdir and the by-size rows of --json; measure the full index again",
    )
    args = parser.parse_args()
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="vector-scale-")
        args.workdir = Path(tmp.name)
    args.workdir.mkdir(parents=True, exist_ok=True)

    articles = reuters(args.real_articles + 330)
    held_out = [a.title or a.body[:80] for a in articles[-200:]]
    real, queries = real_vectors(articles[: args.real_articles], held_out, args.workdir / "real.npz")
    vectors = synthetic(real, args.passages, args.synthetic)
    print(
        f"{len(real):,} real passage vectors, {args.passages - len(real):,} synthetic ({args.synthetic})",
        flush=True,
    )

    directory = args.workdir / "index"
    small = args.workdir / "small"
    if args.reuse and directory.exists() and args.json and args.json.exists():
        report: dict[str, Any] = json.loads(args.json.read_text())
        rows = report["by_size"]
    else:
        sizes = sorted(s for s in args.sizes if s <= args.passages)
        rows, approx = by_size(vectors, queries, sizes)
        report = {
            "real": len(real),
            "synthetic": args.passages - len(real),
            "generator": args.synthetic,
            "by_size": rows,
        }
        if directory.exists():
            shutil.rmtree(directory)
        write_index(directory, vectors, approx, rows[-1]["approx_recall_tuning"], args.dates)
        del approx
    del vectors
    if not small.exists():
        with NewsIndex.open(small) as ix:
            ix.add(articles[:1000])
    report["disk_mb"] = {
        name: (directory / name).stat().st_size / 2**20 for name in (STORE_FILE, VECTORS_FILE)
    }
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(directory), str(small), str(Path(__file__).parent)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        sys.exit(result.stderr[-3000:])
    report["full"] = json.loads(result.stdout.strip().splitlines()[-1])
    full = report["full"]
    stats, disk = full["stats"], report["disk_mb"]
    print(
        f"full index, {stats['passages']:,} passages ({stats['vector_index']}, recorded recall@10 "
        f"{stats['vector_recall']:.3f}): open {full['open_s']:.2f} s, "
        f"+{full['open_rss_mb']:.0f} MB resident; "
        f"vector search p50 {full['vector_p50_ms']:.2f} ms p95 {full['vector_p95_ms']:.2f} ms; dense "
        f"retrieval without the query embedding p50 {full['dense_p50_ms']:.2f} ms; "
        f"query p50 {full['query_p50_ms']:.1f} ms p95 {full['query_p95_ms']:.1f} ms; with a 1% date filter "
        f"p50 {full['filtered_p50_ms']:.1f} ms p95 {full['filtered_p95_ms']:.1f} ms; add "
        f"{full['add_ms_large']:.0f} ms per article against {full['add_ms_small']:.0f} ms at 1,000 articles; "
        f"disk: store {disk[STORE_FILE]:.0f} MiB, vectors {disk[VECTORS_FILE]:.0f} MiB",
        flush=True,
    )
    plot(rows, args.plot)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if tmp is not None:
        tmp.cleanup()


def plot(rows: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in rows]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(sizes, [r["flat_p50_ms"] for r in rows], "o-", label="exact (flat)")
    axes.plot(
        sizes,
        [r["approx_p50_ms"] for r in rows],
        "s-",
        label="IVF, nprobe tuned (recall: see docs/benchmarks.md)",
    )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("passages in the index")
    axes.set_ylabel("vector search p50 (ms, k=10)")
    axes.set_title("Query latency against index size (2 CPU cores)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    print(f"plot written to {target}", flush=True)


if __name__ == "__main__":
    main()
