"""The dates stage: date expressions found, resolved against publication, and the happening's date picked."""

from __future__ import annotations

import datetime as dt

import pytest

from newsindex.events.dates import DateMention, event_date, find_dates

UTC = dt.UTC
SUNDAY = dt.datetime(2026, 1, 25, 9, 30, tzinfo=UTC)  # published on a Sunday
NEW_YEAR_FRIDAY = dt.datetime(2026, 1, 2, 7, 0, tzinfo=UTC)  # the Friday after New Year
MID_JUNE_2022 = dt.datetime(2022, 6, 20, 12, 0, tzinfo=UTC)


def day(year: int, month: int, d: int) -> dt.date:
    return dt.date(year, month, d)


def only(text: str, published: dt.datetime | None) -> DateMention:
    found = find_dates(text, published)
    assert len(found) == 1, found
    return found[0]


# --- absolute dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "words", "expected", "precision"),
    [
        ("On 8 June 2022, farmers blocked the bypass.", "On 8 June 2022", day(2022, 6, 8), "day"),
        ("Farmers blocked the bypass on 8 June.", "on 8 June", day(2022, 6, 8), "day"),
        ("Farmers blocked the bypass on June 8, 2022.", "on June 8, 2022", day(2022, 6, 8), "day"),
        ("Farmers blocked the bypass Jun. 8 at dawn.", "Jun. 8", day(2022, 6, 8), "day"),
        ("The bypass was blocked (2022-06-08).", "2022-06-08", day(2022, 6, 8), "day"),
        ("Talks opened on the 15th of April 2022.", "on the 15th of April 2022", day(2022, 4, 15), "day"),
        ("Talks opened 15 April 2022 in the capital.", "15 April 2022", day(2022, 4, 15), "day"),
        ("The report is dated 13/6/2022.", "13/6/2022", day(2022, 6, 13), "day"),
        ("The report is dated 6/13/2022.", "6/13/2022", day(2022, 6, 13), "day"),
        ("Prices rose sharply in February 2022.", "in February 2022", day(2022, 2, 1), "month"),
        ("The mine closed in 2021 after a strike.", "in 2021", day(2021, 1, 1), "year"),
        ("Crowds gathered on Saturday, 18 June 2022.", "on Saturday, 18 June 2022", day(2022, 6, 18), "day"),
    ],
)
def test_absolute_forms(sentence: str, words: str, expected: dt.date, precision: str) -> None:
    found = only(sentence, MID_JUNE_2022)
    assert (found.text, found.date, found.precision) == (words, expected, precision)


def test_month_and_year_mentions_span_their_period() -> None:
    assert only("Prices rose in February 2022.", None).end_date == day(2022, 2, 28)
    assert only("The mine closed in 2021.", None).end_date == day(2021, 12, 31)


@pytest.mark.parametrize(
    "sentence",
    [
        "The report is dated 8/6/2022.",  # 8 June or August 6: not guessed
        "In 2,021 villages the harvest failed.",
        "The ferry carried 20215 passengers.",
        "Officials may 8 times out of 10 refuse.",
        "The ministry may announce a march next door.",
        "Russia Today reported the claim.",
    ],
)
def test_what_is_not_a_date(sentence: str) -> None:
    assert find_dates(sentence, MID_JUNE_2022) == []


def test_a_day_without_year_is_the_most_recent_one() -> None:
    assert only("Police made arrests on 30 December.", NEW_YEAR_FRIDAY).date == day(2025, 12, 30)
    # a few days ahead still counts as this year's (reports may be dated ahead of a late edit)
    assert only("Police made arrests on 5 January.", NEW_YEAR_FRIDAY).date == day(2026, 1, 5)
    assert only("Police made arrests on 20 March.", NEW_YEAR_FRIDAY).date == day(2025, 3, 20)


