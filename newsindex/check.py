"""``check_index``: find damage in an index directory and, on request, rebuild what the store allows.

The store (``store.sqlite``) is the truth; the vector file and the manifest are derived from it and can
always be rebuilt. A damaged store is salvaged row by row into a new file (the damaged one is kept
beside it); what could not be read is reported, never silently dropped from the count. The embedding
model is never loaded: checking and repairing need only the stored vectors.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from .errors import CorruptIndexError, NewsIndexError
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
from .store import SCHEMA, Store
from .vectorfile import VectorFileState, read_vector_file, write_vector_file
from .vectors import FaissRetriever, build_vector_index

__all__ = ["CheckReport", "Finding", "check_index"]

#: Tables in the order a salvage copies them (parents before children, for the foreign keys).
TABLES = ("meta", "articles", "passages", "tombstones", "events", "mentions", "mention_places")
#: Rows copied per statement in a salvage; a chunk that fails is retried row by row.
SALVAGE_CHUNK = 256
#: Passages compared per step between the vector file and the store.
COMPARE_CHUNK = 4096
#: How far a vector decoded from an approximate index's 8-bit codes may lie from the store's vector
#: encoded and decoded the same way (components of unit vectors). The same FAISS gives the same
#: codes; one code step (at most 2/255 of a component's range) is allowed for one that rounds
#: differently, far below what a vector of another passage differs by.
QUANTISED_TOLERANCE = 0.01


class Finding(BaseModel):
    """One problem: which file, what is wrong, what ``--repair`` does about it, and whether it did."""

    model_config = ConfigDict(frozen=False, extra="forbid")

    file: str
    problem: str
    repair: str
    repaired: bool = False


class CheckReport(BaseModel):
    """What :func:`check_index` looked at and found (``newsindex check --json``)."""

    model_config = ConfigDict(extra="forbid")

    path: str
    checked: list[str]
    findings: list[Finding]
    repaired: bool
    articles: int | None = None
    passages: int | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong now (nothing found, or everything found was repaired)."""
        return all(f.repaired for f in self.findings)


def check_index(path: str | Path, *, repair: bool = False, lock_timeout: float = 0.0) -> CheckReport:
    """Check the index at ``path``: the store's pages, keys and lexical index, the manifest, and that
    the vector file holds exactly the store's vectors. With ``repair``, rebuild what is damaged.

    Takes the writer lock (no writer may change the index meanwhile); raises
    :class:`~newsindex.errors.IndexLockedError` naming the holder when another process writes.
    """
    directory = Path(path)
    if not (directory / STORE_FILE).is_file():
        raise CorruptIndexError(str(directory), "no index here (store.sqlite is missing)")
    lock = WriterLock(directory / LOCK_FILE, timeout=lock_timeout)
    try:
        return _Checker(directory, repair).run()
    finally:
        lock.release()


