"""Actors stage: states, forces, officials, groups and organisations, with their roles."""

from __future__ import annotations

from newsindex.events.actors import ActorMention, find_actors


def actors(text: str) -> list[tuple[str, str]]:
    return [(a.actor.name, a.actor.role) for a in find_actors(text)]


def test_states_and_their_forces() -> None:
    assert actors("Russian forces shelled the village overnight.") == [("Russia", "initiator")]
    assert actors("Russia launched a massive attack on Ukraine.") == [
        ("Russia", "initiator"),
        ("Ukraine", "target"),
    ]
    assert actors("The Ukrainian air force said it downed 20 drones.") == [("Ukraine", "source")]
    found = find_actors("Every such Russian strike hurts.")
    assert [(a.text, a.actor.name, a.actor.role) for a in found] == [
        ("Russian strike", "Russia", "initiator")
    ]


def test_demonyms_name_states() -> None:
    assert actors("But the Russians themselves feel the war.") == [("Russia", "participant")]
    assert actors("Ukrainian and Russian representatives held talks.") == [
        ("Ukraine", "participant"),
        ("Russia", "participant"),
    ]
    # A demonym that qualifies a place names no actor.
    assert actors("The western Russian city was quiet.") == []


def test_officials_stand_for_their_state() -> None:
    text = (
        "Ukrainian President Volodymyr Zelensky said the night was hard. Later Zelensky thanked the rescuers."
    )
    found = find_actors(text)
    assert found[0].text == "Ukrainian President Volodymyr Zelensky"
    assert [(a.actor.name, a.actor.role) for a in found] == [
        ("Ukraine", "source"),
        ("Ukraine", "participant"),
    ]
    # Without a demonym the person is the actor.
    assert actors("Mayor Ihor Terekhov said 19 people were injured.") == [("Ihor Terekhov", "source")]


def test_roles_from_the_sentence() -> None:
    assert actors("Talks mediated by the United States resumed on Friday.") == [("United States", "mediator")]
    assert actors("The town was hit by Russian drones.") == [("Russia", "initiator")]
    assert actors("According to the Russian Defence Ministry, the attack failed.")[0] == ("Russia", "source")
    assert actors("Two civilians were killed and four injured.") == [("Civilians", "victim")]
    assert actors("Police arrested three protesters on Monday.") == [
        ("Police", "initiator"),
        ("Protesters", "victim"),
    ]
    assert actors("Protesters marched to the parliament.") == [("Protesters", "participant")]
    assert actors("Russia's war against Ukraine goes on.") == [("Russia", "initiator"), ("Ukraine", "target")]


def test_organisations_and_groups() -> None:
    assert actors("Abu Sayyaf militants attacked a military outpost.")[0] == ("Abu Sayyaf", "initiator")
    assert actors("Hamas fired rockets at Israel.") == [("Hamas", "initiator"), ("Israel", "target")]
    assert actors("JNIM militants ambushed a convoy.") == [("JNIM", "initiator")]
    assert actors("The People's Defense Force attacked a police station.")[0] == (
        "People's Defense Force",
        "initiator",
    )
    assert actors("Gunmen killed a farmer.") == [("Gunmen", "initiator")]


def test_a_country_named_as_a_place_is_no_actor() -> None:
    assert actors("Peace talks resumed in the United Arab Emirates.") == []
    assert actors("Drones struck towns near the border with Russia.") == []


def test_offsets_point_into_the_body() -> None:
    body = "Header.\n\nRussian troops advanced while Ukrainian officials said little."
    start = body.index("Russian")
    found = find_actors(body[start:], base=start)
    assert [a.text for a in found] == ["Russian troops", "Ukrainian officials"]
    for mention in found:
        assert isinstance(mention, ActorMention)
        assert body[mention.start : mention.end] == mention.text == mention.actor.mention
