"""Same-event retrieval MAP on the gold event sets (issue 2).

For every article of a set, the query is the article itself (``ix.related``, which uses its stored
vectors and its text); the relevant results are the other articles of the same gold ``event``. MAP is
printed for each search mode. References measured with one vector per article (DESIGN data README):
dense 0.953 / 0.970, BM25 0.904 / 0.963 on events-g5w1h / events-basil.

    .venv/bin/python benchmarks/same_event.py [--sets events-g5w1h events-basil]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import gold_set, related_map

from newsindex import NewsIndex

REFERENCE = {"events-g5w1h": (0.953, 0.904), "events-basil": (0.970, 0.963)}
MODES = ("dense", "lexical", "hybrid")


def evaluate(name: str, keep: Path | None = None) -> dict[str, float]:
    gold = gold_set(name)
    articles, queries = gold.articles, gold.queries
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        where = keep / name if keep else Path(tmp) / "ix"
        with NewsIndex.open(where) as ix:
            ix.add(articles)
            ingest_s = time.perf_counter() - started
            results = {}
            for mode in MODES:
                started = time.perf_counter()
                results[mode] = related_map(ix, gold, mode)
                results[f"{mode}_ms_per_query"] = 1000 * (time.perf_counter() - started) / len(queries)
    results["ingest_s"] = ingest_s
    results["articles"] = len(articles)
    results["queries"] = len(queries)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(REFERENCE))
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="build (or reuse) the indexes under DIR instead of a temp dir",
    )
    args = parser.parse_args()
    print(
        f"{'set':<14} {'articles':>8} {'mode':<8} {'MAP':>6} {'ref dense':>9} {'ref BM25':>8} {'ms/query':>8}"
    )
    for name in args.sets:
        results = evaluate(name, args.keep)
        dense_ref, bm25_ref = REFERENCE.get(name, (float("nan"), float("nan")))
        for mode in MODES:
            print(
                f"{name:<14} {int(results['articles']):>8} {mode:<8} {results[mode]:>6.3f} "
                f"{dense_ref:>9.3f} {bm25_ref:>8.3f} {results[f'{mode}_ms_per_query']:>8.1f}"
            )
        verdict = "beats" if results["hybrid"] > dense_ref else "does NOT beat"
        print(
            f"{name}: hybrid {results['hybrid']:.3f} {verdict} the dense reference {dense_ref:.3f} "
            f"(ingest {results['ingest_s']:.0f} s)"
        )


if __name__ == "__main__":
    main()
