"""The SQLite store: the source of truth for articles, passages (with their vectors) and the lexical
(FTS5, BM25) index.

The FAISS file is a cache of the vectors kept here: it can always be rebuilt or caught up from this
store. Passage ids grow monotonically and every removed passage leaves a tombstone, so any copy of the
vector index (the file on disk, another process's memory) can be brought up to date incrementally.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .bm25 import MemoryBm25
from .errors import CorruptIndexError, StorageError, StoreError
from .events.merge import (
    EVENT_TERMS,
    LEAD_CHARS_PER_WORD,
    LEAD_WORDS,
    EventState,
    lead_terms,
)
from .models import Article, EventMention
from .passage_owners import PassageOwners
from .passage_spans import PassageSpans
from .passages import Passage

__all__ = [
    "ArticleFilter",
    "ExistingArticle",
    "PlaceQuery",
    "Store",
    "mention_conditions",
    "storage_error",
]

#: SQLite's page cache per connection, in KiB (filled only as pages are read). SQLite's default of
#: 2 MiB holds too little of a large store's indexes: at a million passages, turning a 1% date
#: filter into passage ids took 9.8-10.2 ms with it and 4.5-5.0 ms with 32 MiB (``/tmp/s8`` scripts).
PAGE_CACHE_KIB = 32_768
#: SQLite's result codes for a damaged database file and for a file that is not a database.
SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26


def storage_error(path: Path, exc: sqlite3.Error) -> StorageError:
    """Our error for an sqlite3 one: damage names the file and the repair; the rest is a StoreError."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # extended codes keep the primary low
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return CorruptIndexError(
            str(path), f"is damaged ({exc}): run `newsindex check --index {path.parent} --repair`"
        )
    return StoreError(f"{path}: {exc}")


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT,
    body TEXT NOT NULL,
    url TEXT,
    source TEXT,
    published TEXT,
    published_ts REAL,
    language TEXT NOT NULL,
    authors TEXT NOT NULL,
    tags TEXT NOT NULL,
    metadata TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_published ON articles (published_ts);
