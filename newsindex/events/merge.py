"""Online merging: each new event mention joins an existing Event or starts a new one.

A mention is compared with the events reported within two years of it (``MergePolicy.candidate_days``),
never with the whole index, so the cost of an ``add`` grows with the number of recent events only.
The decision weighs:

* meaning: the cosine between the mention's vector and the event's centroid (the normalised sum of its
  mentions' vectors). An article's lead mention is represented by the whole article (the mean of its
  passage vectors); other mentions by the clauses that report them;
* time: reports further apart than ``window_days`` lose ``time_slope`` per unit of log-distance;
* dates: two explicit days (``date_precision == "day"``) that disagree cost ``date_conflict``, and for
  happenings that occur at one moment (attacks, clashes, protests, disasters, accidents...) of the same
  type, more than ``point_tolerance_days`` apart cost ``point_date_conflict``: a strike on the same city a
  week later is another strike;
* coherence: an event whose reports agree closely (``coherence_min_size`` or more) asks a newcomer to
  come within ``coherence_margin`` of that agreement, so tight clusters are not diluted;
* wording: when an article's lead mention carries the rare words of its title and first lines
  (:func:`lead_terms`), their IDF-weighted cosine with the words of the event's lead reports adds
  ``lexical_weight`` per unit above ``lexical_base`` (and takes as much below it). Two earthquakes or two
  plane crashes read alike to an embedding but name different places, airlines, people and numbers;
  a story's later reports repeat its names. The IDF counts events, not articles, so a story with many
  reports does not make its own names common. Mentions without words (``Newcomer.terms is None``) are
  decided as before.

An article's lead mention joins only events some article leads with: what a report is mainly about is
matched with what other reports are mainly about. A secondary mention (the Belgorod strike in a report on
an attack on Ukraine) may join any event but leaves its centroid as it is, so asides do not pull an event
away from what its reports are about; with no event to join it starts one of its own.

A mention joins the best-scoring event when its score reaches ``threshold``. The result depends on the
order in which articles arrive only as online clustering must: within one ``add`` batch articles are
taken in order of publication (then id), so a batch gives the same events whatever order it came in.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from .text import word_set

__all__ = [
    "EVENT_TERMS",
    "LEAD_CHARS_PER_WORD",
    "LEAD_WORDS",
    "POINT_TYPES",
    "EventPool",
    "EventState",
    "MergePolicy",
    "Newcomer",
    "lead_terms",
]

FloatArray = npt.NDArray[np.float32]

#: Types whose events happen at one moment: two explicit dates far apart mean two events.
POINT_TYPES = frozenset(
    {
        "Battles",
        "Explosions/Remote violence",
        "Violence against civilians",
        "Protests",
        "Riots",
        "Disaster",
        "Accident",
    }
)

_DAY = 86400.0

#: How many words of the body (after the title) stand for what an article is about.
LEAD_WORDS = 60
LEAD_CHARS_PER_WORD = 40
#: Words an event keeps (see ``MergePolicy.event_terms``).
EVENT_TERMS = 256
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+|\d[\d,.]*\d|\d")
# Words every report uses whatever it is about (shorter ones are dropped anyway); leaving them out keeps
# the IDF on names and specifics.
_COMMON = word_set(
    """the and but for with about against between into through during before after above below from down out
    off over under again further then once here there when where why how all any both each few more most
    other some such nor not only own same than too very can will just don should now are was were been
    being have has had having does did doing our you your him his she her its they them their what which
    who whom this that these those would could also said says say new one two three year years told tuesday
    monday wednesday thursday friday saturday sunday last first week weeks day days time people may like
    get got make made many much well back even still way since while according report reported reports news"""
)


def lead_terms(title: str | None, body: str, words: int = LEAD_WORDS) -> Counter[str]:
    """The words an article leads with: each word of the title and of the first ``words`` words of the
    body (lower-cased, common words dropped), with how often it occurs there."""
    # A prefix ample for ``words`` words: a million-character body costs no more than a short one.
    terms: Counter[str] = Counter(_words(body[: words * LEAD_CHARS_PER_WORD])[:words])
    terms.update(_words(title or ""))
    return terms


def _words(text: str) -> list[str]:
    found = []
    for word in _WORD.findall(text):
        word = word.lower().strip("'-").replace("'s", "")
        if len(word) >= 3 and word not in _COMMON:
            found.append(word)
    return found


#: How many of the nearest events in meaning a mention is weighed against.
NEAREST = 16
#: How many announced mentions are compared with the events in one product (see EventPool.expect).
LOOK_AHEAD = 64


@dataclass(frozen=True)
class MergePolicy:
    """The weights of the merge decision (one default configuration for all collections)."""

    threshold: float = 0.55
    lexical_weight: float = 0.5
    lexical_base: float = 0.2
    #: An event keeps the words its reports use most, at most this many (twice that before pruning), so
    #: that weighing the words of a long story costs the same as those of a fresh event.
    event_terms: int = EVENT_TERMS
    window_days: float = 3.0
    time_slope: float = 0.05
    date_conflict: float = 0.0
    point_date_conflict: float = 0.25
    point_tolerance_days: int = 2
    coherence_margin: float = 0.35
    coherence_min_size: int = 2
    #: Events last reported more than this many days before (or first after) a mention are not compared:
    #: stories do resurface a year later, but the time term has all but ruled them out by then.
    candidate_days: float = 730.0


@dataclass
class EventState:
    """What merging needs to know of one event."""

    id: str
    centroid: FloatArray  # the sum of the vectors of its lead mentions (or of its first mention)
    size: int  # how many vectors that sum holds
    leads: int  # how many articles lead with it
    first_ts: float
    last_ts: float
    #: the distinct (day ordinal, type) pairs of its mentions dated to the day
    days: list[tuple[int, str]] = field(default_factory=list)
    types: Counter[str] = field(default_factory=Counter)
    #: the summed :func:`lead_terms` of the lead mentions that carried words
    terms: Counter[str] = field(default_factory=Counter)

    @property
    def type(self) -> str:
        return self.types.most_common(1)[0][0] if self.types else ""

    def add_day(self, day: int, kind: str) -> None:
        """Note a mention dated to ``day``; each pair is kept once, so a long story's list stays short."""
        if (day, kind) not in self.days:
            self.days.append((day, kind))

    def add_terms(self, terms: Mapping[str, float], keep: int) -> None:
        """Count a lead report's words in; past ``2 * keep`` words only the ``keep`` most used stay."""
        self.terms.update(terms)
        if len(self.terms) > 2 * keep:
            self.terms = Counter(dict(self.terms.most_common(keep)))