def test_future_words_turn_a_yearless_date_forward() -> None:
    assert only("The vote will be held on 20 March.", NEW_YEAR_FRIDAY).date == day(2026, 3, 20)
    assert only("Talks are scheduled for Wednesday.", NEW_YEAR_FRIDAY).date == day(2026, 1, 7)
    assert only("They meet next Friday.", NEW_YEAR_FRIDAY).date == day(2026, 1, 9)
    far = "Surveyors will start soon, weather permitting, and hand draft maps to both commissions by 1 March."
    assert only(far, NEW_YEAR_FRIDAY).date == day(2026, 3, 1)


# --- relative dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "words", "expected", "precision"),
    [
        ("Shops reopened today.", "today", day(2026, 1, 25), "day"),
        ("Shops reopened yesterday.", "yesterday", day(2026, 1, 24), "day"),
        ("Shops reopened on Saturday.", "on Saturday", day(2026, 1, 24), "day"),
        ("Saturday's blast shattered windows.", "Saturday's", day(2026, 1, 24), "day"),
        ("Shops reopened on Sunday morning.", "on Sunday morning", day(2026, 1, 25), "day"),
        ("Shops reopened last Saturday.", "last Saturday", day(2026, 1, 24), "day"),
        ("Shops reopened on Monday.", "on Monday", day(2026, 1, 19), "day"),
        ("Shops reopened two days ago.", "two days ago", day(2026, 1, 23), "day"),
        ("Shops reopened this morning.", "this morning", day(2026, 1, 25), "day"),
        ("Shops reopened on the 15th.", "on the 15th", day(2026, 1, 15), "day"),
        ("Strikes have continued since Friday.", "since Friday", day(2026, 1, 23), "day"),
        ("Shops reopened this week.", "this week", day(2026, 1, 19), "week"),
        ("Shops reopened last week.", "last week", day(2026, 1, 12), "week"),
        ("Shops reopened last month.", "last month", day(2025, 12, 1), "month"),
        ("Shops reopened earlier this month.", "earlier this month", day(2026, 1, 1), "month"),
        ("Shops reopened 3 weeks ago.", "3 weeks ago", day(2026, 1, 4), "week"),
    ],
)
def test_relative_forms(sentence: str, words: str, expected: dt.date, precision: str) -> None:
    found = only(sentence, SUNDAY)
    assert (found.text, found.date, found.precision) == (words, expected, precision)


def test_periods_have_an_end() -> None:
    assert only("Shops reopened last week.", SUNDAY).end_date == day(2026, 1, 18)
    assert only("Shops reopened last month.", SUNDAY).end_date == day(2025, 12, 31)
    assert only("Shops reopened earlier this month.", SUNDAY).end_date == day(2026, 1, 24)


def test_weekends_and_parts_of_a_year() -> None:
    monday = dt.datetime(2026, 1, 26, 8, tzinfo=UTC)
    weekend = only("Protesters marched over the weekend.", monday)
    assert (weekend.date, weekend.end_date, weekend.precision) == (day(2026, 1, 24), day(2026, 1, 25), "week")
    chosen = event_date("Protesters marched over the weekend.", monday)
    assert chosen is not None and chosen.date == day(2026, 1, 24)  # ACLED codes a weekend on its Saturday
    mid = only("The plant opened in mid-2025.", None)
    assert (mid.date, mid.end_date, mid.precision) == (day(2025, 5, 1), day(2025, 8, 31), "year")


def test_across_month_and_year_boundaries() -> None:
    assert only("A bomb exploded on Wednesday.", NEW_YEAR_FRIDAY).date == day(2025, 12, 31)
    assert only("A bomb exploded yesterday.", NEW_YEAR_FRIDAY).date == day(2026, 1, 1)
    assert only("A bomb exploded two days ago.", NEW_YEAR_FRIDAY).date == day(2025, 12, 31)
    last_month = only("A bomb exploded last month.", NEW_YEAR_FRIDAY)
    assert (last_month.date, last_month.end_date) == (day(2025, 12, 1), day(2025, 12, 31))
    last_week = only("A bomb exploded last week.", NEW_YEAR_FRIDAY)
    assert (last_week.date, last_week.end_date) == (day(2025, 12, 22), day(2025, 12, 28))
    march_first = dt.datetime(2026, 3, 1, 6, tzinfo=UTC)
    assert only("A bomb exploded yesterday.", march_first).date == day(2026, 2, 28)
    assert only("A bomb exploded on the 30th.", march_first).date == day(2026, 1, 30)  # no 30 February


