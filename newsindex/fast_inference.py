"""A faster CPU path for sentence-transformers models: OpenVINO, exported once from the local model.

The model's PyTorch forward pass (transformer, pooling and any further modules) is exported to ONNX
with ``torch.onnx`` from the files on disk, read by OpenVINO, checked against PyTorch on a few probe
sentences, saved as OpenVINO IR in the user cache directory (``NEWSINDEX_CACHE_DIR``, else
``$XDG_CACHE_HOME/newsindex``, else ``~/.cache/newsindex``) and reused by later processes. Nothing is
downloaded. Once the export is cached, encoding needs neither torch nor sentence-transformers: only
``openvino``, ``tokenizers`` and numpy, so loading is quick too.

OpenVINO runs in bfloat16 where the CPU computes it natively (about 2.5× PyTorch on a 2-core
AVX-512 machine, cosine ≥ 0.9999 to PyTorch's vectors) and in float32 elsewhere (about 1.5×, equal
to PyTorch's vectors within 1e-6). See ``benchmarks/embedding_speed.py``.

The OpenVINO model-conversion tool (``openvino.convert_model``) is deliberately not used: it sends
usage telemetry unless the user has opted out, and a library must not touch the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .cache import cache_root
from .errors import EmbeddingError

__all__ = [
    "FastPathError",
    "FastPathNotInstalledError",
    "Int8Error",
    "OpenVinoEncoder",
    "cache_root",
    "load_openvino",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float32]

#: Bump when the export or the cache layout changes, so that old exports are not read.
_FORMAT = 1
# Packages whose versions change what the export produces; part of the cache key.
_KEY_PACKAGES = ("torch", "transformers", "sentence-transformers", "onnx", "openvino")
# The only inputs the fast path knows how to build from a tokenizer's encodings.
_KNOWN_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Probe texts for the export check: different lengths (so a batch is padded), a single text
# (no padding at all), capitals, accents and surrounding blanks, which a mismatched tokenizer would
# treat differently.
_PROBES = (
    "The central bank raised interest rates by half a point on Thursday.",
    "  Floods in Valencia: 'we lost everything', say residents of Paiporta  ",
    "Élections régionales",
    "x",
    "A longer report: the ministry said on Monday that talks between the two delegations, held in "
    "Geneva under UN auspices, would resume next week after a pause of almost three months.",
)
# Largest difference allowed between the float32 export and PyTorch on the probes; a trace that
# baked in the wrong branch (padding, masking) differs by orders of magnitude more.
_CHECK_TOLERANCE = 1e-4
# Temporary export folders older than this were left by a process that died; younger ones may be
# an export in progress.
_ABANDONED_S = 3600
#: Bump when the int8 quantisation changes, so that older int8 models are not read.
_INT8_FORMAT = 2
# Lowest cosine allowed between the int8 and the float model on the probes. Measured: about 0.996 at
# worst on 600 real passages; a quantisation that went wrong (a range cut off, a layer broken) falls far
# lower.
_INT8_MIN_COSINE = 0.95


class FastPathError(EmbeddingError):
    """The fast path cannot be used for this model here; the message says why."""


class FastPathNotInstalledError(FastPathError):
    """A package the fast path needs is not installed."""


class Int8Error(FastPathError):
    """The int8 copy of the model cannot be made; the float model it comes from can still serve."""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def export_key(location: Path) -> str:
    """A digest of the model's files (name, size, modification time) and the exporting packages.

    A changed model file or an upgraded torch, transformers or OpenVINO gives a new key, so a stale
    export is never used.
    """
    digest = hashlib.sha256(f"format {_FORMAT}\n{location.resolve()}\n".encode())
    for package in _KEY_PACKAGES:
        digest.update(f"{package} {_version(package)}\n".encode())
    for path in sorted(p for p in location.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(location)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _openvino() -> Any:
    try:
        # Imported by name: openvino ships no type information, and only this module touches it.
        return importlib.import_module("openvino")
    except ImportError as exc:
        raise FastPathNotInstalledError("openvino is not installed (pip install 'newsindex[fast]')") from exc


def _cpu_precision(core: Any) -> str:
    """bfloat16 where the CPU computes it natively (fast, and close to float32), else float32."""
    try:
        capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:  # OpenVINO raises RuntimeError for an unknown property or device
        return "f32"
    return "bf16" if "BF16" in capabilities else "f32"


#: A single text (a query) is padded to the first of these token counts it fits and run on a model
#: compiled for that fixed shape: with one 10-token query on 2 cores, 2.8 ms against 4.8 ms for the
#: model that takes any shape, and the same vector (cosine 0.99998 with float32 unpadded). Each fixed
#: model costs about 138 MB of memory, so there is one, for short queries (32 tokens: 3.9 ms).
FIXED_QUERY_LENGTHS = (16,)


class OpenVinoEncoder:
    """A sentence-embedding model compiled by OpenVINO, with its own copy of the tokenizer.

    ``encode`` tokenizes, batches texts of similar length together (so little padding is computed),
    runs the model and returns L2-normalised float32 rows in input order.
    """

    def __init__(self, folder: Path, meta: dict[str, Any], *, precision: str | None = None) -> None:
        from tokenizers import Tokenizer

        ov = _openvino()
        core = ov.Core()
        self.precision = precision or _cpu_precision(core)
        self.meta = meta
        #: Whether the model's linear layers run in int8 (:mod:`newsindex.int8`).
        self.int8 = meta.get("quantization") == "int8"
        self.max_seq_length = int(meta["max_seq_length"])
        self.dim = int(meta["dim"])
        self.input_names: list[str] = list(meta["inputs"])
        self._pad_id = int(meta["pad_id"])
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._spans = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._spans.no_padding()
        self._spans.no_truncation()
        self._core = core
        self._model_file = folder / "model.xml"
        self._config = {"INFERENCE_PRECISION_HINT": self.precision, "PERFORMANCE_HINT": "LATENCY"}
        try:
            compiled = core.compile_model(core.read_model(str(self._model_file)), "CPU", self._config)
        except RuntimeError as exc:  # OpenVINO reports unreadable files and compile errors this way
            raise FastPathError(f"OpenVINO cannot compile {self._model_file}: {exc}") from exc
        self._request = compiled.create_infer_request()
        # Single texts (queries) of at most FIXED_QUERY_LENGTHS tokens run on a model compiled for that
        # exact shape, made on first use (None: it could not be compiled; the general one serves).
        self._fixed: dict[int, Any] = {}
        # One infer request per model, used by one thread at a time: requests are not thread-safe, and
        # on a small machine parallel requests would only compete for the same cores.
        self._lock = threading.Lock()

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the tokens of ``text``, special tokens excluded, nothing cut."""
        return list(self._spans.encode(text, add_special_tokens=False).offsets)

    def encode(self, texts: Sequence[str], *, batch_size: int = 32) -> FloatArray:
        """L2-normalised float32 vectors of ``texts``, one row each, in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._run([encodings[i] for i in rows])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)

    def _fixed_request(self, length: int) -> tuple[Any, int] | None:
        """The request of the fixed-shape model for one text of ``length`` tokens, if there is one
        (called with the lock held)."""
        width = next((w for w in FIXED_QUERY_LENGTHS if length <= w), None)
        if width is None:
            return None
        if width not in self._fixed:
            try:
                model = self._core.read_model(str(self._model_file))
                model.reshape({name: [1, width] for name in self.input_names})
                compiled = self._core.compile_model(model, "CPU", self._config)
                self._fixed[width] = compiled.create_infer_request()
            except RuntimeError:  # a model that cannot take a fixed shape keeps the general path
                self._fixed[width] = None
        request = self._fixed[width]
        return (request, width) if request is not None else None

    def _run(self, encodings: Sequence[Any]) -> FloatArray:
        if len(encodings) == 1:
            with self._lock:
                fixed = self._fixed_request(len(encodings[0].ids))
                if fixed is not None:
                    request, width = fixed
                    return np.array(request.infer(self._feeds(encodings, width))[0], dtype=np.float32)
        with self._lock:
            # Copied while locked: the result's memory belongs to the request and the next call reuses it.
            vectors: FloatArray = np.array(
                self._request.infer(self._feeds(encodings, max(len(e.ids) for e in encodings)))[0],
                dtype=np.float32,
            )
        return vectors

    def _feeds(self, encodings: Sequence[Any], width: int) -> dict[str, Any]:
        """The model's inputs for ``encodings``, padded to ``width`` tokens (padding is masked out)."""
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            length = len(encoding.ids)
            ids[row, :length] = encoding.ids
            mask[row, :length] = 1
            types[row, :length] = encoding.type_ids
        arrays = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return {name: arrays[name] for name in self.input_names}


