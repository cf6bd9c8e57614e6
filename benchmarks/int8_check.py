"""Static int8 of the OpenVINO model: how much faster, how far from the vectors in use? (issue 5, item 2)

The int8 model is newsindex's own (``backend="openvino-int8"``, :mod:`newsindex.int8`: calibrated on
the invented passages shipped with the package). It is compared with the bfloat16 model newsindex runs
by default with ``newsindex[fast]``, on BBC passages, interleaved: passages per second in batches (as
ingest encodes), single-query latency with the 16-token shape queries use (the CPU caches flushed
between queries, as a search does), the cosine of each vector to float32's, and, with ``--map``,
same-event MAP of ``related()`` on the two gold event sets with int8, bfloat16 and PyTorch. With
``--nncf`` (``pip install nncf``), NNCF's post-training quantisation of the same model, calibrated on
Reuters passages, is measured beside them.

    .venv/bin/python benchmarks/int8_check.py [--passages 600] [--map] [--nncf]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import data_file
from embedding_speed import MAP_SETS, passages_and_titles, same_event_map

from newsindex import EmbeddingIndexer, SentenceTransformerEmbedder, load_articles
from newsindex.fast_inference import OpenVinoEncoder

BATCH = 32


def calibration_texts(count: int) -> list[str]:
    """Passages of Reuters articles: another source than the BBC passages measured."""
    articles = [a for a in load_articles(data_file("corpus-reuters.jsonl"), on_error="skip") if a.body]
    random.Random(7).shuffle(articles)
    splitter = EmbeddingIndexer(SentenceTransformerEmbedder(backend="torch"))
    texts: list[str] = []
    for article in articles:
        if len(texts) >= count:
            break
        texts.extend(splitter.prepare(article)[1])
    return texts[:count]


def nncf_copy(fast: OpenVinoEncoder, calibration: list[str], folder: Path) -> OpenVinoEncoder:
    """The encoder's model quantised to int8 by NNCF, saved with its tokenizer and metadata in ``folder``."""
    import nncf
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(fast._model_file))
    samples = [
        fast._feeds([fast._tokenizer.encode(text)], len(fast._tokenizer.encode(text).ids))
        for text in calibration
    ]
    started = time.perf_counter()
    quantised = nncf.quantize(
        model, nncf.Dataset(samples), model_type=nncf.ModelType.TRANSFORMER, subset_size=len(samples)
    )
    print(f"quantised in {time.perf_counter() - started:.0f} s on {len(samples)} Reuters passages")
    ov.save_model(quantised, str(folder / "model.xml"))
    source = fast._model_file.parent
    (folder / "tokenizer.json").write_bytes((source / "tokenizer.json").read_bytes())
    meta = json.loads((source / "meta.json").read_text(encoding="utf-8"))
    return OpenVinoEncoder(folder, meta)


def batch_seconds(encoder: OpenVinoEncoder, texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=BATCH)
    return time.perf_counter() - started, vectors


def query_ms(encoders: dict[str, OpenVinoEncoder], titles: list[str], rounds: int) -> dict[str, float]:
    flush = np.ones(3_000_000, dtype=np.float32)  # 12 MB read between queries, as a search does
    times: dict[str, list[float]] = {name: [] for name in encoders}
    for turn in range(rounds):
        names = list(encoders) if turn % 2 else list(reversed(encoders))
        for title in titles:
            for name in names:
                flush.sum()
                started = time.perf_counter()
                encoders[name].encode([title])
                times[name].append(time.perf_counter() - started)
    return {name: 1000 * statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=600, help="BBC passages timed and compared")
    parser.add_argument("--calibration", type=int, default=300, help="Reuters passages to calibrate on")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--map", action="store_true", help="also same-event MAP on the gold event sets")
    parser.add_argument("--nncf", action="store_true", help="also NNCF's int8 model (needs nncf)")
    args = parser.parse_args()
    texts, titles = passages_and_titles(args.passages, seed=0)
    bf16 = SentenceTransformerEmbedder(backend="openvino")
    bf16.encode(["warm up"])
    fast: Any = bf16._fast
    if not isinstance(fast, OpenVinoEncoder):
        raise SystemExit("the OpenVINO backend is not available here (pip install -e '.[fast]')")
    reference = OpenVinoEncoder(
        fast._model_file.parent,
        json.loads((fast._model_file.parent / "meta.json").read_text()),
        precision="f32",
    )
    quantised = SentenceTransformerEmbedder(backend="openvino-int8")
    quantised.encode(["warm up"])
    int8: Any = quantised._fast
    with tempfile.TemporaryDirectory() as tmp:
        encoders = {"bfloat16": fast, "int8": int8}
        if args.nncf:
            encoders["nncf int8"] = nncf_copy(fast, calibration_texts(args.calibration), Path(tmp))
        seconds: dict[str, list[float]] = {name: [] for name in encoders}
        vectors: dict[str, np.ndarray] = {}
        for turn in range(args.rounds):
            for name in list(encoders) if turn % 2 else list(reversed(encoders)):
                spent, vectors[name] = batch_seconds(encoders[name], texts)
                seconds[name].append(spent)
        _, exact = batch_seconds(reference, texts)
        short = [t for t in titles if len(fast._tokenizer.encode(t).ids) <= 16][:50]
        latency = query_ms(encoders, short, 4)
        print(f"{len(texts)} BBC passages, batches of {BATCH}, {args.rounds} interleaved rounds")
        print(
            f"{'model':<9} {'passages/s':>10} {'query p50 ms':>12} {'min cos f32':>11} {'mean cos f32':>12}"
        )
        for name in encoders:
            cosine = (vectors[name] * exact).sum(axis=1)
            rate = len(texts) / statistics.median(seconds[name])
            print(
                f"{name:<9} {rate:>10.1f} {latency[name]:>12.2f} {cosine.min():>11.4f} {cosine.mean():>12.5f}"
            )
        if args.map:
            torch = SentenceTransformerEmbedder(backend="torch")
            print(f"\n{'set':<14} {'int8 MAP':>8} {'bf16':>8} {'torch':>8} {'int8 s':>7} {'bf16 s':>7}")
            for name in MAP_SETS:
                q_map, q_s = same_event_map(name, quantised)
                b_map, b_s = same_event_map(name, bf16)
                t_map, _ = same_event_map(name, torch)
                print(f"{name:<14} {q_map:>8.4f} {b_map:>8.4f} {t_map:>8.4f} {q_s:>7.1f} {b_s:>7.1f}")


if __name__ == "__main__":
    main()
