"""The extraction's two halves: the rules read the articles in a background thread while the model
encodes, and clauses the rules read as opinion or background are not encoded at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder
from helpers import cli_env

from newsindex import Article, NewsIndex
from newsindex.events import EventExtractor
from newsindex.events import pipeline as pipeline_module
from newsindex.events.classify import EventTyper, reports_no_event


class RecordingEmbedder(HashingEmbedder):
    """The hashing embedder, keeping every text it was asked to encode."""

    def __init__(self) -> None:
        super().__init__(max_tokens=200)
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().encode(texts)


REPORT = Article(
    id="report",
    title="Drone strike",
    body=(
        "A drone strike hit a power station near Kharkiv on Saturday, killing two workers. "
        "Officials said the attack had been planned for weeks. "
        "Engineers have been warning about the grid for years."
    ),
)
# Every clause reads as background: the article has no event, and its lead names what it is about.
BACKGROUND = Article(
    id="background",
    body="Farmers have been protesting for months. Prices have been rising for years.",
)


def test_clauses_read_as_opinion_or_background_are_not_encoded() -> None:
    embedder = RecordingEmbedder()
    typer = EventTyper(embedder)
    typer.classify(["warm up: the examples are embedded here"])
    embedder.texts.clear()
    mentions = EventExtractor(typer).extract_with_vectors([REPORT])[0]
    assert mentions, "the strike is an event"
    background = "Engineers have been warning about the grid for years."
    assert reports_no_event(background)
    assert background not in embedder.texts
    assert REPORT.body.startswith(embedder.texts[0])


def test_an_article_of_background_only_still_gets_its_lead_encoded_and_typed() -> None:
    embedder = RecordingEmbedder()
    typer = EventTyper(embedder)
    found = EventExtractor(typer).extract_with_vectors([BACKGROUND, REPORT])
    lead = "Farmers have been protesting for months."
    assert reports_no_event(lead)
    (mention, vector), *_ = found[0]
    assert mention.evidence[0].text == lead
    assert mention.confidence <= 0.5, "a lead's nearest type is a weak guess"
    assert vector.shape == (embedder.dim,)
    np.testing.assert_allclose(vector, embedder.encode([lead])[0], atol=1e-6)


def test_begin_returns_what_extract_with_vectors_returns() -> None:
    typer = EventTyper(HashingEmbedder())
    extractor = EventExtractor(typer)
    articles = [REPORT, BACKGROUND]
    pending = extractor.begin(articles)
    later = pending.result()
    direct = extractor.extract_with_vectors(articles)
    assert [[m for m, _ in found] for found in later] == [[m for m, _ in found] for found in direct]
    for mine, theirs in zip(later, direct, strict=True):
        for (_, a), (_, b) in zip(mine, theirs, strict=True):
            np.testing.assert_array_equal(a, b)


def test_an_error_in_the_rules_is_raised_by_result(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(article: Article) -> object:
        raise RuntimeError(f"rules broke on {article.id}")

    monkeypatch.setattr(pipeline_module, "_read_article", broken)
    pending = EventExtractor(EventTyper(HashingEmbedder())).begin([REPORT])
    with pytest.raises(RuntimeError, match="rules broke on report"):
        pending.result()


class WaitingEmbedder(HashingEmbedder):
    """Encodes only once the rules have started reading: with them waiting for the encoding
    instead, every encoding would time out."""

    def __init__(self, rules_started: threading.Event) -> None:
        super().__init__()
        self.rules_started = rules_started
        self.waited_in_vain = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not self.rules_started.wait(timeout=10):
            self.waited_in_vain += 1
        return super().encode(texts)


def test_add_reads_the_rules_while_the_passages_are_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    threads: set[str] = set()
    original = pipeline_module._read_article

    def recording(article: Article) -> object:
        threads.add(threading.current_thread().name)
        started.set()
        return original(article)

    monkeypatch.setattr(pipeline_module, "_read_article", recording)
    embedder = WaitingEmbedder(started)
    with NewsIndex.open(tmp_path / "ix", model=embedder) as ix:
        report = ix.add([REPORT, BACKGROUND])
        assert report.added == 2
        assert ix.stats().events >= 2
    assert embedder.waited_in_vain == 0
    assert threads and threading.current_thread().name not in threads


def test_without_a_thread_the_rules_run_in_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> object:
        raise RuntimeError("can't start new thread")

    extractor = EventExtractor(EventTyper(HashingEmbedder()))
    expected = extractor.extract_many([REPORT, BACKGROUND])
    monkeypatch.setattr(pipeline_module.ThreadPoolExecutor, "submit", refused)
    assert extractor.extract_many([REPORT, BACKGROUND]) == expected
    assert extractor.extract_many([]) == []


def test_an_index_can_be_filled_from_an_atexit_handler(tmp_path: Path) -> None:
    """A crawler that stores what it still holds when the program ends: by then Python refuses to
    start threads for new work."""
    script = tmp_path / "at_exit.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import atexit, sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            from conftest import HashingEmbedder
            from newsindex import NewsIndex

            def store_the_rest():
                with NewsIndex.open({str(tmp_path / "ix")!r}, model=HashingEmbedder()) as ix:
                    body = "Police fired tear gas at protesters in Lagos on Monday."
                    report = ix.add({{"id": "a", "body": body}})
                    print("added", report.added, "events", ix.stats().events)

            atexit.register(store_the_rest)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=cli_env()
    )
    assert done.returncode == 0, done.stderr
    assert "added 1 events 1" in done.stdout, done.stderr


def test_a_worker_that_took_part_of_the_work_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original_submit = pipeline_module.ThreadPoolExecutor.submit
    original_cues = pipeline_module._clauses_and_cues

    def counting(*args: object) -> object:
        calls.append(threading.current_thread().name)
        return original_cues(*args)  # type: ignore[arg-type]

    def second_refused(pool: object, fn: object, *args: object) -> object:
        if fn is pipeline_module._read_facts:
            raise RuntimeError("cannot schedule new futures after interpreter shutdown")
        return original_submit(pool, fn, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline_module, "_clauses_and_cues", counting)
    monkeypatch.setattr(pipeline_module.ThreadPoolExecutor, "submit", second_refused)
    extractor = EventExtractor(EventTyper(HashingEmbedder()))
    found = extractor.extract_many([REPORT])
    assert found[0], "the strike is still found"
    assert len(calls) == 1, f"the clauses were read {len(calls)} times"