def load_openvino(
    location: str | os.PathLike[str],
    load_torch_model: Callable[[], Any],
    *,
    precision: str | None = None,
    cache: Path | None = None,
    int8: bool = False,
) -> OpenVinoEncoder:
    """The OpenVINO encoder of the model in the directory ``location``: from the cache, else exported.

    ``load_torch_model`` returns the loaded ``SentenceTransformer``; it is called only when an export
    is needed. With ``int8``, the encoder runs the export quantised to int8 (:mod:`newsindex.int8`),
    itself cached beside the export. Raises :class:`FastPathError` with the reason when the fast path
    cannot be used.
    """
    folder = Path(location)
    if not folder.is_dir():
        raise FastPathError(f"the model {str(location)!r} is not a local directory; only those are exported")
    _openvino()  # fail early, before any export work, where the package is missing
    parent = (cache or cache_root()) / "models"
    # The folder and its parent, for a readable name: a packaged model's folder is often just "model".
    resolved = folder.resolve()
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{resolved.parent.name}-{resolved.name}")[-60:].strip("-.")
    target = parent / f"openvino-{slug}-{export_key(folder)}"
    if int8:
        return _load_int8(folder, target, load_torch_model, precision)
    cached = _open_cached(target, precision)
    if cached is not None:
        return cached
    return _build_and_open(target, lambda work: _export(folder, work, load_torch_model), precision)


