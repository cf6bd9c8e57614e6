"""NewsIndex, the facade (DESIGN §3, §5), with the fast HashingEmbedder: adding, updating, deleting,
filters, search modes, hits, reopening, locking, read-only handles and model checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import HashingEmbedder

from newsindex import (
    AddReport,
    Article,
    ArticleNotFoundError,
    ConfigurationError,
    EmbeddingIndexer,
    IndexLockedError,
    IngestError,
    ModelMismatchError,
    NewsIndex,
    NewsIndexError,
    ReadOnlyError,
    SearchHit,
)
from newsindex.index import BATCH_ARTICLES

MODES = ("dense", "lexical", "hybrid")
TESTS = Path(__file__).resolve().parent


def open_ix(path: Path, embedder: HashingEmbedder | None = None, **kwargs: object) -> NewsIndex:
    return NewsIndex.open(path, model=embedder or HashingEmbedder(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def ix(tmp_path: Path, hashing: HashingEmbedder) -> Iterator[NewsIndex]:
    index = open_ix(tmp_path / "ix", hashing)
    yield index
    index.close()


def art(i: int | str, body: str, **fields: object) -> Article:
    return Article(id=f"a{i}", body=body, **fields)  # type: ignore[arg-type]


def ids(hits: list[SearchHit]) -> list[str]:
    return [h.article.id for h in hits]


def check_hits(hits: list[SearchHit]) -> None:
    """What every hit list must satisfy whatever the query."""
    assert len(ids(hits)) == len(set(ids(hits))), "one hit per article"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    for hit in hits:
        body = hit.article.body
        assert 0 <= hit.passage_start < hit.passage_end <= len(body)
        assert hit.passage == body[hit.passage_start : hit.passage_end]
        for start, end in hit.highlights:
            assert hit.passage_start <= start < end <= hit.passage_end


# ------------------------------------------------------------------------------------------------
# Adding


def test_open_creates_the_directory(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "new.idx"
    with open_ix(path) as index:
        assert len(index) == 0
    assert (path / "store.sqlite").is_file()
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["model"] == "test/hashing"
    assert manifest["dim"] == 64


def test_add_articles_dicts_and_paths(tmp_path: Path, ix: NewsIndex) -> None:
    txt = tmp_path / "story.txt"
    txt.write_text("date 2026-01-05 A ferry ran aground near the harbour.\n\nNobody was hurt.\n")
    jsonl = tmp_path / "feed.jsonl"
    jsonl.write_text(
        json.dumps({"id": "j1", "title": "Bridge", "body": "A bridge reopened after repairs."})
        + "\n"
        + json.dumps({"id": "j2", "title": "Mill", "body": "A paper mill closed its doors."})
        + "\n"
    )
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "one.txt").write_text("Headline here\n\nThe body of the article in a folder.\n")
    (folder / "README.md").write_text("not an article")
    report = ix.add(
        [
            art(1, "An article object about tram lines."),
            {"id": "d1", "body": "A dict about a glacier retreating.", "published": "2026-01-02"},
            txt,
            str(jsonl),
            folder,
        ]
    )
    assert isinstance(report, AddReport)
    assert (report.added, report.updated, report.unchanged, report.failed) == (6, 0, 0, [])
    assert report.skipped == 1  # the README
    assert len(ix) == 6
    for article_id in ("a1", "d1", "j1", "j2"):
        assert article_id in ix
    assert ix.get("d1").published == datetime(2026, 1, 2, tzinfo=UTC)
    assert ix.get("j2").title == "Mill"


def test_add_single_items_without_a_list(tmp_path: Path, ix: NewsIndex) -> None:
    assert ix.add(art(1, "One object.")).added == 1
    assert ix.add({"id": "d", "body": "One dict."}).added == 1
    path = tmp_path / "one.txt"
    path.write_text("One file.")
    assert ix.add(path).added == 1
    assert ix.add(str(path)).unchanged == 1
    assert len(ix) == 3


def test_a_string_is_always_a_path_never_article_text(ix: NewsIndex) -> None:
    report = ix.add("Breaking news: a dam burst upstream")
    assert report.added == 0
    assert len(report.failed) == 1
    assert report.failed[0].where == "Breaking news: a dam burst upstream"
    assert len(ix) == 0


def test_readd_unchanged_costs_no_encoding(ix: NewsIndex, hashing: HashingEmbedder) -> None:
    articles = [art(i, f"Body number {i} about rivers and lakes.", title=f"T{i}") for i in range(5)]
    assert ix.add(articles).added == 5
    encoded = hashing.encoded
    assert encoded >= 5
    report = ix.add(articles)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert hashing.encoded == encoded
    # Equal articles built again from scratch are unchanged too (same derived ids and content).
    again = [Article(**a.model_dump()) for a in articles]
    assert ix.add(again).unchanged == 5
    assert hashing.encoded == encoded
    assert len(ix) == 5


def test_derived_ids_make_readding_an_update_not_a_duplicate(ix: NewsIndex) -> None:
    first = {"title": "Dam", "body": "The dam held.", "url": "https://example.org/dam"}
    second = {"title": "Dam", "body": "The dam held, engineers said.", "url": "https://example.org/dam"}
    assert ix.add(first).added == 1
    report = ix.add(second)
    assert (report.added, report.updated) == (0, 1)
    assert len(ix) == 1


def test_changed_body_is_reembedded_and_old_passages_are_gone(
    ix: NewsIndex, hashing: HashingEmbedder
) -> None:
    others = [art(i, f"Unrelated filler article {i} about the weather.") for i in range(5)]
    old_body = "\n\n".join(["The zucchini harvest failed across the province this year."] * 6)
    ix.add([*others, art("x", old_body, title="Harvest")])
    passages_before = ix.stats().passages
    old_passages = len(EmbeddingIndexer(HashingEmbedder()).passages(ix.get("ax")))
    assert old_passages > 1
    assert ix.search("zucchini", mode="lexical")[0].article.id == "ax"

    encoded = hashing.encoded
    new_body = "A pumpkin festival drew record crowds to the town square."
    report = ix.add(art("x", new_body, title="Harvest"))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    assert hashing.encoded > encoded, "the changed article was not re-embedded"
    assert ix.get("ax").body == new_body
    assert len(ix) == 6
    assert ix.stats().passages == passages_before - old_passages + 1

    assert ix.search("zucchini", mode="lexical") == []
    for mode in MODES:
        hits = ix.search("zucchini harvest failed province", k=20, mode=mode)
        check_hits(hits)
        for hit in hits:
            assert "zucchini" not in hit.passage
        pumpkin = ix.search("pumpkin festival crowds", k=1, mode=mode)
        assert ids(pumpkin) == ["ax"]
        assert pumpkin[0].passage == new_body


def test_tags_and_metadata_change_without_any_encoding(ix: NewsIndex, hashing: HashingEmbedder) -> None:
    ix.add(art(1, "Floods closed the mountain pass.", title="Floods", tags=["weather"]))
    events = [e.id for e in ix.article_events("a1")]
    encoded = hashing.encoded
    retagged = art(1, "Floods closed the mountain pass.", title="Floods", tags=["roads"], metadata={"x": 1})
    assert ix.add(retagged).updated == 1
    assert hashing.encoded == encoded  # neither passages nor clauses are encoded again
    assert [e.id for e in ix.article_events("a1")] == events


def test_metadata_only_change_is_an_update_without_encoding(ix: NewsIndex, hashing: HashingEmbedder) -> None:
    ix.add(art(1, "Floods closed the mountain pass.", title="Floods", tags=["weather"]))
    encoded = hashing.encoded
    changed = art(
        1,
        "Floods closed the mountain pass.",
        title="Floods",
        tags=["weather", "roads"],
        source="Ridgeline Times",
        published="2026-01-20",
        metadata={"edited": True},
    )
    report = ix.add(changed)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    # The passages are not encoded again; the new publication date only has the one clause re-read
    # for its events (relative dates depend on it).
    assert hashing.encoded == encoded + 1
    assert ix.get("a1") == changed
    assert ids(ix.search("floods mountain pass", mode="dense", sources=["Ridgeline Times"])) == ["a1"]
    assert ids(ix.search("floods", mode="lexical", since="2026-01-20")) == ["a1"]


def test_the_same_article_twice_in_one_add_keeps_the_later(ix: NewsIndex) -> None:
    report = ix.add([art(1, "First version of the text."), art(1, "Second version of the text.")])
    assert len(ix) == 1
    assert ix.get("a1").body == "Second version of the text."
    assert report.added + report.updated == 2
    assert ids(ix.search("second version", mode="lexical")) == ["a1"]
    assert ix.stats().passages == 1


def test_progress_callback_reports_committed_ids(ix: NewsIndex) -> None:
    calls: list[tuple[int, list[tuple[str, str]]]] = []
    ix.add([art(i, f"Text {i}.") for i in range(3)], progress=lambda n, done: calls.append((n, done)))
    assert calls
    committed = [pair for _, batch in calls for pair in batch]
    assert sorted(committed) == [("a0", "added"), ("a1", "added"), ("a2", "added")]
    assert calls[-1][0] == 3


# ------------------------------------------------------------------------------------------------
# Errors while adding


def test_bad_dict_item_is_reported_with_its_position(ix: NewsIndex) -> None:
    report = ix.add([art(1, "Fine."), {"id": "bad", "body": ""}, {"title": "no body"}, 42])
    assert report.added == 1
    assert [f.where for f in report.failed] == ["item 2", "item 3", "item 4"]
    assert "body" in report.failed[0].reason and "empty" in report.failed[0].reason
    assert "body" in report.failed[1].reason
    assert "int" in report.failed[2].reason
    assert not report.ok


def test_on_error_raise(ix: NewsIndex) -> None:
    with pytest.raises(IngestError) as info:
        ix.add([art(1, "Fine."), {"id": "bad", "body": "  "}], on_error="raise")
    assert info.value.where == "item 2"
    assert "body" in info.value.reason
    with pytest.raises(IngestError):
        ix.add(["/no/such/file.txt"], on_error="raise")
    with pytest.raises(ConfigurationError):
        ix.add([art(2, "x")], on_error="ignore")  # type: ignore[arg-type]


def test_max_body_chars_is_a_clean_per_record_failure(tmp_path: Path) -> None:
    with open_ix(tmp_path / "ix", max_body_chars=50) as index:
        report = index.add([{"id": "long", "body": "x " * 100}, {"id": "short", "body": "fits"}])
        assert report.added == 1
        assert [f.where for f in report.failed] == ["item 1"]
        assert "body" in report.failed[0].reason


# ------------------------------------------------------------------------------------------------
# get, len, contains, delete


def test_get_len_contains_delete(ix: NewsIndex) -> None:
    ix.add([art(i, f"Article {i} about ports and grain.") for i in range(4)])
    assert len(ix) == 4
    assert "a0" in ix and "nope" not in ix and 0 not in ix
    assert ix.get("a2").body == "Article 2 about ports and grain."

    assert ix.delete("a2") == 1
    assert len(ix) == 3 and "a2" not in ix
    with pytest.raises(ArticleNotFoundError):
        ix.get("a2")
    for mode in MODES:
        assert "a2" not in ids(ix.search("article ports grain", k=10, mode=mode))
    assert ix.stats().passages == 3

    assert ix.delete(["a0", "a1"]) == 2
    assert len(ix) == 1


def test_unknown_id_is_article_not_found_and_a_key_error(ix: NewsIndex) -> None:
    ix.add(art(1, "Only one."))
    with pytest.raises(ArticleNotFoundError) as info:
        ix.get("missing")
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, NewsIndexError)
    assert "missing" in str(info.value)
    with pytest.raises(KeyError):
        ix.get("missing")
    with pytest.raises(ArticleNotFoundError):
        ix.related("missing")


def test_delete_is_all_or_nothing(ix: NewsIndex) -> None:
    ix.add([art(1, "One."), art(2, "Two.")])
    with pytest.raises(ArticleNotFoundError):
        ix.delete(["a1", "missing"])
    assert len(ix) == 2 and "a1" in ix


def test_readding_a_deleted_article(ix: NewsIndex) -> None:
    ix.add(art(1, "Comeback story about a lighthouse."))
    ix.delete("a1")
    assert ix.add(art(1, "Comeback story about a lighthouse.")).added == 1
    assert ids(ix.search("lighthouse", mode="dense", k=5)) == ["a1"]
    assert ids(ix.search("lighthouse", mode="lexical", k=5)) == ["a1"]


# ------------------------------------------------------------------------------------------------
# Date filters (DESIGN §3): since=D from 00:00 UTC of D, until=D includes the whole day D


DATED = {
    "a_before": "2026-01-24T23:59:59Z",
    "a_tz_before": "2026-01-25T00:30:00+01:00",  # 2026-01-24T23:30Z
    "a_start": "2026-01-25T00:00:00Z",
    "a_late": "2026-01-25T23:59:59.999Z",
    "a_tz_late": "2026-01-25T20:00:00-03:00",  # 2026-01-25T23:00Z
    "a_next": "2026-01-26T00:00:00Z",
    "a_undated": None,
}


@pytest.fixture
def dated(ix: NewsIndex) -> NewsIndex:
    ix.add(
        [
            Article(id=aid, body=f"Report of a harbour fire, item {aid}.", published=when)
            for aid, when in DATED.items()
        ]
    )
    return ix


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        ("2026-01-25", None, {"a_start", "a_late", "a_tz_late", "a_next"}),
        (date(2026, 1, 25), None, {"a_start", "a_late", "a_tz_late", "a_next"}),
        (None, "2026-01-25", {"a_before", "a_tz_before", "a_start", "a_late", "a_tz_late"}),
        (None, date(2026, 1, 25), {"a_before", "a_tz_before", "a_start", "a_late", "a_tz_late"}),
        ("2026-01-25", "2026-01-25", {"a_start", "a_late", "a_tz_late"}),
        (None, "2026-01-24", {"a_before", "a_tz_before"}),
        ("2026-01-26", None, {"a_next"}),
        ("2026-01-27", None, set()),
        (datetime(2026, 1, 25, 12, 0, tzinfo=UTC), None, {"a_late", "a_tz_late", "a_next"}),
        ("2026-01-25T12:00:00Z", None, {"a_late", "a_tz_late", "a_next"}),
        (
            datetime(2026, 1, 25, 1, 0, tzinfo=timezone(timedelta(hours=1))),
            None,
            {"a_start", "a_late", "a_tz_late", "a_next"},
        ),
        (datetime(2026, 1, 25, 0, 0), None, {"a_start", "a_late", "a_tz_late", "a_next"}),  # naive = UTC
        (None, datetime(2026, 1, 25, 0, 0, tzinfo=UTC), {"a_before", "a_tz_before", "a_start"}),
        (None, "2026-01-25T00:00:00Z", {"a_before", "a_tz_before", "a_start"}),
    ],
)
def test_date_filters(dated: NewsIndex, mode: str, since: object, until: object, expected: set[str]) -> None:
    hits = dated.search("harbour fire report", k=50, mode=mode, since=since, until=until)  # type: ignore[arg-type]
    check_hits(hits)
    assert set(ids(hits)) == expected


def test_no_date_filter_includes_undated(dated: NewsIndex) -> None:
    for mode in MODES:
        assert set(ids(dated.search("harbour fire report", k=50, mode=mode))) == set(DATED)


def test_bad_date_filter_is_a_configuration_error(dated: NewsIndex) -> None:
    with pytest.raises(ConfigurationError):
        dated.search("fire", since="25/01/2026")
    with pytest.raises(ConfigurationError):
        dated.search("fire", until="yesterday")


# ------------------------------------------------------------------------------------------------
# Source and language filters


@pytest.fixture
def varied(ix: NewsIndex) -> NewsIndex:
    ix.add(
        [
            art(1, "Parliament passed the budget report.", source="Halden Gazette", language="en"),
            art(2, "Le parlement a voté le budget, report.", source="Le Courrier", language="fr"),
            art(3, "Das Parlament beschloss den Haushalt, report.", source="Rheinufer", language="de"),
            art(4, "Budget report debated again.", source="Halden Gazette", language="en"),
            art(5, "A budget report with no source.", language="en"),
        ]
    )
    return ix


@pytest.mark.parametrize("mode", MODES)
def test_source_and_language_filters(varied: NewsIndex, mode: str) -> None:
    def found(**kwargs: object) -> set[str]:
        hits = varied.search("budget report", k=50, mode=mode, **kwargs)  # type: ignore[arg-type]
        check_hits(hits)
        return set(ids(hits))

    assert found() == {"a1", "a2", "a3", "a4", "a5"}
    assert found(sources=["Halden Gazette"]) == {"a1", "a4"}
    assert found(sources="Halden Gazette") == {"a1", "a4"}
    assert found(sources=["Le Courrier", "Rheinufer"]) == {"a2", "a3"}
    assert found(sources=["Nobody"]) == set()
    assert found(languages=["fr"]) == {"a2"}
    assert found(languages=["fr", "de"]) == {"a2", "a3"}
    assert found(languages="en") == {"a1", "a4", "a5"}
    assert found(languages=["en"], sources=["Halden Gazette"]) == {"a1", "a4"}
    assert found(languages=["de"], sources=["Halden Gazette"]) == set()


# ------------------------------------------------------------------------------------------------
# Filters never under-fill (DESIGN §3)

N_COMMON = 288
N_RARE = 12


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewsIndex]:
    """300 articles; the 12 that match the filters are the worst matches for the query."""
    path = tmp_path_factory.mktemp("crowded") / "ix"
    index = open_ix(path)
    common = [
        Article(
            id=f"common-{i:03d}",
            title="Drone strike on the energy grid",
            body=f"Drone strike on the energy grid near town {i}. Drone strike, energy grid, drone.",
            source="Big Wire",
            language="en",
            published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=i),
        )
        for i in range(N_COMMON)
    ]
    rare = [
        Article(
            id=f"rare-{i:02d}",
            title=f"Council notes {i}",
            body=(
                f"The council of village {i} discussed parks, libraries, bus timetables, school "
                "meals, bin collections and the lighting of the market square; a drone was mentioned."
            ),
            source="Rare Wire",
            language="de",
            published=datetime(2026, 2, 10, tzinfo=UTC) + timedelta(hours=i),
        )
        for i in range(N_RARE)
    ]
    report = index.add([*common, *rare])
    assert report.added == N_COMMON + N_RARE
    yield index
    index.close()


FILTERS = [
    {"sources": ["Rare Wire"]},
    {"languages": ["de"]},
    {"since": "2026-02-01"},
    {"since": "2026-02-10", "until": "2026-02-10"},
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f))
def test_filters_never_under_fill(crowded: NewsIndex, mode: str, filters: dict[str, object]) -> None:
    query = "drone strike on the energy grid"
    unfiltered = crowded.search(query, k=N_RARE, mode=mode)
    assert not any(h.article.id.startswith("rare-") for h in unfiltered), "the rare ones must rank low"

    hits = crowded.search(query, k=10, mode=mode, **filters)  # type: ignore[arg-type]
    check_hits(hits)
    assert len(hits) == 10
    assert all(h.article.id.startswith("rare-") for h in hits)

    hits = crowded.search(query, k=50, mode=mode, **filters)  # type: ignore[arg-type]
    check_hits(hits)
    assert sorted(ids(hits)) == [f"rare-{i:02d}" for i in range(N_RARE)]


@pytest.mark.parametrize("mode", MODES)
def test_k_hits_without_filters_and_no_score_cut_off(crowded: NewsIndex, mode: str) -> None:
    hits = crowded.search("drone", k=N_COMMON + N_RARE, mode=mode)
    check_hits(hits)
    assert len(hits) == N_COMMON + N_RARE
    assert len(crowded.search("drone", k=7, mode=mode)) == 7


@pytest.mark.parametrize("mode", MODES)
def test_one_long_article_does_not_crowd_out_the_others(ix: NewsIndex, mode: str) -> None:
    long_body = "\n\n".join(f"Drone strike on the energy grid, part {i}." for i in range(300))
    ix.add(art("long", long_body, title="Drone strike on the energy grid"))
    ix.add([art(i, f"Item {i}: a drone was seen over a field near a farm.") for i in range(12)])
    assert ix.stats().passages > 64, "the long article must hold more passages than a first fetch"
    hits = ix.search("drone strike energy grid", k=10, mode=mode)
    check_hits(hits)
    assert len(hits) == 10
    assert hits[0].article.id == "along"
    assert len(ix.search("drone strike energy grid", k=13, mode=mode)) == 13


def test_add_takes_any_iterable(ix: NewsIndex) -> None:
    report = ix.add(art(i, f"Generated article {i}.") for i in range(3))
    assert report.added == 3
    assert ix.add(iter([{"id": "d", "body": "From an iterator."}])).added == 1
    with pytest.raises(ConfigurationError):
        ix.add(12345)


def test_min_score_cuts_off(crowded: NewsIndex) -> None:
    hits = crowded.search("drone strike energy grid", k=300, mode="dense")
    threshold = hits[5].score
    cut = crowded.search("drone strike energy grid", k=300, mode="dense", min_score=threshold)
    assert len(cut) >= 6
    assert all(h.score >= threshold for h in cut)
    assert len(cut) < len(hits)


# ------------------------------------------------------------------------------------------------
# Hits: one per article, passages and highlights


@pytest.fixture
def long_articles(ix: NewsIndex) -> NewsIndex:
    filler = "The committee met again and talked about schedules, budgets and minutes of meetings."
    articles = []
    for i in range(6):
        paragraphs = [filler] * 8
        paragraphs[3 + i % 4] = (
            f"Engineers said the reservoir turbines at station {i} were flooded after the storm."
        )
        articles.append(art(i, "\n\n".join(paragraphs), title=f"Station {i} report"))
    report = ix.add(articles)
    assert report.added == 6
    assert ix.stats().passages > 6 * 2, "the articles must be split into several passages"
    return ix


@pytest.mark.parametrize("mode", MODES)
def test_hits_are_collapsed_per_article(long_articles: NewsIndex, mode: str) -> None:
    hits = long_articles.search("reservoir turbines flooded storm", k=10, mode=mode)
    check_hits(hits)
    assert sorted(ids(hits)) == [f"a{i}" for i in range(6)]


@pytest.mark.parametrize("mode", MODES)
def test_highlights_point_at_query_words(long_articles: NewsIndex, mode: str) -> None:
    hits = long_articles.search("reservoir turbines", k=6, mode=mode)
    assert hits
    for hit in hits:
        body = hit.article.body
        assert "reservoir turbines" in hit.passage, "the best passage is the one that matches"
        assert hit.passage_start > 0, "the matching paragraph is not the first one"
        assert hit.highlights, "query words in the passage must be highlighted"
        words = []
        for start, end in hit.highlights:
            # Offsets into the body (like passage_start/passage_end) that lie inside the passage.
            assert hit.passage_start <= start < end <= hit.passage_end
            assert body[start:end] == hit.passage[start - hit.passage_start : end - hit.passage_start]
            words.append(body[start:end].lower())
        assert all(w.startswith(("reservoir", "turbine")) for w in words), words
        assert "reservoir" in words and "turbines" in words


def test_highlights_find_word_variants(ix: NewsIndex) -> None:
    ix.add(art(1, "Strikes hit the grid; another strike followed, and striking crews protested."))
    [hit] = ix.search("strikes", k=1, mode="lexical")
    words = [hit.article.body[s:e].lower() for s, e in hit.highlights]
    assert "strikes" in words and "strike" in words


def test_search_hit_dump_has_the_contract_fields(long_articles: NewsIndex) -> None:
    [hit] = long_articles.search("reservoir", k=1)
    dumped = hit.model_dump(mode="json")
    assert set(dumped) == set(SearchHit.model_fields)
    assert SearchHit(**json.loads(json.dumps(dumped))) == hit


# ------------------------------------------------------------------------------------------------
# Modes


def test_modes(ix: NewsIndex) -> None:
    ix.add(
        [
            art(1, "Avalanche buried two skiers near the pass."),
            art(2, "The central bank raised interest rates again."),
            art(3, "A new species of deep sea fish was described."),
        ]
    )
    for mode in MODES:
        hits = ix.search("avalanche skiers", k=3, mode=mode)
        check_hits(hits)
        assert hits[0].article.id == "a1"
    # Lexical only returns articles that share a word with the query; dense ranks everything.
    assert ids(ix.search("avalanche", k=3, mode="lexical")) == ["a1"]
    assert len(ix.search("avalanche", k=3, mode="dense")) == 3
    assert ix.search("zzzunknownword", k=3, mode="lexical") == []


def test_unknown_mode_and_bad_arguments_are_configuration_errors(ix: NewsIndex) -> None:
    ix.add(art(1, "Something."))
    with pytest.raises(ConfigurationError):
        ix.search("something", mode="semantic")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        ix.search("something", k=0)
    with pytest.raises(ConfigurationError):
        ix.search("   ")


def test_query_syntax_is_not_interpreted(ix: NewsIndex) -> None:
    ix.add(art(1, 'He said "no" AND left (quickly) - NEAR the door*.'))
    for query in ['"no" AND', "NEAR(door", "door*", "-left", "a OR", '"', "col:umn"]:
        for mode in MODES:
            check_hits(ix.search(query, k=3, mode=mode))


def test_search_on_an_empty_index(ix: NewsIndex) -> None:
    for mode in MODES:
        assert ix.search("anything", mode=mode) == []


# ------------------------------------------------------------------------------------------------
# Reopening, stats, vector file


def test_reopen_after_close_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    articles = [
        art(
            i,
            f"Story {i} about a lighthouse keeper.",
            title=f"Keeper {i}",
            source="Corvid Daily",
            published=f"2026-01-{i + 1:02d}T08:00:00Z",
            authors=["Ann"],
            tags=["sea"],
            metadata={"n": i},
        )
        for i in range(5)
    ]
    with open_ix(path) as index:
        index.add(articles)
        stats = index.stats()
        before = {mode: ids(index.search("lighthouse keeper", k=5, mode=mode)) for mode in MODES}
    fresh = HashingEmbedder()
    with open_ix(path, fresh) as index:
        assert len(index) == 5
        for a in articles:
            assert index.get(a.id) == a
        # Everything but the size (the vector file is written on close).
        assert index.stats().model_dump(exclude={"size_bytes"}) == stats.model_dump(exclude={"size_bytes"})
        for mode in MODES:
            assert ids(index.search("lighthouse keeper", k=5, mode=mode)) == before[mode]
        assert fresh.encoded <= 2, "reopening must not re-embed the articles (only the queries)"


def test_stats(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path) as index:
        index.add(
            [
                art(1, "One.", source="A"),
                art(2, "Two.", source="B"),
                art(3, "Three.", source="a"),
                art(4, "Four."),
            ]
        )
        stats = index.stats()
    assert stats.path == str(path)
    assert stats.articles == 4
    assert stats.passages == 4
    # Every article reports something (a weak lead mention when no sentence reads as an event).
    assert stats.mentions >= 4 and 1 <= stats.events <= stats.mentions
    assert stats.model == "test/hashing"
    assert stats.dim == 64
    assert stats.vector_index
    assert stats.size_bytes > 0
    assert stats.format_version >= 1
    import newsindex

    assert stats.newsindex_version == newsindex.__version__
    assert 2 <= stats.sources <= 3


def test_deleted_vector_file_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path) as index:
        index.add([art(i, f"Text {i} about volcano ash clouds {i}.") for i in range(10)])
        index.delete("a3")
        expected = ids(index.search("volcano ash", k=20, mode="dense"))
    vector_file = path / "vectors.faiss"
    assert vector_file.is_file()
    vector_file.unlink()
    with open_ix(path) as index:
        assert len(index) == 9
        got = ids(index.search("volcano ash", k=20, mode="dense"))
        assert got == expected
        assert "a3" not in got
        assert len(got) == 9
    assert vector_file.is_file(), "the rebuilt vector file is saved again"
    with open_ix(path) as index:
        assert ids(index.search("volcano ash", k=20, mode="dense")) == expected


def test_closed_index_refuses_calls(tmp_path: Path) -> None:
    index = open_ix(tmp_path / "ix")
    index.add(art(1, "x"))
    index.close()
    index.close()  # twice is harmless
    with pytest.raises(NewsIndexError):
        index.search("x")
    with pytest.raises(NewsIndexError):
        index.add(art(2, "y"))


# ------------------------------------------------------------------------------------------------
# Model checks


def test_different_model_name_is_a_model_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path) as index:
        index.add(art(1, "x"))
    with pytest.raises(ModelMismatchError) as info:
        open_ix(path, HashingEmbedder(name="test/other"))
    assert "test/hashing" in str(info.value) and "test/other" in str(info.value)
    with pytest.raises(ModelMismatchError):
        NewsIndex.open(path, model="sentence-transformers/some-other-model")
    # A failed open releases the writer lock.
    with open_ix(path) as index:
        assert len(index) == 1


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts open files through /proc")
def test_a_failed_open_closes_its_store(tmp_path: Path) -> None:
    """Not left to the garbage collector: the failed handle lives on in the exception's traceback."""
    path = tmp_path / "ix"
    with open_ix(path) as index:
        index.add(art(1, "x"))

    def store_files_open() -> int:
        fds = Path("/proc/self/fd")
        return sum(str(path) in os.path.realpath(fds / fd) for fd in os.listdir(fds))

    with pytest.raises(ModelMismatchError) as info:
        open_ix(path, HashingEmbedder(name="test/other"))
    assert info.value.__traceback__ is not None and store_files_open() == 0