class _Checker:
    def __init__(self, directory: Path, repair: bool) -> None:
        self.directory = directory
        self.repair = repair
        self.checked: list[str] = []
        self.findings: list[Finding] = []
        self.vectors_rebuilt = False

    def found(self, file: str, problem: str, repair: str) -> Finding:
        finding = Finding(file=str(self.directory / file), problem=problem, repair=repair)
        self.findings.append(finding)
        return finding

    def run(self) -> CheckReport:
        store_ok = self.check_store()
        articles = passages = None
        if store_ok:
            with _open_store(self.directory) as store:
                meta = store.meta()
                dim = int(meta["dim"])
                self.check_manifest(store, meta)
                self.check_vectors(store, dim)
                self.check_leftovers()
                articles, passages = store.count("articles"), store.count("passages")
        return CheckReport(
            path=str(self.directory),
            checked=self.checked,
            findings=self.findings,
            repaired=self.repair,
            articles=articles,
            passages=passages,
        )

    # -- the store ------------------------------------------------------------------------------

    def check_store(self) -> bool:
        """Pages, keys, settings and the lexical index; returns whether the store is usable now."""
        self.checked.append("store pages (PRAGMA integrity_check)")
        problems = _integrity_problems(self.directory / STORE_FILE)
        if problems:
            finding = self.found(
                STORE_FILE,
                "damaged: " + "; ".join(problems[:3]),
                "salvage every readable row into a new store (the damaged file is kept as "
                "store.sqlite.damaged), then rebuild the lexical index, the events and the vector file",
            )
            if not self.repair:
                return False
            salvage_store(self.directory, finding)
            if not finding.repaired:
                return False
        with _open_store(self.directory) as store:
            meta = store.meta()
            missing = {"format_version", "model", "dim"} - meta.keys()
            self.checked.append("store settings")
            if missing:
                self.found(
                    STORE_FILE, f"its settings lack {', '.join(sorted(missing))}", "none: rebuild the index"
                )
                return False
            self.checked.append("store keys (PRAGMA foreign_key_check)")
            dangling = store.execute("PRAGMA foreign_key_check").fetchall()
            if dangling:
                tables = sorted({str(row[0]) for row in dangling})
                finding = self.found(
                    STORE_FILE,
                    f"{len(dangling)} rows point at rows that do not exist (in {', '.join(tables)})",
                    "delete those rows and rebuild the events they belonged to",
                )
                if self.repair:
                    _drop_dangling(store, int(meta["dim"]))
                    finding.repaired = True
            self.checked.append("lexical index (FTS5 integrity-check)")
            try:
                store.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
            except NewsIndexError as exc:
                finding = self.found(
                    STORE_FILE,
                    f"the lexical index disagrees with the articles ({exc.__cause__ or exc})",
                    "rebuild the lexical index from the articles",
                )
                if self.repair:
                    with store.transaction():
                        store.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
                    finding.repaired = True
            self.checked.append("events (each has mentions)")
            empty = store.execute(
                "SELECT count(*) FROM events WHERE id NOT IN (SELECT event FROM mentions)"
            ).fetchone()[0]
            if empty:
                finding = self.found(STORE_FILE, f"events without mentions: {empty}", "delete them")
                if self.repair:
                    with store.transaction():
                        store.execute("DELETE FROM events WHERE id NOT IN (SELECT event FROM mentions)")
                    finding.repaired = True
        return True

    # -- the manifest ---------------------------------------------------------------------------

    def check_manifest(self, store: Store, meta: dict[str, str]) -> None:
        self.checked.append("manifest.json")
        try:
            manifest = read_manifest(self.directory / MANIFEST_FILE)
        except CorruptIndexError as exc:
            problem = exc.reason
        else:
            if manifest is None:
                problem = "is missing"
            else:
                wrong = [
                    key
                    for key, want in (
                        ("format_version", int(meta["format_version"])),
                        ("model", meta["model"]),
                        ("dim", int(meta["dim"])),
                    )
                    if manifest.get(key) != want
                ]
                problem = f"disagrees with the store on {', '.join(wrong)}" if wrong else ""
        if problem:
            finding = self.found(MANIFEST_FILE, problem, "rewrite it from the store (and the vector file)")
            if self.repair:
                self._rebuild_vectors(store, int(meta["dim"]))
                finding.repaired = True

    # -- the vector file ------------------------------------------------------------------------

    def check_vectors(self, store: Store, dim: int) -> None:
        self.checked.append("vectors.faiss against the store's vectors")
        file = self.directory / VECTORS_FILE
        if self.vectors_rebuilt:
            return
        if not file.is_file():
            return  # not written yet (it is written lazily): the next open builds it from the store
        try:
            manifest = self.directory / MANIFEST_FILE
            vectors, state = read_vector_file(file, dim, lambda: read_manifest(manifest))
            problem = _compare_vectors(vectors, state, store, dim)
        except CorruptIndexError as exc:
            problem = exc.reason
        if problem:
            finding = self.found(VECTORS_FILE, problem, "rebuild it from the store")
            if self.repair:
                self._rebuild_vectors(store, dim)
                finding.repaired = True

    def _rebuild_vectors(self, store: Store, dim: int) -> None:
        self.vectors_rebuilt = True
        ids, matrix = store.vectors_after(0, dim)
        vectors, recall = build_vector_index(ids, matrix)
        del matrix
        counts = {"articles": store.count("articles"), "passages": store.count("passages")}
        meta = store.meta()

        def record(state: VectorFileState) -> None:
            write_manifest(
                self.directory / MANIFEST_FILE,
                manifest_content(
                    model=meta["model"],
                    dim=dim,
                    vector_index=vectors.kind,
                    counts=counts,
                    vector_states=[state],
                    vector_search={**vectors.search_settings(), "recall_at_10": recall},
                ),
            )

        write_vector_file(vectors, self.directory / VECTORS_FILE, store.last_tombstone(), record)

    def check_leftovers(self) -> None:
        self.checked.append("leftover temporary files")
        for leftover in sorted(self.directory.glob("*.tmp")):
            finding = self.found(leftover.name, "is left over from an interrupted write", "delete it")
            if self.repair:
                leftover.unlink(missing_ok=True)
                finding.repaired = True


