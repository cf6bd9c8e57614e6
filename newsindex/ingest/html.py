"""Saved web pages (``.html``/``.htm``) → one Article, through trafilatura.

trafilatura finds the main text of a page (leaving out navigation, cookie banners, footers, related
links) and its metadata: title, date, authors, site name, canonical URL. It is an optional
dependency (``newsindex[html]``), imported only when a page is read.

Scripts, styles and ``<noscript>``/``<template>`` contents are removed before extraction, so they never
reach the body. A page over :func:`~newsindex.ingest.base.record_size_limit` is refused from its size.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from ..errors import DependencyError, IngestError
from ..models import Article, parse_datetime
from .base import clean_language, path_id, read_file_bytes, record_size_limit, resolved_path

__all__ = ["read_html"]

# Full timestamps when the page has them (htmldate gives only the day by default); reliable markup
# only: guessing from free text picks up copyright years and "last updated" lines.
_DATE_PARAMS: dict[str, Any] = {
    "original_date": True,
    "extensive_search": False,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}


def _trafilatura() -> ModuleType:
    try:
        import trafilatura
    except ImportError as exc:
        raise DependencyError("reading HTML needs trafilatura: pip install 'newsindex[html]'") from exc
    return trafilatura


def _page_language(tree: Any) -> str | None:
    """The page's declared language: ``<html lang>``, Content-Language, or ``og:locale``."""
    candidates: list[object] = [
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
    ]
    for meta in tree.iter("meta"):
        key = (meta.get("http-equiv") or meta.get("property") or meta.get("name") or "").lower()
        if key in ("content-language", "og:locale", "language", "dc.language"):
            candidates.append(meta.get("content"))
    for value in candidates:
        language = clean_language(value)
        if language:
            return language
    return None


_PUBLISHED_KEYS = ("article:published_time", "og:published_time", "datepublished", "dc.date.issued")


def _declared_published(tree: Any) -> str | None:
    """The publication timestamp the page declares in its markup, with the time of day.

    Read before trafilatura, whose date helper keeps only the day.
    """
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in _PUBLISHED_KEYS and (meta.get("content") or "").strip():
            return str(meta.get("content")).strip()
    for element in tree.iter("time"):
        if element.get("itemprop", "").lower() == "datepublished" and element.get("datetime"):
            return str(element.get("datetime")).strip()
    return None


# libxml2 (under lxml) stops nesting elements at this depth without its "huge" option, which
# trafilatura does not set: whatever lies deeper is dropped.
_PARSER_MAX_DEPTH = 256

_BOILERPLATE_TAGS = frozenset({"nav", "footer"})
# Never text for a reader: code, styling, and what a browser shows only without JavaScript.
_NOT_TEXT_TAGS = frozenset({"script", "style", "noscript", "template"})
_BOILERPLATE_ROLES = frozenset({"navigation", "contentinfo"})
_BANNER_WORDS = ("cookie", "consent", "gdpr")
_NEVER_DROPPED = frozenset({"html", "body", "main", "article"})


