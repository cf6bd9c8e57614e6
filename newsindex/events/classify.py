"""Event detection and typing, one sentence (or clause) at a time.

Each sentence gets a :class:`TypeGuess` (a taxonomy type, a sub-type and a confidence) or ``None`` when it
reports no event: an opinion in quotes, background ("has been shelling ... since the start of the war"),
a description.

Two kinds of evidence are combined:

* **Trigger words**, the cues a news editor codes by: "shelled", "air strike", "IED", "staged a
  demonstration", "arrested", "talks", "earthquake"... Some rules look at two things at once, the way
  ACLED's coders do: a protest where the crowd threw stones is a riot; one the police dispersed is a
  protest with intervention; a shooting whose victims were armed is a clash, not an attack on civilians.
  When a trigger is clear it decides.
* **The embedding model**: the sentence is compared with several example sentences written for each
  sub-type (and with the taxonomy's descriptions, so types a user adds are reachable without triggers),
  and with examples of sentences that report nothing. It breaks ties between triggers and decides alone
  when no trigger fires.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from ..embedding import Embedder, surely_fits
from .screen import LiteralScreen
from .taxonomy import Taxonomy, default_taxonomy

__all__ = [
    "ClauseCues",
    "EventTyper",
    "Trigger",
    "TypeGuess",
    "escalate",
    "match_triggers",
    "reports_no_event",
    "trigger_guess",
]

#: A (type, sub-type) pair; sub-type None stands for the type as a whole.
Key = tuple[str, str | None]

BATTLES = "Battles"
REMOTE = "Explosions/Remote violence"
CIVILIANS = "Violence against civilians"
PROTESTS = "Protests"
RIOTS = "Riots"
STRATEGIC = "Strategic developments"

CLASH: Key = (BATTLES, "Armed clash")
GOV_REGAINS: Key = (BATTLES, "Government regains territory")
NSA_OVERTAKES: Key = (BATTLES, "Non-state actor overtakes territory")
CHEMICAL: Key = (REMOTE, "Chemical weapon")
AIR: Key = (REMOTE, "Air/drone strike")
SUICIDE: Key = (REMOTE, "Suicide bomb")
SHELLING: Key = (REMOTE, "Shelling/artillery/missile attack")
IED: Key = (REMOTE, "Remote explosive/landmine/IED")
GRENADE: Key = (REMOTE, "Grenade")
SEXUAL: Key = (CIVILIANS, "Sexual violence")
ATTACK: Key = (CIVILIANS, "Attack")
ABDUCTION: Key = (CIVILIANS, "Abduction/forced disappearance")
PEACEFUL: Key = (PROTESTS, "Peaceful protest")
INTERVENTION: Key = (PROTESTS, "Protest with intervention")
EXCESSIVE: Key = (PROTESTS, "Excessive force against protesters")
VIOLENT_DEMO: Key = (RIOTS, "Violent demonstration")
MOB: Key = (RIOTS, "Mob violence")
AGREEMENT: Key = (STRATEGIC, "Agreement")
ARRESTS: Key = (STRATEGIC, "Arrests")
CHANGE: Key = (STRATEGIC, "Change to group/activity")
DISRUPTED: Key = (STRATEGIC, "Disrupted weapons use")
BASE: Key = (STRATEGIC, "Headquarters or base established")
LOOTING: Key = (STRATEGIC, "Looting/property destruction")
TRANSFER: Key = (STRATEGIC, "Non-violent transfer of territory")
OTHER: Key = (STRATEGIC, "Other")
NEGOTIATIONS: Key = ("Diplomacy", "Negotiations")
SUMMIT: Key = ("Diplomacy", "Summit")
SANCTIONS: Key = ("Diplomacy", "Sanctions")
STATEMENT: Key = ("Diplomacy", "Statement")
ELECTION: Key = ("Politics", "Election")
LEGISLATION: Key = ("Politics", "Legislation")
GOV_CHANGE: Key = ("Politics", "Government change")
MARKETS: Key = ("Economy and business", "Markets")
CORPORATE: Key = ("Economy and business", "Corporate")
TRADE: Key = ("Economy and business", "Trade")
LABOUR: Key = ("Economy and business", "Labour")
EARTHQUAKE: Key = ("Disaster", "Earthquake")
STORM: Key = ("Disaster", "Storm")
FLOOD: Key = ("Disaster", "Flood")
FIRE: Key = ("Disaster", "Fire")
DROUGHT: Key = ("Disaster", "Drought")
DISASTER: Key = ("Disaster", None)
TRANSPORT: Key = ("Accident", "Transport accident")
INDUSTRIAL: Key = ("Accident", "Industrial accident")
CRIME: Key = ("Crime and justice", "Crime")
TRIAL: Key = ("Crime and justice", "Trial")
INVESTIGATION: Key = ("Crime and justice", "Investigation")
RESEARCH: Key = ("Science and technology", "Research")
TECHNOLOGY: Key = ("Science and technology", "Technology")
SPACE: Key = ("Science and technology", "Space")
OUTBREAK: Key = ("Health", "Outbreak")
HEALTH_CARE: Key = ("Health", "Health care")
MATCH: Key = ("Sports", "Match")
TRANSFER_SPORT: Key = ("Sports", "Transfer")
ARTS: Key = ("Culture", "Arts")
AWARD: Key = ("Culture", "Award")


@dataclass(frozen=True, slots=True)
class TypeGuess:
    """What one sentence reports: a taxonomy type, a sub-type (or None) and a confidence in [0, 1]."""

    type: str
    subtype: str | None
    score: float


@dataclass(frozen=True, slots=True)
class Trigger:
    """A cue for one or more sub-types: ``pattern`` must match, ``requires`` (if set) too, ``unless`` not.

    ``weight`` says how sure the cue is; 1 and more decides on its own.
    """

    pattern: re.Pattern[str]
    keys: tuple[Key, ...]
    weight: float
    requires: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    #: Whether the cue also counts inside a clause that gives a reason or background ("to demand justice
    #: for a man who was killed"); only protest cues do, since their reason is part of the protest.
    in_reasons: bool = False


#: One word in the rules' word windows ("{W}"): hyphens and apostrophes included ("2-floor", "Ukraine's").
_WORD = r"[\w'’-]+"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("{W}", _WORD), re.IGNORECASE)


def _rule(
    pattern: str,
    key: Key,
    weight: float,
    *,
    also: tuple[Key, ...] = (),
    requires: str | None = None,
    unless: str | None = None,
    in_reasons: bool = False,
) -> Trigger:
    return Trigger(
        _re(pattern),
        (key, *also),
        weight,
        _re(requires) if requires else None,
        _re(unless) if unless else None,
        in_reasons,
    )


# --- Building blocks of the rules -------------------------------------------------------------------

# "march" in lower case only: "On 3 March" is a date.
_PROTEST = (
    r"\b(?:protest\w*|demonstrat(?:e|es|ed|ing|ion|ions|ors?)|counter-?demonstrat\w*|rall(?:y|ies|ied|ying)|"
    r"(?-i:march(?:ed|es|ing)?)|marchers|sit-?ins?|flash mobs?|picket\w*|vigils?|took to the streets|"
    r"hunger strike\w*|general strike|(?:went|go|going|are|were|on) (?:on )?strike|strik(?:e|es|ed|"
    r"ing) (?:action|over|for|against|to demand)|walk(?:ed)? off the job|walk-?outs?|boycott\w*|"
    r"manifest(?:ation|ants?|é|aient)\w*|grève\w*|Streik\w*|Kundgebung\w*|Demonstrant\w*)\b"
)
# What makes a demonstration a riot: the demonstrators' own violence.
_DEMO_VIOLENCE = (
    r"\b(?:clash(?:ed|es)?|scuffl\w*|(?:threw|throwing|thrown|hurl(?:ed|ing)|pelt(?:ed|"
    r"ing)) (?:{W} ){0,3}(?:stones?|rocks|bricks|bottles|objects|projectiles|eggs|molotov\w*|petrol bombs?|"
    r"fireworks|firecrackers|pyrotechnics|at (?:the )?(?:police|officers|security))|stone[- ]pelting|pelted|"
    r"molotov\w*|petrol bombs?|set(?:ting)? (?!(?:himself|herself|themselves) )(?:{W} ){0,4}(?:on )?fire|"
    r"torch(?:ed|ing)|set ablaze|(?:tyres|tires|objects|obstacles|barricades|cars?|vehicles?|"
    r"buildings?) on fire|barricades?|fought (?:with )?(?:the )?police|broke (?:the )?windows|burn(?:ed|t|"
    r"ing) (?:down )?(?:{W} ){0,2}(?:tyres|tires|cars?|vehicles?|buses|shops?|buildings?|offices?|houses?|"
    r"huts?|police station|property)|vandali[sz]\w*|smash\w*|ransack\w*|loot\w*|stormed|destroy(?:ed|ing)|"
    r"attack(?:ed|ing) (?:the )?(?:police|officers|security|a |an |the |civilians|passers-by)|assault(?:ed|"
    r"ing)|injur(?:ed|ing) (?:{W} ){0,3}(?:police(?:men)?|officers|passers-by)|heurts|rampag\w*|rioters?|"
    r"rioting)\b"
)
_FORCES = (
    r"\b(?:police\w*|security (?:forces|personnel|officers|agents)|officers|riot police|gendarme\w*|troops|"
    r"soldiers|military|army|authorities|national guard|forces)\b"
)
_INTERVENE = (
    r"\b(?:dispers\w*|detain\w*|arrest\w*|intervened|interven\w* in|broke up|tear ?gas|teargas|"
    r"water cannons?|rubber bullets|pepper spray|batons?|baton-charged|lathi-?charged?|cordon\w*|kettl\w*|"
    r"prevented|stopped (?:the|them)|removed (?:the )?(?:protesters|demonstrators|activists)|evicted|"
    r"forcibly|beat (?:the )?(?:protesters|demonstrators))\b"
)
_LETHAL = (
    r"\b(?:opened fire|fired (?:live|on|at) |live (?:ammunition|bullets|rounds|fire)|shot (?:dead|"
    r"and killed)|killed|killing|shot (?:{W} )?(?:protesters|demonstrators))"
)
# Armed people: when they are the ones shot, it is a fight, not an attack on civilians. A capitalised
# name before "members" is most often an armed group's ("Taliban members", "MS-13 members").
_ARMED = (
    r"(?:soldiers?|troops|militants?|militia(?:men|s)?|rebels?|insurgents?|fighters?|combatants?|gunmen|"
    r"jihadists?|terrorists?|guerrillas?|(?:police|security) (?:officers?|personnel|agents?)|policem[ae]n|"
    r"officers?|servicem[ae]n|commanders?|colonel|lieutenant|sergeant|captain|forces|"
    r"members of (?:the )?(?:{W} ){0,3}(?:forces|group|militia|army|gang|cartel)|(?:drug )?traffickers?|"
    r"gang members?|gangsters?|cadres?|personnel|(?-i:[A-Z][\w-]+) (?:members?|fighters?|cadres?))"
)
# Organised armed groups in a fight; without one, a fight is a brawl between people (mob violence).
_ARMED_PRESENCE = (
    r"\b(?:forces|troops|soldiers|army|military|militants?|militia\w*|rebels?|insurgents?|fighters?|gunmen|"
    r"armed|jihadists?|terrorists?|guerrillas?|gangs?|cartels?|traffickers?|mercenar\w*|paramilitar\w*|"
    r"commandos?|battalions?|brigades?|regiments?|separatists?|extremists?|bandits|Taliban|Houthis?|Shabaab|"
    r"Boko Haram|(?-i:IS|ISIS|ISWAP|JNIM|PDF|PKK|FARC|ELN|M23|DPR|LPR|ADF|FDLR|NRF|SDF|QSD|YPG|TTP|KNU|KIA|"
    r"TNLA|AA)|operation|gunfire|fire|weapons|firearms|rifles|guns?|shoot-?outs?|tribesmen|tribes?|clans?)\b"
)
_CLASH = (
    r"\b(?:clash(?:ed|es|ing)?|exchang\w* (?:of )?(?:gun)?fire|(?:heavy )?fighting|fought(?! for\b)|"
    r"firefights?|gun ?fights?|gun battles?|shoot-?outs?|ambush\w*|engag(?:ed|ement)s? (?:with|in)|"
    r"skirmish\w*|battl(?:ed|es)|counter-?attack\w*|offensive|armed confrontation|confrontations?|repelled|"
    r"repulsed|stormed)\b"
)
_TERRITORY_GAIN = (
    r"\b(?:took (?:over|control)|taken (?:over|control)|tak(?:e|es|ing) (?:over|control)|seized control|"
    r"gain(?:ed)? control|captured|overran|overtook|seized (?:the )?(?:town|village|city|area|district|base|"
    r"post|territory))\b"
)
_TERRITORY_BACK = (
    r"\b(?:regain\w*|retook|retaken|recaptur\w*|liberat(?:ed|ing)|reclaimed|back under control)\b"
)
_KILL = (
    r"\b(?:killed|killing|shot (?:dead|and killed|and injured|and wounded|at)|shot (?:{W} ){0,3}(?:dead|"
    r"to death)|gunned down|murder\w*|hacked|stabbed|beheaded|executed|massacre\w*|lynched|slaughtered|"
    r"assassinat\w*|(?:beat|beaten|tortured|burned|burnt) (?:{W} ){0,3}to death|opened fire)\b"
)
_CIVILIAN = (
    r"\b(?:civilians?|man|men|woman|women|boys?|girls?|child(?:ren)?|villagers?|farmers?|residents?|"
    r"teachers?|students?|journalists?|worker|workers|shopkeeper|trader|merchant|herders?|passengers?|family|"
    r"(?:\d+|one|two|three|four|five|six|several) people|person|individuals?|teenager|youth|elderly|driver|"
    r"activists?|leader|politician|councillor|official|doctor|priest|pastor|imam|chief|supporters?|brother|"
    r"sister|father|mother|son|daughter|wife|husband|vendors?|motorcyclists?|traders?|engineers?|"
    r"business(?:man|men|woman)|ambulance|occupants|monks?|nurses?|patients?|fishermen|pastoralists|"
    r"villages?|communit(?:y|ies)|homes?|houses?|market|church|mosque|school)\b"
)
_SPORT = (
    r"\b(?:tournament|championship|league|cup|olympic\w*|world cup|grand prix|marathon|race|stage|match|"
    r"final|semi-?final|season|medal|podium|biathlon|skiathlon|pursuit|slalom|sprint|relay|derby|goal)\b"
)
# Deaths that no one inflicted: "killed by falling rocks", "died in the avalanche".
_MISHAP = (
    r"\b(?:by falling|by (?:a |the )?(?:falling|collapsing)|in (?:the |an? )?(?:earthquake|quake|floods?|"
    r"storm|avalanche|landslide|crash|accident|collision|fire|blaze|gas explosion)|(?:earthquake|quake|"
    r"floods?|storm|avalanche|landslide|crash|accident|collision|wildfire|blaze)s? (?:{W} ){0,3}killed)\b"
)
# Where a sentence starts to give the reason for or the background of what it reports.
_REASON = _re(
    r"\b(?:against|over(?! \d)|to (?:denounce|protest|condemn|demand|commemorate|mark|remember|honou?r|"
    r"oppose|call for|reject|express|show|support|press for)|denouncing|condemning|protesting|demanding|"
    r"rejecting|calling for|commemorating|in memory of|in (?:support|solidarity) (?:of|with)|justice for|"
    r"because|following|due to|(?:suspected|accused|convicted) of|charged with|for (?:allegedly|"
    r"the (?:killing|murder|death|arrest|abduction|attack)|(?:allegedly )?[a-z]+ing\b)|(?:who|which|"
    r"that) (?:was|were|had been|has been|had|were being)|coded separately|in retaliation)\b"
)
_CLAUSE_END = re.compile(r"[,;()\[\]]|\.\s")
_DAY_ANCHOR = (
    r"\b(?:(?:on|since|last) (?:\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|yesterday|today|"
    r"tonight|overnight|last night|this (?:morning|afternoon|evening)|earlier|\d{1,2} (?:jan|feb|mar|apr|may|"
    r"jun|jul|aug|sep|oct|nov|dec)\w*|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w* \d{1,2})\b"
)

# --- The rules, grouped by type ----------------------------------------------------------------------

_REMOTE_RULES = (
    _rule(
        r"\b(?:air ?strikes?|airstrikes?|air[- ]?raids?|air attacks?|aerial (?:attacks?|bombardments?|"
        r"bombings?|strikes?)|(?:drone|UAV) (?:strikes?|attacks?)|war ?planes?|fighter jets?|(?:combat|"
        r"attack|kamikaze|armed|suicide) drones?|loitering munitions?|Shaheds?|barrel bombs?|"
        r"helicopter gunships?|bombed|air force (?:struck|bombed|hit|targeted|fired|attacked|carried out))\b",
        AIR,
        1.8,
        unless=r"\b(?:shot down|intercept\w*|downed)\b|air[- ]?raid (?:alerts?|sirens?|warnings?|shelters?)",
    ),
    _rule(
        r"\b(?:drones?|UAVs?|aircraft|helicopters?|jets|planes?|aviation|"
        r"air ?force)\b (?:{W} ){0,3}(?:targeted|struck|hit|bombed|attacked|fired|shelled|dropped|"
        r"launched)\b",
        AIR,
        1.8,
        unless=r"\b(?:shot down|intercept\w*|downed)\b",
    ),
    _rule(
        r"\b(?:drones?|UAVs?|aircraft|helicopters?|jets)\b",
        AIR,
        0.9,
        unless=r"\b(?:shot down|intercept\w*|downed|destroyed (?:{W} ){0,3}(?:drones?|UAVs?))\b",
    ),
    _rule(
        r"\b(?:shell(?:ed|ing|s)?|artillery|mortars?|rockets?|missiles?|MLRS|multiple rocket|Grad|Uragan|"
        r"Smerch|Tochka|Iskander|howitzers?|tank fire|bombard\w*|heavy weapons|fired (?:{W} ){0,3}rounds|"
        r"cluster munitions?|projectiles?)\b",
        SHELLING,
        1.75,
        unless=r"\b(?:shot down|intercept\w*|downed|water cannon|rocket-propelled|stun grenade|space|orbit|"
        r"satellite launch|rocket launch)\b",
    ),
    _rule(
        r"\b(?:IEDs?|VBIEDs?|improvised explosive\w*|(?:land|anti-?tank|anti-?personnel) ?mines?|"
        r"mine (?:attack|blast|explosion)s?|(?:stepped on|hit|struck|triggered|ran over) (?:a |"
        r"an )?(?:{W} )?mine|roadside bombs?|car bombs?|bomb(?:s|ing)? (?:exploded|went off|blast)|"
        r"(?:planted|placed|detonated|exploded) (?:a |an )?(?:{W} ){0,2}(?:bombs?|explosives?|devices?)|"
        r"explosive devices?|booby-?trap\w*|sticky bombs?|magnetic bombs?|remote-controlled (?:bomb|device|"
        r"explosive|mine)s?|remote explosives?|bomb attack|bombings?|(?:a|the) bomb|with (?:{W} )?(?:mines|"
        r"explosives|IEDs?|bombs?)|blew up|blown up)\b",
        IED,
        1.8,
        unless=r"\b(?:defus\w*|deactivat\w*|disarm\w*|dismantl\w*|neutrali[sz]\w*|found|discovered|recovered|"
        r"seized|suicide)\b",
    ),
    _rule(r"\b(?:explosions?|blasts?|detonat\w*|exploded)\b", IED, 0.8, unless=r"\bgas\b|\bsuicide\b"),
    _rule(
        r"\b(?:hand ?grenades?|grenade attacks?|(?:threw|thrown|hurled|lobbed|tossed) (?:a |an |"
        r"two )?(?:{W} )?grenades?|grenades? (?:was|were)? ?(?:thrown|hurled|lobbed|exploded)|"
        r"grenades?\b(?! launcher))",
        GRENADE,
        1.9,
        unless=r"\b(?:stun|smoke|flash|sound|rocket-propelled|RPG|tear ?gas) grenades?|launchers?\b",
    ),
    _rule(r"\bsuicide (?:bomb\w*|attack\w*|vests?|car bomb\w*|blasts?|explosion)\b", SUICIDE, 2.2),
    _rule(
        r"\b(?:chemical (?:weapons?|attacks?|agents?|munitions?)|sarin|chlorine gas|mustard gas|"
        r"nerve agents?|toxic gas attack|poison gas)\b",
        CHEMICAL,
        2.2,
    ),
)

_BATTLE_RULES = (
    _rule(_CLASH, CLASH, 1.4, requires=_ARMED_PRESENCE, unless=_PROTEST + r"|\brioters\b|\bmobs?\b"),
    _rule(
        r"\b(?:attack(?:ed|s|ing)?|raid(?:ed|s)?|assault(?:ed)?|operation|ambush\w*|offensive|opened fire|"
        r"fired) (?:against |on |at |towards )?(?:{W} ){0,5}(?:positions?|base|camp|post|checkpoints?|"
        r"outposts?|convoy|patrol|barracks|hideouts?|police stations?|military|army|forces|troops|"
        r"" + _ARMED + r")\b",
        CLASH,
        1.5,
    ),
    # Armed people shot or killed: a fight between armed groups, not an attack on civilians.
    _rule(
        r"\b(?:killed|shot dead|shot and killed|neutrali[sz]ed|eliminated|gunned down|wounded|"
        r"injured) (?:{W} ){0,4}?" + _ARMED + r"\b",
        CLASH,
        1.7,
        unless=r"\b(?:off-duty|civilians?)\b",
    ),
    _rule(
        r"\b"
        + _ARMED
        + r"\b (?:{W} ){0,4}?(?:were|was) (?:{W} )?(?:killed|shot dead|shot and killed|gunned down|"
        r"wounded|injured)",
        CLASH,
        1.7,
        unless=r"\b(?:off-duty|civilians?)\b",
    ),
    _rule(
        r"\b(?:killed|shot dead|shot and killed|gunned down) (?:{W} ){0,4}?" + _ARMED,
        ATTACK,
        1.8,
        requires=r"\boff-duty\b",
    ),
    _rule(r"\b(?:operation|raid|encounter)s?\b", CLASH, 0.9, requires=_KILL + "|" + _CLASH),
    _rule(_TERRITORY_BACK, GOV_REGAINS, 2.0, requires=_CLASH),
    _rule(_TERRITORY_GAIN, NSA_OVERTAKES, 2.0, requires=_CLASH, unless=_TERRITORY_BACK),
    _rule(
        _TERRITORY_GAIN + "|" + _TERRITORY_BACK,
        TRANSFER,
        1.45,
        unless=_CLASH + r"|\b(?:captured (?:{W} ){0,3}(?:soldiers?|fighters?|members?|suspects?|men|him|her|"
        r"them|people|civilians?|prisoners?)|killed|shell\w*|strikes?)\b",
    ),
)

_CIVILIAN_RULES = (
    _rule(_KILL + r"(?:\s+{W}){0,5}?\s+" + _CIVILIAN, ATTACK, 1.55),
    _rule(
        _CIVILIAN + r"(?:\s+{W}){0,6}?\s+(?:was|were|had been|has been|got) (?:{W} )?" + _KILL,
        ATTACK,
        1.4,
        unless=_MISHAP,
    ),
    _rule(_KILL, ATTACK, 1.3, unless=_MISHAP),
    _rule(
        r"\b(?:attack(?:ed|ing)?|assault(?:ed|ing)?|beat(?:en|ing)?(?: up)?|tortur\w*|shot|"
        r"fired (?:{W} )?(?:at|on)|whipped|flogged|threat(?:ened)?|intimidat\w*|harass\w*|"
        r"mutilat\w*) (?:{W} ){0,3}?" + _CIVILIAN,
        ATTACK,
        1.45,
    ),
    _rule(
        r"\b(?:gunmen|armed men|assailants|attackers|unidentified (?:armed )?(?:men|persons|group))\b",
        ATTACK,
        0.9,
    ),
    _rule(
        r"\b(?:was|were|got|had been) (?:{W} )?(?:beaten|attacked|assaulted|tortured|shot|stabbed|whipped|"
        r"hacked)\b",
        ATTACK,
        1.3,
    ),
    # A place was hit or attacked, by what the sentence does not say: the model picks the weapon.
    _rule(
        r"\b(?:(?:was|were) (?:also )?(?:struck|targeted|attacked|hit|shelled|bombed)|(?:under|"
        r"came under) (?:heavy )?(?:attack|fire)|attacks? on|targeted (?:{W} ){0,4}(?:members?|positions?|"
        r"fighters?|militants?))\b",
        AIR,
        1.1,
        also=(SHELLING, ATTACK, CLASH),
        unless=r"\b(?:earthquakes?|quakes?|storms?|hurricanes?|floods?|cars?|trains?|lightning|virus|cyber)\b",
    ),
    # Armed people attacked someone: the model tells a fight from an attack on civilians.
    _rule(
        r"\b(?:militants|rebels|insurgents|fighters|gunmen|forces|troops|soldiers|militia\w*|"
        r"army) (?:{W} ){0,2}(?:attacked|raided|targeted|ambushed|opened fire)\b",
        CLASH,
        1.25,
        also=(ATTACK,),
    ),
    _rule(
        r"\b(?:abduct\w*|kidnap\w*|hostages?|forc(?:ed|ibly) disappear\w*|disappeared|went missing|"
        r"unknown location|whereabouts|forcibly (?:taken|removed|relocated)|held captive)\b",
        ABDUCTION,
        1.7,
    ),
    _rule(
        r"\b(?:rap(?:e|ed|es|ing)|gang-?rap\w*|sexual(?:ly)? (?:assault\w*|abus\w*|violen\w*|harass\w*|"
        r"exploit\w*|molest\w*)|molest\w*)\b",
        SEXUAL,
        2.0,
    ),
)

_PROTEST_RULES = (
    _rule(_PROTEST, PEACEFUL, 1.6, in_reasons=True),
    _rule(
        r"\b(?:gathered|assembled|convened|congregated|came together|blocked|blockaded|occupied|camped|"
        r"held a press conference)\b[^.;]{0,160}?\b(?:(?:in order |as (?:a )?means )?to (?:demand|denounce|"
        r"protest|oppose|condemn|call|express|support|complain|request|ask|report|claim|urge|defend|reject|"
        r"commemorate|show|press|mark|honou?r|remember|celebrate|voice|raise)|against|in (?:support|"
        r"solidarity|favou?r|protest)|over|calling|demanding|denouncing|asking|chanting|holding (?:banners|"
        r"placards|signs))",
        PEACEFUL,
        1.5,
        in_reasons=True,
    ),
    _rule(r"\b(?:gathered|assembled|congregated)\b", PEACEFUL, 0.8),
    _rule(
        r"\b(?:petition\w*|placards?|banners?|slogans?|chant\w*|press conference with|(?:road|highway|"
        r"street) block\w*|(?:(?:blocked|blockaded|occupied) |(?:cut|closed|shut) (?:off |down )?(?=(?:the |"
        r"a )?(?:main )?(?:roads?|highways?|streets?|avenues?|routes?|bridges?|"
        r"junctions?)))(?:the )?(?:{W} ){0,4}(?:roads?|highways?|streets?|avenues?|routes?|roundabouts?|"
        r"intersections?|bridges?|traffic|entrances?|access|corner|junctions?|motorways?|railways?|gates?|"
        r"parking|campus))\b",
        PEACEFUL,
        1.2,
        unless=r"\b(?:was|were) (?:{W} )?(?:blocked|closed|cut)\b",
        in_reasons=True,
    ),
    _rule(_FORCES + r"(?:\s+{W}){0,8}?\s+" + _INTERVENE, INTERVENTION, 2.1, requires=_PROTEST),
    _rule(
        r"\b(?:protest[eo]rs|demonstrators|participants|activists|marchers)\b(?:\s+{W}){0,4}?\s+(?:were|"
        r"was) (?:{W} )?(?:detained|arrested|dispersed|removed|taken into custody|beaten)",
        INTERVENTION,
        2.1,
    ),
    _rule(
        r"\b(?:dispers\w*|broke up|intervened|interven\w* in the (?:event|protest|demonstration|"
        r"gathering))\b",
        INTERVENTION,
        1.8,
        unless=_LETHAL,
    ),
    _rule(_FORCES + r"(?:\s+{W}){0,10}?\s+" + _LETHAL, EXCESSIVE, 2.6, requires=_PROTEST),
    # The police beat the protesters: the violence is theirs, so it is not a riot.
    _rule(
        _FORCES + r"(?:\s+{W}){0,3}?\s+(?:physically )?(?:assault\w*|beat(?:en)?|attack\w*|injur\w*|foiled|"
        r"thwarted|charged)\b",
        INTERVENTION,
        2.5,
        requires=_PROTEST,
    ),
    _rule(
        r"\b(?:protest[eo]rs|demonstrators)\b(?:\s+{W}){0,4}?\s+(?:were|was) (?:{W} )?(?:killed|shot)",
        EXCESSIVE,
        2.6,
    ),
)

_RIOT_RULES = (
    _rule(_CLASH, MOB, 1.4, unless=_ARMED_PRESENCE + "|" + _PROTEST),
    # Violence of the demonstrators (they clashed, threw stones, burned tyres): a violent demonstration.
    _rule(_DEMO_VIOLENCE, VIOLENT_DEMO, 2.3, requires=_PROTEST, unless=r"\beffig(?:y|ies)\b"),
    _rule(r"\b(?:rioters|rioting|riots?)\b", VIOLENT_DEMO, 2.0, requires=_PROTEST),
    _rule(
        r"\b(?:rioters|rioting|riots?|(?<!flash )mobs?|lynch\w*|vigilantes?|mob justice|jungle justice)\b",
        MOB,
        2.0,
    ),
    _rule(
        r"\b(?:villagers|residents|locals|a group of (?:{W} ){0,4}(?:people|men|youths|residents|villagers|"
        r"individuals|students|locals|settlers)|supporters|fans|youths|crowds?|settlers|motorists|passers-by|"
        r"students)\b(?:\s+{W}){0,4}?\s+(?:attacked|beat|assaulted|clashed|stoned|set fire|torched|burned|"
        r"lynched|pelted|vandali[sz]ed|stormed|killed|stabbed|physically assaulted|cornered|chased)|"
        r"(?:beaten|killed|lynched|attacked|assaulted|stoned|stabbed|burned)(?: (?:up|"
        r"to death))?(?:,? (?:and )?{W}){0,3} by (?:a |an )?(?:group of )?(?:residents|villagers|locals|"
        r"(?:angry )?mob|crowd|settlers|passers-by)",
        MOB,
        1.9,
    ),
    _rule(
        r"\b(?:clash(?:ed|es)|scuffl\w*|brawl\w*|fight) (?:{W} ){0,5}(?:supporters|members|groups|residents|"
        r"villagers|students|fans|families|communities|factions)\b",
        MOB,
        1.6,
        unless=r"\b(?:armed|militia\w*|forces|gunfire|gunmen|rebels|militants)\b",
    ),
    _rule(
        r"\b(?:supporters|members|groups|residents|villagers|students|fans|families|"
        r"communities) (?:{W} ){0,5}(?:clash(?:ed|es)|scuffl\w*|brawl\w*|fought)\b",
        MOB,
        1.6,
        unless=r"\b(?:armed|militia\w*|forces|gunfire|gunmen|rebels|militants)\b",
    ),
)

_STRATEGIC_RULES = (
    _rule(
        r"\b(?:arrest\w*|detain\w*|apprehend\w*|(?:taken|took) (?:{W} )?into custody|round(?:ed)? up|"
        r"handcuff\w*|captured (?:{W} ){0,3}(?:suspects?|members?|militants?|commanders?|leaders?))\b",
        ARRESTS,
        1.25,
        unless=_PROTEST,
    ),
    _rule(
        r"\b(?:loot\w*|plunder\w*|ransack\w*|pillag\w*|torch(?:ed|ing)|set (?:{W} ){0,8}(?:on )?fire|"
        r"set ablaze|(?:burn(?:ed|t|ing)|destroy\w*|demolish\w*|raz(?:ed|ing)|bulldoz\w*|"
        r"blew up) (?:down )?(?:{W} ){0,4}(?:houses?|homes?|shops?|vehicles?|cars?|trucks?|buildings?|"
        r"villages?|settlements?|propert\w+|offices?|schools?|church\w*|mosques?|temples?|huts?|crops|farms?|"
        r"plantations?|trees|equipment|machinery|stores?|markets?|statues?|monuments?|shelters?|towers?|"
        r"stations?|premises|walls?|bridges?|rooms?|structures?|facilit(?:y|ies))|arson\w*|(?:seized|took|"
        r"stole|hijacked) (?:{W} ){0,3}(?:vehicles?|trucks?|cars?|motorcycles?|goods|money|cash|valuables|"
        r"belongings|camels|cows)|vandali[sz]\w*|defac\w*|graffiti|sabotag\w*|"
        r"sealed off (?:{W} ){0,3}(?:houses?|homes?|propert\w+|shops?)|land (?:grab\w*|seizure|invasion)|"
        r"(?:seized|occupied|invaded|grabbed) (?:{W} ){0,3}(?:land|farm|plot|estate|propert\w+)|"
        r"confiscat\w* (?:{W} ){0,3}(?:land|propert\w+|houses?|livestock|cattle)|stole|stolen|robbed|"
        r"extort\w*|rustl\w*|(?:took|seized|confiscated) (?:{W} ){0,3}(?:livestock|cattle|goats))\b",
        LOOTING,
        1.25,
    ),
    _rule(
        r"\b(?:shot down|intercept\w*|downed|destroyed (?:{W} ){0,3}(?:drones|missiles|UAVs)|defus\w*|"
        r"deactivat\w*|disarm(?:ed|ing)|dismantl\w*|neutrali[sz]\w* (?:a |an |the |two |"
        r"\d+ )?(?:{W} ){0,2}(?:drones?|bombs?|mines?|IEDs?|explosives?|missiles?|devices?|rockets?)|"
        r"(?:seiz\w*|recover\w*|found|discover\w*|confiscat\w*|uncovered) (?:{W} ){0,6}(?:weapons?|arms|"
        r"ammunition|explosives?|rifles?|guns?|firearms|grenades?|IEDs?|mines?|rockets?|cache|detonators?|"
        r"munitions?)|(?:weapons?|arms|explosives?|ammunition) (?:cache|depot|stash|seiz\w*)|"
        r"controlled (?:explosion|detonation)|bomb (?:disposal|squad)|air defen[cs]es?)\b",
        DISRUPTED,
        2.0,
    ),
    _rule(
        r"\b(?:surrender\w*|laid down (?:{W} )?(?:arms|weapons)|prisoners? (?:of war )?(?:exchange|swap)|"
        r"(?:exchanged|swapped) (?:{W} ){0,3}(?:prisoners|captives|bodies)|(?:swap|"
        r"exchange) (?:{W} ){0,3}(?:prisoners|captives|bodies)|released (?:{W} ){0,3}(?:hostages|captives|"
        r"prisoners of war)|signed (?:{W} ){0,3}(?:agreement|deal|accord|memorandum|treaty|pact))\b",
        AGREEMENT,
        1.75,
    ),
    # A ceasefire only when one is agreed, declared or begins: "in violation of the ceasefire" is not one.
    _rule(
        r"\b(?:ceasefire|cease-fire|truce|peace (?:deal|agreement|accord|treaty))\b",
        AGREEMENT,
        1.75,
        requires=r"\b(?:agree\w*|sign\w*|reach\w*|declar\w*|announc\w*|broker\w*|accept\w*|took effect|"
        r"came into (?:force|effect)|began|begins)\b",
    ),
    _rule(
        r"\b(?:deploy\w*|reinforcements?|redeploy\w*|(?:troops|forces|soldiers|convoys?|"
        r"units?) (?:{W} )?(?:moved|arrived|entered|were sent|were stationed|were moved|massed|gathered|"
        r"withdrew|relocated|advanced)|patrol\w*|curfew|state of emergency|martial law|recruit\w*|"
        r"conscript\w*|mobili[sz]\w*|merg\w*|defect\w*|deserted|desertion|split from|"
        r"joined (?:the )?(?:{W} ){0,2}(?:group|militia|rebels|forces)|set up (?:{W} )?checkpoints?|"
        r"military (?:drills?|exercises?|build-?up)|troop build-?up|(?:announced|formed|created|"
        r"launched) (?:a |the )?(?:new )?(?:armed )?(?:group|militia|unit|brigade|battalion|alliance|"
        r"coalition)|banned|outlawed|security measures|lockdown|evacuat\w* (?:{W} ){0,3}(?:troops|forces|"
        r"personnel)|training)\b",
        CHANGE,
        1.2,
    ),
    _rule(
        r"\b(?:set up|established|built|opened|erected|constructed) (?:a |an |its |their |new |"
        r"the )?(?:{W} )?(?:base|headquarters|HQ|camp|outpost|command (?:post|centre|center))\b",
        BASE,
        1.8,
        unless=r"\b(?:refugee|displacement|IDP|relief|training|protest)\b",
    ),
    _rule(
        r"\b(?:displac\w*|fled (?:their|the)|forced to (?:leave|flee|move)|mass graves?|bod(?:y|"
        r"ies) (?:of (?:{W} ){1,4})?(?:were |was )?(?:found|discovered|exhumed|recovered)|exhum\w*|"
        r"unexploded|remnants? of war|refugees?)\b",
        OTHER,
        1.1,
    ),
    # Evacuations mostly follow another happening (a fire, a flood, shelling): a weak cue.
    _rule(r"\bevacuat\w*", OTHER, 0.8),
)

_GENERAL_RULES = (
    _rule(
        r"\b(?:talks|negotiat\w*|mediat\w*|peace (?:process|plan|efforts?|initiative|proposal)|delegations?|"
        r"envoys?|diplomat\w*|bilateral|foreign ministers?|demarcat\w*|code of conduct)\b",
        NEGOTIATIONS,
        1.3,
        unless=r"\b(?:wage|pay|contract|collective|union|labou?r) (?:talks|negotiat\w*)",
    ),
    _rule(
        r"\b(?:summits?|state visit|official visit|(?:met|meets|meeting) (?:with )?(?:{W} ){0,3}(?:president|"
        r"prime minister|chancellor|king|leaders?|counterparts?|foreign minister|secretary)|leaders (?:met|"
        r"agreed|signed|gathered))\b",
        SUMMIT,
        1.2,
        unless=_SPORT,
    ),
    _rule(r"\b(?:sanction\w*|embargo\w*|asset freezes?|export controls?|blacklist\w*)\b", SANCTIONS, 1.4),
    _rule(
        r"\b(?:condemned|denounced|called (?:on|for)|urged|warned|expressed (?:concern|regret|solidarity)|"
        r"joint statement|statement|appealed)\b",
        STATEMENT,
        0.5,
    ),
    _rule(
        r"\b(?:elections?|electoral|vot(?:e|ed|ers|ing)|ballots?|referend(?:um|a)|polling|(?:re-?)?elected|"
        r"run-?offs?|candidates?|primar(?:y|ies))\b",
        ELECTION,
        1.3,
        unless=r"\b(?:parliament|lawmakers|senate|congress|MPs|deputies|legislat\w*) (?:{W} )?voted\b",
    ),
    _rule(
        r"\b(?:(?:parliament|congress|senate|lawmakers|legislat\w*|assembly|MPs|deputies|bundestag|"
        r"duma)\b(?:\s+{W}){0,4}\s+(?:passed|approved|adopted|voted|debated|rejected|ratified)|(?:passed|"
        r"approved|adopted|ratified|signed) (?:{W} ){0,3}(?:bill|law|legislation|amendment|budget|decree))\b",
        LEGISLATION,
        1.3,
    ),
    _rule(
        r"\b(?:resign\w*|appointed|sworn in|inaugurat\w*|sacked|dismissed (?:{W} ){0,3}(?:minister|chief|"
        r"head|governor)|ousted|reshuffle|impeach\w*|(?:military )?coup|stepped down|step down|"
        r"named (?:{W} ){0,3}(?:as )?(?:new )?(?:prime minister|minister|president|chief|head|governor|coach|"
        r"CEO))\b",
        GOV_CHANGE,
        1.3,
    ),
    _rule(
        r"\b(?:shares|share prices?|stocks|stock (?:market|exchange)|futures|currenc(?:y|ies)|exchange rate|"
        r"bond yields?|inflation|(?:oil|gas|copper|gold|coffee|wheat|food|fuel|energy) prices?|"
        r"prices? (?:rose|fell|jumped|dropped|surged|slumped|climbed|soared)|(?:rose|fell|jumped|dropped|"
        r"surged|slumped|climbed|gained|lost) \d+(?:\.\d+)? ?(?:%|percent|per cent)|two-week high|"
        r"record high|lowest|highest level)\b",
        MARKETS,
        1.0,
    ),
    _rule(
        r"\b(?:profits?|revenues?|earnings|sales|merger|acquisition|acquired|takeover|IPO|quarterly results|"
        r"(?:the )?company (?:said|announced|reported)|bankrupt\w*|insolven\w*|broke ground|breaks ground|"
        r"groundbreaking|began construction|(?:opened|opens|closed|closes) (?:{W} ){0,3}(?:plant|factory))\b",
        CORPORATE,
        1.2,
    ),
    _rule(r"\b(?:invest(?:ed|ment|s)|plants?|factory|factories)\b", CORPORATE, 0.9),
    _rule(
        r"\b(?:exports?|imports?|exported|imported|tariffs?|trade (?:deal|agreement|surplus|deficit|war)|"
        r"shipped|shipments?|cargo|container (?:ships?|traffic|volumes?|terminals?)|TEU|tonnes of|"
        r"throughput)\b",
        TRADE,
        1.1,
    ),
    _rule(
        r"\b(?:jobs?|layoffs?|lay off|laid off|redundanc\w*|unemployment|jobless|wages?|hiring|workforce|"
        r"Stellen|Arbeitspl\w*)\b",
        LABOUR,
        1.0,
    ),
    _rule(
        r"\b(?:earthquakes?|quakes?|tremors?|magnitude|seismic|tsunamis?|aftershocks?|epicent\w*|séisme|"
        r"Erdbeben)\b",
        EARTHQUAKE,
        2.0,
    ),
    _rule(
        r"\b(?:hurricanes?|typhoons?|cyclones?|storms?|tornado\w*|blizzards?|gales?|heavy snow\w*|high winds|"
        r"gusts)\b",
        STORM,
        1.8,
        unless=r"\b(?:geomagnetic|solar|magnetic) storms?\b|\bstorm(?:ed|ing)\b",
    ),
    _rule(
        r"\b(?:floods?|flooding|flooded|floodwaters?|landslides?|mudslides?|inundat\w*|torrential rains?|"
        r"heavy rains?|rivers? (?:burst|overflowed))\b",
        FLOOD,
        1.8,
    ),
    _rule(r"\b(?:wildfires?|bush ?fires?|forest fires?|brush fires?)\b", FIRE, 2.0),
    _rule(r"\b(?:droughts?|heat ?waves?|famine|dry spell)\b", DROUGHT, 1.8),
    _rule(r"\b(?:avalanches?|volcan\w*|eruptions?|erupted|natural disaster)\b", DISASTER, 2.0),
    _rule(
        r"\b(?:crash(?:ed|es)?|collid\w*|collisions?|derail\w*|capsiz\w*|sank|sinking|overturned|ran aground|"
        r"(?:road|traffic|car|bus|train|plane|air) (?:accident|crash)|shipwreck)\b",
        TRANSPORT,
        1.5,
        unless=r"\b(?:market|stock|prices?|shares?|drones? crashed)\b",
    ),
    _rule(
        r"\b(?:gas (?:explosion|leak|blast|cylinder)|(?:explosion|blast|fire) (?:{W} ){0,2}(?:at|in|"
        r"tore through|ripped through) (?:a |an |the )?(?:{W} ){0,3}(?:plant|factory|mine|refinery|building|"
        r"warehouse|apartment|block|facility)|(?:building|bridge|mine|roof|tunnel|dam) collaps\w*|"
        r"collaps(?:ed|e) of (?:a |an |the )?(?:{W} )?(?:building|bridge|mine|roof|tunnel|dam)|"
        r"chemical (?:leak|spill)|industrial accident|mining accident|work(?:place)? accident)\b",
        INDUSTRIAL,
        2.0,
        unless=r"\b(?:drones?|missiles?|strikes?|shell\w*|attack\w*|rockets?|bombs?)\b",
    ),
    _rule(
        r"\b(?:robb\w*|burglar\w*|thefts?|fraud\w*|embezzl\w*|brib\w*|corrupt\w*|smuggl\w*|traffick\w*|"
        r"money laundering|homicides?|carjack\w*|scam\w*|murder\w*)\b",
        CRIME,
        1.1,
    ),
    _rule(
        r"\b(?:court|trial|sentenced|convicted|acquitted|verdict|jailed|judges?|pleaded (?:not )?guilty|"
        r"appeals court|tribunal)\b",
        TRIAL,
        1.2,
    ),
    _rule(
        r"\b(?:investigat\w*|charged with|indicted|probe|inquiry|prosecutors?)\b",
        INVESTIGATION,
        0.8,
    ),
    _rule(
        r"\b(?:stud(?:y|ies)|researchers?|scientists?|discover\w*|new species|journal|published in|"
        r"expeditions?|findings|specimens?|biologists?|archaeolog\w*|fossils?)\b",
        RESEARCH,
        1.1,
        unless=r"\bbod(?:y|ies)\b|weapons?|explosives?|graves?",
    ),
    _rule(
        r"\b(?:software|smartphones?|artificial intelligence|AI models?|chips?|semiconductors?|app|apps|"
        r"launched (?:a |its )?(?:new )?(?:product|service|platform|model))\b",
        TECHNOLOGY,
        1.0,
    ),
    _rule(
        r"\b(?:spacecraft|satellites?|orbit\w*|space station|NASA|ESA|astronauts?|lunar|moon|Mars|"
        r"rocket launch|SpaceX|geomagnetic|solar (?:storm|flare|wind)|auroras?|comets?|asteroids?|"
        r"telescopes?)\b",
        SPACE,
        1.4,
    ),
    _rule(
        r"\b(?:outbreaks?|epidemics?|pandemic|infections?|infected|dengue|cholera|measles|malaria|ebola|mpox|"
        r"covid\w*|influenza|virus|cases of)\b",
        OUTBREAK,
        1.3,
        unless=_PROTEST + r"|\b(?:restrictions|measures|mandates?|passes?)\b",
    ),
    _rule(
        r"\b(?:vaccin\w*|immuni[sz]\w*|health (?:ministry|care|system|authorities|officials)|patients|"
        r"treatments?|doctors|nurses|medicines?|clinics?)\b",
        HEALTH_CARE,
        0.8,
        unless=_PROTEST,
    ),
    _rule(
        r"\b(?:won|wins|winning|beat|defeated|victory|title|gold|silver|bronze|finished|scored)\b",
        MATCH,
        1.3,
        requires=_SPORT,
    ),
    _rule(_SPORT, MATCH, 0.6),
    _rule(
        r"\b(?:signed (?:for|with) (?:{W} ){0,2}(?:club|team|side|FC)|transfer (?:fee|window)|"
        r"joined (?:{W} ){0,2}(?:club|team|side|FC) on loan|on loan)\b",
        TRANSFER_SPORT,
        1.5,
    ),
    _rule(
        r"\b(?:films?|movies?|albums?|novels?|exhibitions?|museums?|premiere\w*|concerts?|festivals?|"
        r"box office|opera|theat(?:re|er)|galler(?:y|ies)|songs?)\b",
        ARTS,
        1.0,
    ),
    _rule(r"\b(?:awards?|prizes?|Oscars?|Nobel|Grammys?|laureates?)\b", AWARD, 1.2),
)

#: Every trigger rule, in no particular order; a key gets the weight of its strongest cue.
TRIGGERS: tuple[Trigger, ...] = (
    *_REMOTE_RULES,
    *_BATTLE_RULES,
    *_CIVILIAN_RULES,
    *_PROTEST_RULES,
    *_RIOT_RULES,
    *_STRATEGIC_RULES,
    *_GENERAL_RULES,
)

#: A trigger this strong decides on its own (weights of 1 and more are written to mean "clear").
CLEAR_TRIGGER = 1.0
#: How much a cue loses, at most, for coming late in the sentence: the main verb of a news sentence
#: usually comes first, subordinate clauses ("when", "as", "amid") later.
POSITION_DISCOUNT = 0.2


def match_triggers(
    text: str, triggers: Sequence[Trigger] = TRIGGERS, *, screen: LiteralScreen | None = None
) -> dict[Key, float]:
    """The weight of each (type, sub-type) the trigger rules see in ``text``; cues earlier count more.

    ``screen``, built over ``triggers`` (in their order), skips the rules that cannot match; the
    default rules have one. The result is the same with or without it, only faster.
    """
    if screen is None and triggers is TRIGGERS:
        screen = _default_screen()
    if screen is not None:
        if screen.size != len(triggers):
            raise ValueError(f"the screen covers {screen.size} rules, not the {len(triggers)} given")
        triggers = [triggers[i] for i in screen.candidates(text)]
    cues: list[tuple[Trigger, int]] = []
    reasons = _reason_spans(text)
    for trigger in triggers:
        match = _first_match(trigger, text, reasons)
        if match is None:
            continue
        if trigger.requires is not None and trigger.requires.search(text) is None:
            continue
        if trigger.unless is not None and trigger.unless.search(text) is not None:
            continue
        cues.append((trigger, match.start()))
    found: dict[Key, float] = {}
    if not cues:
        return found
    first = min(start for _, start in cues)
    length = max(len(text) - first, 1)
    for trigger, start in cues:
        # The first cue keeps its full weight: the discount only orders cues within the sentence.
        weight = trigger.weight * (1.0 - POSITION_DISCOUNT * (start - first) / length)
        for key in trigger.keys:
            found[key] = max(found.get(key, 0.0), weight)
    return found


@functools.cache
def _default_screen() -> LiteralScreen:
    return LiteralScreen([trigger.pattern for trigger in TRIGGERS])


def _reason_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` gives a reason or background: from a marker ("against", "to demand", "who was") to
    the next comma, semicolon or bracket."""
    spans = []
    for marker in _REASON.finditer(text):
        end = _CLAUSE_END.search(text, marker.end())
        spans.append((marker.start(), end.start() if end else len(text)))
    return spans


