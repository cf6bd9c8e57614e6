"""Pieces every reader shares: the outcome types, safe file reading, and dict → Article mapping.

Readers never stop a whole load because of one bad record: they report each record as an
:class:`~newsindex.models.Article`, a :class:`~newsindex.models.Failure` (could not be read) or a
:class:`ReadSkip` (passed over on purpose), and the caller decides what to do with failures.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeAlias

from pydantic import JsonValue

from ..errors import ConfigurationError, DependencyError, IngestError, ValidationError
from ..models import MAX_METADATA_DEPTH, Article, Failure, body_limit

__all__ = [
    "BOM_UTF16",
    "FIELD_ALIASES",
    "FILE_BYTES_PER_BODY_CHAR",
    "RECORD_BYTES_PER_BODY_CHAR",
    "SNIFF_BYTES",
    "Outcome",
    "ReadSkip",
    "SizeLimit",
    "check_not_binary",
    "clean_language",
    "decode_text",
    "failure_from",
    "guarded",
    "make_article",
    "path_id",
    "read_file_bytes",
    "read_text_file",
    "record_size_limit",
    "resolved_path",
    "whole_file_size_limit",
]

#: How much of a file is inspected for NUL bytes (binary detection) and for format sniffing.
SNIFF_BYTES = 8192

_BOM_UTF8 = b"\xef\xbb\xbf"
BOM_UTF16 = (b"\xff\xfe", b"\xfe\xff")


@dataclass(frozen=True, slots=True)
class ReadSkip:
    """A file passed over on purpose (unknown type, ``README*``, ...): listed, but not a failure."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


#: What reading yields, one per record: an article, a failure, or a deliberate skip.
Outcome: TypeAlias = Article | Failure | ReadSkip


# --------------------------------------------------------------------------------------------------
# Size limits: inputs are measured before they are read, so a huge file costs neither memory nor time.

#: Most bytes one article's input may take (a text file, a web page, a JSON record or line), per
#: character of the body limit: 16 MB by default. Generous on purpose: a body written as JSON escapes
#: takes up to 12 bytes a character (two ``\uXXXX`` for one emoji), a page carries markup, and
#: title, tags and metadata come on top.
RECORD_BYTES_PER_BODY_CHAR = 16
#: Most bytes of a file that must be parsed whole to find its records (a ``.json`` document, a feed),
#: per character of the body limit: 32 MB by default. Parsed, such a file takes a few times its size
#: in memory; JSON Lines files are read a line at a time and have no such limit.
FILE_BYTES_PER_BODY_CHAR = 32


@dataclass(frozen=True, slots=True)
class SizeLimit:
    """The most bytes an input may take, and how that number came about (both quoted in errors)."""

    bytes: int
    rule: str
    hint: str = ""

    def error(self, size: int, where: str, what: str = "file", *, at_least: bool = False) -> IngestError:
        """The error for ``what`` at ``where`` of ``size`` bytes (``at_least``: more than the limit)."""
        amount = f"more than {self.bytes:,}" if at_least else f"{size:,}"
        hint = f"; {self.hint}" if self.hint else ""
        return IngestError(
            where, f"{what} has {amount} bytes, over the limit of {self.bytes:,} {self.rule}{hint}"
        )

    def check(self, size: int, where: str, what: str = "file", *, at_least: bool = False) -> None:
        """Raise :meth:`error` when ``size`` is over the limit."""
        if size > self.bytes:
            raise self.error(size, where, what, at_least=at_least)


def record_size_limit(max_body_chars: int | None) -> SizeLimit:
    """The limit on one article's input (see :data:`RECORD_BYTES_PER_BODY_CHAR`)."""
    body = body_limit(max_body_chars)
    return SizeLimit(
        RECORD_BYTES_PER_BODY_CHAR * body,
        f"for one article ({RECORD_BYTES_PER_BODY_CHAR} bytes per character of max_body_chars={body:,})",
    )


def whole_file_size_limit(max_body_chars: int | None, hint: str = "") -> SizeLimit:
    """The limit on a file parsed whole (see :data:`FILE_BYTES_PER_BODY_CHAR`)."""
    body = body_limit(max_body_chars)
    return SizeLimit(
        FILE_BYTES_PER_BODY_CHAR * body,
        f"for a file read whole ({FILE_BYTES_PER_BODY_CHAR} bytes per character of max_body_chars={body:,})",
        hint,
    )


# --------------------------------------------------------------------------------------------------
# Reading files


def read_file_bytes(
    path: str | os.PathLike[str], *, where: str | None = None, limit: SizeLimit | None = None
) -> bytes:
    """Read a whole file, refusing binary files (NUL bytes near the start) with :class:`IngestError`.

    A file over ``limit`` is refused from its size, before anything is read.
    """
    name = where or os.fspath(path)
    with open(path, "rb") as fh:
        if limit is None:
            data = fh.read()
        else:
            limit.check(os.fstat(fh.fileno()).st_size, name)
            data = fh.read(limit.bytes + 1)  # the file may have grown since
            limit.check(len(data), name, at_least=True)
    check_not_binary(data[:SNIFF_BYTES], name)
    return data


