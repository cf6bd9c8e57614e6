"""The event rules with and without their literal screen: same results, and the time each takes.

The screen (``newsindex/events/screen.py``) skips the trigger and date patterns that cannot match a
clause. This runs, on real clauses, (1) the trigger rules, (2) the date rules and (3) the whole
extraction with a hashing embedder in place of the model (so the rules are all that is timed), once
with the screen and once with every pattern run, and checks that the outputs are equal.

    .venv/bin/python benchmarks/rule_screen.py [--articles 2500]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from _common import ROOT, data_file

from newsindex import Article, load_articles
from newsindex.events import classify, dates
from newsindex.events.classify import EventTyper
from newsindex.events.pipeline import EventExtractor
from newsindex.events.text import split_clauses, split_sentences

sys.path.insert(0, str(ROOT / "tests"))
from conftest import HashingEmbedder  # the tests' deterministic embedder, found above

SETS = ("topics-bbc.jsonl", "corpus-reuters.jsonl", "events-g5w1h.jsonl", "events-basil.jsonl")


class _EveryPattern:
    """A screen that keeps every pattern: the rules as they ran before the screen."""

    def __init__(self, patterns: list[Any]) -> None:
        self.size = len(patterns)

    def candidates(self, text: str) -> list[int]:
        return list(range(self.size))


@contextlib.contextmanager
def unscreened() -> Iterator[None]:
    saved = classify.LiteralScreen, dates.LiteralScreen
    classify.LiteralScreen = dates.LiteralScreen = _EveryPattern  # type: ignore[assignment, misc]
    classify._default_screen.cache_clear()
    dates._rule_screen.cache_clear()
    try:
        yield
    finally:
        classify.LiteralScreen, dates.LiteralScreen = saved
        classify._default_screen.cache_clear()
        dates._rule_screen.cache_clear()


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = run()
    return out, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2500, help="articles per data set, at most")
    args = parser.parse_args()
    articles: list[Article] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # records without a body are skipped on purpose
        for name in SETS:
            articles += load_articles(data_file(name), on_error="skip")[: args.articles]
    clauses = [
        (c.text, a.published) for a in articles for s in split_sentences(a.body) for c in split_clauses(s)
    ]
    sample = articles[:150] + articles[-300:]  # BBC articles, and the two gold event sets

    def triggers() -> list[Any]:
        return [classify.match_triggers(text) for text, _ in clauses]

    def days() -> list[Any]:
        return [dates.event_date(text, published) for text, published in clauses]

    def extraction(chosen: list[Article] = sample) -> list[Any]:
        extractor = EventExtractor(EventTyper(HashingEmbedder()))
        extractor.typer.classify(["warm up"])  # reads the taxonomy and builds the typer's screen
        started = time.perf_counter()
        found = extractor.extract_with_vectors(chosen)
        timings.append(time.perf_counter() - started)
        return [[m.model_dump_json() for m, _ in per_article] for per_article in found]

    # Gazetteers, caches and compiled patterns are loaded once, before anything is timed.
    timings: list[float] = []
    extraction(sample[:40])
    with unscreened():
        extraction(sample[:40])

    print(f"{len(articles):,} articles, {len(clauses):,} clauses; extraction on {len(sample)} articles")
    print("| check | same output | without the screen | with it | ratio |")
    print("|---|---|---|---|---|")
    for label, run in (
        ("trigger rules", triggers),
        ("date rules", days),
        ("extraction, rules only", extraction),
    ):
        timings.clear()
        screened, fast = timed(run)
        with unscreened():
            plain, slow = timed(run)
        if timings:  # the extraction times itself, leaving out making the typer
            fast, slow = timings
        print(f"| {label} | {screened == plain} | {slow:.1f} s | {fast:.1f} s | {fast / slow:.2f} |")


if __name__ == "__main__":
    main()
