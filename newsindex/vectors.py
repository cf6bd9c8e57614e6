"""``FaissRetriever``: vectors with integer ids → top-k by inner product, with an id filter pushed into
FAISS, atomic save and load. Also :func:`exact_search`, a plain numpy reference used to check FAISS.

Vectors are L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import ConfigurationError, CorruptIndexError, DependencyError

__all__ = ["FaissRetriever", "exact_search", "unit", "unit_mean"]

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]


def unit(vector: npt.ArrayLike) -> FloatArray:
    """``vector`` scaled to length 1 (a zero vector stays as it is), as float32."""
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / np.float32(norm) if norm > 0 else array


def unit_mean(rows: npt.ArrayLike) -> FloatArray:
    """The normalised mean of some rows: an article as a whole from its passage vectors, an event
    mention from its clauses."""
    return unit(np.asarray(rows, dtype=np.float32).mean(axis=0))


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise DependencyError("vector search needs faiss: pip install faiss-cpu") from exc
    return faiss


def _as_matrix(vectors: object, dim: int) -> FloatArray:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise ConfigurationError(f"expected vectors of dimension {dim}, got shape {matrix.shape}")
    return matrix


def _as_ids(ids: Iterable[int] | npt.ArrayLike) -> IdArray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


class FaissRetriever:
    """An exact inner-product FAISS index keyed by 64-bit ids."""

    def __init__(self, dim: int) -> None:
        if dim < 1:
            raise ConfigurationError(f"dimension must be positive, got {dim}")
        faiss = _faiss()
        self.dim = dim
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def kind(self) -> str:
        """The vector-index type, as recorded in the manifest."""
        return "flat"

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> IdArray:
        """All ids held, in insertion order."""
        ids: IdArray = _faiss().vector_to_array(self._index.id_map).astype(np.int64)
        return ids

    def max_id(self) -> int:
        """The largest id held, or 0 when empty."""
        ids = self.ids()
        return int(ids.max()) if len(ids) else 0

    def add(self, ids: Iterable[int] | npt.ArrayLike, vectors: object) -> None:
        """Add vectors under the given ids (ids must not be present already)."""
        id_array = _as_ids(ids)
        matrix = _as_matrix(vectors, self.dim)
        if len(id_array) != len(matrix):
            raise ConfigurationError(f"{len(id_array)} ids for {len(matrix)} vectors")
        if len(id_array):
            self._index.add_with_ids(matrix, id_array)

    def remove(self, ids: Iterable[int] | npt.ArrayLike) -> int:
        """Remove ids (absent ones are ignored); returns how many were removed."""
        id_array = _as_ids(ids)
        if not len(id_array) or not len(self):
            return 0
        return int(self._index.remove_ids(_faiss().IDSelectorBatch(id_array)))

    def search(
        self,
        queries: object,
        k: int,
        *,
        allowed_ids: Iterable[int] | npt.ArrayLike | None = None,
    ) -> tuple[FloatArray, IdArray]:
        """Top ``k`` ids and scores per query row; -1 ids pad rows with fewer hits.

        ``allowed_ids`` restricts the search inside FAISS (not afterwards), so k hits come back
        whenever k allowed vectors exist.
        """
        matrix = _as_matrix(queries, self.dim)
        if k < 1 or not len(self):
            return (
                np.zeros((len(matrix), 0), dtype=np.float32),
                np.zeros((len(matrix), 0), dtype=np.int64),
            )
        params = None
        if allowed_ids is not None:
            allowed = _as_ids(allowed_ids)
            faiss = _faiss()
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
            k = min(k, len(allowed)) or 1
        k = min(k, len(self))
        scores, ids = self._index.search(matrix, k, params=params)
        return scores.astype(np.float32), ids.astype(np.int64)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index atomically: a temporary file, flushed to disk, then renamed over."""
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(target)
        _fsync_dir(target.parent)

    @classmethod
    def load(cls, path: str | os.PathLike[str], dim: int | None = None) -> FaissRetriever:
        """Read an index written by :meth:`save`; a damaged file raises CorruptIndexError."""
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:  # faiss reports unreadable files as RuntimeError
            raise CorruptIndexError(str(path), f"cannot read the vector index ({exc})") from exc
        if dim is not None and index.d != dim:
            raise CorruptIndexError(str(path), f"holds vectors of dimension {index.d}, expected {dim}")
        if not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
            if not isinstance(index, faiss.IndexIDMap2):
                raise CorruptIndexError(str(path), "is not an id-mapped vector index")
        retriever = cls.__new__(cls)
        retriever.dim = int(index.d)
        retriever._index = index
        return retriever


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable by flushing the directory entry too (a no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def exact_search(
    vectors: FloatArray, ids: IdArray, queries: FloatArray, k: int
) -> tuple[FloatArray, IdArray]:
    """Brute-force inner-product top-k in numpy: the reference FAISS results are checked against."""
    scores = queries @ vectors.T
    k = min(k, len(ids))
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), ids[order]
