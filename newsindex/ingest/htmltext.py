"""HTML fragments (feed summaries and contents) → plain text with paragraph breaks kept.

A small converter on the standard library's :class:`html.parser.HTMLParser`: block elements become
paragraphs separated by a blank line, ``<br>`` a line break, white space inside a paragraph is
collapsed as a browser would, and ``<script>``/``<style>`` contents are dropped. Whole web pages go
through trafilatura instead (see :mod:`newsindex.ingest.html`), which also removes boilerplate.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

# Elements that start and end a paragraph of their own.
_BLOCKS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "td",
        "th",
        "tr",
        "ul",
    }
)
# Elements whose content is never text for a reader.
_DROPPED = frozenset({"script", "style", "noscript", "template", "head", "title"})
_SPACES = re.compile(r"[ \t\n\r\f\v]+")


class _TextCollector(HTMLParser):
    """Collects paragraphs; ``\\n`` inside a paragraph only ever comes from ``<br>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._dropping = 0

    def _flush(self) -> None:
        lines = ("".join(self._current)).split("\n")
        text = "\n".join(" ".join(line.split()) for line in lines).strip()
        if text:
            self.paragraphs.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self._dropping += 1
        elif self._dropping:
            return
        elif tag == "br":
            self._current.append("\n")
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropping = max(0, self._dropping - 1)
        elif not self._dropping and tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._dropping:
            # Source line breaks are plain white space in HTML; only <br> makes a line break.
            self._current.append(_SPACES.sub(" ", data))

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment, paragraphs separated by one blank line."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    return "\n\n".join(collector.paragraphs)