@dataclass(frozen=True)
class Newcomer:
    """A mention about to be merged: its vector, report time, explicit day and type, and for a lead
    mention the words its article leads with (``None``: not known, wording is not weighed)."""

    id: str
    vector: FloatArray
    report_ts: float
    day: date | None  # only when known to the day
    type: str
    lead: bool = True  # the first mention of its article
    terms: Mapping[str, float] | None = None


class EventPool:
    """The events a writer compares new mentions with, held in memory as arrays."""

    def __init__(self, dim: int, policy: MergePolicy | None = None) -> None:
        self.dim = dim
        self.policy = policy or MergePolicy()
        self.events: dict[str, EventState] = {}
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._centroids = np.zeros((0, dim), dtype=np.float32)
        self._first = np.zeros(0, dtype=np.float64)
        self._last = np.zeros(0, dtype=np.float64)
        # Event-level document frequencies of the words events lead with, kept as events change.
        self._df: Counter[str] = Counter()
        self._counted: dict[str, frozenset[str]] = {}
        self._ahead = _LookAhead()

    def load(self, states: Iterable[EventState]) -> None:
        for state in states:
            self.put(state)

    def put(self, state: EventState) -> None:
        """Add or replace an event."""
        self.events[state.id] = state
        row = self._rows.get(state.id)
        if row is None:
            row = len(self._ids)
            self._ids.append(state.id)
            self._rows[state.id] = row
            self._grow(row + 1)
        else:
            self._ahead.changed(row)
        norm = float(np.linalg.norm(state.centroid))
        self._centroids[row] = state.centroid / norm if norm > 0 else state.centroid
        self._first[row] = state.first_ts
        self._last[row] = state.last_ts
        self._count_terms(state.id, frozenset(state.terms))

    def drop(self, event_id: str) -> None:
        """Forget an event (its row stays, marked so that it is never a candidate)."""
        self.events.pop(event_id, None)
        self._count_terms(event_id, frozenset())
        row = self._rows.get(event_id)
        if row is not None:
            self._first[row] = math.inf
            self._last[row] = -math.inf

    def _count_terms(self, event_id: str, terms: frozenset[str]) -> None:
        old = self._counted.get(event_id, frozenset())
        if old == terms:
            return
        for term in old - terms:
            self._df[term] -= 1
            if self._df[term] <= 0:
                del self._df[term]
        self._df.update(terms - old)
        if terms:
            self._counted[event_id] = terms
        else:
            self._counted.pop(event_id, None)

    def _grow(self, rows: int) -> None:
        if rows <= len(self._first):
            return
        size = max(rows, 2 * len(self._first), 64)
        centroids = np.zeros((size, self.dim), dtype=np.float32)
        centroids[: len(self._centroids)] = self._centroids
        first = np.full(size, math.inf)
        first[: len(self._first)] = self._first
        last = np.full(size, -math.inf)
        last[: len(self._last)] = self._last
        self._centroids, self._first, self._last = centroids, first, last

    def expect(self, newcomers: Iterable[tuple[str, FloatArray]]) -> None:
        """Announce the (mention id, vector) pairs about to be assigned, in order.

        Comparing one mention with every event reads all the centroids; announced mentions are compared
        :data:`LOOK_AHEAD` at a time in one matrix product, which reads them once per group. Only the
        events changed or created since are compared again, so the decisions are the same.
        """
        self._ahead = _LookAhead(newcomers)

    def assign(self, newcomer: Newcomer, exclude: Collection[str] = ()) -> str:
        """The id of the event ``newcomer`` joins (its own id when it starts one); the pool is updated.

        ``exclude`` names events it may not join: those the same article's other mentions are in, since
        the extractor has already judged them to be different happenings.
        """
        best = self._best(newcomer, exclude)
        if best is None:
            state = EventState(
                id=newcomer.id,
                centroid=newcomer.vector.astype(np.float32).copy(),
                size=1,
                leads=int(newcomer.lead),
                first_ts=newcomer.report_ts,
                last_ts=newcomer.report_ts,
            )
            if newcomer.lead and newcomer.terms:
                state.add_terms(newcomer.terms, self.policy.event_terms)
        else:
            state = self.events[best]
            if newcomer.lead:
                state.centroid = state.centroid + newcomer.vector
                state.size += 1
                state.leads += 1
                if newcomer.terms:
                    state.add_terms(newcomer.terms, self.policy.event_terms)
            state.first_ts = min(state.first_ts, newcomer.report_ts)
            state.last_ts = max(state.last_ts, newcomer.report_ts)
        if newcomer.day is not None:
            state.add_day(newcomer.day.toordinal(), newcomer.type)
        state.types[newcomer.type] += 1
        self.put(state)
        return state.id

    def _best(self, newcomer: Newcomer, exclude: Collection[str]) -> str | None:
        policy = self.policy
        span = policy.candidate_days * _DAY
        t = newcomer.report_ts
        count = len(self._ids)
        rows = np.flatnonzero((self._first[:count] - span <= t) & (self._last[:count] + span >= t))
        if not len(rows):
            return None
        cosines = self._ahead.cosines(newcomer, self._centroids[:count])
        if len(rows) < count:
            cosines = cosines[rows]
        # The 16 nearest in meaning are weighed: shared words can lift one of them, and the cost of
        # comparing words stays bounded however many events the window holds.
        nearest = min(NEAREST, len(rows))
        order = np.argpartition(-cosines, nearest - 1)[:nearest]
        order = order[np.argsort(-cosines[order], kind="stable")]
        best_id, best_margin = None, 0.0
        for position in order:
            event_id = self._ids[int(rows[position])]
            state = self.events.get(event_id)
            if state is None or event_id in exclude or (newcomer.lead and not state.leads):
                continue
            margin = float(cosines[position]) - self._penalty(newcomer, state) - self._needed(state)
            if newcomer.lead and newcomer.terms and state.terms:
                lexical = self._lexical(newcomer.terms, state.terms)
                margin += policy.lexical_weight * (lexical - policy.lexical_base)
            if margin >= best_margin:
                best_id, best_margin = event_id, margin
        return best_id

    def _penalty(self, newcomer: Newcomer, state: EventState) -> float:
        policy = self.policy
        penalty = 0.0
        t = newcomer.report_ts
        gap = max(state.first_ts - t, t - state.last_ts, 0.0) / _DAY
        if gap > policy.window_days:
            penalty += policy.time_slope * math.log(gap / policy.window_days)
        if newcomer.day is not None and state.days:
            day = newcomer.day.toordinal()
            same_kind = [d for d, kind in state.days if kind == newcomer.type]
            if (
                newcomer.type in POINT_TYPES
                and same_kind
                and min(abs(day - d) for d in same_kind) > policy.point_tolerance_days
            ):
                penalty += policy.point_date_conflict
            elif min(abs(day - d) for d, _ in state.days) > 1:
                penalty += policy.date_conflict
        return penalty

    def _lexical(self, terms: Mapping[str, float], event_terms: Counter[str]) -> float:
        """The cosine of the IDF-weighted words of a newcomer and of an event."""
        events = len(self._counted)
        idf = {t: math.log((events + 1) / (self._df.get(t, 0) + 1)) for t in terms}
        dot = sum(w * event_terms.get(t, 0) * idf[t] ** 2 for t, w in terms.items())
        if dot <= 0:
            return 0.0
        own = math.sqrt(sum((w * idf[t]) ** 2 for t, w in terms.items()))
        theirs = math.sqrt(
            sum((c * math.log((events + 1) / (self._df.get(t, 0) + 1))) ** 2 for t, c in event_terms.items())
        )
        return dot / (own * theirs) if own > 0 and theirs > 0 else 0.0

    def _needed(self, state: EventState) -> float:
        policy = self.policy
        if state.size < policy.coherence_min_size:
            return policy.threshold
        coherence = float(np.linalg.norm(state.centroid)) / state.size
        return max(policy.threshold, coherence - policy.coherence_margin)


