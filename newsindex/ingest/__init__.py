"""Readers that turn files into :class:`~newsindex.models.Article` records.

Supported: plain text and Markdown, JSON and JSON Lines, saved web pages (trafilatura), RSS and Atom
feeds (feedparser), and directories of these. :func:`iter_load` streams one outcome per record
(an Article, a :class:`~newsindex.models.Failure`, or a :class:`ReadSkip`); :func:`load_articles`
collects the articles.
"""

from __future__ import annotations

from .base import Outcome, ReadSkip, make_article
from .load import load_articles
from .walk import EXTENSIONS, FORMATS, iter_load, sniff_format

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "Outcome",
    "ReadSkip",
    "iter_load",
    "load_articles",
    "make_article",
    "sniff_format",
]