def _load_int8(
    model_dir: Path, export: Path, load_torch_model: Callable[[], Any], precision: str | None
) -> OpenVinoEncoder:
    """The int8 encoder: quantised from the float export ``export`` (made first where missing)."""
    from .int8 import calibration_digest

    target = export.with_name(f"{export.name}-int8-{_INT8_FORMAT}-{calibration_digest()}")
    cached = _open_cached(target, precision)
    if cached is not None:
        return cached

    def build(work: Path) -> dict[str, Any]:
        # Opened, not only listed: a damaged export is moved aside here and made again below.
        reference = _open_cached(export, "f32")
        if reference is not None:
            return _quantize(export, work, reference)
        source = work / "float"
        source.mkdir()
        _export(model_dir, source, load_torch_model)
        meta = _quantize(source, work)
        # Kept for the float backend too, where the cache can be written and no other process
        # published one first; otherwise it is dropped.
        with contextlib.suppress(OSError):
            source.rename(export)
        shutil.rmtree(source, ignore_errors=True)
        return meta

    return _build_and_open(target, build, precision)


def _quantize(source: Path, work: Path, reference: OpenVinoEncoder | None = None) -> dict[str, Any]:
    """Quantise the float export in ``source`` into ``work``; check it against the float model
    (``reference``: that export already opened in float32, else it is opened here)."""
    from .int8 import calibration_digest, calibration_texts, quantize_model

    ov = _openvino()
    meta = reference.meta if reference is not None else _read_meta(source)
    if meta is None:
        raise FastPathError(f"the OpenVINO export {source} vanished before it could be quantised")
    if reference is None:
        try:
            reference = OpenVinoEncoder(source, meta, precision="f32")
        except Exception as exc:  # any failure to open it (tokenizers raises bare Exception)
            raise Int8Error(f"cannot open the float model {source} to quantise it: {exc}") from exc
    encode = reference._tokenizer.encode
    feeds = [reference._feeds([encoding], len(encoding.ids)) for encoding in map(encode, calibration_texts())]
    try:
        counts = quantize_model(ov, source / "model.xml", feeds, work / "model.xml")
    except Exception as exc:  # graph surgery on an unforeseen model: the float model still serves
        raise Int8Error(f"the model could not be quantised: {type(exc).__name__}: {exc}") from exc
    if counts["int8_layers"] == 0:
        raise Int8Error("the model has no linear layers with constant weights to quantise")
    shutil.copyfile(source / "tokenizer.json", work / "tokenizer.json")
    meta = {**meta, "quantization": "int8", "calibration": calibration_digest(), **counts}
    try:
        quantised = OpenVinoEncoder(work, meta)
    except FastPathError as exc:
        raise Int8Error(str(exc)) from exc
    probes = list(_PROBES)
    cosine = float((quantised.encode(probes) * reference.encode(probes)).sum(axis=1).min())
    if not cosine >= _INT8_MIN_COSINE:
        raise Int8Error(f"the int8 model is too far from the float one (cosine {cosine:.3f})")
    meta["check_min_cosine"] = cosine
    _write_meta(work, meta, ("model.xml", "model.bin", "tokenizer.json"))
    return meta


