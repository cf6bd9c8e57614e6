"""newsindex: embeddable semantic search over news.

Typed :class:`Article` records, an embedding indexer, a FAISS retriever and an SQLite store behind one
facade, :class:`NewsIndex`::

    from newsindex import NewsIndex

    with NewsIndex.open("news.idx") as ix:
        ix.add(["seeds/"])
        hits = ix.search("drone strikes on energy infrastructure", k=5)

Importing this package loads neither torch nor FAISS; they load when first needed.
"""

from __future__ import annotations

import logging

from ._version import __version__
from .check import CheckReport, Finding, check_index
from .embedding import DEFAULT_MODEL, Embedder, SentenceTransformerEmbedder
from .errors import (
    ArticleNotFoundError,
    ConfigurationError,
    CorruptIndexError,
    DependencyError,
    EmbeddingError,
    IndexLockedError,
    IngestError,
    ModelMismatchError,
    NewsIndexError,
    ReadOnlyError,
    StorageError,
    StoreError,
    ValidationError,
)
from .events import EventExtractor, EventType, Taxonomy, default_taxonomy, extract_events
from .index import NewsIndex
from .indexer import ArticleVectors, EmbeddingIndexer
from .ingest import load_articles
from .models import (
    Actor,
    AddReport,
    Article,
    Casualties,
    Event,
    EventHit,
    EventMention,
    Evidence,
    Failure,
    IndexStats,
    Location,
    Quantity,
    SearchHit,
)
from .passages import Passage
from .vectors import FaissRetriever

__all__ = [
    "DEFAULT_MODEL",
    "Actor",
    "AddReport",
    "Article",
    "ArticleNotFoundError",
    "ArticleVectors",
    "Casualties",
    "CheckReport",
    "ConfigurationError",
    "CorruptIndexError",
    "DependencyError",
    "Embedder",
    "EmbeddingError",
    "EmbeddingIndexer",
    "Event",
    "EventExtractor",
    "EventHit",
    "EventMention",
    "EventType",
    "Evidence",
    "Failure",
    "FaissRetriever",
    "Finding",
    "IndexLockedError",
    "IndexStats",
    "IngestError",
    "Location",
    "ModelMismatchError",
    "NewsIndex",
    "NewsIndexError",
    "Passage",
    "Quantity",
    "ReadOnlyError",
    "SearchHit",
    "SentenceTransformerEmbedder",
    "StorageError",
    "StoreError",
    "Taxonomy",
    "ValidationError",
    "__version__",
    "check_index",
    "default_taxonomy",
    "extract_events",
    "load_articles",
]

# A library leaves logging to the application: a NullHandler, nothing more.
logging.getLogger(__name__).addHandler(logging.NullHandler())
