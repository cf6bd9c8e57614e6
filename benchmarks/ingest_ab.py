"""Ingest time of two versions of newsindex, side by side, and whether they find the same events.

Each round runs both versions, one after the other in fresh processes (the order alternates between
rounds, so machine drift cancels): the same articles of ``topics-bbc.jsonl`` go into a new index,
timed from ``add`` to its return with the model already loaded (a few articles are added first).
Then the events of both last indexes are compared: type, sub-type, date, places, and confidence.

``--other`` is a checkout of the other version, for instance one made with
``git worktree add /tmp/before <revision>``; this checkout is the one the script lies in.

    .venv/bin/python benchmarks/ingest_ab.py --other /tmp/before [--articles 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import ROOT, data_file

WARM_ARTICLES = 4


def worker(articles: int, out: Path) -> None:
    """Ingest the articles into a new index; write the time and the events to ``out``."""
    import newsindex
    from newsindex import NewsIndex

    rows = [json.loads(line) for line in data_file("topics-bbc.jsonl").read_text().splitlines()[:articles]]
    items = [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in rows]
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "ix") as ix:
        ix.add(items[:WARM_ARTICLES])  # the model loaded and the typing examples embedded
        started = time.perf_counter()
        ix.add(items[WARM_ARTICLES:])
        seconds = time.perf_counter() - started
        events = sorted(
            (
                e.type,
                e.subtype or "",
                str(e.date),
                sorted(loc.name for loc in e.locations),
                sorted(m.article_id for m in e.mentions),
                round(max(m.confidence for m in e.mentions), 3),
            )
            for e in ix.events()
        )
    out.write_text(json.dumps({"code": str(Path(newsindex.__file__).parent), "s": seconds, "events": events}))


def run(checkout: Path, articles: int, out: Path) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    subprocess.run(
        [sys.executable, __file__, "--worker", "--articles", str(articles), "--out", str(out)],
        check=True,
        env=env,
        cwd=checkout,
    )
    result: dict[str, object] = json.loads(out.read_text())
    if Path(str(result["code"])).resolve() != (checkout / "newsindex").resolve():
        sys.exit(f"the worker imported {result['code']}, not the checkout {checkout}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--other", type=Path, help="a checkout of the version to compare with")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.articles, args.out)
        return
    if args.other is None:
        parser.error("--other is required")
    sides = {"this": ROOT, "other": args.other.resolve()}
    times: dict[str, list[float]] = {"this": [], "other": []}
    last: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            order = ["other", "this"] if round_number % 2 == 0 else ["this", "other"]
            for side in order:
                last[side] = run(sides[side], args.articles, Path(tmp) / f"{side}.json")
                times[side].append(float(last[side]["s"]))  # type: ignore[arg-type]
                print(f"round {round_number + 1} {side:<5} {times[side][-1]:6.2f} s", flush=True)
    this, other = statistics.median(times["this"]), statistics.median(times["other"])
    print(f"median: this {this:.2f} s, other {other:.2f} s, this / other {this / other:.3f}")
    mine, theirs = last["this"]["events"], last["other"]["events"]
    assert isinstance(mine, list) and isinstance(theirs, list)
    same = sum((Counter(map(json.dumps, mine)) & Counter(map(json.dumps, theirs))).values())
    print(f"events: this {len(mine)}, other {len(theirs)}, identical {same}")


if __name__ == "__main__":
    main()
