"""Processes side by side (issue 6.2): reader processes search in a loop while one writer process adds,
updates and deletes; no reader ever sees an error (no "database is locked"), what they count agrees with what
they can find, and an article is visible to a reader once the
writer's ``add`` returned. A second writer gets an error naming the holder, or waits if told to.

The processes use the small hashing embedder: what is tested is SQLite, FAISS and the files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import HashingEmbedder
from helpers import cli_env, errors_in_threads

import newsindex.index as index_module
import newsindex.vectors as vectors_module
from newsindex import Article, IndexLockedError, NewsIndex, NewsIndexError
from newsindex.search import Searcher

TESTS = Path(__file__).resolve().parent
BATCHES = 30
PER_BATCH = 20

WRITER = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from conftest import HashingEmbedder
from newsindex import Article, NewsIndex
import newsindex.index
newsindex.index.SAVE_AFTER_VECTORS = 50  # the vector file is rewritten often while readers read it
newsindex.index.SAVE_AFTER_FRACTION = 0.0

path, batches, per_batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with NewsIndex.open(path, model=HashingEmbedder()) as ix:
    print("open", flush=True)
    for b in range(batches):
        ix.add([Article(id=f"b{b:02d}-{i:02d}", body=f"Batch {b} item {i}: code zz{b:02d}x{i:02d}q about "
                        "harbour works.") for i in range(per_batch)])
        if b % 5 == 4:  # an update and a delete now and then, so that tombstones flow too
            ix.add(Article(id=f"b{b - 1:02d}-00", body=f"Batch {b - 1} item 0 rewritten: code "
                           f"zz{b - 1:02d}x00q about harbour works."))
            ix.delete([f"b{b - 2:02d}-01"])
        print(f"committed {b}", flush=True)
        time.sleep(0.02)
print("done", flush=True)
"""

READER = r"""
import json, sys, time, traceback
sys.path.insert(0, sys.argv[1])
from conftest import HashingEmbedder
from newsindex import NewsIndex

path, done_flag = sys.argv[2], sys.argv[3]
seen, errors, loops, last = [], [], 0, -1
with NewsIndex.open(path, model=HashingEmbedder(), read_only=True) as ix:
    import os
    while True:
        finished = os.path.exists(done_flag)
        try:
            before = len(ix)
            hits = ix.search("harbour works", k=10_000, mode="dense")
            lexical = ix.search("harbour", k=10_000, mode="lexical")
            after = len(ix)
            ids = [h.article.id for h in hits]
            if len(ids) != len(set(ids)):
                errors.append("an article twice in one result")
            # Every commit of the writer changes the count except updates, which replace an
            # article's passages in one transaction: so when the count held, so must the hits.
            if before == after and not (len(ids) == len(lexical) == before):
                errors.append(f"{before} counted, {len(ids)} dense and {len(lexical)} lexical hits")
            for article_id in ids[:5]:
                if not article_id.endswith("-01"):  # only those are ever deleted
                    ix.get(article_id)
            last = after
            seen.append(after)
        except Exception:
            errors.append(traceback.format_exc())
        loops += 1
        if finished:
            break
print(json.dumps({"loops": loops, "errors": errors[:5], "n_errors": len(errors), "final": last,
                  "distinct_counts": len(set(seen))}))
"""


