"""RSS and Atom files (``.xml``/``.rss``/``.atom``) → one Article per entry, through feedparser.

feedparser is an optional dependency (``newsindex[feeds]``), imported only when a feed is read. It is
given the file's bytes in a stream, never a name: a string could make it open a URL or another file.
feedparser's XML parser does not resolve external entities.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import partial
from types import ModuleType
from typing import Any

from ..errors import DependencyError, IngestError
from ..models import Article
from .base import Outcome, ReadSkip, clean_language, guarded, read_file_bytes
from .htmltext import html_to_text

__all__ = ["iter_feed"]


def _feedparser() -> ModuleType:
    try:
        import feedparser
    except ImportError as exc:
        raise DependencyError("reading feeds needs feedparser: pip install 'newsindex[feeds]'") from exc
    module: ModuleType = feedparser  # feedparser ships no type information
    return module


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


def _published(entry: Mapping[str, Any]) -> object:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = _struct_to_datetime(entry.get(key))
        if parsed is not None:
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
    data = read_file_bytes(path, where=name)
    parsed = feedparser.parse(io.BytesIO(data))
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
