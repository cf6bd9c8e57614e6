"""Who takes part in what the text reports: states and their forces, officials, groups, with a role.

:func:`find_actors` reads each sentence for

- states, by name or demonym, and what stands for them: "Russia", "Russian forces", "the Ukrainian air
  force", "Ukrainian President Volodymyr Zelensky" (and later "Zelensky"), "the Russians";
- groups named by a common noun: "police", "the military", "protesters", "gunmen", "civilians";
- organisations: well-known armed groups ("Hamas", "Abu Sayyaf"), names ending in an organisation word
  ("People's Defense Force"), acronyms standing for a group ("JNIM militants");

and gives each a role from the words around it: ``initiator`` (subject of an attack, "Russia's strikes",
"attacked by X"), ``target`` / ``victim`` (object of an attack; people killed or injured), ``mediator``
("mediated by the United States"), ``source`` ("X said", "according to X"), else ``participant``.
Canonical state names are the short common names of :func:`~newsindex.events.places.country_name`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..models import Actor, ActorRole
from .gazetteer import load_countries, normalize
from .places import country_name
from .text import split_sentences, word_set

__all__ = ["ActorMention", "find_actors"]


@dataclass(frozen=True, slots=True)
class ActorMention:
    """An actor named in the text: ``body[start:end] == text`` (offsets include ``base``)."""

    start: int
    end: int
    text: str
    actor: Actor


# --- vocabularies --------------------------------------------------------------------------------

# What a demonym can qualify to name a state's agent: "Russian forces", "the Ukrainian air force".
_STATE_AGENTS = word_set(
    """
    forces force troops army military navy soldiers officials authorities government president minister
    ministry representatives delegation delegations diplomats police officers side leader leaders agency
    media broadcaster guard guards units unit warplanes jets aircraft artillery regime
    """
)
# Attack nouns after a demonym or a possessive make the state the attacker: "Russian strikes".
_ATTACK_NOUNS = word_set(
    """
    attack attacks strike strikes airstrike airstrikes shelling shellings bombardment bombing bombings
    offensive invasion war assault raid raids missile missiles drone drones rocket rockets
    """
)
# People a demonym can qualify: "Ukrainian citizens", "Cuban migrants".
_PEOPLE = word_set(
    """
    citizens nationals people civilians residents refugees migrants immigrants workers students
    journalists activists protesters demonstrators fishermen farmers
    """
)
_TITLES = (
    r"(?:President|Prime\s+Minister|(?:Foreign|Defen[cs]e|Interior)\s+Minister|Minister|Chancellor|"
    r"Governor|Mayor|General|Gen\.|Commander|Ambassador|Envoy|Spokesman|Spokeswoman|Senator|King|"
    r"Queen|Prince|Sheikh|Emir|Secretary(?:\s+of\s+State)?|Premier)"
)
_NAME = r"[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,2}"
# Groups named by a common noun, and the name each stands for.
_GROUPS = {
    "police": "Police",
    "police forces": "Police",
    "police officers": "Police",
    "policemen": "Police",
    "military": "Military",
    "army": "Military",
    "troops": "Military",
    "soldiers": "Military",
    "armed forces": "Military",
    "military forces": "Military",
    "security forces": "Security forces",
    "protesters": "Protesters",
    "protestors": "Protesters",
    "demonstrators": "Protesters",
    "rioters": "Rioters",
    "militants": "Militants",
    "insurgents": "Militants",
    "jihadists": "Militants",
    "rebels": "Rebels",
    "gunmen": "Gunmen",
    "armed men": "Gunmen",
    "civilians": "Civilians",
    "residents": "Civilians",
    "villagers": "Civilians",
    "government": "Government",
    "authorities": "Government",
    "settlers": "Settlers",
}
_GROUP_PATTERN = re.compile(
    r"\b(?:" + "|".join(sorted((re.escape(key) for key in _GROUPS), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
# Well-known armed groups and movements that no general rule finds (their names hold no organisation
# word); spellings as news writes them.
_KNOWN_GROUPS = {
    "hamas": "Hamas",
    "hezbollah": "Hezbollah",
    "hizbollah": "Hezbollah",
    "taliban": "Taliban",
    "islamic state": "Islamic State",
    "isis": "Islamic State",
    "isil": "Islamic State",
    "daesh": "Islamic State",
    "al shabaab": "Al Shabaab",
    "al-shabaab": "Al Shabaab",
    "boko haram": "Boko Haram",
    "abu sayyaf": "Abu Sayyaf",
    "houthis": "Houthis",
    "houthi": "Houthis",
    "al qaeda": "Al Qaeda",
    "al-qaeda": "Al Qaeda",
    "wagner": "Wagner Group",
}
_KNOWN_PATTERN = re.compile(
    r"\b(?:the\s+)?("
    + "|".join(sorted((re.escape(key) for key in _KNOWN_GROUPS), key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
# Last words of an organisation's name: "People's Defense Force", "Ministry of Defense".
_ORGANISATION_HEADS = (
    r"(?:Force|Forces|Army|Party|Front|Movement|Union|Council|Committee|Organi[sz]ation|Association|"
    r"Federation|Brigade|Brigades|Battalion|Militia|Guard|Alliance|Coalition|Group|Agency|Service|"
    r"Ministry(?:\s+of\s+[A-Z]\w+(?:\s+[A-Z]\w+)?)?|Police|Commission)"
)
_ORGANISATION = re.compile(
    r"\b(?:[A-Z][\w'’-]*\s+){1,5}" + _ORGANISATION_HEADS + r"\b(?:\s+\(([A-Z][A-Z0-9-]{1,9})\))?"
)
# An acronym standing for a group: "JNIM militants", "the NPA".
_ACRONYM_GROUP = re.compile(
    r"\b([A-Z][A-Z0-9-]{1,7})\s+(?:militants|fighters|rebels|forces|members|supporters|troops|"
    r"militia|militiamen|insurgents)\b"
)

_ATTACK_VERBS = re.compile(
    r"\b(?:attack(?:s|ed|ing)?|strik(?:e|es|ing)|struck|shell(?:s|ed|ing)?|bomb(?:s|ed|ing)?|"
    r"fir(?:e|es|ed|ing)|launch(?:es|ed|ing)?|hit(?:s|ting)?|kill(?:s|ed|ing)?|"
    r"shot|shoot(?:s|ing)?|target(?:s|ed|ing)?|raid(?:s|ed|ing)?|invad(?:e|es|ed|ing)|"
    r"ambush(?:es|ed|ing)?|assault(?:s|ed|ing)?|abduct(?:s|ed|ing)?|kidnap(?:s|ped|ping)?|"
    r"arrest(?:s|ed|ing)?|detain(?:s|ed|ing)?|beat(?:s|en|ing)?|torch(?:es|ed|ing)?|"
    r"destroy(?:s|ed|ing)?|seiz(?:e|es|ed|ing)|captur(?:e|es|ed|ing)|storm(?:s|ed|ing)?|"
    r"bombard(?:s|ed|ing)?|pound(?:s|ed|ing)?|demolish(?:es|ed|ing)?|disperse[ds]?|repel(?:s|led)?)\b",
    re.IGNORECASE,
)
_HARM = re.compile(r"\b(?:killed|injured|wounded|hurt|dead|died|abducted|kidnapped|arrested|detained)\b")
_PASSIVE = re.compile(r"\b(?:was|were|been|being|be|is|are|got)\s+(?:\w+ly\s+)?$", re.IGNORECASE)
_SPEECH_AFTER = re.compile(
    r"^[\s,]*(?:(?:and|or)\s+(?:[\w'’-]+\s+){1,6}?)?(?:\w+\s+){0,2}?(?:said|says|told|reported|announced|claimed|stated|added|wrote|confirmed|"
    r"denied|cited|warned|accused|insisted)\b"
)
_SPEECH_BEFORE = re.compile(
    r"\b(?:said|says|told|wrote|added|according\s+to|cited\s+by|reported\s+by)\s+(?:the\s+)?$", re.IGNORECASE
)
_MEDIATION_BEFORE = re.compile(r"\b(?:mediated|brokered|hosted|facilitated|chaired)\s+by\s+(?:the\s+)?$")
_MEDIATION_AFTER = re.compile(r"^\s+(?:mediated|brokered|hosted|facilitated)\b")
_AGENT_BEFORE = re.compile(r"\bby\s+(?:the\s+)?(?:\w+\s+)?$")
_TARGET_BEFORE = re.compile(r"\b(?:on|against|at|targeting|toward|towards)\s+(?:the\s+)?(?:\w+\s+)?$")
# Words before a country's name that make it a place here, not an actor: "in Ukraine", "border with".
_LOCATIVE_BEFORE = re.compile(
    r"\b(?:in|near|to|from|into|across|inside|within|throughout|via|towards?|border\s+with|"
    r"(?:city|region|capital|north|south|east|west|parts?)\s+of)\s+(?:the\s+)?"
    r"(?:(?:north|south|east|west)(?:ern)?\s+|central\s+)?$",
    re.IGNORECASE,
)
_SUBJECT_WINDOW = 8  # words after a subject within which its verb is looked for
_CLAUSE_BREAK = re.compile(r"[;:]|,\s+(?:but|while|as|after|when|which|who)\b|\b(?:as|while|after|when)\s")


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    name: str
    group: bool = False  # a common-noun group ("civilians"), which may be a victim


# --- finding actors ------------------------------------------------------------------------------


def find_actors(text: str, *, base: int = 0) -> list[ActorMention]:
    """The actors named in ``text`` with their roles, in order; offsets are ``base`` plus offsets
    into ``text``."""
    people = _titled_people(text)
    mentions: list[ActorMention] = []
    for sentence in split_sentences(text):
        for found in _in_sentence(sentence.text, people):
            role = _role(sentence.text, found)
            start, end = sentence.start + found.start, sentence.start + found.end
            mention = text[start:end]
            actor = Actor(name=found.name, role=role, mention=mention)
            mentions.append(ActorMention(base + start, base + end, mention, actor))
    return mentions


def _in_sentence(sentence: str, people: dict[str, str]) -> list[_Found]:
    found = (
        _known_groups(sentence)
        + _organisations(sentence)
        + _titled(sentence, people)
        + _state_agents(sentence)
        + _countries(sentence)
        + _groups(sentence)
    )
    # Earlier finders take precedence; among the rest, no two mentions overlap.
    kept: list[_Found] = []
    for item in found:
        if all(item.end <= other.start or item.start >= other.end for other in kept):
            kept.append(item)
    return sorted(kept, key=lambda item: item.start)


def _known_groups(sentence: str) -> list[_Found]:
    return [
        _Found(match.start(1), match.end(1), _KNOWN_GROUPS[match.group(1).lower()])
        for match in _KNOWN_PATTERN.finditer(sentence)
        if match.group(1)[0].isupper()
    ]


def _organisations(sentence: str) -> list[_Found]:
    demonyms = load_countries().demonyms
    found = []
    for match in _ORGANISATION.finditer(sentence):
        start = match.start()
        words = sentence[start : match.end()].split()
        if words[0] in ("The", "A", "An"):  # the sentence's article, not the name's
            start += len(words[0]) + 1
            words = words[1:]
        code = demonyms.get(normalize(words[0]))
        if code is not None and _STATE_ORGAN.search(match.group()):
            # "the Russian Defence Ministry", "the Ukrainian Air Force" act for the state.
            found.append(_Found(start, match.end(), country_name(code) or code))
        elif (len(words) >= 2 and code is None) or len(words) >= 3:
            found.append(_Found(start, match.end(), re.sub(r"\s+", " ", sentence[start : match.end()])))
    for match in _ACRONYM_GROUP.finditer(sentence):
        found.append(_Found(match.start(), match.end(), match.group(1)))
    return found


# Organisation names that, after a demonym, name an organ of that state.
_STATE_ORGAN = re.compile(r"\b(?:Ministry|Army|Forces?|Guard|Police|Navy|Service|Government)\b")


def _state_agents(sentence: str) -> list[_Found]:
    """Demonyms naming a state's agents or people: "Russian forces", "Ukrainian and Russian officials"."""
    demonyms = load_countries().demonyms
    found = []
    for match in re.finditer(r"\b[A-Z][a-z]+(?:['’]s)?\b", sentence):
        code = demonyms.get(normalize(match.group()))
        if code is None:
            continue
        end = _agent_end(sentence, match.end(), plural=match.group().endswith("s"))
        if end is not None:
            found.append(_Found(match.start(), end, country_name(code) or code))
    return found


