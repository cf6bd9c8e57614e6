"""Ingest speed against the model's own limit (issue 2).

In one run, on the same articles: (1) ``NewsIndex.add`` of the JSONL file into a new index, timed
from the call to its return (reading, splitting, encoding, SQLite, FAISS, the saved files); (2) a bare
``SentenceTransformer.encode`` of the very same passage texts, batch size 32; (3) re-adding the
unchanged file (read and parsed again) through a freshly opened handle. The model is loaded before
any timing, so neither side pays for loading it.

    .venv/bin/python benchmarks/ingest_speed.py [--file topics-bbc.jsonl] [--limit N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import data_file

from newsindex import EmbeddingIndexer, NewsIndex, SentenceTransformerEmbedder, load_articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", default="topics-bbc.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N articles")
    args = parser.parse_args()

    source = data_file(args.file)
    articles = load_articles(source)
    if args.limit:
        articles = articles[: args.limit]
    embedder = SentenceTransformerEmbedder()
    model = embedder.model  # load once, outside every timing
    model.encode(["warm up"] * 8)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ix"
        if args.limit:
            # The re-ingest reads a file: one holding just these articles, or it would add the rest.
            source = Path(tmp) / source.name
            source.write_text("".join(a.model_dump_json() + "\n" for a in articles), encoding="utf-8")
        started = time.perf_counter()
        with NewsIndex.open(path, model=embedder) as ix:
            report = ix.add(articles)
        ingest_s = time.perf_counter() - started
        assert report.added == len({a.id for a in articles}), report

        texts = [t for a in articles for t in EmbeddingIndexer(embedder).prepare(a)[1]]
        started = time.perf_counter()
        model.encode(texts, batch_size=32, convert_to_numpy=True, normalize_embeddings=True)
        bare_s = time.perf_counter() - started

        started = time.perf_counter()
        with NewsIndex.open(path) as ix:
            again = ix.add(source)  # from the file, as `newsindex ingest` would: read, parse, compare
        reingest_s = time.perf_counter() - started
        assert again.unchanged == report.added, again

    n = len(articles)
    print(f"corpus: {source.name}, {n} articles, {len(texts)} passages")
    for label, seconds in (("newsindex add", ingest_s), ("bare encode", bare_s)):
        print(
            f"{label + ':':<22}{seconds:8.1f} s  {n / seconds:7.2f} articles/s  "
            f"{len(texts) / seconds:7.2f} passages/s"
        )
    print(f"ratio (newsindex/bare articles/s): {bare_s / ingest_s:.3f}   (target >= 0.85)")
    share = 100 * reingest_s / ingest_s
    print(f"re-ingest unchanged:  {reingest_s:8.2f} s  = {share:.2f}% of the first run (target < 5%)")


if __name__ == "__main__":
    main()
