"""RSS and Atom files (``.xml``/``.rss``/``.atom``) → one Article per entry, through feedparser.

feedparser is an optional dependency (``newsindex[feeds]``), imported only when a feed is read. It is
given the file's bytes in a stream, never a name: a string could make it open a URL or another file.

Entities are never expanded from a feed's own declarations: the document type declaration (where
entities are declared, ``<!DOCTYPE rss [<!ENTITY ...>]>``) is cut out before parsing. feedparser
disables external entities but expands the internal ones it deems safe; without the cut, a 40 KB
feed declaring one large entity and using it thousands of times grows to gigabytes in memory. Feeds
have no use for a DTD. A feed is parsed whole, so it may take at most
:func:`~newsindex.ingest.base.whole_file_size_limit` bytes.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from types import ModuleType
from typing import Any

from ..errors import DependencyError, IngestError
from ..models import Article
from .base import Outcome, ReadSkip, clean_language, guarded, read_file_bytes, whole_file_size_limit
from .htmltext import html_to_text

__all__ = ["iter_feed", "strip_doctype"]


def _feedparser() -> ModuleType:
    try:
        import feedparser
    except ImportError as exc:
        raise DependencyError("reading feeds needs feedparser: pip install 'newsindex[feeds]'") from exc
    module: ModuleType = feedparser  # feedparser ships no type information
    return module


# Byte-order marks of the encodings in which "<!DOCTYPE" is not ASCII; longest first (UTF-32-LE
# starts like UTF-16-LE).
_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_PROLOG_SPACE = re.compile(r"[ \t\r\n\ufeff]+")
# What can end or hide the end of a declaration: quotes, brackets, ">", comments, processing instructions.
_DECL_TOKEN = re.compile(r"[\"'\[\]>]|<!--|<\?")
# Tokens whose content is skipped whole, up to their closing mark.
_CLOSING = {'"': '"', "'": "'", "<!--": "-->", "<?": "?>"}


def _declaration_end(text: str, pos: int) -> int:
    """Where the markup declaration running from ``pos`` ends (just after its ``>``), or ``len(text)``.

    Quoted literals, comments and processing instructions may hold ``>`` or ``]`` and are skipped
    whole; brackets open and close the internal subset.
    """
    depth = 0
    while match := _DECL_TOKEN.search(text, pos):
        token = match.group()
        pos = match.end()
        closing = _CLOSING.get(token)
        if closing is not None:
            end = text.find(closing, pos)
            if end < 0:
                break
            pos = end + len(closing)
        elif token == "[":
            depth += 1
        elif token == "]":
            depth = max(0, depth - 1)
        elif depth == 0:  # ">"
            return pos
    return len(text)  # never closed: everything after it is part of it


def _strip_doctype_text(text: str) -> str:
    """``text`` without the document type declarations of its prolog (before the root element)."""
    kept: list[str] = []
    start = pos = 0
    while pos < len(text):
        space = _PROLOG_SPACE.match(text, pos)
        if space:
            pos = space.end()
        elif text.startswith("<?", pos) or text.startswith("<!--", pos):
            closing = "?>" if text.startswith("<?", pos) else "-->"
            end = text.find(closing, pos + 2)
            pos = len(text) if end < 0 else end + len(closing)
        elif text[pos : pos + 9].upper() == "<!DOCTYPE":
            kept.append(text[start:pos])
            start = pos = _declaration_end(text, pos + 9)
        else:
            break  # the root element: the prolog is over
    kept.append(text[start:])
    return "".join(kept)


def strip_doctype(data: bytes, where: str) -> bytes:
    """The feed ``data`` without its document type declaration, so no entity it declares is expanded.

    Works on the raw bytes for ASCII-compatible encodings (UTF-8, Latin-1, ...: "<!DOCTYPE" reads the
    same in all of them, and Latin-1 maps bytes to characters one to one); UTF-16 and UTF-32 files,
    recognised by their byte-order mark, are decoded and encoded back.
    """
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            try:
                return _strip_doctype_text(data.decode(codec)).encode(codec)
            except UnicodeDecodeError as exc:
                raise IngestError(where, f"not valid {codec.upper()}: {exc.reason}") from exc
    return _strip_doctype_text(data.decode("latin-1")).encode("latin-1")


def _detail_text(detail: object, fallback: object) -> str:
    """Plain text of a feedparser text construct (``{"type": ..., "value": ...}``)."""
    value = fallback
    kind = ""
    if isinstance(detail, Mapping):
        value = detail.get("value", fallback)
        kind = str(detail.get("type") or "")
    if not isinstance(value, str):
        return ""
    if kind == "text/plain":
        return value.strip()  # already unescaped by feedparser; keep its line breaks
    return html_to_text(value)


def _entry_body(entry: Mapping[str, Any]) -> str:
    """Full content when the feed carries it, else the summary."""
    for content in entry.get("content") or []:
        text = _detail_text(content, None)
        if text:
            return text
    return _detail_text(entry.get("summary_detail"), entry.get("summary"))


def _struct_to_datetime(value: object) -> datetime | None:
    """feedparser's parsed dates are ``time.struct_time`` in UTC."""
    if not isinstance(value, tuple) or len(value) < 6:  # struct_time is a tuple
        return None
    year, month, day, hour, minute, second = value[:6]
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


