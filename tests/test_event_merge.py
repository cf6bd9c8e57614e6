"""The merge decision of :class:`EventPool`, on vectors built by hand (the end-to-end behaviour with the
real model is in test_events_index.py)."""

from __future__ import annotations

from datetime import date

import numpy as np

from newsindex.events.merge import EventPool, MergePolicy, Newcomer

DAY = 86400.0
DIM = 8


def _vector(*weights: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(weights)] = weights
    return v / np.linalg.norm(v)


def _mention(mid: str, vector: np.ndarray, reported: int, **fields: object) -> Newcomer:
    """A newcomer reported on day number ``reported``."""
    values: dict[str, object] = {
        "id": mid,
        "vector": vector,
        "report_ts": reported * DAY,
        "day": None,
        "type": "Explosions/Remote violence",
        "lead": True,
    }
    values.update(fields)
    return Newcomer(**values)  # type: ignore[arg-type]


def test_close_reports_merge_and_distant_ones_do_not() -> None:
    pool = EventPool(DIM)
    first = pool.assign(_mention("a", _vector(1, 0.1), 100))
    assert pool.assign(_mention("b", _vector(1, 0.2), 101)) == first
    assert pool.assign(_mention("c", _vector(0.1, 1), 101)) == "c"  # another topic
    assert pool.assign(_mention("d", _vector(1, 0.15), 600)) == "d"  # over a year later: not a candidate
    assert pool.events[first].size == 2 and pool.events[first].leads == 2


def test_explicit_days_a_week_apart_split_one_moment_events() -> None:
    pool = EventPool(DIM)
    first = pool.assign(_mention("a", _vector(1, 0.3), 100, day=date(2026, 1, 12)))
    same_day = _mention("b", _vector(1, 0.35), 101, day=date(2026, 1, 12))
    assert pool.assign(same_day) == first
    # As alike as two reports of one strike are (cosine about 0.83): only the dates tell them apart.
    undated = _mention("u", _vector(1, 1.2), 107, lead=True)
    assert EventPool(DIM).assign(undated) == "u"
    probe = EventPool(DIM)
    probe.assign(_mention("a", _vector(1, 0.3), 100))
    probe.assign(_mention("b", _vector(1, 0.35), 101))
    assert probe.assign(undated) == "a"
    week_later = _mention("c", _vector(1, 1.2), 107, day=date(2026, 1, 19))
    assert pool.assign(week_later) == "c"
    talks = EventPool(DIM)  # diplomacy is not a one-moment event: the days only weigh as dates
    start = talks.assign(_mention("t1", _vector(1, 0.3), 100, day=date(2026, 1, 12), type="Diplomacy"))
    later = _mention("t2", _vector(1, 0.3), 101, day=date(2026, 1, 19), type="Diplomacy")
    assert talks.assign(later) == start


def test_an_article_never_merges_with_itself_and_asides_keep_the_centroid() -> None:
    pool = EventPool(DIM)
    lead = pool.assign(_mention("a1", _vector(1, 0.1), 100))
    aside = _mention("a2", _vector(1, 0.12), 100, lead=False)
    assert pool.assign(aside, exclude={lead}) == "a2"
    before = pool.events[lead].centroid.copy()
    other_aside = _mention("b2", _vector(1, 0.1), 100, lead=False)
    assert pool.assign(other_aside) == lead  # an aside may join an event...
    assert np.array_equal(pool.events[lead].centroid, before)  # ...without moving it
    # ...but an article's lead joins only events that some article leads with.
    assert pool.assign(_mention("c1", _vector(1, 0.12), 100)) == lead
    assert pool.events["a2"].leads == 0


def test_a_tight_event_asks_more_of_a_newcomer() -> None:
    loose = EventPool(DIM, MergePolicy(coherence_margin=1.0))
    tight = EventPool(DIM)
    for pool in (loose, tight):
        for i in range(3):
            pool.assign(_mention(f"m{i}", _vector(1, 0.01 * i), 100))
    newcomer = _mention("x", _vector(1, 1.3), 100)  # cosine about 0.61 to the others
    assert loose.assign(newcomer) == "m0"
    assert tight.assign(newcomer) == "x"
