"""Which passages belong to which article, held in memory for filtered searches.

A filter is resolved to articles in SQL and then to their passages. Done as one SQL join, that second
step seeks ``passages_article`` once per article: a 1% date filter over a million passages, its days
scattered, is 3,334 articles and took 2.8-5 ms, against 0.3-0.55 ms for the articles alone. Here it
is two lookups per article in an offsets array (compressed sparse rows: article rid → where its
passages start in the ids sorted by article).

The arrays are a cache of the passages table, caught up incrementally as passages are added (ids only
grow) and removed (each removal leaves a tombstone), like the vector index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["PassageOwners"]

IdArray = npt.NDArray[np.int64]

#: Passages added since the offsets were made are kept apart, sorted and binary-searched, until they
#: are this many; then the offsets are made again (63 ms at a million passages).
TAIL_MAX = 16_384


@dataclass(frozen=True)
class _Snapshot:
    starts: IdArray  # article rid r's passages are ids[starts[r]:starts[r + 1]]
    ids: IdArray  # sorted by (article, id)
    tail_articles: IdArray  # appended since the offsets were made, sorted
    tail_ids: IdArray  # sorted by (article, id)
    last_id: int  # the largest passage id seen
    last_tombstone: int  # the newest tombstone applied


def _empty() -> IdArray:
    return np.zeros(0, dtype=np.int64)


def _sorted(articles: IdArray, ids: IdArray) -> tuple[IdArray, IdArray]:
    """The offsets by article rid, and ``ids`` ordered by (article, id)."""
    order = np.lexsort((ids, articles))
    counts = np.bincount(articles, minlength=1)
    starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return starts, ids[order]


def _runs(ids: IdArray, first: IdArray, counts: IdArray) -> IdArray:
    """``ids[first[j]:first[j] + counts[j]]`` for every j, concatenated, without a Python loop."""
    # Output position t, in run j, reads first[j] + (t - where run j starts in the output).
    run_starts = np.cumsum(counts) - counts
    positions = np.repeat(first - run_starts, counts) + np.arange(int(counts.sum()), dtype=np.int64)
    return ids[positions]


def _without(starts: IdArray, ids: IdArray, gone: npt.NDArray[np.bool_]) -> tuple[IdArray, IdArray]:
    """The offsets and ids with the ``gone`` positions taken out; the order is kept."""
    before = np.zeros(len(ids) + 1, dtype=np.int64)  # before[k]: positions gone among the first k
    np.cumsum(gone, out=before[1:])
    return starts - before[starts], ids[~gone]


def _merged(
    starts: IdArray, ids: IdArray, tail_articles: IdArray, tail_ids: IdArray
) -> tuple[IdArray, IdArray]:
    """The offsets and ids with the tail (sorted by article, then id) inserted in place.

    Ids only grow, so an article's new passages go after its old ones: at the end of its run.
    """
    rids = max(len(starts) - 1, int(tail_articles.max()) + 1)
    grown = np.full(rids + 1, starts[-1], dtype=np.int64)
    grown[: len(starts)] = starts
    counts = np.bincount(tail_articles, minlength=rids)
    added_before = np.zeros(rids + 1, dtype=np.int64)  # tail passages of the articles below each rid
    np.cumsum(counts, out=added_before[1:])
    merged_ids = np.insert(ids, grown[tail_articles + 1], tail_ids)
    return grown + added_before, merged_ids


class PassageOwners:
    """Passage ids by article rid. Every update replaces one immutable snapshot, so a reader in
    another thread sees either the old state or the new one."""

    #: The passages' columns :meth:`catch_up` takes, in order.
    COLUMNS = ("article", "id")

    def __init__(self) -> None:
        self._state: _Snapshot | None = None

    @property
    def loaded(self) -> bool:
        return self._state is not None

    @property
    def position(self) -> tuple[int, int]:
        """(largest passage id seen, newest tombstone applied); (0, 0) before loading."""
        state = self._state
        return (state.last_id, state.last_tombstone) if state is not None else (0, 0)

    def __len__(self) -> int:
        state = self._state
        return 0 if state is None else len(state.ids) + len(state.tail_ids)

    def catch_up(
        self, columns: Sequence[IdArray], removed: IdArray | None, last_id: int, last_tombstone: int
    ) -> None:
        """:meth:`load` (``removed`` None) or :meth:`update` with the :data:`COLUMNS` of the passages."""
        articles, ids = columns
        if removed is None:
            self.load(articles, ids, last_id, last_tombstone)
        else:
            self.update(articles, ids, removed, last_id, last_tombstone)

    def load(self, articles: IdArray, ids: IdArray, last_id: int, last_tombstone: int) -> None:
        """Start from every passage: ``ids`` and their ``articles``, any order."""
        starts, ids = _sorted(articles, ids)
        self._state = _Snapshot(starts, ids, _empty(), _empty(), last_id, last_tombstone)

    def update(
        self, articles: IdArray, ids: IdArray, removed: IdArray, last_id: int, last_tombstone: int
    ) -> None:
        """Add the passages ``ids`` (of ``articles``) and drop the ``removed`` ones (ids not held are
        ignored: a passage can be added and removed between two updates). Linear in the passages
        held: a removal or a merge at a million passages must not stall the search that catches up."""
        state = self._state
        if state is None:
            raise RuntimeError("PassageOwners.update before load")
        starts, main_ids = state.starts, state.ids
        tail_articles = np.concatenate([state.tail_articles, np.asarray(articles, dtype=np.int64)])
        tail_ids = np.concatenate([state.tail_ids, np.asarray(ids, dtype=np.int64)])
        order = np.lexsort((tail_ids, tail_articles))
        tail_articles, tail_ids = tail_articles[order], tail_ids[order]
        if len(removed):
            keep = ~np.isin(tail_ids, removed)
            tail_articles, tail_ids = tail_articles[keep], tail_ids[keep]
            gone = np.isin(main_ids, removed)
            if gone.any():
                starts, main_ids = _without(starts, main_ids, gone)
        if len(tail_ids) > TAIL_MAX:
            starts, main_ids = _merged(starts, main_ids, tail_articles, tail_ids)
            tail_articles, tail_ids = _empty(), _empty()
        self._state = _Snapshot(starts, main_ids, tail_articles, tail_ids, last_id, last_tombstone)

    def passages_of(self, rids: IdArray) -> IdArray:
        """The ids of the passages of articles ``rids`` (each rid once), grouped by article."""
        state = self._state
        if state is None:
            raise RuntimeError("PassageOwners.passages_of before load")
        rids = np.sort(np.asarray(rids, dtype=np.int64))  # neighbouring lookups: 3× faster
        # Rids past the offsets are articles whose passages are all still in the tail.
        known = np.minimum(rids, len(state.starts) - 1)
        first = state.starts[known]
        found = _runs(state.ids, first, state.starts[np.minimum(known + 1, len(state.starts) - 1)] - first)
        if len(state.tail_ids):
            first = np.searchsorted(state.tail_articles, rids, side="left")
            last = np.searchsorted(state.tail_articles, rids, side="right")
            found = np.concatenate([found, _runs(state.tail_ids, first, last - first)])
        return found
