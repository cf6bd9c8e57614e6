"""Helpers shared by the benchmarks: where the evaluation data lives, timing, printing."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
