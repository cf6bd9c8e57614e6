"""Event detection and typing per sentence: the trigger rules alone (no model), then the real model."""

from __future__ import annotations

import pytest
from conftest import SEED_FILE

from newsindex.events.classify import (
    EventTyper,
    TypeGuess,
    escalate,
    match_triggers,
    reports_no_event,
    trigger_guess,
)
from newsindex.events.taxonomy import EventType, default_taxonomy

REMOTE = "Explosions/Remote violence"


def _kind(guess: TypeGuess | None) -> tuple[str, str | None] | None:
    return None if guess is None else (guess.type, guess.subtype)


# --- trigger rules, no model ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("A drone strike hit a car near the border on Tuesday.", (REMOTE, "Air/drone strike")),
        (
            "Artillery shelled a residential district overnight.",
            (REMOTE, "Shelling/artillery/missile attack"),
        ),
        ("A roadside bomb exploded as an army truck passed.", (REMOTE, "Remote explosive/landmine/IED")),
        ("Attackers hurled a hand grenade at a police post.", (REMOTE, "Grenade")),
        (
            "Hundreds of teachers staged a demonstration outside the ministry.",
            ("Protests", "Peaceful protest"),
        ),
        (
            "Nurses rallied outside the hospital and police dispersed the crowd.",
            ("Protests", "Protest with intervention"),
        ),
        ("Protesters threw stones at officers during the march.", ("Riots", "Violent demonstration")),
        ("Gunmen shot dead two farmers in the village.", ("Violence against civilians", "Attack")),
        (
            "Militants kidnapped a doctor on the highway.",
            ("Violence against civilians", "Abduction/forced disappearance"),
        ),
        ("Soldiers clashed with rebels near the river.", ("Battles", "Armed clash")),
        ("Police arrested an opposition leader at his home.", ("Strategic developments", "Arrests")),
        (
            "Air defences shot down three drones over the region.",
            ("Strategic developments", "Disrupted weapons use"),
        ),
        ("The two delegations held talks in Geneva.", ("Diplomacy", "Negotiations")),
        ("A strong earthquake shook the coast on Sunday.", ("Disaster", "Earthquake")),
    ],
)
def test_trigger_rules_type_clear_sentences(sentence: str, expected: tuple[str, str]) -> None:
    assert _kind(trigger_guess(sentence)) == expected


def test_weapon_beats_the_casualty_words() -> None:
    # ACLED codes the event by its means: people killed by shelling is shelling, not an attack.
    sentence = "Two people were killed on Monday when shelling hit a tram depot."
    assert _kind(trigger_guess(sentence)) == (REMOTE, "Shelling/artillery/missile attack")


def test_armed_victims_make_a_clash_not_an_attack_on_civilians() -> None:
    assert _kind(trigger_guess("Troops killed four militants in a raid.")) == ("Battles", "Armed clash")
    assert _kind(trigger_guess("Gunmen killed four villagers in a raid.")) == (
        "Violence against civilians",
        "Attack",
    )


def test_a_killing_named_as_the_reason_of_a_protest_is_not_an_attack() -> None:
    sentence = "Relatives of a man who was shot dead last month marched to demand justice."
    assert _kind(trigger_guess(sentence)) == ("Protests", "Peaceful protest")


def test_a_fight_without_armed_groups_is_mob_violence() -> None:
    assert _kind(trigger_guess("Supporters of two football clubs clashed outside the stadium.")) == (
        "Riots",
        "Mob violence",
    )


def test_dates_are_not_marches() -> None:
    assert ("Protests", "Peaceful protest") not in match_triggers(
        "On 3 March 2022 the ministry announced a plan."
    )


def test_opinion_quotes_and_background_report_no_event() -> None:
    assert reports_no_event('"Every such strike proves that we must get more air defences," he added.')
    assert reports_no_event("Russia has been systematically shelling the grid since the start of the war.")
    assert not reports_no_event('"Russia launched 370 drones at our cities overnight," Zelensky said.')
    assert trigger_guess('"No blind eye can be turned to these strikes."') is None


