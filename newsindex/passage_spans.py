"""Where each passage lies (its article and character span), held in memory for searches.

A dense search turns every passage the vector index returns into its article (to keep one passage
per article) and its span (for the hit). Asked of SQLite, that is one lookup per passage: 0.28 ms
for the 200 passages a hybrid search fetches on BBC, 0.1 ms for a dense search's 64. Here it is one
indexing of a table with a row per passage id (12 bytes each: 12 MB at a million passages), and a
hybrid search took 0.37-0.43 ms less on the BBC and Reuters indexes.

The table is a cache of the passages table, caught up incrementally as passages are added (ids only
grow) and removed (each removal leaves a tombstone), like :mod:`newsindex.passage_owners`. It is not
locked itself: the store reads and updates it under one lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PassageSpans"]

IdArray = npt.NDArray[np.int64]
SpanRows = npt.NDArray[np.int64]

_ABSENT = -1


class PassageSpans:
    """(article rid, start, end) by passage id; rows of -1 for ids that are not (or no longer) held."""

    #: The passages' columns :meth:`catch_up` takes, in order.
    COLUMNS = ("id", "article", "start", "end")

    def __init__(self) -> None:
        self._rows: npt.NDArray[np.signedinteger[Any]] | None = None  # row i: passage id i
        self._last_id = 0
        self._last_tombstone = 0

    @property
    def loaded(self) -> bool:
        return self._rows is not None

    @property
    def position(self) -> tuple[int, int]:
        """(largest passage id seen, newest tombstone applied); (0, 0) before loading."""
        return (self._last_id, self._last_tombstone) if self._rows is not None else (0, 0)

    def catch_up(
        self, columns: Sequence[IdArray], removed: IdArray | None, last_id: int, last_tombstone: int
    ) -> None:
        """:meth:`load` (``removed`` None) or :meth:`update` with the :data:`COLUMNS` of the passages."""
        ids, articles, starts, ends = columns
        if removed is None:
            self.load(ids, articles, starts, ends, last_id, last_tombstone)
        else:
            self.update(ids, articles, starts, ends, removed, last_id, last_tombstone)

    def load(
        self,
        ids: IdArray,
        articles: IdArray,
        starts: IdArray,
        ends: IdArray,
        last_id: int,
        last_tombstone: int,
    ) -> None:
        """Start from every passage held."""
        rows = np.full((max(last_id, int(ids.max(initial=0))) + 1, 3), _ABSENT, dtype=np.int32)
        rows = _put(rows, ids, articles, starts, ends)
        # Set last, together: a failure above leaves the table unloaded, not loaded and empty.
        self._rows, self._last_id, self._last_tombstone = rows, last_id, last_tombstone

    def update(
        self,
        ids: IdArray,
        articles: IdArray,
        starts: IdArray,
        ends: IdArray,
        removed: IdArray,
        last_id: int,
        last_tombstone: int,
    ) -> None:
        """Add the passages ``ids`` and forget the ``removed`` ones (ids not held are ignored)."""
        rows = self._rows
        if rows is None:
            raise RuntimeError("PassageSpans.update before load")
        needed = max(last_id, int(ids.max(initial=0))) + 1
        if needed > len(rows):
            # Grown by half again at least, so that a stream of small adds copies the table rarely.
            grown = np.full((max(needed, len(rows) + len(rows) // 2), 3), _ABSENT, dtype=rows.dtype)
            grown[: len(rows)] = rows
            rows = grown
        rows = _put(rows, ids, articles, starts, ends)
        removed = removed[(removed >= 0) & (removed < len(rows))]
        rows[removed] = _ABSENT
        self._rows, self._last_id, self._last_tombstone = rows, last_id, last_tombstone

    def spans(self, ids: IdArray) -> SpanRows:
        """A row (article rid, start, end) per id, in order; -1 everywhere for ids not held."""
        rows = self._rows
        if rows is None:
            raise RuntimeError("PassageSpans.spans before load")
        ids = np.asarray(ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < len(rows))
        found = np.full((len(ids), 3), _ABSENT, dtype=np.int64)
        found[inside] = rows[ids[inside]]
        return found


def _put(
    rows: npt.NDArray[np.signedinteger[Any]], ids: IdArray, articles: IdArray, starts: IdArray, ends: IdArray
) -> npt.NDArray[np.signedinteger[Any]]:
    """``rows`` with the passages ``ids`` written in; widened to 64 bits first if a value needs it."""
    values = np.stack([articles, starts, ends], axis=1)
    if rows.dtype == np.int32 and len(values) and int(values.max()) > np.iinfo(np.int32).max:
        rows = rows.astype(np.int64)
    rows[ids] = values
    return rows
