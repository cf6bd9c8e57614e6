"""From one article to the happenings it reports: typed :class:`EventMention` records with evidence.

The pipeline runs stage by stage, each stage replaceable:

1. split the body into sentences and clauses (:mod:`.text`);
2. type each clause, or say it reports no event (:class:`.classify.EventTyper`);
3. group clauses into mentions: a typed clause joins an earlier mention of the same type whose places and
   date agree with it, else starts a new one; an untyped clause adds its facts (casualties, places...) to
   the mention just before it, when its places do not contradict that mention;
4. read each mention's facts from its clauses: date (:mod:`.dates`), places (:mod:`.places`), actors
   (:mod:`.actors`), casualties, quantities and targets (:mod:`.numbers`);
5. the clauses that gave anything become the mention's evidence, as offsets into ``Article.body``.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from ..models import Actor, Article, DatePrecision, EventMention, Evidence, Location, Quantity
from ..vectors import unit_mean
from .text import Sentence, split_clauses, split_sentences

if TYPE_CHECKING:
    # The stages load gazetteers and models; they are imported on first use, keeping imports light.
    from . import actors as actor_stage
    from . import dates as date_stage
    from . import numbers as number_stage
    from . import places as place_stage
    from .classify import ClauseCues, EventTyper, TypeGuess

__all__ = ["EventExtractor", "PendingMentions", "extract_events"]

FloatArray = npt.NDArray[np.float32]

#: Typed clauses scoring below this are read as reporting no event.
MIN_TYPE_SCORE = 0.0
#: Two explicit dates further apart than this mean two happenings, even of one type.
MAX_DAYS_APART = 3
#: Longest summary, in characters.
SUMMARY_CHARS = 300
# A clause's vector before the model has run (it is set before the mentions are built).
_NOT_YET: FloatArray = np.zeros(0, dtype=np.float32)


class _Spanned(Protocol):
    @property
    def start(self) -> int: ...


@dataclass
class _Facts:
    """What the stages found in one clause."""

    clause: Sentence
    guess: TypeGuess | None
    vector: FloatArray
    places: list[place_stage.PlaceMention]
    actors: list[actor_stage.ActorMention]
    date: date_stage.DateMention | None
    casualties: list[number_stage.CasualtyMention]
    quantities: list[number_stage.QuantityMention]
    targets: list[number_stage.TargetMention]
    #: the places of the whole sentence the clause belongs to (a fallback for a mention with none)
    sentence_places: list[place_stage.PlaceMention] = field(default_factory=list)

    @property
    def countries(self) -> set[str]:
        """Countries of every place named in this clause."""
        return {p.location.country for p in self.places}

    @property
    def specific_countries(self) -> set[str]:
        """Countries of the towns and regions named; a country named beside them ("Belgorod, near the
        border with Ukraine") is context, not where it happened."""
        return {p.location.country for p in self.places if not _is_country(p.location)}

    @property
    def has_facts(self) -> bool:
        return bool(self.places or self.casualties or self.quantities or self.targets or self.date)


@dataclass
class _Draft:
    """A mention being assembled from the clauses that report it."""

    guess: TypeGuess
    clauses: list[_Facts] = field(default_factory=list)

    @property
    def countries(self) -> set[str]:
        return {c for facts in self.clauses for c in facts.countries}

    @property
    def specific_countries(self) -> set[str]:
        return {c for facts in self.clauses for c in facts.specific_countries}

    @property
    def first_date(self) -> date_stage.DateMention | None:
        for facts in self.clauses:
            if facts.date is not None and not facts.date.attribution:
                return facts.date
        return None

    def accepts(self, facts: _Facts, *, typed: bool) -> bool:
        """Whether ``facts`` may describe this same happening."""
        if typed:
            assert facts.guess is not None
            if facts.guess.type != self.guess.type:
                return False
        # Towns and regions are compared with towns and regions; a clause naming only countries is
        # compared with every country this mention has named.
        if facts.specific_countries:
            theirs, mine = facts.specific_countries, self.specific_countries or self.countries
        else:
            theirs, mine = facts.countries, self.countries
        if theirs and mine and not theirs & mine:
            return False
        # Only two exact days tell two happenings apart; "in February 2022" beside "on Saturday" is
        # more often background than another event.
        first, other = self.first_date, facts.date
        if first is None or other is None or other.attribution:
            return True
        if first.precision != "day" or other.precision != "day":
            return True
        return abs((other.date - first.date).days) <= MAX_DAYS_APART


class EventExtractor:
    """Runs the stages over articles; holds the typer (and so the model) between calls."""

    def __init__(self, typer: EventTyper | None = None) -> None:
        self._typer = typer
        self._lock = threading.Lock()

    @property
    def typer(self) -> EventTyper:
        with self._lock:
            if self._typer is None:
                from .classify import EventTyper

                self._typer = EventTyper()
            return self._typer

    def extract(self, article: Article) -> list[EventMention]:
        """The event mentions of one article, in the order the article first reports them."""
        return self.extract_many([article])[0]

    def extract_many(self, articles: Sequence[Article]) -> list[list[EventMention]]:
        """Event mentions of several articles; the clauses of all of them are typed in one batch."""
        return [[m for m, _ in found] for found in self.extract_with_vectors(articles)]

    def extract_with_vectors(
        self, articles: Sequence[Article]
    ) -> list[list[tuple[EventMention, FloatArray]]]:
        """:meth:`extract_many`, each mention with a vector of what it says: the normalised mean of
        the embeddings of its typed clauses (computed while typing them, so free)."""
        return self.begin(articles).result()

    def begin(self, articles: Sequence[Article]) -> PendingMentions:
        """Start :meth:`extract_with_vectors`: the rules read ``articles`` in a background thread
        while the caller goes on (an index encodes the passages meanwhile); the model's part runs in
        :meth:`PendingMentions.result`, which returns what :meth:`extract_with_vectors` would."""
        return PendingMentions(self.typer, articles)


class PendingMentions:
    """Event mentions being extracted (:meth:`EventExtractor.begin`).

    The rules are plain Python and the model is native code that releases the interpreter's lock, so
    on two cores reading the articles costs almost nothing beside the encoding.
    """

    def __init__(self, typer: EventTyper, articles: Sequence[Article]) -> None:
        self._typer = typer
        self._articles = list(articles)
        clauses: Future[tuple[_Clauses, list[ClauseCues]]] | None = None
        facts: Future[list[list[_Facts]]] | None = None
        if self._articles:
            try:
                # One worker, so the facts are read after the clauses (which the model's part waits for).
                pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsindex-rules")
                try:
                    clauses = pool.submit(_clauses_and_cues, typer, self._articles)
                    facts = pool.submit(_read_facts, self._articles, clauses)
                finally:
                    pool.shutdown(wait=False)  # the worker ends once what it took is done
            except RuntimeError:
                # No thread to be had: the interpreter is shutting down (an atexit handler storing
                # what a crawler still holds) or a thread limit is reached. What the worker did not
                # take runs here.
                pass
        self._clauses = clauses or _run_here(_clauses_and_cues, typer, self._articles)
        self._facts = facts or _run_here(_read_facts, self._articles, self._clauses)

    def result(self) -> list[list[tuple[EventMention, FloatArray]]]:
        """The mentions of each article, as :meth:`EventExtractor.extract_with_vectors` returns them;
        waits for the rules and runs the model. An error in either is raised here."""
        typer = self._typer
        clauses, cues = self._clauses.result()
        texts = [clause.text for per_article in clauses for _, clause in per_article]
        vectors = np.zeros((len(texts), typer.embedder.dim), dtype=np.float32)
        # A clause the rules read as opinion or background is typed as no event whatever the model
        # says; it is encoded only if its article needs it below.
        wanted = [row for row, cue in enumerate(cues) if not cue.no_event]
        if wanted:
            vectors[wanted] = typer.embed([texts[row] for row in wanted])
        guesses = typer.decide(cues, vectors)
        read = self._facts.result()
        row = 0
        untyped: list[tuple[_Facts, int]] = []
        for facts in read:
            first = row
            for clause_facts in facts:
                guess = guesses[row]
                clause_facts.guess = None if guess is None or guess.score < MIN_TYPE_SCORE else guess
                clause_facts.vector = vectors[row]
                row += 1
            if facts and all(f.guess is None for f in facts):
                untyped.append((facts[0], first))
        missing = [row for _, row in untyped if cues[row].no_event]
        if missing:
            vectors[missing] = typer.embed([texts[row] for row in missing])
        for lead, row in untyped:
            # No sentence reads as an event: the article is still about something, and its lead
            # says what. A weak mention keeps it among the events (and lets it be merged).
            lead.vector = vectors[row]
            lead.guess = typer.nearest(lead.vector)
        return [_build_mentions(article, facts) for article, facts in zip(self._articles, read, strict=True)]


_Clauses = list[list[tuple[Sentence, Sentence]]]
_T = TypeVar("_T")


def _run_here(function: Callable[..., _T], *args: Any) -> Future[_T]:
    """``function(*args)`` run now, as a finished future: an error is raised by ``result()``, as the
    worker thread's would be."""
    future: Future[_T] = Future()
    try:
        future.set_result(function(*args))
    except Exception as exc:
        future.set_exception(exc)
    return future


def _clauses_and_cues(typer: EventTyper, articles: Sequence[Article]) -> tuple[_Clauses, list[ClauseCues]]:
    """Each article's (sentence, clause) pairs, and the rules' cues of every clause in that order."""
    clauses = [[(s, c) for s in split_sentences(a.body) for c in split_clauses(s)] for a in articles]
    return clauses, typer.cues([clause.text for per_article in clauses for _, clause in per_article])


def _read_facts(
    articles: Sequence[Article], clauses: Future[tuple[_Clauses, list[ClauseCues]]]
) -> list[list[_Facts]]:
    """What the stages find in each clause of each article; the type and vector are set later."""
    read = []
    for article, per_article in zip(articles, clauses.result()[0], strict=True):
        found = _read_article(article)
        facts = []
        for sentence, clause in per_article:
            clause_facts = _clause_facts(article, clause, found)
            clause_facts.sentence_places = _within(sentence, found.places)
            facts.append(clause_facts)
        read.append(facts)
    return read


@dataclass
class _Found:
    """Everything the stages found in a whole article body, each with offsets into it."""

    places: list[place_stage.PlaceMention]
    actors: list[actor_stage.ActorMention]
    casualties: list[number_stage.CasualtyMention]
    quantities: list[number_stage.QuantityMention]
    targets: list[number_stage.TargetMention]


def _read_article(article: Article) -> _Found:
    """Run the stages over the whole body at once: places are resolved with the article's other
    places as context ("Odessa" in a report on Ukraine), and figures with the sentences around them."""
    from . import actors as actor_stage
    from . import numbers as number_stage
    from . import places as place_stage

    body = article.body
    return _Found(
        places=place_stage.find_places(body),
        actors=actor_stage.find_actors(body),
        casualties=number_stage.find_casualties(body),
        quantities=number_stage.find_quantities(body),
        targets=number_stage.find_targets(body),
    )


def _within(clause: Sentence, found: Sequence[_Spanned]) -> list[Any]:
    return [item for item in found if clause.start <= item.start < clause.end]


def _clause_facts(article: Article, clause: Sentence, found: _Found) -> _Facts:
    from . import dates as date_stage

    return _Facts(
        clause=clause,
        guess=None,
        vector=_NOT_YET,
        places=_within(clause, found.places),
        actors=_within(clause, found.actors),
        date=date_stage.event_date(clause.text, article.published, base=clause.start),
        casualties=_within(clause, found.casualties),
        quantities=_within(clause, found.quantities),
        targets=_within(clause, found.targets),
    )


def _build_mentions(article: Article, clauses: list[_Facts]) -> list[tuple[EventMention, FloatArray]]:
    from .classify import escalate

    drafts: list[_Draft] = []
    current: _Draft | None = None
    # Facts read before the first typed clause ("In Mansehra on Sunday, ..." then "hundreds rallied")
    # belong to the first happening, if they agree with it.
    before: list[_Facts] = []
    for facts in clauses:
        if facts.guess is not None:
            # "Hundreds protested. Police dispersed them with tear gas.": the second sentence recodes
            # the first happening (a protest with intervention) rather than starting another.
            recoded = escalate(current.guess, facts.guess) if current is not None else None
            if current is not None and recoded is not None and current.accepts(facts, typed=False):
                current.guess = recoded
                current.clauses.append(facts)
                continue
            home = next((d for d in reversed(drafts) if d.accepts(facts, typed=True)), None)
            if home is None:
                home = _Draft(facts.guess)
                drafts.append(home)
            home.clauses.append(facts)
            if len(drafts) == 1 and before:
                earlier = [f for f in before if home.accepts(f, typed=False)]
                home.clauses[:0] = earlier
                before = []
            current = home
        elif current is None:
            if facts.has_facts:
                before.append(facts)
        elif facts.has_facts and current.accepts(facts, typed=False):
            current.clauses.append(facts)
    return [(_finish(article, draft), _meaning(draft)) for draft in drafts]


def _meaning(draft: _Draft) -> FloatArray:
    """The normalised mean of the embeddings of a mention's typed clauses."""
    return unit_mean([f.vector for f in draft.clauses if f.guess is not None])


def _finish(article: Article, draft: _Draft) -> EventMention:
    from . import numbers as number_stage

    typed = [f for f in draft.clauses if f.guess is not None]
    lead = typed[0]
    event_date, precision = _mention_date(article, draft)
    casualties = number_stage.combine_casualties([c for f in draft.clauses for c in f.casualties])
    evidence = [
        Evidence(article_id=article.id, start=f.clause.start, end=f.clause.end, text=f.clause.text)
        for f in draft.clauses
        if f.guess is not None or f.has_facts
    ]
    key = f"{article.id}\x1f{lead.clause.start}\x1f{draft.guess.type}"
    return EventMention(
        id=hashlib.sha256(key.encode("utf-8")).hexdigest()[:16],
        article_id=article.id,
        type=draft.guess.type,
        subtype=draft.guess.subtype,
        date=event_date,
        date_precision=precision,
        locations=_locations(draft),
        actors=_actors(draft),
        casualties=casualties,
        quantities=_quantities(draft),
        targets=list(dict.fromkeys(t.target for f in draft.clauses for t in f.targets)),
        summary=_summary(lead.clause.text),
        evidence=evidence,
        confidence=round(max(f.guess.score for f in typed if f.guess is not None), 4),
    )


def _mention_date(article: Article, draft: _Draft) -> tuple[date | None, DatePrecision | None]:
    found = [f.date for f in draft.clauses if f.date is not None]
    best = next((d for d in found if not d.attribution), found[0] if found else None)
    if best is not None:
        return best.date, best.precision
    if article.published is None:
        return None, None
    # Nothing dated: news reports what happened in the day or two before it was published.
    return article.published.date(), "week"


def _locations(draft: _Draft) -> list[Location]:
    found: dict[tuple[str, str], Location] = {}
    for facts in draft.clauses:
        for place in facts.places:
            found.setdefault((place.location.name, place.location.country), place.location)
    if not found:
        # "Gunboats opened fire at fishing boats, while chasing them off the coast of Rafah": the
        # place sits in another clause of the sentence that reports the happening.
        lead = next(f for f in draft.clauses if f.guess is not None)
        for place in lead.sentence_places:
            found.setdefault((place.location.name, place.location.country), place.location)
    locations = list(found.values())
    specific = [loc for loc in locations if not _is_country(loc)]
    # "near the border with Russia" names a country, not where it happened, once a city or region is known.
    return specific or locations


def _is_country(location: Location) -> bool:
    from . import places as place_stage

    return location.admin1 is None and place_stage.country_code(location.name) == location.country


def _actors(draft: _Draft) -> list[Actor]:
    found: dict[tuple[str, str], Actor] = {}
    for facts in draft.clauses:
        for mention in facts.actors:
            found.setdefault((mention.actor.name, mention.actor.role), mention.actor)
    return list(found.values())


def _quantities(draft: _Draft) -> list[Quantity]:
    best: dict[str, Quantity] = {}
    for facts in draft.clauses:
        for mention in facts.quantities:
            q = mention.quantity
            if q.item not in best or q.count > best[q.item].count:
                best[q.item] = q
    return list(best.values())


def _summary(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= SUMMARY_CHARS:
        return text
    return text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"


_DEFAULT = EventExtractor()


def extract_events(article: Article, *, typer: EventTyper | None = None) -> list[EventMention]:
    """The happenings ``article`` reports, as :class:`EventMention` records, first reported first.

    Works without an index. The default typer loads the packaged all-MiniLM-L6-v2 once per process.
    """
    if typer is not None:
        return EventExtractor(typer).extract(article)
    return _DEFAULT.extract(article)
