"""Which clauses does event typing need the model for, and how many events come from those? (issue 5,
ingest: the model encodes every clause, and that is a third of the ingest time.)

Each clause of ``--articles`` BBC articles (a fixed random sample) is put in one of four groups by the
rules alone: the no-event screen (an opinion in quotes, background), a clear trigger (the rule decides
the type), a weak trigger, or no trigger at all (the model decides alone). All are then typed as ingest
types them (``EventTyper``, the packaged model), and the clauses typed as an event (with at least the
score a mention needs) are counted per group, with the characters each group makes the model read.

    .venv/bin/python benchmarks/clause_routes.py [--articles 400]
"""

from __future__ import annotations

import argparse
import random
import warnings
from collections import Counter

from _common import data_file

from newsindex import load_articles
from newsindex.events.classify import CLEAR_TRIGGER, EventTyper, match_triggers, reports_no_event
from newsindex.events.pipeline import MIN_TYPE_SCORE
from newsindex.events.text import split_clauses, split_sentences

GROUPS = ("no-event screen", "clear trigger", "weak trigger", "no trigger")


def group_of(text: str) -> str:
    if reports_no_event(text):
        return GROUPS[0]
    top = max(match_triggers(text).values(), default=0.0)
    return GROUPS[1] if top >= CLEAR_TRIGGER else GROUPS[2] if top > 0 else GROUPS[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=400)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the BBC file's duplicate bodies are reported and kept
        articles = load_articles(data_file("topics-bbc.jsonl"), on_error="skip")
    random.Random(0).shuffle(articles)
    texts = [
        c.text for a in articles[: args.articles] for s in split_sentences(a.body) for c in split_clauses(s)
    ]
    groups = [group_of(text) for text in texts]
    guesses = EventTyper().classify(texts)
    clauses, chars, events = Counter(groups), Counter(), Counter()
    for text, group, guess in zip(texts, groups, guesses, strict=True):
        chars[group] += len(text)
        if guess is not None and guess.score >= MIN_TYPE_SCORE:
            events[group] += 1
    print(f"{args.articles} BBC articles, {len(texts):,} clauses, {sum(events.values()):,} typed as events")
    header = ("group", "clauses", "share", "chars", "events", "of events", "hit rate")
    print(f"{header[0]:<16} " + " ".join(f"{h:>9}" for h in header[1:]))
    for group in GROUPS:
        share_of_events = events[group] / max(1, sum(events.values()))
        print(
            f"{group:<16} {clauses[group]:>9,} {clauses[group] / len(texts):>9.1%} "
            f"{chars[group] / sum(chars.values()):>9.1%} {events[group]:>9,} "
            f"{share_of_events:>9.1%} {events[group] / max(1, clauses[group]):>9.1%}"
        )


if __name__ == "__main__":
    main()
