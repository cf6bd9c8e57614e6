"""A pipeline of your own: EmbeddingIndexer and FaissRetriever used directly, without NewsIndex.

Articles are read with load_articles, split and embedded by EmbeddingIndexer, and their passage
vectors are kept in a FaissRetriever under integer ids of our choosing. A query vector from
EmbeddingIndexer.embed_query is searched, once over everything and once restricted to some
articles with allowed_ids (the filter runs inside FAISS). Finally the retriever is saved and
loaded back in a temporary directory.

Run from anywhere:  python examples/custom_pipeline.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from newsindex import EmbeddingIndexer, FaissRetriever, load_articles

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def main() -> None:
    articles = load_articles(SEEDS)  # the README is skipped on purpose, not an error
    indexer = EmbeddingIndexer()  # the default model, loaded on first use
    embedded = indexer.embed(articles)

    # Our own bookkeeping: passage id -> (article, passage). Ids can be any distinct int64.
    retriever = FaissRetriever(indexer.dim)
    owners = {}
    next_id = 1
    for item in embedded:
        ids = np.arange(next_id, next_id + len(item.passages))
        retriever.add(ids, item.vectors)
        for passage_id, passage in zip(ids.tolist(), item.passages, strict=True):
            owners[passage_id] = (item.article, passage)
        next_id += len(item.passages)
    print(f"{len(articles)} articles -> {len(retriever)} passage vectors of dimension {retriever.dim}")

    def show(scores: np.ndarray, ids: np.ndarray) -> None:
        seen = set()
        for score, passage_id in zip(scores[0], ids[0], strict=True):
            if passage_id < 0:
                continue  # padding: fewer results than asked for
            article, passage = owners[int(passage_id)]
            if article.id in seen:
                continue  # one line per article: keep its best passage only
            seen.add(article.id)
            text = " ".join(passage.text(article.body).split())[:70]
            print(f"  {score:.3f}  passage {passage.seq} of {article.id}: {text}...")

    query = indexer.embed_query("flooding displaces thousands of people")
    print("\nAll articles:")
    show(*retriever.search(query, 6))

    # Restrict to articles published in February 2026: collect their passage ids, hand them to FAISS.
    february = [
        pid for pid, (article, _) in owners.items() if article.published and article.published.month == 2
    ]
    print(f"\nOnly February articles ({len(february)} passages allowed):")
    show(*retriever.search(query, 4, allowed_ids=february))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "passages.faiss"
        retriever.save(path)
        loaded = FaissRetriever.load(path, dim=indexer.dim)
        same = np.array_equal(loaded.search(query, 5)[1], retriever.search(query, 5)[1])
        print(f"\nSaved {path.stat().st_size:,} bytes, loaded {len(loaded)} vectors; same results: {same}")


if __name__ == "__main__":
    main()
