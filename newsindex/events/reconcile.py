"""One :class:`Event` from the mentions that report it: fields reconciled across articles.

Dates span the earliest to the latest mention; places and actors are the union, one entry per canonical
name; casualties are the highest figures reported (the mentions keep who said what); quantities the
highest count per item; sources and report times come from the reporting articles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ..models import Actor, Article, Casualties, Event, EventMention, Location, Quantity

__all__ = ["build_event"]


def build_event(event_id: str, reports: Sequence[tuple[EventMention, Article]]) -> Event:
    """The event ``event_id`` from its mentions, each with the article that made it."""
    if not reports:
        raise ValueError(f"event {event_id} has no mentions")
    mentions = [m for m, _ in reports]
    articles = list({a.id: a for _, a in reports}.values())
    kind = Counter(m.type for m in mentions).most_common(1)[0][0]
    subtypes = Counter(m.subtype for m in mentions if m.type == kind and m.subtype)
    dates = sorted(m.date for m in mentions if m.date is not None)
    published = sorted(a.published for a in articles if a.published is not None)
    by_time = sorted(
        articles, key=lambda a: (a.published is None, a.published.timestamp() if a.published else 0.0, a.id)
    )
    titled = [a for a in by_time if a.title]
    first_mention = next(m for m in mentions if m.article_id == by_time[0].id) if mentions else None
    return Event(
        id=event_id,
        type=kind,
        subtype=subtypes.most_common(1)[0][0] if subtypes else None,
        # The first headline reporting it; else what the first report says.
        title=titled[0].title or "" if titled else (first_mention.summary if first_mention else ""),
        date=dates[0] if dates else None,
        end_date=dates[-1] if dates and dates[-1] != dates[0] else None,
        locations=_locations(mentions),
        actors=_actors(mentions),
        casualties=_casualties(mentions),
        quantities=_quantities(mentions),
        targets=list(dict.fromkeys(t for m in mentions for t in m.targets)),
        article_ids=[a.id for a in articles],
        sources=sorted({a.source for a in articles if a.source}, key=str.casefold),
        mentions=mentions,
        first_reported=published[0] if published else None,
        last_reported=published[-1] if published else None,
    )


def _locations(mentions: Sequence[EventMention]) -> list[Location]:
    found: dict[tuple[str, str], Location] = {}
    for mention in mentions:
        for place in mention.locations:
            key = (place.name.casefold(), place.country)
            known = found.get(key)
            # Keep the most specific form: the one that knows its region and coordinates.
            if known is None or (_detail(place) > _detail(known)):
                found[key] = place
    return list(found.values())


def _detail(place: Location) -> int:
    return sum(x is not None for x in (place.admin1, place.lat, place.geonameid))


def _actors(mentions: Sequence[EventMention]) -> list[Actor]:
    found: dict[tuple[str, str], Actor] = {}
    for mention in mentions:
        for actor in mention.actors:
            found.setdefault((actor.name.casefold(), actor.role), actor)
    return list(found.values())


def _casualties(mentions: Sequence[EventMention]) -> Casualties:
    def highest(field: str) -> tuple[int | None, bool]:
        figures = [
            (getattr(m.casualties, field), m.casualties.approximate)
            for m in mentions
            if getattr(m.casualties, field) is not None
        ]
        if not figures:
            return None, False
        return max(figures, key=lambda f: (f[0], not f[1]))

    killed, killed_approx = highest("killed")
    injured, injured_approx = highest("injured")
    return Casualties(killed=killed, injured=injured, approximate=killed_approx or injured_approx)


def _quantities(mentions: Sequence[EventMention]) -> list[Quantity]:
    best: dict[str, Quantity] = {}
    for mention in mentions:
        for quantity in mention.quantities:
            known = best.get(quantity.item)
            if known is None or quantity.count > known.count:
                best[quantity.item] = quantity
    return list(best.values())
