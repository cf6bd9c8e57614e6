"""The gazetteer's cache file: a round trip gives what a fresh build gives, and damaged files, read-only
or missing directories, concurrent builders and forks never break loading.

The gazetteer is built once for the module (several seconds). The round trip writes all of it; the
other tests write its countries, regions and first districts only, which takes a fraction of a second.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsindex.events import gazetteer
from newsindex.events.gazetteer import Gazetteer, Place, load_gazetteer

KHARKIV_REGION = 706482
# Keys of places of every kind, some of them shared by several places.
SAMPLE_KEYS = ("kharkiv", "kiev", "santa cruz", "us", "ukraine", "nord kivu", "houet", "springfield", "x")


@pytest.fixture(scope="module")
def tables() -> gazetteer._Tables:
    return gazetteer._build()


@pytest.fixture(scope="module")
def small(tables: gazetteer._Tables) -> gazetteer._Tables:
    """The first places only (countries, then regions, then districts), with their keys."""
    kept = 6000
    assert max([*tables.admin1.values(), *tables.countries.values()]) < kept
    keys = {key: [n for n in numbers if n < kept] for key, numbers in tables.keys.items()}
    return tables._replace(places=tables.places[:kept], keys={key: ns for key, ns in keys.items() if ns})


class Builds:
    """Stands in for the gazetteer's build: counts the builds and returns tables built beforehand."""

    def __init__(self, tables: gazetteer._Tables) -> None:
        self.tables = tables
        self.count = 0

    def __call__(self) -> gazetteer._Tables:
        self.count += 1
        return self.tables


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    directory = tmp_path / "cache"
    monkeypatch.setenv("NEWSINDEX_CACHE_DIR", str(directory))
    load_gazetteer.cache_clear()
    yield directory
    load_gazetteer.cache_clear()  # later tests load the gazetteer of the real cache directory again
    if directory.is_dir():
        directory.chmod(0o755)  # so that pytest can remove it


