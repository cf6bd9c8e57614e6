"""Places named in text, normalised against the gazetteer: "Kiev" -> Kyiv (UA), "Santa Cruz" -> Bolivia's.

:func:`find_places` reads capitalised words, looks the longest runs of them up in the gazetteer, keeps
those that read as places (after "in", before "region", inside parentheses after a town, or well-known
enough to stand alone) and picks among same-named places by, in this order: the country the caller
hints, the countries the text names, a region given in parentheses or after a comma ("Cienega de Flores,
Nuevo Leon"), whether a region or a town is meant, and population.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..models import Location
from .gazetteer import Gazetteer, Place, load_countries, load_gazetteer, normalize
from .text import word_set

if TYPE_CHECKING:
    from .actors import ActorMention

__all__ = ["PlaceMention", "country_code", "country_name", "find_places", "main_country"]


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """A place named in the text: ``body[start:end] == text`` (offsets include ``base``)."""

    start: int
    end: int
    text: str
    location: Location


# --- countries -----------------------------------------------------------------------------------


def country_name(code: str) -> str | None:
    """The common English name of an ISO alpha-2 code: "UA" -> "Ukraine", "CD" -> "Democratic Republic
    of Congo" (as ACLED writes it); ``None`` for an unknown code."""
    return load_countries().names.get(code.upper())


def country_code(name: str) -> str | None:
    """The ISO alpha-2 code of a country name, spelling, abbreviation or demonym: "Ukraine",
    "Ukrainian", "the United States", "U.S.", "Russian Federation" -> "UA", "UA", "US", "US", "RU"."""
    countries = load_countries()
    text = name.strip()
    if len(text) == 2 and text.isupper() and text in countries.names:
        return text
    key = normalize(text)
    if key.startswith("the "):
        key = key[4:]
    return countries.codes.get(key)


def main_country(places: Sequence[PlaceMention], actors: Sequence[ActorMention]) -> str | None:
    """The country a text is mainly about: where its towns and regions are, else the countries it names,
    else the countries of its actors. ISO alpha-2, or ``None`` when nothing points anywhere."""
    votes: defaultdict[str, float] = defaultdict(float)
    weight: float
    seen: set[tuple[str, str]] = set()
    first_town = True
    for mention in places:
        location = mention.location
        if location.name == country_name(location.country):
            # A country named is often only a party ("support for Ukraine"); towns say where.
            weight = _COUNTRY_VOTE
        elif _is_generic(location.name):
            # "East", "Northern", "Sud": many countries have a region so named; it says little.
            weight = _GENERIC_VOTE
        else:
            weight = _REGION_VOTE if location.name == location.admin1 else _TOWN_VOTE
            if first_town:
                weight *= _FIRST_TOWN
                first_town = False
        if (location.name, location.country) in seen:
            weight *= _REPEAT
        seen.add((location.name, location.country))
        votes[location.country] += weight
    if not votes:
        for actor in actors:
            code = country_code(actor.actor.name)
            if code is not None:
                votes[code] += 1.0
    if not votes:
        return None
    return max(votes.items(), key=lambda item: item[1])[0]


# Votes for the main country: a named country, a town, a region (or a town the region is named after),
# the first town named, a place named again.
_COUNTRY_VOTE = 0.5
_TOWN_VOTE = 1.0
_REGION_VOTE = 1.6
_FIRST_TOWN = 1.25
_REPEAT = 0.1
_GENERIC_VOTE = 0.2


def _is_generic(name: str) -> bool:
    """A name made only of compass words ("West", "North-East", "Sud-Ouest", "Northern", "Central")."""
    words = re.split(r"[\s-]+", name.casefold())
    return all(w in _COMPASS or w in _COMPASS_FORMS for w in words if w)


# Adjectival and French/Spanish forms of compass words used as region names.
_COMPASS_FORMS = frozenset(
    {
        "northern",
        "southern",
        "eastern",
        "western",
        "centre",
        "nord",
        "sud",
        "est",
        "ouest",
        "norte",
        "sur",
        "este",
        "oeste",
    }
)


# --- finding places ------------------------------------------------------------------------------

# A word: letters with inner apostrophes ("Sa'dah", "d'Ivoire"); a trailing possessive is cut off.
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")
# What may join the words of one name: a space, a hyphen, or the dot of an abbreviation ("St. ", "U.S").
_JOIN = re.compile(r"[ \t]|[-‐‑]|\.[ \t]?")
_MAX_WORDS = 6
_CHUNK_REACH = 12  # words either side of a name that can still be part of it