def _agent_end(sentence: str, after: int, *, plural: bool) -> int | None:
    """Where a demonym's noun phrase ends, if it names agents or people of the state."""
    rest = sentence[after:]
    coordinated = re.match(r"\s+(?:and|or)\s+[A-Z][a-z]+", rest)  # "Ukrainian and Russian officials"
    offset = coordinated.end() if coordinated else 0
    words = list(re.finditer(r"[\w'’-]+", rest[offset:]))[:5]
    for number, word in enumerate(words):
        token = word.group().lower()
        if token in _STATE_AGENTS or token in _ATTACK_NOUNS or token in _PEOPLE:
            return after + (0 if coordinated else offset + word.end())
        if re.fullmatch(_TITLES, word.group()) or (number == 0 and word.group()[0].isupper()):
            return None  # a title is handled with the person; a capital is another name
        if number >= 2:
            break
    if plural and (not words or not words[0].group()[0].isalpha() or words[0].group().islower()):
        return after  # "the Russians"
    return None


def _titled_people(text: str) -> dict[str, str]:
    """Surname -> state, from "Ukrainian President Volodymyr Zelensky" anywhere in the text."""
    demonyms = load_countries().demonyms
    people: dict[str, str] = {}
    for match in re.finditer(r"\b([A-Z][a-z]+)\s+" + _TITLES + r"\s+(" + _NAME + r")", text):
        code = demonyms.get(normalize(match.group(1)))
        if code is not None:
            people[match.group(2).split()[-1]] = code
    return people