def _remove(element: Any) -> None:
    """Remove an element but keep the text that follows it (lxml stores it on the element)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _is_json_data(element: Any) -> bool:
    """``<script type="application/ld+json">``: page metadata that trafilatura reads (date, authors)."""
    return bool(element.tag == "script" and "json" in (element.get("type") or "").lower())


def _prune_boilerplate(tree: Any) -> None:
    """Drop scripts, styles, navigation, footers and cookie banners before extraction.

    trafilatura leaves them out of real articles, but on a page with no article its fallback
    extractors return whatever text is left ("Home", "We use cookies"); without them such a page
    yields no text, as it should.
    """
    doomed = []
    for element in tree.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if not tag or tag in _NEVER_DROPPED:
            continue
        if tag in _NOT_TEXT_TAGS and not _is_json_data(element):
            doomed.append(element)
            continue
        if tag in _BOILERPLATE_TAGS or (element.get("role") or "").lower() in _BOILERPLATE_ROLES:
            doomed.append(element)
            continue
        marks = f"{element.get('id') or ''} {element.get('class') or ''}".lower()
        if any(word in marks for word in _BANNER_WORDS) and not element.xpath(".//article|.//main|.//h1"):
            doomed.append(element)
    for element in doomed:
        _remove(element)  # removing an element whose ancestor went already is harmless


def _inline_text(element: Any) -> str:
    """Text of one block of trafilatura's output tree; ``<lb/>`` is a line break."""
    parts: list[str] = [element.text or ""]
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "lb":
            parts.append("\n")
        elif tag == "item":
            parts.append("\n- " + _inline_text(child).strip())
        elif tag == "row":
            cells = [_inline_text(cell).strip() for cell in child]
            parts.append("\n" + " | ".join(cells))
        else:
            parts.append(_inline_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _paragraphs(body: Any) -> list[str]:
    """One paragraph per top-level block (paragraph, heading, list, quote, table)."""
    paragraphs = []
    for block in body:
        lines = _inline_text(block).split("\n")
        text = "\n".join(" ".join(line.split()) for line in lines).strip()
        if text:
            paragraphs.append(text)
    return paragraphs


def _depth(tree: Any) -> int:
    """How deeply the elements of ``tree`` nest (walked without recursion)."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest


def _no_text_error(name: str, too_deep: bool) -> IngestError:
    if too_deep:
        return IngestError(
            name,
            f"no article text found (the markup nests deeper than {_PARSER_MAX_DEPTH - 1} levels; "
            "the HTML parser drops what lies deeper)",
        )
    return IngestError(name, "no article text found")


def _usable_time(text: str | None) -> str | None:
    """``text`` when it reads as a timestamp (else None, and trafilatura's date is used)."""
    if not text:
        return None
    try:
        parse_datetime(text)
    except ValueError:
        return None
    return text


def read_html(
    path: str | os.PathLike[str], *, where: str | None = None, max_body_chars: int | None = None
) -> Article:
    """Read a saved web page as one Article; paragraphs are separated by a blank line.

    The id comes from the canonical URL when the page has one, else from the file's path.
    Raises :class:`~newsindex.errors.IngestError` "no article text found" for pages without text.
    """
    trafilatura = _trafilatura()
    name = where or os.fspath(path)
    # Bytes, not text: trafilatura honours the page's declared charset (many pages are not UTF-8).
    data = read_file_bytes(path, where=name, limit=record_size_limit(max_body_chars))
    tree = trafilatura.load_html(data)
    if tree is None:
        raise IngestError(name, "not readable as HTML")
    too_deep = _depth(tree) >= _PARSER_MAX_DEPTH  # said when no text is found: it may be why
    language = _page_language(tree)  # before extraction, which prunes the tree
    declared = _declared_published(tree)
    _prune_boilerplate(tree)
    doc = trafilatura.bare_extraction(
        tree,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
        date_extraction_params=dict(_DATE_PARAMS),
    )
    if doc is None:
        raise _no_text_error(name, too_deep)
    title = (doc.title or "").strip() or None
    body_tree = getattr(doc, "body", None)
    if body_tree is not None and len(body_tree):
        paragraphs = _paragraphs(body_tree)
    else:  # older trafilatura or a fallback extractor: text with one block per line
        paragraphs = [line.strip() for line in (doc.text or "").split("\n") if line.strip()]
    if paragraphs and title and paragraphs[0].casefold() == title.casefold():
        paragraphs = paragraphs[1:]  # the page's <h1> repeats the title
    body = "\n\n".join(paragraphs)
    if not body.strip():
        raise _no_text_error(name, too_deep)
    url = (doc.url or "").strip() or None
    authors = [a.strip() for a in (doc.author or "").split(";") if a.strip()]
    record: dict[str, object] = {
        "id": "" if url else path_id(path),  # with a URL, Article derives the id from it
        "title": title,
        "body": body,
        "url": url,
        "source": doc.sitename or doc.hostname,
        "published": _usable_time(declared) or doc.date,
        "language": language,
        "authors": authors,
        "tags": [t.strip() for tag in (doc.tags or []) for t in str(tag).split(",") if t.strip()],
        "metadata": {"path": resolved_path(path)},
    }
    return Article.parse(record, record=name, max_body_chars=max_body_chars)