def test_escalate_recodes_a_protest_by_what_followed() -> None:
    protest = TypeGuess("Protests", "Peaceful protest", 0.8)
    dispersed = TypeGuess("Protests", "Protest with intervention", 0.9)
    stones = TypeGuess("Riots", "Violent demonstration", 0.9)
    talks = TypeGuess("Diplomacy", "Negotiations", 0.9)
    assert _kind(escalate(protest, dispersed)) == ("Protests", "Protest with intervention")
    assert _kind(escalate(protest, stones)) == ("Riots", "Violent demonstration")
    assert escalate(protest, talks) is None
    assert escalate(talks, stones) is None


def test_the_default_model_loads_lazily_and_once(monkeypatch: pytest.MonkeyPatch, hashing: object) -> None:
    made: list[object] = []

    def fake_model() -> object:
        made.append(hashing)
        return hashing

    monkeypatch.setattr("newsindex.embedding.SentenceTransformerEmbedder", fake_model)
    typer = EventTyper()
    assert made == []
    drone, quote = typer.classify(["A drone strike hit a car.", '"We must act now," he said.'])
    typer.classify(["Police arrested two men."])
    assert len(made) == 1
    assert drone is not None and drone.type == REMOTE
    assert quote is None


# --- the real model -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def typer(real_embedder: object) -> EventTyper:
    return EventTyper(real_embedder)  # type: ignore[arg-type]


def test_classify_types_news_sentences(typer: EventTyper) -> None:
    cases = [
        (
            "An Israeli drone strike hit a car near Bint Jbeil on Tuesday, killing two.",
            (REMOTE, "Air/drone strike"),
        ),
        (
            "Russian forces shelled the centre of Kherson on Friday evening.",
            (REMOTE, "Shelling/artillery/missile attack"),
        ),
        (
            "Thousands of farmers marched peacefully through Brussels against the trade deal.",
            ("Protests", "Peaceful protest"),
        ),
        (
            "Police arrested three men suspected of running the smuggling ring.",
            ("Strategic developments", "Arrests"),
        ),
        ("Ukrainian and Russian negotiators met for peace talks in Istanbul.", ("Diplomacy", "Negotiations")),
        ("A magnitude 6.4 earthquake struck northern Chile early on Monday.", ("Disaster", "Earthquake")),
        ('"We will never accept this," the minister said.', None),
        ("The town lies about 30 kilometres from the border.", None),
    ]
    guesses = typer.classify([sentence for sentence, _ in cases])
    assert [_kind(g) for g in guesses] == [expected for _, expected in cases]
    for guess in guesses:
        assert guess is None or 0.0 <= guess.score <= 1.0


def test_classify_the_seed_article(typer: EventTyper) -> None:
    body = SEED_FILE.read_text(encoding="utf-8")
    sentences = {
        "overnight": "Russia launched a massive attack on our regions during the night",
        "belgorod": "was hit by a heavy rocket attack",
        "talks": "The negotiations in the capital of the United Arab Emirates",
        "quote": "No blind eye can be turned to these strikes",
        "background": "Russia has been systematically shelling",
    }
    texts = [_sentence_with(body, fragment) for fragment in sentences.values()]
    overnight, belgorod, talks, quote, background = typer.classify(texts)
    assert overnight is not None and overnight.type == REMOTE
    assert belgorod is not None and belgorod.type == REMOTE
    assert _kind(talks) == ("Diplomacy", "Negotiations")
    assert quote is None or quote.score < 0.5
    assert background is None


def _sentence_with(body: str, fragment: str) -> str:
    from newsindex.events.text import split_sentences

    return next(s.text for s in split_sentences(body) if fragment in s.text)


def test_sentences_longer_than_the_model_window_are_typed(typer: EventTyper) -> None:
    long = "Warplanes bombed the district on Sunday. " + "The damage was extensive and widespread. " * 120
    [guess] = typer.classify([long])
    assert guess is not None and guess.type == REMOTE


def test_a_type_the_user_adds_is_reached_through_its_description(real_embedder: object) -> None:
    taxonomy = default_taxonomy()
    taxonomy.add(
        EventType(
            "Royal wedding",
            "a prince or princess marries in a wedding ceremony",
            {"Ceremony": "a royal wedding"},
        )
    )
    typer = EventTyper(real_embedder, taxonomy)  # type: ignore[arg-type]
    [guess] = typer.classify(["The prince married his fiancée in a lavish royal wedding at the cathedral."])
    assert guess is not None and guess.type == "Royal wedding"


def test_classify_of_nothing_is_empty(typer: EventTyper) -> None:
    assert typer.classify([]) == []
