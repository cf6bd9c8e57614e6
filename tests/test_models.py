"""The contract models (DESIGN §2): validation errors, id derivation, UTC dates, JSON round trips and
the exact field sets of the models that the CLI prints as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import typing
from datetime import UTC, date, datetime, timedelta, timezone

import pydantic
import pytest

import newsindex
from newsindex import AddReport, Article, Failure, IndexStats, SearchHit, ValidationError
from newsindex.errors import NewsIndexError

# ------------------------------------------------------------------------------------------------
# Validation errors name the field and the record


@pytest.mark.parametrize(
    ("data", "field", "why"),
    [
        ({"id": "rec-empty", "body": ""}, "body", "empty"),
        ({"id": "rec-blank", "body": " \n\t  "}, "body", "empty"),
        ({"id": "rec-date", "body": "Some text.", "published": "2026-02-31"}, "published", "date"),
        ({"id": "rec-date2", "body": "Some text.", "published": "not a date at all"}, "published", "date"),
        ({"id": "rec-nul", "body": "binary\x00data"}, "body", "NUL"),
        ({"id": "rec-missing", "title": "No body here"}, "body", ""),
    ],
)
def test_validation_error_names_field_and_record(data: dict[str, object], field: str, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        Article(**data)
    err = info.value
    assert isinstance(err, NewsIndexError)
    assert not isinstance(err, pydantic.ValidationError), "pydantic's error must not leak out"
    assert err.field == field
    message = str(err)
    assert field in message
    assert why.lower() in message.lower()
    # The record is named: by its id when it has one.
    assert str(data["id"]) in message
    assert err.record is not None and str(data["id"]) in err.record


def test_validation_error_names_the_record_given_to_parse() -> None:
    with pytest.raises(ValidationError) as info:
        Article.parse({"body": "   "}, record="feed.jsonl:12")
    assert info.value.record == "feed.jsonl:12"
    assert info.value.field == "body"
    assert "feed.jsonl:12" in str(info.value)
    assert "body" in str(info.value)


def test_parse_rejects_a_non_mapping_naming_the_record() -> None:
    with pytest.raises(ValidationError) as info:
        Article.parse(["not", "an", "object"], record="item 3")
    assert "item 3" in str(info.value)


def test_body_over_max_body_chars_is_a_clean_failure() -> None:
    Article.parse({"body": "x" * 100}, max_body_chars=100)  # at the limit: fine
    with pytest.raises(ValidationError) as info:
        Article.parse({"id": "too-long", "body": "x" * 101}, record="big.jsonl:1", max_body_chars=100)
    assert info.value.field == "body"
    assert "big.jsonl:1" in str(info.value)
    assert "100" in str(info.value)


def test_default_body_limit_is_one_million_characters() -> None:
    assert len(Article(body="y" * 1_000_000).body) == 1_000_000
    with pytest.raises(ValidationError) as info:
        Article(body="y" * 1_000_001)
    assert info.value.field == "body"
    # The limit only applies while parsing; it does not leak into the next validation.
    assert Article(body="z" * 500).body == "z" * 500


def test_max_body_chars_does_not_leak_out_of_parse() -> None:
    Article.parse({"body": "short"}, max_body_chars=10)
    assert len(Article(body="w" * 1000).body) == 1000


# ------------------------------------------------------------------------------------------------
# Ids


def test_given_id_is_kept() -> None:
    assert Article(id="my-id", body="Text.", url="https://example.org/a").id == "my-id"
    assert Article(id="  padded  ", body="Text.").id == "padded"


def test_id_derived_from_url() -> None:
    a = Article(body="First version.", url="https://example.org/news/1", title="One")
    b = Article(body="Edited version, other title.", url="https://example.org/news/1", title="Two")
    c = Article(body="First version.", url="https://example.org/news/2", title="One")
    assert a.id and a.id == b.id, "same URL → same article (an update, not a duplicate)"
    assert a.id != c.id


def test_id_derived_from_title_published_and_body_without_url() -> None:
    base = {"title": "Storm", "published": "2026-01-25", "body": "A storm hit the coast."}
    a = Article(**base)
    assert a.id == Article(**base).id
    assert a.id != Article(**{**base, "body": "A storm hit the hills."}).id
    assert a.id != Article(**{**base, "title": "Gale"}).id
    assert a.id != Article(**{**base, "published": "2026-01-26"}).id
    assert a.id != Article(**{**base, "published": None}).id
    # Fields outside the basis do not change the id.
    assert a.id == Article(**base, source="Somewhere", tags=["weather"]).id


def test_id_does_not_depend_on_how_the_same_instant_is_written() -> None:
    body = {"title": "T", "body": "Same article."}
    ids = {
        Article(**body, published="2026-01-25").id,
        Article(**body, published="2026-01-25T00:00:00Z").id,
        Article(**body, published="2026-01-25T02:00:00+02:00").id,
        Article(**body, published=date(2026, 1, 25)).id,
        Article(**body, published=datetime(2026, 1, 25)).id,
        Article(**body, published=datetime(2026, 1, 24, 19, 0, tzinfo=timezone(timedelta(hours=-5)))).id,
    }
    assert len(ids) == 1


def test_derived_id_is_stable_across_processes() -> None:
    """Python's str hash is salted per process; the derived id must not be."""
    article = Article(title="Stable", body="Same text in every process.", published="2026-01-02")
    code = (
        "from newsindex import Article;"
        "print(Article(title='Stable', body='Same text in every process.', published='2026-01-02').id)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == article.id


# ------------------------------------------------------------------------------------------------
# Dates


def test_published_is_normalised_to_utc_and_dumped_with_z() -> None:
    a = Article(body="x", published="2026-01-25T03:00:00+03:00")
    assert a.published == datetime(2026, 1, 25, tzinfo=UTC)
    assert a.published is not None and a.published.utcoffset() == timedelta(0)
    assert a.model_dump(mode="json")["published"] == "2026-01-25T00:00:00Z"
    assert json.loads(a.model_dump_json())["published"] == "2026-01-25T00:00:00Z"


def test_naive_datetime_is_taken_as_utc() -> None:
    a = Article(body="x", published=datetime(2026, 1, 25, 14, 30))
    assert a.published == datetime(2026, 1, 25, 14, 30, tzinfo=UTC)
    assert a.model_dump(mode="json")["published"] == "2026-01-25T14:30:00Z"


@pytest.mark.parametrize("value", ["2026-01-25", date(2026, 1, 25)])
def test_bare_date_means_midnight_utc(value: object) -> None:
    a = Article(body="x", published=value)
    assert a.published == datetime(2026, 1, 25, 0, 0, tzinfo=UTC)
    assert a.model_dump(mode="json")["published"] == "2026-01-25T00:00:00Z"


def test_rfc822_date_is_read() -> None:
    a = Article(body="x", published="Tue, 03 Feb 2026 09:15:00 +0100")
    assert a.model_dump(mode="json")["published"] == "2026-02-03T08:15:00Z"


def test_no_published_stays_none() -> None:
    a = Article(body="x")
    assert a.published is None
    assert a.model_dump(mode="json")["published"] is None


# ------------------------------------------------------------------------------------------------
# JSON round trip


def _full_article() -> Article:
    return Article(
        id="art-1",
        title="Grain exports rise",
        body="Ports shipped 4.1 million tonnes.\n\nTraders expect more.",
        url="https://example.org/grain",
        source="Halden Gazette",
        published="2026-01-09T10:20:30+01:00",
        language="en",
        authors=["A. Writer", "B. Editor"],
        tags=["economy", "grain"],
        metadata={"path": "/x/y.txt", "n": 3, "nested": {"ok": True, "list": [1, 2.5, None]}},
    )


def test_json_round_trip_is_equal() -> None:
    a = _full_article()
    dumped = a.model_dump(mode="json")
    assert Article(**dumped) == a
    assert Article(**json.loads(a.model_dump_json())) == a
    assert Article.parse(json.loads(json.dumps(dumped))) == a
    # And the dump is stable under a second round trip.
    assert Article(**dumped).model_dump(mode="json") == dumped


def test_article_fields_are_the_contract() -> None:
    assert list(Article.model_fields) == [
        "id",
        "title",
        "body",
        "url",
        "source",
        "published",
        "language",
        "authors",
        "tags",
        "metadata",
    ]
    a = Article(body="x")
    assert a.language == "en"
    assert a.authors == [] and a.tags == [] and a.metadata == {}


def test_unknown_field_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        Article(body="x", headline="not a field")
    assert "headline" in str(info.value)


# ------------------------------------------------------------------------------------------------
# Result and report models: field names and types exactly as DESIGN §2


def _fields(model: type[pydantic.BaseModel]) -> dict[str, object]:
    hints = typing.get_type_hints(model)
    return {name: hints[name] for name in model.model_fields}


def test_search_hit_fields() -> None:
    assert _fields(SearchHit) == {
        "rank": int,
        "score": float,
        "article": Article,
        "passage": str,
        "passage_start": int,
        "passage_end": int,
        "highlights": list[tuple[int, int]],
        "event_ids": list[str],
    }


def test_search_hit_json_round_trip() -> None:
    a = _full_article()
    hit = SearchHit(
        rank=1,
        score=0.5,
        article=a,
        passage=a.body[0:33],
        passage_start=0,
        passage_end=33,
        highlights=[(0, 5)],
        event_ids=[],
    )
    dumped = hit.model_dump(mode="json")
    assert set(dumped) == set(SearchHit.model_fields)
    assert dumped["highlights"] == [[0, 5]]
    assert SearchHit(**json.loads(json.dumps(dumped))) == hit


def test_add_report_fields() -> None:
    fields = _fields(AddReport)
    # DESIGN §2: added, updated, unchanged, skipped (ints) and failed (list of Failure). Skipped files
    # are "listed but not failures", which is what ``skipped_items`` holds; nothing else is allowed.
    assert fields == {
        "added": int,
        "updated": int,
        "unchanged": int,
        "skipped": int,
        "failed": list[Failure],
        "skipped_items": list[Failure],
    }
    report = AddReport()
    assert (report.added, report.updated, report.unchanged, report.skipped, report.failed) == (0, 0, 0, 0, [])


def test_failure_fields() -> None:
    assert _fields(Failure) == {"where": str, "reason": str}
    failure = Failure(where="feed.jsonl:3", reason="not valid JSON")
    assert "feed.jsonl:3" in str(failure) and "not valid JSON" in str(failure)


def test_index_stats_fields() -> None:
    assert _fields(IndexStats) == {
        "path": str,
        "articles": int,
        "passages": int,
        "mentions": int,
        "events": int,
        "sources": int,
        "model": str,
        "dim": int,
        "vector_index": str,
        "vector_recall": float | None,  # beyond DESIGN §2: what the vector index measured (issue 5)
        "engines": list[str],  # beyond DESIGN §2: what computed the vectors (issue 5)
        "size_bytes": int,
        "format_version": int,
        "newsindex_version": str,
    }


def test_models_are_exported() -> None:
    for name in ("Article", "SearchHit", "AddReport", "IndexStats", "Failure"):
        assert name in newsindex.__all__
