"""Event extraction against gold (issue 3): ACLED event records and the 5W1H gold phrases.

ACLED (``extract-acled-dev.jsonl``): each record's ``notes`` becomes one article (published at the
record's ``timestamp``, from its ``source``); the lead mention (the first one the pipeline returns) is
compared with the gold fields. ACLED's leading coder tags ("Property destruction:", "Other:") are cut off
first, because real news carries no such tags and the classifier must not lean on them. Issue floors:
type 0.85, sub-type 0.70, date exact 0.97, location found 0.85, country 0.95, fatalities exact 0.90.

5W1H (``extract-5w1h.jsonl``): how often the lead mention's where / when / who agree with the gold
phrases (no floor): *where* when a gold phrase contains a location's name or its wording in the text;
*when* when a gold phrase read as a date (against the article's publication time) is the mention's date;
*who* when a gold phrase contains an actor's name or wording.

    .venv/bin/python benchmarks/extraction.py [--limit N] [--acled PATH] [--five-w PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import time
import unicodedata
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from _common import data_file

from newsindex import Article
from newsindex.events.classify import EventTyper
from newsindex.events.dates import event_date
from newsindex.events.pipeline import EventExtractor
from newsindex.events.places import PlaceMention, country_code, country_name, main_country
from newsindex.models import EventMention

FLOORS = {
    "type": 0.85,
    "subtype": 0.70,
    "date": 0.97,
    "location": 0.85,
    "country": 0.95,
    "fatalities": 0.90,
}
#: Articles typed per batch: the pipeline encodes all their clauses in one call.
BATCH = 64
# ACLED's coder tags: "Property destruction: On 3 June ...", "Movement of forces: Around ...".
_TAG = re.compile(r"^[A-Z][A-Za-z/ -]{2,40}:\s+")


def folded(text: str) -> str:
    """Lower case, accents stripped, white space collapsed: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def read_jsonl(path: Path, limit: int | None) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                records.append(json.loads(line))
            if limit is not None and len(records) >= limit:
                break
    return records


def extract_leads(
    extractor: EventExtractor, articles: Sequence[Article]
) -> Iterator[tuple[Article, list[EventMention]]]:
    """Each article with its mentions, batch by batch (the same pipeline as ``extract_events``)."""
    for start in range(0, len(articles), BATCH):
        batch = articles[start : start + BATCH]
        yield from zip(batch, extractor.extract_many(batch), strict=True)


def mention_country(mention: EventMention | None) -> str | None:
    """The lead mention's main country, by :func:`~newsindex.events.places.main_country`'s vote over its
    locations (regions and towns outvote a country merely named), else its first actor that is a state."""
    if mention is None:
        return None
    places = [PlaceMention(0, 0, loc.mention, loc) for loc in mention.locations]
    code = main_country(places, [])
    if code is None:
        code = next((c for c in (country_code(a.name) for a in mention.actors) if c is not None), None)
    return country_name(code) if code is not None else None


# --- ACLED ---------------------------------------------------------------------------------------


def acled_article(record: dict[str, Any]) -> Article:
    return Article(
        body=_TAG.sub("", record["notes"], count=1),
        published=datetime.fromtimestamp(record["timestamp"], tz=UTC),
        source=record.get("source"),
    )


def score_acled(record: dict[str, Any], mention: EventMention | None) -> dict[str, bool]:
    gold_places = {folded(record[key]) for key in ("location", "admin1") if record.get(key)}
    found_places = {folded(loc.name) for loc in mention.locations} if mention else set()
    killed = mention.casualties.killed if mention and mention.casualties.killed is not None else 0
    country = mention_country(mention)
    return {
        "type": mention is not None and mention.type == record["event_type"],
        "subtype": mention is not None and mention.subtype == record["sub_event_type"],
        "date": mention is not None and mention.date == date.fromisoformat(record["event_date"]),
        "location": bool(gold_places & found_places),
        "country": country is not None and folded(country) == folded(record["country"]),
        "fatalities": killed == int(record["fatalities"] or 0),
    }


def evaluate_acled(path: Path, extractor: EventExtractor, limit: int | None) -> dict[str, Any]:
    records = read_jsonl(path, limit)
    articles = [acled_article(r) for r in records]
    started = time.perf_counter()
    leads = [mentions[0] if mentions else None for _, mentions in extract_leads(extractor, articles)]
    seconds = time.perf_counter() - started
    scores = [score_acled(record, lead) for record, lead in zip(records, leads, strict=True)]
    n = len(records)
    result: dict[str, Any] = {name: sum(s[name] for s in scores) / n for name in FLOORS}
    result["records"] = n
    result["no_mention"] = sum(lead is None for lead in leads)
    result["seconds"] = seconds
    result["records_per_s"] = n / seconds if seconds else float("nan")
    return result