def _first_match(trigger: Trigger, text: str, reasons: list[tuple[int, int]]) -> re.Match[str] | None:
    for match in trigger.pattern.finditer(text):
        if trigger.in_reasons or not any(
            start < match.end() and match.start() < end for start, end in reasons
        ):
            return match
    return None


# --- Sentences that report no event -----------------------------------------------------------------

_QUOTE_OPEN = re.compile(r"""^\s*["“«„‘']""")
_ATTRIBUTION_ONLY = _re(
    r"^\s*(?:he|she|they|it|the (?:{W} ){0,2}(?:said|added))\s+(?:also\s+)?(?:added|said|stressed|noted|"
    r"argued|insisted|warned|told|wrote)\b"
)
_OPINION = re.compile(
    r"\b(?:must|should|ought to|needs? to|cannot|can't|can be|could be|would be|proves?|we will|we want|"
    r"I think|I believe|we believe|hope|no blind eye|deserve|it is (?:time|important|necessary)|let us|"
    r"there is no|unacceptable)\b",
    re.IGNORECASE,
)
# Background: what has been going on for a long time, not one happening.
_BACKGROUND = re.compile(
    r"\b(?:(?:has|have) been (?:\w+ly )?\w+ing|since the (?:start|beginning|outbreak) of|for (?:years|"
    r"decades|months)|systematically|regularly|routinely|repeatedly|frequently|usually|traditionally|"
    r"every (?:day|year|week)|(?:has|have) long|says|accuses|claims|argues|believes)\b",
    re.IGNORECASE,
)
_DAY = re.compile(_DAY_ANCHOR, re.IGNORECASE)


