"""Files and directories → a stream of outcomes, one per record, in a deterministic order.

Directories are walked recursively in sorted order; symlinked directories are not followed (no
loops, no escaping the tree), hidden entries are ignored, and ``README*`` files, unknown types, FIFOs,
devices and broken or looping symbolic links are reported as :class:`~newsindex.ingest.base.ReadSkip`.
A file that cannot be read becomes a :class:`~newsindex.models.Failure` and the walk goes on; only a
missing optional package (:class:`~newsindex.errors.DependencyError`) or a bad setting stops it, since
every later file would fail the same way.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import ConfigurationError, DependencyError
from ..models import Failure, body_limit
from .base import SNIFF_BYTES, Outcome, ReadSkip, failure_from
from .feed import iter_feed
from .html import read_html
from .jsonfmt import iter_json, iter_jsonl
from .text import read_text

__all__ = ["EXTENSIONS", "FORMATS", "PathArg", "iter_load", "sniff_format"]

#: Accepted values of ``format``: ``"auto"`` picks a reader per file from its extension.
FORMATS: tuple[str, ...] = ("auto", "text", "json", "jsonl", "html", "feed")

#: File extensions (lower case) each reader takes when ``format="auto"``.
EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}

#: A path as users give it.
PathArg = str | os.PathLike[str]

_Reader = Callable[[Path, str, "int | None"], Iterable[Outcome]]
_READERS: dict[str, _Reader] = {
    "text": lambda path, where, limit: [read_text(path, where=where, max_body_chars=limit)],
    "json": lambda path, where, limit: iter_json(path, where=where, max_body_chars=limit),
    "jsonl": lambda path, where, limit: iter_jsonl(path, where=where, max_body_chars=limit),
    "html": lambda path, where, limit: [read_html(path, where=where, max_body_chars=limit)],
    "feed": lambda path, where, limit: iter_feed(path, where=where, max_body_chars=limit),
}


def _check_format(format: str) -> str:
    if not isinstance(format, str) or format.strip().lower() not in FORMATS:
        raise ConfigurationError(f"unknown format {format!r}: expected one of {', '.join(FORMATS)}")
    return format.strip().lower()


def _path_list(paths: PathArg | Iterable[PathArg]) -> list[PathArg]:
    """One path or many; a ``str`` is always one path, never a sequence of characters."""
    items: list[object] = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise ConfigurationError(f"expected a file or directory path, got {type(item).__name__}")
    return items  # type: ignore[return-value]  # checked element by element above


def sniff_format(path: PathArg) -> str:
    """Guess the format of a file from its first bytes (for a named file of unknown extension)."""
    with open(path, "rb") as fh:
        head_bytes = fh.read(8 * SNIFF_BYTES)
    head = head_bytes.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("{"):
        # One object on the first line and more after it: JSON Lines rather than one JSON document.
        first, _, rest = head.partition("\n")
        try:
            json.loads(first)
        except ValueError:
            return "json"
        return "jsonl" if rest.strip() else "json"
    if head.startswith("["):
        return "json"
    if head.startswith("<"):
        lowered = head[:4096].lower()
        if "<rss" in lowered or "<feed" in lowered or "<rdf:rdf" in lowered:
            return "feed"
        if "<html" in lowered or "<!doctype html" in lowered:
            return "html"
    return "text"


def _read(path: Path, fmt: str, limit: int | None) -> Iterator[Outcome]:
    """Run one reader over one file; whatever goes wrong becomes a Failure for that file."""
    where = str(path)
    try:
        yield from _READERS[fmt](path, where, limit)
    except (DependencyError, ConfigurationError):
        raise
    except Exception as exc:
        yield failure_from(exc, where)


def _is_readme(name: str) -> bool:
    return name.upper().startswith("README")


def _dangling_link_reason(path: Path) -> str:
    """Why a symbolic link leads to no file: a loop, or a missing target."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (too many levels of symbolic links)"
    return "broken symbolic link"


def _walk(directory: Path, fmt: str, limit: int | None) -> Iterator[Outcome]:
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError as exc:
        yield failure_from(exc, str(directory))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue  # hidden: version-control folders, editor backups, OS litter
        child = directory / entry.name
        where = str(child)
        try:
            if entry.is_dir(follow_symlinks=False):
                kind = "dir"
            elif entry.is_symlink() and entry.is_dir():
                kind = "linked dir"
            else:
                kind = "file" if entry.is_file() else "other"
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                yield failure_from(exc, where)
                continue
            kind = "other"  # a symbolic link loop: skipped like a broken link
        if kind == "dir":
            if (child / "store.sqlite").is_file() and (child / "manifest.json").is_file():
                # An index kept inside the folder it indexes: its files are not articles.
                yield ReadSkip(where=where, reason="a newsindex index directory")
                continue
            yield from _walk(child, fmt, limit)
            continue
        if kind == "linked dir":
            yield ReadSkip(where=where, reason="symbolic link to a directory, not followed")
            continue
        if kind == "other":
            if not entry.is_symlink():
                yield ReadSkip(where=where, reason="not a regular file")  # a FIFO, socket or device
            elif child.exists():
                yield ReadSkip(where=where, reason="symbolic link to something not a regular file")
            else:
                yield ReadSkip(where=where, reason=_dangling_link_reason(child))
            continue
        if _is_readme(entry.name):
            yield ReadSkip(where=where, reason="README file")
            continue
        chosen = fmt
        if fmt == "auto":
            suffix = child.suffix.lower()
            if suffix not in EXTENSIONS:
                kind = f"'{suffix}'" if suffix else "(no extension)"
                yield ReadSkip(where=where, reason=f"unknown file type {kind}")
                continue
            chosen = EXTENSIONS[suffix]
        yield from _read(child, chosen, limit)


def _load_one(item: PathArg, fmt: str, limit: int | None) -> Iterator[Outcome]:
    """A path the caller named: a directory is walked, a file is read whatever its name."""
    path = Path(item)
    where = os.fspath(item)
    try:
        if not path.exists():
            reason = _dangling_link_reason(path) if path.is_symlink() else "no such file or directory"
            yield Failure(where=where, reason=reason)
            return
        if path.is_dir():  # a named directory is walked even when it is a symlink
            yield from _walk(path, fmt, limit)
            return
        if not path.is_file():
            yield ReadSkip(where=where, reason="not a regular file")
            return
        chosen = fmt
        if fmt == "auto":
            chosen = EXTENSIONS.get(path.suffix.lower()) or sniff_format(path)
    except OSError as exc:
        yield failure_from(exc, where)
        return
    yield from _read(path, chosen, limit)


def iter_load(
    paths: PathArg | Iterable[PathArg],
    format: str = "auto",
    *,
    max_body_chars: int | None = None,
) -> Iterator[Outcome]:
    """Read files and directories, yielding an Article, Failure or ReadSkip per record.

    ``format`` is one of :data:`FORMATS`; ``"auto"`` picks the reader by extension (a named file of
    unknown extension is sniffed), any other value forces that reader for every file. Arguments are
    checked at once (:class:`~newsindex.errors.ConfigurationError`); files are read lazily.
    ``max_body_chars`` (default 1,000,000) bounds each body and, through it, the bytes read per
    record and per file (see :mod:`newsindex.ingest.base`).
    """
    fmt = _check_format(format)
    body_limit(max_body_chars)  # a bad limit is the caller's error, not one per record
    items = _path_list(paths)

    def outcomes() -> Iterator[Outcome]:
        for item in items:
            yield from _load_one(item, fmt, max_body_chars)

    return outcomes()
