"""Plain text and Markdown files → one Article (DESIGN §4, "Text files").

Two layouts are recognised, else the whole file is the body:

* the seed form: a first line ``date YYYY-MM-DD`` (leading white space allowed) followed, on the
  same line, by the lead paragraph — the date becomes ``published``, no title;
* the headline form: a short first line followed by a blank line — that line is the title.

The body keeps the text exactly as written (paragraph breaks included) apart from surrounding white
space, because event evidence is stored as character offsets into it.
"""

from __future__ import annotations

import os
import re

from pydantic import JsonValue

from ..models import Article
from .base import path_id, read_text_file, record_size_limit, resolved_path

__all__ = ["MAX_HEADLINE_CHARS", "parse_text", "read_text"]

#: Longest first line still taken as a headline.
MAX_HEADLINE_CHARS = 200

# "date 2026-01-25 " at the very start; the rest of that line is the lead paragraph. Only spaces and
# tabs may separate the parts, so a date alone on its line leaves the body to start on the next one.
_DATE_LINE = re.compile(r"\s*date[ \t]+(\d{4}-\d{1,2}-\d{1,2})(?=\s|$)[ \t]*", re.IGNORECASE)
_MARKDOWN_HEADING = re.compile(r"#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?")


def _first_line_and_rest(text: str) -> tuple[str, str] | None:
    """The first line with text, when a line of nothing but spaces and tabs follows it, and the text
    after that line. Found with ``str.find``: a regular expression for it backtracks quadratically
    over a long run of white space."""
    start = len(text) - len(text.lstrip())
    end = text.find("\n", start)
    if start == len(text) or end < 0:
        return None
    blank_end = text.find("\n", end + 1)
    if blank_end < 0 or text[end + 1 : blank_end].strip(" \t"):
        return None
    return text[start:end], text[blank_end + 1 :]


def _headline(text: str) -> tuple[str | None, str]:
    """Split off a headline when the text starts with one; returns ``(title, rest)``."""
    found = _first_line_and_rest(text)
    if found is None:
        return None, text
    line, rest = found[0].strip(), found[1]
    heading = _MARKDOWN_HEADING.fullmatch(line)
    if heading:
        line = heading.group(1).strip()
    if not line or len(line) > MAX_HEADLINE_CHARS or not rest.strip():
        return None, text
    # A line that ends like a sentence is more likely a one-sentence lead paragraph than a headline.
    if line.endswith((".", ",", ";", ":")) and not line.endswith("..."):
        return None, text
    return line, rest


def parse_text(
    text: str,
    *,
    where: str,
    article_id: str = "",
    metadata: dict[str, JsonValue] | None = None,
    max_body_chars: int | None = None,
) -> Article:
    """Make an Article from the contents of a text file (see the module docstring for layouts).

    ``where`` names the file in errors; an unreadable date or an empty body raises
    :class:`~newsindex.errors.ValidationError`.
    """
    title: str | None = None
    published: str | None = None
    match = _DATE_LINE.match(text)
    if match:
        published = match.group(1)
        body = text[match.end() :]
    else:
        title, body = _headline(text)
    data: dict[str, object] = {
        "id": article_id,
        "title": title,
        "body": body.strip(),
        "published": published,
        "metadata": metadata or {},
    }
    return Article.parse(data, record=where, max_body_chars=max_body_chars)


def read_text(
    path: str | os.PathLike[str], *, where: str | None = None, max_body_chars: int | None = None
) -> Article:
    """Read a ``.txt`` or ``.md`` file as one Article.

    Its id comes from the file's resolved path (so an edited file updates the same article) and
    ``metadata["path"]`` holds that path. A file over the size limit for one article
    (:func:`~newsindex.ingest.base.record_size_limit`) is refused before it is read.
    """
    name = where or os.fspath(path)
    text = read_text_file(path, where=name, limit=record_size_limit(max_body_chars))
    return parse_text(
        text,
        where=name,
        article_id=path_id(path),
        metadata={"path": resolved_path(path)},
        max_body_chars=max_body_chars,
    )