def _titled(sentence: str, people: dict[str, str]) -> list[_Found]:
    """Officials: "Ukrainian President Volodymyr Zelensky" -> Ukraine; later "Zelensky" -> Ukraine."""
    demonyms = load_countries().demonyms
    found = []
    pattern = r"\b(?:([A-Z][a-z]+)\s+)?" + _TITLES + r"\s+(" + _NAME + r")"
    for match in re.finditer(pattern, sentence):
        qualifier = match.group(1)
        code = demonyms.get(normalize(qualifier)) if qualifier else None
        start = match.start() if code else match.start(0) + (len(qualifier) + 1 if qualifier else 0)
        surname = match.group(2).split()[-1]
        code = code or people.get(surname)
        name = (country_name(code) or code) if code else match.group(2)
        found.append(_Found(start, match.end(), name))
    for surname, code in people.items():
        for match in re.finditer(rf"\b{re.escape(surname)}\b", sentence):
            found.append(_Found(match.start(), match.end(), country_name(code) or code))
    return found


def _countries(sentence: str) -> list[_Found]:
    """Countries named as parties ("Russia launched", "attacks on Ukraine"), not as places ("in Ukraine")."""
    countries = load_countries()
    found = []
    words = list(re.finditer(r"[A-Z][\w.]*(?:['’]s)?|of|the|and", sentence))
    i = 0
    while i < len(words):
        for j in range(min(len(words), i + 4) - 1, i - 1, -1):
            start, end = words[i].start(), words[j].end()
            phrase = re.sub(r"['’]s$", "", sentence[start:end])
            if phrase.endswith(".") and phrase.count(".") == 1:
                phrase = phrase[:-1]  # a full stop, not an abbreviation's dot
            key = normalize(phrase)
            if not phrase[0].isupper() or key in countries.demonyms:
                continue
            code = countries.codes.get(key.removeprefix("the "))
            if code is None:
                continue
            if not _LOCATIVE_BEFORE.search(sentence[:start]):
                found.append(_Found(start, start + len(phrase), countries.names[code]))
            i = j
            break
        i += 1
    return found


