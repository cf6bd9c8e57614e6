"""Dates in news text, resolved against the article's publication time.

:func:`find_dates` reads every date expression of a text: absolute ("On 8 June 2022", "June 8, 2022",
"2022-06-08", "in February 2022", "in 2021"), relative ("on Saturday", "yesterday", "last week", "two days
ago", "overnight") and ACLED's forms ("Around 10 June 2022 (as reported)", "Between 1 and 7 June 2022",
"In early June 2022"). :func:`event_date` picks the one that dates the happening the text describes.

Conventions, chosen to agree with ACLED, whose records the extractor is measured against:

- A bare weekday is the most recent such day on or before the publication day ("on Saturday" in an article
  published Sunday 2026-01-25 is 2026-01-24); a day without a year is the most recent such day at most a
  few days after publication. Words such as "will" or "scheduled" before it turn both towards the future.
- "Around D" keeps the day D with week precision (ACLED's time precision 2).
- :func:`find_dates` gives a range as its first day and ``end_date``; :func:`event_date` codes a span the
  way ACLED does, on its middle day (the 15th for a whole month), keeping ``end_date``.
- Without ``published`` only dates that carry their year are read.

Nothing here raises on odd input: what is not a real day (31 February, year 0) is skipped.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from ..models import DatePrecision as Precision
from .screen import LiteralScreen

__all__ = ["DateMention", "event_date", "find_dates"]


@dataclass(frozen=True, slots=True)
class DateMention:
    """One date expression: ``text[start - base:end - base] == self.text``.

    ``date`` is the (first) day meant and ``precision`` how exactly it is known; a span ("between 1 and 7
    June 2022", "last week", "in February 2022") also has its last day in ``end_date``. ``attribution`` is
    True when the date is that of a speech verb ("said on Saturday"), not of what was said.
    """

    start: int
    end: int
    text: str
    date: datetime.date
    precision: Precision
    end_date: datetime.date | None = None
    attribution: bool = False


# --- how a mention ranks when picking the date of a happening -----------------------------------------

#: A written day ("8 June 2022", "Around 10 June"), a day named relative to publication ("on Saturday",
#: "overnight"), or a longer period ("last week", "in February 2022").
_Kind = Literal["explicit", "relative", "period"]
_KIND_RANK: dict[_Kind, int] = {"explicit": 0, "relative": 1, "period": 2}
_PRECISION_RANK: dict[Precision, int] = {"day": 0, "week": 1, "month": 2, "year": 3}

#: Days a yearless date may lie after publication and still be read as past: news reports what happened.
_FUTURE_SLACK_DAYS = 7


@dataclass(frozen=True, slots=True)
class _Reading:
    """What one matched expression means, before attribution and overnight anchoring."""

    first: datetime.date
    precision: Precision
    kind: _Kind
    last: datetime.date | None = None
    overnight: bool = False  # "overnight", "last night": the day comes from a weekday named nearby
    names_day: bool = False  # a weekday, "today", "yesterday": what an overnight mention is anchored to


@dataclass(frozen=True, slots=True)
class _Context:
    text: str
    day: datetime.date | None  # the publication day (UTC), None when unknown


@dataclass(frozen=True, slots=True)
class _Found:
    mention: DateMention
    kind: _Kind
    overnight: bool
    names_day: bool


_Reader = Callable[[re.Match[str], _Context], _Reading | None]


# --- vocabulary ------------------------------------------------------------------------------------------

_MONTH_NAMES = ["January", "February", "March", "April", "May", "June",
                "July", "August", "September", "October", "November", "December"]  # fmt: skip
_MONTH_ABBREVIATIONS = {name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1) if name != "May"} | {"Sept": 9}
_MONTHS: dict[str, int] = {name.lower(): i for i, name in enumerate(_MONTH_NAMES, start=1)}
_MONTHS.update({abbr.lower(): number for abbr, number in _MONTH_ABBREVIATIONS.items()})
_WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_WEEKDAYS = {name.lower(): i for i, name in enumerate(_WEEKDAY_NAMES)}
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip


def _capitalised(words: list[str]) -> str:
    """An alternation of ``words`` in Title or UPPER case: "may" and "march" are words too."""
    forms = sorted({f for w in words for f in (w, w.upper())}, key=len, reverse=True)
    return "|".join(forms)


def _month(group: str) -> str:
    # Only an abbreviation takes its full stop: "Jun. 8", but "on 3 February." ends a sentence.
    full, short = _capitalised(_MONTH_NAMES), _capitalised(list(_MONTH_ABBREVIATIONS))
    return rf"(?P<{group}>(?:{full})\b|(?:{short})(?:\.|\b))"


_WEEKDAY = rf"(?P<wd>{_capitalised(_WEEKDAY_NAMES)})\b"
_DAY = r"(?<![\d.,/:])(?P<{0}>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])"
_YEAR = r"(?P<{0}>\d{{4}})(?![\d]|[.,]\d)"
_DASH = r"\s*[-–—]\s*"

# Words before a written day: they become part of the mention and may change its precision.
_DAY_PREFIX = (
    r"(?:(?P<pre>(?i:on\s+or\s+(?:around|about)|around|about|circa|approximately|as\s+reported\s+on|"
    r"(?:during\s+)?the\s+week(?:end)?\s+of|week(?:end)?\s+of|on|since|from|until|till|by|before|after|"
    r"as\s+of))\s+)?"
)
# ACLED codes "Around D" as D with time precision 2, a week.
_AROUND = {"around", "about", "circa", "approximately", "on or around", "on or about"}
_WEEKDAY_BEFORE_DAY = rf"(?:{_WEEKDAY},?\s+(?:the\s+)?)?"
# ACLED's notes qualify a date in brackets: "Around 23 February 2022 (week of)".
_NOTE_AFTER = r"(?:,?\s*\((?P<note>as reported|week of|weekend of|month of)\))?"
# A part of a month or year: "early June", "mid-2021", "the end of March".
_PART = r"(?P<part>(?i:early|mid|late|(?:the\s+)?(?:end|beginning|start|middle)\s+of))"
_PERIOD_PREFIX = (
    r"(?:(?P<pre>(?i:in|since|during|throughout|until|till|by|from|before|after|of|last|this|next))\s+)?"
)

_SPEECH_VERBS = (
    r"said|says|say|told|tells|announced|announces|stated|reported|reports|claimed|claims|confirmed|"
    r"confirms|added|adds|wrote|writes|posted|tweeted|declared|warned|warns|noted|explained|insisted|"
    r"denied|acknowledged|stressed|urged|commented|revealed|disclosed|alleged|asserted|informed|briefed"
)
# A speech verb right before the date, perhaps with whom it was told and how: "said on Saturday", "told
# reporters on Monday", "said in a video address late on Saturday".
_ATTRIBUTED = re.compile(
    rf"\b(?:{_SPEECH_VERBS})"
    r"(?:\s+(?:reporters|journalists|the\s+press|parliament|lawmakers|(?:the\s+)?[A-Z][\w'’.-]*"
    r"(?:\s+[A-Z][\w'’.-]*)?))?"
    r"(?:\s+(?:in|at|via|through|during|on|to)\s+(?:(?:a|an|the|his|her|their|its)\s+)?"
    r"(?:[\w'’.-]+\s+){0,2}?[\w'’.-]+)?"
    r"\s*,?\s*$"
)
# Words before a date in the same clause that make it a coming day, not a past one.
_FUTURE_CUE = re.compile(
    r"\b(?:will|shall|won't|'ll|(?:is|are)\s+(?:due|set|expected|scheduled)\s+to|scheduled|plans?\s+to|"
    r"planned|upcoming)\b",
    re.IGNORECASE,
)
_CLAUSE_START = re.compile(r"[.;!?\n\"“”]")
# Names that hold a weekday without being one.
_NOT_A_WEEKDAY = (
    r"(?!\s+(?:Times|Telegraph|Express|Mirror|Post|Herald|Tribune|Independent|Star|Sport|Night\s+Live))"
)


# --- small date arithmetic that never raises ------------------------------------------------------------


def _safe_date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _shift(day: datetime.date, days: int) -> datetime.date | None:
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:
        return None


def _month_span(year: int, month: int) -> tuple[datetime.date, datetime.date] | None:
    first = _safe_date(year, month, 1)
    if first is None:
        return None
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _precision_of_span(first: datetime.date, last: datetime.date) -> Precision:
    # ACLED codes a range of a week or so with time precision 2 and one of a few weeks with 3.
    days = (last - first).days
    if days == 0:
        return "day"
    if days <= 13:
        return "week"
    return "month" if days <= 62 else "year"


def _yearless(month: int, day: int, published: datetime.date, *, future: bool) -> datetime.date | None:
    """The day meant by a date written without its year."""
    if future:
        for year in range(published.year, published.year + 9):
            candidate = _safe_date(year, month, day)
            if candidate is not None and candidate >= published:
                return candidate
        return None
    limit = _shift(published, _FUTURE_SLACK_DAYS) or published
    # 29 February comes back only every four (or eight) years.
    for year in range(limit.year, limit.year - 9, -1):
        candidate = _safe_date(year, month, day)
        if candidate is not None and candidate <= limit:
            return candidate
    return None


def _weekday(published: datetime.date, weekday: int, how: str) -> datetime.date | None:
    today = published.weekday()
    if how == "last":
        return _shift(published, -((today - weekday - 1) % 7 + 1))
    if how == "next":
        return _shift(published, (weekday - today - 1) % 7 + 1)
    if how == "this":
        return _shift(published, weekday - today)
    if how == "future":
        return _shift(published, (weekday - today) % 7)
    return _shift(published, -((today - weekday) % 7))


# --- context around a match ----------------------------------------------------------------------------


def _is_future(ctx: _Context, start: int) -> bool:
    """Whether the clause before ``start`` speaks of something to come ("talks will resume on ...")."""
    window = ctx.text[max(0, start - 160) : start]
    clause = _CLAUSE_START.split(window)[-1]
    return _FUTURE_CUE.search(clause) is not None and not _is_attributed(ctx.text, start)


def _is_attributed(text: str, start: int) -> bool:
    return _ATTRIBUTED.search(text[max(0, start - 80) : start]) is not None


def _prefix(match: re.Match[str]) -> str:
    value = match.groupdict().get("pre")
    return " ".join(value.lower().split()) if value else ""


def _month_number(token: str) -> int:
    return _MONTHS[token.rstrip(".").lower()]


# --- readers: one per form -----------------------------------------------------------------------------


def _explicit_day(
    match: re.Match[str], ctx: _Context, year: int | None, month: int, day: int
) -> _Reading | None:
    """A written day, with the precision its prefix ("around", "week of") or ACLED note gives it."""
    if year is not None:
        first = _safe_date(year, month, day)
    elif ctx.day is not None:
        future = _prefix(match) != "since" and _is_future(ctx, match.start())
        first = _yearless(month, day, ctx.day, future=future)
    else:
        first = None
    if first is None:
        return None
    prefix, note = _prefix(match), match.groupdict().get("note") or ""
    precision: Precision = "day"
    if note == "month of":
        precision = "month"
    elif prefix in _AROUND or "week" in prefix or "week" in note:
        precision = "week"
    return _Reading(first, precision, "explicit")


def _read_day_month(match: re.Match[str], ctx: _Context) -> _Reading | None:
    year = int(match["y"]) if match["y"] else None
    return _explicit_day(match, ctx, year, _month_number(match["m"]), int(match["d"]))


def _read_iso(match: re.Match[str], ctx: _Context) -> _Reading | None:
    return _explicit_day(match, ctx, int(match["y"]), int(match["m"]), int(match["d"]))


def _read_numeric(match: re.Match[str], ctx: _Context) -> _Reading | None:
    first, second = int(match["a"]), int(match["b"])
    if first > 12 >= second:  # 8/6/2022 is read only when one order is impossible
        day, month = first, second
    elif second > 12 >= first:
        day, month = second, first
    elif first == second:
        day = month = first
    else:
        return None
    return _explicit_day(match, ctx, int(match["y"]), month, day)


def _range_year(match: re.Match[str], ctx: _Context, month: int, day: int) -> int | None:
    if match["y2"]:
        return int(match["y2"])
    if ctx.day is None:
        return None
    end = _yearless(month, day, ctx.day, future=_is_future(ctx, match.start()))
    return end.year if end else None


def _read_range(match: re.Match[str], ctx: _Context) -> _Reading | None:
    """ "between 1 and 7 June 2022", "from 28 June - 04 July", "June 1-7, 2022"."""
    month2 = _month_number(match["m2"]) if match["m2"] else _month_number(match["m1"])
    month1 = _month_number(match["m1"]) if match["m1"] else month2
    day1, day2 = int(match["d1"]), int(match["d2"])
    year2 = _range_year(match, ctx, month2, day2)
    if year2 is None:
        return None
    year1 = int(match["y1"]) if match.groupdict().get("y1") else year2 - (month1 > month2)
    first, last = _safe_date(year1, month1, day1), _safe_date(year2, month2, day2)
    if first is None or last is None or last < first:
        return None
    if last == first:
        return _Reading(first, "day", "explicit")
    return _Reading(first, _precision_of_span(first, last), "explicit", last)


def _part_of(part: str, first: datetime.date, last: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The third of a month (days 1-10, 11-20, 21-end) or of a year (four months) that "early", "mid" or
    "late" names."""
    part = part.lower()
    third = 0 if any(w in part for w in ("early", "beginning", "start")) else 1 if "mid" in part else 2
    if first.month == last.month:
        start = first.replace(day=1 + 10 * third)
        return start, last if third == 2 else start.replace(day=start.day + 9)
    start = first.replace(month=1 + 4 * third)
    end = _month_span(first.year, start.month + 3)
    return start, end[1] if end else last


def _period(first: datetime.date, last: datetime.date, precision: Precision, part: str | None) -> _Reading:
    if part:
        first, last = _part_of(part, first, last)
        precision = _precision_of_span(first, last)
    return _Reading(first, precision, "period", last)


def _read_month_year(match: re.Match[str], ctx: _Context) -> _Reading | None:
    span = _month_span(int(match["y"]), _month_number(match["m"]))
    return _period(*span, "month", match["part"]) if span else None


def _read_month(match: re.Match[str], ctx: _Context) -> _Reading | None:
    """A month without its year: "in February", "last June", "since early March"."""
    prefix = _prefix(match)
    if ctx.day is None or not (prefix or match["part"]):
        return None  # a bare "May" or "March" is more often a verb or a noun
    month, today = _month_number(match["m"]), ctx.day
    if prefix == "last":
        year = today.year if month < today.month else today.year - 1
    elif prefix == "next":
        year = today.year if month > today.month else today.year + 1
    elif prefix == "this":
        year = today.year
    elif prefix != "since" and _is_future(ctx, match.start()):
        year = today.year if month >= today.month else today.year + 1
    else:
        limit = _shift(today, _FUTURE_SLACK_DAYS) or today
        year = limit.year if month <= limit.month else limit.year - 1
    span = _month_span(year, month)
    return _period(*span, "month", match["part"]) if span else None


def _read_year(match: re.Match[str], ctx: _Context) -> _Reading | None:
    if not (_prefix(match) or match["part"]):
        return None  # a bare four-digit number is as often a count as a year
    year = int(match["y"])
    first, last = _safe_date(year, 1, 1), _safe_date(year, 12, 31)
    if first is None or last is None:
        return None
    return _period(first, last, "year", match["part"])


def _read_weekday(match: re.Match[str], ctx: _Context) -> _Reading | None:
    if ctx.day is None:
        return None
    prefix = _prefix(match)
    how = {"last": "last", "next": "next", "this coming": "next", "this": "this"}.get(prefix, "past")
    if how == "past" and prefix != "since" and _is_future(ctx, match.start()):
        how = "future"
    day = _weekday(ctx.day, _WEEKDAYS[match["wd"].lower()], how)
    return _Reading(day, "day", "relative", names_day=True) if day else None


_RELATIVE_DAYS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "earlier today": 0,
    "yesterday": -1,
    "the day before yesterday": -2,
    "tomorrow": 1,
}