def _read_meta(folder: Path) -> dict[str, Any] | None:
    """The export's metadata; None when the folder is not a whole export of this format."""
    try:
        meta: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        sizes = meta["sizes"]
        whole = all((folder / name).stat().st_size == size for name, size in sizes.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return meta if whole and meta.get("format") == _FORMAT else None


def _open_cached(folder: Path, precision: str | None) -> OpenVinoEncoder | None:
    if not folder.is_dir():
        return None
    meta = _read_meta(folder)
    if meta is not None:
        try:
            return OpenVinoEncoder(folder, meta, precision=precision)
        except Exception as exc:  # any failure to open a cache entry (tokenizers raises bare Exception)
            log.warning("the cached OpenVINO export %s cannot be used (%s); exporting again", folder, exc)
    else:
        log.warning("the cached OpenVINO export %s is incomplete or damaged; exporting again", folder)
    # Moved aside before it is deleted, so that no other process reads a half-deleted folder.
    with contextlib.suppress(OSError):
        aside = folder.with_name(f".stale-{folder.name}-{os.getpid()}")
        folder.rename(aside)
        shutil.rmtree(aside, ignore_errors=True)
    return None


def _build_and_open(
    target: Path, build: Callable[[Path], dict[str, Any]], precision: str | None
) -> OpenVinoEncoder:
    """Build into a temporary folder beside ``target`` (``build`` writes the files and returns the
    metadata), rename it into place, open it.

    Where the cache cannot be written, the model goes to a private temporary folder and is used by
    this process only.
    """
    started = time.perf_counter()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_abandoned(target.parent)
        work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".tmp-{target.name}-"))
        shared = True
    except OSError as exc:
        log.warning("cannot write the cache %s (%s); the export is kept for this process only", target, exc)
        work = Path(tempfile.mkdtemp(prefix="newsindex-openvino-"))
        shared = False
    try:
        meta = build(work)
        folder = target if shared and _publish(work, target) else work
        log.info("made the OpenVINO model %s in %.1f s", folder, time.perf_counter() - started)
        return OpenVinoEncoder(folder, meta, precision=precision)
    except OSError as exc:  # a full disk or a vanished folder: no fast path this time, nothing broken
        raise FastPathError(f"cannot write the OpenVINO export to {work}: {exc}") from exc
    finally:
        # After a successful rename ``work`` no longer exists; otherwise it is cleaned up here. An
        # unshared export is deleted once compiled: OpenVINO holds the weights it needs.
        shutil.rmtree(work, ignore_errors=True)


def _publish(work: Path, target: Path) -> bool:
    """Rename the finished export into place; True when ``target`` now holds a whole export.

    Where another process published first, its folder wins and this one is discarded.
    """
    try:
        work.rename(target)
    except OSError as exc:
        if _read_meta(target) is None:
            log.warning(
                "cannot publish the OpenVINO export to %s (%s); using it for this process", target, exc
            )
            return False
    return True


def _remove_abandoned(parent: Path) -> None:
    now = time.time()
    for leftover in parent.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > _ABANDONED_S:
                shutil.rmtree(leftover, ignore_errors=True)