class _LookAhead:
    """Cosines of announced mentions with the event centroids, computed a group at a time."""

    def __init__(self, newcomers: Iterable[tuple[str, FloatArray]] = ()) -> None:
        pairs = list(newcomers)
        self._position = {mention_id: pos for pos, (mention_id, _) in enumerate(pairs)}
        self._vectors = [np.asarray(vector, dtype=np.float32) for _, vector in pairs]
        self._start = 0
        self._block = np.zeros((0, 0), dtype=np.float32)  # rows: mentions from _start; columns: events
        self._changed: set[int] = set()  # events whose centroid changed since the block was computed

    def changed(self, row: int) -> None:
        if row < self._block.shape[1]:
            self._changed.add(row)

    def cosines(self, newcomer: Newcomer, centroids: FloatArray) -> FloatArray:
        """The cosine of ``newcomer`` with each row of ``centroids`` (the pool's events, in order)."""
        pos = self._position.get(newcomer.id)
        if pos is None or not np.array_equal(self._vectors[pos], newcomer.vector):
            return centroids @ newcomer.vector
        if not self._start <= pos < self._start + len(self._block):
            group = np.stack(self._vectors[pos : pos + LOOK_AHEAD])
            self._block = group @ centroids.T
            self._start = pos
            self._changed = set()
        known = self._block.shape[1]
        cosines = np.empty(len(centroids), dtype=np.float32)
        cosines[:known] = self._block[pos - self._start]
        stale = sorted(self._changed) + list(range(known, len(centroids)))
        if stale:
            cosines[stale] = centroids[stale] @ newcomer.vector
        return cosines