def _read_relative_day(match: re.Match[str], ctx: _Context) -> _Reading | None:
    if ctx.day is None:
        return None
    words = " ".join(match["rel"].lower().split())
    if (
        match["rel"][0].isupper()
        and words in {"today", "tomorrow"}
        and not _sentence_start(ctx.text, match.start())
    ):
        return None  # "Russia Today", "USA Today"
    if words in _RELATIVE_DAYS:
        day = _shift(ctx.day, _RELATIVE_DAYS[words])
        return _Reading(day, "day", "relative", names_day=True) if day else None
    # "overnight", "last night": the night before the publication day unless a weekday says otherwise.
    day = _shift(ctx.day, -1)
    return _Reading(day, "day", "relative", overnight=True) if day else None


def _sentence_start(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".!?\n:"


def _read_ago(match: re.Match[str], ctx: _Context) -> _Reading | None:
    if ctx.day is None:
        return None
    count_word, unit = match["n"].lower(), match["unit"].lower()
    count = int(count_word) if count_word.isdigit() else _NUMBER_WORDS[count_word]
    if unit == "day":
        day = _shift(ctx.day, -count)
        return _Reading(day, "day", "relative") if day else None
    if unit == "week":
        day = _shift(ctx.day, -7 * count)
        return _Reading(day, "week", "period") if day else None
    if unit == "month":
        year, month = _add_months(ctx.day.year, ctx.day.month, -count)
        day = _safe_date(year, month, min(ctx.day.day, 28))
        return _Reading(day, "month", "period") if day else None
    day = _safe_date(ctx.day.year - count, ctx.day.month, min(ctx.day.day, 28))
    return _Reading(day, "year", "period") if day else None


def _read_relative_period(match: re.Match[str], ctx: _Context) -> _Reading | None:
    """ "last week", "earlier this month", "over the weekend", "the past year"."""
    if ctx.day is None:
        return None
    which, unit = " ".join(match["which"].lower().split()), match["unit"].lower()
    span = _relative_span(ctx.day, which, unit)
    if span is None:
        return None
    first, last = span
    precision: Precision = "month" if unit == "month" else "year" if unit == "year" else "week"
    return _Reading(first, precision, "period", last if last != first else None)


def _relative_span(today: datetime.date, which: str, unit: str) -> tuple[datetime.date, datetime.date] | None:
    """The days "last week", "earlier this month", "over the weekend" or "the past year" cover."""
    step = {"last": -1, "previous": -1, "the last": -1, "the previous": -1, "next": 1}.get(which, 0)
    try:
        if unit == "weekend":
            return _weekend(today, which, step)
        if which in {"past", "the past"}:  # a window that ends the day before publication
            days = {"week": 7, "month": 30, "year": 365}[unit]
            return today - datetime.timedelta(days=days), today - datetime.timedelta(days=1)
        if unit == "week":
            monday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=step)
            return _clip(monday, monday + datetime.timedelta(days=6), today, which)
        if unit == "month":
            span = _month_span(*_add_months(today.year, today.month, step))
            return _clip(*span, today, which) if span else None
        year = today.year + step
        return _clip(datetime.date(year, 1, 1), datetime.date(year, 12, 31), today, which)
    except (ValueError, OverflowError):
        return None


