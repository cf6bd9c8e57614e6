"""Search quality on a retrieval set with human relevance judgements: TIME magazine, 1963.

The 423 articles of ``retrieval-time-docs.jsonl`` go into a new index (the whole pipeline, the real
model); each of the 83 queries of ``retrieval-time-queries.jsonl`` (a sentence describing what is
wanted; the 4 with no relevant article are left out) goes through ``ix.search`` in each mode. The
judgements name articles by their position in the collection, counted from 1, not by their ``id``
field: read as ids, the 7 articles judged relevant to query 1 (Diem and the Buddhists) are about
Syria, Britain and others; read as positions, all 7 name both Diem and the Buddhists. Two of the
collection's 425 articles are missing from the file (see ``_position``): the rarer query words are
found in the judged articles under that reading, and not with the positions shifted.
Printed per mode: MAP over the first 100 hits, nDCG@10, recall@10 and p50 time per query, beside two
references computed here from the same texts: one vector per article (title and body, cut at the
model's 256 tokens, exact cosine), as a single-vector store would give, and BM25 over whole articles
(FTS5 in SQLite, ``k1`` 1.2, ``b`` 0.75, the query's terms OR-ed as ``ix.search`` does).

    .venv/bin/python benchmarks/search_quality.py [--k 100] [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import average_precision, data_file

from newsindex import Article, NewsIndex
from newsindex.search import fts_query, query_terms

MODES = ("dense", "lexical", "hybrid")


def load() -> tuple[list[Article], list[tuple[str, set[str]]]]:
    articles = []
    for line in data_file("retrieval-time-docs.jsonl").read_text().splitlines():
        row = json.loads(line)
        articles.append(Article(id=row["id"], title=row.get("title") or None, body=row["text"]))
    queries = []
    for line in data_file("retrieval-time-queries.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["relevant"]:  # a few queries have no relevant article: nothing to measure
            queries.append((row["query"], {articles[_position(int(n))].id for n in row["relevant"]}))
    return articles, queries


#: The judgements number the collection's 425 articles from 1; the file holds 423. Up to the 370th
#: they are the file's first 370 (their rarer query words are in them); from the 380th on, the
#: file's line is two less; no judgement names the 371st to 379th, where the two missing ones lie.
LAST_BEFORE_GAP, FIRST_AFTER_GAP, MISSING = 370, 380, 2


def _position(number: int) -> int:
    """The index in the file of the article judged as the ``number``-th."""
    if number <= LAST_BEFORE_GAP:
        return number - 1
    if number >= FIRST_AFTER_GAP:
        return number - 1 - MISSING
    raise ValueError(f"a judgement names article {number}, which may be one the file lacks")


def ndcg_at(ranked: list[str], relevant: set[str], k: int) -> float:
    gain = sum(1 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return gain / ideal if ideal else 0.0


def scores(rankings: list[list[str]], queries: list[tuple[str, set[str]]]) -> dict[str, float]:
    pairs = list(zip(rankings, queries, strict=True))
    return {
        "map": float(np.mean([average_precision(r, rel) for r, (_, rel) in pairs])),
        "ndcg10": float(np.mean([ndcg_at(r, rel, 10) for r, (_, rel) in pairs])),
        "recall10": float(np.mean([len(set(r[:10]) & rel) / len(rel) for r, (_, rel) in pairs])),
    }


def one_vector_per_article(
    ix: NewsIndex, articles: list[Article], queries: list[str], k: int
) -> list[list[str]]:
    """The single-vector reference: each article encoded once, whole, by sentence-transformers on
    PyTorch, which cuts it at the model's 256 tokens, as a store with one vector per article does."""
    model = ix.indexer.embedder.model  # type: ignore[attr-defined]
    texts = [f"{a.title}\n{a.body}" if a.title else a.body for a in articles]
    docs = np.asarray(model.encode(texts, normalize_embeddings=True, batch_size=32), dtype=np.float32)
    asked = np.asarray(model.encode(queries, normalize_embeddings=True), dtype=np.float32)
    order = np.argsort(-(asked @ docs.T), axis=1)[:, :k]
    return [[articles[i].id for i in row] for row in order.tolist()]


def bm25_over_articles(articles: list[Article], queries: list[str], k: int) -> list[list[str]]:
    """The BM25 reference: the articles in a bare FTS5 table, ranked by its ``bm25()``."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5 (id UNINDEXED, text, tokenize='porter unicode61')")
    db.executemany(
        "INSERT INTO docs VALUES (?, ?)",
        [(a.id, f"{a.title}\n{a.body}" if a.title else a.body) for a in articles],
    )
    out = []
    for query in queries:
        terms = query_terms(query)
        rows = db.execute(
            "SELECT id FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ?", (fts_query(terms), k)
        ).fetchall()
        out.append([r[0] for r in rows])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=100, help="hits per query that MAP is taken over")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="build (or reuse) the index in DIR")
    args = parser.parse_args()
    articles, queries = load()
    texts = [q for q, _ in queries]
    report: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(args.keep or Path(tmp) / "ix") as ix:
        started = time.perf_counter()
        ix.add(articles)  # unchanged articles of a kept index are skipped
        print(
            f"{len(articles)} articles, {len(queries)} queries; ingest {time.perf_counter() - started:.0f} s"
        )
        for mode in MODES:
            ix.search(texts[0], k=args.k, mode=mode)  # warm
            rankings, took = [], []
            for query in texts:
                started = time.perf_counter()
                hits = ix.search(query, k=args.k, mode=mode)
                took.append(time.perf_counter() - started)
                rankings.append([h.article.id for h in hits])
            report[mode] = {**scores(rankings, queries), "p50_ms": 1000 * float(np.median(took))}
        report["one vector per article"] = scores(
            one_vector_per_article(ix, articles, texts, args.k), queries
        )
    report["BM25 over articles"] = scores(bm25_over_articles(articles, texts, args.k), queries)
    print(f"{'':<24} {'MAP':>6} {'nDCG@10':>8} {'R@10':>6} {'p50':>8}")
    for name, row in report.items():
        p50 = f"{row['p50_ms']:.1f} ms" if "p50_ms" in row else ""
        print(f"{name:<24} {row['map']:>6.3f} {row['ndcg10']:>8.3f} {row['recall10']:>6.3f} {p50:>8}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
