"""Event models, the taxonomy, sentence splitting and reconciling mentions into one Event."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from newsindex import (
    Article,
    Casualties,
    Event,
    EventMention,
    Evidence,
    Location,
    Quantity,
    ValidationError,
    default_taxonomy,
)
from newsindex.errors import ConfigurationError
from newsindex.events.reconcile import build_event
from newsindex.events.taxonomy import ACLED_TYPES, GENERAL_TYPES, EventType
from newsindex.events.text import split_clauses, split_sentences


def test_acled_vocabulary_is_spelled_as_acled_spells_it() -> None:
    assert [t.name for t in ACLED_TYPES] == [
        "Battles",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Protests",
        "Riots",
        "Strategic developments",
    ]
    subtypes = [s for t in ACLED_TYPES for s in t.subtypes]
    assert len(subtypes) == len(set(subtypes)) == 25
    for name in (
        "Air/drone strike",
        "Shelling/artillery/missile attack",
        "Armed clash",
        "Peaceful protest",
        "Agreement",
        "Arrests",
        "Remote explosive/landmine/IED",
        "Abduction/forced disappearance",
        "Looting/property destruction",
    ):
        assert name in subtypes


def test_general_types_are_the_ten_design_names() -> None:
    assert [t.name for t in GENERAL_TYPES] == [
        "Diplomacy",
        "Politics",
        "Economy and business",
        "Disaster",
        "Accident",
        "Crime and justice",
        "Science and technology",
        "Health",
        "Sports",
        "Culture",
    ]
    assert "Negotiations" in default_taxonomy().get("Diplomacy").subtypes


def test_taxonomy_is_extensible_and_names_unknown_types() -> None:
    taxonomy = default_taxonomy()
    taxonomy.add(
        EventType("Cyberattack", "hackers break into computer systems", {"Ransomware": "files held"})
    )
    assert "Cyberattack" in taxonomy
    assert taxonomy.type_of("Ransomware") == "Cyberattack"
    assert taxonomy.type_of("Air/drone strike") == "Explosions/Remote violence"
    with pytest.raises(ConfigurationError, match="unknown event type 'Nope'"):
        taxonomy.get("Nope")
    with pytest.raises(ConfigurationError):
        taxonomy.add(EventType("  ", "blank"))


def test_casualties_keep_not_reported_apart_from_none() -> None:
    assert Casualties().killed is None
    assert Casualties(killed=0).killed == 0
    with pytest.raises(ValidationError, match="killed"):
        Casualties(killed=-3)
    with pytest.raises(ValidationError, match="count"):
        Quantity(item="drone", count=-1)


def test_location_and_evidence_are_validated() -> None:
    with pytest.raises(ValidationError, match="country"):
        Location(name="Kyiv", mention="Kiev", country="Ukraine")
    with pytest.raises(ValidationError, match="lat"):
        Location(name="X", mention="X", country="UA", lat=123.0)
    with pytest.raises(ValidationError, match="end"):
        Evidence(article_id="a", start=10, end=5, text="")


def test_mention_round_trips_through_json() -> None:
    mention = EventMention(
        id="m1",
        article_id="a1",
        type="Explosions/Remote violence",
        subtype="Air/drone strike",
        date=date(2026, 1, 24),
        date_precision="day",
        locations=[Location(name="Kyiv", mention="Kiev", country="UA", admin1="Kyiv City")],
        casualties=Casualties(killed=1, injured=24, approximate=True),
        quantities=[Quantity(item="drone", count=370)],
        evidence=[Evidence(article_id="a1", start=0, end=4, text="Kiev")],
        confidence=0.9,
    )
    dumped = mention.model_dump(mode="json")
    assert dumped["date"] == "2026-01-24"
    assert EventMention.model_validate_json(mention.model_dump_json()) == mention
    with pytest.raises(ValidationError, match="confidence"):
        EventMention(id="m", article_id="a", type="Protests", confidence=1.5)


def _mention(mid: str, article: str, **fields: object) -> EventMention:
    return EventMention(id=mid, article_id=article, type="Explosions/Remote violence", **fields)  # type: ignore[arg-type]


def test_build_event_reconciles_fields_across_reports() -> None:
    early = Article(
        id="a1", body="x", source="Wire A", published=datetime(2026, 1, 24, 6, tzinfo=UTC), title="Strike"
    )
    late = Article(id="a2", body="y", source="Paper B", published=datetime(2026, 1, 25, tzinfo=UTC))
    reports = [
        (
            _mention(
                "m2",
                "a2",
                date=date(2026, 1, 24),
                casualties=Casualties(killed=3),
                locations=[Location(name="Kyiv", mention="Kyiv", country="UA", admin1="Kyiv City", lat=50.4)],
                quantities=[Quantity(item="drone", count=400, approximate=True)],
            ),
            late,
        ),
        (
            _mention(
                "m1",
                "a1",
                date=date(2026, 1, 23),
                casualties=Casualties(killed=1, injured=4),
                locations=[Location(name="Kyiv", mention="Kiev", country="UA")],
                quantities=[Quantity(item="drone", count=370)],
                targets=["energy infrastructure"],
            ),
            early,
        ),
    ]
    event = build_event("e1", reports)
    assert isinstance(event, Event)
    assert (event.date, event.end_date) == (date(2026, 1, 23), date(2026, 1, 24))
    assert event.casualties == Casualties(killed=3, injured=4, approximate=False)
    assert [(q.item, q.count) for q in event.quantities] == [("drone", 400)]
    assert len(event.locations) == 1 and event.locations[0].admin1 == "Kyiv City"
    assert event.sources == ["Paper B", "Wire A"]
    assert event.first_reported == early.published and event.last_reported == late.published
    assert event.title == "Strike"
    assert event.targets == ["energy infrastructure"]
    assert event.model_dump(mode="json")["first_reported"] == "2026-01-24T06:00:00Z"


def test_sentences_and_clauses_keep_offsets() -> None:
    body = (
        "Mr. Smith met Gen. Lee in the U.S. capital on Jan. 5. Talks ended.\n\n"
        "Shelling hit the town overnight, officials said as peace talks resumed in Geneva."
    )
    sentences = split_sentences(body)
    assert [s.text for s in sentences] == [
        "Mr. Smith met Gen. Lee in the U.S. capital on Jan. 5.",
        "Talks ended.",
        "Shelling hit the town overnight, officials said as peace talks resumed in Geneva.",
    ]
    clauses = split_clauses(sentences[2])
    assert [c.text for c in clauses] == [
        "Shelling hit the town overnight, officials said",
        "peace talks resumed in Geneva.",
    ]
    for piece in [*sentences, *clauses]:
        assert body[piece.start : piece.end] == piece.text
    assert split_clauses(sentences[0]) == [sentences[0]]
