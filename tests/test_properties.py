"""Property tests (hypothesis) for issue 6, item 5.

1. Every public model survives a JSON round trip unchanged.
2. Ingest of arbitrary text (control characters, NULs, RTL marks, emoji, combining marks, lone
   surrogates, very long words): one clean outcome per record, never an exception out of a skip-mode
   ``add``, never a hang; what is stored is what the loader produced, and every offset the library
   hands out (passages, search hits, highlights, event evidence) slices the body it points into.
3. A state machine drives one writer and one read-only handle through add / update / re-add / delete /
   search / reopen sequences and compares both with a plain dict of what should be visible.

Reproducibility: by default every test runs a fixed, derandomised search (the same examples on every
run, no example database), so a red CI run is always reproducible and never a matter of luck. A real
but rare bug is hunted with a longer random search::

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/test_properties.py -p no:cacheprovider

which multiplies the number of examples by 25 and draws fresh ones on every run (a failure prints a
``@reproduce_failure`` blob to replay it).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, get_args

import pytest
from conftest import ROOT, HashingEmbedder
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from pydantic import BaseModel

from newsindex import (
    Actor,
    AddReport,
    Article,
    ArticleNotFoundError,
    Casualties,
    Event,
    EventHit,
    EventMention,
    Evidence,
    Failure,
    IndexStats,
    IngestError,
    Location,
    NewsIndex,
    NewsIndexError,
    Quantity,
    SearchHit,
    extract_events,
    load_articles,
)
from newsindex.events.classify import EventTyper
from newsindex.ingest import make_article
from newsindex.models import ActorRole, DatePrecision
from newsindex.passages import split_passages

# --------------------------------------------------------------------------------------------------
# Settings

LONG_RUN = os.environ.get("HYPOTHESIS_PROFILE") == "long"


def budget(examples: int, **overrides: Any) -> settings:
    """Settings for one test: ``examples`` in CI, 25 times as many fresh ones in a long run.

    ``deadline=None``: the machines running CI are shared and loaded, so per-example timing would flag
    noise; hangs are caught on purpose where they matter (see :func:`test_text_loader_never_hangs`).
    """
    return settings(
        max_examples=examples * 25 if LONG_RUN else examples,
        derandomize=not LONG_RUN,
        database=None,
        deadline=None,
        print_blob=LONG_RUN,
        **overrides,
    )


# --------------------------------------------------------------------------------------------------
# Strategies: the models, valid by construction

# Lone surrogates cannot be written as UTF-8 JSON at all; what the library does with them is the
# subject of its own tests below, so the round-trip strategies leave them out.
NO_SURROGATES: tuple[Literal["Cs"], ...] = ("Cs",)
plain_text = st.text(st.characters(exclude_categories=NO_SURROGATES), max_size=30)
optional_text = st.none() | plain_text
# Strings whose stripped form is not empty, for fields that would otherwise become None or be derived.
non_blank_text = st.builds(
    lambda before, core, after: before + core + after,
    plain_text,
    st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
    plain_text,
)
# JSON has no NaN or infinity (their fate in ``metadata`` is tested separately, see
# test_metadata_non_finite_floats_are_kept_or_refused); any finite float and any size of integer is fair.
finite_floats = st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_floats | plain_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_text, inner, max_size=3),
    max_leaves=8,
)
# Offsets kept within a day so converting any of these instants to UTC stays inside datetime's range.
time_zones: st.SearchStrategy[Any] = (
    st.none()
    | st.just(UTC)
    | st.builds(
        timezone,
        st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)),
    )
)
instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=time_zones)
publication_times = st.none() | instants | st.dates() | st.integers(-(10**10), 10**11)
language_tags = st.none() | st.from_regex(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,2}", fullmatch=True)


@st.composite
def articles(draw: st.DrawFn) -> Article:
    # Loose values on purpose (a date, epoch seconds, None for the language): the validators read them.
    fields: dict[str, Any] = {
        "id": draw(st.just("") | plain_text),  # "" (or blank) derives the id from the content
        "title": draw(optional_text),
        "body": draw(non_blank_text.map(lambda text: text.replace("\x00", ""))),
        "url": draw(optional_text),
        "source": draw(optional_text),
        "published": draw(publication_times),
        "language": draw(language_tags),
        "authors": draw(st.lists(plain_text, max_size=3)),
        "tags": draw(st.lists(plain_text, max_size=3)),
        "metadata": draw(st.dictionaries(plain_text, json_values, max_size=4)),
    }
    return Article(**fields)


locations = st.builds(
    Location,
    name=plain_text,
    mention=plain_text,
    country=st.from_regex(r"[A-Z]{2}", fullmatch=True),
    admin1=optional_text,
    lat=st.none() | st.floats(min_value=-90.0, max_value=90.0),
    lon=st.none() | st.floats(min_value=-180.0, max_value=180.0),
    geonameid=st.none() | st.integers(),
)
actors = st.builds(Actor, name=plain_text, role=st.sampled_from(get_args(ActorRole)), mention=plain_text)
counts = st.none() | st.integers(min_value=0)
casualties = st.builds(Casualties, killed=counts, injured=counts, approximate=st.booleans())
quantities = st.builds(Quantity, item=plain_text, count=st.integers(min_value=0), approximate=st.booleans())


@st.composite
def evidence(draw: st.DrawFn) -> Evidence:
    start = draw(st.integers(min_value=0))
    end = start + draw(st.integers(min_value=0, max_value=10_000))
    return Evidence(article_id=draw(plain_text), start=start, end=end, text=draw(plain_text))


def small_lists(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, max_size=2)


event_mentions = st.builds(
    EventMention,
    id=plain_text,
    article_id=plain_text,
    type=plain_text,
    subtype=optional_text,
    date=st.none() | st.dates(),
    date_precision=st.none() | st.sampled_from(get_args(DatePrecision)),
    locations=small_lists(locations),
    actors=small_lists(actors),
    casualties=casualties,
    quantities=small_lists(quantities),
    targets=small_lists(plain_text),
    summary=plain_text,
    evidence=small_lists(evidence()),
    confidence=st.floats(min_value=0.0, max_value=1.0),
)
events = st.builds(
    Event,
    id=plain_text,
    type=plain_text,
    subtype=optional_text,
    title=plain_text,
    date=st.none() | st.dates(),
    end_date=st.none() | st.dates(),
    locations=small_lists(locations),
    actors=small_lists(actors),
    casualties=casualties,
    quantities=small_lists(quantities),
    targets=small_lists(plain_text),
    article_ids=small_lists(plain_text),
    sources=small_lists(plain_text),
    mentions=small_lists(event_mentions),
    first_reported=st.none() | instants,
    last_reported=st.none() | instants,
)
search_hits = st.builds(
    SearchHit,
    rank=st.integers(),
    score=finite_floats,
    article=articles(),
    passage=plain_text,
    passage_start=st.integers(),
    passage_end=st.integers(),
    highlights=st.lists(st.tuples(st.integers(), st.integers()), max_size=3),
    event_ids=small_lists(plain_text),
)
failures = st.builds(Failure, where=plain_text, reason=plain_text)
add_reports = st.builds(
    AddReport,
    added=st.integers(),
    updated=st.integers(),
    unchanged=st.integers(),
    skipped=st.integers(),
    failed=small_lists(failures),
    skipped_items=small_lists(failures),
)
index_stats = st.builds(
    IndexStats,
    **dict.fromkeys(("path", "model", "vector_index", "newsindex_version"), plain_text),
    **dict.fromkeys(
        ("articles", "passages", "mentions", "events", "sources", "dim", "size_bytes", "format_version"),
        st.integers(),
    ),
)

MODEL_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "Article": articles(),
    "Location": locations,
    "Actor": actors,
    "Casualties": casualties,
    "Quantity": quantities,
    "Evidence": evidence(),
    "EventMention": event_mentions,
    "Event": events,
    "SearchHit": search_hits,
    "EventHit": st.builds(EventHit, rank=st.integers(), score=finite_floats, event=events),
    "Failure": failures,
    "AddReport": add_reports,
    "IndexStats": index_stats,
}


# --------------------------------------------------------------------------------------------------
# 1. JSON round trips


@pytest.mark.parametrize("name", list(MODEL_STRATEGIES))
@budget(40)
@given(data=st.data())
def test_models_survive_a_json_round_trip(name: str, data: st.DataObject) -> None:
    model: BaseModel = data.draw(MODEL_STRATEGIES[name], label=name)
    cls = type(model)
    assert cls.model_validate_json(model.model_dump_json()) == model
    assert cls.model_validate(model.model_dump(mode="json")) == model
    # What the readers and the CLI use: json text through the standard library, then .parse().
    assert cls.parse(json.loads(model.model_dump_json())) == model  # type: ignore[attr-defined]


@budget(40)
@given(article=articles())
def test_article_id_and_hashes_are_stable_across_a_round_trip(article: Article) -> None:
    again = Article.model_validate_json(article.model_dump_json())
    assert again.id == article.id
    assert again.record_hash() == article.record_hash()
    assert again.content_hash() == article.content_hash()
    # A derived id only depends on the content, so re-reading the same record never duplicates it.
    anonymous = article.model_dump(mode="json") | {"id": ""}
    assert Article.parse(anonymous).id == Article.parse(anonymous).id == Article.parse(anonymous).derive_id()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_metadata_non_finite_floats_are_kept_or_refused(value: float) -> None:
    """``metadata`` holds JSON values; JSON has no NaN or infinity. Either the model refuses them or
    they survive ``model_dump_json`` (and so ``record_hash`` and the store): silently turning them
    into ``null`` loses data."""
    try:
        article = Article(body="text", metadata={"x": value})
    except NewsIndexError:
        return
    again = Article.model_validate_json(article.model_dump_json()).metadata["x"]
    assert isinstance(again, float), f"metadata {value!r} came back as {again!r}"
    assert math.isnan(again) if math.isnan(value) else again == value


# --------------------------------------------------------------------------------------------------
# 2. Ingest of arbitrary text

# Sentences written for these tests (not taken from any corpus) that the event pipeline reads as
# events, so that evidence offsets get checked next to hostile characters.
EVENT_SENTENCES = (
    "Drones struck Kyiv on Monday, killing 3 people and injuring 12.",
    "Floods in Lagos displaced about 400 families on 2 March.",
    "Police said 12 protesters were injured in Paris on Saturday.",
)
AWKWARD = (
    "\x00", "\x01", "\x1b", "\x7f", "\t", "\x0b", "\x0c", "\r", "\n", "\r\n", "\n\n", "\x1c", "\x85",
    "\u2028", "\u2029", "\u00a0", "\u200b", "\u200d", "\u200e", "\u200f", "\u202e", "\u2066", "\ufeff",
    "\ufffd", "\uffff", "\U0010ffff", "😀", "👩‍👩‍👧‍👦", "🇺🇦", "e\u0301", "İ", "ß", "ﬁ", "Σ", "שלום",
    "مرحبا", "中文", "...", "!", "?", "…", '"', "”", "# ", " ",
)  # fmt: skip
# File layouts the text reader recognises (DESIGN §4): dated lead line, headline, Markdown heading.
LAYOUTS = ("", "date 2026-01-25 ", "date 2026-1-5\n", "DATE 2026-13-45 ", "Headline\n\n", "# Heading #\n \n")


def awkward_text(*, surrogates: bool, long_words: bool = True) -> st.SearchStrategy[str]:
    """Any unicode (lone surrogates when asked), biased towards characters that break text handling."""
    chars = st.characters(exclude_categories=() if surrogates else NO_SURROGATES)
    pieces = [st.text(chars, max_size=20), st.sampled_from(AWKWARD), st.sampled_from(EVENT_SENTENCES)]
    if surrogates:
        pieces.append(st.sampled_from(["\ud800", "\udfff", "\udc80x", "\ud83d"]))
    if long_words:
        # Very long "words" (one token each for the test embedder) and long runs of one character.
        pieces.append(
            st.builds(
                lambda unit, n: unit * n,
                st.sampled_from(["a", "é", "😀", "\u0301", "ab1", "-", ".", "\n"]),
                st.integers(2_000, 20_000),
            )
        )
    return st.lists(st.one_of(*pieces), max_size=12).map("".join)


Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("dense", "lexical", "hybrid")

# The event typer on the test embedder: the real pipeline (gazetteer, dates, numbers) without the model.
TYPER = EventTyper(HashingEmbedder())
# Small enough for the long words above to exceed it sometimes, so over-long bodies are exercised too.
MAX_BODY = 60_000


@contextmanager
def fresh_index(**kwargs: Any) -> Iterator[NewsIndex]:
    """A new index in its own temporary directory (hypothesis forbids function-scoped fixtures)."""
    with tempfile.TemporaryDirectory() as folder:
        ix = NewsIndex.open(Path(folder) / "ix", model=HashingEmbedder(), **kwargs)
        try:
            yield ix
        finally:
            ix.close()


def check_hit_offsets(hits: Sequence[SearchHit]) -> None:
    """What every hit must satisfy whatever the query: its passage and highlights slice its body."""
    for hit in hits:
        body = hit.article.body
        assert 0 <= hit.passage_start < hit.passage_end <= len(body)
        assert body[hit.passage_start : hit.passage_end] == hit.passage
        assert hit.passage.strip() == hit.passage, "passages are trimmed"
        for start, end in hit.highlights:
            assert hit.passage_start <= start < end <= hit.passage_end
        # A real hit is a valid model too, and survives the JSON round trip like any other.
        assert SearchHit.model_validate_json(hit.model_dump_json()) == hit


def check_evidence(article: Article, mentions: Iterable[EventMention]) -> None:
    for mention in mentions:
        assert mention.article_id == article.id
        for span in mention.evidence:
            assert span.article_id == article.id
            assert 0 <= span.start < span.end <= len(article.body)
            assert article.body[span.start : span.end] == span.text


def check_stored(ix: NewsIndex, article: Article) -> None:
    """The index gives back exactly ``article``; search, passages and events point into its body."""
    assert ix.get(article.id) == article
    for mode in MODES:
        for query in (article.body[:200], article.title or "", "x"):
            if query.strip():
                check_hit_offsets(ix.search(query, k=3, mode=mode))
    dense = ix.search("x", k=1, mode="dense")
    assert [hit.article.id for hit in dense] == [article.id], "dense search finds the only article"
    stored_events = ix.article_events(article.id)
    event(f"events stored: {min(len(stored_events), 2)}")
    for found in stored_events:
        assert article.id in found.article_ids
        check_evidence(article, [m for m in found.mentions if m.article_id == article.id])
    check_evidence(article, extract_events(article, typer=TYPER))


def decoded_like_the_reader(text: str) -> str:
    """What a text file holding ``text`` (UTF-8) reads as: BOM dropped, newlines made ``\\n``."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@budget(25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(layout=st.sampled_from(LAYOUTS), text=awkward_text(surrogates=True))
