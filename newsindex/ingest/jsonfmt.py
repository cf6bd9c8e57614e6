"""JSON and JSON Lines files → Articles, one per record.

``.json`` holds one object (one article), an array of objects, or an object with the list under
``"articles"`` or ``"items"`` (the shape of many news APIs). ``.jsonl``/``.ndjson`` hold one object per
line. A bad record is a :class:`~newsindex.models.Failure` naming its item or line; the other records
are still read. Field names are mapped by :func:`~newsindex.ingest.base.make_article`.

Sizes are bounded before parsing: a ``.json`` file is parsed whole, so it may take at most
:func:`~newsindex.ingest.base.whole_file_size_limit` bytes; a JSON Lines file is streamed, and each line
may take at most :func:`~newsindex.ingest.base.record_size_limit` bytes (a longer one fails alone,
without being held in memory).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import IO, Any

from ..errors import IngestError
from ..models import Failure
from .base import (
    BOM_UTF16,
    FIELD_ALIASES,
    SNIFF_BYTES,
    Outcome,
    ReadSkip,
    check_not_binary,
    decode_text,
    failure_from,
    guarded,
    make_article,
    read_text_file,
    record_size_limit,
    whole_file_size_limit,
)

__all__ = ["iter_json", "iter_jsonl"]

_CONTAINER_KEYS = ("articles", "items")
_BODY_KEYS = frozenset(FIELD_ALIASES["body"])
_JSONL_HINT = "write large exports as JSON Lines (.jsonl), which are read a line at a time"
# How much of an over-long line is read at a time while skipping to its end.
_SKIP_CHUNK = 1 << 20


def _kind(value: object) -> str:
    """JSON's name for a parsed value's type, for error messages."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _loads(text: str, where: str, *, with_line: bool) -> Any:
    """``json.loads`` whose errors become :class:`IngestError` saying where the JSON broke."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f"line {exc.lineno}, column {exc.colno}" if with_line else f"column {exc.colno}"
        # Some of json's messages end in "at" already ("Invalid control character at").
        raise IngestError(where, f"not valid JSON: {exc.msg.removesuffix(' at')} at {at}") from exc
    except RecursionError as exc:
        raise IngestError(where, "not readable JSON: nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise IngestError(where, f"not readable JSON: {exc}") from exc


def _container_list(data: Mapping[str, Any]) -> list[Any] | None:
    """The record list of a wrapper object ``{"articles": [...]}``, or None for a plain record.

    An object that has article text of its own is a record, even if it has an ``items`` list.
    """
    lowered = {str(key).lower(): value for key, value in data.items()}
    if any(key in _BODY_KEYS for key in lowered):
        return None
    for key in _CONTAINER_KEYS:
        value = lowered.get(key)
        if isinstance(value, list):
            return value
    return None


def _record(item: object, where: str, max_body_chars: int | None) -> Outcome:
    if not isinstance(item, Mapping):
        return Failure(where=where, reason=f"expected a JSON object, got {_kind(item)}")
    return guarded(lambda: make_article(item, where=where, max_body_chars=max_body_chars), where)


def iter_json(
    path: str | os.PathLike[str], *, where: str | None = None, max_body_chars: int | None = None
) -> Iterator[Outcome]:
    """Read a ``.json`` file; items are named ``file.json[item N]``, counting from 1."""
    name = where or os.fspath(path)
    limit = whole_file_size_limit(max_body_chars, _JSONL_HINT)
    data = _loads(read_text_file(path, where=name, limit=limit), name, with_line=True)
    if isinstance(data, Mapping):
        records = _container_list(data)
        if records is None:
            yield _record(data, name, max_body_chars)
            return
    elif isinstance(data, list):
        records = data
    else:
        raise IngestError(name, f"expected a JSON object or array, got {_kind(data)}")
    if not records:
        yield ReadSkip(where=name, reason="no records in file")
    for number, item in enumerate(records, start=1):
        yield _record(item, f"{name}[item {number}]", max_body_chars)


def _skip_rest_of_line(fh: IO[bytes]) -> tuple[int, bool]:
    """Read past the end of the current line without keeping it.

    Returns how many bytes were read and whether they ended with the newline (not at end of file).
    """
    skipped = 0
    while True:
        chunk = fh.readline(_SKIP_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped, bool(chunk)


def _lines(
    path: str | os.PathLike[str], name: str, max_body_chars: int | None
) -> Iterator[tuple[int, str | IngestError]]:
    """Number and decode the lines of a file; a line that does not decode, or is over the size limit
    of one record, is given as its error."""
    line_limit = record_size_limit(max_body_chars)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        check_not_binary(head, name)
        if head.startswith(BOM_UTF16):
            # UTF-16 cannot be split on b"\n"; such files are rare and small, so decode them whole.
            file_limit = whole_file_size_limit(max_body_chars)
            file_limit.check(os.fstat(fh.fileno()).st_size, name)
            fh.seek(0)
            text = decode_text(fh.read(file_limit.bytes + 1), name)
            yield from enumerate(text.split("\n"), start=1)
            return
        fh.seek(0)
        offset = 0
        number = 0
        while raw := fh.readline(line_limit.bytes + 1):  # + 1: room for the newline
            number += 1
            if len(raw) > line_limit.bytes and not raw.endswith(b"\n"):
                skipped, newline = _skip_rest_of_line(fh)
                offset += len(raw) + skipped
                yield number, line_limit.error(len(raw) + skipped - newline, name, "line")
                continue
            try:
                yield number, decode_text(raw, name, base_offset=offset, first_line=number, utf16=False)
            except IngestError as exc:
                yield number, exc
            offset += len(raw)


def iter_jsonl(
    path: str | os.PathLike[str], *, where: str | None = None, max_body_chars: int | None = None
) -> Iterator[Outcome]:
    """Read a JSON Lines file, one object per line, named ``file.jsonl:LINE`` (from 1).

    The file is streamed, so large exports need not fit in memory at once; blank lines are ignored,
    and a line that is not valid JSON or UTF-8 fails alone.
    """
    name = where or os.fspath(path)
    found = False
    for number, text in _lines(path, name, max_body_chars):
        line_where = f"{name}:{number}"
        if isinstance(text, IngestError):
            found = True
            yield Failure(where=line_where, reason=text.reason)
            continue
        if not text.strip():
            continue
        found = True
        try:
            item = _loads(text, line_where, with_line=False)
        except IngestError as exc:
            yield failure_from(exc, line_where)
            continue
        yield _record(item, line_where, max_body_chars)
    if not found:
        yield ReadSkip(where=name, reason="no records in file")
