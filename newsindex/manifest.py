"""``manifest.json``: what an index directory holds, readable without opening the store.

The store's ``meta`` table is the source of truth; the manifest is rewritten from it (atomically, via a
temporary file and a rename) after each change, for people and tools that look at the directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import CorruptIndexError

__all__ = ["FORMAT_VERSION", "read_manifest", "write_manifest"]

#: Version of the on-disk format. Raised whenever the layout of the files or tables changes.
#: 1: articles, passages with vectors, tombstones, FTS5. 2: adds events, mentions and their places.
FORMAT_VERSION = 2


def write_manifest(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest's content, None when there is none; a damaged one raises CorruptIndexError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptIndexError(str(path), f"cannot read ({exc})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CorruptIndexError(str(path), f"is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CorruptIndexError(str(path), "is not a JSON object")
    return data
