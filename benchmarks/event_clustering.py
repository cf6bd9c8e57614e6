"""Event merging (issue 4): articles grouped by their lead event, same-event MAP through ``ix.related``,
and the cost of one add as the index grows.

1. Clustering. Each gold set is added to a fresh index in order of publication (a news stream's order),
   64 articles per ``add``, with the default :class:`~newsindex.events.merge.MergePolicy` (the same
   configuration for every set). Each article's lead event (``ix.article_events(id)[0]``) is its cluster;
   an article without events is a cluster of its own. B-cubed F1 against the gold ``event``. Floors: the
   best plain dense clustering with an oracle threshold per set, 0.937 (g5w1h) and 0.949 (basil).
2. Same-event MAP: for every article with other articles of its event, ``ix.related(id)`` (hybrid) over
   the whole set. Dense references 0.953 and 0.970.
3. Add cost as the index grows (``--sizes``): Reuters articles are added up to each size, then the next
   ``--probe`` articles are added one ``add`` at a time and timed; the figure is seconds per article.

    .venv/bin/python benchmarks/event_clustering.py [--sets ...] [--sizes 1000 5000 20000] [--probe 50]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import average_precision, data_file

from newsindex import Article, NewsIndex, load_articles

FLOORS = {"events-g5w1h": 0.937, "events-basil": 0.949}
MAP_REFERENCE = {"events-g5w1h": 0.953, "events-basil": 0.970}
BATCH = 64


def bcubed_f1(clusters: dict[str, str], gold: dict[str, object]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of ``clusters`` (item → cluster) against ``gold`` (item → class)."""
    members: dict[str, set[str]] = defaultdict(set)
    classes: dict[object, set[str]] = defaultdict(set)
    for item, cluster in clusters.items():
        members[cluster].add(item)
        classes[gold[item]].add(item)
    precision = recall = 0.0
    for item, cluster in clusters.items():
        shared = len(members[cluster] & classes[gold[item]])
        precision += shared / len(members[cluster])
        recall += shared / len(classes[gold[item]])
    precision /= len(clusters)
    recall /= len(clusters)
    return precision, recall, 2 * precision * recall / (precision + recall)


def _publication_order(articles: list[Article]) -> list[Article]:
    return sorted(
        articles, key=lambda a: (a.published is None, a.published.timestamp() if a.published else 0, a.id)
    )


def evaluate_set(name: str) -> dict[str, Any]:
    articles = load_articles(data_file(f"{name}.jsonl"))
    gold = {a.id: a.metadata.get("event") for a in articles}
    by_event: dict[object, set[str]] = defaultdict(set)
    for article_id, event in gold.items():
        by_event[event].add(article_id)
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "ix") as ix:
        started = time.perf_counter()
        ordered = _publication_order(articles)
        for pos in range(0, len(ordered), BATCH):
            ix.add(ordered[pos : pos + BATCH])
        ingest_s = time.perf_counter() - started
        clusters = {}
        for article in articles:
            events = ix.article_events(article.id)
            clusters[article.id] = events[0].id if events else f"alone:{article.id}"
        precision, recall, f1 = bcubed_f1(clusters, gold)
        queries = [a for a in articles if len(by_event[gold[a.id]]) > 1]
        scores = []
        for article in queries:
            ranked = [h.article.id for h in ix.related(article.id, k=len(articles) - 1)]
            scores.append(average_precision(ranked, by_event[gold[article.id]] - {article.id}))
        stats = ix.stats()
    return {
        "set": name,
        "articles": len(articles),
        "gold_events": len(by_event),
        "events": stats.events,
        "lead_clusters": len(set(clusters.values())),
        "bcubed_precision": precision,
        "bcubed_recall": recall,
        "bcubed_f1": f1,
        "floor": FLOORS.get(name),
        "related_map": sum(scores) / len(scores),
        "map_reference": MAP_REFERENCE.get(name),
        "ingest_s": ingest_s,
    }


def add_cost(sizes: list[int], probe: int) -> list[dict[str, float]]:
    """Seconds per added article (one ``add`` each) once the index holds each of ``sizes`` articles."""
    needed = max(sizes) + probe * len(sizes)
    with warnings.catch_warnings():
        # Reuters has a few thousand records with an empty body; skipping them is expected here.
        warnings.simplefilter("ignore")
        articles = load_articles(data_file("corpus-reuters.jsonl"), on_error="skip")[:needed]
    results = []
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "ix") as ix:
        pos = 0
        for size in sorted(sizes):
            while len(ix) < size and pos < len(articles):
                ix.add(articles[pos : pos + BATCH])
                pos += BATCH
            timings = []
            for article in articles[pos : pos + probe]:
                started = time.perf_counter()
                ix.add([article])
                timings.append(time.perf_counter() - started)
            pos += probe
            timings.sort()
            results.append(
                {
                    "size": float(len(ix)),
                    "events": float(ix.stats().events),
                    "mean_s": sum(timings) / len(timings),
                    "median_s": timings[len(timings) // 2],
                }
            )
            print(f"  at {len(ix):>6} articles: {results[-1]['mean_s'] * 1000:.0f} ms per add", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="*", default=list(FLOORS))
    parser.add_argument("--sizes", nargs="*", type=int, default=[], metavar="N")
    parser.add_argument("--probe", type=int, default=50, metavar="N", help="articles timed at each size")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    report: dict[str, Any] = {"sets": [], "add_cost": []}
    for name in args.sets:
        result = evaluate_set(name)
        report["sets"].append(result)
        if not args.json:
            verdict = "beats" if result["bcubed_f1"] > (result["floor"] or 0) else "does NOT beat"
            map_verdict = (
                "beats" if result["related_map"] > (result["map_reference"] or 0) else "does NOT beat"
            )
            print(
                f"{name}: {result['articles']} articles, {result['gold_events']} gold events, "
                f"{result['lead_clusters']} lead-event clusters ({result['events']} events in all)\n"
                f"  B-cubed P {result['bcubed_precision']:.3f} R {result['bcubed_recall']:.3f} "
                f"F1 {result['bcubed_f1']:.3f} ({verdict} the floor {result['floor']})\n"
                f"  same-event MAP via related: {result['related_map']:.3f} ({map_verdict} the dense "
                f"reference {result['map_reference']}); ingest {result['ingest_s']:.0f} s",
                flush=True,
            )
    if args.sizes:
        if not args.json:
            print(f"add cost, {args.probe} single-article adds at each size (corpus-reuters.jsonl):")
        report["add_cost"] = add_cost(args.sizes, args.probe)
        if not args.json and len(report["add_cost"]) > 1:
            costs = [r["mean_s"] for r in report["add_cost"]]
            print(f"  largest / smallest mean: {max(costs) / min(costs):.2f} (target: within 2)")
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