def _export(model_dir: Path, work: Path, load_torch_model: Callable[[], Any]) -> dict[str, Any]:
    """Write ``model.xml``/``model.bin``, ``tokenizer.json`` and ``meta.json`` (last) into ``work``."""
    ov = _openvino()
    model = load_torch_model()
    backend_tokenizer = getattr(model.tokenizer, "backend_tokenizer", None)
    if backend_tokenizer is None:
        raise FastPathError("the model has no fast (Rust) tokenizer to copy")
    # sentence-transformers 5 renamed tokenize() to preprocess(); older versions only have tokenize().
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    features = preprocess(list(_PROBES[:2]))
    inputs = [name for name in _KNOWN_INPUTS if name in features]
    unknown = [k for k, v in features.items() if k not in _KNOWN_INPUTS and hasattr(v, "shape")]
    if unknown or "input_ids" not in inputs:
        raise FastPathError(f"the model takes inputs the fast path does not build: {unknown or 'none'}")
    onnx_file = work / "model.onnx"
    _export_onnx(model, [features[name] for name in inputs], inputs, onnx_file)
    core = ov.Core()
    ov.save_model(core.read_model(str(onnx_file)), str(work / "model.xml"), compress_to_fp16=False)
    onnx_file.unlink()
    (work / "tokenizer.json").write_text(backend_tokenizer.to_str(), encoding="utf-8")
    meta: dict[str, Any] = {
        "format": _FORMAT,
        "model": str(model_dir.resolve()),
        "inputs": inputs,
        "max_seq_length": int(model.max_seq_length),
        "dim": int(_embedding_dimension(model)),
        "pad_id": int(model.tokenizer.pad_token_id or 0),
        "versions": {package: _version(package) for package in _KEY_PACKAGES},
    }
    meta["check_max_abs_diff"] = _check_against_torch(work, meta, model)
    _write_meta(work, meta, ("model.xml", "model.bin", "tokenizer.json"))
    return meta


def _write_meta(work: Path, meta: dict[str, Any], files: Sequence[str]) -> None:
    """Record the files' sizes and write ``meta.json`` last: a folder with it is whole."""
    meta["sizes"] = {name: (work / name).stat().st_size for name in files}
    for name in files:
        _fsync(work / name)
    (work / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    _fsync(work / "meta.json")


def _embedding_dimension(model: Any) -> int:
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def _export_onnx(model: Any, example: list[Any], names: list[str], path: Path) -> None:
    import torch

    class _SentenceEmbedding(torch.nn.Module):
        """The whole sentence-transformers pipeline as a function of the tokenizer's tensors."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.inner(dict(zip(names, tensors, strict=True)))["sentence_embedding"]
            return out

    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    dynamic["sentence_embedding"] = {0: "batch"}
    try:
        import onnx  # noqa: F401  # the TorchScript exporter needs it; checked here for a clear reason
    except ImportError as exc:
        raise FastPathNotInstalledError("onnx is not installed (pip install 'newsindex[fast]')") from exc
    # The TorchScript exporter (dynamo=False) traces one run: the example batch is padded (probes of
    # different lengths), so the attention-mask path is the one recorded; _check_against_torch then
    # proves the graph right on padded and unpadded batches. Its warnings about tracing are expected.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                _SentenceEmbedding(model).eval(),
                tuple(example),
                str(path),
                dynamo=False,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes=dynamic,
                opset_version=17,
            )
        except Exception as exc:  # the exporter raises many types; any of them means "no fast path"
            raise FastPathError(f"torch.onnx could not export the model: {exc}") from exc


def _check_against_torch(work: Path, meta: dict[str, Any], model: Any) -> float:
    """Largest difference between the float32 export and PyTorch on the probes (raises if too large)."""
    expected = np.asarray(
        model.encode(
            list(_PROBES), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        ),
        dtype=np.float32,
    )
    exported = OpenVinoEncoder(work, meta, precision="f32")
    # As a padded batch and one text at a time, so both traced paths are exercised.
    batched = exported.encode(list(_PROBES))
    single = np.concatenate([exported.encode([text]) for text in _PROBES])
    difference = float(max(np.abs(batched - expected).max(), np.abs(single - expected).max()))
    if not difference <= _CHECK_TOLERANCE:
        raise FastPathError(f"the exported model differs from PyTorch by {difference:.2g} on test sentences")
    return difference


def _fsync(path: Path) -> None:
    # On disk before the folder is renamed into place, or a crash could publish a short file.
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