def test_a_progress_callback_that_closes_the_index_stops_the_add(tmp_path: Path) -> None:
    """The next batch raises that the index is closed (not an SQLite error); committed batches stay."""
    index = open_ix(tmp_path / "ix")
    articles = [art(i, f"Report number {i}.") for i in range(BATCH_ARTICLES + 5)]
    with pytest.raises(NewsIndexError, match="is closed"):
        index.add(articles, progress=lambda n, done: index.close())
    with open_ix(tmp_path / "ix") as again:
        assert len(again) == BATCH_ARTICLES


def test_same_name_different_dimension_is_a_model_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path) as index:
        index.add(art(1, "x"))
    with pytest.raises(ModelMismatchError):
        open_ix(path, HashingEmbedder(dim=32))


# ------------------------------------------------------------------------------------------------
# One writer at a time; readers see what writers commit

HOLDER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from conftest import HashingEmbedder
    from newsindex import NewsIndex

    ix = NewsIndex.open({path!r}, model=HashingEmbedder())
    print("ready", flush=True)
    sys.stdin.read()
    ix.close()
    """
)


def test_second_writer_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path) as index:
        index.add(art(1, "Locked away."))
    code = HOLDER.format(tests=str(TESTS), path=str(path))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    holder = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(IndexLockedError) as info:
            open_ix(path)
        assert f"pid {holder.pid}" in str(info.value)
        # Readers keep working while another process holds the writer lock.
        with open_ix(path, read_only=True) as reader:
            assert ids(reader.search("locked", k=1)) == ["a1"]
    finally:
        holder.communicate("", timeout=30)
    assert holder.returncode == 0
    with open_ix(path) as index:  # released when the holder closed
        assert len(index) == 1


def test_second_writer_in_the_same_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path):
        with pytest.raises(IndexLockedError) as info:
            open_ix(path)
        assert f"pid {os.getpid()}" in str(info.value)
    with open_ix(path) as again:
        assert len(again) == 0


def test_read_only_handle_sees_later_commits_and_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    writer = open_ix(path)
    try:
        writer.add(art(1, "The first article about glaciers."))
        reader = open_ix(path, read_only=True)
        try:
            assert len(reader) == 1
            writer.add([art(2, "A second article about volcanoes."), art(3, "A third about tides.")])
            # Seen on the reader's next call, without reopening.
            assert len(reader) == 3
            assert reader.get("a2").body == "A second article about volcanoes."
            assert "a3" in reader
            for mode in MODES:
                assert ids(reader.search("volcanoes", k=1, mode=mode)) == ["a2"]
            writer.delete("a1")
            assert "a1" not in reader
            assert "a1" not in ids(reader.search("glaciers", k=5, mode="dense"))
            writer.add(art(2, "The second article now covers earthquakes."))
            assert ids(reader.search("earthquakes", k=1, mode="lexical")) == ["a2"]
            assert ids(reader.search("earthquakes", k=1, mode="dense")) == ["a2"]
            assert reader.stats().articles == 2

            with pytest.raises(ReadOnlyError):
                reader.add(art(9, "Not allowed."))
            with pytest.raises(ReadOnlyError):
                reader.delete("a2")
            assert "a9" not in writer
        finally:
            reader.close()
    finally:
        writer.close()


def test_read_only_open_of_a_missing_index_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(NewsIndexError):
        open_ix(tmp_path / "nothing-here", read_only=True)
    assert not (tmp_path / "nothing-here").exists()


def test_open_refuses_a_directory_of_other_files(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes")
    with pytest.raises(ConfigurationError):
        open_ix(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_related(long_articles: NewsIndex) -> None:
    hits = long_articles.related("a0", k=3)
    check_hits(hits)
    assert "a0" not in ids(hits)
    assert len(hits) == 3


def test_hybrid_search_runs_its_lexical_query_beside_the_dense_search(
    ix: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import newsindex.search as search_module

    topics = ["drone strike on a power plant", "floods in the valley", "talks in Abu Dhabi", "a new bridge"]
    ix.add([art(i, f"Report {i}: {topics[i % 4]} near town {i % 7}.") for i in range(40)])
    queries = ["drone strike power plant", "valley floods", "Abu Dhabi talks", "bridge town 3"]
    # Terms whose postings are in memory already are scored inline; here the thread is what is tested.
    monkeypatch.setattr(ix._store, "lexical_from_memory", lambda *args, **kwargs: None)
    monkeypatch.setattr(search_module, "OVERLAP_LEXICAL", False)
    alone = [[(h.article.id, h.score) for h in ix.search(q, k=5)] for q in queries]
    monkeypatch.setattr(search_module, "OVERLAP_LEXICAL", True)
    beside = [[(h.article.id, h.score) for h in ix.search(q, k=5)] for q in queries]
    assert beside == alone
    # A failure in the second thread reaches the caller, mapped like any other store error.
    store = ix._store

    def broken(*args: object, **kwargs: object) -> list[tuple[int, float]]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store.side_reader(), "lexical", broken)
    with pytest.raises(NewsIndexError):
        ix.search("drone strike", k=5)


def test_a_failed_encoding_leaves_no_lexical_thread_behind(
    ix: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    ix.add([art(i, f"Report {i} on the harvest in the northern valley.") for i in range(5)])
    expected = ids(ix.search("harvest valley", k=3))
    indexer = ix._searcher.indexer
    real = indexer.embed_query

    def failing(query: str) -> object:
        raise RuntimeError("the model failed")

    side = ix._store.side_reader()
    lexical = side.lexical
    monkeypatch.setattr(ix._store, "lexical_from_memory", lambda *args, **kwargs: None)

    def slow(*args: object, **kwargs: object) -> list[tuple[int, float]]:
        time.sleep(0.3)  # still running when the encoding fails
        return lexical(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(side, "lexical", slow)
    monkeypatch.setattr(indexer, "embed_query", failing)
    with pytest.raises(RuntimeError):
        ix.search("harvest valley", k=3)
    assert not [t for t in threading.enumerate() if t.name == "newsindex-lexical"]
    monkeypatch.setattr(indexer, "embed_query", real)
    assert ids(ix.search("harvest valley", k=3)) == expected


def test_the_lexical_thread_sees_what_was_just_added(ix: NewsIndex) -> None:
    """The lexical query of a hybrid search runs on a second connection; an article added through
    the first one is found by it in the next search, and a deleted one is not returned."""
    ix.add([art(i, f"Report {i} on the harvest in the northern valley.") for i in range(5)])
    assert "fresh" not in ids(ix.search("zeppelin hangar", k=3))
    ix.add([art("fresh", "A zeppelin hangar opened beside the airfield.")])
    hits = ix.search("zeppelin hangar", k=3)
    assert ids(hits)[0] == "afresh"
    assert hits[0].highlights, "the lexical side matched it"
    ix.delete("afresh")
    assert "afresh" not in ids(ix.search("zeppelin hangar", k=3))


def test_store_lacking_the_span_index_gains_it_on_a_writable_open(
    tmp_path: Path, hashing: HashingEmbedder
) -> None:
    """A store made before the span index existed searches the same read-only (through the rows) and
    gets the index the first time it is opened for writing."""
    import sqlite3

    path = tmp_path / "ix"
    with open_ix(path, hashing) as index:
        index.add([art(i, f"Flood {i} closes the river road in town {i}. " * 30) for i in range(6)])
        expected = {mode: ids(index.search("river road flood", k=4, mode=mode)) for mode in MODES}
    db = sqlite3.connect(path / "store.sqlite")
    db.execute("DROP INDEX passages_span")
    db.commit()
    db.close()

    def has_index() -> bool:
        db = sqlite3.connect(path / "store.sqlite")
        try:
            return (
                db.execute("SELECT 1 FROM sqlite_master WHERE name = 'passages_span'").fetchone() is not None
            )
        finally:
            db.close()

    with open_ix(path, hashing, read_only=True) as reader:
        assert {mode: ids(reader.search("river road flood", k=4, mode=mode)) for mode in MODES} == expected
    assert not has_index()
    with open_ix(path, hashing) as writer:
        assert {mode: ids(writer.search("river road flood", k=4, mode=mode)) for mode in MODES} == expected
    assert has_index()


@pytest.mark.parametrize("name", ["ix#1", "ix?x", "ix%41b"])
def test_index_paths_with_uri_characters(tmp_path: Path, hashing: HashingEmbedder, name: str) -> None:
    """The store's read-only connections (a read-only handle, the hybrid search's second connection)
    open the same file whatever characters its path holds."""
    path = tmp_path / name
    with open_ix(path, hashing) as index:
        index.add([art(i, f"Floods closed the river road in town {i}.") for i in range(4)])
        hits = index.search("river road floods", k=2)  # hybrid: lexical part on the second connection
        assert len(hits) == 2 and any(h.highlights for h in hits)
    with open_ix(path, hashing, read_only=True) as reader:
        assert len(reader.search("river road floods", k=2)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [name], "no stray database beside it"


def test_every_store_connection_gets_the_larger_page_cache(ix: NewsIndex, hashing: HashingEmbedder) -> None:
    """SQLite's default 2 MiB page cache held too little of a million-passage store (see
    ``newsindex.store.PAGE_CACHE_KIB``); the writer, a reader and the second connection all ask
    for more."""
    from newsindex.store import PAGE_CACHE_KIB

    ix.add([art(1, "A report on the harvest.")])
    reader = NewsIndex.open(ix.path, model=hashing, read_only=True)  # type: ignore[arg-type]
    try:
        for store in (ix._store, ix._store.side_reader(), reader._store):
            assert store.execute("PRAGMA cache_size").fetchone()[0] == -PAGE_CACHE_KIB
    finally:
        reader.close()


def test_an_index_opened_by_a_relative_path_survives_a_chdir(
    tmp_path: Path, hashing: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import newsindex.store as store_module

    monkeypatch.setattr(store_module, "SPAN_MAP_AFTER", 0)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    with NewsIndex.open("ix", model=hashing) as ix:  # type: ignore[arg-type]
        ix.add([art(i, f"Report {i} on the harbour and the port.") for i in range(6)])
        monkeypatch.chdir(tmp_path / "elsewhere")
        ix.add([art("late", "A late report on the harbour.", published="2026-02-01")])
        for mode in ("hybrid", "lexical", "dense"):
            assert "alate" in ids(ix.search("late harbour report", k=3, mode=mode))
            # A filter opens the connection that resolves it: the same file.
            assert ids(ix.search("harbour report", k=3, mode=mode, since="2026-01-01")) == ["alate"]
    assert not (tmp_path / "elsewhere" / "ix").exists()
    with NewsIndex.open(tmp_path / "ix", model=hashing, read_only=True) as again:  # type: ignore[arg-type]
        assert again.stats().articles == 7


# ------------------------------------------------------------------------------------------------
# Engines: what computed the vectors


class EngineEmbedder(HashingEmbedder):
    """A test embedder that says which engine computes its vectors, as SentenceTransformerEmbedder does."""

    def __init__(self, engine: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.engine = engine


def test_index_records_the_engines_that_made_its_vectors(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    with open_ix(path, EngineEmbedder("openvino-bf16")) as index:
        assert index.engines == []
        index.add([art(1, "A ferry ran aground near the harbour.")])
        index.add([art(2, "Floods closed the coastal road.")])
        assert index.engines == ["openvino-bf16"]
    with open_ix(path, EngineEmbedder("openvino-int8")) as index:
        index.add([art(3, "Talks resumed in Geneva.")])
        assert index.engines == ["openvino-bf16", "openvino-int8"]
    with open_ix(path) as index:  # an embedder that does not say adds nothing to the list
        index.add([art(4, "The port reopened.")])
        assert index.stats().engines == ["openvino-bf16", "openvino-int8"]
    assert json.loads((path / "manifest.json").read_text())["engines"] == ["openvino-bf16", "openvino-int8"]
    with NewsIndex.open(path, read_only=True, model=HashingEmbedder()) as reader:  # type: ignore[arg-type]
        assert reader.stats().engines == ["openvino-bf16", "openvino-int8"]


@pytest.mark.parametrize(
    ("engine", "prefers_int8"),
    [("openvino-int8", True), ("openvino-bf16", False), ("torch-float32", False), (None, False)],
)
def test_reopened_index_asks_for_the_engine_it_was_built_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str | None, prefers_int8: bool
) -> None:
    from newsindex import SentenceTransformerEmbedder
    from newsindex.embedding import DEFAULT_MODEL

    monkeypatch.delenv("NEWSINDEX_MODEL", raising=False)
    path = tmp_path / "ix"
    # Named as the default model, with its dimension: reopened without model=, the index makes the
    # real embedder (whose dimension is read from the model's files, nothing loaded). No engine:
    # vectors written before engines were recorded, which were never int8.
    embedder = HashingEmbedder(dim=384, name=DEFAULT_MODEL)
    if engine is not None:
        embedder = EngineEmbedder(engine, dim=384, name=DEFAULT_MODEL)
    with open_ix(path, embedder) as index:
        with NewsIndex.open(path, read_only=True) as empty:  # nothing written yet: the default
            assert isinstance(empty.indexer.embedder, SentenceTransformerEmbedder)
            assert empty.indexer.embedder._int8_preferred is None
        index.add([art(1, "A ferry ran aground near the harbour.")])
    with NewsIndex.open(path, read_only=True) as reader:
        made = reader.indexer.embedder
        assert isinstance(made, SentenceTransformerEmbedder)
        assert made._int8_preferred is prefers_int8