# --- 5W1H ----------------------------------------------------------------------------------------


def parse_published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def five_w_article(record: dict[str, Any]) -> Article:
    return Article(
        id=record["id"],
        title=record.get("title"),
        body=record["text"],
        published=parse_published(record.get("published")),
        source=record.get("source"),
    )


def matches_where(phrases: list[str], mention: EventMention | None) -> bool:
    if mention is None:
        return False
    names = {folded(n) for loc in mention.locations for n in (loc.name, loc.mention) if n}
    return any(name and name in folded(p) for p in phrases for name in names)


def matches_who(phrases: list[str], mention: EventMention | None) -> bool:
    if mention is None:
        return False
    names = {folded(n) for actor in mention.actors for n in (actor.name, actor.mention) if n}
    return any(name and name in folded(p) for p in phrases for name in names)


def gold_dates(phrases: list[str], published: datetime | None) -> set[date]:
    found = set()
    for phrase in phrases:
        resolved = event_date(phrase, published)
        if resolved is not None:
            found.add(resolved.date)
    return found


def evaluate_five_w(path: Path, extractor: EventExtractor, limit: int | None) -> dict[str, Any]:
    records = read_jsonl(path, limit)
    articles = [five_w_article(r) for r in records]
    counts = {key: [0, 0] for key in ("where", "when", "who")}  # [matched, with gold]
    for record, (article, mentions) in zip(records, extract_leads(extractor, articles), strict=True):
        gold = record.get("five_w_one_h") or {}
        lead = mentions[0] if mentions else None
        if gold.get("where"):
            counts["where"][1] += 1
            counts["where"][0] += matches_where(gold["where"], lead)
        if gold.get("who"):
            counts["who"][1] += 1
            counts["who"][0] += matches_who(gold["who"], lead)
        dates = gold_dates(gold.get("when") or [], article.published)
        if dates:
            counts["when"][1] += 1
            counts["when"][0] += lead is not None and lead.date in dates
    result: dict[str, Any] = {key: {"matched": m, "of": of} for key, (m, of) in counts.items()}
    result["articles"] = len(records)
    return result


# --- output --------------------------------------------------------------------------------------


def print_acled(result: dict[str, Any]) -> None:
    n = result["records"]
    print(f"ACLED: {n} records (denominator of every row); lead mention = the first the pipeline returns")
    print(f"records without any mention: {result['no_mention']} (counted as wrong)")
    print(f"{'metric':<12} {'value':>7} {'floor':>6}  verdict")
    for name, floor in FLOORS.items():
        value = result[name]
        verdict = "ok" if value >= floor else "BELOW FLOOR"
        print(f"{name:<12} {value:>7.4f} {floor:>6.2f}  {verdict}")
    print(
        f"throughput   {result['records_per_s']:>7.1f} records/s ({result['seconds']:.0f} s for {n} records, "
        "model loaded before timing)"
    )


def print_five_w(result: dict[str, Any]) -> None:
    print(f"5W1H: {result['articles']} articles; lead mention against the gold phrases")
    print(f"{'field':<6} {'matched':>7} {'of':>4} {'fraction':>8}   denominator")
    notes = {
        "where": "articles with a gold where-phrase",
        "when": "articles whose gold when-phrase reads as a date",
        "who": "articles with a gold who-phrase",
    }
    for key, note in notes.items():
        matched, of = result[key]["matched"], result[key]["of"]
        fraction = matched / of if of else float("nan")
        print(f"{key:<6} {matched:>7} {of:>4} {fraction:>8.3f}   {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N records of each file")
    parser.add_argument("--acled", type=Path, help="ACLED records (default: extract-acled-dev.jsonl)")
    parser.add_argument("--five-w", type=Path, help="5W1H gold (default: extract-5w1h.jsonl)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args()
    acled_path = args.acled or data_file("extract-acled-dev.jsonl")
    five_w_path = args.five_w or data_file("extract-5w1h.jsonl")

    extractor = EventExtractor(EventTyper())
    started = time.perf_counter()
    extractor.extract_many([Article(body="Warm-up: the model and the gazetteers load here.")])
    load_s = time.perf_counter() - started
    acled = evaluate_acled(acled_path, extractor, args.limit)
    five_w = evaluate_five_w(five_w_path, extractor, args.limit)
    if args.json:
        print(json.dumps({"acled": acled, "five_w": five_w, "load_s": load_s}, indent=2))
        return
    print(f"model and gazetteers loaded in {load_s:.1f} s")
    print_acled(acled)
    print()
    print_five_w(five_w)


if __name__ == "__main__":
    main()
