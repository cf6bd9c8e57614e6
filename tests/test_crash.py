"""Crash safety (DESIGN §5), with the real model: ``newsindex ingest --verbose`` is SIGKILLed at varied
moments; afterwards every article it reported is in the index and findable, nothing half-added is
visible, and running the same ingest again completes it."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from helpers import cli_env, run_cli

from newsindex import DEFAULT_MODEL, Embedder, NewsIndex

PLACES = [
    "Aberdeen", "Bergamo", "Cluj", "Dijon", "Esbjerg", "Faro", "Gdynia", "Haarlem", "Innsbruck",
    "Jena", "Kaunas", "Linz", "Malaga", "Nantes", "Oulu", "Plovdiv", "Quimper", "Rijeka", "Split",
    "Tartu",
]  # fmt: skip
SUBJECTS = [
    "bicycle lanes", "flood barrier", "school canteen", "wind farm", "harbour dredging",
    "library opening", "tram depot", "orchestra tour", "bakery strike", "cheese festival",
    "bridge repairs", "ski jump", "vineyard frost", "museum theft", "zoo elephant", "marathon route",
    "hospital wing", "chess tournament", "ferry timetable", "solar roofs",
]  # fmt: skip
ADDED = re.compile(r"^(added|updated) (\S+)\n$")


def make_articles(n: int) -> dict[str, str]:
    """``n`` short, distinct articles (id → body), one passage each, each with a unique code word."""
    articles = {}
    for i in range(n):
        place = PLACES[i % len(PLACES)]
        subject = SUBJECTS[(i // len(PLACES) + i) % len(SUBJECTS)]
        articles[f"crash-{i:03d}"] = (
            f"In {place}, the {subject} was debated on day {i}. Officials filed report "
            f"zq{i:03d}x about the {subject} near {place}."
        )
    assert len(set(articles.values())) == n
    return articles


def write_jsonl(path: Path, articles: dict[str, str]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for article_id, body in articles.items():
            fh.write(json.dumps({"id": article_id, "body": body, "source": "Crash Wire"}) + "\n")
    return path


class PrimedEmbedder:
    """The real model, with the vectors of known query texts computed ahead in large batches.

    Checking that each of hundreds of articles is found by a dense search of its own text costs one
    query encoding per article; one by one that is minutes on a small CPU. Encoding them together
    gives the same vectors (the real model's) in a fraction of the time. Unknown texts are encoded
    as usual.
    """

    def __init__(self, real: Embedder) -> None:
        self.real = real
        self._cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.real.name

    @property
    def dim(self) -> int:
        return self.real.dim

    @property
    def max_tokens(self) -> int:
        return self.real.max_tokens

    def token_spans(self, text: str) -> Sequence[tuple[int, int]]:
        return self.real.token_spans(text)

    def prime(self, texts: Iterable[str]) -> None:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        for pos in range(0, len(todo), 128):
            batch = todo[pos : pos + 128]
            self._cache.update(zip(batch, self.real.encode(batch), strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if texts and all(t in self._cache for t in texts):
            return np.stack([self._cache[t] for t in texts])
        return self.real.encode(texts)


@pytest.fixture(scope="module")
def primed(real_embedder: Embedder) -> PrimedEmbedder:
    return PrimedEmbedder(real_embedder)


@dataclass
class Run:
    reported: list[str] = field(default_factory=list)
    killed: bool = False
    returncode: int | None = None
    stderr: str = ""


def ingest_and_kill(
    source: Path, index: Path, log: Path, *, delay: float | None, kill_when_reported: int | None = None
) -> Run:
    """Run ``ingest --verbose`` and SIGKILL it ``delay`` seconds after its first "added" line (or as
    soon as ``kill_when_reported`` articles were reported). Returns the ids it reported before dying."""
    lines: queue.Queue[str | None] = queue.Queue()
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "newsindex", "ingest", str(source), "--index", str(index), "--verbose"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=cli_env(),
            cwd=ROOT,
        )
        assert proc.stdout is not None
        stdout = proc.stdout

        def read() -> None:
            for line in stdout:
                lines.put(line)
            lines.put(None)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        run = Run()
        first_at: float | None = None
        deadline = time.monotonic() + 240
        try:
            while True:
                now = time.monotonic()
                if first_at is not None and delay is not None and now >= first_at + delay:
                    break
                timeout = 0.02 if first_at is not None else max(0.1, deadline - now)
                try:
                    line = lines.get(timeout=timeout)
                except queue.Empty:
                    assert time.monotonic() < deadline, "ingest printed nothing in time"
                    continue
                if line is None:
                    break  # finished before the kill
                match = ADDED.match(line)
                if match:
                    run.reported.append(match.group(2))
                    first_at = first_at or time.monotonic()
                    if kill_when_reported is not None and len(run.reported) >= kill_when_reported:
                        break
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                run.killed = True
            run.returncode = proc.wait(timeout=60)
            reader.join(timeout=60)
    # Lines already written before the process died were reports of committed batches too.
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is not None and (match := ADDED.match(line)):
            run.reported.append(match.group(2))
    run.stderr = log.read_text()
    return run


def check_index(
    index: Path,
    articles: dict[str, str],
    reported: set[str],
    embedder: PrimedEmbedder,
    *,
    search_each: set[str],
) -> set[str]:
    """The index reopens consistent: returns the ids present in it."""
    embedder.prime(articles[a] for a in sorted(search_each))
    manifest = json.loads((index / "manifest.json").read_text())
    assert manifest["model"] == DEFAULT_MODEL
    # A reader can open the crashed index as it is (before any writer repairs anything).
    with NewsIndex.open(index, model=embedder, read_only=True) as reader:
        reader_count = len(reader)
    with NewsIndex.open(index, model=embedder) as ix:
        present = {a for a in articles if a in ix}
        assert reported <= present, f"reported but missing: {sorted(reported - present)[:5]}"
        assert len(ix) == len(present) == reader_count, "rows that are not the generated articles"
        stats = ix.stats()
        assert stats.articles == len(present)
        # Every article is one passage: any article without its passage/vector would show here.
        assert stats.passages == len(present), "half-added articles (passages missing or extra)"

        everything = len(articles) + 10
        dense_ids = [h.article.id for h in ix.search("council report", k=everything, mode="dense")]
        assert len(dense_ids) == len(set(dense_ids))
        assert set(dense_ids) == present, "articles without vectors, or vectors without articles"
        lexical_ids = [h.article.id for h in ix.search("officials", k=everything, mode="lexical")]
        assert set(lexical_ids) == present, "articles missing from the lexical index"

        for article_id in sorted(search_each):
            body = articles[article_id]
            assert ix.get(article_id).body == body
            dense = [h.article.id for h in ix.search(body, k=3, mode="dense")]
            assert article_id in dense, (article_id, dense)
            code = re.search(r"zq\d+x", body)
            assert code is not None
            assert [h.article.id for h in ix.search(code.group(), k=3, mode="lexical")] == [article_id]
    db = sqlite3.connect(index / "store.sqlite")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        db.close()
    return present


def complete(source: Path, index: Path, articles: dict[str, str], embedder: PrimedEmbedder) -> None:
    result = run_cli("ingest", source, "--index", index)
    assert result.returncode == 0, result.stderr
    with NewsIndex.open(index, model=embedder, read_only=True) as ix:
        assert len(ix) == len(articles)
        assert ix.stats().passages == len(articles)


def test_crash_once_then_complete(tmp_path: Path, primed: PrimedEmbedder) -> None:
    """One SIGKILL right after the first committed batch was reported (the fast version)."""
    articles = make_articles(150)
    source = write_jsonl(tmp_path / "articles.jsonl", articles)
    index = tmp_path / "ix"

    run = ingest_and_kill(source, index, tmp_path / "stderr.log", delay=0.0)
    assert run.killed and run.returncode == -signal.SIGKILL, run
    assert run.reported, "nothing was reported before the kill"
    assert len(run.reported) < len(articles)
    present = check_index(index, articles, set(run.reported), primed, search_each=set(run.reported))
    assert len(present) >= len(run.reported)

    complete(source, index, articles, primed)
    check_index(index, articles, set(articles), primed, search_each=set(articles))


@pytest.mark.slow
def test_crash_repeatedly_then_complete(tmp_path: Path, primed: PrimedEmbedder) -> None:
    """400 articles; killed at once, after a while, and just after the last article was reported
    (while the vector file is being written); then run to completion."""
    articles = make_articles(400)
    source = write_jsonl(tmp_path / "articles.jsonl", articles)
    index = tmp_path / "ix"
    reported: set[str] = set()
    runs = []
    for n, (delay, when_all) in enumerate([(0.0, False), (1.5, False), (None, True)]):
        kill_at = len(articles) - len(reported) if when_all else None
        run = ingest_and_kill(
            source, index, tmp_path / f"stderr-{n}.log", delay=delay, kill_when_reported=kill_at
        )
        runs.append(run)
        assert run.returncode in (0, -signal.SIGKILL), run.stderr
        assert not (set(run.reported) & reported), "an article committed earlier was added again"
        reported |= set(run.reported)
        check_index(index, articles, reported, primed, search_each=set(run.reported))
    assert sum(r.killed for r in runs) >= 2, [(r.killed, len(r.reported)) for r in runs]

    complete(source, index, articles, primed)
    check_index(index, articles, set(articles), primed, search_each=set(articles))
    # A completed run leaves the vector file written and no temporary files behind.
    assert os.path.getsize(index / "vectors.faiss") > 0
    assert not [p.name for p in index.iterdir() if p.name.endswith(".tmp")]


# A SIGKILL at the instant the store's first transaction starts, while a new index is being created:
# the tables exist but the settings (model, dimension, format) are not committed yet.
CRASH_ON_CREATE = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from conftest import HashingEmbedder
import newsindex.store

def crash(self):
    os.kill(os.getpid(), signal.SIGKILL)

newsindex.store.Store.transaction = crash
from newsindex import NewsIndex
NewsIndex.open({path!r}, model=HashingEmbedder())
"""


def test_crash_while_creating_the_index(tmp_path: Path) -> None:
    from conftest import HashingEmbedder

    from newsindex import Article

    path = tmp_path / "ix"
    code = CRASH_ON_CREATE.format(tests=str(Path(__file__).resolve().parent), path=str(path))
    result = subprocess.run([sys.executable, "-c", code], env=cli_env(), capture_output=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    with NewsIndex.open(path, model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        assert len(ix) == 0
        assert ix.add(Article(id="a", body="After the crash.")).added == 1
        assert [h.article.id for h in ix.search("crash", k=1)] == ["a"]
