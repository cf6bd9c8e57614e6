"""``NewsIndex``: the facade that ties the store, the vector index and the embedding indexer together.

On disk, one directory (DESIGN §5): ``store.sqlite`` (the truth), ``vectors.faiss`` (a cache of the
vectors in the store), ``manifest.json`` and ``writer.lock``. An ``add`` commits each batch of articles
in one SQLite transaction (article, passages, vectors, lexical entries together); the FAISS file is
brought up to date from the store whenever it lags behind, so a crash at any instant leaves an index
that reopens consistent.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from types import TracebackType
from typing import Any, Literal, ParamSpec, Self, TypeVar

import numpy as np
import numpy.typing as npt

from ._version import __version__
from .embedding import Embedder, SentenceTransformerEmbedder, resolve_model
from .errors import (
    ArticleNotFoundError,
    ConfigurationError,
    CorruptIndexError,
    IngestError,
    ModelMismatchError,
    NewsIndexError,
    ReadOnlyError,
)
from .events.merge import EventPool, MergePolicy, Newcomer, lead_terms
from .events.pipeline import EventExtractor
from .events.reconcile import build_event
from .events.taxonomy import default_taxonomy
from .indexer import EmbeddingIndexer
from .ingest import ReadSkip, iter_load, make_article
from .ingest.base import failure_from
from .lock import WriterLock
from .manifest import (
    FORMAT_VERSION,
    LOCK_FILE,
    MANIFEST_FILE,
    STORE_FILE,
    VECTORS_FILE,
    manifest_content,
    read_manifest,
    write_manifest,
)
from .models import (
    AddReport,
    Article,
    Event,
    EventHit,
    EventMention,
    Failure,
    IndexStats,
    SearchHit,
    body_limit,
)
from .rwlock import ReadWriteLock
from .search import RRF_K, Searcher, fts_query, query_terms
from .store import ArticleFilter, PlaceQuery, Store, storage_error
from .vectorfile import VectorFileState, read_vector_file, write_vector_file
from .vectors import FaissRetriever, build_vector_index, unit, unit_mean, vectors_due_rebuild

__all__ = ["AddProgress", "NewsIndex"]

log = logging.getLogger(__name__)


#: Articles per committed batch: big enough for well-filled encoding batches, small enough that
#: progress shows and a crash loses little work.
BATCH_ARTICLES = 64

#: The vector file is rewritten once the vectors changed since it was last written reach this many,
#: or this fraction of the index if that is more (checked after each committed batch), and always
#: on ``close``. The fraction keeps the cost of rewriting proportional to the work done; the store
#: holds every vector, so what the file lacks costs only a catch-up on the next open.
SAVE_AFTER_VECTORS = 4096
SAVE_AFTER_FRACTION = 0.05


#: Called after each committed batch with (articles processed so far, committed ids and what
#: happened to each: "added" or "updated").
AddProgress = Callable[[int, list[tuple[str, str]]], None]

DateLike = date | datetime | str | None
P = ParamSpec("P")
R = TypeVar("R")
FloatArray = npt.NDArray[np.float32]


def _mapped_sqlite_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Map sqlite3 errors raised while rows are read (after ``Store.execute`` returned) to ours."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            index = args[0]
            assert isinstance(index, NewsIndex)
            raise storage_error(index.path / STORE_FILE, exc) from exc

    return wrapper


def _holding(
    lock: Callable[[NewsIndex], contextlib.AbstractContextManager[object]],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a method under one of the handle's locks, ``lock(index)``, after the fork check (which
    comes first: a lock another thread held at a fork stays held in the child)."""

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            index = args[0]
            assert isinstance(index, NewsIndex)
            index._check_process()
            with lock(index):
                return method(*args, **kwargs)

        return wrapper

    return decorate


def _read_lock(index: NewsIndex) -> contextlib.AbstractContextManager[object]:
    return index._rw.reading()


def _writer_mutex(index: NewsIndex) -> contextlib.AbstractContextManager[object]:
    return index._write_mutex


#: Reading methods share the handle's read lock (see ``NewsIndex._rw``).
_reading = _holding(_read_lock)
#: Writing methods run alone among the handle's writers (see ``NewsIndex._write_mutex``).
_one_writer = _holding(_writer_mutex)


def _recorded_recall(manifest: Path) -> float | None:
    """The recall@10 measured when the approximate index was built, as the manifest records it."""
    try:
        recall = (read_manifest(manifest) or {}).get("vector_search", {}).get("recall_at_10")
    except (CorruptIndexError, AttributeError):
        return None
    return float(recall) if isinstance(recall, int | float) else None


