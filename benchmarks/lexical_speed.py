"""BM25 from memory against FTS5's bm25(): the same answers, and what each costs.

On an existing index (one that ``peers.py --keep`` leaves, for example), title queries of the
index's own articles are scored three ways, alternating query by query: by FTS5's ``bm25()`` in SQL,
by :mod:`newsindex.bm25` with its cache emptied first (cold: the postings are read from the index,
as a term's second query after a change does; its first goes to FTS5), and by it again (warm).
Every in-memory answer is compared with FTS5's: the same scores to 1e-9, and the same articles
except among equal scores, which SQLite orders as it likes.

    .venv/bin/python benchmarks/lexical_speed.py --index /tmp/r20/keep/reuters/newsindex
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import numpy as np

from newsindex import NewsIndex
from newsindex.search import fts_query, query_terms
from newsindex.store import ArticleFilter

EVERYTHING = ArticleFilter()


def same(memory: list[tuple[int, float]], sql: list[tuple[int, float]], limit: int) -> bool:
    if len(memory) != len(sql):
        return False
    if not memory:
        return True
    if np.abs(np.array([s for _, s in memory]) - np.array([s for _, s in sql])).max() > 1e-9:
        return False
    cut = sql[-1][1] + 1e-9 if len(sql) == limit else float("-inf")
    return {r for r, s in memory if s > cut} == {r for r, s in sql if s > cut}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an existing newsindex folder")
    parser.add_argument("--queries", type=int, default=100, help="titles sampled from the index")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--depth", type=int, default=50, help="articles asked for (a hybrid search asks 50)")
    args = parser.parse_args()

    with NewsIndex.open(args.index, read_only=True) as ix:
        store = ix._store
        titles = [str(r[0]) for r in store.execute("SELECT title FROM articles WHERE title <> ''")]
        queries = [
            q for q in random.Random(7).sample(titles, min(args.queries, len(titles))) if query_terms(q)
        ]
        bm25 = store._bm25
        bm25._load_at = 1  # "cold" times reading the postings, which a term's second query does
        times: dict[str, list[float]] = {"FTS5 bm25()": [], "memory, cold": [], "memory, warm": []}
        matches: list[int] = []
        differing = 0
        for round_number in range(args.rounds):
            for query in queries:
                terms = query_terms(query)
                match = fts_query(terms)
                started = time.perf_counter()
                sql = store.lexical(match, EVERYTHING, args.depth)
                times["FTS5 bm25()"].append(time.perf_counter() - started)
                bm25._postings.clear()  # cold: this query's postings are read again
                bm25._kept = 0
                started = time.perf_counter()
                store.lexical(match, EVERYTHING, args.depth, terms=terms)
                times["memory, cold"].append(time.perf_counter() - started)
                started = time.perf_counter()
                memory = store.lexical(match, EVERYTHING, args.depth, terms=terms)
                times["memory, warm"].append(time.perf_counter() - started)
                differing += not same(memory, sql, args.depth)
                if round_number == 0:
                    count = store.execute(
                        "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [match]
                    ).fetchone()[0]
                    matches.append(int(count))
        print(
            f"{args.index}: {store.count('articles'):,} articles; {len(queries)} title queries, "
            f"{args.rounds} rounds; matches per query: median {statistics.median(matches):,.0f}, "
            f"max {max(matches):,}"
        )
        print(f"answers differing from FTS5's: {differing} of {len(queries) * args.rounds}")
        base = statistics.median(times["FTS5 bm25()"])
        print(f"{'':16s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 / FTS5':>11s}")
        for name, values in times.items():
            p50 = statistics.median(values)
            print(f"{name:16s} {p50 * 1e3:8.2f} {np.percentile(values, 95) * 1e3:8.2f} {p50 / base:11.2f}")


if __name__ == "__main__":
    main()
