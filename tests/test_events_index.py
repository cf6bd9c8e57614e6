"""Events inside the index, with the real model: extraction on add, ``events()``, the ``locations`` and
``event_types`` filters, hits' ``event_ids``, updates, deletes, the format upgrade, and the
``extract``/``events`` commands (issue 3)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import SEED_FILE, SEEDS
from helpers import run_cli

from newsindex import (
    Article,
    ConfigurationError,
    CorruptIndexError,
    Event,
    EventMention,
    NewsIndex,
    load_articles,
)

SEED_ID = load_articles(SEED_FILE)[0].id


@pytest.fixture(scope="module")
def seed_events(seed_index: Path) -> list[Event]:
    with NewsIndex.open(seed_index, read_only=True) as ix:
        return ix.article_events(SEED_ID)


def _places(event: Event | EventMention) -> set[tuple[str, str]]:
    return {(p.name, p.country) for p in event.locations}


def test_the_seed_reports_the_attack_the_belgorod_strike_and_the_talks(seed_events: list[Event]) -> None:
    lead = seed_events[0]
    assert lead.type == "Explosions/Remote violence"
    assert {("Kharkiv", "UA"), ("Sumy", "UA"), ("Chernihiv", "UA")} <= _places(lead)
    assert any(p.name == "Kyiv" and p.mention == "Kiev" for p in lead.locations)
    assert {(q.item, q.count) for q in lead.quantities} >= {("drone", 370), ("missile", 21)}
    assert lead.casualties.killed == 1
    assert lead.date == date(2026, 1, 24)
    belgorod = [e for e in seed_events if ("Belgorod", "RU") in _places(e)]
    assert belgorod and belgorod[0].type == "Explosions/Remote violence"
    talks = [e for e in seed_events if e.type == "Diplomacy"]
    assert talks and any(p.country == "AE" for e in talks for p in e.locations)


def test_evidence_points_into_the_body(seed_index: Path, seed_events: list[Event]) -> None:
    with NewsIndex.open(seed_index, read_only=True) as ix:
        body = ix.get(SEED_ID).body
    for event in seed_events:
        for mention in event.mentions:
            assert mention.evidence
            for evidence in mention.evidence:
                assert body[evidence.start : evidence.end] == evidence.text
    lead_text = " ".join(e.text for e in seed_events[0].mentions[0].evidence)
    assert "370 combat drones" in lead_text


def test_events_are_listed_and_filtered(seed_index: Path) -> None:
    with NewsIndex.open(seed_index, read_only=True) as ix:
        every = ix.events()
        assert len(every) == ix.stats().events > 0
        days = [e.date for e in every if e.date is not None]
        assert days == sorted(days)
        recent = ix.events(since="2026-01-20", event_types=["Explosions/Remote violence"])
        assert recent and all(e.type == "Explosions/Remote violence" for e in recent)
        assert all(e.date is not None and e.date >= date(2026, 1, 20) for e in recent)
        in_russia = ix.events(locations=["Russia"])
        assert in_russia and all(any(p.country == "RU" for p in e.locations) for e in in_russia)
        assert ix.events(since="2030-01-01") == []


def test_search_filters_by_place_and_type_before_ranking(seed_index: Path) -> None:
    with NewsIndex.open(seed_index, read_only=True) as ix:
        for place in ("Kharkiv", "kharkiv", "Kiev", "Kyiv"):
            hits = ix.search("attack", k=5, locations=[place])
            assert SEED_ID in [h.article.id for h in hits], place
        talks = ix.search("drones", k=3, event_types=["Diplomacy"])
        assert SEED_ID in [h.article.id for h in talks]
        for hit in ix.search("earthquake", k=10, event_types=["Explosions/Remote violence"]):
            events = ix.article_events(hit.article.id)
            assert any(e.type == "Explosions/Remote violence" for e in events)
        with pytest.raises(ConfigurationError, match="unknown event type"):
            ix.search("x", event_types=["Explosions"])


def test_filtered_search_never_under_fills(seed_index: Path) -> None:
    with NewsIndex.open(seed_index, read_only=True) as ix:
        matching = {aid for e in ix.events(locations=["Ukraine"]) for aid in e.article_ids}
        hits = ix.search("weather forecast", k=len(matching), locations=["Ukraine"], mode="dense")
        assert {h.article.id for h in hits} == matching


def test_hits_carry_their_event_ids(seed_index: Path, seed_events: list[Event]) -> None:
    with NewsIndex.open(seed_index, read_only=True) as ix:
        hits = ix.search("drone and missile attack on Ukrainian energy infrastructure", k=5)
    by_id = {hit.article.id: hit for hit in hits}
    assert by_id[SEED_ID].event_ids == [e.id for e in seed_events]
    assert all(hit.event_ids for hit in hits)


@pytest.fixture
def small_index(tmp_path: Path, real_embedder: object) -> Iterator[NewsIndex]:
    with NewsIndex.open(tmp_path / "ix", model=real_embedder) as ix:  # type: ignore[arg-type]
        yield ix


STRIKE = (
    "Russian drones struck a power plant in Kharkiv on Tuesday, killing two people and injuring five, "
    "the regional governor said."
)
PROTEST = "Thousands of students marched through Santiago on Tuesday to protest against tuition fees."


def test_update_and_delete_keep_events_in_step(small_index: NewsIndex) -> None:
    ix = small_index
    ix.add([Article(id="a", body=STRIKE, published="2026-03-05")])
    (event,) = ix.article_events("a")
    assert event.type == "Explosions/Remote violence" and event.casualties.killed == 2
    assert event.date == date(2026, 3, 3)
    ix.add([Article(id="a", body=PROTEST, published="2026-03-05")])
    (event,) = ix.article_events("a")
    assert event.type == "Protests"
    assert ix.events(event_types=["Explosions/Remote violence"]) == []
    ix.add([Article(id="a", body=PROTEST, published="2026-03-12")])  # only the date changed
    assert ix.article_events("a")[0].date == date(2026, 3, 10)
    ix.delete("a")
    assert ix.events() == []
    assert ix.stats().mentions == ix.stats().events == 0


def test_an_index_of_format_1_is_upgraded_with_a_backup(tmp_path: Path, real_embedder: object) -> None:
    path = tmp_path / "old"
    with NewsIndex.open(path, model=real_embedder) as ix:  # type: ignore[arg-type]
        ix.add([Article(id="a", body=STRIKE, published="2026-03-05")])
    with sqlite3.connect(path / "store.sqlite") as db:  # what format 1 looked like
        db.executescript(
            "DROP TABLE mention_places; DROP TABLE mentions; DROP TABLE events;"
            "UPDATE meta SET value = '1' WHERE key = 'format_version';"
        )
    db.close()
    with pytest.raises(CorruptIndexError, match="format 1"):
        NewsIndex.open(path, read_only=True)
    with NewsIndex.open(path, model=real_embedder) as ix:  # type: ignore[arg-type]
        assert ix.stats().format_version == 3
        assert [e.type for e in ix.article_events("a")] == ["Explosions/Remote violence"]
    assert (path / "store.sqlite.format1.bak").is_file()
    with NewsIndex.open(path, read_only=True) as ix:
        assert len(ix.events()) == 1


def _event_terms(path: Path) -> dict[str, dict[str, int]]:
    with sqlite3.connect(path / "store.sqlite") as db:
        rows = db.execute("SELECT id, terms FROM events").fetchall()
    db.close()
    return {event_id: json.loads(terms) for event_id, terms in rows}


def test_an_index_of_format_2_is_upgraded_with_a_backup(tmp_path: Path, real_embedder: object) -> None:
    """Format 3 adds the words of each event's lead reports; upgrading fills them from the articles."""
    path = tmp_path / "old"
    with NewsIndex.open(path, model=real_embedder) as ix:  # type: ignore[arg-type]
        ix.add([Article(id="a", title="Strike on a depot", body=STRIKE, published="2026-03-05")])
        ix.add([Article(id="b", body=PROTEST, published="2026-03-06")])
        before = {a: [e.model_dump() for e in ix.article_events(a)] for a in ("a", "b")}
    written = _event_terms(path)
    assert all(written.values()) and "depot" in next(iter(written.values()))
    with sqlite3.connect(path / "store.sqlite") as db:  # what format 2 looked like
        db.executescript(
            "ALTER TABLE events DROP COLUMN terms; UPDATE meta SET value = '2' WHERE key = 'format_version';"
        )
    db.close()
    with pytest.raises(CorruptIndexError, match="format 2"):
        NewsIndex.open(path, read_only=True)
    with NewsIndex.open(path, model=real_embedder) as ix:  # type: ignore[arg-type]
        assert ix.stats().format_version == 3
        assert {a: [e.model_dump() for e in ix.article_events(a)] for a in ("a", "b")} == before
    assert (path / "store.sqlite.format2.bak").is_file()
    assert _event_terms(path) == written  # the same words as merging recorded them