@contextmanager
def _open_store(directory: Path) -> Iterator[Store]:
    store = Store(directory / STORE_FILE)
    try:
        yield store
    finally:
        store.close()


def _integrity_problems(path: Path) -> list[str]:
    """SQLite's own check of every page and index; [] when the file is sound."""
    try:
        db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        rows = db.execute("PRAGMA integrity_check(20)").fetchall()
    except sqlite3.Error as exc:
        return [str(exc)]
    finally:
        db.close()
    messages = [str(row[0]) for row in rows]
    return [] if messages == ["ok"] else messages


def _compare_vectors(vectors: FaissRetriever, state: VectorFileState, store: Store, dim: int) -> str:
    """'' when the file, caught up with the store's later changes, holds exactly the store's vectors
    (for an approximate index: their 8-bit codes, the codes of the store's vectors)."""
    stored_ids = store.passage_ids()
    held_ids = vectors.stored_ids()
    ceiling = store.passage_id_ceiling()
    if len(held_ids) and int(held_ids.max()) > ceiling:
        return f"holds passage ids up to {int(held_ids.max())}; the store never assigned one above {ceiling}"
    if len(np.unique(held_ids)) != len(held_ids):
        return "holds some passage ids twice"
    problem = vectors.structure_problem()
    if problem:
        return problem
    if vectors.kind == "flat":
        _, removed = store.tombstones_after(state.tombstone_seq)
        vectors.remove(removed)
        extra = np.setdiff1d(vectors.ids(), stored_ids)
        if len(extra):
            return f"holds {len(extra)} vectors of passages the store does not have (a copy from elsewhere?)"
    # Vectors added after the file was written are caught up on open; those in the file must match
    # the store's as the index encodes them (8-bit codes clip components outside the ranges they
    # were trained on: at a million vectors, some decoded 0.035 away from the stored float, and a
    # fixed tolerance of 0.02 reported a sound file as damaged).
    tolerance = 0.0 if vectors.kind == "flat" else QUANTISED_TOLERANCE
    for pos in range(0, len(vectors.stored_ids()), COMPARE_CHUNK):
        ids, held = vectors.vectors_at(pos, COMPARE_CHUNK)
        live = np.isin(ids, stored_ids)
        stored = vectors.as_stored(store.vectors_of(ids[live], dim))
        if not np.allclose(held[live], stored, rtol=0.0, atol=tolerance):
            return "holds vectors that differ from the store's"
    return ""


def _drop_dangling(store: Store, dim: int) -> None:
    """Delete rows whose parent row is gone, children first, and rebuild the events left."""
    with store.transaction():
        store.execute("DELETE FROM mention_places WHERE mention NOT IN (SELECT id FROM mentions)")
        touched = [
            str(r[0])
            for r in store.execute(
                "SELECT DISTINCT event FROM mentions WHERE article NOT IN (SELECT rid FROM articles)"
            ).fetchall()
        ]
        store.execute("DELETE FROM mentions WHERE article NOT IN (SELECT rid FROM articles)")
        removed = store.execute(
            "SELECT id FROM passages WHERE article NOT IN (SELECT rid FROM articles)"
        ).fetchall()
        store.execute("DELETE FROM passages WHERE article NOT IN (SELECT rid FROM articles)")
        store.executemany("INSERT INTO tombstones (passage) VALUES (?)", removed)
        touched += [
            str(r[0])
            for r in store.execute(
                "SELECT DISTINCT event FROM mentions WHERE event NOT IN (SELECT id FROM events)"
            ).fetchall()
        ]
        for event_id in dict.fromkeys(touched):
            store.rebuild_event(event_id, dim)


