"""A lock for many readers or one writer, between the threads that share one object."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["ReadWriteLock"]


class ReadWriteLock:
    """Readers side by side, a writer alone; a waiting writer goes before new readers. A thread
    already inside passes through (a search calls other reading methods, a writer may read); a
    reader never asks to write (that raises RuntimeError rather than wait for itself)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._held = threading.local()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        if getattr(self._held, "depth", 0):
            yield
            return
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth == 2:
            yield
            return
        if depth:
            raise RuntimeError("a reader asked to write while it reads")
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
        self._held.depth = 2
        try:
            yield
        finally:
            self._held.depth = 0
            with self._cond:
                self._writer = False
                self._cond.notify_all()