def _weekend(today: datetime.date, which: str, step: int) -> tuple[datetime.date, datetime.date]:
    # "over the weekend" is the one just gone (or under way); "last" goes one further back when published
    # on a weekend, "this" and "next" look ahead when published on a weekday.
    saturday = today - datetime.timedelta(days=(today.weekday() - 5) % 7)
    if step < 0 and today.weekday() >= 5:
        saturday -= datetime.timedelta(weeks=1)
    elif (which == "this" or step > 0) and today.weekday() < 5:
        saturday += datetime.timedelta(weeks=1)
    return saturday, saturday + datetime.timedelta(days=1)


def _clip(
    first: datetime.date, last: datetime.date, today: datetime.date, which: str
) -> tuple[datetime.date, datetime.date]:
    """Cut "this week"/"earlier this month" at the publication day, "later this month" after it."""
    if which.startswith("earlier"):
        return first, max(first, min(last, today - datetime.timedelta(days=1)))
    if which.startswith("later"):
        return min(last, max(first, today + datetime.timedelta(days=1))), last
    if which in {"this", "the current"}:
        return first, max(first, min(last, today))
    return first, last


def _read_day_of_month(match: re.Match[str], ctx: _Context) -> _Reading | None:
    """ "on the 15th": that day of the publication month, or of the month before."""
    if ctx.day is None:
        return None
    day, today = int(match["d"]), ctx.day
    future = _prefix(match) != "since" and _is_future(ctx, match.start())
    # months relative to the publication month, nearest first in the direction the clause looks
    for months in [0, 1, 2] if future else [1, 0, -1, -2]:
        year, month = _add_months(today.year, today.month, months)
        candidate = _safe_date(year, month, day)
        if candidate is None:
            continue
        if future and candidate >= today:
            return _Reading(candidate, "day", "relative")
        if not future and candidate <= (_shift(today, _FUTURE_SLACK_DAYS) or today):
            return _Reading(candidate, "day", "relative")
    return None


