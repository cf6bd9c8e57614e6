"""Searching an index while a feed comes in: every query follows a commit.

A commit empties the in-memory BM25 cache (:mod:`newsindex.bm25`), so each query's terms are cold.
On a copy of an existing index (one that ``peers.py --keep`` leaves, for example), each step adds one
article (a copy of a stored one under a new id, so one commit) and then runs one hybrid search for the
title of another stored article. Two policies alternate step by step: the postings of a cold term
read at its first query (``LOAD_AT_SIGHTING`` 1, how session 11 shipped it) and at its second (2, the
default: the first goes to FTS5). Printed: the search's p50 and p95 under each, and their ratio.

    .venv/bin/python benchmarks/feed_search.py --index /tmp/r20/keep/reuters/newsindex [--steps 80]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from newsindex import Article, NewsIndex


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an existing newsindex folder (copied)")
    parser.add_argument("--steps", type=int, default=80, help="commits, each followed by one search")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "ix"
        shutil.copytree(args.index, copy)
        with NewsIndex.open(copy) as ix:
            store = ix._store
            rows = store.execute("SELECT id FROM articles WHERE title <> '' ORDER BY rid").fetchall()
            ids = [str(r[0]) for r in random.Random(11).sample(rows, 2 * args.steps + 10)]
            feed, queries = ids[: args.steps + 10], ids[args.steps + 10 :]
            for warm in feed[:10]:  # the model loaded and the caches in use before any timing
                ix.search(ix.get(warm).title or "news", k=10)
            times: dict[int, list[float]] = {1: [], 2: []}
            bm25 = store._bm25
            for step in range(args.steps):
                stored = ix.get(feed[10 + step])
                ix.add(Article(id=f"feed-{step}", title=stored.title, body=stored.body))
                policy = 1 + step % 2
                bm25._load_at = policy
                title = ix.get(queries[step]).title or "news"
                started = time.perf_counter()
                ix.search(title, k=10)
                times[policy].append(time.perf_counter() - started)
    for policy, label in ((1, "read at the first query"), (2, "read at the second (default)")):
        values = sorted(times[policy])
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{label:<30} p50 {1000 * statistics.median(values):6.2f} ms   p95 {1000 * p95:6.2f} ms")
    ratio = statistics.median(times[2]) / statistics.median(times[1])
    print(f"p50 second / first: {ratio:.2f} ({args.steps} commits, each followed by one hybrid search)")


if __name__ == "__main__":
    main()
