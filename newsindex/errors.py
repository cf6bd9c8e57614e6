"""The exceptions newsindex raises.

Every error derives from one root, so ``except NewsIndexError`` catches all of them::

    NewsIndexError
    ├── ValidationError          bad input data (names the field and the record)
    ├── IngestError              a file or record could not be read (names the file, line or item)
    ├── ArticleNotFoundError     an unknown article id; also a KeyError
    ├── ConfigurationError       a bad argument or setting (unknown mode, bad filter value, ...)
    ├── DependencyError          an optional package is missing or a dependency failed to load
    ├── EmbeddingError           the embedding model could not be loaded or failed to encode
    │   └── ModelMismatchError   the index was built with another model or dimension
    └── StorageError              problems with the on-disk index
        ├── IndexLockedError     another process holds the writer lock
        ├── ReadOnlyError        a write was attempted through a read-only handle
        ├── CorruptIndexError    a file of the index is damaged or missing (names the file)
        └── StoreError           SQLite failed underneath (the sqlite3 error is kept as __cause__)

Errors coming from dependencies (sqlite3, faiss, torch) are mapped to these at the boundary,
with the original exception kept as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "ArticleNotFoundError",
    "ConfigurationError",
    "CorruptIndexError",
    "DependencyError",
    "EmbeddingError",
    "IndexLockedError",
    "IngestError",
    "ModelMismatchError",
    "NewsIndexError",
    "ReadOnlyError",
    "StorageError",
    "StoreError",
    "ValidationError",
]


class NewsIndexError(Exception):
    """Root of every exception raised by newsindex."""


class ValidationError(NewsIndexError):
    """Input data failed validation; the message names the field and the record."""

    def __init__(self, message: str, *, field: str | None = None, record: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.record = record


class IngestError(NewsIndexError):
    """A file or record could not be read; ``where`` names the file and line or item."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class ArticleNotFoundError(NewsIndexError, KeyError):
    """No article with this id is in the index."""

    def __init__(self, article_id: str) -> None:
        super().__init__(article_id)
        self.article_id = article_id

    def __str__(self) -> str:
        return f"no article with id {self.article_id!r} in the index"


class ConfigurationError(NewsIndexError, ValueError):
    """An argument or setting has a value newsindex cannot use."""


class DependencyError(NewsIndexError):
    """An optional dependency is missing, or a dependency failed to load."""


class EmbeddingError(NewsIndexError):
    """The embedding model could not be loaded or could not encode."""


class ModelMismatchError(EmbeddingError):
    """The index was built with a different embedding model or dimension."""


class StorageError(NewsIndexError):
    """Something is wrong with the on-disk index."""


class IndexLockedError(StorageError):
    """Another process holds the index's writer lock."""


class ReadOnlyError(StorageError):
    """A write was attempted through a handle opened with ``read_only=True``."""


class CorruptIndexError(StorageError):
    """A file of the index is damaged, missing or of an unknown format."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(StorageError):
    """The SQLite store failed; the sqlite3 exception is kept as ``__cause__``."""