def _groups(sentence: str) -> list[_Found]:
    return [
        _Found(match.start(), match.end(), _GROUPS[match.group().lower()], group=True)
        for match in _GROUP_PATTERN.finditer(sentence)
    ]


# --- roles ---------------------------------------------------------------------------------------


def _role(sentence: str, found: _Found) -> ActorRole:
    before, after = sentence[: found.start], sentence[found.end :]
    phrase = sentence[found.start : found.end]
    if _MEDIATION_BEFORE.search(before) or _MEDIATION_AFTER.match(after):
        return "mediator"
    if _SPEECH_BEFORE.search(before) or _SPEECH_AFTER.match(after):
        return "source"
    if re.match(r"['’]s\s+(?:\w+\s+){0,3}?(?:" + "|".join(_ATTACK_NOUNS) + r")\b", after):
        return "initiator"  # "Russia's wave of attacks"
    if any(word in _ATTACK_NOUNS for word in re.findall(r"\w+", phrase.lower())):
        return "initiator"  # "Russian strikes"
    if _AGENT_BEFORE.search(before) and _attack_in(before):
        return "initiator"  # "hit by Russian drones"
    clause_before = _clause(before, last=True)
    clause_after = _clause(after, last=False)
    if _TARGET_BEFORE.search(before) and _attack_in(clause_before):
        return "target"  # "attacks on Ukraine"
    verb_after = _verb_near(clause_after)
    # "was shelled" is passive; "has been shelling" is not.
    passive = verb_after is not None and not verb_after.group().lower().endswith("ing")
    passive = passive and verb_after is not None and bool(_PASSIVE.search(clause_after[: verb_after.start()]))
    if verb_after and not passive:
        return "initiator"  # "Russia launched", "police arrested"
    if verb_after or (found.group and _HARM.search(clause_after)):
        return "victim" if found.group else "target"  # "civilians were killed"
    if _attack_in(clause_before):
        return "victim" if found.group else "target"  # "Russia has been shelling neighbouring Ukraine"
    return "participant"


def _verb_near(text: str) -> re.Match[str] | None:
    """The first attack verb within a few words, not used as a noun ("the attack")."""
    window = " ".join(text.split(" ")[:_SUBJECT_WINDOW])
    for match in _ATTACK_VERBS.finditer(window):
        if not re.search(r"\b(?:the|a|an|this|that|its|their)\s+$", window[: match.start()], re.IGNORECASE):
            return match
    return None


def _attack_in(text: str) -> bool:
    return bool(_ATTACK_VERBS.search(text)) or any(word in _ATTACK_NOUNS for word in re.findall(r"\w+", text))


def _clause(text: str, *, last: bool) -> str:
    """The part of ``text`` in the same clause as the mention (its end if ``last``, else its start)."""
    breaks = list(_CLAUSE_BREAK.finditer(text))
    if not breaks:
        return text
    return text[breaks[-1].end() :] if last else text[: breaks[0].start()]