def salvage_store(directory: Path, finding: Finding) -> None:
    """Copy every readable row of a damaged store into a new one and put it in place.

    The damaged file is kept as ``store.sqlite.damaged``. Sets ``finding.repaired`` and appends to
    its problem how many rows were recovered and lost.
    """
    damaged = directory / STORE_FILE
    fresh = directory / (STORE_FILE + ".salvage")
    for stale in (fresh, fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
        stale.unlink(missing_ok=True)
    readable = directory / (STORE_FILE + ".readable")
    _readable_copy(damaged, readable)
    try:
        source = sqlite3.connect(f"{readable.resolve().as_uri()}?mode=ro", uri=True)
        source.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        readable.unlink(missing_ok=True)
        finding.problem += f"; nothing can be salvaged ({exc}): restore a backup or re-ingest the sources"
        finding.repair = "none"
        return
    target = sqlite3.connect(fresh, isolation_level=None)
    try:
        target.executescript(SCHEMA)
        copied, lost = {}, {}
        for table in TABLES:
            copied[table], lost[table] = _copy_table(source, target, table)
        _keep_ids_growing(source, target)
    finally:
        source.close()
        target.close()
        readable.unlink(missing_ok=True)
    if copied["meta"] == 0 or lost["meta"]:
        fresh.unlink(missing_ok=True)
        finding.problem += "; its settings cannot be read: restore a backup or re-ingest the sources"
        finding.repair = "none"
        return
    for suffix in ("", "-wal", "-shm"):
        part = directory / (STORE_FILE + suffix)
        if part.exists():
            shutil.move(part, directory / (STORE_FILE + ".damaged" + suffix))
    fresh.replace(damaged)
    with _open_store(directory) as store:
        _drop_dangling(store, int(store.meta()["dim"]))
        with store.transaction():
            store.execute("INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')")
            store.set_meta("format_version", store.meta().get("format_version", str(FORMAT_VERSION)))
    (directory / VECTORS_FILE).unlink(missing_ok=True)  # rebuilt from the salvaged store
    summary = ", ".join(f"{table} {copied[table]} kept, {lost[table]} lost" for table in TABLES[1:3])
    finding.problem += f"; salvaged ({summary}; the damaged file is {STORE_FILE}.damaged)"
    finding.repaired = True


def _readable_copy(damaged: Path, copy: Path) -> None:
    """A copy of the damaged store that SQLite will read as far as it goes.

    A truncated file still claims its old page count in its header, and SQLite then calls even the
    intact schema malformed; recording the pages that are really there lets it read every page left.
    The store's WAL, if any, goes along so that committed changes in it are not lost.
    """
    data = bytearray(damaged.read_bytes())
    for suffix in ("-wal",):
        side = damaged.with_name(damaged.name + suffix)
        if side.exists():
            shutil.copy(side, copy.with_name(copy.name + suffix))
    if len(data) >= 100 and data[:16] == b"SQLite format 3\x00":
        page_size = int.from_bytes(data[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        if page_size >= 512:
            pages = len(data) // page_size
            if int.from_bytes(data[28:32], "big") > pages:
                del data[pages * page_size :]
                data[28:32] = pages.to_bytes(4, "big")
    copy.write_bytes(bytes(data))


def _copy_table(source: sqlite3.Connection, target: sqlite3.Connection, table: str) -> tuple[int, int]:
    """Copy the readable rows of ``table``; returns (rows copied, rows known to exist but unreadable).

    A plain scan stops at the first damaged page. The table's indexes hold the rowids too, so rows a
    damaged page hides from the scan are found through them and read one by one where possible.
    """
    try:
        columns = [str(r[1]) for r in source.execute(f"PRAGMA table_info({table})")]
        indexes = [
            str(r[0])
            for r in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
            )
        ]
    except sqlite3.Error:
        return 0, 0
    names = ", ".join(["rowid", *columns])
    insert = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({', '.join('?' * (len(columns) + 1))})"
    copied: set[int] = set()
    target.execute("BEGIN")

    def keep(rows: list[tuple[object, ...]]) -> None:
        target.executemany(insert, rows)
        copied.update(int(str(row[0])) for row in rows)

    _read_until_damage(source, f"SELECT {names} FROM {table}", keep)
    hidden: set[int] = set()
    for index in indexes:
        _read_until_damage(
            source,
            f"SELECT rowid FROM {table} INDEXED BY {index}",
            lambda rows: hidden.update(int(str(r[0])) for r in rows),
        )
    lost = 0
    for rowid in sorted(hidden - copied):
        try:
            row = source.execute(f"SELECT {names} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.Error:
            lost += 1
            continue
        if row is not None:
            keep([row])
    target.execute("COMMIT")
    return len(copied), lost


def _read_until_damage(
    source: sqlite3.Connection, sql: str, take: Callable[[list[tuple[object, ...]]], None]
) -> None:
    """Hand ``take`` the rows of ``sql`` in chunks, stopping quietly where the file is damaged."""
    try:
        cursor = source.execute(sql)
        while rows := cursor.fetchmany(SALVAGE_CHUNK):
            take(rows)
    except sqlite3.Error:
        return


def _keep_ids_growing(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Passage ids must never be reused (readers' vector copies rely on it): carry the old counters
    over, and never below a tombstoned id."""
    try:
        counters = source.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
    except sqlite3.Error:
        counters = []
    for name, seq in counters:
        target.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, name))
    target.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(passage), 0) FROM tombstones)) "
        "WHERE name = 'passages'"
    )
