"""The vector file of an index directory: written so that a crash never leaves it unreadable, and
checked before FAISS reads it, so that damaged bytes give a clear error instead of reaching C++.

The manifest records the size and CRC-32 of the file together with the tombstone position it reflects.
A save writes a temporary file, records it in the manifest as the *current* state (keeping the state
it replaces as *previous*), and only then renames it into place: whichever instant a crash hits, the
file on disk matches one of the two recorded states. A file that matches neither was damaged or
replaced, and ``newsindex check --repair`` rebuilds it from the store, which holds every vector.
"""

from __future__ import annotations

import mmap
import os
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import CorruptIndexError
from .vectors import FaissRetriever, fsync_dir

__all__ = ["VectorFileState", "read_vector_file", "write_vector_file"]

#: How often a reader re-reads the file and the manifest before calling a mismatch damage: a writer
#: may replace both between the two reads.
READ_ATTEMPTS = 3


@dataclass(frozen=True)
class VectorFileState:
    """What one written vector file holds: its size and CRC-32, and the last tombstone it reflects."""

    size: int
    crc32: int
    tombstone_seq: int

    def to_json(self) -> dict[str, int]:
        return {"size": self.size, "crc32": self.crc32, "tombstone_seq": self.tombstone_seq}

    @classmethod
    def from_json(cls, data: object) -> VectorFileState | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(int(data["size"]), int(data["crc32"]), int(data["tombstone_seq"]))
        except (KeyError, TypeError, ValueError):
            return None

    def matches(self, data: bytes) -> bool:
        return len(data) == self.size and zlib.crc32(data) == self.crc32


def recorded_states(manifest: dict[str, Any] | None) -> list[VectorFileState]:
    """The states a manifest accepts for the vector file: current first, then previous."""
    section = (manifest or {}).get("vectors")
    if not isinstance(section, dict):
        return []
    found = [VectorFileState.from_json(section.get(key)) for key in ("current", "previous")]
    return [state for state in found if state is not None]


def write_vector_file(
    vectors: FaissRetriever,
    path: Path,
    tombstone_seq: int,
    record: Callable[[VectorFileState], None],
) -> VectorFileState:
    """Write ``vectors`` to ``path`` crash-safely; ``record`` writes the manifest naming the new state."""
    data = vectors.to_bytes()
    state = VectorFileState(len(data), zlib.crc32(data), tombstone_seq)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    record(state)
    tmp.replace(path)
    fsync_dir(path.parent)
    return state


def read_vector_file(
    path: Path, dim: int, read_manifest: Callable[[], dict[str, Any] | None]
) -> tuple[FaissRetriever, VectorFileState]:
    """The vector file at ``path``, verified against the manifest, and the state it matched.

    Raises :class:`CorruptIndexError` naming the file when it matches no recorded state or cannot be
    read, and naming the manifest when the manifest records nothing for an existing file.
    """
    for attempt in range(READ_ATTEMPTS):
        try:
            identity, size, crc = _checksum(path)
        except OSError as exc:
            raise CorruptIndexError(str(path), f"cannot be read ({exc})") from exc
        manifest = read_manifest()
        states = recorded_states(manifest)
        if not states:
            legacy = _legacy_state(manifest)
            if legacy is None:
                raise CorruptIndexError(
                    str(path.parent / "manifest.json"),
                    f"records no checksum for {path.name}; run `newsindex check --index "
                    f"{path.parent} --repair` to rebuild it from the store",
                )
            return FaissRetriever.load(path, dim), legacy
        for state in states:
            if state.size == size and state.crc32 == crc:
                vectors = FaissRetriever.load(path, dim)
                # FAISS read the file by its name: it is the file verified only if no writer has
                # renamed another over it meanwhile (writers never change a file in place).
                if _identity(path) == identity:
                    return vectors, state
                break
        if attempt + 1 < READ_ATTEMPTS:
            time.sleep(0.05)  # a writer may be between writing the manifest and renaming the file
    raise CorruptIndexError(
        str(path),
        f"does not match the size and checksum recorded in manifest.json (damaged or replaced): run "
        f"`newsindex check --index {path.parent} --repair` to rebuild it from the store",
    )


def _identity(path: Path) -> tuple[int, int, int, int]:
    stat = path.stat()
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _checksum(path: Path) -> tuple[tuple[int, int, int, int], int, int]:
    """The identity of the file at ``path``, its size and its CRC-32, read through a memory map (no
    copy of a large file in memory)."""
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        identity = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if stat.st_size == 0:
            return identity, 0, zlib.crc32(b"")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return identity, stat.st_size, zlib.crc32(mapped)


def _legacy_state(manifest: dict[str, Any] | None) -> VectorFileState | None:
    """Indexes written before checksums were recorded: trust the file as FAISS reads it."""
    section = (manifest or {}).get("vectors")
    if isinstance(section, dict) and "tombstone_seq" in section and "current" not in section:
        return VectorFileState(-1, -1, int(section["tombstone_seq"]))
    return None
