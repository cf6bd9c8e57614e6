"""Ingest time of two versions of newsindex, side by side, and whether they find the same events.

Each round runs both versions, one after the other in fresh processes (the order alternates between
rounds, so machine drift cancels): the same articles of ``topics-bbc.jsonl`` go into a new index,
timed from ``add`` to its return with the model already loaded (a few articles are added first).
Then the events of both last indexes are compared: type, sub-type, date, places, articles, and
confidence (to 3 decimals), and all of those but the confidence.

``--other`` is a checkout of the other version, for instance one made with
``git worktree add /tmp/before <revision>``; this checkout is the one the script lies in.
``--backend`` and ``--other-backend`` set ``NEWSINDEX_BACKEND`` for each side; with ``--other-backend``
alone, this checkout is compared with itself on another embedding backend.

    .venv/bin/python benchmarks/ingest_ab.py --other /tmp/before [--articles 300] [--rounds 3]
    .venv/bin/python benchmarks/ingest_ab.py --backend openvino-int8 --other-backend openvino
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


def run(checkout: Path, backend: str | None, articles: int, out: Path) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    if backend:
        env["NEWSINDEX_BACKEND"] = backend
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
    parser.add_argument("--backend", help="NEWSINDEX_BACKEND for this checkout")
    parser.add_argument("--other-backend", help="NEWSINDEX_BACKEND for the other side")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.articles, args.out)
        return
    if args.other is None and args.other_backend is None:
        parser.error("--other or --other-backend is required")
    sides = {"this": (ROOT, args.backend), "other": ((args.other or ROOT).resolve(), args.other_backend)}
    times: dict[str, list[float]] = {"this": [], "other": []}
    last: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            order = ["other", "this"] if round_number % 2 == 0 else ["this", "other"]
            for side in order:
                checkout, backend = sides[side]
                last[side] = run(checkout, backend, args.articles, Path(tmp) / f"{side}.json")
                times[side].append(float(last[side]["s"]))  # type: ignore[arg-type]
                print(f"round {round_number + 1} {side:<5} {times[side][-1]:6.2f} s", flush=True)
    this, other = statistics.median(times["this"]), statistics.median(times["other"])
    print(f"median: this {this:.2f} s, other {other:.2f} s, this / other {this / other:.3f}")
    mine, theirs = last["this"]["events"], last["other"]["events"]
    assert isinstance(mine, list) and isinstance(theirs, list)
    same = sum((Counter(map(json.dumps, mine)) & Counter(map(json.dumps, theirs))).values())
    # The same events apart from their confidence, which moves with the vectors' last digits.
    loose = sum(
        (Counter(json.dumps(e[:5]) for e in mine) & Counter(json.dumps(e[:5]) for e in theirs)).values()
    )
    print(
        f"events: this {len(mine)}, other {len(theirs)}, identical {same}, "
        f"the same but for confidence {loose}"
    )


if __name__ == "__main__":
    main()