def test_publication_time_is_read_in_utc() -> None:
    early_in_karachi = dt.datetime(2026, 1, 25, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    assert only("Shops reopened today.", early_in_karachi).date == day(2026, 1, 24)


# --- ACLED's forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "words", "expected", "precision"),
    [
        (
            "Around 10 June 2022 (as reported), gunmen",
            "Around 10 June 2022 (as reported)",
            day(2022, 6, 10),
            "week",
        ),
        ("On or around 5 June 2022, gunmen", "On or around 5 June 2022", day(2022, 6, 5), "week"),
        ("During the week of 5 June 2022, gunmen", "During the week of 5 June 2022", day(2022, 6, 5), "week"),
        ("Around 15 May 2022 (month of), gunmen", "Around 15 May 2022 (month of)", day(2022, 5, 15), "month"),
        ("Since 5 June 2022, gunmen", "Since 5 June 2022", day(2022, 6, 5), "day"),
        ("As reported on 6 June 2022, gunmen", "As reported on 6 June 2022", day(2022, 6, 6), "day"),
    ],
)
def test_acled_forms(note: str, words: str, expected: dt.date, precision: str) -> None:
    found = only(note, MID_JUNE_2022)
    assert (found.text, found.date, found.precision) == (words, expected, precision)
    chosen = event_date(note, MID_JUNE_2022)
    assert chosen is not None and (chosen.date, chosen.precision) == (expected, precision)


def test_ranges_are_found_whole_and_coded_on_their_middle_day() -> None:
    between = only("Between 1 and 7 June 2022, clashes went on.", MID_JUNE_2022)
    assert (between.text, between.date, between.end_date, between.precision) == (
        "Between 1 and 7 June 2022",
        day(2022, 6, 1),
        day(2022, 6, 7),
        "week",
    )
    chosen = event_date("Between 1 and 7 June 2022, clashes went on.", MID_JUNE_2022)
    assert chosen is not None and (chosen.date, chosen.end_date) == (day(2022, 6, 4), day(2022, 6, 7))
    across = only("Fighting went on from 28 December - 3 January 2022.", None)
    assert (across.date, across.end_date) == (day(2021, 12, 28), day(2022, 1, 3))
    early = only("In early June 2022, crops failed.", None)
    assert (early.date, early.end_date, early.precision) == (day(2022, 6, 1), day(2022, 6, 10), "week")
    month = event_date("Prices rose in February 2022.", None)
    assert month is not None and (month.date, month.precision) == (day(2022, 2, 15), "month")


def test_acled_note_keeps_its_own_date_over_a_bracketed_range_and_later_dates() -> None:
    note = "Around 10 January 2022 (between 8 - 11 January), gunmen killed a driver abducted on 6 January."
    chosen = event_date(note, dt.datetime(2022, 2, 1, tzinfo=UTC))
    assert chosen is not None and (chosen.date, chosen.precision) == (day(2022, 1, 10), "week")
    assert [m.text for m in find_dates(note, None)] == ["Around 10 January 2022"]


# --- attribution and the date of the happening ----------------------------------------------------------


def test_dates_of_speech_verbs_are_marked() -> None:
    found = find_dates("The mayor said on Saturday that a strike on Friday hit a depot.", SUNDAY)
    assert [(m.text, m.attribution) for m in found] == [("on Saturday", True), ("on Friday", False)]
    told = only("The governor told reporters on Monday that roads were shut.", SUNDAY)
    assert told.attribution
    address = only("The president said in a video address late on Saturday that help was coming.", SUNDAY)
    assert address.attribution and address.date == day(2026, 1, 24)
    assert not only("Officials reported strikes and damage overnight.", SUNDAY).attribution


