"""Helpers shared by the benchmarks: where the evaluation data lives, the gold event sets, timing,
average precision."""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from newsindex import Article, NewsIndex, load_articles

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("NEWSINDEX_DATA", ROOT.parent / "shared" / "data"))


def data_file(name: str) -> Path:
    path = DATA / name
    if not path.is_file():
        sys.exit(f"missing evaluation data: {path} (set NEWSINDEX_DATA to the shared/data folder)")
    return path


@contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    sink[label] = time.perf_counter() - start


def average_precision(ranked: list[str], relevant: set[str]) -> float:
    """AP of one ranking: mean of precision at each relevant hit, over all relevant items."""
    if not relevant:
        return 0.0
    hits = 0
    total = 0.0
    for position, item in enumerate(ranked, start=1):
        if item in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant)


@dataclass(frozen=True)
class GoldSet:
    """An event set: its articles, each article's gold ``event``, and the articles of each event."""

    articles: list[Article]
    gold: dict[str, object]
    by_event: dict[object, set[str]]

    @property
    def queries(self) -> list[Article]:
        """The articles whose event has other articles: the same-event queries."""
        return [a for a in self.articles if len(self.by_event[self.gold[a.id]]) > 1]


def gold_set(name: str) -> GoldSet:
    """``name``.jsonl from the evaluation data, with its gold events (``metadata["event"]``)."""
    articles = load_articles(data_file(f"{name}.jsonl"))
    gold = {a.id: a.metadata.get("event") for a in articles}
    by_event: dict[object, set[str]] = defaultdict(set)
    for article_id, event in gold.items():
        by_event[event].add(article_id)
    return GoldSet(articles, gold, dict(by_event))


def related_map(
    ix: NewsIndex, gold: GoldSet, mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
) -> float:
    """Same-event MAP of ``ix.related`` over every query of ``gold`` (the whole set ranked each time)."""
    scores = []
    for article in gold.queries:
        hits = ix.related(article.id, k=len(gold.articles) - 1, mode=mode)
        relevant = gold.by_event[gold.gold[article.id]] - {article.id}
        scores.append(average_precision([h.article.id for h in hits], relevant))
    return sum(scores) / len(scores)