def reports_no_event(text: str) -> bool:
    """Whether ``text`` is an opinion in quotes or background rather than the report of a happening."""
    quoted = _QUOTE_OPEN.search(text) is not None or _ATTRIBUTION_ONLY.search(text) is not None
    if quoted and _OPINION.search(text):
        return True
    return _BACKGROUND.search(text) is not None and _DAY.search(text) is None


def trigger_guess(text: str) -> TypeGuess | None:
    """The guess of the trigger rules alone (no model): the strongest clear cue, else None."""
    if reports_no_event(text):
        return None
    found = match_triggers(text)
    if not found:
        return None
    key, weight = max(found.items(), key=lambda item: item[1])
    if weight < CLEAR_TRIGGER:
        return None
    return TypeGuess(key[0], key[1], _trigger_confidence(weight, None))


def _trigger_confidence(weight: float, similarity: float | None) -> float:
    base = 0.55 + 0.15 * min(weight, 2.0)
    if similarity is not None:
        base += 0.2 * (similarity - 0.3)
    return float(min(1.0, max(0.0, base)))


# --- Later sentences that recode the happening ------------------------------------------------------

#: What a later sentence about the same happening turns a guess into: a protest that the police broke
#: up is a protest with intervention, one whose crowd turned violent a violent demonstration (ACLED codes
#: the event by its most severe part, and news reports often give that part in a second sentence).
ESCALATIONS: dict[Key, dict[Key, Key]] = {
    PEACEFUL: {
        INTERVENTION: INTERVENTION,
        ARRESTS: INTERVENTION,
        EXCESSIVE: EXCESSIVE,
        VIOLENT_DEMO: VIOLENT_DEMO,
    },
    INTERVENTION: {EXCESSIVE: EXCESSIVE, VIOLENT_DEMO: VIOLENT_DEMO},
    ATTACK: {SEXUAL: SEXUAL},
    # Property burned or people detained, and then someone killed: an attack on civilians.
    LOOTING: {ATTACK: ATTACK},
    ARRESTS: {ATTACK: ATTACK},
}


