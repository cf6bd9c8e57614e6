"""The ``newsindex`` command (DESIGN §4).

Exit codes: 0 when everything worked; 1 when ``ingest`` added what it could but some records failed
(each listed on stderr); 2 on usage errors or when nothing could be done. Errors print one line on
stderr. Heavy modules are imported inside the commands so that ``newsindex --help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .models import AddReport, Event, EventMention, SearchHit

__all__ = ["main"]

FORMATS = ("auto", "text", "json", "jsonl", "html", "feed")
MODES = ("hybrid", "dense", "lexical")


class _UsageError(Exception):
    """A usage error found after argument parsing (exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsindex", description="Semantic search over news, on your own disk."
    )
    parser.add_argument("--version", action="version", version=f"newsindex {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    ingest = commands.add_parser("ingest", help="add articles from files and folders to an index")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked recursively)")
    ingest.add_argument("--index", required=True, metavar="DIR", help="index directory (created if missing)")
    ingest.add_argument(
        "--format", choices=FORMATS, default="auto", help="reader to use (default: by extension)"
    )
    ingest.add_argument("--model", help="embedding model for a new index (default: all-MiniLM-L6-v2)")
    ingest.add_argument(
        "-v", "--verbose", action="store_true", help="print 'added ID' / 'updated ID' as each batch commits"
    )
    ingest.add_argument("--json", action="store_true", help="print the AddReport as JSON")
    ingest.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another writer to finish (default: fail at once, naming it)",
    )

    search = commands.add_parser("search", help="search an index")
    search.add_argument("query")
    search.add_argument("--index", required=True, metavar="DIR")
    search.add_argument("-k", type=int, default=10, metavar="N", help="number of hits (default 10)")
    search.add_argument("--since", metavar="D", help="published on or after D (YYYY-MM-DD)")
    search.add_argument("--until", metavar="D", help="published on or before D (whole day)")
    search.add_argument("--source", action="append", metavar="S", help="only this source (repeatable)")
    search.add_argument("--language", action="append", metavar="L", help="only this language (repeatable)")
    search.add_argument("--location", action="append", metavar="L", help="only events at this place")
    search.add_argument("--type", action="append", metavar="T", help="only events of this type")
    search.add_argument("--mode", choices=MODES, default="hybrid")
    search.add_argument("--json", action="store_true", help="print the SearchHit list as JSON")

    events = commands.add_parser("events", help="list the events in an index as a timeline")
    events.add_argument("--index", required=True, metavar="DIR")
    events.add_argument("--since", metavar="D", help="happened on or after D (YYYY-MM-DD)")
    events.add_argument("--until", metavar="D", help="happened on or before D (whole day)")
    events.add_argument("--location", action="append", metavar="L", help="only events at this place")
    events.add_argument("--type", action="append", metavar="T", help="only events of this type or sub-type")
    events.add_argument("--source", action="append", metavar="S", help="only events this source reported")
    events.add_argument("--json", action="store_true", help="print the Event list as JSON")

    extract = commands.add_parser("extract", help="extract events from files (no index needed)")
    extract.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked recursively)")
    extract.add_argument(
        "--format", choices=FORMATS, default="auto", help="reader to use (default: by extension)"
    )
    extract.add_argument("--json", action="store_true", help="print the EventMention list as JSON")

    info = commands.add_parser("info", help="counts and settings of an index")
    info.add_argument("--index", required=True, metavar="DIR")
    info.add_argument("--json", action="store_true", help="print IndexStats as JSON")

    check = commands.add_parser("check", help="find damaged files in an index; --repair rebuilds them")
    check.add_argument("--index", required=True, metavar="DIR")
    check.add_argument("--repair", action="store_true", help="rebuild what is damaged from the store")
    check.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="wait for a writer")
    check.add_argument("--json", action="store_true", help="print the CheckReport as JSON")

    demo = commands.add_parser("demo", help="ingest seeds/ and show a few searches")
    demo.add_argument(
        "--index", metavar="DIR", help="where to build the demo index (default: a temporary one)"
    )
    demo.add_argument(
        "--seeds", metavar="DIR", default="seeds", help="folder of sample articles (default: seeds)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    from .errors import NewsIndexError

    try:
        handler = {
            "ingest": _ingest,
            "search": _search,
            "events": _events,
            "extract": _extract,
            "info": _info,
            "check": _check,
            "demo": _demo,
        }[args.command]
        return handler(args)
    except _UsageError as exc:
        print(f"newsindex {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except NewsIndexError as exc:
        print(f"newsindex {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"newsindex {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _one_line(text: str) -> str:
    """``text`` with control characters escaped: a file name may hold a newline, and each failure
    must stay one line on stderr."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _existing_index(directory: str) -> Path:
    path = Path(directory)
    if not (path / "store.sqlite").is_file():
        raise _UsageError(f"no index at {path} (create one with: newsindex ingest PATH --index {path})")
    return path


class _Progress:
    """A progress bar on stderr when it is a terminal; silent otherwise."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(desc="ingest", unit=" articles", file=sys.stderr, dynamic_ncols=True)
        self.done = 0

    def __call__(self, done: int, committed: list[tuple[str, str]]) -> None:
        if self.bar is not None:
            self.bar.update(done - self.done)
        self.done = done
        if self.verbose:
            for article_id, what in committed:
                print(f"{what} {article_id}", flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _ingest(args: argparse.Namespace) -> int:
    from .index import NewsIndex

    progress = _Progress(args.verbose)
    try:
        with NewsIndex.open(args.index, model=args.model, lock_timeout=args.wait) as ix:
            report = ix.add(args.paths, format=args.format, progress=progress)
    finally:
        progress.close()
    for failure in report.failed:
        where, reason = _one_line(failure.where), _one_line(failure.reason)
        print(f"newsindex ingest: failed: {where}: {reason}", file=sys.stderr)
    if args.json:
        _print_json(report.model_dump(mode="json"))
    else:
        print(_summary(report))
    if report.failed:
        nothing = not (report.added or report.updated or report.unchanged)
        return 2 if nothing else 1
    return 0


def _summary(report: AddReport) -> str:
    return (
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"skipped {report.skipped}, failed {len(report.failed)}"
    )


def _search(args: argparse.Namespace) -> int:
    from .index import NewsIndex

    with NewsIndex.open(_existing_index(args.index), read_only=True) as ix:
        hits = ix.search(
            args.query,
            k=args.k,
            mode=args.mode,
            since=args.since,
            until=args.until,
            sources=args.source,
            languages=args.language,
            locations=args.location,
            event_types=args.type,
        )
    if args.json:
        _print_json([hit.model_dump(mode="json") for hit in hits])
    else:
        if not hits:
            print("no matching articles")
        for hit in hits:
            print(_format_hit(hit))
    return 0


def _format_hit(hit: SearchHit, width: int = 320) -> str:
    article = hit.article
    when = article.published.date().isoformat() if article.published else "undated"
    origin = ", ".join(x for x in (article.source, when) if x)
    title = article.title or article.body[:80].split("\n")[0]
    passage = " ".join(hit.passage.split())
    if len(passage) > width:
        passage = passage[: width - 1].rstrip() + "…"
    return f"{hit.rank:>2}. {title}  ({origin})  [{hit.score:.4f}]  id={article.id}\n    {passage}\n"


def _events(args: argparse.Namespace) -> int:
    from .index import NewsIndex

    with NewsIndex.open(_existing_index(args.index), read_only=True) as ix:
        events = ix.events(
            since=args.since,
            until=args.until,
            locations=args.location,
            event_types=args.type,
            sources=args.source,
        )
    if args.json:
        _print_json([event.model_dump(mode="json") for event in events])
    elif not events:
        print("no matching events")
    else:
        for event in events:
            print(_format_event(event))
    return 0


def _format_event(event: Event) -> str:
    """One timeline line: date, type, places, casualties, number of sources, title."""
    when = event.date.isoformat() if event.date else "undated   "
    if event.end_date:
        when += f"..{event.end_date.isoformat()}"
    kind = event.type + (f" / {event.subtype}" if event.subtype else "")
    places = ", ".join(dict.fromkeys(f"{p.name} ({p.country})" for p in event.locations)) or "place unknown"
    reports, sources = len(event.article_ids), len(event.sources)
    counted = f"{reports} report{'s' * (reports != 1)}, {sources} source{'s' * (sources != 1)}"
    line = f"{when}  {kind}  {places}  {_format_casualties(event)}  {counted}"
    return f"{line}\n    {event.title}"


def _format_casualties(event: Event | EventMention) -> str:
    c = event.casualties
    if c.killed is None and c.injured is None:
        return "casualties not reported"
    about = "~" if c.approximate else ""
    killed = "?" if c.killed is None else f"{about}{c.killed}"
    injured = "?" if c.injured is None else f"{about}{c.injured}"
    return f"killed {killed}, injured {injured}"


def _extract(args: argparse.Namespace) -> int:
    from .events.pipeline import EventExtractor
    from .ingest import iter_load
    from .models import Article, Failure

    extractor = EventExtractor()
    found: list[EventMention] = []
    failures = 0
    articles: list[Article] = []
    for outcome in iter_load(args.paths, args.format):
        if isinstance(outcome, Article):
            articles.append(outcome)
        elif isinstance(outcome, Failure):
            failures += 1
            where, reason = _one_line(outcome.where), _one_line(outcome.reason)
            print(f"newsindex extract: failed: {where}: {reason}", file=sys.stderr)
    for article, mentions in zip(articles, extractor.extract_many(articles), strict=True):
        found.extend(mentions)
        if not args.json:
            title = article.title or " ".join(article.body[:80].split())
            print(f"{article.id}  {title}")
            if not mentions:
                print("    no events found")
            for mention in mentions:
                print("    " + _format_mention(mention))
    if args.json:
        _print_json([mention.model_dump(mode="json") for mention in found])
    if failures:
        return 2 if not articles else 1
    return 0


def _format_mention(mention: EventMention) -> str:
    when = mention.date.isoformat() if mention.date else "undated"
    kind = mention.type + (f" / {mention.subtype}" if mention.subtype else "")
    places = ", ".join(f"{p.name} ({p.country})" for p in mention.locations) or "place unknown"
    counts = ", ".join(f"{q.count} {q.item}" for q in mention.quantities)
    parts = [when, kind, places, _format_casualties(mention)] + ([counts] if counts else [])
    return "  ".join(parts) + f"\n      {mention.summary}"


def _info(args: argparse.Namespace) -> int:
    from .index import NewsIndex

    with NewsIndex.open(_existing_index(args.index), read_only=True) as ix:
        stats = ix.stats()
    if args.json:
        _print_json(stats.model_dump(mode="json"))
    else:
        for name, value in stats.model_dump(mode="json").items():
            print(f"{name:>18}: {value}")
    return 0


def _check(args: argparse.Namespace) -> int:
    """Exit 0 when the index is sound (or was repaired), 1 when damage remains."""
    from .check import check_index

    report = check_index(_existing_index(args.index), repair=args.repair, lock_timeout=args.wait)
    if args.json:
        _print_json(report.model_dump(mode="json"))
    else:
        print(f"checked {report.path}: {', '.join(report.checked)}")
        for finding in report.findings:
            state = "repaired" if finding.repaired else ("NOT repaired" if args.repair else "found")
            print(f"{state}: {finding.file}: {finding.problem} (repair: {finding.repair})")
        if report.ok:
            print(f"ok: {report.articles} articles, {report.passages} passages")
        elif not args.repair:
            print(f"run `newsindex check --index {args.index} --repair` to rebuild what can be rebuilt")
    return 0 if report.ok else 1


DEMO_QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("drone and missile attack on Ukrainian energy infrastructure", {}),
    ("peace negotiations mediated by the United States", {}),
    ("earthquake damage and casualties", {}),
    ("shelling of a city in southern Ukraine", {"since": "2026-01-15"}),
]


def _demo(args: argparse.Namespace) -> int:
    from .index import NewsIndex

    seeds = Path(args.seeds)
    if not seeds.is_dir():
        raise _UsageError(f"no folder {seeds}; run the demo from the project folder or pass --seeds DIR")
    with tempfile.TemporaryDirectory(prefix="newsindex-demo-") as tmp:
        where = Path(args.index) if args.index else Path(tmp) / "demo.idx"
        print(f"Ingesting {seeds}/ into {where} ...")
        progress = _Progress(verbose=False)
        try:
            with NewsIndex.open(where) as ix:
                report = ix.add(seeds, progress=progress)
                progress.close()
                print(_summary(report))
                for failure in report.failed:
                    print(f"  failed: {failure.where}: {failure.reason}")
                stats = ix.stats()
                print(f"{stats.articles} articles, {stats.passages} passages, {stats.sources} sources\n")
                for query, filters in DEMO_QUERIES:
                    shown = ", ".join(f"{k}={v}" for k, v in filters.items())
                    print(f"Search: {query!r}" + (f"  ({shown})" if shown else ""))
                    for hit in ix.search(query, k=3, **filters):
                        print(_format_hit(hit, width=240))
                seed = next((a for a in ix.search(DEMO_QUERIES[0][0], k=1)), None)
                if seed is not None:
                    print(f"Events reported by {seed.article.id} (the top hit above):")
                    for event in ix.article_events(seed.article.id):
                        print(_format_event(event))
                    print()
                print("Timeline of events since 2026-01-01:")
                for event in ix.events(since="2026-01-01"):
                    print(_format_event(event))
        finally:
            progress.close()
    return 0