# --- the rules: a pattern and its reader, tried everywhere; the longest leftmost match wins -----------


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    read: _Reader

    @classmethod
    def of(cls, pattern: str, read: _Reader) -> _Rule:
        # Every form starts a word; saying so spares the engine a try at every character.
        return cls(re.compile(r"\b" + pattern), read)


_RANGE_SEPARATOR = rf"(?:{_DASH}|\s+(?i:to|until|till|through)\s+|(?(btw)\s+(?i:and)\s+|(?!)))"
_RANGE_PREFIX = r"(?:(?P<btw>(?i:between))\s+|(?i:from)\s+)?"

_RULES: tuple[_Rule, ...] = (
    # between 1 and 7 June 2022 / 21 January - 11 February 2022
    _Rule.of(
        _RANGE_PREFIX
        + _DAY.format("d1")
        + rf"(?:\s+{_month('m1')}(?:,?\s+{_YEAR.format('y1')})?)?"
        + _RANGE_SEPARATOR
        + _DAY.format("d2")
        + rf"(?:\s+of)?\s+{_month('m2')}(?:,?\s+{_YEAR.format('y2')})?",
        _read_range,
    ),
    # June 1-7, 2022 / between June 1 and June 7
    _Rule.of(
        _RANGE_PREFIX
        + _month("m1")
        + r"\s+"
        + _DAY.format("d1")
        + _RANGE_SEPARATOR
        + rf"(?:{_month('m2')}\s+)?"
        + _DAY.format("d2")
        + rf"(?:,?\s+{_YEAR.format('y2')})?",
        _read_range,
    ),
    # (On) (Saturday,) 8 June 2022 / the 8th of June
    _Rule.of(
        _DAY_PREFIX
        + _WEEKDAY_BEFORE_DAY
        + r"(?:the\s+)?"
        + _DAY.format("d")
        + rf"(?:\s+of)?[\s-]+{_month('m')}(?:,?[\s-]+{_YEAR.format('y')})?"
        + _NOTE_AFTER,
        _read_day_month,
    ),
    # (On) (Saturday,) June 8, 2022 / Jun. 8
    _Rule.of(
        _DAY_PREFIX
        + _WEEKDAY_BEFORE_DAY
        + _month("m")
        + r"\s+"
        + _DAY.format("d")
        + rf"(?:,?\s+{_YEAR.format('y')})?"
        + _NOTE_AFTER,
        _read_day_month,
    ),
    _Rule.of(
        _DAY_PREFIX + r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d-])" + _NOTE_AFTER,
        _read_iso,
    ),
    _Rule.of(
        _DAY_PREFIX
        + r"(?<![\d./-])(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})(?![\d/]|\.\d)"
        + _NOTE_AFTER,
        _read_numeric,
    ),
    # (in) (early) February 2022
    _Rule.of(
        _PERIOD_PREFIX + rf"(?:{_PART}[\s-]+)?{_month('m')},?\s+{_YEAR.format('y')}",
        _read_month_year,
    ),
    # in February / last June / mid-March
    _Rule.of(_PERIOD_PREFIX + rf"(?:{_PART}[\s-]+)?{_month('m')}(?![\s,]*\d)", _read_month),
    # in 2021 / since early 2022
    _Rule.of(
        _PERIOD_PREFIX + rf"(?:{_PART}[\s-]+)?(?<![\d,.])(?P<y>(?:19|20)\d\d)(?![\d]|[.,]\d|s\b|-\d)",
        _read_year,
    ),
    _Rule.of(
        r"(?:(?P<pre>(?i:on|since|last|this\s+coming|this|next|until|till|by|from|before|after)"
        r"|(?i:early|late|earlier|later)(?:\s+(?i:on))?)\s+)?"
        + _WEEKDAY
        + _NOT_A_WEEKDAY
        + r"(?:['’]s)?(?:\s+(?i:morning|afternoon|evening|night))?",
        _read_weekday,
    ),
    _Rule.of(
        r"(?P<rel>(?i:the\s+day\s+before\s+yesterday|yesterday|today|tonight|tomorrow|earlier\s+today|"
        r"this\s+(?:morning|afternoon|evening)|last\s+night|overnight|(?:during|in)\s+the\s+night|"
        r"(?:shortly\s+)?after\s+midnight))(?:['’]s)?\b",
        _read_relative_day,
    ),
    _Rule.of(
        r"(?i:(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
        r"(?P<unit>day|week|month|year)s?\s+ago)\b",
        _read_ago,
    ),
    _Rule.of(
        r"(?i:(?:over\s+|at\s+)?(?P<which>last|previous|this|next|earlier\s+this|later\s+this|"
        r"the\s+(?:past|previous|last|current)|past)\s+(?P<unit>weekend|week|month|year))(?:['’]s)?\b",
        _read_relative_period,
    ),
    _Rule.of(r"(?i:over\s+the\s+(?P<unit>weekend)(?P<which>))\b", _read_relative_period),
    _Rule.of(
        r"(?:(?P<pre>(?i:on|since|by|until))\s+)the\s+(?P<d>\d{1,2})(?:st|nd|rd|th)\b",
        _read_day_of_month,
    ),
)


