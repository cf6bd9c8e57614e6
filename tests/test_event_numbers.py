"""Numbers stage: counts in words and digits, casualties, quantities and targets (sentences written here)."""

from __future__ import annotations

import pytest

from newsindex.events.numbers import (
    CasualtyMention,
    combine_casualties,
    find_casualties,
    find_quantities,
    find_targets,
    parse_number,
)
from newsindex.models import Casualties


def casualties(text: str) -> Casualties:
    return combine_casualties(find_casualties(text))


# --- parse_number -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("370", (370, False)),
        ("one", (1, False)),
        ("twenty-one", (21, False)),
        ("Forty two", (42, False)),
        ("1,200", (1200, False)),
        ("two hundred and fifty", (250, False)),
        ("three thousand", (3000, False)),
        ("1.5 million", (1_500_000, False)),
        ("at least 19", (19, True)),
        ("more than 30", (30, True)),
        ("about 40", (40, True)),
        ("nearly a hundred", (100, True)),
        ("dozens", (24, True)),
        ("dozens of", (24, True)),
        ("hundreds", (200, True)),
        ("several", (3, True)),
        ("a dozen", (12, False)),
        ("half a dozen", (6, False)),
        ("between 10 and 20", (10, True)),
        ("two or three", (2, True)),
        ("5-7", (5, True)),
    ],
)
def test_parse_number_reads_digits_words_and_vague_amounts(words: str, expected: tuple[int, bool]) -> None:
    assert parse_number(words) == expected


@pytest.mark.parametrize("words", ["", "banana", "a", "one two", "twenty twenty", "many", "several bananas"])
def test_parse_number_rejects_what_is_not_a_count(words: str) -> None:
    assert parse_number(words) is None


# --- casualties ---------------------------------------------------------------------------------------


def test_numbers_in_words_and_hyphenated_numbers() -> None:
    result = casualties("Twenty-one people were killed and thirty-four were wounded when shells hit.")
    assert (result.killed, result.injured, result.approximate) == (21, 34, False)


def test_at_least_is_approximate() -> None:
    result = casualties("The mayor said at least 19 people were injured in the strike on the city centre.")
    assert (result.killed, result.injured, result.approximate) == (None, 19, True)


def test_one_fatality_and_dozens_of_injuries() -> None:
    result = casualties("The minister reported one fatality and dozens of injuries after the overnight raid.")
    assert (result.killed, result.injured, result.approximate) == (1, 24, True)


def test_no_deaths_or_injuries_is_zero_not_missing() -> None:
    mentions = find_casualties("The depot burned for hours, but there were no deaths or injuries.")
    assert len(mentions) == 1
    assert (mentions[0].killed, mentions[0].injured) == (0, 0)
    assert mentions[0].text == "no deaths or injuries"


@pytest.mark.parametrize(
    ("sentence", "killed", "injured"),
    [
        ("Officials said no one was hurt when the shell landed in a field.", 0, 0),
        ("The convoy passed the checkpoint without casualties.", 0, 0),
        ("No casualties were reported after the explosion.", 0, 0),
        ("Two guards were wounded; there were no fatalities.", 0, 2),
        ("No one was killed in the blast.", 0, None),
    ],
)
def test_reported_as_none(sentence: str, killed: int | None, injured: int | None) -> None:
    result = casualties(sentence)
    assert (result.killed, result.injured) == (killed, injured)


def test_not_reported_is_none() -> None:
    result = casualties("Rebels shelled the outskirts of the town on Tuesday. Casualties unknown.")
    assert (result.killed, result.injured) == (None, None)


@pytest.mark.parametrize(
    ("sentence", "killed"),
    [
        ("A man was killed when gunmen opened fire on a bus.", 1),
        ("Two civilians and a child were killed in the attack on the village.", 3),
        ("Three soldiers, a policeman and two farmers were killed near the border.", 6),
        ("Gunmen shot dead a shopkeeper and his son outside the mosque.", 2),
        ("Bandits attacked the settlement, killing at least 5 people and injuring 12 others.", 5),
        ("The driver was shot and killed at a checkpoint.", 1),
        ("Four militants were killed and seven others were injured in the clash.", 4),
        ("The blast left at least one person dead and four others injured.", 1),
        ("The death toll rose to 12 on Sunday.", 12),
        ("Police found the bodies of three men near the river.", 3),
        ("A 47-year-old farmer was shot dead in his field.", 1),
        ("Both died on the way to hospital.", 2),
        ("Militants attacked the base; 2 fatalities.", 2),
        ("Five people, including two children, were killed when the shell hit.", 5),
        ("A total of 1,200 soldiers have been killed since the spring.", 1200),
        ("Between 10 and 15 people were killed.", 10),
        ("The ambush killed one officer and between one or two soldiers.", 2),
        ("The driver was found dead in his car.", 1),
        ("At least 8 people, including four guards, one cook and three drivers were killed.", 8),
        ("Nine soldiers were killed and 4 rebels were killed in the fighting.", 13),
    ],
)
def test_killed_counts(sentence: str, killed: int) -> None:
    assert casualties(sentence).killed == killed