def test_event_date_prefers_the_happening_over_the_speech() -> None:
    chosen = event_date("The mayor said on Saturday that a strike on Friday hit a depot.", SUNDAY)
    assert chosen is not None and (chosen.text, chosen.date) == ("on Friday", day(2026, 1, 23))
    fallback = event_date("The mayor said on Saturday that the depot was hit.", SUNDAY)
    assert fallback is not None and fallback.date == day(2026, 1, 24) and fallback.attribution


def test_explicit_dates_win_over_vague_ones() -> None:
    text = "Last week the army said that on 14 January 2026 two villages were shelled."
    chosen = event_date(text, SUNDAY)
    assert chosen is not None and chosen.date == day(2026, 1, 14)
    chosen = event_date("Last month's floods returned yesterday.", SUNDAY)
    assert chosen is not None and chosen.text == "yesterday"
    chosen = event_date("Four years ago, in February 2022, the border closed.", SUNDAY)
    assert chosen is not None and chosen.text == "in February 2022"


def test_overnight_is_anchored_to_the_weekday_named() -> None:
    text = "Overnight drone attacks on the grid were the heaviest in weeks, the president said on Saturday."
    chosen = event_date(text, SUNDAY)
    assert chosen is not None
    assert (chosen.text, chosen.date, chosen.precision) == ("Overnight", day(2026, 1, 24), "day")
    monday = dt.datetime(2026, 1, 26, 8, tzinfo=UTC)
    chosen = event_date(text, monday)
    assert chosen is not None and chosen.date == day(2026, 1, 24)


def test_overnight_without_a_weekday_is_the_night_before_publication() -> None:
    for sentence in ("Drones struck the city overnight.", "Drones struck the city during the night."):
        chosen = event_date(sentence, SUNDAY)
        assert chosen is not None and chosen.date == day(2026, 1, 24)


# --- offsets, missing publication, garbage -----------------------------------------------------------


def test_offsets_point_into_the_body() -> None:
    body = "Intro line. Police said on Saturday that shops on 3 January 2026 were looted."
    sentence_start = body.index("Police")
    sentence = body[sentence_start:]
    for mention in find_dates(sentence, SUNDAY, base=sentence_start):
        assert body[mention.start : mention.end] == mention.text
    chosen = event_date(sentence, SUNDAY, base=sentence_start)
    assert chosen is not None and body[chosen.start : chosen.end] == "on 3 January 2026"


def test_without_publication_only_absolute_dates_are_read() -> None:
    text = "On Saturday, two days after 8 June, shops shut; on 8 June 2022 they had reopened."
    assert [m.text for m in find_dates(text, None)] == ["on 8 June 2022"]
    assert event_date("Shops reopened yesterday.", None) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "On 31 February 2022 nothing happened.",
        "The log shows 0000-01-01 and 2022-13-45.",
        "It was the year 0 and 99/99/9999.",
        "That was 999 years ago, on 32 May 2022.",
        "In 99999999999999999999 days ago, 29 February 2023.",
        "Between 30 and 1 June 2022.",
    ],
)
def test_garbage_is_skipped(text: str) -> None:
    for published in (None, SUNDAY, dt.datetime(9999, 12, 31, tzinfo=UTC), dt.datetime(1, 1, 1, tzinfo=UTC)):
        for mention in find_dates(text, published):
            assert text[mention.start : mention.end] == mention.text
        event_date(text, published)
    assert event_date(text, None) is None


def test_edges_of_the_calendar_do_not_crash() -> None:
    end_of_time = dt.datetime(9999, 12, 31, tzinfo=UTC)
    assert [m.text for m in find_dates("On Saturday and tomorrow and next week.", end_of_time)] == [
        "On Saturday"
    ]
    assert find_dates("Yesterday and last year.", dt.datetime(1, 1, 1, tzinfo=UTC)) == []