CREATE INDEX IF NOT EXISTS articles_source ON articles (source COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article INTEGER NOT NULL REFERENCES articles (rid),
    seq INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_article ON passages (article);
-- Search looks up (article, start, end) for a few hundred candidate passage ids per query. Read from
-- this narrow index that takes 0.18 ms for 200 ids, against 0.48 ms through the rows, whose vectors
-- spread them over a page each (Reuters, 24,601 passages).
CREATE INDEX IF NOT EXISTS passages_span ON passages (id, article, start, end);
CREATE TABLE IF NOT EXISTS tombstones (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    passage INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    day TEXT,
    end_day TEXT,
    size INTEGER NOT NULL,
    leads INTEGER NOT NULL,
    centroid BLOB NOT NULL,
    first_ts REAL NOT NULL,
    last_ts REAL NOT NULL,
    days TEXT NOT NULL,
    types TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    terms TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_day ON events (day);
CREATE TABLE IF NOT EXISTS mentions (
    id TEXT PRIMARY KEY,
    article INTEGER NOT NULL REFERENCES articles (rid) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    -- Deferred: a mention is written just before the event row that summarises it.
    event TEXT NOT NULL REFERENCES events (id) DEFERRABLE INITIALLY DEFERRED,
    type TEXT NOT NULL,
    subtype TEXT,
    day TEXT,
    report_ts REAL NOT NULL,
    vector BLOB NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions (article, seq);
CREATE INDEX IF NOT EXISTS mentions_event ON mentions (event);
CREATE INDEX IF NOT EXISTS mentions_type ON mentions (type);
CREATE TABLE IF NOT EXISTS mention_places (
    mention TEXT NOT NULL REFERENCES mentions (id) ON DELETE CASCADE,
    name TEXT NOT NULL COLLATE NOCASE,
    written TEXT NOT NULL COLLATE NOCASE,
    admin1 TEXT COLLATE NOCASE,
    country TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mention_places_mention ON mention_places (mention);
CREATE INDEX IF NOT EXISTS mention_places_name ON mention_places (name);
CREATE INDEX IF NOT EXISTS mention_places_written ON mention_places (written);
CREATE INDEX IF NOT EXISTS mention_places_admin1 ON mention_places (admin1);
CREATE INDEX IF NOT EXISTS mention_places_country ON mention_places (country);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5 (
    title, body, content='articles', content_rowid='rid',
    tokenize='porter unicode61 remove_diacritics 2'
);
"""

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

#: Span lookups a handle makes in SQL before it loads every passage's span into memory (about 10 ms
#: per 25,000 passages, once): a search or two from the command line never pays for the table.
SPAN_MAP_AFTER = 3


@dataclass(frozen=True)
class ExistingArticle:
    """What the store knows of an article already present: its row and its hashes."""

    rid: int
    content_hash: str
    record_hash: str
    published_ts: float | None = None


@dataclass(frozen=True)
class ArticleFilter:
    """Conditions on articles, applied in SQL before any ranking."""

    since: datetime | None = None
    until: datetime | None = None  # exclusive upper bound
    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    exclude_ids: tuple[str, ...] = ()
    #: Each entry is one place asked for, as the names it may go by (canonical, as written, region) and
    #: the country code it stands for when it is a country; an article matches if any mention is there.
    places: tuple[PlaceQuery, ...] = ()
    #: Event types or sub-types; an article matches when one of its mentions has one of them.
    event_types: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(
            self.since
            or self.until
            or self.sources
            or self.languages
            or self.exclude_ids
            or self.places
            or self.event_types
        )

    def sql(self, alias: str = "a") -> tuple[str, list[Any]]:
        """A WHERE fragment (always valid, ``1`` when empty) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            clauses.append(f"{alias}.published_ts >= ?")
            params.append(self.since.timestamp())
        if self.until is not None:
            clauses.append(f"{alias}.published_ts < ?")
            params.append(self.until.timestamp())
        if self.sources:
            clauses.append(f"{alias}.source COLLATE NOCASE IN ({','.join('?' * len(self.sources))})")
            params.extend(self.sources)
        if self.languages:
            clauses.append(f"{alias}.language IN ({','.join('?' * len(self.languages))})")
            params.extend(lang.lower() for lang in self.languages)
        if self.exclude_ids:
            clauses.append(f"{alias}.id NOT IN ({','.join('?' * len(self.exclude_ids))})")
            params.extend(self.exclude_ids)
        if self.places or self.event_types:
            mention_clause, mention_params = mention_conditions(self.places, self.event_types)
            clauses.append(f"{alias}.rid IN (SELECT m.article FROM mentions m WHERE {mention_clause})")
            params.extend(mention_params)
        return (" AND ".join(clauses) or "1"), params


@dataclass(frozen=True)
class PlaceQuery:
    """One place a filter asks for: names it goes by, and its country code if it is a country."""

    names: tuple[str, ...]
    country: str | None = None


def mention_conditions(
    places: Sequence[PlaceQuery], event_types: Sequence[str], alias: str = "m"
) -> tuple[str, list[Any]]:
    """A WHERE fragment on a ``mentions`` row: in one of ``places`` and of one of ``event_types``."""
    clauses: list[str] = []
    params: list[Any] = []
    if places:
        options: list[str] = []
        for place in places:
            marks = ",".join("?" * len(place.names))
            if place.names:
                options.append(f"p.name IN ({marks}) OR p.written IN ({marks}) OR p.admin1 IN ({marks})")
                params.extend([*place.names, *place.names, *place.names])
            if place.country:
                options.append("p.country = ?")
                params.append(place.country)
        clauses.append(
            f"EXISTS (SELECT 1 FROM mention_places p WHERE p.mention = {alias}.id AND "
            f"({' OR '.join(options) or '0'}))"
        )
    if event_types:
        marks = ",".join("?" * len(event_types))
        clauses.append(f"({alias}.type IN ({marks}) OR {alias}.subtype IN ({marks}))")
        params.extend([*event_types, *event_types])
    return (" AND ".join(clauses) or "1"), params


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _parsed_ids(joined: str | None, count: int) -> IdArray:
    """The integers of a ``group_concat`` (comma-separated), as an array.

    One string rather than a row per id: a filter keeping 1% of a million passages is 10,000 ids,
    and building a Python row for each cost more than the query. numpy parses the string in C
    (0.13 ms for 10,000 ids, against 0.91 ms split in Python).
    """
    if not joined:
        return np.zeros(0, dtype=np.int64)
    ids = np.fromstring(joined, dtype=np.int64, sep=",")
    if len(ids) != count:  # never seen; the slow parse says what went wrong
        return np.array(joined.split(","), dtype=np.int64)
    return ids


def _chunks(items: Sequence[Any], size: int = 900) -> Iterator[Sequence[Any]]:
    # SQLite caps the number of bound parameters per statement.
    for pos in range(0, len(items), size):
        yield items[pos : pos + size]


class Store:
    """One SQLite database in WAL mode; all SQL of newsindex lives here."""

    def __init__(self, path: Path, *, read_only: bool = False, timeout: float = 30.0) -> None:
        self.path = path
        # The file the other connections open: resolved now, so a later chdir cannot send them to
        # another database when the index was opened by a relative path.
        self._file = Path(path).resolve()
        self.read_only = read_only
        self._span_hint: str | None = None
        self._side: Store | None = None
        self._timeout = timeout
        self._owners = PassageOwners()
        self._owners_lock = threading.Lock()
        self._owners_reader: Store | None = None
        # Where each passage lies, in memory once this handle has served a few searches (a one-off
        # search from the command line does not pay for loading it); under the same lock.
        self._spans = PassageSpans()
        self._span_lookups = 0
        # Unfiltered BM25 from memory, shared with the side reader; its connection opens on first use.
        self._bm25 = MemoryBm25(lambda: Store(self._file, read_only=True, timeout=self._timeout))
        self._owns_bm25 = True
        try:
            if read_only:
                self._db = sqlite3.connect(
                    # As a URI, so escaped: a "#", "?" or "%" in the path would change its meaning.
                    f"{Path(path).resolve().as_uri()}?mode=ro",
                    uri=True,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                self._db = sqlite3.connect(
                    path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
                self._db.execute("PRAGMA journal_mode=WAL")
                # FULL: a commit that returned is on disk, so what add() reported survives power loss.
                self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")  # negative: a size in KiB
        except sqlite3.DatabaseError as exc:
            raise CorruptIndexError(str(path), f"cannot open the store ({exc})") from exc
        try:
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise storage_error(path, exc) from exc

    # -- plumbing -------------------------------------------------------------------------------

    def close(self) -> None:
        readers = [r for r in (self._side, self._owners_reader) if r is not None]
        self._side = self._owners_reader = None
        try:
            if self._owns_bm25:
                self._bm25.close()
            for reader in readers:
                reader.close()
        finally:
            self._db.close()

    def side_reader(self) -> Store:
        """A second, read-only connection to the same database, opened on first use, so that a query
        can run in another thread while this connection serves the rest of a search (one connection
        runs one statement at a time). It may see a commit this one has not seen yet; what it finds
        is looked up through this connection afterwards, where anything missing is left out."""
        if self._side is None:
            side = Store(self._file, read_only=True, timeout=self._timeout)
            side._bm25, side._owns_bm25 = self._bm25, False
            self._side = side
        return self._side

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.DatabaseError as exc:
            raise storage_error(self.path, exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._db.executemany(sql, rows)
        except sqlite3.DatabaseError as exc:
            raise storage_error(self.path, exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: everything inside commits together or not at all."""
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one consistent state, whatever other processes commit meanwhile."""
        self.execute("BEGIN")
        try:
            yield
        finally:
            self._db.execute("COMMIT")

    def data_version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``PRAGMA data_version``)."""
        return int(self.execute("PRAGMA data_version").fetchone()[0])

    def create_schema(self, meta: dict[str, str]) -> None:
        """Tables and settings in one transaction: a crash leaves either a whole store or none.

        Every statement is idempotent, so on an older store this adds only the tables it lacks.
        """
        with self.transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self.execute(statement)
            for key, value in meta.items():
                self.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def add_missing_indexes(self) -> list[str]:
        """Create the indexes of :data:`SCHEMA` that a store made by an earlier version lacks (they
        change no data, so this is no format change); returns their names."""
        present = {str(r[0]) for r in self.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        added: list[str] = []
        with self.transaction():
            for statement in SCHEMA.split(";"):
                found = re.search(r"CREATE INDEX IF NOT EXISTS (\w+)", statement)
                if found and found.group(1) not in present:
                    self.execute(statement)
                    added.append(found.group(1))
        self._span_hint = None
        return added

    def _span_index_hint(self) -> str:
        """``INDEXED BY`` the span index where the store has it: SQLite's planner prefers the rowid
        for ``id IN (...)`` and would read the full rows. A store opened read-only may predate it."""
        if self._span_hint is None:
            row = self.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'passages_span'"
            ).fetchone()
            self._span_hint = "INDEXED BY passages_span " if row else ""
        return self._span_hint

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole database at ``target`` (SQLite's online backup)."""
        try:
            copy = sqlite3.connect(target)
            try:
                self._db.backup(copy)
            finally:
                copy.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot back up {self.path} to {target}: {exc}") from exc

    def all_rids(self) -> list[int]:
        return [int(r[0]) for r in self.execute("SELECT rid FROM articles ORDER BY rid")]

    def has_schema(self) -> bool:
        row = self.execute(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('meta','articles')"
        ).fetchone()
        return bool(row[0] == 2)

    def meta(self) -> dict[str, str]:
        return dict(self.execute("SELECT key, value FROM meta").fetchall())

    # -- articles -------------------------------------------------------------------------------

    def existing(self, ids: Sequence[str]) -> dict[str, ExistingArticle]:
        found: dict[str, ExistingArticle] = {}
        for chunk in _chunks(list(ids)):
            rows = self.execute(
                "SELECT id, rid, content_hash, record_hash, published_ts FROM articles "
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for article_id, rid, content_hash, record_hash, published_ts in rows:
                found[article_id] = ExistingArticle(rid, content_hash, record_hash, published_ts)
        return found

    @staticmethod
    def _row(article: Article, record_hash: str) -> dict[str, Any]:
        published = article.published
        return {
            "id": article.id,
            "title": article.title,
            "body": article.body,
            "url": article.url,
            "source": article.source,
            "published": published.isoformat().replace("+00:00", "Z") if published else None,
            "published_ts": published.timestamp() if published else None,
            "language": article.language,
            "authors": json.dumps(article.authors, ensure_ascii=False),
            "tags": json.dumps(article.tags, ensure_ascii=False),
            "metadata": json.dumps(article.metadata, ensure_ascii=False),
            "content_hash": article.content_hash(),
            "record_hash": record_hash,
        }

    def insert_article(self, article: Article, record_hash: str) -> int:
        row = self._row(article, record_hash)
        row["added_at"] = row["updated_at"] = _now()
        columns = ", ".join(row)
        cursor = self.execute(
            f"INSERT INTO articles ({columns}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
        rid = int(cursor.lastrowid or 0)
        self.execute(
            "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
            (rid, article.title or "", article.body),
        )
        return rid

    def update_article(self, rid: int, article: Article, record_hash: str) -> None:
        """Replace the stored fields of an article (its passages are handled separately)."""
        old = self.execute("SELECT title, body FROM articles WHERE rid = ?", (rid,)).fetchone()
        self.execute(
            "INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', ?, ?, ?)",
            (rid, old[0] or "", old[1]),
        )
        row = self._row(article, record_hash)
        row["updated_at"] = _now()
        assignments = ", ".join(f"{column} = ?" for column in row)
        self.execute(f"UPDATE articles SET {assignments} WHERE rid = ?", [*row.values(), rid])
        self.execute(
            "INSERT INTO articles_fts (rowid, title, body) VALUES (?, ?, ?)",
            (rid, article.title or "", article.body),
        )

    def delete_article(self, rid: int, dim: int) -> list[str]:
        """Remove an article with its passages and mentions; returns the ids of the events touched."""
        self.delete_passages(rid)
        touched = self.delete_mentions(rid, dim)
        old = self.execute("SELECT title, body FROM articles WHERE rid = ?", (rid,)).fetchone()
        if old is None:
            return touched
        self.execute(
            "INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', ?, ?, ?)",
            (rid, old[0] or "", old[1]),
        )
        self.execute("DELETE FROM articles WHERE rid = ?", (rid,))
        return touched

    def rid_of(self, article_id: str) -> int | None:
        row = self.execute("SELECT rid FROM articles WHERE id = ?", (article_id,)).fetchone()
        return int(row[0]) if row else None

    def rids_of(self, article_ids: Sequence[str]) -> dict[str, int]:
        """Row ids of the articles that exist, by article id (one query per chunk)."""
        found: dict[str, int] = {}
        for chunk in _chunks(list(dict.fromkeys(article_ids))):
            sql = f"SELECT id, rid FROM articles WHERE id IN ({','.join('?' * len(chunk))})"
            found.update((str(aid), int(rid)) for aid, rid in self.execute(sql, chunk))
        return found

    def articles(self, rids: Iterable[int]) -> dict[int, Article]:
        """Articles by row id (missing rows are left out)."""
        wanted = list(dict.fromkeys(rids))
        found: dict[int, Article] = {}
        for chunk in _chunks(wanted):
            rows = self.execute(
                "SELECT rid, id, title, body, url, source, published, language, authors, tags, "
                f"metadata FROM articles WHERE rid IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for rid, aid, title, body, url, source, published, language, authors, tags, meta in rows:
                found[rid] = Article.model_construct(
                    id=aid,
                    title=title,
                    body=body,
                    url=url,
                    source=source,
                    published=datetime.fromisoformat(published) if published else None,
                    language=language,
                    authors=json.loads(authors),
                    tags=json.loads(tags),
                    metadata=json.loads(meta),
                )
        return found

    def matching_passage_ids(self, where: ArticleFilter) -> IdArray:
        """Ids of the passages of the articles ``where`` matches (see :meth:`matching`)."""
        return self.matching(where)[1]

    def matching(self, where: ArticleFilter) -> tuple[IdArray | None, IdArray]:
        """The rids (sorted) of the articles ``where`` matches, and the ids of their passages; the
        rids are None inside a write transaction of this connection (see below).

        The articles come from SQL, their passages from the in-memory :class:`PassageOwners`. Both
        are read on a connection of their own, in one snapshot, after the map is caught up with
        what was committed since: never inside another thread's transaction on the main
        connection, whose rows may still roll back. A search inside a write transaction of its own
        gets both from one SQL join on the main connection instead, its own rows included.
        """
        clause, params = where.sql()
        if self._db.in_transaction:
            return None, self._concatenated_ids(
                "SELECT group_concat(p.id), count(*) FROM passages p JOIN articles a ON a.rid = p.article "
                f"WHERE {clause}",
                params,
            )
        with self._owners_lock:
            reader = self._owners_connection()
            with reader.snapshot():
                reader._catch_up(self._owners)
                rids = reader._concatenated_ids(
                    f"SELECT group_concat(a.rid), count(*) FROM articles a WHERE {clause}", params
                )
            rids = np.sort(rids)
            return rids, self._owners.passages_of(rids)

    def _owners_connection(self) -> Store:
        """The read-only connection the in-memory maps are caught up on (called under the lock)."""
        if self._owners_reader is None:
            self._owners_reader = Store(self._file, read_only=True, timeout=self._timeout)
        return self._owners_reader

    def _passages_position(self) -> tuple[int, int]:
        """(largest passage id, newest tombstone) as this connection sees them."""
        last_id, last_tombstone = self.execute(
            "SELECT coalesce((SELECT max(id) FROM passages), 0), "
            "coalesce((SELECT max(seq) FROM tombstones), 0)"
        ).fetchone()
        return int(last_id), int(last_tombstone)

    def _catch_up(self, cache: PassageOwners | PassageSpans) -> None:
        """Bring an in-memory map of the passages up to the passages and tombstones this connection
        sees: every passage the first time, then those added and removed since."""
        last_id, last_tombstone = self._passages_position()
        if cache.loaded and (last_id, last_tombstone) == cache.position:
            return
        seen_id, seen_tombstone = cache.position
        columns = cache.COLUMNS
        # The first time without a condition: any covering index serves it, in stores of every age.
        since = ("WHERE id > ?", (seen_id,)) if cache.loaded else ("", ())
        row = self.execute(
            f"SELECT {', '.join(f'group_concat({c})' for c in columns)}, count(*) FROM passages {since[0]}",
            since[1],
        ).fetchone()
        found = [_parsed_ids(row[i], row[len(columns)]) for i in range(len(columns))]
        removed = self.tombstones_after(seen_tombstone)[1] if cache.loaded else None
        cache.catch_up(found, removed, last_id, last_tombstone)

    def _concatenated_ids(self, sql: str, params: Sequence[Any]) -> IdArray:
        """The ids a ``SELECT group_concat(...), count(*)`` statement gives, as an array."""
        row = self.execute(sql, params).fetchone()
        return _parsed_ids(row[0], row[1]) if row is not None else _parsed_ids(None, 0)

    # -- passages and vectors -------------------------------------------------------------------

    def insert_passages(self, rid: int, passages: Sequence[Passage], vectors: FloatArray) -> list[int]:
        ids = []
        for passage, vector in zip(passages, vectors, strict=True):
            cursor = self.execute(
                "INSERT INTO passages (article, seq, start, end, vector) VALUES (?, ?, ?, ?, ?)",
                (rid, passage.seq, passage.start, passage.end, np.asarray(vector, np.float32).tobytes()),
            )
            ids.append(int(cursor.lastrowid or 0))
        return ids

    def delete_passages(self, rid: int) -> list[int]:
        """Remove an article's passages, leaving a tombstone for each; returns their ids."""
        ids = [int(r[0]) for r in self.execute("SELECT id FROM passages WHERE article = ?", (rid,))]
        if ids:
            self._db.executemany("INSERT INTO tombstones (passage) VALUES (?)", [(i,) for i in ids])
            self.execute("DELETE FROM passages WHERE article = ?", (rid,))
        return ids

    def passage_ids_of(self, rids: Sequence[int]) -> IdArray:
        out: list[int] = []
        for chunk in _chunks(list(rids)):
            rows = self.execute(
                f"SELECT id FROM passages WHERE article IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            out.extend(int(r[0]) for r in rows)
        return np.asarray(out, dtype=np.int64)

    def passage_spans(self, passage_ids: IdArray) -> npt.NDArray[np.int64]:
        """For each of the distinct ``passage_ids``, a row (article rid, start, end); -1 everywhere for
        ids the store no longer has.

        From the in-memory :class:`PassageSpans` once this handle has looked spans up
        ``SPAN_MAP_AFTER`` times (caught up, like the map of each article's passages, on a connection
        of its own in one snapshot), else, and inside a write transaction of its own, one query per
        chunk of ids."""
        if not self._db.in_transaction:
            self._span_lookups += 1
            if self._spans.loaded or self._span_lookups > SPAN_MAP_AFTER:
                with self._owners_lock:
                    reader = self._owners_connection()
                    with reader.snapshot():
                        reader._catch_up(self._spans)
                    return self._spans.spans(passage_ids)
        found = np.full((len(passage_ids), 3), -1, dtype=np.int64)
        if not len(passage_ids):
            return found
        order = np.argsort(passage_ids, kind="stable")
        ordered = passage_ids[order]
        for chunk in _chunks(ordered.tolist()):
            rows = self.execute(
                f"SELECT id, article, start, end FROM passages {self._span_index_hint()}"
                f"WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            if rows:
                table = np.array(rows, dtype=np.int64)
                found[order[np.searchsorted(ordered, table[:, 0])]] = table[:, 1:]
        return found

    def passages_of(self, rids: Sequence[int]) -> dict[int, list[tuple[int, int, int]]]:
        """article rid → its passages as (passage id, start, end), in order."""
        found: dict[int, list[tuple[int, int, int]]] = {}
        for chunk in _chunks(list(rids)):
            rows = self.execute(
                "SELECT article, id, start, end FROM passages "
                f"WHERE article IN ({','.join('?' * len(chunk))}) ORDER BY article, seq",
                chunk,
            ).fetchall()
            for rid, pid, start, end in rows:
                found.setdefault(int(rid), []).append((int(pid), int(start), int(end)))
        return found

    def vectors_after(
        self, passage_id: int, dim: int, *, limit: int | None = None
    ) -> tuple[IdArray, FloatArray]:
        """Passages with an id above ``passage_id`` (the first ``limit`` of them), and their vectors."""
        rows = self.execute(
            "SELECT id, vector FROM passages WHERE id > ? ORDER BY id LIMIT ?",
            (passage_id, -1 if limit is None else limit),
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, dim)
        return ids, vectors

    def passage_ids(self) -> IdArray:
        """Every passage id, ascending."""
        rows = self.execute("SELECT id FROM passages ORDER BY id").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def present_vectors(self, passage_ids: IdArray, dim: int) -> tuple[IdArray, FloatArray]:
        """The ``passage_ids`` the store still has, in the order given, and their vectors (another
        process may have removed some since this one last looked)."""
        blobs: dict[int, bytes] = {}
        for chunk in _chunks(passage_ids.tolist()):
            sql = f"SELECT id, vector FROM passages WHERE id IN ({','.join('?' * len(chunk))})"
            blobs.update((int(i), bytes(v)) for i, v in self.execute(sql, chunk))
        kept = np.asarray([i for i in passage_ids.tolist() if i in blobs], dtype=np.int64)
        matrix = np.frombuffer(b"".join(blobs[i] for i in kept.tolist()), dtype=np.float32)
        return kept, matrix.reshape(-1, dim)

    def vectors_of(self, passage_ids: Sequence[int] | IdArray, dim: int) -> FloatArray:
        """The vectors of ``passage_ids``, in that order (each id must exist)."""
        wanted = np.asarray(passage_ids, dtype=np.int64).reshape(-1)
        kept, matrix = self.present_vectors(wanted, dim)
        if len(kept) != len(wanted):
            raise KeyError(f"passages not in the store: {np.setdiff1d(wanted, kept)[:10].tolist()}")
        return matrix

    def passage_vectors_of(
        self, rids: Sequence[int], dim: int
    ) -> dict[int, tuple[list[tuple[int, int]], FloatArray]]:
        """article rid → its passages' (start, end) spans and their vectors, in passage order."""
        articles, spans, matrix = self.passage_matrix_of(rids, dim)
        heads, first = np.unique(articles, return_index=True)
        ends = [*first[1:].tolist(), len(articles)]
        return {
            int(rid): ([(int(a), int(b)) for a, b in spans[lo:hi].tolist()], matrix[lo:hi])
            for rid, lo, hi in zip(heads.tolist(), first.tolist(), ends, strict=True)
        }

    def passage_matrix_of(
        self, rids: Sequence[int], dim: int
    ) -> tuple[IdArray, npt.NDArray[np.int64], FloatArray]:
        """The passages of articles ``rids`` as arrays, ordered by article then passage: each row's
        article rid, its (start, end) span and its vector."""
        articles: list[int] = []
        spans: list[tuple[int, int]] = []
        blobs: list[bytes] = []
        for chunk in _chunks(sorted(set(rids))):
            rows = self.execute(
                "SELECT article, start, end, vector FROM passages "
                f"WHERE article IN ({','.join('?' * len(chunk))}) ORDER BY article, seq",
                chunk,
            ).fetchall()
            articles.extend(int(r[0]) for r in rows)
            spans.extend((int(r[1]), int(r[2])) for r in rows)
            blobs.extend(r[3] for r in rows)
        matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim)
        return (
            np.asarray(articles, dtype=np.int64),
            np.asarray(spans, dtype=np.int64).reshape(-1, 2),
            matrix,
        )

    def tombstones_after(self, seq: int) -> tuple[int, IdArray]:
        """Passage ids removed after tombstone ``seq``, and the newest tombstone seq."""
        rows = self.execute(
            "SELECT seq, passage FROM tombstones WHERE seq > ? ORDER BY seq", (seq,)
        ).fetchall()
        newest = int(rows[-1][0]) if rows else seq
        return newest, np.asarray([r[1] for r in rows], dtype=np.int64)

    def passage_id_ceiling(self) -> int:
        """The largest passage id ever assigned (ids are never reused), 0 before the first."""
        row = self.execute(
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'passages'), 0), "
            "coalesce((SELECT max(id) FROM passages), 0))"
        ).fetchone()
        return int(row[0])

    def tombstoned_through(self, seq: int) -> IdArray:
        """The passage ids removed up to tombstone ``seq``, ascending."""
        rows = self.execute(
            "SELECT passage FROM tombstones WHERE seq <= ? ORDER BY passage", (seq,)
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def last_tombstone(self) -> int:
        row = self.execute("SELECT max(seq) FROM tombstones").fetchone()
        return int(row[0] or 0)

    # -- events -----------------------------------------------------------------------------------

    def insert_mention(
        self, rid: int, seq: int, mention: EventMention, event_id: str, vector: FloatArray, report_ts: float
    ) -> None:
        """Store one mention of an article as part of event ``event_id`` (see :meth:`save_event`)."""
        day = mention.date.isoformat() if mention.date else None
        self.execute(
            "INSERT INTO mentions (id, article, seq, event, type, subtype, day, report_ts, vector, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                mention.id,
                rid,
                seq,
                event_id,
                mention.type,
                mention.subtype,
                day,
                report_ts,
                np.asarray(vector, np.float32).tobytes(),
                mention.model_dump_json(),
            ),
        )
        self._db.executemany(
            "INSERT INTO mention_places (mention, name, written, admin1, country) VALUES (?, ?, ?, ?, ?)",
            [(mention.id, p.name, p.mention, p.admin1, p.country) for p in mention.locations],
        )

    def save_event(self, state: EventState) -> None:
        """Write an event's merge state; its type and day range are read from its stored mentions."""
        self.execute(
            "INSERT INTO events (id, type, day, end_day, size, leads, centroid, first_ts, last_ts, days, "
            "types, updated_at, terms) SELECT ?, ?, min(day), max(day), ?, ?, ?, ?, ?, ?, ?, ?, ? "
            "FROM mentions WHERE event = ? ON CONFLICT (id) DO UPDATE SET type = excluded.type, "
            "day = excluded.day, end_day = excluded.end_day, size = excluded.size, "
            "leads = excluded.leads, centroid = excluded.centroid, "
            "first_ts = excluded.first_ts, last_ts = excluded.last_ts, days = excluded.days, "
            "types = excluded.types, updated_at = excluded.updated_at, terms = excluded.terms",
            (
                state.id,
                state.type,
                state.size,
                state.leads,
                np.asarray(state.centroid, np.float32).tobytes(),
                state.first_ts,
                state.last_ts,
                json.dumps(state.days),
                json.dumps(dict(state.types)),
                _now(),
                json.dumps(dict(state.terms)),
                state.id,
            ),
        )

    def event_states(self, dim: int, ids: Sequence[str] | None = None) -> Iterator[EventState]:
        """The merge state of every event (or of ``ids``)."""
        sql = "SELECT id, size, leads, centroid, first_ts, last_ts, days, types, terms FROM events"
        batches: Iterable[Sequence[str]] = [()] if ids is None else _chunks(list(ids))
        for chunk in batches:
            where = f" WHERE id IN ({','.join('?' * len(chunk))})" if ids is not None else ""
            if ids is not None and not chunk:
                continue
            for event_id, size, leads, centroid, first, last, days, types, terms in self.execute(
                sql + where, chunk
            ):
                yield EventState(
                    id=event_id,
                    centroid=np.frombuffer(centroid, dtype=np.float32).reshape(dim).copy(),
                    size=int(size),
                    leads=int(leads),
                    first_ts=float(first),
                    last_ts=float(last),
                    days=list(dict.fromkeys((int(d), str(t)) for d, t in json.loads(days))),
                    types=Counter({str(k): int(v) for k, v in json.loads(types).items()}),
                    terms=Counter({str(k): int(v) for k, v in json.loads(terms).items()}),
                )

    def delete_mentions(self, rid: int, dim: int, *, keep_terms: int = EVENT_TERMS) -> list[str]:
        """Remove an article's mentions and rebuild the events they were part of from the mentions
        left (deleting events left with none); returns the ids of the events touched."""
        events = [r[0] for r in self.execute("SELECT DISTINCT event FROM mentions WHERE article = ?", (rid,))]
        self.execute("DELETE FROM mentions WHERE article = ?", (rid,))
        for event_id in events:
            self.rebuild_event(event_id, dim, keep_terms=keep_terms)
        return events

    def rebuild_event(self, event_id: str, dim: int, *, keep_terms: int = EVENT_TERMS) -> None:
        """Recompute an event's merge state from its stored mentions (delete it when none are left)."""
        rows = self.execute(
            "SELECT m.vector, m.report_ts, m.day, m.type, m.data, m.seq, a.title, substr(a.body, 1, ?) "
            "FROM mentions m JOIN articles a ON a.rid = m.article WHERE m.event = ? "
            "ORDER BY m.report_ts, m.id",
            (LEAD_WORDS * LEAD_CHARS_PER_WORD, event_id),
        ).fetchall()
        if not rows:
            self.execute("DELETE FROM events WHERE id = ?", (event_id,))
            return
        # As merging built it: the sum of the lead mentions' vectors, else the first mention's.
        leads = [np.frombuffer(r[0], dtype=np.float32) for r in rows if r[5] == 0]
        vectors = leads or [np.frombuffer(rows[0][0], dtype=np.float32)]
        state = EventState(
            id=event_id,
            centroid=np.sum(vectors, axis=0).reshape(dim),
            size=len(vectors),
            leads=len(leads),
            first_ts=min(float(r[1]) for r in rows),
            last_ts=max(float(r[1]) for r in rows),
            types=Counter(str(r[3]) for r in rows),
        )
        for _, _, day, kind, data, seq, title, body in rows:
            if day and json.loads(data).get("date_precision") == "day":
                state.add_day(date.fromisoformat(day).toordinal(), str(kind))
            if seq == 0:
                state.add_terms(lead_terms(title, body), keep_terms)
        self.save_event(state)

    def add_event_terms_column(self) -> None:
        """Format 2 → 3: events gain the words their lead reports use (filled by rebuilding them)."""
        columns = {str(r[1]) for r in self.execute("PRAGMA table_info(events)")}
        if "terms" not in columns:
            self.execute("ALTER TABLE events ADD COLUMN terms TEXT NOT NULL DEFAULT '{}'")

    def all_event_ids(self) -> list[str]:
        return [str(r[0]) for r in self.execute("SELECT id FROM events ORDER BY id")]

    def same_event_articles(self, rid: int) -> dict[int, int]:
        """Other articles reporting an event that article ``rid`` reports → 0 when they share its lead
        event, 1 when they share another of its events."""
        rows = self.execute(
            "SELECT o.article, min(CASE WHEN m.seq = (SELECT min(seq) FROM mentions WHERE article = ?) "
            "THEN 0 ELSE 1 END) FROM mentions m JOIN mentions o ON o.event = m.event "
            "WHERE m.article = ? AND o.article != ? GROUP BY o.article",
            (rid, rid, rid),
        ).fetchall()
        return {int(other): int(tier) for other, tier in rows}

    def event_ids_of(self, rids: Sequence[int]) -> dict[int, list[str]]:
        """article rid → the ids of the events it reports, its lead event first."""
        found: dict[int, list[str]] = {}
        for chunk in _chunks(list(rids)):
            rows = self.execute(
                "SELECT article, event FROM mentions "
                f"WHERE article IN ({','.join('?' * len(chunk))}) ORDER BY article, seq",
                chunk,
            ).fetchall()
            for rid, event in rows:
                events = found.setdefault(int(rid), [])
                if event not in events:
                    events.append(event)
        return found

    def find_events(
        self,
        *,
        since: str | None,
        until: str | None,
        places: Sequence[PlaceQuery],
        event_types: Sequence[str],
        where: ArticleFilter,
        limit: int | None,
    ) -> list[str]:
        """Ids of events with a mention matching the filters, by date (undated last), then id.

        ``since``/``until`` are ISO days (both inclusive) that the event's dates must overlap; ``where``
        filters the reporting articles.
        """
        clause, params = mention_conditions(places, event_types)
        article_clause, article_params = where.sql()
        conditions = [clause]
        if since is not None:
            conditions.append("coalesce(e.end_day, e.day) >= ?")
            params.append(since)
        if until is not None:
            conditions.append("e.day <= ?")
            params.append(until)
        sql = (
            "SELECT DISTINCT e.id, e.day FROM events e JOIN mentions m ON m.event = e.id "
            f"JOIN articles a ON a.rid = m.article WHERE {' AND '.join(conditions)} AND {article_clause} "
            "ORDER BY e.day IS NULL, e.day, e.id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [r[0] for r in self.execute(sql, [*params, *article_params]).fetchall()]

    def mentions_of_events(self, event_ids: Sequence[str]) -> dict[str, list[tuple[EventMention, int]]]:
        """event id → its mentions with the reporting article's rid, in the order they were stored."""
        found: dict[str, list[tuple[EventMention, int]]] = {}
        for chunk in _chunks(list(event_ids)):
            rows = self.execute(
                "SELECT event, data, article FROM mentions "
                f"WHERE event IN ({','.join('?' * len(chunk))}) ORDER BY article, seq",
                chunk,
            ).fetchall()
            for event, data, rid in rows:
                found.setdefault(event, []).append((EventMention.model_validate_json(data), int(rid)))
        return found

    # -- lexical ----------------------------------------------------------------------------------

    def lexical_from_memory(
        self, terms: Sequence[str], where: ArticleFilter, limit: int, *, among: IdArray | None = None
    ) -> list[tuple[int, float]] | None:
        """:meth:`lexical`, when every term's postings are in memory already, else None (at once)."""
        return self._lexical_in_memory(terms, where, limit, among, cached_only=True)

    def _lexical_in_memory(
        self,
        terms: Sequence[str],
        where: ArticleFilter,
        limit: int,
        among: IdArray | None,
        *,
        cached_only: bool,
    ) -> list[tuple[int, float]] | None:
        """The in-memory BM25, where it can answer: no filter, or the filter's rids in ``among``; and
        not inside a write of this connection, which only it can see."""
        if (where.active and among is None) or self._db.in_transaction:
            return None
        return self._bm25.top(terms, limit, cached_only=cached_only, among=among if where.active else None)

    def lexical(
        self,
        match: str,
        where: ArticleFilter,
        limit: int,
        *,
        terms: Sequence[str] | None = None,
        among: IdArray | None = None,
    ) -> list[tuple[int, float]]:
        """Articles matching an FTS5 query, best first, as (rid, score); score = -bm25 (higher is better).

        Titles weigh twice the body. Filters are part of the same SQL, so ``limit`` rows come back
        whenever that many matching articles exist. ``terms``, when given, are the phrases ``match``
        joins with OR; they are then scored in memory (:mod:`newsindex.bm25`), to the same scores,
        when there is no filter or ``among`` holds the sorted rids it matches, unless this connection
        is inside a write of its own, which only it can see.
        """
        found = self._lexical_in_memory(terms, where, limit, among, cached_only=False) if terms else None
        if found is not None:
            return found
        if not where.active:
            # No join without a filter: looking every match up in ``articles`` (whose rows hold the
            # bodies) doubled the cost (Reuters, 18,744 articles: 12.1 against 6.1 ms per title
            # query). The full-text index is kept in step with ``articles`` in the same transactions.
            rows = self.execute(
                "SELECT rowid, bm25(articles_fts, 2.0, 1.0) AS s FROM articles_fts "
                "WHERE articles_fts MATCH ? ORDER BY s LIMIT ?",
                [match, limit],
            ).fetchall()
        else:
            clause, params = where.sql()
            rows = self.execute(
                "SELECT a.rid, bm25(articles_fts, 2.0, 1.0) AS s FROM articles_fts "
                "JOIN articles a ON a.rid = articles_fts.rowid "
                f"WHERE articles_fts MATCH ? AND {clause} ORDER BY s LIMIT ?",
                [match, *params, limit],
            ).fetchall()
        return [(int(rid), -float(score)) for rid, score in rows]

    # -- counts ---------------------------------------------------------------------------------

    def count(self, table: str) -> int:
        exists = self.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).fetchone()
        if not exists:
            return 0
        return int(self.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    def has_passages(self) -> bool:
        """Whether any passage is stored (without counting them all, which a large index pays for)."""
        return self.execute("SELECT 1 FROM passages LIMIT 1").fetchone() is not None

    def count_sources(self) -> int:
        row = self.execute(
            "SELECT count(DISTINCT lower(source)) FROM articles WHERE source IS NOT NULL"
        ).fetchone()
        return int(row[0])