def escalate(lead: TypeGuess, later: TypeGuess) -> TypeGuess | None:
    """``lead`` recoded by ``later``, a later sentence about the same happening; None if it does not
    change it. E.g. "Hundreds protested." then "Police dispersed them." is a protest with intervention."""
    recoded = ESCALATIONS.get((lead.type, lead.subtype), {}).get((later.type, later.subtype))
    if recoded is None:
        return None
    return TypeGuess(recoded[0], recoded[1], max(lead.score, later.score))


# --- Example sentences for the embedding model -------------------------------------------------------

#: Sentences written for each built-in sub-type, in the style of a news report; the model compares each
#: sentence with them (and with the taxonomy's descriptions).
PROTOTYPES: dict[Key, tuple[str, ...]] = {
    CLASH: (
        "Government troops clashed with rebels near the village, and several fighters were killed.",
        "Militants attacked an army checkpoint and exchanged fire with soldiers for hours.",
        "Heavy fighting broke out between the army and an armed group in the district.",
        "Police killed two suspected gang members in a shootout during an operation.",
    ),
    GOV_REGAINS: (
        "Government forces recaptured the town from the rebels after heavy fighting.",
        "The army retook control of the district following clashes with insurgents.",
    ),
    NSA_OVERTAKES: (
        "Rebels seized control of the town after clashes with government troops.",
        "Insurgents captured a military base and took over the surrounding area.",
    ),
    CHEMICAL: (
        "A chemical weapons attack with toxic gas killed dozens of people.",
        "Chlorine gas was used in an attack on the town.",
    ),
    AIR: (
        "An air strike hit the town, killing several people.",
        "Warplanes bombed positions of the armed group.",
        "A drone strike hit a car on the road.",
        "Russia launched dozens of attack drones at cities overnight.",
        "Fighter jets carried out air raids on the area.",
    ),
    SUICIDE: (
        "A suicide bomber blew himself up at a checkpoint, killing several people.",
        "A suicide car bomb exploded outside the base.",
    ),
    SHELLING: (
        "Artillery shelled residential areas of the city.",
        "Forces fired rockets and missiles at the town.",
        "Mortar shells hit the village, damaging houses.",
        "A missile attack struck the city's energy infrastructure.",
        "The city was hit by a heavy rocket attack.",
    ),
    IED: (
        "A roadside bomb exploded as a military vehicle passed, killing two soldiers.",
        "An improvised explosive device went off near the market.",
        "A landmine explosion killed a farmer in his field.",
        "A bomb planted in a car detonated in the city centre.",
    ),
    GRENADE: (
        "Unknown attackers threw a hand grenade at a police station.",
        "A grenade exploded at the house, injuring three people.",
    ),
    SEXUAL: (
        "Armed men raped a woman in the village.",
        "Soldiers sexually assaulted two girls.",
    ),
    ATTACK: (
        "Gunmen shot dead a civilian in the village.",
        "Armed men attacked villagers, killing three people.",
        "A man was shot and killed by unidentified attackers.",
        "Soldiers beat and tortured civilians at a checkpoint.",
        "A journalist was murdered outside his home.",
    ),
    ABDUCTION: (
        "Gunmen abducted several villagers and took them to an unknown location.",
        "Armed men kidnapped a businessman and demanded a ransom.",
        "An activist was forcibly disappeared after being taken away by security forces.",
    ),
    PEACEFUL: (
        "Hundreds of people demonstrated in the capital against the government.",
        "Workers staged a protest outside the factory demanding higher wages.",
        "Residents held a rally to denounce rising prices.",
        "Activists marched through the city centre calling for climate action.",
        "Teachers went on strike and gathered in front of the ministry.",
        "Farmers blocked a highway in protest against the new policy.",
    ),
    INTERVENTION: (
        "Police dispersed the protesters and detained several participants.",
        "Demonstrators gathered in the square before police broke up the rally and arrested activists.",
        "Security forces used tear gas to disperse a peaceful demonstration.",
    ),
    EXCESSIVE: (
        "Security forces opened fire on protesters, killing several demonstrators.",
        "Police fired live ammunition at the demonstration, wounding many protesters.",
    ),
    VIOLENT_DEMO: (
        "Protesters clashed with police, threw stones and set tyres on fire.",
        "Demonstrators vandalised shops and burned cars during the protest.",
        "Rioting protesters stormed a government building.",
    ),
    MOB: (
        "A mob beat a suspected thief to death.",
        "Villagers attacked and set fire to the house of a man accused of witchcraft.",
        "Rival groups of supporters clashed with sticks and stones.",
        "Rioters attacked people in the street.",
    ),
    AGREEMENT: (
        "The two sides signed a ceasefire agreement.",
        "Militants surrendered to the army and laid down their weapons.",
        "The warring parties exchanged prisoners of war.",
    ),
    ARRESTS: (
        "Police arrested several people suspected of links to the armed group.",
        "Security forces detained an opposition leader at his home.",
        "Soldiers arrested a man during a raid on the village.",
    ),
    CHANGE: (
        "The army deployed reinforcements to the border region.",
        "The armed group recruited new fighters in the area.",
        "Authorities imposed a curfew in the city.",
        "Military vehicles moved through the area on patrol.",
    ),
    DISRUPTED: (
        "Air defences shot down several drones over the region.",
        "Soldiers defused a bomb planted on the road.",
        "Police seized a cache of weapons and explosives.",
    ),
    BASE: (
        "The armed group set up a new base near the town.",
        "Troops established a military camp in the district.",
    ),
    LOOTING: (
        "Armed men looted shops and burned houses in the village.",
        "Soldiers set fire to dozens of homes.",
        "Unknown people vandalised a memorial in the city.",
        "Settlers seized farmland belonging to villagers.",
    ),
    TRANSFER: (
        "The armed group took control of the town without a fight after troops withdrew.",
        "Government forces withdrew from the area and handed over control.",
    ),
    OTHER: (
        "Thousands of people were displaced and evacuated from the area.",
        "A mass grave was discovered near the village.",
    ),
    NEGOTIATIONS: (
        "Delegations from the two countries held talks aimed at ending the war.",
        "Peace negotiations resumed in the capital.",
        "The two sides met for direct talks mediated by a third country.",
        "Negotiators agreed on the next steps of the border talks.",
    ),
    SUMMIT: (
        "Leaders met at a summit to discuss security cooperation.",
        "The president arrived for a state visit and met the prime minister.",
        "Foreign ministers gathered for a regional meeting.",
    ),
    SANCTIONS: (
        "The government imposed new sanctions on the country's banks.",
        "The European Union lifted sanctions on several officials.",
    ),
    STATEMENT: (
        "The foreign ministry condemned the attack in a statement.",
        "The government warned it would respond to any provocation.",
        "The ministry called on both sides to show restraint.",
    ),
    ELECTION: (
        "Voters went to the polls in the presidential election.",
        "The opposition candidate won the election.",
        "Citizens voted in a referendum on the new constitution.",
    ),
    LEGISLATION: (
        "Parliament passed a new law on immigration.",
        "Lawmakers approved the budget bill.",
    ),
    GOV_CHANGE: (
        "The prime minister resigned after losing a confidence vote.",
        "The president appointed a new defence minister.",
        "A new government was sworn in.",
    ),
    MARKETS: (
        "Share prices fell sharply on the stock exchange.",
        "Oil prices rose to their highest level in months.",
        "The currency lost 5 percent against the dollar.",
        "Coffee futures fell on forecasts of rain in Brazil.",
    ),
    CORPORATE: (
        "The company reported record quarterly profits.",
        "The firm agreed to acquire its rival for two billion dollars.",
        "The company broke ground on a new factory.",
    ),
    TRADE: (
        "Grain exports from the ports rose last month.",
        "The country imposed tariffs on imported steel.",
        "The port handled a record volume of containers.",
    ),
    LABOUR: (
        "The carmaker said it would cut 1,200 jobs.",
        "Unemployment rose to 7 percent.",
        "The company announced layoffs at its main plant.",
    ),
    EARTHQUAKE: (
        "A magnitude 6 earthquake struck the region, collapsing houses.",
        "A strong quake shook the coast.",
    ),
    STORM: (
        "A storm cut power to thousands of homes and halted ferries.",
        "A hurricane made landfall, destroying houses.",
        "A typhoon hit the coast with strong winds.",
    ),
    FLOOD: (
        "Floods swept through villages, killing dozens and displacing thousands.",
        "Heavy rain caused landslides and flooding.",
    ),
    FIRE: (
        "A wildfire burned thousands of hectares of forest.",
        "Firefighters battled a forest fire near the town.",
    ),
    DROUGHT: (
        "A severe drought destroyed crops across the region.",
        "A heat wave pushed temperatures to record levels.",
    ),
    DISASTER: (
        "An avalanche buried skiers on the mountain.",
        "A volcano erupted, forcing residents to flee.",
    ),
    TRANSPORT: (
        "A bus crashed into a truck on the highway, killing five.",
        "A train derailed, injuring dozens of passengers.",
        "A ferry capsized off the coast.",
    ),
    INDUSTRIAL: (
        "A gas explosion destroyed part of an apartment building.",
        "A fire broke out at a chemical plant.",
        "A mine collapsed, trapping workers underground.",
    ),
    CRIME: (
        "Robbers stole cash from a bank.",
        "A man was arrested for fraud.",
        "Police seized drugs from a smuggling gang.",
    ),
    TRIAL: (
        "The court sentenced the former minister to ten years in prison.",
        "A judge acquitted the defendant.",
    ),
    INVESTIGATION: (
        "Prosecutors opened an investigation into the company.",
        "Police are investigating the cause of the incident.",
    ),
    RESEARCH: (
        "Scientists discovered a new species in the deep sea.",
        "Researchers published a study showing the effect of the drug.",
    ),
    TECHNOLOGY: (
        "The company launched a new smartphone.",
        "The firm unveiled an artificial intelligence model.",
    ),
    SPACE: (
        "A rocket carried a satellite into orbit.",
        "A geomagnetic storm brought auroras to the night sky.",
        "Astronauts arrived at the space station.",
    ),
    OUTBREAK: (
        "Cases of dengue rose sharply in the province.",
        "An outbreak of cholera killed dozens of people.",
        "Health authorities reported new infections of the virus.",
    ),
    HEALTH_CARE: (
        "The health ministry extended vaccination to more districts.",
        "Hospitals began offering a new treatment.",
    ),
    MATCH: (
        "The Norwegian won the race ahead of his rival.",
        "The team beat its opponents 3-1 in the final.",
        "She took gold in the Olympic event.",
    ),
    TRANSFER_SPORT: (
        "The striker signed for a new club.",
        "The player joined the team on loan.",
    ),
    ARTS: (
        "The film premiered at the festival.",
        "The band released a new album.",
        "The museum opened an exhibition of paintings.",
    ),
    AWARD: (
        "The writer won a literary prize.",
        "The film won the award for best picture.",
    ),
}

