"""Quickstart: build an index of the sample articles, search it, filter, and look at a hit.

Run from anywhere:  python examples/quickstart.py
The index is built in a temporary directory and removed at the end.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from newsindex import NewsIndex

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def show(hits: list) -> None:
    for hit in hits:
        article = hit.article
        when = article.published.date().isoformat() if article.published else "undated"
        label = article.title or hit.passage[:60].replace("\n", " ") + "..."
        print(f"  {hit.rank}. [{hit.score:.4f}] {when} {article.source or '-'}: {label}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "news.idx") as ix:
        report = ix.add([SEEDS])
        print(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"skipped {report.skipped}, failed {len(report.failed)}"
        )

        query = "drone and missile attack on Ukrainian energy infrastructure"
        print(f"\nSearch: {query!r}")
        hits = ix.search(query, k=3)
        show(hits)

        best = hits[0]
        body = best.article.body
        print(f"\nBest passage of hit 1 (characters {best.passage_start}-{best.passage_end} of {len(body)}):")
        print("  " + " ".join(best.passage.split())[:300] + " ...")
        marked = sorted({body[start:end].lower() for start, end in best.highlights})
        print("  highlighted words:", ", ".join(marked))

        print("\nSearch: 'shelling' published 2026-01-15 to 2026-01-31, lexical mode")
        show(ix.search("shelling", k=5, since="2026-01-15", until="2026-01-31", mode="lexical"))

        print("\nSearch: 'winter sports' from two sources")
        show(ix.search("winter sports", k=3, sources=["Summit Sports Daily", "Ironbark Sports Desk"]))

        stats = ix.stats()
        print(f"\n{stats.articles} articles, {stats.passages} passages, {stats.sources} sources")


if __name__ == "__main__":
    main()
