"""The public surface: an explicit sorted __all__, a light import, a quiet logger, one exception root."""

from __future__ import annotations

import inspect
import json
import logging
import subprocess
import sys

import newsindex
import newsindex.errors

HEAVY = ("torch", "sentence_transformers", "transformers", "faiss")


def _isort_key(name: str) -> tuple[int, str]:
    """The "isort-style" order of ruff's RUF022: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and not name.startswith("_"):
        return 0, name
    if name[:1].isupper():
        return 1, name
    return 2, name


def test_all_is_sorted_and_unique() -> None:
    names = list(newsindex.__all__)
    assert len(names) == len(set(names))
    assert names in (sorted(names), sorted(names, key=_isort_key)), names


def test_every_name_in_all_exists() -> None:
    for name in newsindex.__all__:
        assert hasattr(newsindex, name), name
    namespace: dict[str, object] = {}
    exec("from newsindex import *", namespace)
    assert set(newsindex.__all__) <= set(namespace)


def test_contract_names_are_public() -> None:
    expected = {
        "NewsIndex",
        "Article",
        "SearchHit",
        "AddReport",
        "IndexStats",
        "EmbeddingIndexer",
        "FaissRetriever",
        "load_articles",
        "NewsIndexError",
        "ValidationError",
        "IngestError",
        "ArticleNotFoundError",
        "ModelMismatchError",
        "IndexLockedError",
        "ReadOnlyError",
        "__version__",
        "check_index",
        "CheckReport",
    }
    assert expected <= set(newsindex.__all__)
    assert isinstance(newsindex.__version__, str) and newsindex.__version__


def test_import_does_not_load_heavy_dependencies() -> None:
    code = (
        "import json, sys; import newsindex; "
        "from newsindex import NewsIndex, Article, EmbeddingIndexer, FaissRetriever, load_articles; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_import_writes_nothing() -> None:
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import newsindex"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and out.stderr == ""


def test_package_logger_has_only_a_null_handler() -> None:
    logger = logging.getLogger("newsindex")
    assert len(logger.handlers) == 1
    assert type(logger.handlers[0]) is logging.NullHandler
    assert logger.level == logging.NOTSET, "the application decides the level"
    assert logger.propagate


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for _, obj in inspect.getmembers(newsindex.errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == newsindex.errors.__name__
    ]


def test_every_error_derives_from_the_root() -> None:
    classes = _error_classes()
    assert len(classes) >= 10
    for cls in classes:
        assert issubclass(cls, newsindex.NewsIndexError), cls
    assert newsindex.NewsIndexError.__bases__ == (Exception,)


def test_every_error_is_public() -> None:
    for cls in _error_classes():
        assert cls.__name__ in newsindex.errors.__all__
        assert cls.__name__ in newsindex.__all__
        assert getattr(newsindex, cls.__name__) is cls


def test_article_not_found_is_a_key_error() -> None:
    err = newsindex.ArticleNotFoundError("abc123")
    assert isinstance(err, KeyError)
    assert isinstance(err, newsindex.NewsIndexError)
    assert "abc123" in str(err)
    try:
        raise err
    except KeyError as caught:
        assert caught is err


def test_error_tree_matches_the_docstring() -> None:
    e = newsindex.errors
    assert issubclass(e.ModelMismatchError, e.EmbeddingError)
    for cls in (e.IndexLockedError, e.ReadOnlyError, e.CorruptIndexError, e.StoreError):
        assert issubclass(cls, e.StorageError)
    doc = e.__doc__ or ""
    for cls in _error_classes():
        assert cls.__name__ in doc, f"{cls.__name__} missing from the tree in the docstring"