#: Sentences that report no happening: opinion, background, description, attribution.
NO_EVENT_PROTOTYPES: tuple[str, ...] = (
    # Consequences: they belong to the happening reported before them, they are not one of their own.
    "Several buildings were damaged and windows were blown out.",
    "Some people were trapped under the rubble.",
    "Two of the injured were taken to hospital.",
    "Hundreds of homes were left without electricity.",
    "Firefighters put out the fire.",
    "Rescue crews worked through the night.",
    "The road was blocked by debris for several hours.",
    "Casualties unknown.",
    "There were no fatalities.",
    "No injuries were reported.",
    "The number of victims is not known.",
    '"We must do more to help the people," he said.',
    "He added that the situation remained difficult.",
    "The region has long been the scene of tensions.",
    "The town lies near the border, about 40 kilometres from the coast.",
    "The company employs about 4,800 people worldwide.",
    "It was not immediately clear who was responsible.",
    "Officials did not respond to a request for comment.",
    "The war began in February 2022.",
    "Analysts say the decision could have consequences.",
    "The report was published on the website.",
    "No concrete results have been announced so far.",
    "The ministry said more details would be released later.",
)

#: Below this cosine, a sentence without a clear trigger reports no event.
MIN_SIMILARITY = 0.42
#: The same for a sentence that names the day of what it reports.
MIN_SIMILARITY_DATED = 0.35
#: ... and it must beat the closest no-event example by this much.
NO_EVENT_MARGIN = 0.04
#: How much the embedding counts against trigger weights when both speak.
EMBEDDING_WEIGHT = 2.0
#: How much a weak trigger (below :data:`CLEAR_TRIGGER`) adds to the cosine, per unit of weight.
WEAK_TRIGGER_WEIGHT = 0.1
#: Triggers this far below the strongest one are not considered.
TRIGGER_SPREAD = 0.6
#: Characters of a sentence that the model sees at most (a guard; the token window is checked too).
MAX_CHARS = 1000

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class _Examples:
    """What a typer compares sentences with, read from its taxonomy on first use."""

    keys: list[Key]  # the (type, sub-type) pairs, in the columns' order
    owner: npt.NDArray[np.intp]  # for each example vector, the index of its key
    vectors: FloatArray  # the example sentences and descriptions, embedded
    no_event: FloatArray  # the examples of sentences that report nothing, embedded


