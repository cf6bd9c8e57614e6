"""Ingest a folder (seeds/) and print the AddReport in full, then run a filtered search.

Run from anywhere:  python examples/ingest_folder.py
The index is built in a temporary directory and removed at the end.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from newsindex import AddReport, NewsIndex

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def print_report(title: str, report: AddReport) -> None:
    print(title)
    print(f"  added     {report.added}")
    print(f"  updated   {report.updated}")
    print(f"  unchanged {report.unchanged}")
    print(f"  skipped   {report.skipped}")
    for item in report.skipped_items:
        print(f"    - {item.where}: {item.reason}")
    print(f"  failed    {len(report.failed)}")
    for failure in report.failed:
        print(f"    - {failure.where}: {failure.reason}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "seeds.idx") as ix:

        def progress(done: int, committed: list[tuple[str, str]]) -> None:
            print(f"  ... {done} articles read, {len(committed)} committed in this batch")

        print(f"Ingesting {SEEDS}")
        report = ix.add([SEEDS], progress=progress)
        print_report("First run:", report)

        # Adding the same folder again is an update, and unchanged articles cost nothing.
        again = ix.add([SEEDS])
        print_report("Second run (nothing changed):", again)

        # Records that cannot be added are reported, never fatal: a missing file and a dict
        # without a body are listed in `failed`, beside the skipped README.
        mixed = ix.add([SEEDS / "README.md", SEEDS / "no_such_file.txt", {"title": "No body"}])
        print_report("A mixed batch:", mixed)

        print("\nSearch 'storm damage and power cuts', published in February 2026, English only:")
        hits = ix.search(
            "storm damage and power cuts", k=3, since="2026-02-01", until="2026-02-28", languages="en"
        )
        for hit in hits:
            article = hit.article
            label = article.title or " ".join(hit.passage.split())[:70] + "..."
            print(f"  {hit.rank}. {article.published:%Y-%m-%d} {article.source or '-'}: {label}")


if __name__ == "__main__":
    main()