def _bound(value: DateLike, name: str, *, upper: bool) -> datetime | None:
    """A filter bound in UTC. A date D means 00:00 UTC of D as ``since`` and all of D as ``until``
    (returned as the exclusive bound D+1 00:00)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise ConfigurationError(
                f"{name}={text!r} is not a date (YYYY-MM-DD) or an ISO datetime"
            ) from exc
    try:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=UTC)
            return moment + timedelta(microseconds=1) if upper else moment
        if isinstance(value, date):
            day = datetime.combine(value, time(0, 0), tzinfo=UTC)
            return day + timedelta(days=1) if upper else day
    except OverflowError:
        return None  # an upper bound at the end of the calendar bounds nothing
    raise ConfigurationError(f"{name} must be a date, a datetime or a string, not {type(value).__name__}")


def _merge_vectors(
    mentions: list[tuple[EventMention, FloatArray]], article_vector: FloatArray | None
) -> list[tuple[str, FloatArray]]:
    """What each of an article's mentions is merged by: the lead mention stands for the whole article
    (its mean passage vector), the others for the clauses that report them."""
    return [
        (mention.id, article_vector if seq == 0 and article_vector is not None else clause_vector)
        for seq, (mention, clause_vector) in enumerate(mentions)
    ]


#: The store's ``meta`` key that lists the engines (a JSON list).
ENGINES_KEY = "engines"


def _engines(value: str | None) -> list[str]:
    """The recorded engines: a JSON list of strings (anything else reads as none recorded)."""
    try:
        engines = json.loads(value) if value else []
    except ValueError:
        return []
    return [e for e in engines if isinstance(e, str)] if isinstance(engines, list) else []


def _report_order(article: Article) -> tuple[bool, float, str]:
    return (
        article.published is None,
        article.published.timestamp() if article.published else 0.0,
        article.id,
    )


def _place_queries(value: str | Iterable[str] | None) -> tuple[PlaceQuery, ...]:
    """Each place asked for, with the names it goes by in the gazetteer ("Kiev" also asks for "Kyiv")."""
    names_asked = _names(value)
    if not names_asked:
        return ()
    from .events.places import country_code, find_places

    queries = []
    for name in names_asked:
        names = {name.strip()}
        country = country_code(name.strip())
        for place in find_places(name.strip()):
            names.add(place.location.name)
        queries.append(PlaceQuery(names=tuple(sorted(names)), country=country))
    return tuple(queries)


def _event_types(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Known type or sub-type names; an unknown one is a usage error, not an empty result."""
    names = _names(value)
    taxonomy = default_taxonomy()
    known = set(taxonomy.names) | {sub for t in taxonomy for sub in t.subtypes}
    for name in names:
        if name not in known:
            raise ConfigurationError(f"unknown event type {name!r}; known types: {', '.join(taxonomy.names)}")
    return names


def _names(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if v)