# --- public API ----------------------------------------------------------------------------------------


def find_dates(text: str, published: datetime.datetime | None, *, base: int = 0) -> list[DateMention]:
    """Every date expression in ``text``, in order, resolved against ``published``.

    Offsets are into the article body: ``text`` starts at ``base`` there.
    """
    return [found.mention for found in _find(text, published, base)]


def event_date(text: str, published: datetime.datetime | None, *, base: int = 0) -> DateMention | None:
    """The date of the happening ``text`` (a sentence or a few) describes, or None.

    A written day wins over one named relative to publication, which wins over a longer period; a date
    said of a speech verb ("said on Saturday") is used only when nothing else dates the text. A span is
    coded on its middle day as ACLED codes it (the 15th for a month; a year keeps 1 January), with
    ``end_date`` kept.
    """
    found = _find(text, published, base)
    if not found:
        return None
    return _coded(min(found, key=_preference).mention)


def _preference(found: _Found) -> tuple[bool, int, int, int]:
    # Among periods the narrower one says more ("in February 2022" over "four years ago"); among written
    # days the first stands, as ACLED's notes open with the event's own date ("Around 15 June ...").
    narrowness = _PRECISION_RANK[found.mention.precision] if found.kind == "period" else 0
    return found.mention.attribution, _KIND_RANK[found.kind], narrowness, found.mention.start


