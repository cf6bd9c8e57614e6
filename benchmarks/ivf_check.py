"""Would an inverted-file (IVF) index meet the million-passage target where the HNSW index does not?
(issue 5.3, 5.4; newsindex builds HNSW, this only measures the alternative.)

The vectors are those of ``vector_scale.py``: the real Reuters passage vectors it cached in
``--workdir`` (``real.npz``), then synthetic ones up to ``--passages`` (``--synthetic``, the same
generator and seed, so the same collection), and its real queries: titles of held-out articles.

For each IVF variant (``--variants``: ``NLIST:CODES[:flat]``, codes ``sq8`` or ``fp16``; ``:flat``
encodes the vectors themselves instead of their offsets from the list centre), the index is trained
on a sample, filled, and searched one query at a time for the 40 candidates ``NewsIndex`` fetches,
which are then ordered by their exact scores, as ``NewsIndex`` does: recall@10 against exact search
and p50/p95 latency for each ``nprobe`` (lists scanned), on one thread, and on two with the lists of a
query split between them. With ``--hnsw FILE`` (the vector file ``vector_scale.py`` wrote), the HNSW
index is measured the same way, at its tuned ``ef_search`` and at ``--ef`` values.

    cd benchmarks && ../.venv/bin/python ivf_check.py --workdir /tmp/vs [--hnsw /tmp/vs/index/vectors.faiss]
        [--variants 4096:sq8 4096:sq8:flat 8192:sq8 4096:fp16] [--nprobe 128 256 320 384 512]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from vector_scale import exact_top, synthetic

from newsindex.vectors import RERANK_DEPTH

K = 10


def timed_recall(
    index: Any, vectors: np.ndarray, queries: np.ndarray, truth: np.ndarray
) -> tuple[float, float, float]:
    """p50 and p95 (ms) of single-query searches for ``K * RERANK_DEPTH`` candidates, and recall@10
    once they are ordered by exact score. Ids are row numbers plus one, as in ``vector_scale.py``."""
    for query in queries[:10]:
        index.search(query[None], K * RERANK_DEPTH)
    times, hits = [], 0
    for query, wanted in zip(queries, truth, strict=True):
        started = time.perf_counter()
        _, found = index.search(query[None], K * RERANK_DEPTH)
        times.append(time.perf_counter() - started)
        # Ids past the collection belong to articles vector_scale.py's add test put in its index.
        ids = found[0][(found[0] >= 1) & (found[0] <= len(vectors))]
        best = ids[np.argsort(-(vectors[ids - 1] @ query), kind="stable")[:K]]
        hits += len(set(best.tolist()) & set(wanted.tolist()))
    return (
        float(np.percentile(times, 50) * 1000),
        float(np.percentile(times, 95) * 1000),
        hits / (K * len(queries)),
    )


def build_ivf(vectors: np.ndarray, nlist: int, codes: str, by_residual: bool) -> Any:
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    kind = faiss.ScalarQuantizer.QT_8bit if codes == "sq8" else faiss.ScalarQuantizer.QT_fp16
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, vectors.shape[1], nlist, kind, faiss.METRIC_INNER_PRODUCT
    )
    index.by_residual = by_residual
    sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: 64 * nlist]]
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    index.train(sample)
    trained = time.perf_counter() - started
    index.add_with_ids(vectors, np.arange(1, len(vectors) + 1, dtype=np.int64))
    print(
        f"IVF {nlist} lists, {codes}{'' if by_residual else ', vectors as they are'}: trained on "
        f"{len(sample):,} in {trained:.0f} s, filled in {time.perf_counter() - started - trained:.0f} s, "
        f"{faiss.serialize_index(index).nbytes / 2**20:.0f} MiB",
        flush=True,
    )
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="vector_scale.py's --workdir (real.npz)")
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--synthetic", choices=["gaussian", "mixture", "copies"], default="mixture")
    parser.add_argument("--variants", nargs="*", default=["4096:sq8"])
    parser.add_argument("--nprobe", nargs="*", type=int, default=[128, 256, 320, 384, 512])
    parser.add_argument("--hnsw", type=Path, default=None, help="vector_scale.py's vectors.faiss")
    parser.add_argument("--ef", nargs="*", type=int, default=[256, 512, 1024, 2048])
    args = parser.parse_args()
    cached = np.load(args.workdir / "real.npz")
    real, queries = cached["passages"], cached["queries"].reshape(len(cached["queries"]), -1)
    vectors = synthetic(real, args.passages, args.synthetic)
    truth = exact_top(vectors, queries)
    print(f"{len(real):,} real vectors, {args.passages - len(real):,} synthetic ({args.synthetic}); "
          f"{len(queries)} real queries", flush=True)  # fmt: skip
    if args.hnsw is not None:
        index = faiss.read_index(str(args.hnsw))
        hnsw = faiss.downcast_index(faiss.downcast_index(index).index).hnsw
        faiss.omp_set_num_threads(1)
        for ef in [int(hnsw.efSearch), *args.ef]:
            hnsw.efSearch = ef
            p50, p95, recall = timed_recall(index, vectors, queries, truth)
            print(
                f"  HNSW ef_search {ef:>5}: p50 {p50:.2f} ms p95 {p95:.2f} ms recall@10 {recall:.3f}",
                flush=True,
            )
        del index
    for variant in args.variants:
        nlist, codes, *rest = variant.split(":")
        index = build_ivf(vectors, int(nlist), codes, by_residual=rest != ["flat"])
        for threads in (1, 2):
            faiss.omp_set_num_threads(threads)
            index.parallel_mode = 0 if threads == 1 else 1  # 1: one query's lists split over the threads
            for nprobe in args.nprobe:
                index.nprobe = nprobe
                p50, p95, recall = timed_recall(index, vectors, queries, truth)
                print(
                    f"  {threads} thread{'s' if threads > 1 else ''}, nprobe {nprobe:>4}: p50 {p50:.2f} ms "
                    f"p95 {p95:.2f} ms recall@10 {recall:.3f}",
                    flush=True,
                )
        del index


if __name__ == "__main__":
    main()