@pytest.mark.parametrize(
    "sentence",
    [
        "Russia launched 370 drones and 21 missiles at the capital overnight.",
        "Raiders killed 20 cattle and stole 30 goats from the herders.",
        "On 3 May 2023, 15 trucks crossed the border at 7:30 am.",
        "The attackers shot the victim more than 10 times, but he survived.",
        "Protesters marched against the killing of two students last year.",
        "Relatives of a man who was killed by police in 2021 gathered to demand justice.",
        "The new law killed the project and the bill was withdrawn.",
        "The bill is dead.",
        "Dozens of people were injured in the stampede at the stadium.",
    ],
)
def test_numbers_that_are_not_casualties(sentence: str) -> None:
    assert casualties(sentence).killed is None


def test_acled_coding_note_overrides_claims() -> None:
    note = (
        "Government forces clashed with rebels near the river. "
        "The rebels claimed to have killed 40 soldiers. Fatalities coded as 3."
    )
    assert casualties(note).killed == 3


def test_acled_split_fatalities() -> None:
    note = "Shelling hit several villages and 5 civilians were killed [5 fatalities split among 2 events]."
    assert casualties(note).killed == 3


def test_second_source_counts_only_without_a_first() -> None:
    text = "Six soldiers were killed in the ambush. The group said it killed 30 soldiers."
    assert casualties(text).killed == 6
    assert casualties("The group said it killed 30 soldiers.").killed == 30


def test_offsets_point_into_the_body_with_base() -> None:
    body = "Heavy fighting continued. Two policemen were wounded near the station."
    sentence_start = body.index("Two")
    mentions = find_casualties(body[sentence_start:], base=sentence_start)
    assert len(mentions) == 1
    mention = mentions[0]
    assert body[mention.start : mention.end] == mention.text == "Two policemen were wounded"
    assert mention.injured == 2


def test_combine_takes_highest_figure_and_keeps_none() -> None:
    mentions = [
        CasualtyMention(0, 1, "a", killed=1, injured=None, approximate=False),
        CasualtyMention(2, 3, "b", killed=3, injured=None, approximate=True),
        CasualtyMention(4, 5, "c", killed=0, injured=None, approximate=False),
    ]
    assert combine_casualties(mentions) == Casualties(killed=3, injured=None, approximate=True)
    assert combine_casualties([]) == Casualties(killed=None, injured=None, approximate=False)


def test_combine_prefers_a_positive_figure_to_none_reported() -> None:
    mentions = [
        CasualtyMention(0, 1, "a", killed=0, injured=0, approximate=False),
        CasualtyMention(2, 3, "b", killed=None, injured=4, approximate=False),
    ]
    assert combine_casualties(mentions) == Casualties(killed=0, injured=4, approximate=False)


def test_combine_prefers_exact_of_equal_figures() -> None:
    mentions = [
        CasualtyMention(0, 1, "a", killed=1, injured=None, approximate=True),
        CasualtyMention(2, 3, "b", killed=1, injured=None, approximate=False),
    ]
    assert combine_casualties(mentions).approximate is False


def test_a_seasons_total_is_not_one_events_toll() -> None:
    text = (
        "Two skiers were killed on Saturday when an avalanche swept them away near St. Anton. "
        "Avalanches have now killed 11 people in Austria this winter, the board said."
    )
    mentions = find_casualties(text)
    assert [(m.killed, m.running) for m in mentions] == [(2, False), (11, True)]
    assert combine_casualties(mentions).killed == 2
    # Where a season's total is all the report gives, it is still the figure given.
    alone = find_casualties("At least 11 people have been killed in avalanches this winter.")
    assert [(m.killed, m.running) for m in alone] == [(11, True)]
    assert combine_casualties(alone).killed == 11


@pytest.mark.parametrize(
    "text",
    [
        "Eleven people have died in avalanches in Austria this winter.",
        "Avalanches have so far killed 11 people this winter.",
        "This winter, avalanches have killed 11 people in Austria.",
        "Floods have killed 11 people since the start of the year.",
        "Floods have killed 11 people since January, the agency said.",
        "Gunmen have killed 11 policemen, soldiers and security guards in the capital this year.",
        "Gunmen have killed 11 policemen, soldiers and security\nguards in the capital this year.",  # wrapped
    ],
)
def test_running_totals(text: str) -> None:
    assert [(m.killed, m.running) for m in find_casualties(text)] == [(11, True)]