def test_any_text_file_is_added_or_reported(layout: str, text: str) -> None:
    # too_slow / data_too_large: examples hold several runs of up to 20,000 characters on purpose.
    content = layout + text
    data = content.encode("utf-8", "surrogatepass")  # a lone surrogate becomes invalid UTF-8 bytes
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "story.txt"
        path.write_bytes(data)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            loaded = load_articles(path, on_error="skip", max_body_chars=MAX_BODY)
        assert len(loaded) + len(warned) == 1, "one outcome for one file"
        event("file skipped" if warned else "file read")
        if warned:
            note(f"skipped: {warned[0].message}")
            assert "story.txt" in str(warned[0].message)
            with pytest.raises(IngestError) as raised:
                load_articles(path, on_error="raise", max_body_chars=MAX_BODY)
            assert "story.txt" in raised.value.where and raised.value.reason
        else:
            article = loaded[0]
            assert article.body == article.body.strip() and "\x00" not in article.body
            assert article.body in decoded_like_the_reader(content)
        with fresh_index(max_body_chars=MAX_BODY) as ix:
            report = ix.add(path)  # skip mode: nothing may escape
            assert report.added + len(report.failed) == 1, report
            assert len(ix) == report.added
            if loaded:
                check_stored(ix, loaded[0])
            else:
                assert "story.txt" in report.failed[0].where and report.failed[0].reason


