"""Crash safety at 20 moments (issue 6.1), with the real model: ``newsindex ingest`` over 3,000
articles is SIGKILLed 20 times, at moments picked by the clock and at precise points (just before,
during and just after an SQLite COMMIT, while the vector file or the manifest is half written, between
writing the vector file and renaming it, in the middle of merging events). Later runs update a tenth
of the articles, so deletes and tombstones are killed mid-way too. After each kill the index opens,
``check_index`` finds nothing but leftover temporary files, the counts match what search sees, every
article reported is there in its reported version, and the next run goes on; the last run completes.
"""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT
from helpers import cli_env
from test_crash import PrimedEmbedder, check_index, make_articles

from newsindex import Embedder, NewsIndex
from newsindex.check import check_index as check_files

pytestmark = pytest.mark.slow

N_ARTICLES = 3000
UPDATED = range(0, N_ARTICLES, 10)

# Runs ``newsindex ingest`` with SIGKILL wired to one point of the code. CRASH_AT is "POINT:N": die the
# N-th time POINT is reached. The index writes its vector file after every 150 changed vectors here
# (instead of 4,096) so that a run goes through several saves.
WRAPPER = r"""
import os, signal, sys, threading, time
from pathlib import Path

point, nth = os.environ["CRASH_AT"].split(":")
nth = int(nth)
seen = {"n": 0}

def reached(name, *, half_of_fd=None):
    if name != point:
        return
    seen["n"] += 1
    if seen["n"] != nth:
        return
    if half_of_fd is not None:  # a write the disk only half took
        os.ftruncate(half_of_fd, os.fstat(half_of_fd).st_size // 2)
    os.kill(os.getpid(), signal.SIGKILL)

import newsindex.index, newsindex.store

newsindex.index.SAVE_AFTER_VECTORS = 150
newsindex.index.SAVE_AFTER_FRACTION = 0.0

execute = newsindex.store.Store.execute
def patched_execute(self, sql, params=()):
    if sql == "COMMIT":
        reached("before_commit")
        if point.startswith("during_commit_"):
            delay = float(point.rsplit("_", 1)[1]) / 1000
            seen["n"] += 1
            if seen["n"] == nth:
                threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
        result = execute(self, sql, params)
        reached("after_commit")
        return result
    return execute(self, sql, params)
newsindex.store.Store.execute = patched_execute

fsync = os.fsync
def patched_fsync(fd):
    name = os.readlink(f"/proc/self/fd/{fd}")
    if name.endswith("vectors.faiss.tmp"):
        reached("vectors_half_written", half_of_fd=fd)
    if name.endswith("manifest.json.tmp"):
        reached("manifest_half_written", half_of_fd=fd)
    fsync(fd)
    if name.endswith("vectors.faiss.tmp"):
        reached("vectors_written_not_recorded")
os.fsync = patched_fsync

replace = Path.replace
def patched_replace(self, target):
    if self.name == "vectors.faiss.tmp":
        reached("vectors_recorded_not_renamed")
    result = replace(self, target)
    if self.name == "vectors.faiss.tmp":
        reached("vectors_renamed")
    return result
Path.replace = patched_replace

record_events = newsindex.index.NewsIndex._record_events
def patched_record_events(self, *args, **kwargs):
    reached("merging_events")
    return record_events(self, *args, **kwargs)
newsindex.index.NewsIndex._record_events = patched_record_events

from newsindex.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass(frozen=True)
class Moment:
    """Where to die: a code point (``at``, "POINT:N") or a delay after the first committed batch."""

    at: str | None = None
    delay: float | None = None
    updates: bool = False  # ingest the file in which a tenth of the articles changed


MOMENTS = [
    Moment(delay=0.0),
    Moment(at="before_commit:3"),
    Moment(at="after_commit:2"),
    Moment(at="during_commit_0.2:4"),
    Moment(at="during_commit_1:3"),
    Moment(at="during_commit_3:5"),
    Moment(at="vectors_half_written:1"),
    Moment(at="vectors_written_not_recorded:1"),
    Moment(at="vectors_recorded_not_renamed:1"),
    Moment(at="vectors_renamed:1"),
    Moment(at="manifest_half_written:2"),
    Moment(at="merging_events:40"),
    Moment(delay=0.3),
    Moment(delay=0.8),
    Moment(delay=1.2),
    Moment(at="vectors_half_written:2"),
    Moment(at="before_commit:2", updates=True),
    Moment(at="during_commit_1:2", updates=True),
    Moment(delay=0.7, updates=True),
    Moment(at="vectors_recorded_not_renamed:1", updates=True),
]
ADDED = re.compile(r"^(added|updated) (\S+)\n$")


def _changed(body: str) -> str:
    return body + " A later edition added that the council will meet again."


def _write(path: Path, articles: dict[str, str]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for article_id, body in articles.items():
            fh.write(json.dumps({"id": article_id, "body": body, "source": "Crash Wire"}) + "\n")
    return path


def _run(source: Path, index: Path, moment: Moment, log: Path) -> tuple[list[str], int]:
    """One ingest, killed at ``moment``; returns the ids it reported and its exit status."""
    env = cli_env()
    command = [sys.executable, "-m", "newsindex"]
    if moment.at is not None:
        env["CRASH_AT"] = moment.at
        command = [sys.executable, "-c", WRAPPER]
    lines: queue.Queue[str | None] = queue.Queue()
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [*command, "ingest", str(source), "--index", str(index), "--verbose"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            cwd=ROOT,
        )
        assert proc.stdout is not None
        stdout = proc.stdout
        reader = threading.Thread(target=lambda: [*map(lines.put, stdout), lines.put(None)], daemon=True)
        reader.start()
        reported: list[str] = []
        first_at: float | None = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if (
                moment.delay is not None
                and first_at is not None
                and time.monotonic() >= first_at + moment.delay
            ):
                proc.send_signal(signal.SIGKILL)
                break
            try:
                line = lines.get(timeout=0.01)
            except queue.Empty:
                continue
            if line is None:
                break
            if match := ADDED.match(line):
                reported.append(match.group(2))
                first_at = first_at or time.monotonic()
        returncode = proc.wait(timeout=120)
        reader.join(timeout=60)
    while True:  # lines the dead process had already written came from committed batches
        try:
            line = lines.get_nowait()
        except queue.Empty:
            break
        if line is not None and (match := ADDED.match(line)):
            reported.append(match.group(2))
    return reported, returncode


@pytest.fixture(scope="module")
def primed(real_embedder: Embedder) -> PrimedEmbedder:
    return PrimedEmbedder(real_embedder)


def test_killed_at_twenty_moments(tmp_path: Path, primed: PrimedEmbedder) -> None:
    original = make_articles(N_ARTICLES)
    changed = {a: (_changed(b) if i in UPDATED else b) for i, (a, b) in enumerate(original.items())}
    first = _write(tmp_path / "articles.jsonl", original)
    second = _write(tmp_path / "articles-updated.jsonl", changed)
    index = tmp_path / "ix"
    reported: set[str] = set()
    updated: set[str] = set()
    kills = 0
    for n, moment in enumerate(MOMENTS):
        source = second if moment.updates else first
        ids, returncode = _run(source, index, moment, tmp_path / f"stderr-{n}.log")
        stderr = (tmp_path / f"stderr-{n}.log").read_text()
        assert returncode in (0, -signal.SIGKILL), (moment, returncode, stderr[-2000:])
        kills += returncode == -signal.SIGKILL
        if moment.updates:
            updated |= set(ids)
        reported |= set(ids)
        if not (index / "store.sqlite").exists():
            assert not ids, moment
            continue
        # The files: nothing damaged; a half-written temporary file is all a kill may leave.
        findings = check_files(index).findings
        assert all(f.file.endswith(".tmp") for f in findings), (moment, findings)
        # The contents: consistent, and what was reported is there (updates in their new version).
        latest = {a: (changed[a] if a in updated else original[a]) for a in original}
        present = check_index(index, latest, reported, primed, search_each=set(ids[:100]))
        assert reported <= present
        with NewsIndex.open(index, model=primed, read_only=True) as ix:  # type: ignore[arg-type]
            for article_id in sorted(updated)[:100]:
                assert ix.get(article_id).body == changed[article_id], (moment, article_id)
            assert ix.stats().articles == len(present)
    assert kills >= 18, f"only {kills} of {len(MOMENTS)} runs were killed"

    result = subprocess.run(
        [sys.executable, "-m", "newsindex", "ingest", str(second), "--index", str(index)],
        env=cli_env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert check_files(index).findings == []
    check_index(index, changed, set(changed), primed, search_each=set(list(changed)[::10]))
    with NewsIndex.open(index, model=primed, read_only=True) as ix:  # type: ignore[arg-type]
        assert len(ix) == N_ARTICLES
        assert all(ix.get(a).body == changed[a] for a in list(changed)[::50])