def check_not_binary(head: bytes, where: str) -> None:
    """Raise :class:`IngestError` when ``head`` (the start of a file) looks binary.

    NUL bytes never occur in UTF-8 text; UTF-16 text (which is full of them) is recognised by its BOM.
    """
    if b"\x00" in head and not head.startswith(BOM_UTF16):
        raise IngestError(where, "binary file, not text")


def decode_text(
    data: bytes, where: str, *, base_offset: int = 0, first_line: int = 1, utf16: bool = True
) -> str:
    """Decode UTF-8 (a BOM is dropped; UTF-16 with a BOM is accepted too), newlines made ``\\n``.

    Invalid bytes raise :class:`IngestError` naming the first bad byte and its offset in the file
    and line, so the user can find it (``base_offset`` and ``first_line`` place a slice of a file;
    ``utf16=False`` for such a slice, where a BOM-like start is just bad bytes).
    """
    if utf16 and data.startswith(BOM_UTF16):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError(where, f"not valid UTF-16: bad data at offset {exc.start}") from exc
    else:
        skip = len(_BOM_UTF8) if data.startswith(_BOM_UTF8) else 0
        try:
            text = data[skip:].decode("utf-8")
        except UnicodeDecodeError as exc:
            offset = skip + exc.start
            line = first_line + data.count(b"\n", 0, offset)
            raise IngestError(
                where,
                f"not valid UTF-8: byte 0x{data[offset]:02x} at offset {base_offset + offset} (line {line})",
            ) from exc
    # Universal newlines, as open() in text mode would give: Windows files read like Unix ones.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text_file(
    path: str | os.PathLike[str], *, where: str | None = None, limit: SizeLimit | None = None
) -> str:
    """Read a UTF-8 text file; binary files, invalid UTF-8 and files over ``limit`` raise
    :class:`IngestError`."""
    name = where or os.fspath(path)
    return decode_text(read_file_bytes(path, where=name, limit=limit), name)


def resolved_path(path: str | os.PathLike[str]) -> str:
    """The absolute, symlink-free path of a file, as text (what ``metadata["path"]`` holds)."""
    return str(Path(path).resolve())


def path_id(path: str | os.PathLike[str]) -> str:
    """A stable article id for a file without a URL or id of its own.

    Derived from the resolved path, not the content, so re-reading an edited file updates the
    same article instead of adding a second one.
    """
    basis = "path\x1f" + resolved_path(path)
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def clean_language(value: object) -> str | None:
    """A language tag found in a page or feed, or None when it does not look like one.

    Pages and feeds often carry sloppy values ("English", "en_US ", ""); a bad tag there should
    not cost the article, so it is dropped (the default applies) instead of failing validation.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _LANGUAGE.fullmatch(text):
        return None
    return text.replace("_", "-").lower()


# --------------------------------------------------------------------------------------------------
# Turning exceptions into failures


def failure_from(exc: BaseException, where: str) -> Failure:
    """Describe an exception raised while reading ``where`` as a :class:`Failure`."""
    reason: str
    if isinstance(exc, IngestError):
        return Failure(where=exc.where, reason=exc.reason)
    if isinstance(exc, ValidationError):
        reason = str(exc)
        if exc.record:
            # The record is already in ``where``; do not repeat it inside the reason.
            reason = reason.replace(f" ({exc.record})", "", 1)
    elif isinstance(exc, FileNotFoundError):
        reason = "no such file or directory"
    elif isinstance(exc, OSError) and exc.errno == errno.ELOOP:
        reason = "symbolic link loop (too many levels of symbolic links)"
    elif isinstance(exc, OSError):
        text = exc.strerror or str(exc) or type(exc).__name__
        reason = text[:1].lower() + text[1:]
    elif isinstance(exc, UnicodeDecodeError):
        reason = f"cannot decode text: {exc.reason} at offset {exc.start}"
    elif isinstance(exc, RecursionError):
        reason = "data nested too deeply to read"
    elif isinstance(exc, MemoryError):
        reason = "too large to read into memory"
    else:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Failure(where=where, reason=reason)


def guarded(build: Callable[[], Article], where: str) -> Article | Failure:
    """Run ``build``; any error except a missing dependency or a bad setting becomes a Failure."""
    try:
        return build()
    except (DependencyError, ConfigurationError):
        raise  # not a problem of this record: every record would fail the same way
    except Exception as exc:
        return failure_from(exc, where)


# --------------------------------------------------------------------------------------------------
# dict → Article

#: Accepted input names per Article field, in priority order; the field's own name comes first.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "guid", "uuid"),
    "title": ("title", "headline"),
    "body": ("body", "text", "content", "article", "story", "description"),
    "url": ("url", "link"),
    "source": ("source", "publisher", "outlet", "site"),
    "published": (
        "published",
        "date",
        "publish_date",
        "published_at",
        "pubdate",
        "datetime",
        "timestamp",
    ),
    "language": ("language", "lang"),
    "authors": ("authors", "author", "byline"),
    "tags": ("tags", "keywords"),
}

# Epoch numbers above this are milliseconds: as seconds they would be past the year 5000.
_EPOCH_MS_THRESHOLD = 100_000_000_000


def _norm_key(key: str) -> str:
    """Key spelling that ignores case and separators: ``publishedAt`` matches ``published_at``."""
    return re.sub(r"[\s_\-]", "", key).lower()


def _present(value: object) -> bool:
    """Whether a value says something: not None, not blank text, not an empty list or object."""
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | Mapping):
        return bool(value)
    return value is not None


def _name_of(value: object, keys: Iterable[str] = ("name",)) -> object:
    """``{"name": "Reuters"}`` → ``"Reuters"``; anything else unchanged (validation judges it)."""
    if isinstance(value, Mapping):
        for key in keys:
            inner = value.get(key)
            if isinstance(inner, str) and inner.strip():
                return inner
    return value


def _names(value: object, keys: Iterable[str]) -> object:
    keys = tuple(keys)
    if isinstance(value, Mapping):
        return [_name_of(value, keys)]
    if isinstance(value, list | tuple):
        return [_name_of(item, keys) for item in value]
    return value


def _clean_field(field: str, value: object) -> object:
    """Reshape common variants of a field's value into what :class:`Article` accepts."""
    if field == "source":
        return _name_of(value, ("name", "title"))
    if field == "authors":
        return _names(value, ("name",))
    if field == "tags":
        if isinstance(value, str):
            return [part for part in value.split(",") if part.strip()]  # "war, energy" → two tags
        return _names(value, ("name", "term", "label"))
    if field == "body" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n\n".join(v.strip() for v in value if v.strip())  # a list of paragraphs
    if (
        field == "published"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) >= _EPOCH_MS_THRESHOLD
    ):
        return value / 1000
    return value


