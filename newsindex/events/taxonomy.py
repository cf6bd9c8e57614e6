"""Event types: ACLED's conflict vocabulary, spelled exactly as ACLED spells it, plus general news types.

Conflict events use ACLED's six types and 25 sub-types so that results can be compared with ACLED data.
Other news uses ten general types with sub-types of our own. Users add their own types with
:meth:`Taxonomy.add`; the extractor's classifier scores sentences against each type's ``description``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..errors import ConfigurationError

__all__ = ["ACLED_TYPES", "GENERAL_TYPES", "EventType", "Taxonomy", "default_taxonomy"]


@dataclass(frozen=True)
class EventType:
    """One event type and its sub-types, each with a short description in plain words."""

    name: str
    description: str
    subtypes: dict[str, str] = field(default_factory=dict)
    #: True for ACLED's conflict types.
    acled: bool = False


#: ACLED's 6 event types and 25 sub-types (ACLED codebook), with descriptions in our own words.
ACLED_TYPES: tuple[EventType, ...] = (
    EventType(
        "Battles",
        "armed groups fight each other",
        {
            "Armed clash": "armed forces or militias exchange fire in a fight",
            "Government regains territory": "government forces retake an area from an armed group",
            "Non-state actor overtakes territory": "an armed group seizes control of an area",
        },
        acled=True,
    ),
    EventType(
        "Explosions/Remote violence",
        "an attack from a distance with explosives, shells, missiles, drones or aircraft",
        {
            "Chemical weapon": "an attack with chemical weapons or toxic gas",
            "Air/drone strike": "an air strike or a drone strike by aircraft or unmanned aerial vehicles",
            "Suicide bomb": "a suicide bomber detonates explosives",
            "Shelling/artillery/missile attack": "shelling, artillery, rockets or missiles fired at a place",
            "Remote explosive/landmine/IED": (
                "a roadside bomb, a landmine or an improvised explosive device (IED) explodes"
            ),
            "Grenade": "a hand grenade is thrown",
        },
        acled=True,
    ),
    EventType(
        "Violence against civilians",
        "armed people attack unarmed civilians",
        {
            "Sexual violence": "rape or sexual assault",
            "Attack": "gunmen or forces kill, shoot or beat civilians",
            "Abduction/forced disappearance": "people are kidnapped, abducted or made to disappear",
        },
        acled=True,
    ),
    EventType(
        "Protests",
        "people demonstrate publicly against or for something",
        {
            "Peaceful protest": "people march, rally, strike or demonstrate peacefully",
            "Protest with intervention": "police disperse or detain peaceful protesters",
            "Excessive force against protesters": "security forces kill or gravely injure protesters",
        },
        acled=True,
    ),
    EventType(
        "Riots",
        "violent demonstrations and mob violence",
        {
            "Violent demonstration": "demonstrators clash with police, throw stones or burn property",
            "Mob violence": "a mob attacks people or property",
        },
        acled=True,
    ),
    EventType(
        "Strategic developments",
        "non-violent moves of armed or political groups that shape a conflict",
        {
            "Agreement": "parties sign a ceasefire, peace deal or prisoner exchange",
            "Arrests": "authorities arrest or detain people",
            "Change to group/activity": "an armed group changes, merges, relocates or recruits",
            "Disrupted weapons use": "explosives or weapons are seized, defused or intercepted",
            "Headquarters or base established": "an armed group sets up a base or headquarters",
            "Looting/property destruction": "property is looted, burned or destroyed",
            "Non-violent transfer of territory": "an armed group takes or leaves an area without fighting",
            "Other": "another strategically important development",
        },
        acled=True,
    ),
)

#: General news types, spelled as DESIGN §2 fixes them; the sub-types are ours.
GENERAL_TYPES: tuple[EventType, ...] = (
    EventType(
        "Diplomacy",
        "governments meet, negotiate or announce relations",
        {
            "Negotiations": "delegations hold talks or negotiations",
            "Summit": "leaders meet at a summit or state visit",
            "Sanctions": "a state imposes or lifts sanctions",
            "Statement": "a government makes an official statement, warning or appeal",
        },
    ),
    EventType(
        "Politics",
        "elections, governments, parliaments and political parties",
        {
            "Election": "people vote in an election or referendum",
            "Legislation": "a parliament passes or debates a law",
            "Government change": "a minister or leader resigns, is appointed or replaced",
        },
    ),
    EventType(
        "Economy and business",
        "markets, companies, trade, prices and jobs",
        {
            "Markets": "share prices, currencies or commodity prices move",
            "Corporate": "a company reports results, merges or is acquired",
            "Trade": "exports, imports, tariffs or trade deals",
            "Labour": "jobs, wages, unemployment or layoffs",
        },
    ),
    EventType(
        "Disaster",
        "natural disasters",
        {
            "Earthquake": "an earthquake or tsunami strikes",
            "Storm": "a hurricane, typhoon, storm or tornado hits",
            "Flood": "floods or landslides",
            "Fire": "a wildfire or forest fire burns",
            "Drought": "drought, heat wave or famine",
        },
    ),
    EventType(
        "Accident",
        "accidents and technical failures",
        {
            "Transport accident": "a crash of a car, bus, train, ship or aircraft",
            "Industrial accident": "an explosion, fire or collapse at a plant, mine or building",
        },
    ),
    EventType(
        "Crime and justice",
        "crimes, police investigations, trials and verdicts",
        {
            "Crime": "a robbery, murder, fraud or other crime",
            "Trial": "a court hears a case or delivers a verdict or sentence",
            "Investigation": "police or prosecutors investigate or charge someone",
        },
    ),
    EventType(
        "Science and technology",
        "research, discoveries, technology and space",
        {
            "Research": "scientists publish a study or discovery",
            "Technology": "a product, software or technology is launched",
            "Space": "a rocket launch or space mission",
        },
    ),
    EventType(
        "Health",
        "disease, outbreaks, medicine and health care",
        {
            "Outbreak": "an epidemic or disease outbreak spreads",
            "Health care": "hospitals, treatments, vaccines or health policy",
        },
    ),
    EventType(
        "Sports",
        "sports matches, tournaments and athletes",
        {"Match": "a game, race or match is played", "Transfer": "a player joins or leaves a team"},
    ),
    EventType(
        "Culture",
        "arts, entertainment, films, music and books",
        {"Arts": "a film, album, book or exhibition is released", "Award": "a prize or award is given"},
    ),
)


class Taxonomy:
    """The event types the extractor may assign; ACLED's and the general ones by default."""

    def __init__(self, types: Iterable[EventType] = ()) -> None:
        self._types: dict[str, EventType] = {}
        for event_type in types:
            self.add(event_type)

    def add(self, event_type: EventType) -> None:
        """Add (or replace) a type; its name must be non-blank and its sub-types unique to it."""
        if not event_type.name.strip():
            raise ConfigurationError("event type name must not be blank")
        self._types[event_type.name] = event_type

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def get(self, name: str) -> EventType:
        """The type called ``name``; a :class:`ConfigurationError` lists the known ones otherwise."""
        try:
            return self._types[name]
        except KeyError:
            known = ", ".join(sorted(self._types))
            raise ConfigurationError(f"unknown event type {name!r}; known types: {known}") from None

    def type_of(self, subtype: str) -> str | None:
        """The type a sub-type belongs to, or None."""
        for event_type in self._types.values():
            if subtype in event_type.subtypes:
                return event_type.name
        return None

    @property
    def names(self) -> list[str]:
        return list(self._types)


def default_taxonomy() -> Taxonomy:
    """A fresh taxonomy holding ACLED's types and the general news types."""
    return Taxonomy((*ACLED_TYPES, *GENERAL_TYPES))
