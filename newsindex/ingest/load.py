"""Collect the articles of :func:`~newsindex.ingest.walk.iter_load` into a list."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from ..errors import ConfigurationError, IngestError
from ..models import Article, Failure
from .walk import PathArg, iter_load

__all__ = ["ON_ERROR", "load_articles"]

#: Accepted values of ``on_error``.
ON_ERROR: tuple[str, ...] = ("raise", "skip")


def load_articles(
    paths: PathArg | Iterable[PathArg],
    format: str = "auto",
    *,
    on_error: str = "raise",
    max_body_chars: int | None = None,
) -> list[Article]:
    """Read files and directories into Articles, without an index.

    ``paths`` is one path or an iterable of them; ``format`` is one of
    :data:`~newsindex.ingest.FORMATS`. With ``on_error="raise"`` the first record that cannot be
    read raises :class:`~newsindex.errors.IngestError` (``where`` and ``reason``); with ``"skip"``
    it is left out and reported with :func:`warnings.warn`. Files passed over on purpose
    (``README*``, unknown types) are neither.
    """
    if on_error not in ON_ERROR:
        raise ConfigurationError(f"unknown on_error {on_error!r}: expected one of {', '.join(ON_ERROR)}")
    articles: list[Article] = []
    for outcome in iter_load(paths, format, max_body_chars=max_body_chars):
        if isinstance(outcome, Article):
            articles.append(outcome)
        elif isinstance(outcome, Failure):
            if on_error == "raise":
                raise IngestError(outcome.where, outcome.reason)
            warnings.warn(f"skipped {outcome.where}: {outcome.reason}", stacklevel=2)
    return articles