def test_cli_extract_reads_the_seed(tmp_path: Path) -> None:
    result = run_cli("extract", SEED_FILE, "--json")
    assert result.returncode == 0, result.stderr
    mentions = [EventMention.model_validate(m) for m in json.loads(result.stdout)]
    body = load_articles(SEED_FILE)[0].body
    attack = mentions[0]
    assert attack.type == "Explosions/Remote violence"
    assert {(q.item, q.count) for q in attack.quantities} >= {("drone", 370), ("missile", 21)}
    assert attack.casualties.killed == 1
    struck = {p.name for p in attack.locations if p.country == "UA"}
    assert {"Kyiv", "Kharkiv", "Sumy", "Chernihiv"} <= struck
    assert any(("Belgorod", "RU") in _places(m) for m in mentions)
    talks = [m for m in mentions if m.type == "Diplomacy"]
    assert talks and any(p.country == "AE" for m in talks for p in m.locations)
    for mention in mentions:
        for evidence in mention.evidence:
            assert body[evidence.start : evidence.end] == evidence.text
    assert any("Belgorod" in e.text for m in mentions for e in m.evidence if ("Belgorod", "RU") in _places(m))


def test_cli_events_prints_a_timeline(seed_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ix"
    shutil.copytree(seed_index, copy)
    result = run_cli("events", "--index", copy, "--since", "2026-01-20", "--json")
    assert result.returncode == 0, result.stderr
    events = [Event.model_validate(e) for e in json.loads(result.stdout)]
    assert any(SEED_ID in e.article_ids for e in events)
    text = run_cli("events", "--index", copy, "--type", "Diplomacy")
    assert text.returncode == 0, text.stderr
    assert "Diplomacy" in text.stdout and "United Arab Emirates" not in text.stderr
    bad = run_cli("events", "--index", copy, "--type", "Nope")
    assert bad.returncode == 2 and "unknown event type" in bad.stderr


def _zaporizhzhia_reports() -> tuple[Article, Article, Article]:
    """Two reports of the 12 January shelling (different spellings, tolls and days) and the strike
    of 19 January on the same city: sample articles written for the project (seeds/README.md)."""
    first = load_articles(SEEDS / "001_zaporizhzhia_shelling.txt")[0]
    later = load_articles(SEEDS / "003_zaporizhzhia_shelling_jan19.txt")[0]
    wire = next(a for a in load_articles(SEEDS / "wire_feed.jsonl") if a.id == "sample-wire-001")
    return first, wire, later


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_reports_of_one_strike_merge_and_a_strike_a_week_later_stays_apart(
    tmp_path: Path, real_embedder: object, order: tuple[int, int, int]
) -> None:
    reports = _zaporizhzhia_reports()
    with NewsIndex.open(tmp_path / "ix", model=real_embedder) as ix:  # type: ignore[arg-type]
        for i in order:  # one add per article: the online path, in three orders
            ix.add([reports[i]])
        first, wire, later = (ix.article_events(a.id)[0] for a in reports)
        assert first.id == wire.id
        assert set(first.article_ids) == {reports[0].id, reports[1].id}
        assert later.id != first.id and later.article_ids == [reports[2].id]
        assert first.date == date(2026, 1, 12)
        assert first.casualties.killed == 4  # the highest toll reported (the wire's update)
        assert {m.article_id for m in first.mentions} == {reports[0].id, reports[1].id}
        related = [h.article.id for h in ix.related(reports[0].id, k=2)]
        assert related[0] == reports[1].id  # the same event first
        hits = ix.search_events("shelling of a tram depot", k=2)
        assert hits[0].event.id == later.id


def test_deleting_a_report_updates_its_event(tmp_path: Path, real_embedder: object) -> None:
    first, wire, later = _zaporizhzhia_reports()
    with NewsIndex.open(tmp_path / "ix", model=real_embedder) as ix:  # type: ignore[arg-type]
        ix.add([first, wire, later])
        event_id = ix.article_events(first.id)[0].id
        ix.delete(wire.id)
        (event,) = [e for e in ix.events() if e.id == event_id]
        assert event.article_ids == [first.id]
        assert event.casualties.killed == 3
        ix.delete(first.id)
        assert event_id not in {e.id for e in ix.events()}
        ix.add([wire])  # a new report after the deletes still finds its way
        assert ix.article_events(wire.id)[0].article_ids == [wire.id]