class _TooDeepError(Exception):
    """A metadata value nested deeper than :data:`~newsindex.models.MAX_METADATA_DEPTH`."""


def _json_value(value: object, depth: int = 1) -> JsonValue:
    """A JSON-compatible copy of ``value`` for ``metadata`` (dates as ISO text, others as text).

    Raises :class:`_TooDeepError` past the metadata depth limit, which also keeps the recursion short.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN/Infinity
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple) and depth > MAX_METADATA_DEPTH:
        raise _TooDeepError
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v, depth + 1) for v in value]
    return str(value)


def _metadata_value(key: str, value: object, where: str) -> JsonValue:
    """``_json_value`` of one top-level key, whose error names the key and the record."""
    try:
        return _json_value(value, 2)  # a value under a key is already one level into metadata
    except _TooDeepError:
        raise ValidationError(
            f"invalid Article ({where}): field 'metadata': {key!r} is nested more than "
            f"{MAX_METADATA_DEPTH} levels deep",
            field="metadata",
            record=where,
        ) from None


def make_article(data: Mapping[str, Any], *, where: str, max_body_chars: int | None = None) -> Article:
    """Build an :class:`Article` from a loosely shaped record (JSON object, dict).

    Keys are matched ignoring case and ``_``/``-``; each field takes its own name first, then its
    aliases in :data:`FIELD_ALIASES` order, skipping empty values. Every other key (and any alias
    not used) goes into ``metadata``. Raises :class:`~newsindex.errors.ValidationError` naming the
    field and ``where``.
    """
    keys_by_norm: dict[str, list[str]] = {}
    for key in data:
        keys_by_norm.setdefault(_norm_key(str(key)), []).append(key)

    mapped: dict[str, object] = {}
    used: set[str] = set()
    for field, aliases in FIELD_ALIASES.items():
        candidates: list[str] = []
        for alias in aliases:
            same = keys_by_norm.get(_norm_key(alias), [])
            # The exact spelling before other casings of the same name.
            candidates.extend([k for k in same if k == alias] + [k for k in same if k != alias])
        if not candidates:
            continue
        # The first non-empty value wins; if all are empty keep the first, so validation
        # reports "body is empty" rather than "body is missing".
        chosen = next((k for k in candidates if _present(data[k])), candidates[0])
        mapped[field] = _clean_field(field, data[chosen])
        used.add(chosen)

    metadata: dict[str, JsonValue] = {}
    given_metadata: object = None
    for key, value in data.items():
        if key in used:
            continue
        if _norm_key(str(key)) == "metadata" and isinstance(value, Mapping):
            given_metadata = value
            continue
        metadata[str(key)] = _metadata_value(str(key), value, where)
    if isinstance(given_metadata, Mapping):
        # An explicit "metadata" object is the field itself: its keys win over loose extras.
        metadata.update({str(k): _metadata_value(str(k), v, where) for k, v in given_metadata.items()})
    if metadata:
        mapped["metadata"] = metadata
    return Article.parse(mapped, record=where, max_body_chars=max_body_chars)