@pytest.mark.parametrize(
    "text",
    [
        "The strike killed 40 people, the deadliest attack this year.",  # one event, with a superlative
        "The earthquake has killed at least 40 people, making it the deadliest disaster this year.",
        "The earthquake has killed 40 people so far, officials said.",  # the latest toll of one event
        "Shelling killed 40 people on Monday, when talks resumed since January had stalled.",
        "At least 40 people have been killed in floods that hit the region earlier this month.",
        "At least 40 people have been killed since the start of the siege on Monday.",
        "Forty skiers have been killed in Tyrol\n\nThis winter has been harsh.",  # a headline, no full stop
        "In the deadliest attack this year, gunmen have killed 40 villagers in Zamfara state.",
        "At least 40 pilgrims have died during this year's Hajj after a crush at Mina.",
        "Kenya floods: worst rains this year\n\nAt least 40 people have died in floods across Kenya.",
        "At least 40 people have been killed in clashes that erupted earlier  this month.",
        "Despite a truce in place since January, an air strike has killed 40 people in Gaza.",
    ],
)
def test_one_events_toll_is_not_a_running_total(text: str) -> None:
    assert [(m.killed, m.running) for m in find_casualties(text)] == [(40, False)]


# --- quantities ---------------------------------------------------------------------------------------


def test_drones_and_missiles() -> None:
    text = "The army said it faced 370 combat drones and 21 missiles of various types overnight."
    found = {(m.quantity.item, m.quantity.count, m.quantity.approximate) for m in find_quantities(text)}
    assert found == {("drone", 370, False), ("missile", 21, False)}
    for mention in find_quantities(text):
        assert text[mention.start : mention.end] == mention.text


@pytest.mark.parametrize(
    ("sentence", "item", "count", "approximate"),
    [
        ("Militants fired dozens of rockets at the town.", "rocket", 24, True),
        ("Air defences downed two Shahed drones near the port.", "drone", 2, False),
        ("Three tanks were destroyed in the counterattack.", "tank", 3, False),
        ("The navy said twelve cruise missiles were launched.", "missile", 12, False),
        ("Rebels seized about 40 vehicles and two helicopters.", "vehicle", 40, True),
        ("Shelling destroyed 12 houses in the village.", "house", 12, False),
    ],
)
def test_quantities(sentence: str, item: str, count: int, approximate: bool) -> None:
    quantities = [m.quantity for m in find_quantities(sentence)]
    assert any((q.item, q.count, q.approximate) == (item, count, approximate) for q in quantities)


@pytest.mark.parametrize(
    "sentence",
    [
        "Five soldiers were killed and 20 civilians were wounded.",
        "The government pledged $5 million in aid for 2024.",
        "Two drone operators were detained on 4 March.",
        "Two armed men waited outside his house.",
        "Hundreds of high school students marched.",
        "Several hospitals were damaged.",
    ],
)
def test_no_quantities_for_people_money_and_dates(sentence: str) -> None:
    assert find_quantities(sentence) == []


def test_quantity_offsets_with_base() -> None:
    body = "Intro sentence here. Forces shot down 15 drones."
    start = body.index("Forces")
    (mention,) = find_quantities(body[start:], base=start)
    assert body[mention.start : mention.end] == mention.text == "15 drones"


# --- targets -----------------------------------------------------------------------------------------


def test_targets_are_normalised_singular_phrases() -> None:
    text = (
        "Every strike on our energy infrastructure is a crime. Several hospitals and residential buildings "
        "were damaged. Energy facilities had been hit."
    )
    mentions = find_targets(text)
    assert [m.target for m in mentions] == [
        "energy infrastructure",
        "hospital",
        "residential building",
        "energy facility",
    ]
    for mention in mentions:
        assert text[mention.start : mention.end] == mention.text


@pytest.mark.parametrize(
    ("sentence", "target"),
    [
        ("A missile hit an apartment block in the city centre.", "residential building"),
        ("Drones struck a power station overnight.", "power plant"),
        ("The bridge was destroyed by shelling.", "bridge"),
        ("An electricity substation was damaged in the attack.", "substation"),
        ("Rockets landed near the port on Friday.", "port"),
        ("Gunmen set fire to a school in the village.", "school"),
    ],
)
def test_target_vocabulary(sentence: str, target: str) -> None:
    assert target in [m.target for m in find_targets(sentence)]


def test_targets_need_an_attack_or_damage() -> None:
    assert find_targets("The school reopened on Monday and the hospital hired new nurses.") == []


def test_target_offsets_with_base() -> None:
    body = "Opening words. Shells damaged a hospital."
    start = body.index("Shells")
    (mention,) = find_targets(body[start:], base=start)
    assert body[mention.start : mention.end] == "hospital"


def test_a_text_without_full_stops_is_read_in_time_linear_in_its_length() -> None:
    """Each figure's sentence was looked for back to the text's start: in a text with no full stop
    (a table, a list, scraped text) that is the whole text, once per figure. 121,500 characters of
    figures took over 30 s. A hang guard, not a timing: the alarm fires only if that comes back."""
    import signal

    unit = "At least 12 people were killed and 34 injured, 5 of them children, 2 critically, "

    def runaway(*_: object) -> None:
        raise TimeoutError("find_casualties ran for over 20 s")

    previous = signal.signal(signal.SIGALRM, runaway)
    signal.alarm(20)
    try:
        found = find_casualties(unit * 1500)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert len(found) == 3000  # each repeat: 12 killed, 34 injured
    assert [(m.killed, m.injured) for m in found[:2]] == [(12, None), (None, 34)]
