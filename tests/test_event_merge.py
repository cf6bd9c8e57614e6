"""The merge decision of :class:`EventPool`, on vectors built by hand (the end-to-end behaviour with the
real model is in test_events_index.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np

from newsindex.events.merge import EventPool, EventState, MergePolicy, Newcomer, lead_terms

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
    assert pool.assign(_mention("d", _vector(1, 0.15), 900)) == "d"  # over two years later: not a candidate
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


def test_lead_terms_are_the_title_and_the_first_words_of_the_body() -> None:
    terms = lead_terms(
        "Quake Hits Izmir", "A 6.1 earthquake hit Izmir's coast on Friday. Later words.", words=5
    )
    # lower-cased, possessives and common words (on, friday...) dropped, numbers kept, title words added
    assert terms == {"quake": 1, "hits": 1, "izmir": 2, "6.1": 1, "earthquake": 1, "hit": 1, "coast": 1}
    assert "later" not in terms  # past the first five words of the body
    assert lead_terms(None, "") == {}


def _quake_pool() -> EventPool:
    """A pool that has seen other earthquakes and other news, and one quake in Izmir (vector e1)."""
    pool = EventPool(DIM)
    earlier = [
        ("Earthquake shakes Lima", "A magnitude 5.2 earthquake shook Lima, Peru; no damage was reported."),
        ("Strong earthquake in Hokkaido", "A magnitude 6.0 earthquake struck Hokkaido, cutting power."),
        ("Parliament passes budget", "Lawmakers in Oslo passed the budget after a long debate."),
        ("Storm floods Manila", "Typhoon rains flooded Manila streets and closed schools."),
    ]
    for i, (title, body) in enumerate(earlier):
        pool.assign(
            _mention(f"old{i}", _vector(*([0.0] * (i + 2)), 1), 10 * i, terms=lead_terms(title, body))
        )
    izmir = lead_terms(
        "Earthquake strikes Izmir", "A magnitude 6.1 earthquake struck Izmir province, Turkey."
    )
    pool.assign(_mention("izmir", _vector(1), 100, terms=izmir, type="Disaster"))
    return pool


def test_wording_tells_apart_two_earthquakes_that_read_alike() -> None:
    # Both newcomers are as close in meaning to the Izmir quake (cosine 0.58, just over the threshold) as
    # two quakes the same day can be to an embedding; only the names they lead with differ.
    near = _vector(1, 1.4)
    same_quake = lead_terms(
        "Izmir quake: buildings collapse", "The 6.1 tremor in Izmir, Turkey, toppled flats."
    )
    other_quake = lead_terms(
        "Sulawesi earthquake kills 12", "A magnitude 5.9 earthquake struck Sulawesi, Indonesia."
    )
    pool = _quake_pool()
    assert pool.assign(_mention("a", near, 100, terms=same_quake, type="Disaster")) == "izmir"
    pool = _quake_pool()
    assert pool.assign(_mention("b", near, 100, terms=other_quake, type="Disaster")) == "b"
    # Without words the decision is meaning, time and dates alone, as before: the embedding merges them.
    pool = _quake_pool()
    assert pool.assign(_mention("c", near, 100, type="Disaster")) == "izmir"


def test_word_counts_follow_events_as_they_are_replaced_and_dropped() -> None:
    pool = EventPool(DIM)
    vector = _vector(1)
    pool.put(EventState("e1", vector, 1, 1, 0.0, 0.0, terms=Counter({"izmir": 2, "quake": 1})))
    pool.put(EventState("e2", vector, 1, 1, 0.0, 0.0, terms=Counter({"quake": 1})))
    assert pool._df == {"izmir": 1, "quake": 2}  # events, not reports, count
    pool.put(EventState("e1", vector, 2, 2, 0.0, 0.0, terms=Counter({"izmir": 3, "turkey": 1})))
    assert pool._df == {"izmir": 1, "quake": 1, "turkey": 1}
    pool.drop("e2")
    assert pool._df == {"izmir": 1, "turkey": 1}


def test_a_long_story_keeps_its_most_used_words_only() -> None:
    state = EventState("e", _vector(1), 1, 1, 0.0, 0.0)
    state.add_terms({"izmir": 5, "quake": 3, "a": 1, "b": 1}, keep=2)
    assert state.terms == {"izmir": 5, "quake": 3, "a": 1, "b": 1}  # not past twice the limit yet
    state.add_terms({"c": 1}, keep=2)
    assert state.terms == {"izmir": 5, "quake": 3}


def _stream(seed: int, count: int) -> list[Newcomer]:
    """Mentions around a few topics and days, some leads with words, some asides, in report order."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((12, 16)).astype(np.float32)
    stream = []
    for i in range(count):
        topic = int(rng.integers(len(topics)))
        vector = topics[topic] + 0.6 * rng.standard_normal(16).astype(np.float32)
        lead = bool(rng.random() < 0.6)
        stream.append(
            Newcomer(
                id=f"m{i}",
                vector=(vector / np.linalg.norm(vector)).astype(np.float32),
                report_ts=86400.0 * (i // 8),
                day=date(2026, 1, 1 + int(rng.integers(20))) if rng.random() < 0.5 else None,
                type="Battles" if topic % 2 else "Protests",
                lead=lead,
                terms=Counter({f"w{topic}": 1.0, f"x{i % 5}": 1.0}) if lead else None,
            )
        )
    return stream


def test_announced_mentions_are_assigned_exactly_as_unannounced_ones() -> None:
    # The look-ahead product must not change a single decision, whatever the group boundaries.
    for seed in range(3):
        stream = _stream(seed, 300)
        plain = EventPool(16)
        expected = [plain.assign(m) for m in stream]
        announced = EventPool(16)
        announced.expect((m.id, m.vector) for m in stream[:150])
        got = [announced.assign(m) for m in stream[:150]]
        # A second batch, announced in part only: the rest is compared one by one.
        announced.expect((m.id, m.vector) for m in stream[150:260])
        got += [announced.assign(m) for m in stream[150:]]
        assert got == expected
        assert len(set(expected)) > 20  # events were both joined and started


def test_an_event_keeps_each_day_and_type_once() -> None:
    state = EventState(id="e", centroid=_vector(1.0), size=1, leads=1, first_ts=0.0, last_ts=0.0)
    for day, kind in [(5, "Battles"), (5, "Battles"), (6, "Battles"), (5, "Protests")]:
        state.add_day(day, kind)
    assert state.days == [(5, "Battles"), (6, "Battles"), (5, "Protests")]