def _spawn(code: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, str(TESTS), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def test_readers_search_while_one_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    done_flag = tmp_path / "done"
    with NewsIndex.open(path, model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(Article(id="first", body="The first article about harbour works."))
    readers = [_spawn(READER, path, done_flag) for _ in range(3)]
    writer = _spawn(WRITER, path, BATCHES, PER_BATCH)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "open"

        # A second writer: refused at once, naming the holder; or waiting for it when told to.
        with pytest.raises(IndexLockedError) as info:
            NewsIndex.open(path, model=HashingEmbedder())  # type: ignore[arg-type]
        assert f"pid {writer.pid}" in str(info.value)

        # Visibility: each batch the writer reports committed is found by a reader on its next call.
        with NewsIndex.open(path, model=HashingEmbedder(), read_only=True) as reader:  # type: ignore[arg-type]
            for line in writer.stdout:
                if line.startswith("committed"):
                    batch = int(line.split()[1])
                    code = f"zz{batch:02d}x{PER_BATCH - 1:02d}q"
                    hits = reader.search(code, k=1, mode="lexical")
                    assert [h.article.id for h in hits] == [f"b{batch:02d}-{PER_BATCH - 1:02d}"], batch
                    query = f"Batch {batch} item {PER_BATCH - 1}: code {code}"
                    dense = reader.search(query, k=5, mode="dense")
                    # The test embedder hashes words into 64 buckets: "zz15x19q" and "zz19x15q" share
                    # one, so b15-19 and b19-15 tie exactly once batch 19 is in. Found: among the best.
                    best = [h.article.id for h in dense if h.score == dense[0].score]
                    assert f"b{batch:02d}-{PER_BATCH - 1:02d}" in best, (batch, best)
                elif line.strip() == "done":
                    break
            assert writer.wait(timeout=120) == 0, writer.stderr.read() if writer.stderr else ""
            expected = 1 + BATCHES * PER_BATCH - BATCHES // 5
            assert len(reader) == expected

        done_flag.touch()
        reports = []
        for proc in readers:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            reports.append(json.loads(out))
        for report in reports:
            assert report["n_errors"] == 0, report["errors"]
            assert report["final"] == expected
            assert report["loops"] >= 5
        # The readers read while the writer wrote: they saw the index at several sizes.
        assert max(r["distinct_counts"] for r in reports) >= 3, reports
    finally:
        # Whatever failed above, no process is left running: the readers loop until the flag exists.
        done_flag.touch()
        for proc in [writer, *readers]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_a_second_writer_waits_when_told_to(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    holder = NewsIndex.open(path, model=HashingEmbedder())  # type: ignore[arg-type]
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); from conftest import HashingEmbedder;"
            "from newsindex import NewsIndex, Article;"
            "ix = NewsIndex.open(sys.argv[2], model=HashingEmbedder(), lock_timeout=60);"
            "ix.add(Article(id='late', body='Added after waiting.')); ix.close(); print('ok')",
            str(TESTS),
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    time.sleep(2.0)
    assert proc.poll() is None, "the second writer did not wait"
    holder.add(Article(id="early", body="Added by the first writer."))
    holder.close()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip() == "ok", err
    assert time.monotonic() - started >= 2.0
    with NewsIndex.open(path, model=HashingEmbedder(), read_only=True) as ix:  # type: ignore[arg-type]
        assert "early" in ix and "late" in ix


def test_the_cli_names_the_writer_holding_the_lock(tmp_path: Path) -> None:
    from helpers import run_cli

    path = tmp_path / "ix"
    (tmp_path / "a.txt").write_text("Harbour works resumed on Monday.\n")
    with NewsIndex.open(path, model=HashingEmbedder()):  # type: ignore[arg-type]
        result = run_cli("ingest", tmp_path / "a.txt", "--index", path)
    assert result.returncode == 2
    assert f"pid {os.getpid()}" in result.stderr and "another writer" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_threads_search_one_handle_while_another_thread_adds_and_deletes(tmp_path: Path) -> None:
    """One handle shared by threads: unfiltered dense searches read the vector index (its float16
    copy and the ids) while an add or a delete in another thread resizes it. Without the index's
    lock this failed in two runs of three, with an IndexError."""
    with NewsIndex.open(tmp_path / "ix", model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add([Article(id=f"a{i}", body=f"Report {i} from the harbour. " * (3 + i % 9)) for i in range(40)])

        def search() -> None:
            for _ in range(60):
                assert len(ix.search("harbour report", k=5, mode="dense")) == 5

        def write() -> None:
            for n in range(30):
                ix.add(Article(id=f"a{n}", body=f"Version {n} from the harbour. " * (4 + n % 7)))
                if n % 6 == 5:
                    ix.delete([f"a{n - 2}"])

        assert errors_in_threads(search, search, write) == []


# --- one handle, several threads: the handle lock and the read-only catch-up -----------------------


def _reader_behind_a_writer(tmp_path: Path) -> tuple[NewsIndex, NewsIndex]:
    """A writer with two articles more than a read-only handle opened before they were added."""
    writer = NewsIndex.open(tmp_path / "ix", model=HashingEmbedder())  # type: ignore[arg-type]
    writer.add(
        [Article(id="a1", body="A ferry ran aground."), Article(id="a2", body="Floods closed a road.")]
    )
    reader = NewsIndex.open(tmp_path / "ix", read_only=True, model=HashingEmbedder())  # type: ignore[arg-type]
    writer.add(
        [Article(id="a3", body="Talks resumed in Geneva."), Article(id="a4", body="The port reopened.")]
    )
    return writer, reader


def test_threads_of_a_reader_catch_up_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two searches that both notice another process's commit: one catches up, the other waits and
    finds it done (both catching up added every new vector twice)."""
    writer, reader = _reader_behind_a_writer(tmp_path)
    data_version = reader._store.data_version

    def slow_data_version() -> int:
        version = data_version()
        time.sleep(0.2)  # both threads read the new version before either acts on it
        return version

    monkeypatch.setattr(reader._store, "data_version", slow_data_version)

    def search() -> None:
        reader.search("ferry", k=4)

    assert errors_in_threads(search, search) == []
    ids = reader._vectors.stored_ids().tolist()
    assert sorted(ids) == sorted(set(ids)) and len(ids) == reader._store.count("passages") == 4
    reader.close()
    writer.close()


def test_a_failed_catch_up_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader = _reader_behind_a_writer(tmp_path)
    catch_up = reader._catch_up
    calls = []

    def failing_once(vectors: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the machine ran out of memory")
        catch_up(vectors)  # type: ignore[arg-type]

    monkeypatch.setattr(reader, "_catch_up", failing_once)
    with pytest.raises(OSError):
        reader.search("port", k=4, mode="dense")
    assert {h.article.id for h in reader.search("port", k=4, mode="dense")} == {"a1", "a2", "a3", "a4"}
    reader.close()
    writer.close()


def test_close_waits_for_a_search_in_another_thread(tmp_path: Path) -> None:
    class SlowQueries(HashingEmbedder):
        def encode(self, texts: Sequence[str]) -> np.ndarray:
            if texts == ["slow query"]:
                started.set()
                time.sleep(0.4)
            return super().encode(texts)

    started = threading.Event()
    ix = NewsIndex.open(tmp_path / "ix", model=SlowQueries())  # type: ignore[arg-type]
    ix.add([Article(id="a1", body="A ferry ran aground near the harbour.")])
    found: list[str] = []

    def search() -> None:
        found.extend(h.article.id for h in ix.search("slow query", k=1, mode="dense"))

    def close() -> None:
        started.wait(5)
        ix.close()  # without waiting, the search read a closed connection (StoreError)

    assert errors_in_threads(search, close) == []
    assert found == ["a1"]


def test_an_adds_engine_is_not_seen_before_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Int8Hashing(HashingEmbedder):
        engine = "openvino-int8"

    ix = NewsIndex.open(tmp_path / "ix", model=Int8Hashing())  # type: ignore[arg-type]
    inside, go = threading.Event(), threading.Event()

    def failing_pool() -> None:  # any failure late in the add's transaction
        inside.set()
        go.wait(5)
        raise RuntimeError("the event pool failed")

    monkeypatch.setattr(ix, "_event_pool", failing_pool)
    seen: list[list[str]] = []

    def add() -> None:
        with pytest.raises(RuntimeError, match="event pool"):
            ix.add([Article(id="a1", body="A ferry ran aground near the harbour.")])

    def look() -> None:
        inside.wait(5)
        threading.Timer(0.2, go.set).start()  # the add rolls back while this thread waits
        seen.append(ix.engines)

    assert errors_in_threads(add, look) == []
    assert seen == [[]] and ix.engines == [] and len(ix) == 0
    ix.close()


# --- two writer threads on one handle: one add or delete at a time ---------------------------------


def _first_call_pauses(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str
) -> tuple[threading.Event, threading.Event]:
    """The first call of ``owner.name`` says it started, then waits until ``resume`` is set or half a
    second passed (when writers run one at a time, the other writer waits for this one meanwhile)."""
    started, resume = threading.Event(), threading.Event()
    original = getattr(owner, name)

    def paused(*args: Any, **kwargs: Any) -> Any:
        if not started.is_set():
            started.set()
            resume.wait(0.5)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, paused)
    return started, resume


def _meanwhile(started: threading.Event, resume: threading.Event, work: Callable[[], object]) -> None:
    started.wait(5)
    try:
        work()
    finally:
        resume.set()


def test_two_threads_add_the_same_new_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both adds found no article with that id before either committed: the second to commit failed
    with UNIQUE constraint failed (plain threads did too, in 20 tries of 20)."""
    ix = NewsIndex.open(tmp_path / "ix", model=HashingEmbedder())  # type: ignore[arg-type]
    started, resume = _first_call_pauses(monkeypatch, ix.indexer, "embed")  # after the lookup

    def add() -> None:
        ix.add(Article(id="a1", body="A ferry ran aground near the harbour."))

    assert errors_in_threads(add, lambda: _meanwhile(started, resume, add)) == []
    assert len(ix) == 1 and len(ix._vectors) == ix._store.count("passages") == 1
    ix.close()


def test_an_update_and_a_delete_of_one_article_in_two_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The update looked the article up, the delete removed it, the update then wrote to the removed
    row (TypeError; plain threads failed in 16 tries of 20)."""
    ix = NewsIndex.open(tmp_path / "ix", model=HashingEmbedder())  # type: ignore[arg-type]
    ix.add(Article(id="a1", body="A ferry ran aground near the harbour."))
    started, resume = _first_call_pauses(monkeypatch, ix.indexer, "embed")

    def update() -> None:
        ix.add(Article(id="a1", body="A ferry ran aground near the harbour; all were rescued."))

    assert errors_in_threads(update, lambda: _meanwhile(started, resume, lambda: ix.delete("a1"))) == []
    assert "a1" not in ix and len(ix._vectors) == ix._store.count("passages") == 0
    ix.close()


def test_an_add_while_another_thread_rebuilds_the_vector_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One add grows the exact index past the threshold and rebuilds it from the store's vectors;
    another commits meanwhile. Its vectors went to the old index and were lost with it; with plain
    threads, a vector file written from the new one then failed to reopen (CorruptIndexError)."""
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 100)
    monkeypatch.setattr(index_module, "SAVE_AFTER_VECTORS", 50)
    monkeypatch.setattr(index_module, "SAVE_AFTER_FRACTION", 0.0)
    path = tmp_path / "ix"
    ix = NewsIndex.open(path, model=HashingEmbedder(dim=48))  # type: ignore[arg-type]
    started, resume = _first_call_pauses(monkeypatch, index_module, "build_vector_index")

    def grow() -> None:
        ix.add([Article(id=f"a{i}", body=f"Report {i} about the harbour works.") for i in range(120)])

    def add_one() -> None:
        ix.add(Article(id="late", body="Floods closed the coastal road."))

    assert errors_in_threads(grow, lambda: _meanwhile(started, resume, add_one)) == []
    assert ix._vectors.kind == "ivf"
    assert sorted(ix._vectors.ids().tolist()) == ix._store.passage_ids().tolist()
    ix.close()
    with NewsIndex.open(path, model=HashingEmbedder(dim=48), read_only=True) as again:  # type: ignore[arg-type]
        assert len(again._vectors) == again._store.count("passages") == 121


def test_a_search_sees_the_rebuilt_vector_index_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search in another thread while the rebuilt index is swapped in sees the old one or the new
    one: here the swap pauses between the handle's index and the searcher's."""
    monkeypatch.setattr(vectors_module, "APPROXIMATE_FROM", 100)
    monkeypatch.setattr(index_module, "SAVE_AFTER_VECTORS", 50)
    monkeypatch.setattr(index_module, "SAVE_AFTER_FRACTION", 0.0)
    swapping = threading.Event()

    class SlowSwap(Searcher):
        @property  # type: ignore[override]
        def vectors(self) -> Any:
            return self.__dict__["vectors"]

        @vectors.setter
        def vectors(self, value: Any) -> None:
            if "vectors" in self.__dict__:
                swapping.set()
                time.sleep(0.3)
            self.__dict__["vectors"] = value

    ix = NewsIndex.open(tmp_path / "ix", model=HashingEmbedder(dim=48))  # type: ignore[arg-type]
    ix._searcher.__class__ = SlowSwap
    ix._searcher.__dict__["vectors"] = ix._vectors
    seen: list[tuple[str, str]] = []

    def grow() -> None:
        ix.add([Article(id=f"a{i}", body=f"Report {i} about the harbour works.") for i in range(120)])

    def look() -> None:
        swapping.wait(5)
        with ix._rw.reading():  # as each search holds it
            seen.append((ix._vectors.kind, ix._searcher.vectors.kind))

    assert errors_in_threads(grow, look) == []
    assert seen == [("ivf", "ivf")]
    ix.close()


def test_two_threads_encode_through_one_full_cache() -> None:
    """A cache lookup and its move to the end happen together: before, a thread that found a key could
    have it evicted by another thread's new vector before moving it, and raised KeyError."""
    from collections import OrderedDict

    from newsindex import EmbeddingIndexer

    indexer = EmbeddingIndexer(HashingEmbedder(), cache_size=1)
    indexer.encode(["the first text"])  # fills the cache
    found, evicted = threading.Event(), threading.Event()

    class SlowLookups(OrderedDict[bytes, np.ndarray]):
        def get(self, key: bytes, default: Any = None) -> Any:
            value = super().get(key, default)
            if value is not None and not found.is_set():
                found.set()
                evicted.wait(0.5)  # the other thread's eviction lands here, if nothing stops it
            return value

    indexer._cache = SlowLookups(indexer._cache)

    def other() -> None:
        found.wait(5)
        try:
            indexer.encode(["a second text"])  # evicts the first when the cache holds one
        finally:
            evicted.set()

    assert errors_in_threads(lambda: indexer.encode(["the first text"]), other) == []
    assert list(indexer._cache) and len(indexer._cache) == 1


# --- a handle inherited across fork ----------------------------------------------------------------


def _in_forked_child(work: Callable[[], int]) -> int:
    """Run ``work`` in a forked child; its return value is the child's exit status (99: it raised
    something else)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 99
        try:
            code = work()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
@pytest.mark.parametrize("read_only", [False, True])
def test_a_forked_child_cannot_use_its_parents_handle(tmp_path: Path, read_only: bool) -> None:
    """The child gets a clear error before any lock or SQLite call (a lock another thread held at the
    fork would stay held in the child); closing there does nothing, and the parent's handle works on."""
    path = tmp_path / "ix"
    with NewsIndex.open(path, model=HashingEmbedder()) as ix:  # type: ignore[arg-type]
        ix.add(Article(id="a1", body="A ferry ran aground near the harbour."))
    ix = NewsIndex.open(path, model=HashingEmbedder(), read_only=read_only)  # type: ignore[arg-type]

    def child() -> int:
        refused = 0
        uses = (lambda: ix.search("ferry"), lambda: len(ix), lambda: ix.engines, lambda: ix.delete("a1"))
        for use in uses:
            try:
                use()
            except NewsIndexError as exc:
                refused += "forked child" in str(exc) and "NewsIndex.open" in str(exc)
        ix.close()  # nothing to release in the child
        return 10 + refused

    assert _in_forked_child(child) == 14
    assert [hit.article.id for hit in ix.search("ferry")] == ["a1"] and len(ix) == 1
    ix.close()
    with NewsIndex.open(path, model=HashingEmbedder()) as again:  # type: ignore[arg-type]
        assert len(again) == 1
