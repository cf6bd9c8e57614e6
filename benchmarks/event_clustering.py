"""Event merging (issue 4): articles grouped by their lead event, same-event MAP through ``ix.related``,
and the cost of one add as the index grows.

1. Clustering. Each gold set is added to a fresh index in order of publication (a news stream's order),
   64 articles per ``add``, with the default :class:`~newsindex.events.merge.MergePolicy` (the same
   configuration for every set). Each article's lead event (``ix.article_events(id)[0]``) is its cluster;
   an article without events is a cluster of its own. B-cubed F1 against the gold ``event``. Floors: the
   best plain dense clustering with an oracle threshold per set, 0.937 (g5w1h) and 0.949 (basil).
2. Same-event MAP: for every article with other articles of its event, ``ix.related(id)`` (hybrid) over
   the whole set. Dense references 0.953 and 0.970.
3. Side by side (``--side-by-side``): ACLED records (``extract-acled-dev.jsonl``, the ``notes`` as article
   bodies, published on the event day) from the busiest country-months, where dozens of shellings,
   battles and protests of one kind sit days apart. Each record is its own event, so every merge is a
   false one: the figure is B-cubed precision (1.0: nothing merged) and the size of the largest cluster.
   It has no floor; it shows whether a configuration merges by kind and time alone, which the two gold
   sets above cannot show.
4. Add cost as the index grows (``--sizes``): Reuters articles are added up to each size, then the same
   ``--probe`` held-out Reuters articles are added one ``add`` at a time, timed and deleted again; the
   figure is seconds per article. Each probe also goes, in alternation, into a reference index that
   stays at 1,000 articles: the ratio of the two at each size cancels the machine's load. Past the
   18,744 Reuters articles that have a body (and a readable date), BBC articles dated within the
   Reuters months fill the index up (see :func:`filler`).

    .venv/bin/python benchmarks/event_clustering.py [--sets ...] [--side-by-side] [--sizes 1000 5000 20000]
        [--probe 50]
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

from _common import data_file, gold_set, related_map

from newsindex import Article, NewsIndex, load_articles
from newsindex.embedding import SentenceTransformerEmbedder

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
    gold_events = gold_set(name)
    articles, gold, by_event = gold_events.articles, gold_events.gold, gold_events.by_event
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
        same_event_map = related_map(ix, gold_events)
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
        "related_map": same_event_map,
        "map_reference": MAP_REFERENCE.get(name),
        "ingest_s": ingest_s,
    }


def _acled_articles(at_least: int) -> list[Article]:
    """ACLED notes as articles, the largest (country, month) groups first until ``at_least`` are taken."""
    records = [json.loads(line) for line in data_file("extract-acled-dev.jsonl").open(encoding="utf-8")]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[(record["country"], record["event_date"][:7])].append(record)
    taken: list[dict[str, Any]] = []
    for key in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        if len(taken) >= at_least:
            break
        taken.extend(groups[key])
    return [
        Article(id=record["event_id_cnty"], body=record["notes"], published=f"{record['event_date']}T12:00Z")
        for record in taken
    ]


def side_by_side(at_least: int = 300) -> dict[str, Any]:
    """How much the default configuration merges distinct events of one kind reported days apart."""
    articles = _acled_articles(at_least)
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "ix") as ix:
        ordered = _publication_order(articles)
        for pos in range(0, len(ordered), BATCH):
            ix.add(ordered[pos : pos + BATCH])
        clusters = {}
        for article in articles:
            events = ix.article_events(article.id)
            clusters[article.id] = events[0].id if events else f"alone:{article.id}"
    precision, _, _ = bcubed_f1(clusters, {a.id: a.id for a in articles})
    sizes: dict[str, int] = defaultdict(int)
    for cluster in clusters.values():
        sizes[cluster] += 1
    return {
        "records": len(articles),
        "lead_clusters": len(sizes),
        "largest_cluster": max(sizes.values()),
        "bcubed_precision": precision,
    }


def filler(count: int, reuters: list[Article]) -> list[Article]:
    """``count`` BBC articles dated evenly over the Reuters articles' span, for sizes Reuters cannot fill.

    Reuters has 18,744 articles with a body and a readable date. Dated within the same months, the
    BBC articles' events are candidates for every new Reuters mention, as they would be in a
    collection of one period: the worst case for merging, which compares a mention with the events
    reported around it.
    """
    if count <= 0:
        return []
    bbc = load_articles(data_file("topics-bbc.jsonl"), on_error="skip")[:count]
    stamps = [a.published for a in reuters if a.published is not None]
    first, last = min(stamps), max(stamps)
    step = (last - first) / len(bbc)
    print(
        f"  {len(reuters)} Reuters articles besides the timed ones; {len(bbc)} BBC articles dated between "
        f"{first:%Y-%m-%d} and {last:%Y-%m-%d} fill the index up",
        flush=True,
    )
    return [a.model_copy(update={"published": first + step * (i + 0.5)}) for i, a in enumerate(bbc)]


def add_cost(sizes: list[int], probe: int, reference: int = 1000) -> list[dict[str, float]]:
    """Seconds per added article (one ``add`` each) once the index holds each of ``sizes`` articles.

    The same ``probe`` articles (held out from the end of the slice) are timed at every size, and
    deleted again after timing, so that only the size of the index changes between the figures. Each
    probe is also added to a second index that stays at ``reference`` articles, alternately before and
    after the growing one: the ratio of the two times at each size cancels what the machine was doing
    meanwhile (both indexes share one model).
    """
    with warnings.catch_warnings():
        # Reuters has a few thousand records with an empty body; skipping them is expected here.
        warnings.simplefilter("ignore")
        articles = load_articles(data_file("corpus-reuters.jsonl"), on_error="skip")[: max(sizes) + probe]
    probes, base = articles[-probe:], articles[:-probe]
    base += filler(max(sizes) - len(base), base)
    results = []
    embedder = SentenceTransformerEmbedder()
    with (
        tempfile.TemporaryDirectory() as tmp,
        NewsIndex.open(Path(tmp) / "ix", model=embedder) as ix,
        NewsIndex.open(Path(tmp) / "reference", model=embedder) as ref,
    ):
        for pos in range(0, reference, BATCH):
            ref.add(base[pos : min(pos + BATCH, reference)])
        for target in (ix, ref):  # first-use costs (the event typer's examples) are not timed
            target.add(probes[:1])
            target.delete([probes[0].id])
        pos = 0
        for size in sorted(sizes):
            while len(ix) < size and pos < len(base):
                ix.add(base[pos : pos + BATCH])
                pos += BATCH
            timings: dict[str, list[float]] = {"index": [], "reference": []}
            for turn, article in enumerate(probes):
                order = [("index", ix), ("reference", ref)]
                for name, target in order if turn % 2 == 0 else order[::-1]:
                    started = time.perf_counter()
                    target.add([article])
                    timings[name].append(time.perf_counter() - started)
            held = len(ix)
            for target in (ix, ref):
                target.delete([a.id for a in probes])
            mean = {name: sum(t) / len(t) for name, t in timings.items()}
            results.append(
                {
                    "size": float(held),
                    "events": float(ix.stats().events),
                    "mean_s": mean["index"],
                    "median_s": sorted(timings["index"])[len(probes) // 2],
                    "reference_mean_s": mean["reference"],
                    "relative": mean["index"] / mean["reference"],
                }
            )
            print(
                f"  at {held:>6} articles ({results[-1]['events']:.0f} events): "
                f"{mean['index'] * 1000:.0f} ms mean, "
                f"{results[-1]['median_s'] * 1000:.0f} ms median per add; "
                f"{mean['reference'] * 1000:.0f} ms at {len(ref)} articles meanwhile "
                f"(ratio {results[-1]['relative']:.2f})",
                flush=True,
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="*", default=list(FLOORS))
    parser.add_argument(
        "--side-by-side", action="store_true", help="also merge ACLED records of one kind days apart"
    )
    parser.add_argument("--sizes", nargs="*", type=int, default=[], metavar="N")
    parser.add_argument("--probe", type=int, default=50, metavar="N", help="articles timed at each size")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    report: dict[str, Any] = {"sets": [], "add_cost": [], "side_by_side": None}
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
    if args.side_by_side:
        report["side_by_side"] = result = side_by_side()
        if not args.json:
            print(
                f"side by side (ACLED): {result['records']} distinct events in {result['lead_clusters']} "
                f"lead-event clusters, the largest of {result['largest_cluster']}; B-cubed precision "
                f"{result['bcubed_precision']:.3f} (1.0: none merged)",
                flush=True,
            )
    if args.sizes:
        if not args.json:
            print(f"add cost, {args.probe} single-article adds at each size (corpus-reuters.jsonl):")
        report["add_cost"] = add_cost(args.sizes, args.probe)
        if not args.json and len(report["add_cost"]) > 1:
            costs = [r["mean_s"] for r in report["add_cost"]]
            relative = [r["relative"] for r in report["add_cost"]]
            print(
                f"  largest / smallest mean: {max(costs) / min(costs):.2f}; largest / smallest ratio to "
                f"the reference index: {max(relative) / min(relative):.2f} (target: within 2)"
            )
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
