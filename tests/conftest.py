"""Shared fixtures: a small deterministic embedder for fast unit tests, and the real model for the
tests that prove features (loaded once per session)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = SEEDS / "000_a8258f998b926b3a.txt"
SHARED_DATA = ROOT.parent / "shared" / "data"

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Words hashed into signed buckets: deterministic, instant, and close texts get close vectors.

    For unit tests of the plumbing only; features are proven on the real model.
    """

    def __init__(self, dim: int = 64, max_tokens: int = 40, name: str = "test/hashing") -> None:
        self._dim = dim
        self._max_tokens = max_tokens
        self._name = name
        self.encoded = 0  # how many texts were encoded, to check that caching works

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def token_spans(self, text: str) -> Sequence[tuple[int, int]]:
        return [(m.start(), m.end()) for m in _WORD.finditer(text)]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


@pytest.fixture
def hashing() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[object]:
    """The packaged all-MiniLM-L6-v2, loaded once for every test that needs it."""
    from newsindex import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    yield embedder


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, real_embedder: object) -> Iterator[Path]:
    """An index of seeds/ built with the real model, shared read-only by the tests."""
    from newsindex import NewsIndex

    path = tmp_path_factory.mktemp("seeds") / "ix"
    with NewsIndex.open(path, model=real_embedder) as ix:  # type: ignore[arg-type]
        report = ix.add([SEEDS])
        assert report.added >= 30, report
    yield path