# Lower-case words that occur inside place names ("Deir ez-Zor", "Cienega de Flores").
_CONNECTORS = word_set(
    """
    de del la las los el al ad ar as az an ash en ez es da das do dos di du des le les of and y e upon
    on am im sur sous the van der den von zu bin ibn n
    """
)
# Those that join the words of one name; "and" joins two names more often ("Reading and Nice"), and
# "of" a name to a place ("Diagonal Avenue of Barcelona").
_NAME_CONNECTORS = _CONNECTORS - {"and", "y", "e", "the", "of"}
# Days and months follow "on" and "in" far more often than a second part of a place name does.
_CALENDAR_WORDS = word_set(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december
    """
)
# Capitalised words that are not places even where a gazetteer has a village of that name.
_NOT_PLACES = word_set(
    """
    a an the this that these those there here it its he she his her they them their we our us you your i
    my me who what when where which while why how if but and or nor so yet for of on in at by to from
    with as after before during since until following according also however meanwhile then thus several
    some many most more all both each every other another any no not one two three four five monday
    tuesday wednesday thursday friday saturday sunday today yesterday tonight tomorrow january february
    march april may june july august september october november december president prime minister mayor
    governor general colonel captain commander chief head leader king queen prince sheikh emir pope
    senator minister secretary spokesman spokeswoman spokesperson officer mr mrs ms dr sir lord lady
    saint st mount police army military navy government ministry court council parliament party union
    state republic province region city town village district county street road avenue square bridge
    station airport university school hospital church mosque temple market centre center office house
    hall park camp north south east west northern southern eastern western central upper lower new old
    great people protesters demonstrators residents civilians soldiers troops forces militants rebels
    news agency press times post independent telegram twitter facebook youtube reuters christian muslim
    islamic jewish catholic orthodox arab kurdish
    """
)
# Words in a run of capitals that make it a title, a person or an organisation rather than a place.
_TITLES = word_set(
    """
    president prime minister mayor governor general gen colonel col captain capt commander chief king
    queen prince sheikh emir pope senator sen secretary spokesman spokeswoman mr mrs ms dr sir lord lady
    lt sgt ambassador envoy deputy vice chairman director imam
    """
)
_ORGANISATION_WORDS = word_set(
    """
    force forces army party front movement union council committee organization organisation association
    federation agency ministry department court university school college hospital company corporation
    group brigade battalion regiment militia guard guards police news independent times post journal
    network radio tv television bank church mosque league alliance coalition commission authority office
    institute foundation club team square street avenue road station airport market park plaza mall hall
    building tower palace stadium bridge gate prison highway
    """
)
# Words after a name that say it is a town, or a region.
_TOWN_WORDS = word_set(
    """
    city town village township municipality suburb neighborhood neighbourhood settlement commune hamlet
    locality ward area camp sector quarter outskirts countryside barangay
    """
)
_REGION_WORDS = word_set(
    """
    region regions oblast province provinces governorate state department prefecture
    """
)
# Words for lower divisions: after a name they say a place is meant, without saying which kind.
_DIVISION_WORDS = word_set("district county upazila tehsil subdistrict payam lga commune")
_PLACE_NOUNS = _TOWN_WORDS | _REGION_WORDS | _DIVISION_WORDS | word_set("districts areas villages towns")
# Words before a name that say a place follows; "of" only after a word for a place ("city of").
_LOCATIVE = word_set(
    """
    in at near outside from to into towards toward across around throughout within via between inside
    """
)
_PLACE_OF = (
    _TOWN_WORDS
    | _REGION_WORDS
    | word_set(
        """
    outskirts north south east west capital centre center part parts areas vicinity mayor governor
    """
    )
)
_SPEECH = word_set(
    """
    said says told added wrote stated reported announced claimed confirmed
    """
)
_RIVER = word_set("river rivers river's river’s rivers' rivers’")
# "the Kabul and Swat rivers": the first name of a list of rivers (a list of at most 8 names before
# the last: a longer run of commas would be read again for each name in it).
_RIVER_LIST = re.compile(r"(?:\s*,\s*[A-Z][\w'’-]*){0,8},?\s+(?:and|or)\s+[A-Z][\w'’-]*\s+[Rr]ivers\b")
# What comes before a river's name: "the", then perhaps the names listed before it ("the Kabul and ").
_BEFORE_RIVER = re.compile(r"\b[Tt]he\s+(?:[A-Z][\w'’-]*(?:\s*,\s*|\s+(?:and|or)\s+)){0,8}$")
# "the Kherson river port" is the town.
_RIVER_TRADE = re.compile(
    r"\s+[Rr]iver\s+(?:port|ports|ferry|ferries|terminal|bus|buses|taxi|taxis|cruise|cruises)\b"
)
# Nouns after a name that make it a qualifier of people ("Fano militias"), not the place of the event.
_GROUP_NOUNS = word_set(
    """
    militia militias militants militant fighters fighter rebels rebel forces troops members supporters
    gunmen insurgents group groups army clan clans tribe tribesmen
    """
)

# Scores; only their order matters.
_HINTED_COUNTRY = 100.0
_NAMED_COUNTRY = 40.0
_DEMONYM_COUNTRY = 10.0  # "Russian forces shelled X": the forces' country, not necessarily X's
_RESOLVED_COUNTRY = 25.0
_IN_CONTAINER = 200.0
_KIND_WANTED = 80.0
_COUNTRY_NAME = 60.0
_PER_DECADE = 10.0  # per factor of ten in population
_CANONICAL = 15.0
_CANONICAL_AREA = 25.0
_COUNTRY_NAMESAKE = 100.0
_FAMOUS = 1_000_000
_FAMOUS_RATIO = 50
_SMALL_PLACE = 10_000
_SMALL_ALTERNATE = 15.0
_PAIR_OPTIONS = 40  # candidates of each side tried when a town and its region are chosen together
# Populations above which a name is taken as a place with nothing around it saying so.
_ALONE = 1_000
_ALONE_ALTERNATE = 100_000  # known only by another spelling ("Kiev")
_SENTENCE_START = 100_000
_INSIDE_NAME = 500_000  # a part of a longer name ("The Kyiv Independent")
_COMMON_WORD_ALONE = 50_000  # also an English word ("Reading", "Nice")
# German function words that are neither English nor French, the share of a text's words they must
# make up, and how many different ones must occur.
_GERMAN_FUNCTION_WORDS = word_set(
    """
    der das und nicht ist mit von den dem ein eine einer einem einen sich auf für wird sind werden
    wurde auch zum zur im bei nach dass oder aber noch über vom beim sei seit
    """
)
_GERMAN_SHARE = 0.1
_GERMAN_MIN_WORDS = 20
_GERMAN_DISTINCT = 4
_BEFORE_A_YEAR = re.compile(r"\s+(?:19|20)\d\d\b")


@dataclass(slots=True)
class _Word:
    start: int
    end: int
    text: str
    full_end: int  # the end including a possessive "'s" cut off ("St. John's" is a name)

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


@dataclass(slots=True, eq=False)
class _Span:
    """A run of words that names something in the gazetteer, with what the text around it says."""

    first: int  # index of its first word
    last: int  # index of its last word
    start: int
    end: int
    key: str
    candidates: list[Place]
    wants_region: bool = False
    wants_town: bool = False
    wants_district: bool = False
    heads_list: bool = False  # "the regions of Kharkiv, ...": the items that follow are regions too
    cue: bool = False  # the words around it say a place is meant
    inside: _Span | None = None  # the region, town or country it is said to lie in ("X, Nuevo Leon")
    holds: list[_Span] = field(default_factory=list)  # the spans said to lie in it
    chosen: Place | None = None
    names_a_country: bool = False  # a country has exactly this name ("Lebanon", not "West Lebanon")
    biggest_exact: int = 0  # the population of the largest place with exactly this name


def find_places(text: str, *, base: int = 0, country_hint: str | None = None) -> list[PlaceMention]:
    """The places named in ``text``, in order, each resolved to one gazetteer entry.

    ``country_hint`` (ISO alpha-2) favours same-named places in that country; offsets returned are
    ``base`` plus offsets into ``text``.
    """
    gazetteer = load_gazetteer()
    words = _words(text)
    spans = [span for span in _spans(text, words, gazetteer) if _reads_as_place(text, words, span, gazetteer)]
    if _capitalises_nouns(words):
        spans = _without_capitalised_nouns(text, spans)
    _link_containers(text, spans)
    _spread_over_lists(text, spans)
    _resolve(text, spans, country_hint)
    named = set(_named_countries(text, spans)) | ({country_hint.upper()} if country_hint else set())
    sure: dict[str, set[str]] = {}  # country -> the names that place something there beyond doubt
    for span in spans:
        if span.chosen is not None and _sure_of_country(span):
            sure.setdefault(span.chosen.country, set()).add(span.key)
    # "between Montpelier and Barre": the word that makes the first item a place makes the rest so.
    listed: set[int] = set()
    for first, second in itertools.pairwise(spans):
        if (first.cue or id(first) in listed) and _LIST_GAP.fullmatch(text[first.end : second.start]):
            listed.add(id(second))
    return [
        _mention(text, span, base, gazetteer)
        for span in spans
        if _kept(text, span, named, sure, listed=id(span) in listed)
    ]


def _words(text: str) -> list[_Word]:
    words = []
    for match in _WORD.finditer(text):
        end = match.end()
        if _POSSESSIVE.search(match.group()):
            end -= 2
        words.append(_Word(match.start(), end, text[match.start() : end], match.end()))
    return words


def _spans(text: str, words: list[_Word], gazetteer: Gazetteer) -> list[_Span]:
    """Longest runs of words, starting with a capital, that the gazetteer knows."""
    spans: list[_Span] = []
    i = 0
    while i < len(words):
        found = _longest_at(text, words, i, gazetteer) if words[i].capitalised else None
        if found is None:
            i += 1
            continue
        spans.append(found)
        i = found.last + 1
    return spans


def _longest_at(text: str, words: list[_Word], i: int, gazetteer: Gazetteer) -> _Span | None:
    last = i
    while last + 1 < len(words) and last + 1 - i < _MAX_WORDS and _joined(text, words, last):
        last += 1
    for j in range(last, i - 1, -1):
        word = words[j]
        if j > i and not word.capitalised and text[words[j - 1].end : word.start] != "-":
            continue  # a name ends on a capital unless hyphenated ("Ti-n-Agadel")
        start = words[i].start
        # Without a possessive first: "Peru's coast" is Peru, not the Brazilian town of Perus.
        for end in dict.fromkeys((word.end, word.full_end)):
            if end < len(text) and text[end] == "." and "." in text[start:end]:
                end += 1  # "U.S." keeps its last dot
            key = normalize(text[start:end])
            candidates = gazetteer.candidates(key)
            if candidates:
                return _Span(i, j, start, end, key, candidates)
    return None


def _joined(text: str, words: list[_Word], k: int) -> bool:
    """Whether word ``k + 1`` can continue a name that word ``k`` is part of."""
    gap = text[words[k].end : words[k + 1].start]
    if not _JOIN.fullmatch(gap):
        return False
    if gap.startswith(".") and len(words[k].text) > 3:
        return False  # a full stop after a word, not an abbreviation
    following = words[k + 1]
    return following.capitalised or following.text in _CONNECTORS or gap == "-"


# --- does this read as a place? ------------------------------------------------------------------


def _reads_as_place(text: str, words: list[_Word], span: _Span, gazetteer: Gazetteer) -> bool:
    span_words = words[span.first : span.last + 1]
    if _names_a_river(text, span):
        # "swelled the Limpopo river", "on the Niger River": the river, not the region, town or country.
        return False
    if any(place.kind == "country" for place in span.candidates) and span.key in load_countries().codes:
        return True
    if all(word.text.isupper() and len(word.text) > 1 for word in span_words):
        return False  # an acronym
    if _OF_A_NAME.match(text, span.end) and _biggest_town(span) < _SENTENCE_START:
        # The head of a longer name the gazetteer lacks: "the Gulf of Gdańsk". A well-known town is
        # itself still ("Quetta of Balochistan province", "the Moscow of the 1990s").
        return False
    _read_context(text, words, span)
    if len(span_words) == 1 and span.key in _NOT_PLACES:
        # "Central" or "Western" is a region only where a list of places closes on it: "(Kampala, Central)".
        return span.wants_region and _in_parenthesised_names(text, span)
    chunk_first, chunk_last = _chunk(text, words, span)
    chunk_words = [word.text.lower().rstrip(".") for word in words[chunk_first : chunk_last + 1]]
    extra = chunk_words[: span.first - chunk_first] + chunk_words[span.last + 1 - chunk_first :]
    if set(chunk_words) & _TITLES:
        return False  # "President Vladimir Putin"
    if extra and not all(word in _REGION_WORDS | _TOWN_WORDS | _DIVISION_WORDS | _COMPASS for word in extra):
        # A part of a longer name: "Kone" in "Kone Chan", "Kyiv" in "The Kyiv Independent".
        if set(extra) & _ORGANISATION_WORDS:
            return False
        return _biggest_town(span) >= _INSIDE_NAME
    canonical = _biggest(span, canonical_only=True)
    known = _known(span)
    has_region = any(place.kind == "admin1" for place in span.candidates)
    if len(span_words) == 1 and span.key in gazetteer.openers and canonical < _SENTENCE_START:
        return False  # "Al", "San", "Abu": the first word of a name, not a name
    if _followed_by(text, span, _SPEECH | _GROUP_NOUNS) and known < _INSIDE_NAME:
        return False  # "Terekhov said", "Fano militias"
    if len(span_words) == 1 and canonical < _SENTENCE_START and _qualifies_plural(words, span):
        return False  # "Grad missiles", "Molotov cocktails"
    weak_cue = not span.cue or text[max(0, span.start - 1) : span.start] == "("
    if len(span_words) == 1 and span.key in gazetteer.common_words and weak_cue and not span.holds:
        return _ordinary_word_as_place(text, span)
    if span.cue:
        return True
    if all(place.kind == "admin2" for place in span.candidates):
        return False  # a district's name alone is as often a person's or a word
    if _starts_sentence(text, span.start):
        return known >= _SENTENCE_START
    if canonical < _ALONE and not has_region:
        # Known only by another spelling: only well-known places ("Kiev") stand alone.
        return _biggest(span, canonical_only=False) >= _ALONE_ALTERNATE
    return True


def _capitalises_nouns(words: list[_Word]) -> bool:
    """Whether the text is German, where every noun starts with a capital: its own function words are
    at least a tenth of its words, and several different ones (a name such as "von der Leyen" brings
    two; in English text they hardly occur otherwise)."""
    if len(words) < _GERMAN_MIN_WORDS:
        return False
    hits = [word.text for word in words if word.text in _GERMAN_FUNCTION_WORDS]
    return len(hits) >= _GERMAN_SHARE * len(words) and len(set(hits)) >= _GERMAN_DISTINCT


def _without_capitalised_nouns(text: str, spans: list[_Span]) -> list[_Span]:
    """In German text a capital does not mark a name ("bis Ende 2027" is not the town of Ende): a
    single word with no cue stays a place only if it is a country or well known, or if the text also
    names it where a cue says a place is meant ("im bayerischen Schweinfurt", then "in Schweinfurt").
    A cue does not save a word known only as another spelling of a small place: "in Höhe von" (to the
    amount of) is not a Polish village once called Höhe. A word before a year is a time, not a place
    ("bis Mitte 2027", though Mitte is a district of Berlin)."""
    cued = {span.key for span in spans if span.cue and _biggest(span, canonical_only=True)}
    return [
        span
        for span in spans
        if span.first != span.last
        or any(place.kind == "country" for place in span.candidates)
        or (
            (_known(span) >= _SENTENCE_START or span.key in cued) and not _BEFORE_A_YEAR.match(text, span.end)
        )
    ]


def _known(span: _Span) -> int:
    """How well known the span's name is: the population of the largest place of exactly this name, or
    of one it is another spelling of, counted at most as a well-known place ("Kiev", "Pilsen")."""
    canonical = _biggest(span, canonical_only=True)
    return max(canonical, min(_biggest(span, canonical_only=False), _ALONE_ALTERNATE))


def _ordinary_word_as_place(text: str, span: _Span) -> bool:
    """Whether "Hill", "Change", "Coast" name a place with no cue around: only a region said to hold
    the place before it, or a sizeable town (a region's summed population does not count)."""
    if span.wants_region:
        return True
    town = max(
        (
            place.population
            for place in span.candidates
            if place.kind == "city" and normalize(place.name) == span.key
        ),
        default=0,
    )
    return town >= _COMMON_WORD_ALONE and not _starts_sentence(text, span.start)


def _names_a_river(text: str, span: _Span) -> bool:
    """Whether the span names a river: "the" before it, "river" after it or a list ending in "rivers"
    ("the Limpopo river", "the Kabul and Swat rivers"). Without "the" the name is often the place
    ("China river flood", "crashed into Sydney river")."""
    if _RIVER_TRADE.match(text, span.end):
        return False
    river = _followed_by(text, span, _RIVER) or _RIVER_LIST.match(text, span.end, span.end + 300) is not None
    return river and _BEFORE_RIVER.search(text[max(0, span.start - 300) : span.start]) is not None


def _qualifies_plural(words: list[_Word], span: _Span) -> bool:
    """Whether a name stands before a plural noun, as a qualifier ("Grad missiles", "Fano militias")."""
    if span.last + 1 >= len(words):
        return False
    following = words[span.last + 1]
    if following.start - words[span.last].full_end != 1 or following.capitalised:
        return False
    noun = following.text
    return len(noun) > 3 and noun.endswith("s") and noun not in _PLACE_NOUNS


def _biggest_town(span: _Span) -> int:
    """The largest population of a town or country the span may name (a region's summed population
    says nothing about how well known its name is)."""
    return max(
        (place.population for place in span.candidates if place.kind in ("city", "country")), default=0
    )


def _biggest(span: _Span, *, canonical_only: bool) -> int:
    """The largest population among the candidates (those whose own name is the span, if asked)."""
    sizes = [
        max(place.population, _ALONE if place.kind == "admin1" else 0)
        for place in span.candidates
        if not canonical_only or normalize(place.name) == span.key
    ]
    return max(sizes, default=0)


def _read_context(text: str, words: list[_Word], span: _Span) -> None:
    before = [word.text.lower() for word in words[max(0, span.first - 3) : span.first]]
    after = _word_after(text, words, span)
    if after in _REGION_WORDS:
        span.wants_region = True
    elif after in _TOWN_WORDS:
        span.wants_town = True
    span.wants_district = after in _DIVISION_WORDS
    previous = before[-1] if before else ""
    if previous == "the" and len(before) >= 2:
        before = before[:-1]
        previous = before[-1]
    if previous == "of" and len(before) >= 2 and before[-2] in _REGION_WORDS:
        span.wants_region = span.heads_list = True
    near_before = text[max(0, span.start - 1) : span.start]
    has_region = any(place.kind == "admin1" for place in span.candidates)
    if has_region and (
        _after_unknown_name(text, words, span) or _parenthesised_after_name(text, words, span)
    ):
        # "Verkhnokamianske, Donetsk", "El Cadillal (Tucuman)": a place, then the region it lies in.
        span.wants_region = True
    span.cue = (
        span.wants_region
        or span.wants_town
        or span.wants_district
        or (previous in _LOCATIVE and near_before == " ")
        or (previous == "of" and len(before) >= 2 and before[-2] in _PLACE_OF)
        or near_before == "("
        or _in_parenthesised_names(text, span)
    )


def _after_unknown_name(text: str, words: list[_Word], span: _Span) -> bool:
    """Whether a span follows "Name, " or "Name district, " (the name not being a place we know)."""
    if span.first == 0 or text[words[span.first - 1].full_end : span.start] != ", ":
        return False
    previous = words[span.first - 1]
    if previous.text.lower() in _DIVISION_WORDS | _TOWN_WORDS and span.first >= 2:
        previous = words[span.first - 2]
    return previous.capitalised and not _starts_sentence(text, previous.start)


# Only names, commas and words for divisions between "(" and the span: "(Kilbati-Zone 2, Afar)",
# "(Kitaf wa Al Boqee, Sadah)". The word is possessive (``*+``): otherwise each capital or digit
# inside it could start another word, and a failing match tried every split of a run of capitals,
# twice as long for each letter (minutes for one all-capitals article).
_NAMES_ONLY = re.compile(
    r"(?:(?:[A-Z0-9][\w'’.-]*+|(?:wa|al|el|de|del|la|du|des|di|da|do|dos|an|ad|ar|as|az|ash|of|and)\b)"
    r"(?:\s+(?:district|township|county|state|region|province|municipality|locality|sub-county|town|city))?"
    r"[\s,-]*)*"
)


def _in_parenthesised_names(text: str, span: _Span) -> bool:
    """Whether a span is an item of a parenthesised list of names: "(Markoye, Oudalan)"."""
    opening = text.rfind("(", 0, span.start)
    closing = text.find(")", span.end)
    return (
        opening >= 0
        and closing >= 0
        and bool(_NAMES_ONLY.fullmatch(text[opening + 1 : span.start]))
        and bool(_NAMES_ONLY.fullmatch(text[span.end : closing]))
    )


def _parenthesised_after_name(text: str, words: list[_Word], span: _Span) -> bool:
    """Whether a span opens a parenthesis right after a capitalised name ("Berahle (... Afar)")."""
    opening = text.rfind("(", 0, span.start)
    if opening < 0 or span.first == 0 or not _NAMES_ONLY.fullmatch(text[opening + 1 : span.start]):
        return False
    before = [word for word in words[: span.first] if word.end <= opening]
    if before and before[-1].text.lower() in _PLACE_NOUNS and len(before) >= 2:
        before = before[:-1]  # "Bulambuli district (Eastern)"
    if not before or not before[-1].capitalised:
        return False
    between = text[before[-1].full_end : opening].split()
    return not between or (len(between) == 1 and between[0].lower() in _PLACE_NOUNS)


def _word_after(text: str, words: list[_Word], span: _Span) -> str:
    """The word right after a span, skipping a hyphenated compass point ("Shan-North state")."""
    k = span.last + 1
    if k < len(words) and text[span.end : words[k].start] == "-" and words[k].text.lower() in _COMPASS:
        k += 1
    if k < len(words) and _JOIN.fullmatch(text[words[k - 1].end : words[k].start]):
        return words[k].text.lower()
    return ""


_COMPASS = word_set(
    """
    north south east west central upper lower northeast northwest southeast southwest
    """
)


def _followed_by(text: str, span: _Span, nouns: frozenset[str]) -> bool:
    following = text[span.end : span.end + 16].split()
    return bool(following) and following[0].strip(",.;:").lower() in nouns


def _chunk(text: str, words: list[_Word], span: _Span) -> tuple[int, int]:
    """The run of capitalised words (and connectors) around a span: the whole name it is part of.

    At most ``_CHUNK_REACH`` words on either side: no name is longer, and a text that is one run
    of capitalised words would otherwise be read whole for each span in it."""
    first, last = span.first, span.last
    while first > max(0, span.first - _CHUNK_REACH) and _continues(text, words, first - 1):
        if _starts_sentence(text, words[first - 1].start) and words[first - 1].text.lower() in _NOT_PLACES:
            break  # "The" or "In" opening the sentence is not part of the name
        first -= 1
    while last + 1 < min(len(words), span.last + 1 + _CHUNK_REACH) and _continues(text, words, last):
        last += 1
    return first, last


def _continues(text: str, words: list[_Word], k: int) -> bool:
    """Whether words ``k`` and ``k + 1`` belong to one capitalised name ("Lanao del Sur", "Zur Maghar")."""
    gap = text[words[k].end : words[k + 1].start]
    if gap not in (" ", "-"):
        return False
    left, right = words[k], words[k + 1]
    if left.capitalised and right.capitalised:
        return True
    # A connector counts when a capital follows it: "del" in "Mineral del Chico"; but "Cusco on Monday"
    # is a place and a day, not one name.
    if right.text in _NAME_CONNECTORS and k + 2 < len(words) and words[k + 2].capitalised:
        if words[k + 2].text.lower() in _CALENDAR_WORDS:
            return False
        return text[right.end : words[k + 2].start] in (" ", "-")
    return left.text in _NAME_CONNECTORS and right.capitalised and k > 0 and words[k - 1].capitalised


def _starts_sentence(text: str, start: int) -> bool:
    # Walks back over spaces, quotes and brackets only: copying the text before (as rstrip would)
    # made this grow with the length of the text, and it is called for most capitalised words.
    i = start - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    return i < 0 or text[i] in ".!?:\n;"


_OPENERS = frozenset(" \t\"'“‘(")


# --- where a place is said to lie ----------------------------------------------------------------


def _link_containers(text: str, spans: list[_Span]) -> None:
    """Mark "A, B" and "A (C, B)": B is the region (or town, or country) that A lies in."""
    for number, span in enumerate(spans[:-1]):
        following = spans[number + 1]
        gap = text[span.end : following.start]
        if _COMMA_GAP.fullmatch(gap):
            # "the regions of Kharkiv, Sumy and Chernihiv" is a list, not a town in a region.
            if _in_list(text, spans, number) or not _may_contain(following, span):
                continue
            _contain(following, span)
            following.cue = True
            if any(place.kind == "admin1" for place in following.candidates):
                following.wants_region = True
        elif _PAREN_GAP.fullmatch(gap):
            inner = _parenthesised(text, spans[number + 1 :])
            for item in inner:
                item.cue = True
            if inner:
                _contain(inner[-1], span)
                inner[-1].wants_region = any(place.kind == "admin1" for place in inner[-1].candidates)
                # "(Al Quds, West Bank)": each item lies in the region that closes the list, and one
                # that cannot is a namesake elsewhere.
                if inner[-1].wants_region:
                    for item in inner[:-1]:
                        if item.inside is None:
                            _contain(inner[-1], item)


# "A (B)", "A town (B)", "Lahore - Sabzazar city (B)": B is what A lies in.
_PAREN_GAP = re.compile(
    r"\s*(?:-\s*[A-Z][\w'’]*(?:\s+[A-Z][\w'’]*){0,3}\s*)?"
    r"(?:(?:city|town|village|township|district|area|municipality)\s*)?\(\s*"
)
# "A, B" or "A district, B": B may be what A lies in.
_COMMA_GAP = re.compile(
    r"(?:\s+(?:city|town|village|township|district|county|municipality|area|province|region|state))?,\s*"
)


def _spread_over_lists(text: str, spans: list[_Span]) -> None:
    """ "The regions of Kharkiv, Sumy and Chernihiv": what the list's first item is, the others are."""
    for first, second in itertools.pairwise(spans):
        if first.heads_list and second.inside is None and first.inside is None:
            gap = text[first.end : second.start]
            if _LIST_GAP.fullmatch(gap) and any(place.kind == "admin1" for place in second.candidates):
                second.wants_region = second.heads_list = second.cue = True


_LIST_GAP = re.compile(r",\s*|,?\s+(?:and|or)\s+")


def _contain(container: _Span, span: _Span) -> None:
    span.inside = container
    container.holds.append(span)


def _in_list(text: str, spans: list[_Span], number: int) -> bool:
    """Whether spans ``number`` and ``number + 1`` are items of a list ("Kharkiv, Sumy and Chernihiv")."""
    if spans[number].heads_list:
        return True
    if number + 2 < len(spans):
        gap = text[spans[number + 1].end : spans[number + 2].start]
        return bool(re.fullmatch(r",?\s+(?:and|or)\s+", gap))
    return False


def _may_contain(container: _Span, span: _Span) -> bool:
    return any(_lies_in(place, outer) for outer in container.candidates for place in span.candidates)


def _lies_in(place: Place, outer: Place) -> bool:
    if outer.kind == "country" or place.kind == "country":
        return place.country == outer.country and place.kind != "country"
    # A town as container ("Merida (Badajoz)") stands for the region both lie in; "Bridgetown,
    # Bridgetown" names a town and the district named after it.
    return (place.country, place.admin1_code) == (outer.country, outer.admin1_code)


def _parenthesised(text: str, spans: list[_Span]) -> list[_Span]:
    """The spans inside the parenthesis that opens before ``spans[0]``, in order."""
    close = text.find(")", spans[0].start)
    if close < 0:
        return []
    return [span for span in spans if span.end <= close]


# --- choosing among same-named places ------------------------------------------------------------


def _resolve(text: str, spans: list[_Span], country_hint: str | None) -> None:
    for span in spans:
        exact = [p for p in span.candidates if normalize(p.name) == span.key]
        span.names_a_country = any(p.kind == "country" for p in exact)
        span.biggest_exact = max((p.population for p in exact), default=0)
    named = _named_countries(text, spans)
    hint = country_hint.upper() if country_hint else None
    # Two rounds: places that are plain in the first round tell the country for the others.
    resolved: Counter[str] = Counter()
    regions: dict[tuple[str, str], set[str]] = {}  # (country, region code) -> names placed there
    for round_number in range(2):

        def score(place: Place, span: _Span) -> float:
            return _score(place, span, hint, named, resolved, regions)

        for span in spans:
            span.chosen = max(span.candidates, key=functools.partial(score, span=span))
        # A town and the region it is said to lie in are chosen together; chains ("A, B, C") from the
        # outside in, so that each container is settled before what it holds.
        settled: set[int] = set()
        for span in reversed(spans):
            if span.inside is not None:
                _choose_pair(span, span.inside, score, fixed=id(span.inside) in settled)
                settled.add(id(span))
                settled.add(id(span.inside))
        if round_number == 0:
            for span in spans:
                assert span.chosen is not None
                if _sure_of_country(span):
                    resolved[span.chosen.country] += 1
                # A region is placed by names only one country has ("Cartersville"): a big town chosen
                # for the text's country ("London" in a report on Canada) says nothing of its region.
                if _one_country(span) and span.chosen.admin1_code:
                    regions.setdefault((span.chosen.country, span.chosen.admin1_code), set()).add(span.key)


def _choose_pair(inner: _Span, outer: _Span, score: Callable[[Place, _Span], float], *, fixed: bool) -> None:
    def best(span: _Span) -> list[tuple[float, Place]]:
        ranked = sorted(((score(place, span), place) for place in span.candidates), key=lambda item: -item[0])
        return ranked[:_PAIR_OPTIONS]

    outer_options = [(score(outer.chosen, outer), outer.chosen)] if fixed and outer.chosen else best(outer)
    pairs = (
        (inner_score + outer_score + (_IN_CONTAINER if _lies_in(place, container) else 0.0), place, container)
        for inner_score, place in best(inner)
        for outer_score, container in outer_options
    )
    _, inner.chosen, outer.chosen = max(pairs, key=lambda item: item[0])


def _named_countries(text: str, spans: list[_Span]) -> dict[str, float]:
    """Bonus per country for the countries the text names, and more weakly, those its demonyms name."""
    countries = load_countries()
    named: dict[str, float] = {}
    for word in _WORD.findall(text):
        code = countries.demonyms.get(normalize(word))
        if code is not None and word[:1].isupper():
            named[code] = _DEMONYM_COUNTRY
    for span in spans:
        code = countries.codes.get(span.key)
        is_country = any(place.kind == "country" for place in span.candidates)
        if code is not None and is_country and not span.wants_region and span.inside is None:
            named[code] = _NAMED_COUNTRY
    return named


def _score(
    place: Place,
    span: _Span,
    hint: str | None,
    named: dict[str, float],
    resolved: Counter[str],
    regions: dict[tuple[str, str], set[str]],
) -> float:
    score = _PER_DECADE * math.log10(place.population + 1)
    if place.country == hint:
        score += _HINTED_COUNTRY
    score += named.get(place.country, 0.0)
    if resolved[place.country]:
        score += _RESOLVED_COUNTRY
    if place.kind == "country":
        score += _COUNTRY_NAME
    elif place.kind == "admin1" and span.wants_region:
        score += _KIND_WANTED
    elif place.kind == "admin2" and (span.wants_district or span.wants_region):
        # "Saptari district"; a province is a district in some countries ("Houet province").
        score += _KIND_WANTED if span.wants_district else _KIND_WANTED * 3 / 4
    elif place.kind == "city" and not span.wants_region:
        score += _KIND_WANTED / 4  # a bare name is a town more often than the region named after it
        if (
            span.inside is None
            and _famous_namesake(place, span)
            and place.country != hint
            and not regions.get((place.country, place.admin1_code), set()) - {span.key}
        ):
            # "Lebanon" is the country, not one of the American towns named after it, even in a text
            # that names the United States; likewise London, Paris or Scotland and their far smaller
            # namesakes. The town stays where the text says so: a region after it ("Lebanon,
            # Pennsylvania"), another place of its region ("Rome and Cartersville in Georgia"), or
            # the caller's country hint.
            score -= _COUNTRY_NAMESAKE
    if normalize(place.name) == span.key:
        # A region or country called exactly that beats a town that has it only as another spelling
        # ("Duhok" the governorate, not Dihok the city).
        score += _CANONICAL if place.kind == "city" else _CANONICAL_AREA
    elif place.population < _SMALL_PLACE:
        score -= _SMALL_ALTERNATE  # villages' other spellings are often another place's name

    return score


_BEFORE_A_NAME = re.compile(r", ([A-Z][\w'’-]*)")


def _before_a_name(text: str, end: int) -> bool:
    """Whether a name follows ``end`` after a comma, not a people's adjective ("Libyan")."""
    after = _BEFORE_A_NAME.match(text, end)
    return after is not None and normalize(after.group(1)) not in load_countries().demonyms


# Verbs whose object is a place in news of conflict, disaster and travel: "shelled Ocheretyne". Not
# the bare forms that are also nouns ("storm Daniel", "strikes", "floods").
_AFTER_A_PLACE_VERB = re.compile(
    r"\b(?:shell(?:ed|ing|s)|attack(?:ed|ing|s)|struck|striking|hit|hitting|storm(?:ed|ing)|raid(?:ed|ing)"
    r"|bomb(?:ed|ing)|bombard(?:ed|ing)|captur(?:ed|ing)|seiz(?:ed|ing)|enter(?:ed|ing)|liberated|besieged"
    r"|encircled|surrounded|evacuated|visit(?:ed|ing)|reach(?:ed|ing)|flooded|target(?:ed|ing)|overran"
    r"|took|retook|recaptured|toward|towards)\s+$",
    re.IGNORECASE,
)
_OF_A_NAME = re.compile(r" of [A-Z]")


def _sure_of_country(span: _Span) -> bool:
    """Whether a resolved span's country is beyond doubt: its name is only that country's, or it is a
    town of 100,000 or more."""
    return span.chosen is not None and (_one_country(span) or span.chosen.population >= 100_000)


def _one_country(span: _Span) -> bool:
    """Whether every place the span may name lies in one country."""
    return len({place.country for place in span.candidates}) == 1


def _famous_namesake(town: Place, span: _Span) -> bool:
    """Whether a town is a namesake of a country called exactly as written, or a far smaller one of
    a place of a million or more called so (or has the name only as another spelling: Parys)."""
    if span.names_a_country:
        return True
    if span.biggest_exact < _FAMOUS:
        return False
    return normalize(town.name) != span.key or town.population * _FAMOUS_RATIO < span.biggest_exact


def _kept(
    text: str, span: _Span, named: set[str], sure: dict[str, set[str]], *, listed: bool = False
) -> bool:
    """Whether a resolved span stays a place.

    A place said to lie in a region it does not lie in is a namesake of one the gazetteer lacks. A
    village named with no word around it saying a place is meant, in a country that the text neither
    names (``named``: countries, demonyms, the hint) nor places anything else in (``sure``: other
    names than this one), is a word that happens to be a village's name: "the southern Baltic
    coast" (Baltic, Connecticut, in a report on Poland), "the vaccine alliance Gavi" (Gavi,
    Piedmont). What places it: a name after it and a comma, even one the gazetteer lacks
    ("Malynivka, Zaporizhia"), unless that is a people's adjective ("storm Daniel, Libyan officials
    said"); a verb that acts on places before it ("shelled Ocheretyne"); or being ``listed`` after a
    place that has such a word ("between Montpelier and Barre").
    """
    place = span.chosen
    if place is None:
        return False
    if (
        not span.cue
        and not listed
        and span.inside is None
        and place.kind == "city"
        and place.population < _SMALL_PLACE
        and not _before_a_name(text, span.end)
        and not _AFTER_A_PLACE_VERB.search(text, max(0, span.start - 24), span.start)
        and place.country not in named
        and not sure.get(place.country, set()) - {span.key}
    ):
        return False
    if span.inside is None or span.inside.chosen is None:
        return True
    return _lies_in(place, span.inside.chosen) or place.kind == "country"


def _mention(text: str, span: _Span, base: int, gazetteer: Gazetteer) -> PlaceMention:
    place = span.chosen
    assert place is not None
    region = gazetteer.region_of(place)
    location = Location(
        name=place.name,
        mention=text[span.start : span.end],
        country=place.country,
        admin1=None if region is None else region.name,
        lat=place.lat,
        lon=place.lon,
        geonameid=place.geonameid,
    )
    return PlaceMention(base + span.start, base + span.end, text[span.start : span.end], location)
