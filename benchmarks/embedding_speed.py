"""Embedding speed and vector quality of each inference backend against plain PyTorch (issue 5, item 2).

On the same ~1,000 real passages (BBC articles split by newsindex's own passage splitter, as an index
stores them), in one run, rounds interleaved with the order rotated each round so that machine drift
cancels: passages/s of each backend and its speed ratio to PyTorch within the same round (median over
rounds); single-query latency p50 (article titles, one at a time); the agreement of each backend's
vectors with PyTorch's (max abs difference, min and mean cosine over all passages). With ``--map``,
same-event MAP (``related``, dense mode, as in ``benchmarks/same_event.py``) on the dev event sets,
built and queried with each backend.

Backends: ``torch`` (the plain path), ``torch-bf16`` (PyTorch under CPU bfloat16 autocast),
``openvino`` (newsindex's fast path at the precision it picks for this CPU), ``openvino-f32``, and,
where onnxruntime is installed, ``ort-f32`` and ``ort-int8`` (dynamic int8, per-channel weights).

    nice -n 5 .venv/bin/python benchmarks/embedding_speed.py [--passages 1000] [--rounds 3] [--map]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _common import data_file, gold_set, related_map

from newsindex import EmbeddingIndexer, NewsIndex, SentenceTransformerEmbedder, load_articles
from newsindex.fast_inference import OpenVinoEncoder, load_openvino

Encode = Callable[[Sequence[str]], np.ndarray]
MAP_SETS = ("events-g5w1h", "events-basil")


def passages_and_titles(count: int, seed: int) -> tuple[list[str], list[str]]:
    """``count`` passage texts (title + passage, as embedded) and the titles of their articles."""
    articles = load_articles(data_file("topics-bbc.jsonl"))
    random.Random(seed).shuffle(articles)
    splitter = EmbeddingIndexer(SentenceTransformerEmbedder(backend="torch"))
    texts: list[str] = []
    titles: list[str] = []
    for article in articles:
        if len(texts) >= count:
            break
        texts.extend(splitter.prepare(article)[1])
        if article.title:
            titles.append(article.title)
    return texts[:count], titles


class Embedders:
    """One Embedder per backend, over the same packaged model."""

    def __init__(self) -> None:
        self.torch = SentenceTransformerEmbedder(backend="torch")
        self.fast = SentenceTransformerEmbedder(backend="openvino")
        self.location = SentenceTransformerEmbedder()._location

    def encoders(self) -> dict[str, Encode]:
        import torch

        found: dict[str, Encode] = {"torch": self.torch.encode}

        def bf16(texts: Sequence[str]) -> np.ndarray:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return self.torch.encode(texts)

        found["torch-bf16"] = bf16
        fast: OpenVinoEncoder | None = self.fast._fast_encoder()
        assert fast is not None
        found[f"openvino ({fast.precision})"] = self.fast.encode
        if fast.precision != "f32":
            f32 = load_openvino(self.location, lambda: self.torch.model, precision="f32")
            found["openvino-f32"] = f32.encode
        found.update(onnxruntime_encoders(self.torch, fast))
        return found


def onnxruntime_encoders(
    torch_embedder: SentenceTransformerEmbedder, fast: OpenVinoEncoder
) -> dict[str, Encode]:
    """ONNX Runtime float32 and dynamic-int8 sessions of the same export, where onnxruntime is installed."""
    try:
        import onnxruntime as ort
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        return {}
    from newsindex import fast_inference

    model = torch_embedder.model
    features = model.preprocess(["a short text", "a somewhat longer text than that"])
    names = list(fast.input_names)
    found: dict[str, Encode] = {}
    # The sessions hold their models in memory, so the files can go once they are created.
    with tempfile.TemporaryDirectory(prefix="embedding-speed-") as tmp:
        folder = Path(tmp)
        fast_inference._export_onnx(model, [features[n] for n in names], names, folder / "f32.onnx")
        quantize_dynamic(
            folder / "f32.onnx", folder / "int8.onnx", weight_type=QuantType.QInt8, per_channel=True
        )
        for label in ("f32", "int8"):
            session = ort.InferenceSession(str(folder / f"{label}.onnx"), providers=["CPUExecutionProvider"])
            found[f"ort-{label}"] = ort_encoder(session, fast)
    return found


def ort_encoder(session: Any, fast: OpenVinoEncoder) -> Encode:
    """An encoder with the fast path's tokenizer and batching and an ONNX Runtime session as the model."""

    class Request:
        def infer(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            return [session.run(None, feeds)[0]]

    clone = object.__new__(OpenVinoEncoder)
    clone.__dict__.update(fast.__dict__)
    clone._request = Request()
    return lambda texts: clone.encode(texts)


def time_rounds(
    encoders: dict[str, Encode], texts: list[str], queries: list[str], rounds: int
) -> dict[str, Any]:
    names = list(encoders)
    seconds: dict[str, list[float]] = defaultdict(list)
    latencies: dict[str, list[float]] = defaultdict(list)
    vectors: dict[str, np.ndarray] = {}
    for name in names:  # warm-up: first calls compile kernels and fill caches
        encoders[name](texts[:64])
        for query in queries:
            encoders[name]([query])
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            vectors[name] = encoders[name](texts)
            seconds[name].append(time.perf_counter() - started)
            for query in queries:
                started = time.perf_counter()
                encoders[name]([query])
                latencies[name].append(time.perf_counter() - started)
    return {"seconds": seconds, "latencies": latencies, "vectors": vectors}


def report_speed(results: dict[str, Any], count: int) -> None:
    seconds, latencies, vectors = results["seconds"], results["latencies"], results["vectors"]
    reference = vectors["torch"]
    print(
        f"{'backend':<18} {'passages/s':>10} {'× torch':>8} {'query p50 ms':>12} {'q × torch':>9} "
        f"{'max |Δ|':>9} {'min cos':>8} {'mean cos':>9}"
    )
    torch_p50 = statistics.median(latencies["torch"])
    for name, times in seconds.items():
        ratio = statistics.median(t / s for t, s in zip(seconds["torch"], times, strict=True))
        p50 = statistics.median(latencies[name])
        cosines = (vectors[name] * reference).sum(axis=1)
        print(
            f"{name:<18} {count / statistics.median(times):>10.1f} {ratio:>8.2f} {1000 * p50:>12.2f} "
            f"{torch_p50 / p50:>9.2f} {np.abs(vectors[name] - reference).max():>9.2e} "
            f"{cosines.min():>8.5f} {cosines.mean():>9.6f}"
        )


def same_event_map(name: str, model: SentenceTransformerEmbedder) -> tuple[float, float]:
    """Dense-mode same-event MAP of one set, as ``benchmarks/same_event.py`` computes it, and the
    seconds ``NewsIndex.add`` took (everything on: passages, events, lexical index)."""
    gold = gold_set(name)
    with tempfile.TemporaryDirectory() as tmp, NewsIndex.open(Path(tmp) / "ix", model=model) as ix:
        started = time.perf_counter()
        ix.add(gold.articles)
        ingest_s = time.perf_counter() - started
        return related_map(ix, gold, "dense"), ingest_s


def report_map(embedders: Embedders) -> None:
    print(
        f"\n{'set':<14} {'torch MAP':>9} {'openvino MAP':>12} {'Δ':>7} {'torch add s':>11} "
        f"{'openvino add s':>14}   (related(), dense mode)"
    )
    for name in MAP_SETS:
        torch_map, torch_s = same_event_map(name, embedders.torch)
        fast_map, fast_s = same_event_map(name, embedders.fast)
        print(
            f"{name:<14} {torch_map:>9.4f} {fast_map:>12.4f} {fast_map - torch_map:>+7.4f} "
            f"{torch_s:>11.1f} {fast_s:>14.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=40, help="single-text encodes per backend per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--map", action="store_true", help="also same-event MAP with torch and openvino")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed rounds")
    args = parser.parse_args()

    import torch

    embedders = Embedders()
    print(f"model: {embedders.location}; torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}")
    if not args.no_speed:
        texts, titles = passages_and_titles(args.passages, args.seed)
        lengths = [len(t) for t in texts]
        print(
            f"{len(texts)} passages (chars: mean {statistics.mean(lengths):.0f}, max {max(lengths)}), ",
            end="",
        )
        print(f"{args.queries} single-title queries, {args.rounds} interleaved rounds")
        encoders = embedders.encoders()
        results = time_rounds(encoders, texts, titles[: args.queries], args.rounds)
        report_speed(results, len(texts))
    if args.map:
        report_map(embedders)


if __name__ == "__main__":
    main()