@pytest.fixture
def builds(small: gazetteer._Tables, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Builds:
    counter = Builds(small)
    monkeypatch.setattr(gazetteer, "_build", counter)
    return counter


def cache_file(directory: Path) -> Path:
    (path,) = directory.glob("gazetteer-*.sqlite")
    return path


def reload() -> Gazetteer:
    load_gazetteer.cache_clear()
    return load_gazetteer()


def expected(tables: gazetteer._Tables, key: str) -> list[Place]:
    return [tables.places[number] for number in tables.keys.get(key, [])]


def assert_lookups(found: Gazetteer, tables: gazetteer._Tables) -> None:
    for key in SAMPLE_KEYS:
        assert found.candidates(key) == expected(tables, key), key


# --- the round trip ------------------------------------------------------------------------------


def test_round_trip_gives_the_lookups_of_a_fresh_build(
    tables: gazetteer._Tables, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = Builds(tables)
    monkeypatch.setattr(gazetteer, "_build", builds)
    load_gazetteer()
    path = cache_file(cache_dir)
    assert path.name.startswith(f"gazetteer-{gazetteer._FORMAT}-")
    cached = reload()
    assert builds.count == 1  # read from the file, not built again
    assert cached._opened == path

    # Everything stored comes back as it was built: places (with their missing values) and every key.
    rows = cached._connection.execute(f"SELECT {gazetteer._PLACE_COLUMNS} FROM place p ORDER BY p.id")
    assert [Place(*row) for row in rows] == tables.places
    keys: dict[str, list[int]] = {}
    for key, number in cached._connection.execute("SELECT key, place FROM name_key ORDER BY key, place"):
        keys.setdefault(key, []).append(number)
    assert keys == tables.keys

    assert_lookups(cached, tables)
    assert len(cached.candidates("kharkiv")) >= 2
    assert cached.candidates("no such place anywhere") == []
    assert cached.openers == tables.openers and "san" in cached.openers
    assert cached.common_words == tables.common_words and "hill" in cached.common_words
    for (country, code), number in tables.admin1.items():
        assert cached.region_of(tables.places[number]) == tables.places[number], (country, code)
    city = next(place for place in cached.candidates("kharkiv") if place.kind == "city")
    region = cached.region_of(city)
    assert region is not None and region.geonameid == KHARKIV_REGION
    ukraine = cached.country("UA")
    assert ukraine is not None and ukraine.name == "Ukraine" and cached.region_of(ukraine) is None


# --- damaged files -------------------------------------------------------------------------------


def test_truncated_cache_is_rebuilt(builds: Builds, cache_dir: Path) -> None:
    load_gazetteer()
    path = cache_file(cache_dir)
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    assert_lookups(reload(), builds.tables)
    assert builds.count == 2
    assert path.stat().st_size == size
    gazetteer._check_whole(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not a database\n" * 1000, b"SQLite format 3\x00" + bytes(range(256)) * 64],
    ids=["empty", "text", "header-then-garbage"],
)
def test_garbage_cache_is_rebuilt(builds: Builds, cache_dir: Path, content: bytes) -> None:
    load_gazetteer()
    path = cache_file(cache_dir)
    path.write_bytes(content)
    assert_lookups(reload(), builds.tables)
    assert builds.count == 2
    gazetteer._check_whole(path)


def test_cache_of_another_layout_is_rebuilt(builds: Builds, cache_dir: Path) -> None:
    load_gazetteer()
    path = cache_file(cache_dir)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE meta SET value = '0' WHERE name = 'format'")
    connection.close()
    assert_lookups(reload(), builds.tables)
    assert builds.count == 2


def test_pages_damaged_after_opening_are_rebuilt_on_lookup(builds: Builds, cache_dir: Path) -> None:
    load_gazetteer()
    path = cache_file(cache_dir)
    opened = reload()
    assert builds.count == 1
    # Zero the root page of the names table: the header and the small tables stay whole, so the file
    # opens, and the first lookup finds the damage.
    (root,) = opened._connection.execute(
        "SELECT rootpage FROM sqlite_schema WHERE name = 'name_key'"
    ).fetchone()
    (page_size,) = opened._connection.execute("PRAGMA page_size").fetchone()
    with open(path, "r+b") as handle:
        handle.seek((root - 1) * page_size)
        handle.write(bytes(page_size))
    opened._connection.close()
    opened._connection = gazetteer._connect(path)
    assert_lookups(opened, builds.tables)
    assert builds.count == 2
    assert_lookups(reload(), builds.tables)  # and the file was written again, whole
    assert builds.count == 2


# --- directories that cannot be written ----------------------------------------------------------


def test_cache_in_read_only_directory_is_read(builds: Builds, cache_dir: Path) -> None:
    load_gazetteer()
    cache_file(cache_dir).chmod(0o444)
    cache_dir.chmod(0o555)
    assert_lookups(reload(), builds.tables)
    assert builds.count == 1


def test_read_only_directory_keeps_the_gazetteer_in_memory(
    builds: Builds, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir.mkdir()
    cache_dir.chmod(0o555)
    if os.access(cache_dir, os.W_OK):  # root writes anywhere: refuse the file as a read-only directory would

        def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
            raise PermissionError(13, "Read-only directory")

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
    found = load_gazetteer()
    assert found._opened is None
    assert_lookups(found, builds.tables)
    assert list(cache_dir.iterdir()) == []


def test_missing_directory_that_cannot_be_made_keeps_the_gazetteer_in_memory(
    builds: Builds, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("in the way\n")
    monkeypatch.setenv("NEWSINDEX_CACHE_DIR", str(tmp_path / "a-file" / "cache"))
    found = reload()
    assert found._opened is None
    assert_lookups(found, builds.tables)


# --- several writers, stale files, forks ---------------------------------------------------------


def test_concurrent_builders_never_expose_half_a_file(builds: Builds, cache_dir: Path) -> None:
    path = gazetteer._cache_path()
    assert path is not None
    writers = [threading.Thread(target=gazetteer._write_cache, args=(path, builds.tables)) for _ in range(4)]
    # What a reader finds meanwhile: None for no file yet, else whether the file gave the right places.
    readings: list[bool | None] = []
    for writer in writers:
        writer.start()
    while any(writer.is_alive() for writer in writers):
        readings.append(read(path, builds.tables))
    for writer in writers:
        writer.join()
    readings.append(read(path, builds.tables))
    # Before the first rename there is no file; from then on, always a whole one.
    first = readings.index(True)
    assert readings[:first] == [None] * first
    assert all(readings[first:])
    assert [entry.name for entry in cache_dir.iterdir()] == [path.name]


def read(path: Path, tables: gazetteer._Tables) -> bool | None:
    found = gazetteer._open_cache(path)
    if found is None:
        return None
    try:
        return found.candidates("ukraine") == expected(tables, "ukraine")
    finally:
        found._connection.close()


def test_stale_cache_files_are_removed(builds: Builds, cache_dir: Path) -> None:
    cache_dir.mkdir()
    old_pickle = cache_dir / "gazetteer-17-3.0.2-2.1.0-26.2.16-1.0.1-2.0.2.pickle"
    old_version = cache_dir / "gazetteer-18-0.0.1-2.1.0-26.2.16-1.0.1-2.0.2.sqlite"
    abandoned = cache_dir / "gazetteer-18-x.sqlite.abc.tmp"
    in_progress = cache_dir / "gazetteer-18-x.sqlite.def.tmp"
    for stale in (old_pickle, old_version, abandoned, in_progress):
        stale.write_bytes(b"stale")
    long_ago = time.time() - 2 * gazetteer._ABANDONED_S
    os.utime(abandoned, (long_ago, long_ago))
    load_gazetteer()
    assert sorted(entry.name for entry in cache_dir.iterdir()) == sorted(
        [cache_file(cache_dir).name, in_progress.name]
    )


def test_forked_child_looks_places_up(builds: Builds, cache_dir: Path) -> None:
    found = load_gazetteer()
    assert found.candidates("ukraine")
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        ok = False
        try:
            ok = found.candidates("nord kivu") == expected(builds.tables, "nord kivu")
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