@dataclass(frozen=True)
class _Rules:
    """The trigger rules of a typer's taxonomy; unlike the examples, ready without the model."""

    triggers: tuple[Trigger, ...]  # the trigger rules, restricted to the taxonomy's types
    screen: LiteralScreen  # skips the trigger rules that cannot match a sentence


@dataclass(frozen=True, slots=True)
class ClauseCues:
    """What the rules read in one sentence before the model sees it (:meth:`EventTyper.cues`)."""

    #: an opinion or background (:func:`reports_no_event`): typed as no event whatever the model says
    no_event: bool
    #: the weight of each (type, sub-type) the trigger rules see
    triggers: dict[Key, float]
    #: it names the day of what it reports
    dated: bool


class EventTyper:
    """Types sentences with trigger rules and the embedding model; see the module docstring.

    ``embedder`` defaults to the packaged all-MiniLM-L6-v2, loaded on first use; ``taxonomy`` to
    :func:`default_taxonomy`. The taxonomy is read, and the example sentences embedded, once per typer
    on its first :meth:`classify`.
    """

    def __init__(self, embedder: Embedder | None = None, taxonomy: Taxonomy | None = None) -> None:
        self._embedder = embedder
        self.taxonomy = taxonomy if taxonomy is not None else default_taxonomy()
        self._lock = threading.Lock()  # guards the examples
        self._model_lock = threading.Lock()  # guards loading the default model
        self._examples: _Examples | None = None
        self._rules: _Rules | None = None
        self._rules_lock = threading.Lock()  # apart: reading the rules must not wait for the model

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._model_lock:
                if self._embedder is None:
                    from ..embedding import SentenceTransformerEmbedder

                    self._embedder = SentenceTransformerEmbedder()
        return self._embedder

    def classify(self, sentences: Sequence[str]) -> list[TypeGuess | None]:
        """One guess per sentence, None where it reports no event; the model encodes all in one batch."""
        return self.classify_with_vectors(sentences)[0]

    def classify_with_vectors(self, sentences: Sequence[str]) -> tuple[list[TypeGuess | None], FloatArray]:
        """:meth:`classify`, and the sentences' embeddings (one normalised row each), which the
        pipeline reuses as what each event mention means, at no extra encoding cost."""
        if not sentences:
            return [], np.zeros((0, self.embedder.dim), dtype=np.float32)
        vectors = self.embed(sentences)
        return self.decide(self.cues(sentences), vectors), vectors

    def cues(self, sentences: Sequence[str]) -> list[ClauseCues]:
        """The rules' part of typing, which needs no model (so it may run beside the encoding).
        A sentence whose cues say ``no_event`` is typed as no event whatever its vector."""
        rules = self._prepare_rules()
        found: list[ClauseCues] = []
        for text in sentences:
            if reports_no_event(text):
                found.append(ClauseCues(True, {}, False))
                continue
            triggers = match_triggers(text, rules.triggers, screen=rules.screen)
            found.append(ClauseCues(False, triggers, _DAY.search(text) is not None))
        return found

    def embed(self, sentences: Sequence[str]) -> FloatArray:
        """The sentences' normalised embeddings as typing compares them, one row each."""
        if not sentences:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return self.embedder.encode([self._fit(text) for text in sentences])

    def decide(self, cues: Sequence[ClauseCues], vectors: FloatArray) -> list[TypeGuess | None]:
        """One guess per sentence from its :meth:`cues` and its row of ``vectors`` (the row of a
        sentence whose cues say ``no_event`` is not read, so it need not have been encoded)."""
        if len(cues) != len(vectors):
            raise ValueError(f"{len(cues)} sentences' cues but {len(vectors)} vectors")
        if not cues:
            return []
        examples = self._prepare()
        similarity = _key_similarity(vectors, examples)
        no_event = (vectors @ examples.no_event.T).max(axis=1)
        return [
            None if cue.no_event else self._decide(cue, similarity[row], float(no_event[row]), examples)
            for row, cue in enumerate(cues)
        ]

    def nearest(self, vector: FloatArray) -> TypeGuess:
        """The type and sub-type whose examples are closest to an embedded sentence, whatever the
        thresholds; for an article in which no sentence reads as an event, its lead sentence's nearest
        type says what it is about. The score is halved: a weak guess, and marked as one."""
        examples = self._prepare()
        similarity = _key_similarity(np.asarray(vector, dtype=np.float32)[None, :], examples)[0]
        by_key = dict(zip(examples.keys, similarity.tolist(), strict=True))
        best_key = max(by_key, key=lambda k: by_key[k])
        return _guess(best_key, by_key, min(1.0, max(0.0, by_key[best_key])) / 2)

    def _fit(self, text: str) -> str:
        """``text`` cut to what the model's window takes (for typing only; offsets are not affected)."""
        text = text[:MAX_CHARS]
        limit = self.embedder.max_tokens
        if surely_fits(text, limit):
            return text
        spans = self.embedder.token_spans(text)
        if len(spans) <= limit:
            return text
        return text[: spans[limit - 1][1]]

    def _prepare(self) -> _Examples:
        examples = self._examples
        if examples is None:
            with self._lock:
                examples = self._examples
                if examples is None:
                    examples = self._examples = self._embed_examples()
        return examples

    def _prepare_rules(self) -> _Rules:
        rules = self._rules
        if rules is None:
            with self._rules_lock:
                rules = self._rules
                if rules is None:
                    rules = self._rules = self._read_rules()
        return rules

    def _embed_examples(self) -> _Examples:
        keys, texts, owners = self._example_sentences()
        vectors = self.embedder.encode(texts + list(NO_EVENT_PROTOTYPES))
        return _Examples(
            keys=keys,
            owner=np.asarray(owners, dtype=np.intp),
            vectors=vectors[: len(texts)],
            no_event=vectors[len(texts) :],
        )

    def _read_rules(self) -> _Rules:
        known = set(self._example_sentences()[0])
        triggers = []
        for trigger in TRIGGERS:
            # A rule keeps the types the taxonomy has; a user's taxonomy may lack some of ours.
            targets = tuple(k for k in trigger.keys if k in known)
            if targets:
                triggers.append(trigger if targets == trigger.keys else replace(trigger, keys=targets))
        return _Rules(
            triggers=tuple(triggers), screen=LiteralScreen([trigger.pattern for trigger in triggers])
        )

    def _example_sentences(self) -> tuple[list[Key], list[str], list[int]]:
        """Every (type, sub-type) of the taxonomy with its example sentences and descriptions."""
        keys: list[Key] = []
        texts: list[str] = []
        owners: list[int] = []
        for event_type in self.taxonomy:
            whole: Key = (event_type.name, None)
            entries: list[tuple[Key, list[str]]] = [
                (whole, [event_type.description, *PROTOTYPES.get(whole, ())])
            ]
            for subtype, description in event_type.subtypes.items():
                key: Key = (event_type.name, subtype)
                entries.append((key, [description, *PROTOTYPES.get(key, ())]))
            for key, examples in entries:
                written = [e for e in examples if e.strip()]
                if written:
                    keys.append(key)
                    texts.extend(written)
                    owners.extend([len(keys) - 1] * len(written))
        return keys, texts, owners

    def _decide(
        self, cues: ClauseCues, similarity: FloatArray, no_event: float, examples: _Examples
    ) -> TypeGuess | None:
        by_key = dict(zip(examples.keys, similarity.tolist(), strict=True))
        found = cues.triggers
        top = max(found.values(), default=0.0)
        if top >= CLEAR_TRIGGER:
            return _from_triggers(found, top, by_key)
        best_key = max(by_key, key=lambda k: by_key[k] + WEAK_TRIGGER_WEIGHT * found.get(k, 0.0))
        best = by_key[best_key]
        # A sentence that dates what it tells ("on Saturday", "on 5 June") is more likely a report.
        floor = MIN_SIMILARITY_DATED if cues.dated else MIN_SIMILARITY
        if best < floor or best < no_event + NO_EVENT_MARGIN:
            return None
        return _guess(best_key, by_key, min(1.0, max(0.0, best)))