RECORD_FIELDS = ("id", "title", "body", "source", "url", "language")


@st.composite
def awkward_records(draw: st.DrawFn, *, surrogates: bool) -> dict[str, object]:
    """A dict record whose text fields are any unicode; the body gets an event sentence at times."""
    record: dict[str, object] = {}
    for field in RECORD_FIELDS:
        if field == "body" or draw(st.booleans()):
            record[field] = draw(awkward_text(surrogates=surrogates, long_words=field == "body"))
    if draw(st.booleans()):
        record["authors"] = draw(st.lists(awkward_text(surrogates=surrogates, long_words=False), max_size=2))
    if draw(st.booleans()):
        record["extra"] = draw(awkward_text(surrogates=surrogates, long_words=False))
    return record


@budget(25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(record=awkward_records(surrogates=False))
def test_any_record_is_added_or_reported(record: dict[str, object]) -> None:
    # too_slow / data_too_large: the body holds very long words on purpose.
    try:
        expected: Article | None = make_article(record, where="item 1", max_body_chars=MAX_BODY)
    except NewsIndexError as exc:
        note(f"refused: {exc}")
        expected = None
    event("record refused" if expected is None else "record accepted")
    with fresh_index(max_body_chars=MAX_BODY) as ix:
        report = ix.add([record])
        assert report.added + len(report.failed) == 1, report
        if expected is None:
            assert report.failed[0].where == "item 1" and report.failed[0].reason
            return
        assert report.added == 1
        check_stored(ix, expected)
        # The same record as an Article object: adding it again changes nothing.
        assert ix.add([expected]).unchanged == 1


SURROGATE_PLACES = (*RECORD_FIELDS, "authors", "extra", "metadata key")


@st.composite
def records_with_a_surrogate(draw: st.DrawFn) -> dict[str, object]:
    """A record (any unicode otherwise) with one lone surrogate in one of its text fields or keys."""
    record = draw(awkward_records(surrogates=False))
    surrogate = draw(st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"]))
    place = draw(st.sampled_from(SURROGATE_PLACES))
    if place == "metadata key":
        record["metadata"] = {f"key{surrogate}": "value"}
        return record
    if place == "authors":
        authors = record.get("authors") or ["someone"]
        assert isinstance(authors, list)
        record["authors"] = [*authors[:-1], f"{authors[-1]}{surrogate}"]
        return record
    text = str(record.get(place, "text"))
    cut = draw(st.integers(0, len(text)))
    record[place] = text[:cut] + surrogate + text[cut:]
    return record


@budget(30, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(record=records_with_a_surrogate())
def test_lone_surrogates_are_reported_not_raised(record: dict[str, object]) -> None:
    """Lone surrogates do arrive: ``json.loads('"\\ud800"')`` gives one, so any JSON file may hold them.

    They cannot be encoded as UTF-8; a skip-mode ``add`` must report the record (as failed, or added
    in a form that can be stored) and keep the good record beside it, never raise.
    """
    # too_slow / data_too_large: the body holds very long words on purpose.
    good = {"id": "good", "body": "a perfectly ordinary article"}
    with fresh_index() as ix:
        report = ix.add([record, good])
        assert report.added + len(report.failed) == 2, report
        assert "good" in ix
        assert len(ix) == report.added
        event("surrogate record refused" if report.failed else "surrogate record added")
        for failure in report.failed:
            assert failure.where == "item 1" and failure.reason


def test_lone_surrogate_in_a_json_file_is_reported_not_raised(tmp_path: Path) -> None:
    """The same through a file: a JSON escape for half a surrogate pair must not cost the good record."""
    path = tmp_path / "feed.json"
    path.write_text('[{"id": "bad", "body": "half a pair \\ud83d here"}, {"id": "good", "body": "fine"}]')
    with fresh_index() as ix:
        report = ix.add(path)
        assert report.added + len(report.failed) == 2, report
        assert "good" in ix
        if report.failed:
            assert "feed.json" in report.failed[0].where and "bad" not in ix
        else:
            ix.get("bad").model_dump_json()  # stored in a form that can be written out again


@budget(60)
@given(text=awkward_text(surrogates=False), max_tokens=st.integers(1, 12))
def test_passages_cover_every_character_of_the_body(text: str, max_tokens: int) -> None:
    """Passages are ordered, disjoint, trimmed, within the window, and only white space lies between
    them: nothing of the body is ever dropped from the index."""
    embedder = HashingEmbedder()
    passages = split_passages(text, embedder.token_spans, max_tokens)
    starts = [start for start, _ in embedder.token_spans(text)]
    cursor = 0
    for seq, passage in enumerate(passages):
        assert passage.seq == seq
        assert cursor <= passage.start < passage.end <= len(text)
        piece = passage.text(text)
        assert piece == piece.strip()
        assert text[cursor : passage.start].isspace() or cursor == passage.start
        assert passage.tokens == sum(passage.start <= s < passage.end for s in starts)
        assert passage.tokens <= max_tokens
        cursor = passage.end
    assert not text[cursor:].strip(), "the end of the body is in a passage"


# Layouts where a backtracking regular expression in the text reader could take quadratic time: long
# runs that a pattern can split in many ways, then a match that fails at the end.
HOSTILE_LAYOUTS = {
    "leading-spaces": " " * 200_000 + "x",
    "leading-tabs-then-headline": "\t" * 200_000 + "Title\n\nbody",
    "markdown-heading": "# " + " \t" * 100_000 + "x #\n\nbody",
    "long-first-line": "word " * 40_000 + "\n\nbody",
    "dots": "." * 200_000,
    "blank-lines": "\n \n" * 60_000 + "x",
}


@pytest.mark.parametrize("name", list(HOSTILE_LAYOUTS))
def test_text_loader_never_hangs(name: str, tmp_path: Path) -> None:
    """A 200 KB text file reads in well under a second when the reader is linear; a quadratic
    regular expression takes minutes. A child process with a hard timeout turns a hang into a failure
    (a regular expression cannot be interrupted inside the process)."""
    path = tmp_path / f"{name}.txt"
    path.write_text(HOSTILE_LAYOUTS[name], encoding="utf-8")
    script = textwrap.dedent(
        f"""
        from newsindex import load_articles
        print(len(load_articles({str(path)!r}, on_error="skip")))
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=15,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading the {name} file did not finish in 15 s")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


# --------------------------------------------------------------------------------------------------
# 3. Add / update / delete / search / reopen against an in-memory model

POOL = ("a0", "a1", "a2", "a3", "a4")
#: In every body, so a lexical query for it matches every article.
SHARED_WORD = "omnia"
WORDS = ("harbour", "tariff", "drought", "summit", "ferry", "vaccine", "election", "budget", "quake", "road")
# Boundaries that matter: midnight UTC, the last microsecond of a day, another offset, a missing date.
PUBLISHED = (
    None,
    datetime(2024, 1, 1, tzinfo=UTC),
    datetime(2024, 1, 1, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2024, 1, 2, 3, 30, tzinfo=timezone(timedelta(hours=5))),  # 2024-01-01 22:30 UTC
    datetime(2024, 1, 2, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2025, 6, 30, 12, tzinfo=UTC),
    datetime(1999, 12, 31, 12, tzinfo=UTC),
)
BOUNDS: tuple[date | datetime | str | None, ...] = (
    None,
    date(2024, 1, 1),
    date(2024, 1, 2),
    date(2025, 6, 30),
    datetime(2024, 1, 1, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2024, 1, 1, 22, 30),  # naive: taken as UTC
    "2024-01-01",
    "2024-01-01T22:30:00+00:00",
)


def lower_bound(value: date | datetime | str) -> datetime:
    """DESIGN §3: ``since=D`` starts at 00:00 UTC of D; a datetime is the instant (naive = UTC)."""
    value = _as_date(value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0, 0), tzinfo=UTC)


def within(published: datetime | None, since: date | datetime | str | None, until: Any) -> bool:
    """Whether an article published at ``published`` passes the date filters (DESIGN §3)."""
    if published is None:
        return since is None and until is None
    if since is not None and published < lower_bound(since):
        return False
    if until is not None:
        last = _as_date(until)
        if isinstance(last, datetime):
            return published <= lower_bound(last)  # an instant is included
        return published < lower_bound(last) + timedelta(days=1)  # the whole day D is included
    return True


def _as_date(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    return value


@st.composite
def news_bodies(draw: st.DrawFn) -> str:
    """One to three paragraphs of words; long ones split into several passages. The shared word is in
    each, and sometimes an event sentence, so that events are merged across articles and must be
    cleaned up on update and delete."""
    paragraphs = []
    for _ in range(draw(st.integers(1, 3))):
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=60))
        paragraphs.append(" ".join(words))
    paragraphs[draw(st.integers(0, len(paragraphs) - 1))] += f" {SHARED_WORD}."
    if draw(st.booleans()):
        paragraphs.insert(draw(st.integers(0, len(paragraphs))), draw(st.sampled_from(EVENT_SENTENCES)))
    return "\n\n".join(paragraphs)


def news_article(article_id: str) -> st.SearchStrategy[Article]:
    return st.builds(
        Article,
        id=st.just(article_id),
        title=st.none() | st.sampled_from(["Port news", "Weather", "Markets"]),
        body=news_bodies(),
        source=st.none() | st.sampled_from(["Wire", "Daily"]),
        published=st.sampled_from(PUBLISHED),
    )


batches = st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True).flatmap(
    lambda ids: st.tuples(*(news_article(article_id) for article_id in ids))
)


def open_writer(path: Path) -> NewsIndex:
    return NewsIndex.open(path, model=HashingEmbedder())


def open_reader(path: Path) -> NewsIndex:
    return NewsIndex.open(path, model=HashingEmbedder(), read_only=True)


class IndexMachine(RuleBasedStateMachine):
    """A writer and a read-only handle beside it, compared after every step with ``self.model``."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="newsindex-props-"))
        self.path = self.folder / "ix"
        self.writer = open_writer(self.path)
        self.reader = open_reader(self.path)
        #: What should be visible: id → the article as last added.
        self.model: dict[str, Article] = {}

    def teardown(self) -> None:
        for handle in (self.writer, self.reader):
            handle.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def handles(self) -> tuple[NewsIndex, NewsIndex]:
        return self.writer, self.reader

    # -- writing ----------------------------------------------------------------------------------

    def _add(self, batch: Sequence[Article]) -> None:
        """Add ``batch`` and check the report against what the model says each article is."""
        expected: Counter[str] = Counter()
        for article in batch:
            known = self.model.get(article.id)
            if known is None:
                expected["added"] += 1
            elif known.record_hash() == article.record_hash():
                expected["unchanged"] += 1
            else:
                expected["updated"] += 1
        report = self.writer.add(list(batch))
        assert report.failed == []
        assert (report.added, report.updated, report.unchanged) == (
            expected["added"],
            expected["updated"],
            expected["unchanged"],
        )
        for article in batch:
            self.model[article.id] = article
        for outcome in expected:
            event(f"add: {outcome}")

    @initialize(batch=batches)
    def start_with_some(self, batch: tuple[Article, ...]) -> None:
        """Most sequences worth checking start from a non-empty index; empty ones still occur after
        deletes."""
        self._add(batch)

    @rule(batch=batches)
    def add(self, batch: tuple[Article, ...]) -> None:
        self._add(batch)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def update_body(self, data: st.DataObject) -> None:
        article_id = data.draw(st.sampled_from(sorted(self.model)), label="id")
        body = data.draw(news_bodies(), label="body")
        old = self.model[article_id]
        if body == old.body:
            body += " changed"
        self._add([Article(**(old.model_dump() | {"body": body}))])

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def redate(self, data: st.DataObject) -> None:
        """Same body, another publication time: an update that needs no re-encoding."""
        article_id = data.draw(st.sampled_from(sorted(self.model)), label="id")
        published = data.draw(st.sampled_from(PUBLISHED), label="published")
        self._add([Article(**(self.model[article_id].model_dump() | {"published": published}))])

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def add_again(self, data: st.DataObject) -> None:
        article_id = data.draw(st.sampled_from(sorted(self.model)), label="id")
        self._add([self.model[article_id]])

    @rule(ids=st.lists(st.sampled_from(POOL), min_size=1, max_size=2, unique=True))
    def delete(self, ids: list[str]) -> None:
        event(f"delete: {'known' if all(i in self.model for i in ids) else 'unknown'} ids")
        if all(article_id in self.model for article_id in ids):
            assert self.writer.delete(ids) == len(ids)
            for article_id in ids:
                del self.model[article_id]
        else:
            # All or none: an unknown id raises before anything is deleted (checked by the invariants).
            with pytest.raises(ArticleNotFoundError):
                self.writer.delete(ids)

    @precondition(lambda self: self.model)
    @rule()
    def delete_everything(self) -> None:
        """Down to an empty index, where any event or passage left behind would show."""
        assert self.writer.delete(sorted(self.model)) == len(self.model)
        self.model.clear()

    @rule()
    def reopen_writer(self) -> None:
        self.writer.close()
        self.writer = open_writer(self.path)

    @rule()
    def reopen_reader(self) -> None:
        self.reader.close()
        self.reader = open_reader(self.path)

    # -- reading ----------------------------------------------------------------------------------

    @rule(
        since=st.sampled_from(BOUNDS),
        until=st.sampled_from(BOUNDS),
        mode=st.sampled_from(MODES),
    )
    def search_by_date(self, since: Any, until: Any, mode: Mode) -> None:
        expected = {
            article_id
            for article_id, article in self.model.items()
            if within(article.published, since, until)
        }
        for handle in self.handles():
            hits = handle.search(SHARED_WORD, k=len(POOL) + 1, mode=mode, since=since, until=until)
            self._check_hits(hits, expected)

    def _check_hits(self, hits: list[SearchHit], expected: set[str]) -> None:
        found = [hit.article.id for hit in hits]
        assert len(found) == len(set(found)), "one hit per article"
        assert set(found) == expected
        assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
        for hit in hits:
            assert hit.article == self.model[hit.article.id]
        check_hit_offsets(hits)

    @invariant()
    def contents_match_the_model(self) -> None:
        for handle in self.handles():
            assert len(handle) == len(self.model)
            for article_id in POOL:
                assert (article_id in handle) == (article_id in self.model)
                if article_id in self.model:
                    assert handle.get(article_id) == self.model[article_id]
                else:
                    with pytest.raises(ArticleNotFoundError):
                        handle.get(article_id)

    @invariant()
    def counts_match_the_model(self) -> None:
        passages = sum(len(self.writer.indexer.passages(article)) for article in self.model.values())
        for handle in self.handles():
            stats = handle.stats()
            assert (stats.articles, stats.passages) == (len(self.model), passages)
            assert stats.events <= stats.mentions
            event(f"articles: {stats.articles}, events: {'some' if stats.events else 'none'}")
            if not self.model:
                assert (stats.mentions, stats.events, stats.sources) == (0, 0, 0), "deletes leave no debris"

    @invariant()
    def search_sees_exactly_the_visible_articles(self) -> None:
        for handle in self.handles():
            for mode in MODES:
                hits = handle.search(SHARED_WORD, k=len(POOL) + 1, mode=mode)
                self._check_hits(hits, set(self.model))

    @invariant()
    def events_point_at_visible_articles(self) -> None:
        for handle in self.handles():
            for found in handle.events():
                assert found.article_ids, "an event without reports is debris"
                assert set(found.article_ids) <= set(self.model)
            for article_id, article in self.model.items():
                for found in handle.article_events(article_id):
                    assert article_id in found.article_ids
                    check_evidence(article, [m for m in found.mentions if m.article_id == article_id])


TestIndexMachine = IndexMachine.TestCase
TestIndexMachine.settings = budget(15, stateful_step_count=20)


# --------------------------------------------------------------------------------------------------
# Date filters over any instant (the state machine uses a few chosen ones)


# Publication times are stored as float seconds, exact to the microsecond from about 1700 to 2240
# (a documented limit, docs/parts-news-index.md); outside that range filters are exact to a few µs.
news_instants = st.datetimes(
    min_value=datetime(1700, 1, 1), max_value=datetime(2200, 12, 31), timezones=time_zones
)


@budget(40)
@given(
    published=st.lists(news_instants, min_size=1, max_size=4),
    since=st.none() | news_instants | st.dates(date(1700, 1, 2), date(2200, 12, 30)),
    until=st.none() | news_instants | st.dates(date(1700, 1, 2), date(2200, 12, 30)),
    shift=st.sampled_from([timedelta(0), timedelta(microseconds=1), timedelta(microseconds=-1)]),
)
def test_date_filters_are_exact_for_any_instant(
    published: list[datetime], since: Any, until: Any, shift: timedelta
) -> None:
    """``since``/``until`` keep exactly the articles DESIGN §3 says, to the microsecond.

    ``shift`` sets the bounds on, or one microsecond beside, a publication time: where rounding shows.
    """
    for bound in (since, until):
        if isinstance(bound, datetime):
            published = [*published, bound + shift]
    stored = [Article(id=f"p{i}", body=f"{SHARED_WORD} {i}", published=p) for i, p in enumerate(published)]
    expected = {a.id for a in stored if within(a.published, since, until)}
    note(f"published={[a.published for a in stored]} expected={sorted(expected)}")
    with fresh_index() as ix:
        assert ix.add(stored).added == len(stored)
        hits = ix.search(SHARED_WORD, k=len(stored) + 1, mode="lexical", since=since, until=until)
        assert {hit.article.id for hit in hits} == expected


@pytest.mark.parametrize(
    "until", [date(9999, 12, 31), "9999-12-31", datetime.max], ids=["date", "str", "max"]
)
def test_date_filter_on_the_last_day_of_the_calendar(until: date | datetime | str) -> None:
    """``until`` the last representable day must mean "everything", or be a clear ConfigurationError —
    not an OverflowError from computing the day after."""
    with fresh_index() as ix:
        ix.add([Article(id="late", body=SHARED_WORD, published=datetime(9999, 12, 31, 12, tzinfo=UTC))])
        try:
            hits = ix.search(SHARED_WORD, k=2, until=until)
        except NewsIndexError:
            return
        assert [hit.article.id for hit in hits] == ["late"]