class NewsIndex:
    """A news index in one directory. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use NewsIndex.open(path) to open or create an index")

    # -- opening and closing ----------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        model: str | os.PathLike[str] | Embedder | None = None,
        read_only: bool = False,
        lock_timeout: float = 0.0,
        batch_size: int = 32,
        max_body_chars: int | None = None,
    ) -> NewsIndex:
        """Open the index at ``path``, creating it (and the directory) when missing.

        ``model`` is a sentence-transformers name or path, or an :class:`Embedder`; by default the
        model the index was built with (DESIGN §6 for a new index). A different model than the
        index's raises :class:`ModelMismatchError`. ``read_only`` opens without the writer lock (any
        number of readers may run beside one writer); ``lock_timeout`` is how long to wait for the lock.
        """
        self = cls.__new__(cls)
        # Absolute, so that a later chdir cannot send its files, or its second connections, elsewhere.
        self._init(Path(path).absolute(), model, read_only, lock_timeout, batch_size, max_body_chars)
        return self

    @_mapped_sqlite_errors
    def _init(
        self,
        path: Path,
        model: str | os.PathLike[str] | Embedder | None,
        read_only: bool,
        lock_timeout: float,
        batch_size: int,
        max_body_chars: int | None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        body_limit(max_body_chars)  # a bad limit is a usage error now, not a failure of every record
        self.max_body_chars = max_body_chars
        self._closed = True
        self._lock: WriterLock | None = None
        # Threads sharing this handle share one SQLite connection, so a search would see an add's
        # transaction half done: reads take this lock shared, an add's commit takes it alone.
        self._rw = ReadWriteLock()
        # One add, delete or close at a time: each acts on what it read before taking ``_rw`` (the
        # ids the store holds, the vectors a rebuild starts from), which another writer thread would
        # change meanwhile. Reentrant: a progress callback may add. SQLite allows one writer anyway.
        self._write_mutex = threading.RLock()
        self._refresh_lock = threading.Lock()
        # The process that opened the handle: a forked child must not use it (see _check_process).
        self._pid = os.getpid()
        store_path = path / STORE_FILE
        if read_only:
            if not store_path.is_file():
                raise CorruptIndexError(str(path), "no index here (store.sqlite is missing)")
        else:
            if path.exists() and not path.is_dir():
                raise ConfigurationError(f"{path} is a file, not an index directory")
            if path.is_dir() and not store_path.exists() and any(path.iterdir()):
                raise ConfigurationError(
                    f"{path} holds other files and no index; choose an empty or new directory"
                )
            path.mkdir(parents=True, exist_ok=True)
            self._lock = WriterLock(path / LOCK_FILE, timeout=lock_timeout)
            for leftover in path.glob("*.tmp"):  # from a save a crash interrupted; we hold the lock
                leftover.unlink(missing_ok=True)
        store: Store | None = None
        try:
            store = self._store = Store(store_path, read_only=read_only)
            self._open_store(model, batch_size)
        except BaseException:
            if store is not None:
                with contextlib.suppress(Exception):  # the error to report is the one raised above
                    store.close()
            if self._lock is not None:
                self._lock.release()
            raise
        self._closed = False

    def _open_store(self, model: str | os.PathLike[str] | Embedder | None, batch_size: int) -> None:
        store = self._store
        embedder: Embedder | None = None
        explicit: str | os.PathLike[str] | None = None
        if isinstance(model, Embedder):
            embedder = model
        else:
            explicit = model
        if not store.has_schema():
            if self.read_only:
                raise CorruptIndexError(str(store.path), "is not a newsindex store")
            if embedder is None:
                embedder = SentenceTransformerEmbedder(explicit, batch_size=batch_size)
            store.create_schema(
                {
                    "format_version": str(FORMAT_VERSION),
                    "model": embedder.name,
                    "dim": str(embedder.dim),
                    "metric": "cosine",
                    "created_with": __version__,
                }
            )
        meta = store.meta()
        missing = {"format_version", "model", "dim"} - meta.keys()
        if missing:
            raise CorruptIndexError(
                str(store.path), f"its settings lack {', '.join(sorted(missing))}; rebuild the index"
            )
        version = int(meta["format_version"])
        if version > FORMAT_VERSION:
            raise CorruptIndexError(
                str(self.path),
                f"was written in format {version} by a newer newsindex; this is {__version__} "
                f"(format {FORMAT_VERSION}): upgrade newsindex to open it",
            )
        self.model_name = meta["model"]
        self.dim = int(meta["dim"])
        if embedder is None:
            wanted = explicit if explicit is not None else os.environ.get("NEWSINDEX_MODEL") or None
            if wanted is not None and resolve_model(wanted)[0] != self.model_name:
                raise ModelMismatchError(
                    f"{self.path} was built with the model {self.model_name!r}, not "
                    f"{resolve_model(wanted)[0]!r}; open it without model= or rebuild it"
                )
            embedder = SentenceTransformerEmbedder(self.model_name, batch_size=batch_size)
            # Queries encoded as the index's vectors were: an index with vectors and no engine
            # recorded was written before int8 existed.
            engines = self.engines
            if engines or store.has_passages():
                embedder.prefer_int8(engines[:1] == ["openvino-int8"])
        elif embedder.name != self.model_name:
            raise ModelMismatchError(
                f"{self.path} was built with the model {self.model_name!r}, not {embedder.name!r}"
            )
        if embedder.dim != self.dim:
            raise ModelMismatchError(
                f"{self.path} holds {self.dim}-dimensional vectors; the model {embedder.name!r} "
                f"gives {embedder.dim}"
            )
        self.indexer = EmbeddingIndexer(embedder, batch_size=batch_size)
        self._extractor: EventExtractor | None = None
        self._pool: EventPool | None = None
        #: How mentions are merged into events (one default for all collections).
        self.merge_policy = MergePolicy()
        if version < FORMAT_VERSION:
            self._upgrade(version)
        if not self.read_only:
            added = store.add_missing_indexes()
            if added:
                log.info("%s: added the store indexes %s", self.path, ", ".join(added))
        self._vectors = self._load_vectors()
        self._searcher = Searcher(store, self._vectors, self.indexer)
        self._data_version = store.data_version()
        if not self.read_only:
            if self._file_state is not None and self._file_state.size < 0:
                # Written before checksums were recorded: write it again, now with its checksum.
                self._dirty = True
                self._save()
            self._write_manifest()

    def _upgrade(self, version: int) -> None:
        """Bring an index of an older format up to this one, in place, after a backup of the store."""
        if self.read_only:
            raise CorruptIndexError(
                str(self.path),
                f"is in format {version}, older than this newsindex's format {FORMAT_VERSION}; open it "
                "once for writing (e.g. NewsIndex.open(path)) to upgrade it in place, keeping a backup",
            )
        backup = self.path / f"{STORE_FILE}.format{version}.bak"
        if not backup.exists():
            self._store.backup(backup)
        log.info(
            "upgrading %s from format %d to %d (backup in %s)", self.path, version, FORMAT_VERSION, backup
        )
        store = self._store
        keep_terms = self.merge_policy.event_terms
        if version < 2:
            self._extract_stored_events()
        # Format 3: events keep the words of their lead reports. Added and filled in one transaction,
        # so a crash leaves format 2 as it was.
        with store.transaction():
            store.add_event_terms_column()
            if version == 2:
                for event_id in store.all_event_ids():
                    store.rebuild_event(event_id, self.dim, keep_terms=keep_terms)
            store.set_meta("format_version", str(FORMAT_VERSION))
        self._pool = None

    def _extract_stored_events(self) -> None:
        """Format 1 → 2: the event tables are added and every stored article's events extracted, in
        committed batches. A crash part-way leaves format 1 recorded, so the next open redoes it."""
        store = self._store
        store.create_schema({})  # adds the tables format 1 lacked
        rids = store.all_rids()
        pool = self._event_pool()
        keep_terms = self.merge_policy.event_terms
        for pos in range(0, len(rids), BATCH_ARTICLES):
            chunk = rids[pos : pos + BATCH_ARTICLES]
            articles = store.articles(chunk)
            found = self.extractor.extract_with_vectors([articles[rid] for rid in chunk])
            stored = store.passage_vectors_of(chunk, self.dim)
            try:
                with store.transaction():
                    touched = []
                    for rid in chunk:
                        touched += store.delete_mentions(rid, self.dim, keep_terms=keep_terms)
                    self._reload_events(pool, touched)
                    meaning = {rid: unit_mean(stored[rid][1]) if rid in stored else None for rid in chunk}
                    pool.expect(
                        pair
                        for rid, mentions in zip(chunk, found, strict=True)
                        for pair in _merge_vectors(mentions, meaning[rid])
                    )
                    for rid, mentions in zip(chunk, found, strict=True):
                        self._record_events(pool, rid, articles[rid], mentions, meaning[rid])
            except BaseException:
                self._pool = None
                raise

    # -- events: merging ----------------------------------------------------------------------------

    def _event_pool(self) -> EventPool:
        """The events new mentions are compared with (read from the store on first use)."""
        if self._pool is None:
            pool = EventPool(self.dim, self.merge_policy)
            pool.load(self._store.event_states(self.dim))
            self._pool = pool
        return self._pool

    def _reload_events(self, pool: EventPool, event_ids: Iterable[str]) -> None:
        """Bring events the store has just rebuilt (after a delete or an update) into the pool."""
        wanted = list(dict.fromkeys(event_ids))
        if not wanted:
            return
        present = {state.id: state for state in self._store.event_states(self.dim, wanted)}
        for event_id in wanted:
            if event_id in present:
                pool.put(present[event_id])
            else:
                pool.drop(event_id)

    def _record_events(
        self,
        pool: EventPool,
        rid: int,
        article: Article,
        mentions: list[tuple[EventMention, FloatArray]],
        article_vector: FloatArray | None,
    ) -> None:
        """Merge an article's mentions into events and store them (inside the caller's transaction).

        The lead mention stands for the whole article, so its vector is the article's; the others are
        represented by the clauses that report them.
        """
        report_ts = (article.published or datetime.now(UTC)).timestamp()
        joined: set[str] = set()
        terms = lead_terms(article.title, article.body) if mentions else None
        for seq, ((mention, _), (_, vector)) in enumerate(
            zip(mentions, _merge_vectors(mentions, article_vector), strict=True)
        ):
            newcomer = Newcomer(
                id=mention.id,
                vector=vector,
                report_ts=report_ts,
                day=mention.date if mention.date_precision == "day" else None,
                type=mention.type,
                lead=seq == 0,
                terms=terms if seq == 0 else None,
            )
            event_id = pool.assign(newcomer, exclude=joined)
            joined.add(event_id)
            self._store.insert_mention(rid, seq, mention, event_id, vector, report_ts)
            self._store.save_event(pool.events[event_id])

    def _load_vectors(self) -> FaissRetriever:
        """The vector index from its file (verified), caught up with the store; rebuilt when missing."""
        file = self.path / VECTORS_FILE
        self._file_state: VectorFileState | None = None
        if file.is_file():
            vectors, self._file_state = read_vector_file(
                file, self.dim, lambda: read_manifest(self.path / MANIFEST_FILE)
            )
        else:
            vectors = FaissRetriever(self.dim)
        self._tombstone_seq = self._file_state.tombstone_seq if self._file_state else 0
        self._dirty = False
        self._unsaved = 0
        self._recall = _recorded_recall(self.path / MANIFEST_FILE) if vectors.kind != "flat" else 1.0
        with self._store.snapshot():
            ceiling = self._store.passage_id_ceiling()
            if vectors.max_id() > ceiling:
                raise CorruptIndexError(
                    str(file),
                    f"holds passage ids up to {vectors.max_id()}, but the store has never assigned one "
                    f"above {ceiling}: run `newsindex check --index {self.path} --repair` to rebuild it "
                    "from the store",
                )
            if vectors.kind != "flat":
                # An approximate index keeps removed vectors (masked): those the tombstones up to
                # the file's name (ids are never reused); catching up masks the later ones.
                dead = self._store.tombstoned_through(self._tombstone_seq)
                # isin picks a lookup table over the ids' range: milliseconds at a million ids, where
                # intersect1d sorts them (about a second).
                vectors.mask(dead[np.isin(dead, vectors.stored_ids())])
            self._catch_up(vectors)
            passages = self._store.count("passages")
        if len(vectors) != passages:
            raise CorruptIndexError(
                str(file),
                f"holds {len(vectors)} vectors where the store has {passages} passages: run "
                f"`newsindex check --index {self.path} --repair` to rebuild it from the store",
            )
        return vectors

    def _catch_up(self, vectors: FaissRetriever) -> None:
        """Apply what the store committed that ``vectors`` does not reflect yet."""
        self._tombstone_seq, removed = self._store.tombstones_after(self._tombstone_seq)
        if len(removed):
            vectors.remove(removed)
            self._dirty = True
        ids, matrix = self._store.vectors_after(vectors.max_id(), self.dim)
        if len(ids):
            vectors.add(ids, matrix)
            self._dirty = True

    def _refresh(self) -> None:
        """See what other processes committed since the last call (read-only handles)."""
        self._check_open()
        if self._store.data_version() == self._data_version:
            return
        # Readers run side by side: one catches up while the others wait, or two would add the same
        # vectors. The version moves only once the catch-up succeeded, so a failed one is retried.
        with self._refresh_lock:
            version = self._store.data_version()
            if version != self._data_version:
                self._catch_up(self._vectors)
                self._data_version = version

    def _write_manifest(self, vector_file: VectorFileState | None = None) -> None:
        """Rewrite the manifest from the store; ``vector_file`` is a vector file about to be put in place."""
        states = [s for s in (vector_file, self._file_state) if s is not None]
        write_manifest(
            self.path / MANIFEST_FILE,
            manifest_content(
                model=self.model_name,
                dim=self.dim,
                vector_index=self._vectors.kind,
                counts={
                    "articles": self._store.count("articles"),
                    "passages": self._store.count("passages"),
                },
                vector_states=states,
                vector_search=self._vector_search(),
                engines=self.engines,
            ),
        )

    @property
    def engines(self) -> list[str]:
        """The engines that computed this index's vectors, in order of first use (see
        ``SentenceTransformerEmbedder.engine``); empty before the first add, for an index written
        before they were recorded, and for embedders that do not say."""
        self._check_process()
        with self._rw.reading():  # not an add's engine before its commit
            return self._stored_engines()

    def _stored_engines(self) -> list[str]:
        return _engines(self._store.meta().get(ENGINES_KEY))

    def _record_engine(self) -> None:
        """Add the embedder's engine to the store's list (inside the add's transaction)."""
        engine = getattr(self.indexer.embedder, "engine", None)
        engines = self._stored_engines()
        if isinstance(engine, str) and engine not in engines:
            self._store.set_meta(ENGINES_KEY, json.dumps([*engines, engine]))

    def _vector_search(self) -> dict[str, Any]:
        """How the vector index searches, for the manifest (and ``stats``)."""
        return {**self._vectors.search_settings(), "recall_at_10": self._recall}

    def _save(self, *, force: bool = True) -> None:
        """Write the vector file, recorded in the manifest (see :mod:`newsindex.vectorfile`).

        Unless ``force``d, the file is written only once enough vectors changed
        (``SAVE_AFTER_VECTORS``, ``SAVE_AFTER_FRACTION``): rewriting the whole file after every
        small ``add`` would make each add cost as much as the index is large. The store holds every
        committed vector, so a file that lags is caught up on the next open, after a crash too.
        """
        if self.read_only or not self._dirty:
            return
        if not force and self._unsaved < max(SAVE_AFTER_VECTORS, SAVE_AFTER_FRACTION * len(self._vectors)):
            return
        self._fit_vector_index()
        self._file_state = write_vector_file(
            self._vectors, self.path / VECTORS_FILE, self._tombstone_seq, self._write_manifest
        )
        self._dirty = False
        self._unsaved = 0

    def _fit_vector_index(self) -> None:
        """Switch to an approximate index once the exact one grows large, and rebuild an approximate
        one that carries too many removed vectors. Readers are never blocked: each process searches
        its own copy, and picks up the new file when it next opens the index."""
        vectors = self._vectors
        if not vectors_due_rebuild(vectors):
            return
        started = monotonic()
        ids, matrix = self._store.vectors_after(0, self.dim)
        vectors, recall = build_vector_index(ids, matrix)
        # Built outside ``_rw`` (searches go on; no other writer runs, see ``_write_mutex``), swapped
        # in under it, so that a search sees the old index or the new one, not a mix of both.
        with self._rw.writing():
            self._vectors, self._recall = vectors, recall
            self._searcher.vectors = vectors
            self._tombstone_seq = self._store.last_tombstone()
        log.info(
            "%s: built an %s index of %d vectors in %.0f s (%s, recall@10 %.3f)",
            self.path,
            self._vectors.kind.upper(),
            len(ids),
            monotonic() - started,
            self._vectors.search_settings(),
            self._recall,
        )

    @_mapped_sqlite_errors
    def close(self) -> None:
        """Save what is pending and release the writer lock. Closing twice is harmless, and so is
        closing in a forked child a handle its parent opened: it does nothing there (the parent's
        handle stays as it is)."""
        if self._pid != os.getpid():
            return
        self._close()

    @_one_writer
    def _close(self) -> None:
        # Searches in other threads finish first; later calls find the handle closed.
        with self._rw.writing():
            if self._closed:
                return
            try:
                self._save()
            finally:
                self._closed = True
                self._store.close()
                if self._lock is not None:
                    self._lock.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("read-only" if self.read_only else "open")
        return f"<NewsIndex {str(self.path)!r} {state}>"

    def _check_process(self) -> None:
        """Refuse a handle inherited across ``fork``: its SQLite connection must not be used in two
        processes, the writer lock is the parent's, and a lock another thread held at the fork stays
        held in the child for good. Checked before any lock is taken."""
        if self._pid != os.getpid():
            raise NewsIndexError(
                f"the index {self.path} was opened in process {self._pid}, not in this one "
                f"({os.getpid()}, a forked child): open it again here with NewsIndex.open"
            )

    def _check_open(self) -> None:
        if self._closed:
            raise NewsIndexError(f"the index {self.path} is closed")

    def _check_writable(self) -> None:
        self._check_open()
        if self.read_only:
            raise ReadOnlyError(f"{self.path} was opened read-only")

    # -- adding -----------------------------------------------------------------------------------

    @_mapped_sqlite_errors
    @_one_writer
    def add(
        self,
        items: Any,
        *,
        on_error: Literal["skip", "raise"] = "skip",
        format: str = "auto",
        progress: AddProgress | None = None,
    ) -> AddReport:
        """Add articles from paths (files or directories), :class:`Article` objects or dicts.

        A ``str`` or ``Path`` is always a path. With ``on_error="skip"`` a bad record is listed in
        the report's ``failed`` and the others are added; ``"raise"`` stops at the first one with
        :class:`IngestError` (batches committed before it stay). Re-adding an unchanged article
        costs no encoding; a changed one is re-embedded and replaces the old version.
        """
        self._check_writable()
        if on_error not in ("skip", "raise"):
            raise ConfigurationError(f"on_error must be 'skip' or 'raise', not {on_error!r}")
        report = AddReport()
        batch: dict[str, Article] = {}
        seen = 0
        try:
            for outcome in self._outcomes(items, format):
                if isinstance(outcome, Failure):
                    if on_error == "raise":
                        raise IngestError(outcome.where, outcome.reason)
                    report.failed.append(outcome)
                    continue
                if isinstance(outcome, ReadSkip):
                    report.skipped += 1
                    report.skipped_items.append(Failure(where=outcome.where, reason=outcome.reason))
                    continue
                if outcome.id in batch:  # the same article twice: the later one must win
                    seen += self._flush(list(batch.values()), report, seen, progress)
                    batch = {}
                batch[outcome.id] = outcome
                if len(batch) >= BATCH_ARTICLES:
                    seen += self._flush(list(batch.values()), report, seen, progress)
                    batch = {}
            if batch:
                self._flush(list(batch.values()), report, seen, progress)
        finally:
            self._save(force=False)
        return report

    def _outcomes(self, items: Any, format: str) -> Iterator[Article | Failure | ReadSkip]:
        if isinstance(items, str | os.PathLike | Article | dict):
            items = [items]
        try:
            iterator = iter(items)
        except TypeError:
            raise ConfigurationError(
                f"add() takes paths, Articles or dicts (or a list of them), not {type(items).__name__}"
            ) from None
        for number, item in enumerate(iterator, start=1):
            if isinstance(item, str | os.PathLike):
                yield from iter_load([item], format, max_body_chars=self.max_body_chars)
            elif isinstance(item, Article):
                yield item
            elif isinstance(item, dict):
                # The same field-name mapping as JSON files get ("text" → body, "headline" → title...).
                try:
                    yield make_article(item, where=f"item {number}", max_body_chars=self.max_body_chars)
                except NewsIndexError as exc:
                    yield failure_from(exc, f"item {number}")
            else:
                yield Failure(
                    where=f"item {number}",
                    reason=f"{type(item).__name__} value is neither a path, an Article nor a dict",
                )

    def _flush(self, batch: list[Article], report: AddReport, seen: int, progress: AddProgress | None) -> int:
        """Embed and commit one batch; returns how many articles it held."""
        self._check_open()  # a progress callback may have closed the handle after the last batch
        store = self._store
        keep_terms = self.merge_policy.event_terms
        existing = store.existing([a.id for a in batch])
        fields_only: list[tuple[int, Article, str]] = []
        to_embed: list[Article] = []
        hashes: dict[str, str] = {}
        for article in batch:
            record_hash = article.record_hash()
            hashes[article.id] = record_hash
            known = existing.get(article.id)
            if known is None:
                to_embed.append(article)
            elif known.record_hash == record_hash:
                report.unchanged += 1
            elif known.content_hash == article.content_hash():
                fields_only.append((known.rid, article, record_hash))
            else:
                to_embed.append(article)
        # Events depend on the body and on ``published`` (relative dates): a field-only update that
        # moves the publication time is read again; one that changes tags or metadata keeps its events.
        redated = [
            article
            for _, article, _ in fields_only
            if existing[article.id].published_ts
            != (article.published.timestamp() if article.published else None)
        ]
        to_read = to_embed + redated
        # The event rules read the articles in a thread while the model encodes the passages.
        reading = self.extractor.begin(to_read)
        embedded = self.indexer.embed(to_embed)  # the slow part, outside the transaction
        found = dict(zip([a.id for a in to_read], reading.result(), strict=True))
        meaning: dict[str, FloatArray | None] = {
            item.article.id: unit_mean(item.vectors) for item in embedded
        }
        if redated:
            stored = store.passage_vectors_of([existing[a.id].rid for a in redated], self.dim)
            for article in redated:
                rid = existing[article.id].rid
                meaning[article.id] = unit_mean(stored[rid][1]) if rid in stored else None
        committed: list[tuple[str, str]] = []
        removed: list[int] = []
        added_ids: list[int] = []
        added_vectors = []
        rids: dict[str, int] = {}
        # Searches in other threads read through the same connection: they wait, so that they
        # see neither the transaction half done nor the store ahead of the vectors in memory.
        with self._rw.writing():
            try:
                with store.transaction():
                    if embedded:
                        self._record_engine()
                    touched: list[str] = []
                    for rid, article, record_hash in fields_only:
                        store.update_article(rid, article, record_hash)
                        if article.id in found:
                            touched.extend(store.delete_mentions(rid, self.dim, keep_terms=keep_terms))
                        rids[article.id] = rid
                        committed.append((article.id, "updated"))
                    for item in embedded:
                        article = item.article
                        known = existing.get(article.id)
                        if known is not None:
                            removed.extend(store.delete_passages(known.rid))
                            touched.extend(store.delete_mentions(known.rid, self.dim, keep_terms=keep_terms))
                            store.update_article(known.rid, article, hashes[article.id])
                            rid = known.rid
                            committed.append((article.id, "updated"))
                        else:
                            rid = store.insert_article(article, hashes[article.id])
                            committed.append((article.id, "added"))
                        rids[article.id] = rid
                        added_ids.extend(store.insert_passages(rid, item.passages, item.vectors))
                        added_vectors.append(item.vectors)
                    pool = self._event_pool()
                    self._reload_events(pool, touched)
                    # In order of publication, so that a batch merges the same whatever order it came in.
                    ordered = sorted(to_read, key=_report_order)
                    pool.expect(
                        pair
                        for article in ordered
                        for pair in _merge_vectors(found[article.id], meaning[article.id])
                    )
                    for article in ordered:
                        self._record_events(
                            pool, rids[article.id], article, found[article.id], meaning[article.id]
                        )
            except BaseException:
                self._pool = None  # it saw changes that were rolled back: read it again from the store
                raise
            # Committed: now mirror it in memory. The file follows in _save (or is caught up on open).
            if removed:
                self._vectors.remove(removed)
                self._tombstone_seq = store.last_tombstone()
            if added_ids:
                self._vectors.add(added_ids, np.concatenate(added_vectors))
        self._dirty = self._dirty or bool(removed or added_ids)
        self._unsaved += len(removed) + len(added_ids)
        for _, what in committed:
            if what == "added":
                report.added += 1
            else:
                report.updated += 1
        if progress is not None:
            progress(seen + len(batch), committed)
        self._save(force=False)
        return len(batch)

    # -- reading ----------------------------------------------------------------------------------

    @_mapped_sqlite_errors
    @_reading
    def search(
        self,
        query: str,
        *,
        k: int = 10,
        mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
        since: DateLike = None,
        until: DateLike = None,
        sources: str | Iterable[str] | None = None,
        languages: str | Iterable[str] | None = None,
        locations: str | Iterable[str] | None = None,
        event_types: str | Iterable[str] | None = None,
        min_score: float | None = None,
    ) -> list[SearchHit]:
        """Articles matching ``query``, best first, one hit per article with its best passage.

        Filters apply before ranking: k hits come back whenever k matching articles exist.
        """
        self._refresh()
        where = ArticleFilter(
            since=_bound(since, "since", upper=False),
            until=_bound(until, "until", upper=True),
            sources=_names(sources),
            languages=_names(languages),
            places=_place_queries(locations),
            event_types=_event_types(event_types),
        )
        hits = self._searcher.search(query, k=k, mode=mode, where=where, min_score=min_score)
        return self._with_events(hits)

    def _with_events(self, hits: list[SearchHit]) -> list[SearchHit]:
        """Fill each hit's ``event_ids``: the events its article reports, its lead event first."""
        if not hits:
            return hits
        rids = self._store.rids_of([hit.article.id for hit in hits])
        events = self._store.event_ids_of(list(rids.values()))
        for hit in hits:
            rid = rids.get(hit.article.id)
            hit.event_ids = events.get(rid, []) if rid is not None else []
        return hits

    # -- events -----------------------------------------------------------------------------------

    @property
    def extractor(self) -> EventExtractor:
        """The event extractor, sharing this index's embedding model."""
        if self._extractor is None:
            from .events.classify import EventTyper

            self._extractor = EventExtractor(EventTyper(self.indexer.embedder))
        return self._extractor

    @_mapped_sqlite_errors
    @_reading
    def events(
        self,
        *,
        since: DateLike = None,
        until: DateLike = None,
        locations: str | Iterable[str] | None = None,
        event_types: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events in the index, by date (undated last).

        ``since``/``until`` bound the date the event *happened* (both days included); ``locations``
        match a place's canonical name, the name as written, its region or its country;
        ``event_types`` match types or sub-types; ``sources`` keep events reported by those sources.
        """
        self._refresh()
        if limit is not None and limit < 1:
            raise ConfigurationError(f"limit must be at least 1, got {limit}")
        return self._load_events(self._matching_events(since, until, locations, event_types, sources, limit))

    def _matching_events(
        self,
        since: DateLike,
        until: DateLike,
        locations: str | Iterable[str] | None,
        event_types: str | Iterable[str] | None,
        sources: str | Iterable[str] | None,
        limit: int | None = None,
    ) -> list[str]:
        """Ids of the events the filters of :meth:`events` keep, by date."""
        first = _bound(since, "since", upper=False)
        last = _bound(until, "until", upper=True)
        return self._store.find_events(
            since=first.date().isoformat() if first else None,
            until=(last - timedelta(microseconds=1)).date().isoformat() if last else None,
            places=_place_queries(locations),
            event_types=_event_types(event_types),
            where=ArticleFilter(sources=_names(sources)),
            limit=limit,
        )

    @_mapped_sqlite_errors
    @_reading
    def search_events(
        self,
        query: str,
        *,
        k: int = 10,
        since: DateLike = None,
        until: DateLike = None,
        locations: str | Iterable[str] | None = None,
        event_types: str | Iterable[str] | None = None,
        sources: str | Iterable[str] | None = None,
        min_score: float | None = None,
    ) -> list[EventHit]:
        """Events matching ``query``, best first; the filters are those of :meth:`events`, applied
        before ranking.

        Two rankings are fused by reciprocal rank: the events by the cosine between the query and
        their centroid (what their reports say as a whole), and by the best BM25 rank of an article
        reporting them. ``score`` is the fused score; ``min_score`` drops hits below it.
        """
        self._refresh()
        if k < 1:
            raise ConfigurationError(f"k must be at least 1, got {k}")
        ids = self._matching_events(since, until, locations, event_types, sources)
        where = ArticleFilter(sources=_names(sources))
        if not ids:
            return []
        states = {state.id: state for state in self._store.event_states(self.dim, ids)}
        ids = [event_id for event_id in ids if event_id in states]
        centroids = np.stack([unit(states[e].centroid) for e in ids])
        dense = centroids @ self.indexer.embed_query(query).reshape(-1)
        fused: dict[str, float] = {}
        for rank, row in enumerate(np.argsort(-dense, kind="stable"), start=1):
            fused[ids[int(row)]] = 1.0 / (RRF_K + rank)
        wanted = set(ids)
        terms = query_terms(query)
        if terms:
            articles = [
                rid for rid, _ in self._store.lexical(fts_query(terms), where, max(4 * k, 100), terms=terms)
            ]
            events_of = self._store.event_ids_of(articles)
            rank = 0
            seen: set[str] = set()
            for rid in articles:
                for event_id in events_of.get(rid, []):
                    if event_id in wanted and event_id not in seen:
                        seen.add(event_id)
                        rank += 1
                        fused[event_id] += 1.0 / (RRF_K + rank)
        best = sorted(fused, key=lambda e: -fused[e])
        if min_score is not None:
            best = [e for e in best if fused[e] >= min_score]
        events = self._load_events(best[:k])
        return [EventHit(rank=i, score=round(fused[e.id], 6), event=e) for i, e in enumerate(events, start=1)]

    @_mapped_sqlite_errors
    @_reading
    def article_events(self, article_id: str) -> list[Event]:
        """The events an article reports, its lead event first."""
        self._refresh()
        rid = self._store.rid_of(article_id)
        if rid is None:
            raise ArticleNotFoundError(article_id)
        return self._load_events(self._store.event_ids_of([rid]).get(rid, []))

    def _load_events(self, ids: list[str]) -> list[Event]:
        reports = self._store.mentions_of_events(ids)
        rids = {rid for found in reports.values() for _, rid in found}
        articles = self._store.articles(rids)
        return [
            build_event(event_id, [(m, articles[rid]) for m, rid in reports[event_id] if rid in articles])
            for event_id in ids
            if event_id in reports
        ]

    @_mapped_sqlite_errors
    @_reading
    def related(
        self, article_id: str, *, k: int = 10, mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    ) -> list[SearchHit]:
        """Articles about the same events first (those sharing the article's lead event, then its other
        events), then the nearest others; the article itself is left out.

        Within each group, articles are ranked as wholes (the mean of their passage vectors, and their
        most frequent terms), from stored vectors, so nothing is re-encoded.
        """
        self._refresh()
        rid = self._store.rid_of(article_id)
        if rid is None:
            raise ArticleNotFoundError(article_id)
        if k < 1:
            raise ConfigurationError(f"k must be at least 1, got {k}")
        tiers = self._store.same_event_articles(rid)
        return self._with_events(self._searcher.related(rid, k, mode, self.dim, tiers))

    @_mapped_sqlite_errors
    @_reading
    def get(self, article_id: str) -> Article:
        """The stored article with this id; :class:`ArticleNotFoundError` when there is none."""
        self._refresh()
        rid = self._store.rid_of(article_id)
        if rid is None:
            raise ArticleNotFoundError(article_id)
        return self._store.articles([rid])[rid]

    @_mapped_sqlite_errors
    @_reading
    def __contains__(self, article_id: object) -> bool:
        self._refresh()
        return isinstance(article_id, str) and self._store.rid_of(article_id) is not None

    @_mapped_sqlite_errors
    @_reading
    def __len__(self) -> int:
        self._refresh()
        return self._store.count("articles")

    @_mapped_sqlite_errors
    @_one_writer
    def delete(self, ids: str | Iterable[str]) -> int:
        """Delete articles by id (all or none: an unknown id raises ArticleNotFoundError first)."""
        self._check_writable()
        wanted = list(dict.fromkeys(_names(ids)))
        rids = []
        for article_id in wanted:
            rid = self._store.rid_of(article_id)
            if rid is None:
                raise ArticleNotFoundError(article_id)
            rids.append(rid)
        removed: list[int] = []
        touched: list[str] = []
        with self._rw.writing():  # as in _flush
            try:
                with self._store.transaction():
                    for rid in rids:
                        removed.extend(self._store.passage_ids_of([rid]).tolist())
                        touched.extend(self._store.delete_article(rid, self.dim))
            except BaseException:
                self._pool = None
                raise
            if self._pool is not None:
                self._reload_events(self._pool, touched)
            self._vectors.remove(removed)
            self._tombstone_seq = self._store.last_tombstone()
        self._dirty = True
        self._unsaved += len(removed)
        self._save(force=False)
        return len(rids)

    @_mapped_sqlite_errors
    @_reading
    def stats(self) -> IndexStats:
        """Counts and settings of this index."""
        self._refresh()
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        return IndexStats(
            path=str(self.path),
            articles=self._store.count("articles"),
            passages=self._store.count("passages"),
            mentions=self._store.count("mentions"),
            events=self._store.count("events"),
            sources=self._store.count_sources(),
            model=self.model_name,
            dim=self.dim,
            vector_index=self._vectors.kind,
            vector_recall=self._recall,
            engines=self.engines,
            size_bytes=size,
            format_version=FORMAT_VERSION,
            newsindex_version=__version__,
        )
