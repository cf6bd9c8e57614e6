"""``manifest.json``: what an index directory holds, readable without opening the store.

The store's ``meta`` table is the source of truth; the manifest is rewritten from it (atomically, via a
temporary file and a rename) after each change, for people and tools that look at the directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import CorruptIndexError

if TYPE_CHECKING:
    from .vectorfile import VectorFileState

__all__ = ["FORMAT_VERSION", "manifest_content", "read_manifest", "write_manifest"]

#: Version of the on-disk format. Raised whenever the layout of the files or tables changes.
#: 1: articles, passages with vectors, tombstones, FTS5. 2: adds events, mentions and their places.
#: 3: events keep the words their lead reports use (``events.terms``), for merging.
FORMAT_VERSION = 3


STORE_FILE = "store.sqlite"
VECTORS_FILE = "vectors.faiss"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = "writer.lock"


def manifest_content(
    *,
    model: str,
    dim: int,
    vector_index: str,
    counts: dict[str, int],
    vector_states: Sequence[VectorFileState],
    vector_search: dict[str, Any] | None = None,
    engines: Sequence[str] = (),
) -> dict[str, Any]:
    """The manifest of an index; ``vector_states`` are the vector files it accepts, newest first."""
    vectors: dict[str, Any] = {}
    for key, state in zip(("current", "previous"), vector_states, strict=False):
        vectors[key] = state.to_json()
    return {
        "format_version": FORMAT_VERSION,
        "newsindex_version": __version__,
        "model": model,
        "dim": dim,
        "metric": "cosine",
        "vector_index": vector_index,
        "files": {"store": STORE_FILE, "vectors": VECTORS_FILE, "lock": LOCK_FILE},
        "counts": counts,
        "vectors": vectors,
        "vector_search": vector_search or {},
        # What computed the vectors (backend and precision), in order of first use.
        "engines": list(engines),
    }


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
    except UnicodeDecodeError as exc:
        raise CorruptIndexError(str(path), f"is not UTF-8 text ({exc})") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CorruptIndexError(str(path), f"is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CorruptIndexError(str(path), "is not a JSON object")
    return data