# The first four-digit number of a date as written: its year in RFC 822 and ISO 8601 dates.
_WRITTEN_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")


def _misread_year(raw: object, parsed: datetime) -> bool:
    """Whether feedparser's date disagrees with the year as written.

    Its RFC 822 reader takes years below 100 as two-digit years, so "01 Jan 0000" becomes 2000.
    """
    written = _WRITTEN_YEAR.search(raw) if isinstance(raw, str) else None
    return written is not None and int(written.group()) != parsed.year


def _published(entry: Mapping[str, Any]) -> object:
    for key in ("published", "updated", "created"):
        parsed = _struct_to_datetime(entry.get(f"{key}_parsed"))
        if parsed is not None and not _misread_year(entry.get(key), parsed):
            return parsed
    # A date feedparser could not read is handed on as written: Article may still read it, and if
    # not the entry fails with the date named, rather than silently losing it.
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if isinstance(raw, str) and raw.strip():
            return raw
    return None


def _authors(entry: Mapping[str, Any]) -> list[str]:
    names = []
    for author in entry.get("authors") or []:
        if isinstance(author, Mapping):
            name = author.get("name") or author.get("email")
            if isinstance(name, str) and name.strip():
                names.append(name.strip())
    if not names and isinstance(entry.get("author"), str) and entry["author"].strip():
        names.append(entry["author"].strip())
    return names


def _tags(entry: Mapping[str, Any]) -> list[str]:
    tags = []
    for tag in entry.get("tags") or []:
        if isinstance(tag, Mapping):
            term = tag.get("term") or tag.get("label")
            if isinstance(term, str) and term.strip():
                tags.append(term.strip())
    return tags


def _entry_article(
    entry: Mapping[str, Any],
    *,
    feed: Mapping[str, Any],
    where: str,
    max_body_chars: int | None,
) -> Article:
    body = _entry_body(entry)
    if not body.strip():
        raise IngestError(where, "entry has no text (no content or summary)")
    title = _detail_text(entry.get("title_detail"), entry.get("title")).replace("\n\n", " ") or None
    source = _detail_text(feed.get("title_detail"), feed.get("title")).replace("\n\n", " ") or None
    language = None
    for detail in (*(entry.get("content") or []), entry.get("summary_detail"), feed):
        if isinstance(detail, Mapping):
            language = clean_language(detail.get("language"))
            if language:
                break
    record: dict[str, object] = {
        "id": entry.get("id") or "",  # the guid; without one Article derives the id from the link
        "title": title,
        "body": body,
        "url": entry.get("link"),
        "source": source,
        "published": _published(entry),
        "language": language,
        "authors": _authors(entry),
        "tags": _tags(entry),
    }
    return Article.parse(record, record=where, max_body_chars=max_body_chars)


def iter_feed(
    path: str | os.PathLike[str], *, where: str | None = None, max_body_chars: int | None = None
) -> Iterator[Outcome]:
    """Read an RSS or Atom file; entries are named ``file.xml[entry N]``, counting from 1.

    A file that is not a feed at all raises :class:`~newsindex.errors.IngestError`; an entry
    without text, or with a date that cannot be read, fails alone.
    """
    feedparser = _feedparser()
    name = where or os.fspath(path)
    data = read_file_bytes(path, where=name, limit=whole_file_size_limit(max_body_chars))
    parsed = feedparser.parse(io.BytesIO(strip_doctype(data, name)))
    entries = list(parsed.get("entries") or [])
    if not parsed.get("version") and not entries:
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        detail = f" ({problem})" if problem else ""
        raise IngestError(name, f"not an RSS or Atom feed{detail}")
    if not entries:
        yield ReadSkip(where=name, reason="feed has no entries")
        return
    feed = parsed.get("feed") or {}
    for number, raw_entry in enumerate(entries, start=1):
        entry_where = f"{name}[entry {number}]"
        # A plain dict: FeedParserDict's legacy key aliases warn (updated_parsed → published_parsed).
        entry = dict(raw_entry)
        build = partial(_entry_article, entry, feed=feed, where=entry_where, max_body_chars=max_body_chars)
        yield guarded(build, entry_where)