def _key_similarity(vectors: FloatArray, examples: _Examples) -> FloatArray:
    """Rows: sentences; columns: ``examples.keys``; each cell the best cosine over that key's examples."""
    cosine = vectors @ examples.vectors.T
    best = np.full((len(vectors), len(examples.keys)), -1.0, dtype=np.float32)
    np.maximum.at(best.T, examples.owner, cosine.T)
    return best


def _from_triggers(found: dict[Key, float], top: float, by_key: dict[Key, float]) -> TypeGuess:
    """The strongest cues compete; the model's similarity breaks near ties."""
    contenders = {k: w for k, w in found.items() if w >= top - TRIGGER_SPREAD}
    best_key = max(contenders, key=lambda k: contenders[k] + EMBEDDING_WEIGHT * _type_sim(k, by_key))
    score = _trigger_confidence(contenders[best_key], _type_sim(best_key, by_key))
    return _guess(best_key, by_key, score)


def _type_sim(key: Key, by_key: dict[Key, float]) -> float:
    if key[1] is not None:
        return by_key.get(key, 0.0)
    return max((s for k, s in by_key.items() if k[0] == key[0]), default=0.0)


def _guess(key: Key, by_key: dict[Key, float], score: float) -> TypeGuess:
    kind, subtype = key
    if subtype is None:
        # A type without a sub-type: the closest sub-type by the model, if it is close at all.
        own = {k[1]: s for k, s in by_key.items() if k[0] == kind and k[1] is not None}
        if own:
            candidate = max(own, key=lambda name: own[name])
            subtype = candidate if own[candidate] >= MIN_SIMILARITY else None
    return TypeGuess(kind, subtype, round(score, 4))