def _coded(mention: DateMention) -> DateMention:
    """The day ACLED would code a span on: the 15th of a whole month, a weekend's Saturday, else the
    middle day (rounded up, as its "Around 10 January (between 8 - 11 January)" notes do)."""
    first, last = mention.date, mention.end_date
    if last is None or mention.precision == "year":
        return mention
    days = (last - first).days
    if first.day == 1 and last == first.replace(day=calendar.monthrange(first.year, first.month)[1]):
        return replace(mention, date=first.replace(day=15))
    if days == 1:
        return mention
    return replace(mention, date=first + datetime.timedelta(days=-(-days // 2)))


def _find(text: str, published: datetime.datetime | None, base: int) -> list[_Found]:
    ctx = _Context(text, _publication_day(published))
    found: list[_Found] = []
    for start, end, reading in _readings(ctx):
        mention = DateMention(
            start=base + start,
            end=base + end,
            text=text[start:end],
            date=reading.first,
            precision=reading.precision,
            end_date=reading.last,
            attribution=_is_attributed(text, start),
        )
        found.append(_Found(mention, reading.kind, reading.overnight, reading.names_day))
    return _anchor_overnight(found)


def _publication_day(published: datetime.datetime | None) -> datetime.date | None:
    if published is None:
        return None
    if published.tzinfo is not None:
        with contextlib.suppress(OverflowError):  # a time at the very edge of the calendar stays as is
            published = published.astimezone(datetime.UTC)
    return published.date()


@functools.cache
def _rule_screen() -> LiteralScreen:
    """Skips the rules that cannot match a text (most name a month or a weekday)."""
    return LiteralScreen([rule.pattern for rule in _RULES])


def _readings(ctx: _Context) -> list[tuple[int, int, _Reading]]:
    """The longest leftmost matches of all rules that mean a real day."""
    matches: list[tuple[int, int, int, re.Match[str]]] = []
    for order in _rule_screen().candidates(ctx.text):
        pattern = _RULES[order].pattern
        matches.extend((m.start(), -(m.end() - m.start()), order, m) for m in pattern.finditer(ctx.text))
    matches.sort(key=lambda item: item[:3])
    chosen: list[tuple[int, int, _Reading]] = []
    taken_until = 0
    for start, _negative_length, order, match in matches:
        if start < taken_until or match.end() == start:
            continue
        # A longer match that is no real date ("31 February 2022") still hides the shorter ones inside it.
        taken_until = match.end()
        try:
            reading = _RULES[order].read(match, ctx)
        except (ValueError, OverflowError):  # a day at the edge of the calendar (year 1 or 9999)
            reading = None
        if reading is not None:
            chosen.append((start, match.end(), reading))
    return chosen


def _anchor_overnight(found: list[_Found]) -> list[_Found]:
    """Date "overnight" by the nearest weekday (or "yesterday") named in the same text, if any."""
    days = [f for f in found if f.names_day]
    if not days:
        return found
    anchored: list[_Found] = []
    for item in found:
        if item.overnight:
            nearest = min(days, key=lambda d: abs(d.mention.start - item.mention.start))
            item = replace(item, mention=replace(item.mention, date=nearest.mention.date))
        anchored.append(item)
    return anchored
