"""Numbers in news text: counts in digits or words, casualties, counted things and what was hit.

Four stages, all plain pattern reading (no model, nothing loaded):

* :func:`parse_number` reads a count phrase ("370", "twenty-one", "at least 19", "dozens").
* :func:`find_casualties` finds people killed and injured; :func:`combine_casualties` merges the figures
  of one event. ``None`` means not reported and ``0`` reported as none ("no deaths or injuries").
* :func:`find_quantities` finds counted things: "370 combat drones and 21 missiles".
* :func:`find_targets` finds what was hit: "energy infrastructure", "hospitals", "residential buildings".

Every stage takes a ``base`` so it can read one sentence and still return offsets into the whole body:
``body[m.start:m.end] == m.text``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ..models import Casualties, Quantity
from .text import split_sentences

__all__ = [
    "CasualtyMention",
    "QuantityMention",
    "TargetMention",
    "combine_casualties",
    "find_casualties",
    "find_quantities",
    "find_targets",
    "parse_number",
]

# ---------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
# Amounts without a figure, read as a typical value and always marked approximate.
_VAGUE = {
    "dozens": 24, "hundreds": 200, "thousands": 2_000, "scores": 40, "tens": 20, "several": 3,
    "a few": 3, "a couple": 2, "a handful": 3, "tens of thousands": 20_000,
    "hundreds of thousands": 200_000, "several dozen": 36, "a few dozen": 36, "several hundred": 300,
    "a few hundred": 300, "several thousand": 3_000, "a few thousand": 3_000,
}  # fmt: skip
_EXACT_PHRASES = {"a dozen": 12, "half a dozen": 6, "a hundred": 100, "a thousand": 1_000}
# Words before a figure that make it a bound or an estimate rather than an exact count.
_APPROX_MODIFIERS = (
    "at least", "at most", "more than", "less than", "fewer than", "no fewer than", "no less than",
    "no more than", "well over", "just over", "just under", "upwards of", "in excess of", "over", "under",
    "about", "around", "nearly", "almost", "approximately", "approx.", "roughly", "some", "up to",
    "as many as", "close to", "an estimated", "estimated", "a minimum of", "a maximum of", "possibly",
)  # fmt: skip
# Words before a figure that leave it exact.
_EXACT_MODIFIERS = ("a total of", "total of", "another", "a further", "further", "all", "the", "only",
                    "just", "exactly", "other")  # fmt: skip
_MODIFIERS = tuple(sorted(_APPROX_MODIFIERS + _EXACT_MODIFIERS, key=len, reverse=True))

_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES, "dozen"], key=len, reverse=True))
_WORD_NUMBER = rf"(?:{_NUMBER_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_NUMBER_WORD}))*"
_DIGIT_NUMBER = r"\d{1,3}(?:,\d{3})+(?![\d,])|\d+(?:\.\d+)?(?:\s+(?:million|thousand|hundred)\b)?"
_VAGUE_NUMBER = (
    r"(?:tens|hundreds)\s+of\s+thousands|dozens|hundreds|thousands|scores|tens(?=\s+of\b)"
    r"|(?:several|a\s+few)(?:\s+(?:dozen|hundred|thousand))?|a\s+couple|a\s+handful"
    r"|half\s+a\s+dozen|a\s+dozen|a\s+hundred|a\s+thousand"
)
_CORE_NUMBER = rf"(?:{_VAGUE_NUMBER}|{_DIGIT_NUMBER}|{_WORD_NUMBER})"
_MODIFIER_RE = "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in _MODIFIERS)
#: A count phrase as found in running text: optional modifiers, then a figure, a range or "between".
_NUMBER_PATTERN = (
    rf"(?<![\w.,-])(?:(?:{_MODIFIER_RE})\s+)*"
    rf"(?:between\s+{_CORE_NUMBER}\s+(?:and|to|or|-)\s+{_CORE_NUMBER}"
    rf"|{_CORE_NUMBER}(?:\s*(?:-|–|\bto\b|\bor\b)\s*{_CORE_NUMBER})?)(?![\w])"
)
_NUMBER = re.compile(_NUMBER_PATTERN, re.IGNORECASE)


def parse_number(words: str) -> tuple[int, bool] | None:
    """Read a count phrase as ``(value, approximate)``; ``None`` when it is not one.

    "370" → (370, False); "twenty-one" → (21, False); "at least 19" → (19, True); "dozens" → (24, True);
    "a dozen" → (12, False). A range or "between" gives its lower bound, approximate.
    """
    text = " ".join(words.lower().replace("–", "-").split()).strip(" ,;:")
    text = re.sub(r"\s+of$", "", text)
    approximate = False
    stripped = True
    while stripped:
        stripped = False
        for modifier in _MODIFIERS:
            if text.startswith(modifier + " "):
                text = text[len(modifier) + 1 :]
                approximate = approximate or modifier in _APPROX_MODIFIERS
                stripped = True
                break
    between = re.fullmatch(r"between (.+?) (?:and|to|or|-) (.+)", text)
    if between:
        low = _core_value(between.group(1))
        return (low[0], True) if low and _core_value(between.group(2)) else None
    ranged = re.fullmatch(r"(\d[\d,]*) ?- ?(\d[\d,]*)|(.+?) (?:to|or) (.+)", text)
    if ranged:
        first, second = (ranged.group(1), ranged.group(2)) if ranged.group(1) else ranged.group(3, 4)
        low, high = _core_value(first), _core_value(second)
        if low and high:
            return low[0], True
    value = _core_value(text)
    if value is None:
        return None
    return value[0], value[1] or approximate


def _core_value(text: str) -> tuple[int, bool] | None:
    """A bare figure: digits, number words or a vague amount."""
    text = text.strip()
    if text in _VAGUE:
        return _VAGUE[text], True
    if text in _EXACT_PHRASES:
        return _EXACT_PHRASES[text], False
    if re.fullmatch(r"\d{1,3}(?:[, ]\d{3})+|\d+", text):
        return int(re.sub(r"[, ]", "", text)), False
    scaled = re.fullmatch(r"(\d+(?:\.\d+)?) ?(million|thousand|hundred)", text)
    if scaled:
        return round(float(scaled.group(1)) * _SCALES[scaled.group(2)]), False
    value = _words_value(text)
    return None if value is None else (value, False)


def _words_value(text: str) -> int | None:
    """ "two hundred and fifty" → 250; ``None`` unless the words form one number."""
    tokens = [t for t in re.split(r"[\s-]+", text) if t]
    total = current = 0
    last: str | None = None
    for index, token in enumerate(tokens):
        if token == "and":
            if last != "scale":
                return None
            continue
        if token in ("a", "an") and index == 0 and len(tokens) > 1 and tokens[1] in (*_SCALES, "dozen"):
            current, last = 1, "unit"
        elif token in _UNITS:
            unit = _UNITS[token]
            if last == "unit" or (last == "tens" and not 0 < unit < 10):
                return None
            current, last = current + unit, "unit"
        elif token in _TENS:
            if last in ("unit", "tens"):
                return None
            current, last = current + _TENS[token], "tens"
        elif token in ("dozen", "hundred"):
            current, last = max(current, 1) * (12 if token == "dozen" else 100), "scale"
        elif token in ("thousand", "million"):
            total, current, last = total + max(current, 1) * _SCALES[token], 0, "scale"
        else:
            return None
    return None if last is None else total + current


@dataclass(frozen=True, slots=True)
class _Count:
    """A count read from a phrase; ``value`` None when the phrase names people without a figure."""

    value: int | None
    approximate: bool = False


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# Words after a figure that show it is not a head count: ages, units, times, money, dates.
_NOT_A_COUNT_AFTER = re.compile(
    r"\s*(?:[-–]?\s*(?:year|yr|month|week|day|hour|minute)s?[-\s]old\b|%|per\s*cent\b|percent\b"
    r"|(?<=\S)[-–][A-Za-z]"  # "400-pound", "10-day", "two-storey": a measure, not a head count
    r"|[:/]\d|(?:mm|km|kg|cm|m|ft|am|pm|a\.m|p\.m|hrs?|th|st|nd|rd|times|minutes|hours|days|weeks|months|years"
    r"|kilomet(?:er|re)s|met(?:er|re)s|miles)\b"
    rf"|{_MONTH}\b)",
    re.IGNORECASE,
)
_MONTH_BEFORE = re.compile(rf"\b{_MONTH}\.?\s+$", re.IGNORECASE)


def _numbers_in(text: str) -> list[tuple[re.Match[str], int, bool]]:
    """The count phrases of ``text`` with their values, leaving out ages, units, dates and years."""
    found: list[tuple[re.Match[str], int, bool]] = []
    for match in _NUMBER.finditer(text):
        parsed = parse_number(match.group(0))
        if parsed is None or _NOT_A_COUNT_AFTER.match(text, match.end()):
            continue
        if _MONTH_BEFORE.search(text[max(0, match.start() - 12) : match.start()]):
            continue
        bare = match.group(0).strip()
        if re.fullmatch(r"(?:1[89]|20)\d\d", bare):  # a year
            continue
        found.append((match, parsed[0], parsed[1]))
    return found


# ---------------------------------------------------------------------------------------------------
# Casualties
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CasualtyMention:
    """People killed and injured as one passage reports them; offsets into the article body.

    ``coded`` marks a figure the text states as the one to record for this event (ACLED's "fatalities
    coded as 3"); :func:`combine_casualties` prefers it to every other killed figure. ``running`` marks a
    total over a season or a year ("have killed 11 people this winter"), which counts only where the
    event has no figure of its own.
    """

    start: int
    end: int
    text: str
    killed: int | None
    injured: int | None
    approximate: bool
    coded: bool = False
    running: bool = False


_Kind = Literal["killed", "injured"]

# Verbs and adjectives that report a death or an injury. Groups: a participle that can be passive or
# active ("killed"), an -ing form (always active), and forms with no object ("died", "dead").
_PREDICATE = re.compile(
    r"\b(?:(?P<inj_or>killed\s+or\s+(?:injured|wounded))"
    r"|(?P<kill_pp>shot\s+(?:and\s+)?killed|shot\s+dead|(?:shot|beat|beaten|stabbed|hacked|burn(?:ed|t)|tortured"
    r"|stoned|crushed|strangled|bludgeoned|clubbed|choked|starved|trampled|hanged)\s+to\s+death"
    r"|killed|murdered|assassinated|slain|slaughtered|massacred|beheaded|lynched)"
    r"|(?P<kill_ing>killing|murdering|slaughtering|massacring)"
    r"|(?P<kill_in>died|dead|perished|lost\s+(?:their|his|her)\s+lives?"
    r"|succumbed\s+to\s+(?:his|her|their)\s+(?:injuries|wounds))"
    r"|(?P<inj_pp>injured|wounded|hurt)"
    r"|(?P<inj_ing>injuring|wounding))\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’.,-][A-Za-z0-9]+)*|\S")
_AUX_SINGULAR = {"was", "is", "has"}
_AUX_PASSIVE = {"was", "were", "is", "are", "be", "been", "being", "got", "get", "gets", "left", "found"}
# Words that may stand between the subject and the predicate: auxiliaries, adverbs, hedges.
_CHAIN = _AUX_PASSIVE | {
    "has", "have", "had", "reportedly", "allegedly", "also", "later", "subsequently", "then",
    "immediately", "instantly", "fatally", "seriously", "critically", "severely", "slightly", "lightly",
    "badly", "mortally", "gravely", "reported", "said", "believed", "feared", "confirmed", "presumed",
    "to", "all", "not", "eventually", "apparently", "likely", "probably", "since",
}  # fmt: skip
_IRREGULAR_PARTICIPLES = {"shot", "beaten", "hit", "struck", "taken", "caught", "burnt", "thrown", "bound",
                          "stolen", "held", "run", "overrun", "cut", "slit"}  # fmt: skip
# Words that end a subject when walking back from the verb.
_SUBJECT_STOP = {
    "that", "which", "who", "whose", "when", "while", "where", "after", "before", "because",
    "but", "said", "says", "say", "claimed", "claims", "claiming", "reported", "reports", "reporting",
    "according", "leaving", "left", "if", "though", "although", "then", "thus", "with", "whereas",
    "killing", "injuring", "wounding", "killed", "injured", "wounded", "died", "dead", "hurt", "resulting",
    "stated", "states", "announced", "confirmed", "added", "suggesting", "showing",
    "indicating", "noted", "estimated", "believes", "believed", "was", "were", "is", "are", "has", "have",
    "had", "until", "could", "would", "should", "might", "will", "can", "did", "do", "does",
}  # fmt: skip
_HARD_STOP = set('.;:!?()[]"“”')
# Words that end an object after an active verb.
_OBJECT_STOP = {
    "in", "on", "at", "near", "during", "while", "when", "after", "before", "following", "from", "inside",
    "outside", "as", "by", "with", "because", "since", "who", "which", "that", "including", "under",
    "across", "along", "into", "to", "for", "amid", "among", "but", "though", "although", "where",
    "without", "within", "and", "or", "was", "were", "is", "are", "had", "has", "have", "last", "this",
    "yesterday", "today", "overnight", "earlier", "later", "whose", "belonging", "allegedly", "reportedly",
}  # fmt: skip
_AUX_WORDS = {"was", "were", "is", "are", "had", "has", "have"}
# Heads that are not people, so "killed 20 cattle" or "wounded by 2 bullets" is no casualty figure.
_NOT_PEOPLE = {
    "cattle", "cow", "cows", "camel", "camels", "goat", "goats", "sheep", "donkey", "donkeys", "horse",
    "horses", "livestock", "dog", "dogs", "animal", "animals", "bird", "birds", "chicken", "chickens", "pig",
    "pigs", "ox", "oxen", "bull", "bulls", "elephant", "elephants", "times", "time", "bullet",
    "bullets", "round", "rounds", "shot", "shots", "drone", "drones", "missile", "missiles", "rocket",
    "rockets", "shell", "shells", "house", "houses", "home", "homes", "building", "buildings", "vehicle",
    "vehicles", "car", "cars", "tank", "tanks", "days", "hours", "weeks", "months", "years", "minutes",
    "locations", "location", "events", "event", "villages", "village", "attack", "attacks", "operation",
    "plan", "dollars", "naira", "rupees", "percent", "kilometres", "kilometers", "km", "metres", "meters",
    "miles", "places", "areas", "sides", "mm", "grenades", "bombs", "poultry", "injuries", "injury", "wounds",
}  # fmt: skip
# Words that show the people of a phrase were not killed or hurt: "23 dead and 15 missing".
_NOT_HARMED = {"missing", "captured", "arrested", "abducted", "kidnapped", "displaced", "detained", "escaped",
               "rescued", "freed", "released", "seized"}  # fmt: skip
# Nouns that count a group rather than a person: "a group of protesters was hurt" is no single victim.
_COLLECTIVE = {"group", "number", "lot", "crowd", "total", "few", "handful", "couple", "series", "unit",
               "team", "family", "convoy", "patrol", "dozen", "score", "majority", "mob", "gang",
               "squad", "platoon", "column", "delegation", "pair"}  # fmt: skip
_SINGULAR_PRONOUNS = {"he", "she", "him", "her"}


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    text: str
    lower: str


def find_casualties(text: str, *, base: int = 0) -> list[CasualtyMention]:
    """People killed and injured reported in ``text``, one mention per passage that gives a figure.

    Reads subjects of passive verbs ("two civilians and a child were killed"), objects of active ones
    ("killing at least 5 people"), nouns ("one fatality and dozens of injuries"), "no deaths or injuries",
    and ACLED's coding notes ("Fatalities coded as 3", "5 fatalities split among 2 events").
    """
    masked = _mask_brackets(text)
    tokens = [_Token(m.start(), m.end(), m.group(0), m.group(0).lower()) for m in _TOKEN.finditer(masked)]
    mentions = [
        *_zero_mentions(masked),
        *_predicate_mentions(masked, tokens),
        *_nominal_mentions(masked),
        *_body_mentions(masked, tokens),
        *_death_toll_mentions(masked),
    ]
    mentions = _drop_overlaps(mentions)
    mentions = [m for m in mentions if not _is_background(masked, m) and not _coded_separately(text, m)]
    mentions = _drop_claims(masked, mentions)
    mentions.sort(key=lambda m: (m.start, m.end))
    mentions = _join_coordinated(masked, mentions)
    mentions += _coded_mentions(text, mentions)
    mentions.sort(key=lambda m: (m.start, m.end))
    return [
        CasualtyMention(
            m.start + base,
            m.end + base,
            text[m.start : m.end],
            m.killed,
            m.injured,
            m.approximate,
            m.coded,
            running=_running_total(masked, m.start, m.end),
        )
        for m in mentions
    ]


def combine_casualties(mentions: Sequence[CasualtyMention]) -> Casualties:
    """Merge the mentions of one event: the highest figure per field, 0 only when reported as none; a
    running total (:attr:`CasualtyMention.running`) only where the event has no figure of its own.

    A coded figure (ACLED's "fatalities coded as N") overrides the other killed figures. ``approximate``
    is set when a figure used is approximate.
    """
    coded = [m for m in mentions if m.coded and m.killed is not None]
    killed, killed_approx = _merge_field(
        _own_first([(m.killed, m.approximate, m.running) for m in (coded or mentions)])
    )
    injured, injured_approx = _merge_field(
        _own_first([(m.injured, m.approximate, m.running) for m in mentions])
    )
    return Casualties(killed=killed, injured=injured, approximate=killed_approx or injured_approx)


def _own_first(figures: Sequence[tuple[int | None, bool, bool]]) -> list[tuple[int | None, bool]]:
    """The (value, approximate) figures of a field, without running totals where the event has its own."""
    own: list[tuple[int | None, bool]] = [
        (value, approx) for value, approx, running in figures if value is not None and not running
    ]
    return own or [(value, approx) for value, approx, _ in figures]


def _merge_field(figures: Sequence[tuple[int | None, bool]]) -> tuple[int | None, bool]:
    known = [(value, approx) for value, approx in figures if value is not None]
    if not known:
        return None, False
    # Highest figure; of equal figures, an exact one.
    value, approx = max(known, key=lambda figure: (figure[0], not figure[1]))
    return value, approx and value > 0


def _mask_brackets(text: str) -> str:
    """Blank out short bracketed asides ("(VDP)", "[coded separately]") so lists read as one subject."""
    return re.sub(r"[(\[][^()\[\]]{0,80}[)\]]", lambda m: " " * len(m.group(0)), text)


def _mention(text: str, start: int, end: int, killed: int | None, injured: int | None,
             approximate: bool = False, coded: bool = False) -> CasualtyMention:  # fmt: skip
    return CasualtyMention(start, end, text[start:end], killed, injured, approximate, coded)


# --- "no deaths or injuries" ------------------------------------------------------------------------

_HARM_NOUN = (
    r"casualt(?:y|ies)|fatalit(?:y|ies)|deaths?|injur(?:y|ies)|victims?|dead|loss\s+of\s+(?:human\s+)?life"
)
_NO_HARM = re.compile(
    rf"\b(?:no|zero|without(?:\s+any)?)\s+(?:(?:reported|known|immediate|further|confirmed|other|human|"
    rf"serious|civilian|major|additional|new)\s+)*(?P<first>{_HARM_NOUN})"
    rf"(?:\s*(?:,|or|and|nor)\s*(?:(?:any|no)\s+)?(?P<second>{_HARM_NOUN}))?\b",
    re.IGNORECASE,
)


def _zero_mentions(text: str) -> list[CasualtyMention]:
    mentions = []
    for match in _NO_HARM.finditer(text):
        kinds = {_harm_kind(match.group("first")), _harm_kind(match.group("second") or "")}
        killed = 0 if kinds & {"killed", "both"} else None
        injured = 0 if kinds & {"injured", "both"} else None
        mentions.append(_mention(text, match.start(), match.end(), killed, injured))
    return mentions


def _harm_kind(noun: str) -> str | None:
    noun = noun.lower()
    if noun.startswith(("casualt", "victim")):
        return "both"
    if noun.startswith("injur"):
        return "injured"
    return "killed" if noun else None


# --- verbs: "were killed", "killing 5 people" -------------------------------------------------------


def _predicate_mentions(text: str, tokens: list[_Token]) -> list[CasualtyMention]:
    starts = [token.start for token in tokens]
    mentions = []
    for match in _PREDICATE.finditer(text):
        group = match.lastgroup or ""
        kind: _Kind = "injured" if group.startswith("inj") else "killed"
        first = bisect_left(starts, match.start())
        after = bisect_left(starts, match.end())
        mention = _read_predicate(text, tokens, first, after, group, kind)
        if mention is not None:
            mentions.append(mention)
    return mentions


def _read_predicate(text: str, tokens: list[_Token], first: int, after: int, group: str,
                    kind: _Kind) -> CasualtyMention | None:  # fmt: skip
    """The figure of one casualty verb, from its object (active) or its subject (passive or intransitive)."""
    chain_start, passive, singular = _walk_chain(tokens, first)
    active = group.endswith("ing") or (group in ("kill_pp", "inj_pp") and not passive)
    if group == "kill_in" and tokens[first].lower == "dead" and not _ends_object(tokens, after, text):
        return None  # "dead soldiers": an adjective, not a report
    pred_end = tokens[after - 1].end
    if active and group.endswith("pp"):
        after = _skip_verb_series(tokens, after)
    if active and not _ends_object(tokens, after, text):
        found = _read_object(text, tokens, after)
        if found is None:
            return None
        count, obj_end = found
        return _count_mention(text, tokens[first].start, obj_end, count, kind)
    if active and group.endswith("ing"):
        return None
    # "The victim died": with a verb that takes no object, "the" names one person.
    subject = _read_subject(text, tokens, chain_start, definite=group == "kill_in")
    # "was killed" names one victim even when the subject is far; "is dead" may be said of anything.
    singular = singular and group != "kill_in"
    if subject is None:
        if passive and singular:
            return _count_mention(text, tokens[first].start, pred_end, _Count(1), kind)
        return None
    count, subj_start = subject
    if count.value is None and passive and singular:
        count = _Count(1)
    if count.value is None:
        return None
    return _count_mention(text, subj_start, pred_end, count, kind)


def _skip_verb_series(tokens: list[_Token], after: int) -> int:
    """Past "and dismembered" in "killed and dismembered a girl", to where the shared object starts."""
    index = after
    while index + 1 < len(tokens) and tokens[index].lower in ("and", ","):
        following = index + 1
        if tokens[following].lower == "and" and following + 1 < len(tokens):
            following += 1
        if not _is_participle(tokens[following].lower) or _PREDICATE.fullmatch(tokens[following].text):
            break
        index = following + 1
    return index


def _count_mention(text: str, start: int, end: int, count: _Count, kind: _Kind) -> CasualtyMention:
    if kind == "killed":
        return _mention(text, start, end, count.value, None, count.approximate)
    # Nobody hurt means nobody killed either.
    killed = 0 if count.value == 0 else None
    return _mention(text, start, end, killed, count.value, count.approximate)


def _walk_chain(tokens: list[_Token], first: int) -> tuple[int, bool, bool]:
    """Walk back over auxiliaries, adverbs and "beaten and" from the verb at ``first``.

    Returns the index just after the subject, whether the verb is passive, and whether its auxiliary is
    singular ("was").
    """
    index = first - 1
    passive = singular = False
    while index >= 0:
        word = tokens[index].lower
        if word in _CHAIN:
            passive = passive or word in _AUX_PASSIVE
            singular = singular or word in _AUX_SINGULAR
            index -= 1
        elif word == "the" and index > 0 and tokens[index - 1].lower == "among":
            passive, index = True, index - 2  # "a child were among the injured"
        elif word in ("and", ",") and index > 0 and _is_participle(tokens[index - 1].lower):
            index -= 2  # "beaten and killed", "abducted, tortured and killed"
        elif word == "and" and _ends_with_phrase(tokens, index, _VERB_PHRASES):
            index -= 1 + next(len(p) for p in _VERB_PHRASES if _ends_with_phrase(tokens, index, (p,)))
        elif (
            word == "and"
            and index > 1
            and tokens[index - 1].lower == ","
            and _is_participle(tokens[index - 2].lower)
        ):
            index -= 3
        else:
            break
    return index + 1, passive, singular


_VERB_PHRASES = (("set", "on", "fire"), ("set", "ablaze"), ("burnt", "alive"), ("burned", "alive"),
                 ("buried", "alive"), ("taken", "hostage"))  # fmt: skip


def _ends_with_phrase(tokens: list[_Token], index: int, phrases: Sequence[tuple[str, ...]]) -> bool:
    """True when the tokens just before ``index`` spell one of ``phrases``."""
    return any(
        index >= len(phrase) and tuple(t.lower for t in tokens[index - len(phrase) : index]) == phrase
        for phrase in phrases
    )


def _is_participle(word: str) -> bool:
    return (word.endswith("ed") and len(word) > 4) or word in _IRREGULAR_PARTICIPLES


def _read_subject(
    text: str, tokens: list[_Token], end: int, *, relative: bool = True, definite: bool = False
) -> tuple[_Count, int] | None:
    """The count of the subject that ends before token ``end``, and where the subject starts."""
    if end > 0 and tokens[end - 1].lower in ("him", "her"):
        return _Count(1), tokens[end - 1].start  # "shoot him dead"
    start_index = _subject_start(tokens, end)
    if start_index >= end and end > 1 and tokens[end - 1].lower == ",":
        # "Five people, including two children, were killed": step over the aside.
        aside = _subject_start(tokens, end - 1)
        if (
            aside < end - 1
            and tokens[aside].lower in _ASIDES
            and aside > 1
            and tokens[aside - 1].lower == ","
        ):
            end = aside - 1
            start_index = _subject_start(tokens, end)
    if start_index >= end:
        return None
    if tokens[start_index].lower == "including" and start_index > 1 and tokens[start_index - 1].lower == ",":
        # "Three fighters, including a commander, were killed": the count is before the aside.
        end = start_index - 1
        start_index = _subject_start(tokens, end)
        if start_index >= end:
            return None
    # A list split by commas: "two soldiers, a policeman and a child".
    while (
        start_index > 1
        and tokens[start_index - 1].lower == ","
        and _list_continues(text, tokens, start_index, end)
    ):
        start_index = _subject_start(tokens, start_index - 1)
    whole = _before_including_list(text, tokens, start_index)
    if whole is not None:
        return whole
    while start_index < end - 1 and tokens[start_index].lower in ("and", "or", "but", "also", "additionally"):
        start_index += 1  # "... and four others injured": the count starts after the conjunction
    start, stop = tokens[start_index].start, tokens[end - 1].end
    phrase = re.split(r"\bincluding\b", text[start:stop], maxsplit=1, flags=re.IGNORECASE)[0]
    count, offset = _count_phrase(phrase, subject=True, definite=definite)
    if (
        count.value is None
        and relative
        and start_index > 0
        and tokens[start_index - 1].lower in ("who", "that", "which")
    ):
        # "two inmates who tried to escape were shot dead": count the noun the clause hangs on.
        antecedent = _read_subject(text, tokens, start_index - 1, relative=False)
        if antecedent is not None and antecedent[0].value is not None:
            return antecedent
    return count, start + offset


def _before_including_list(text: str, tokens: list[_Token], start_index: int) -> tuple[_Count, int] | None:
    """ "Eight people, including four policemen, one soldier and three militants were killed" → 8."""
    if start_index < 2 or tokens[start_index - 1].lower != ",":
        return None
    aside = _subject_start(tokens, start_index - 1)
    if tokens[aside].lower != "including" or aside < 2 or tokens[aside - 1].lower != ",":
        return None
    first = _subject_start(tokens, aside - 1)
    if first >= aside - 1:
        return None
    start = tokens[first].start
    count, offset = _count_phrase(text[start : tokens[aside - 2].end], subject=True)
    return (count, start + offset) if count.value is not None else None


_ASIDES = {"including", "among", "mostly", "mainly", "most", "many", "all"}


def _subject_start(tokens: list[_Token], end: int) -> int:
    """Walk back from token ``end`` to where its subject starts (a clause boundary or a verb)."""
    index = end - 1
    while index >= 0 and end - index <= 15:
        word = tokens[index].lower
        if word in _HARD_STOP or word == ",":
            break
        # "IS" (Islamic State) is a name, not the verb.
        if word in _SUBJECT_STOP and not _is_as_many(tokens, index) and not tokens[index].text.isupper():
            break
        index -= 1
    return index + 1


def _is_as_many(tokens: list[_Token], index: int) -> bool:
    return (
        tokens[index].lower == "as" and index + 1 < len(tokens) and tokens[index + 1].lower in ("many", "few")
    )


def _list_continues(text: str, tokens: list[_Token], start_index: int, end: int) -> bool:
    """True when the segment before the comma at ``start_index - 1`` is one more item of a counted list."""
    subject = text[tokens[start_index].start : tokens[end - 1].end]
    if not re.search(r"\band\b", subject) or not _starts_with_count(subject):
        return False
    previous = _subject_start(tokens, start_index - 1)
    if previous >= start_index - 1:
        return False
    return _starts_with_count(text[tokens[previous].start : tokens[start_index - 2].end])


def _starts_with_count(phrase: str) -> bool:
    phrase = phrase.strip()
    match = _NUMBER.match(phrase)
    return bool(match and parse_number(match.group(0))) or bool(
        re.match(r"(?:a|an|one|another|his|her)\b", phrase, re.I)
    )


def _ends_object(tokens: list[_Token], after: int, text: str) -> bool:
    """True when nothing object-like follows the verb (end, punctuation or an adverbial)."""
    if after >= len(tokens):
        return True
    word = tokens[after].lower
    if word in _HARD_STOP or word == "," or word == "-":
        return True
    return word in _OBJECT_STOP and not _number_at(text, tokens[after].start)


def _number_at(text: str, position: int) -> bool:
    """True when a count phrase starts at ``position`` ("at least 5", "over 20")."""
    match = _NUMBER.match(text, position)
    return bool(match and parse_number(match.group(0)))


def _read_object(text: str, tokens: list[_Token], after: int) -> tuple[_Count, int] | None:
    """The count of the object after an active verb, and where the object ends."""
    index = after
    conjunct_ends: list[int] = []
    while index < len(tokens):
        word = tokens[index].lower
        number = _NUMBER.match(text, tokens[index].start)
        if number and parse_number(number.group(0)) and number.end() > tokens[index].end:
            while index < len(tokens) and tokens[index].start < number.end():
                index += 1  # "between one or two soldiers" is one count
            continue
        if word in _HARD_STOP or _PREDICATE.fullmatch(word):
            break
        if word in ("and", ","):
            following = text[tokens[index].end :].lstrip(" ,")
            following = re.sub(r"^and\s+", "", following, flags=re.I)
            if not _starts_with_count(following) or re.match(
                r"(?:an?|one)\s+\w+\s+(?:was|were)\b", following
            ):
                break
            conjunct_ends.append(index)
        elif word in _OBJECT_STOP and not (index == after and _number_at(text, tokens[index].start)):
            if word in _AUX_WORDS and conjunct_ends:
                index = conjunct_ends.pop()  # the last conjunct is the subject of the next clause
            break
        index += 1
    if index == after:
        return None
    start, stop = tokens[after].start, tokens[index - 1].end
    count, _ = _count_phrase(text[start:stop], subject=False)
    if count.value is None:
        return None
    return count, stop


_CONJUNCTS = re.compile(r"\s*(?:,\s*and\s+|,\s+|\s+and\s+|\s+as\s+well\s+as\s+)\s*", re.IGNORECASE)


def _count_phrase(phrase: str, *, subject: bool, definite: bool = False) -> tuple[_Count, int]:
    """The number of people a noun phrase names ("two civilians and a child" → 3), and the offset in
    ``phrase`` of the first counted item (items before it, such as "heavy arms for an hour and", are left
    out of the count and of the evidence)."""
    total, approximate, unknown, first = 0, False, False, -1
    position = 0
    # "between 10 and 15 people" is one item: no split inside a count phrase.
    numbers = [match.span() for match in _NUMBER.finditer(phrase)]
    separators = [
        sep
        for sep in _CONJUNCTS.finditer(phrase)
        if not any(a < sep.end() and sep.start() < b for a, b in numbers)
    ]
    for separator in [*separators, None]:
        end = separator.start() if separator else len(phrase)
        conjunct, offset = phrase[position:end], position
        position = separator.end() if separator else len(phrase)
        if not conjunct.strip():
            continue
        count = _count_conjunct(conjunct, subject=subject, definite=definite)
        if count is None:
            continue  # not people
        if count.value is None:
            unknown = unknown or first >= 0
        else:
            first = offset if first < 0 else first
            total += count.value
            approximate = approximate or count.approximate
    if first < 0:
        return _Count(None), 0
    return _Count(total, approximate or (unknown and total > 0)), first + len(phrase[first:]) - len(
        phrase[first:].lstrip()
    )


def _count_conjunct(conjunct: str, *, subject: bool, definite: bool = False) -> _Count | None:
    """The count of one coordinated noun phrase; ``None`` when it names no people hurt."""
    words = [w.lower() for w in re.findall(r"[\w'’-]+", conjunct)]
    if not words:
        return _Count(None)
    head = _head_word(words)
    if head in _NOT_PEOPLE or any(word in _NOT_HARMED for word in words):
        return None
    if words[0] in ("nobody", "none") or (words[0] == "no" and len(words) > 1):
        return _Count(0)
    if words[0] in _SINGULAR_PRONOUNS:
        return _Count(1)
    if words[0] == "both" and (len(words) == 1 or words[1] in ("of", "men", "women", "victims")):
        return _Count(2)
    number = _first_number(conjunct)
    if number is not None and (words[0] not in ("a", "an") or _NUMBER.match(conjunct.strip())):
        return number
    if words[0] in ("a", "an", "another"):
        if len(words) == 1:
            return _Count(1) if words[0] == "another" else _Count(None)
        return _Count(None) if any(word in _COLLECTIVE for word in words[1:3]) else _Count(1)
    if (definite or not subject) and words[0] in ("the", "his", "her") and _looks_like_person(head):
        return _Count(1)  # "killing the owner of the house", "killed her husband"
    return _Count(None)


_PERSON_WORDS = {
    "man", "woman", "child", "boy", "girl", "person", "victim", "chief", "husband", "wife", "son", "daughter",
    "mother", "father", "brother", "sister", "guard", "monk", "priest", "imam", "pastor", "youth", "civilian",
    "pastoralist", "journalist", "activist", "policeman", "policewoman", "suspect", "militant", "soldier",
    "inmate", "prisoner", "student", "nurse", "neighbour", "neighbor",
}  # fmt: skip


def _looks_like_person(head: str) -> bool:
    """A rough test that a singular head noun names a person ("owner", "commander", "victim")."""
    return head in _PERSON_WORDS or (
        not head.endswith("s") and head.endswith(("er", "or", "ist", "ian", "man", "woman", "ant", "ent"))
    )


_PREPOSITIONS = {"in", "at", "on", "near", "from", "of", "with", "inside", "belonging", "to", "for", "by",
                 "during", "under", "across", "along", "who", "that", "which"}  # fmt: skip


def _head_word(words: list[str]) -> str:
    """The head noun of a phrase: the word before its first preposition ("3 of 5 cattle" → cattle)."""
    for index, word in enumerate(words):
        if word in _PREPOSITIONS and index > 0:
            head = words[index - 1]
            return words[-1] if parse_number(head) or head in ("a", "an", "one") else head
    return words[-1]


def _first_number(conjunct: str) -> _Count | None:
    """The first head count in a conjunct, skipping dates, ages and units; "one of the five" is one."""
    for match, value, approximate in _numbers_in(conjunct):
        before = conjunct[: match.start()].lower()
        if re.search(r"\bof\s+(?:the\s+)?$", before) and before.strip():
            continue  # "one of the five": the five are not the count
        if re.search(r"\b(?:on|since|by|until|from)\s+$", before):
            continue  # a day of the month
        return _Count(value, approximate)
    return None


# --- nouns: "one fatality", "dozens of injuries", "the death toll rose to 12" -----------------------

_NOMINAL = re.compile(
    rf"{_NUMBER_PATTERN}\s+(?:of\s+)?(?P<mods>(?:[A-Za-z][\w'’-]*\s+){{0,3}}?)"
    r"(?P<noun>fatalit(?:y|ies)|deaths?|injur(?:y|ies)|bodies|corpses)\b",
    re.IGNORECASE,
)
_NOMINAL_BAD_MODIFIER = {"and", "or", "were", "was", "in", "on", "at", "the", "of", "by", "to", "from",
                         "with", "no", "than", "who", "which", "that"}  # fmt: skip


def _nominal_mentions(text: str) -> list[CasualtyMention]:
    mentions: list[CasualtyMention] = []
    if not re.search(r"fatalit|death|injur|bodies|corpses", text, re.IGNORECASE):
        return mentions
    for match in _NOMINAL.finditer(text):
        number_text = match.group(0)[: match.start("mods") - match.start()].strip()
        number_text = re.sub(r"\s+of$", "", number_text, flags=re.I)
        if any(word.lower() in _NOMINAL_BAD_MODIFIER for word in match.group("mods").split()):
            continue
        numbers = _numbers_in(number_text)
        if not numbers or numbers[0][0].start() != 0:
            continue
        _, value, approximate = numbers[0]
        noun = match.group("noun").lower()
        if noun.startswith("injur"):
            mentions.append(_mention(text, match.start(), match.end(), None, value, approximate))
        else:
            mentions.append(_mention(text, match.start(), match.end(), value, None, approximate))
    return mentions


_DEATH_TOLL = re.compile(
    rf"\bdeath\s+toll\b[^.;]{{0,40}}?\b(?:to|at|of|reached|hit|is|was|stands|stood)\s+(?P<num>{_NUMBER_PATTERN})",
    re.IGNORECASE,
)


def _death_toll_mentions(text: str) -> list[CasualtyMention]:
    mentions = []
    for match in _DEATH_TOLL.finditer(text):
        parsed = parse_number(match.group("num"))
        if parsed is not None:
            mentions.append(_mention(text, match.start(), match.end(), parsed[0], None, parsed[1]))
    return mentions


_BODY = re.compile(
    r"\b(?:(?:result\w*\s+in|lead\w*\s+to|led\s+to|caus\w*|claim\w*)\s+(?:the\s+)?(?:deaths?|killings?)"
    r"|bod(?:y|ies))\s+of\s+",
    re.IGNORECASE,
)
_FOUND = re.compile(r"\b(?:found|discovered|recovered|retrieved|dumped|exhumed|washed)\b", re.IGNORECASE)
_BODY_FOUND = re.compile(
    r"\b(?:a|an|his|her|the|\w+['’]s)\s+(?:[\w-]+\s+){0,2}?body\s+(?:[^.;]{0,40}?\s)?(?:was|had\s+been|has\s+been)\s+"
    r"(?:\w+\s+)?(?:found|discovered|recovered|dumped|retrieved|exhumed)\b",
    re.IGNORECASE,
)


def _body_mentions(text: str, tokens: list[_Token]) -> list[CasualtyMention]:
    """ "the bodies of three men were found", "the death of at least 23", "his body was found"."""
    mentions = []
    starts = [token.start for token in tokens]
    for match in _BODY.finditer(text):
        if match.group(0).lower().startswith("bod") and not _FOUND.search(
            _sentence_around(text, match.start())
        ):
            continue
        found = _read_object(text, tokens, bisect_left(starts, match.end()))
        if found is not None and found[0].value:
            count, end = found
            mentions.append(_mention(text, match.start(), end, count.value, None, count.approximate))
    for match in _BODY_FOUND.finditer(text):
        mentions.append(_mention(text, match.start(), match.end(), 1, None))
    return mentions


# --- ACLED's coding notes ----------------------------------------------------------------------------

_CODED_AS = re.compile(
    rf"\b(?:coded|estimated)\s+(?:as\s+|to\s+|at\s+)?(?P<n>{_NUMBER_PATTERN})(?!\s*[-–])"
    rf"(?:[^.;]*?\b(?:split|spread)\s+(?:among|across|between)\s+(?:the\s+)?(?P<m>{_NUMBER_PATTERN})\s+"
    r"(?:events?|locations?|incidents?))?",
    re.IGNORECASE,
)
_CODED_ELSEWHERE = re.compile(
    r"\b(?:fatalities\s+(?:are\s+|were\s+)?coded\s+to\s+(?!\d)(?:the\s+)?(?P<place>[^.;()\[\]]{1,40}?)\s+event|(?:zero|no)\s+fatalities\s+(?:have\s+been|"
    r"were|are|has\s+been)\s+coded)",
    re.IGNORECASE,
)
_CODED_FOR = re.compile(
    rf"(?P<n>{_NUMBER_PATTERN})\s+fatalit(?:y|ies)\s+(?:(?:were|are|have\s+been)\s+)?coded\b(?!\s+(?:as|to)\b)",
    re.IGNORECASE,
)
_SPLIT = re.compile(
    rf"(?:(?P<n>{_NUMBER_PATTERN})\s+(?:[A-Za-z][\w'’-]*\s+){{0,3}}?)?fatalities\s+(?:(?:from|of|on|among)\s+[^.;]*?\s+)?"
    rf"(?:are\s+|were\s+|have\s+been\s+)?split\s+(?:among|across|between)\s+(?:the\s+)?(?P<m>{_NUMBER_PATTERN})"
    r"\s+(?:events?|locations?|incidents?)",
    re.IGNORECASE,
)


def _coded_mentions(text: str, others: Sequence[CasualtyMention]) -> list[CasualtyMention]:
    """ACLED states the figure it records: "Fatalities coded as 3", "5 fatalities split among 2 events"."""
    mentions: list[CasualtyMention] = []
    if not re.search(r"coded|estimated|split|spread", text, re.IGNORECASE):
        return mentions  # a quick test first: the patterns below are slow to fail
    for match in _CODED_AS.finditer(text):
        sentence = _sentence_around(text, match.start())
        if not re.search(r"fatalit|fatilit|casualt|killed|dead|died", sentence, re.I):
            continue
        figure = _split_figure(match.group("n"), match.group("m"))
        if figure is not None:
            mentions.append(_mention(text, match.start(), match.end(), figure, None, coded=True))
    for match in _CODED_FOR.finditer(text):
        parsed = parse_number(match.group("n"))
        if parsed is not None:
            mentions.append(_mention(text, match.start(), match.end(), parsed[0], None, coded=True))
    for match in _CODED_ELSEWHERE.finditer(text):
        place = match.group("place")
        if place and text.count(place) > 1:
            continue  # "coded to the Novotroitske event" in the Novotroitske record: this event
        mentions.append(_mention(text, match.start(), match.end(), 0, None, coded=True))
    if mentions:
        return mentions  # an explicit figure beats a split worked out here
    highest = max((m.killed for m in others if m.killed is not None), default=None)
    for match in _SPLIT.finditer(text):
        total = match.group("n") or (str(highest) if highest is not None else None)
        figure = _split_figure(total, match.group("m"))
        if figure is not None:
            mentions.append(_mention(text, match.start(), match.end(), figure, None, coded=True))
    return mentions


def _split_figure(total: str | None, parts: str | None) -> int | None:
    """A total shared among ``parts`` events; ACLED rounds each share up."""
    parsed_total = parse_number(total) if total else None
    if parsed_total is None:
        return None
    parsed_parts = parse_number(parts) if parts else None
    if parsed_parts is None or parsed_parts[0] == 0:
        return parsed_total[0]
    return math.ceil(parsed_total[0] / parsed_parts[0])


#: How far a sentence is looked for on either side of a figure. News sentences are far shorter; a
#: text without full stops (a table, a list, scraped text) would otherwise make each figure's
#: sentence the whole text, and reading it once per figure made the work grow with the square of
#: the length (16,200 characters of figures: 0.72 s; 121,500: over 30 s).
_SENTENCE_REACH = 600


def _sentence_start(text: str, position: int) -> int:
    """Where the sentence around ``position`` starts: just after the last ". " before it."""
    floor = max(0, position - _SENTENCE_REACH)
    found = text.rfind(". ", floor, position)
    return found + 1 if found >= 0 else floor


def _sentence_end(text: str, position: int) -> int:
    """Where the sentence around ``position`` ends: at the next ". " (or the text's end)."""
    ceiling = min(len(text), position + _SENTENCE_REACH)
    found = text.find(". ", position, ceiling)
    return found if found >= 0 else ceiling


def _sentence_around(text: str, position: int) -> str:
    return text[max(_sentence_start(text, position) - 1, 0) : _sentence_end(text, position)]


# --- clean-up ------------------------------------------------------------------------------------------


def _drop_overlaps(mentions: list[CasualtyMention]) -> list[CasualtyMention]:
    """Keep one of two overlapping mentions that report the same field (the longer one).

    Longest first, so no mention kept is longer than the first: only those starting less than
    that length before a mention can overlap it, and they are found by bisection (a text of
    thousands of figures made comparing each with every kept one take seconds)."""
    ordered = sorted(mentions, key=lambda m: (-(m.end - m.start), m.start))
    longest = ordered[0].end - ordered[0].start if ordered else 0
    kept: list[CasualtyMention] = []
    starts: list[tuple[int, int]] = []  # (start, index in kept), sorted
    for mention in ordered:
        low = bisect_left(starts, (mention.start - longest, -1))
        high = bisect_left(starts, (mention.end, -1))
        clash = any(
            kept[i].end > mention.start and _same_fields(mention, kept[i]) for _, i in starts[low:high]
        )
        if not clash:
            insort(starts, (mention.start, len(kept)))
            kept.append(mention)
    return kept


def _same_fields(first: CasualtyMention, second: CasualtyMention) -> bool:
    return (first.killed is not None) == (second.killed is not None) or (
        first.injured is not None and second.injured is not None
    )


# A death told as the cause of a protest or as past history is no casualty of the event reported.
_PROTEST = re.compile(
    r"\b(?:protest\w*|demonstrat\w*|rall(?:y|ied|ies)|[Mm]arch(?:ed|es|ing)|(?-i:march)|sit-in|vigil|gathered"
    r"|commemorat\w*"
    r"|mourn\w*|funeral|strike)\b",
    re.IGNORECASE,
)
_CAUSE = re.compile(
    r"\b(?:against|over|condemn\w*|denounc\w*|justice|following|after|demand\w*|in\s+memory|anniversary"
    r"|relatives|famil(?:y|ies)|parents|mothers|honou?r\w*|commemorat\w*|mourn\w*|for|where"
    r"|investigat\w*)\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"[^.;]{0,40}?\b(?:last\s+(?:week|month|year)|in\s+recent\s+(?:weeks|months|years)|(?:weeks|months|years)"
    r"\s+ago|in\s+(?:(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december)\s+)?(?:19|20)\d\d|during\s+the\s+(?:19|20)\d\d|since\s+the\s+beginning)\b",
    re.IGNORECASE,
)


# A running total over many happenings, not one event's toll: with a perfect tense and a season or a
# year, "avalanches have now killed 11 people in Austria this winter". Not "the deadliest attack this
# year" (one event, a superlative), "this year's Hajj" (one event named), or "floods that hit earlier
# this month" (the date of one event); "so far" is most often the latest toll of the one event reported.
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_SEASON = r"(?:year|winter|summer|spring|autumn|fall|season|month)"
_PERIOD = re.compile(
    rf"\bthis\s+{_SEASON}\b(?!['’])"
    rf"|\bsince\s+(?:the\s+(?:start|beginning)\s+of\s+(?:the|this)\s+{_SEASON}\b|(?:{_MONTHS})\b)",
    re.IGNORECASE,
)
_DATING = re.compile(r"\b(?:earlier|later|late|last)\s+$", re.IGNORECASE)
# Where the words after a figure stop counting for it: a full stop, a semicolon or a blank line (a
# line break alone does not: wire copy is wrapped mid-sentence).
_CLAUSE_STOP = re.compile(r"[.;]|\n\s*\n")
_SUPERLATIVE = re.compile(
    r"\b(?:deadliest|worst|bloodiest|heaviest|biggest|largest|highest|most\s+\w+)\b", re.IGNORECASE
)
_PERFECT_IN = re.compile(r"\b(?:have|has)\s+(?:\w+\s+){0,2}?(?:been|died|perished)\b", re.IGNORECASE)
_PERFECT_BEFORE = re.compile(r"\b(?:have|has)\s+(?:\w+\s+){0,2}$", re.IGNORECASE)


def _period_between(text: str, start: int, end: int) -> re.Match[str] | None:
    """The first season or year in ``text[start:end]`` that is not the date of one event."""
    for match in _PERIOD.finditer(text, start, end):
        if not _DATING.search(text[max(0, match.start() - 12) : match.start()]):
            return match
    return None


def _running_total(text: str, start: int, end: int) -> bool:
    """Whether the figure at ``text[start:end]`` counts the dead or hurt of a season or a year so far."""
    perfect = _PERFECT_IN.search(text, start, end) or _PERFECT_BEFORE.search(text[max(0, start - 30) : start])
    if not perfect:
        return False
    sentence = _sentence_start(text, start)
    stop = _CLAUSE_STOP.search(text, end, end + 60)
    period = _period_between(text, start, stop.start() if stop else min(len(text), end + 60))
    if period is None:
        # "This winter, avalanches have killed 11 people": the period may open the sentence.
        opening = _period_between(text, sentence, start)
        if opening is None or text[sentence : opening.start()].strip(" \n\"'“‘"):
            return False
        period = opening
    # A superlative anywhere from the sentence's start makes it one event: "the deadliest attack this
    # year", "In the deadliest attack this year, gunmen have killed 30".
    return not _SUPERLATIVE.search(text, min(sentence, period.start()), max(end, period.end()))


_ACCUSED = re.compile(
    r"\b(?:accused|suspected|charged|convicted|arrested|sentenced|jailed|tried|trial|guilty|responsible)"
    r"\s+(?:\w+\s+){0,2}(?:of|for|with|over)\s+(?:\w+\s+){0,1}$",
    re.IGNORECASE,
)
_NOT_VIOLENCE = re.compile(
    r"\s*(?:\w+\s+){0,3}?(?:in\s+(?:an?|the)\s+(?:\w+\s+){0,2}?(?:accident|crash|collision|fire|flood|stampede)"
    r"|by\s+suicide|of\s+(?:natural\s+causes|covid|coronavirus|illness|hunger|starvation)|due\s+to\s+(?:covid|the\s+coronavirus))",
    re.IGNORECASE,
)


def _is_background(text: str, mention: CasualtyMention) -> bool:
    """A death told as history, as a cause of protest, in an accusation, or not by violence."""
    if _PAST.match(text, mention.end) or _NOT_VIOLENCE.match(text, mention.end):
        return True
    sentence_start = _sentence_start(text, mention.start)
    if _ACCUSED.search(text, sentence_start, mention.start):
        return True
    if re.search(r"\b(?:accident|crash|collision)\b", text[sentence_start : mention.start], re.I):
        return True
    if re.search(r"\brecently\b", text[max(sentence_start, mention.start - 30) : mention.end], re.I):
        return True
    # The protest may be named in the sentence before: "Students marched. One was stabbed last week."
    previous_start = _sentence_start(text, max(sentence_start - 2, 0))
    sentence_end = _sentence_end(text, mention.end)
    return bool(
        _PROTEST.search(text, previous_start, sentence_end)
        and _CAUSE.search(text, sentence_start, mention.end)
    )


def _join_coordinated(text: str, mentions: list[CasualtyMention]) -> list[CasualtyMention]:
    """ "18 soldiers were killed and 7 militiamen were killed": two groups of one toll, added up."""
    joined: list[CasualtyMention] = []
    for mention in mentions:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.killed
            and mention.killed
            and previous.injured is None
            and mention.injured is None
            and _number_at(previous.text, 0)
            and _number_at(mention.text, 0)
            and not re.search(r"\bbod(?:y|ies)\b", previous.text + mention.text, re.IGNORECASE)
            and re.fullmatch(
                r"\s*(?:,\s*|;\s*)?(?:and|while|whereas)?\s*", text[previous.end : mention.start]
            )
        ):
            killed = previous.killed + mention.killed
            joined[-1] = _mention(
                text, previous.start, mention.end, killed, None, previous.approximate or mention.approximate
            )
        else:
            joined.append(mention)
    return joined


def _coded_separately(text: str, mention: CasualtyMention) -> bool:
    """ACLED's "killed a man (coded separately)": the death belongs to another record."""
    return bool(re.match(r"[^.;,()\[]{0,60}?[(\[]\s*coded\s+separately", text[mention.end :], re.I))


_CLAIM = re.compile(
    r"\b(?:claim\w*|(?:said|says|stated)\s+(?:it|they)|other\s+sources?|second\s+source|another\s+source"
    r"|some\s+sources?|unconfirmed|uncorroborated|unverified)\b",
    re.IGNORECASE,
)


def _drop_claims(text: str, mentions: list[CasualtyMention]) -> list[CasualtyMention]:
    """A side's claim or a second source's figure counts only where nothing else gives a death toll."""
    claimed = {id(m) for m in mentions if m.killed and _is_claim(text, m)}
    if not claimed or not any(m.killed is not None and id(m) not in claimed for m in mentions):
        return mentions
    kept = []
    for mention in mentions:
        if id(mention) in claimed:
            if mention.injured is None:
                continue
            mention = replace(mention, killed=None)
        kept.append(mention)
    return kept


def _is_claim(text: str, mention: CasualtyMention) -> bool:
    return bool(_CLAIM.search(text, _sentence_start(text, mention.start), mention.end))


# ---------------------------------------------------------------------------------------------------
# Quantities
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuantityMention:
    """A counted thing: "370 combat drones" → ``Quantity(item="drone", count=370)``."""

    start: int
    end: int
    text: str
    quantity: Quantity


# Counted things, singular, with the name each is filed under. People (casualties), money and dates are
# left out on purpose: they have fields of their own or are no count of things.
_ITEM_NAMES = {
    "drone": "drone", "uav": "drone", "missile": "missile", "rocket": "rocket", "shell": "shell",
    "bomb": "bomb", "mortar": "mortar", "grenade": "grenade", "mine": "mine", "landmine": "mine",
    "ied": "IED", "explosive": "explosive", "projectile": "projectile", "munition": "munition",
    "round": "round", "bullet": "bullet", "tank": "tank", "vehicle": "vehicle",
    "car": "car", "truck": "truck", "motorcycle": "motorcycle", "motorbike": "motorcycle", "bus": "bus",
    "aircraft": "aircraft", "helicopter": "helicopter", "jet": "jet", "warplane": "warplane",
    "plane": "plane", "ship": "ship", "boat": "boat", "vessel": "vessel", "submarine": "submarine",
    "airstrike": "airstrike", "air strike": "airstrike", "air raid": "air raid", "strike": "strike",
    "raid": "raid", "attack": "attack", "explosion": "explosion", "blast": "explosion",
    "weapon": "weapon", "gun": "gun", "rifle": "rifle", "firearm": "firearm", "launcher": "launcher",
    "cannon": "cannon", "house": "house", "home": "home", "building": "building", "shop": "shop",
    "school": "school", "hospital": "hospital", "bridge": "bridge", "cow": "cow", "goat": "goat",
    "camel": "camel", "sheep": "sheep", "cattle": "cattle",
}  # fmt: skip
# Things that are more often targets than counted: kept only with a figure ("12 houses").
_PROPERTY_ITEMS = {"house", "home", "building", "shop", "school", "hospital", "bridge"}
_IRREGULAR_PLURALS = {"aircraft": "aircraft", "sheep": "sheep", "cattle": "cattle", "buses": "bus"}
_RUN_STOP = {"and", "or", "of", "in", "on", "at", "were", "was", "are", "is", "by", "from", "to", "with",
             "for", "that", "which", "who", "the", "a", "an", "into", "over", "as", "had", "have", "has",
             "but", "while", "during", "near", "against", "across", "outside", "inside", "behind", "under",
             "after", "before", "between", "through", "towards", "toward", "around", "about", "his", "her",
             "their", "its", "our", "my", "this", "these", "those", "per", "each"}  # fmt: skip
_RUN_WORD = re.compile(r"\s+([A-Za-z0-9][\w'’-]*)")


def find_quantities(text: str, *, base: int = 0) -> list[QuantityMention]:
    """Counted things in ``text``: "370 combat drones and 21 missiles", "dozens of rockets", "three tanks"."""
    mentions = []
    for match, value, approximate in _numbers_in(text):
        if text[max(0, match.start() - 1) : match.start()] in ("$", "€", "£"):
            continue
        found = _item_after(text, match.end())
        if found is None:
            continue
        item, end = found
        if item in _PROPERTY_ITEMS and not re.search(rf"\d|\b(?:{_NUMBER_WORD})\b", match.group(0), re.I):
            continue  # "several hospitals" is a target, not a count worth keeping
        quantity = Quantity(item=item, count=value, approximate=approximate)
        mentions.append(
            QuantityMention(match.start() + base, end + base, text[match.start() : end], quantity)
        )
    return mentions


def _item_after(text: str, position: int) -> tuple[str, int] | None:
    """The counted item named in the few words after a number, and where its name ends.

    The item must end the noun phrase: "two drone operators" counts operators, not drones.
    """
    run = _noun_run(text, position)
    for index in range(len(run)):
        found = _item_at(run, index)
        if found is None:
            continue
        name, last = found
        following = run[last + 1].group(1).lower() if last + 1 < len(run) else ""
        if not following or _is_verb_like(following):
            return name, run[last].end()
    return None


def _noun_run(text: str, position: int) -> list[re.Match[str]]:
    """Up to five words after ``position`` that may belong to one noun phrase ("of" allowed first)."""
    run: list[re.Match[str]] = []
    of = re.match(r"\s+of(?=\s)", text[position:])
    cursor = position + (of.end() if of else 0)
    while len(run) < 5:
        word = _RUN_WORD.match(text, cursor)
        if word is None:
            break
        lower = word.group(1).lower()
        if lower in _RUN_STOP or (lower.endswith("ing") and _singular(lower) not in _ITEM_NAMES):
            break
        run.append(word)
        cursor = word.end()
    return run


def _item_at(run: list[re.Match[str]], index: int) -> tuple[str, int] | None:
    """The item name starting at ``run[index]`` (two words first: "air strikes") and its last index."""
    if index + 1 < len(run):
        pair = _singular(f"{run[index].group(1)} {run[index + 1].group(1)}".lower())
        if pair in _ITEM_NAMES:
            return _ITEM_NAMES[pair], index + 1
    word = _singular(run[index].group(1).lower())
    return (_ITEM_NAMES[word], index) if word in _ITEM_NAMES else None


def _is_verb_like(word: str) -> bool:
    return word.endswith(("ed", "en", "ly")) or word in ("hit", "struck", "fell", "shot", "flew", "came")


def _singular(noun: str) -> str:
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("ches", "shes", "sses", "xes")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith("ss") and len(noun) > 3:
        return noun[:-1]
    return noun


# ---------------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetMention:
    """Something hit, damaged or attacked, named with a short singular phrase ("energy infrastructure")."""

    start: int
    end: int
    text: str
    target: str


# Target nouns that say enough alone: their modifiers are dropped ("children's hospital" → hospital).
_PLAIN_TARGETS = {
    "hospital", "clinic", "school", "kindergarten", "university", "bridge", "airport", "airfield",
    "refinery", "dam", "church", "mosque", "temple", "monastery", "market", "warehouse", "factory",
    "checkpoint", "barracks", "substation", "pipeline", "railway", "port", "harbour", "harbor", "depot",
    "headquarters", "shop", "store", "supermarket", "hotel", "residence", "compound", "embassy", "court",
    "courthouse", "prison", "police station", "power plant", "residential building", "house", "office",
    "camp", "base", "infrastructure", "facility", "building", "plant", "grid", "power line", "home",
    "apartment", "village", "town", "energy infrastructure",
}  # fmt: skip
# Target nouns that keep the modifiers listed in _TARGET_MODIFIERS ("energy facility", "military base").
_MODIFIED_TARGETS = {"infrastructure", "facility", "building", "plant", "station", "grid", "line", "base",
                     "depot", "office", "camp", "block", "complex", "site", "house", "home", "terminal",
                     "installation", "position", "post", "storage", "centre", "center"}  # fmt: skip
_NEEDS_MODIFIER = {"station", "line", "block", "complex", "site", "terminal", "installation", "position",
                   "post", "storage", "centre", "center"}  # fmt: skip
_TARGET_MODIFIERS = {
    "energy", "power", "electricity", "electrical", "electric", "water", "gas", "oil", "fuel", "heating",
    "residential", "apartment", "civilian", "military", "industrial", "critical", "medical", "government",
    "administrative", "agricultural", "railway", "rail", "train", "transport", "police", "army", "air",
    "naval", "nuclear", "thermal", "hydroelectric", "grain", "shopping", "telecommunications",
    "communications", "television", "tv", "radio", "weapons", "ammunition", "arms", "bus", "petrol",
    "storage", "port", "health", "educational", "religious", "commercial", "office", "high-rise",
}  # fmt: skip
_TARGET_FILLERS = {"supply", "several", "multiple", "many", "some", "two", "three", "four", "five", "the",
                   "our", "their", "its", "a", "an", "local", "nearby", "key", "main", "major", "private",
                   "public", "other", "dozens", "large", "big", "small", "new", "old", "city",
                   "regional", "municipal", "state-owned", "multi-storey", "multistorey", "nine-storey",
                   "five-storey", "two-storey"}  # fmt: skip
_TARGET_SYNONYMS = {
    "apartment building": "residential building", "apartment block": "residential building",
    "residential block": "residential building", "high-rise building": "residential building",
    "residential high-rise": "residential building", "apartment": "residential building",
    "power station": "power plant", "electricity station": "power plant", "thermal power station":
    "thermal power plant", "residential house": "house", "home": "house", "residential home": "house",
    "civilian house": "house", "power grid": "power grid", "energy grid": "power grid",
    "electricity grid": "power grid", "electrical grid": "power grid", "energy facility": "energy facility",
    "power facility": "energy facility", "electricity infrastructure": "energy infrastructure",
    "power infrastructure": "energy infrastructure", "electricity substation": "substation",
    "power substation": "substation", "electrical substation": "substation",
    "train station": "railway station",
    "rail station": "railway station", "harbor": "port", "harbour": "port", "oil depot": "fuel depot",
    "petrol station": "gas station", "air base": "air base", "power line": "power line",
}  # fmt: skip
_TARGET_HEADS = sorted(
    {*_PLAIN_TARGETS, *_MODIFIED_TARGETS, "hospitals", "clinics", "schools", "kindergartens", "universities",
     "bridges", "airports", "airfields", "refineries", "dams", "churches", "mosques", "temples",
     "markets", "warehouses", "factories", "checkpoints", "substations", "pipelines", "railways",
     "ports", "depots", "shops", "stores", "supermarkets", "hotels", "residences", "compounds",
     "embassies", "courts", "prisons", "houses", "offices", "camps", "bases", "facilities", "buildings",
     "plants", "grids", "lines", "homes", "apartments", "stations", "blocks", "complexes", "sites",
     "terminals", "installations", "positions", "posts", "centres", "centers"} - {"police station",
     "power plant", "residential building", "power line", "energy infrastructure", "village", "town"},
    key=len,
    reverse=True,
)  # fmt: skip
_TARGET = re.compile(
    r"\b(?P<mods>(?:[A-Za-z][\w'’-]*\s+){0,3}?)\b(?P<head>" + "|".join(_TARGET_HEADS) + r")\b",
    re.IGNORECASE,
)
# A sentence about an attack or damage; targets are read only there.
_DAMAGE = re.compile(
    r"\b(?:hit|hits|struck|strikes?|striking|attack\w*|damag\w*|destroy\w*|target\w*|shell\w*|bomb\w*"
    r"|fired\s+(?:at|on|upon)|set\s+(?:on\s+)?fire|ablaze|burn\w*|torch\w*|loot\w*|raid\w*|blew\s+up"
    r"|blown\s+up|explo\w*|ruin\w*|levell?ed|razed|demolish\w*|collapsed|missiles?|drones?|rockets?"
    r"|airstrikes?|stormed|vandali\w*|sabotag\w*|ransack\w*|pound\w*|hammer\w*)\b",
    re.IGNORECASE,
)


def find_targets(text: str, *, base: int = 0) -> list[TargetMention]:
    """What was hit, in sentences that tell of an attack or damage: "hospitals" → "hospital"."""
    mentions = []
    for sentence in split_sentences(text):
        if not _DAMAGE.search(sentence.text):
            continue
        for match in _TARGET.finditer(sentence.text):
            found = _normalise_target(match)
            if found is None:
                continue
            target, offset = found
            start, end = sentence.start + offset, sentence.start + match.end()
            mentions.append(TargetMention(start + base, end + base, text[start:end], target))
    return mentions


def _normalise_target(match: re.Match[str]) -> tuple[str, int] | None:
    """The short singular name of a target phrase, and the offset where the named words start."""
    head = match.group("head").lower()
    singular = head if head in _PLAIN_TARGETS or head in _MODIFIED_TARGETS else _singular(head)
    if singular not in _PLAIN_TARGETS and singular not in _MODIFIED_TARGETS:
        singular = _singular(singular.split()[-1]) if " " in singular else singular
    modifier_words = match.group("mods").split()
    kept: list[str] = []
    offset = match.start("head")
    # Modifiers read right to left until a word that is neither a kept modifier nor a filler.
    position = match.start("head")
    for word in reversed(modifier_words):
        position = match.string.rfind(word, 0, position)
        lower = word.lower()
        if lower in _TARGET_MODIFIERS:
            kept.insert(0, "residential" if lower == "apartment" and singular == "building" else lower)
            offset = position
        elif lower in _TARGET_FILLERS:
            continue
        else:
            break
    if singular in _PLAIN_TARGETS and singular not in _MODIFIED_TARGETS:
        phrase = singular
    else:
        if singular in _NEEDS_MODIFIER and not kept:
            return None
        phrase = " ".join([*kept[-2:], singular])
    return _TARGET_SYNONYMS.get(phrase, phrase), offset
