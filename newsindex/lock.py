"""The writer lock: one writing process per index, readers never wait for it.

An advisory ``flock`` on ``writer.lock`` inside the index directory. The kernel releases it when the
holder exits, however it exits (even ``kill -9``), so a crash never leaves a stale lock behind. The file
records the holder's pid and host so that the error can name it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from .errors import IndexLockedError

__all__ = ["WriterLock"]

try:
    import fcntl
except ImportError:  # pragma: no cover -- Windows has no fcntl
    fcntl = None  # type: ignore[assignment]


class WriterLock:
    """Holds the writer lock of one index directory until :meth:`release`."""

    def __init__(self, path: Path, *, timeout: float = 0.0) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(timeout, 0.0)
        while not self._try_lock():
            if time.monotonic() >= deadline:
                holder = self._holder()
                os.close(self._fd)
                self._fd = None
                raise IndexLockedError(
                    f"{path.parent}: another writer holds this index ({holder}); "
                    "open it with read_only=True, or wait (lock_timeout=seconds)"
                )
            time.sleep(0.05)
        os.ftruncate(self._fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        os.pwrite(self._fd, json.dumps(info).encode(), 0)

    def _try_lock(self) -> bool:
        if fcntl is None or self._fd is None:
            return True
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return "holder unknown"
        pid = info.get("pid", "?")
        if pid == os.getpid() and info.get("host") == socket.gethostname():
            return f"pid {pid}, this very process: close the other handle first"
        return f"pid {pid} on {info.get('host', '?')}"

    def release(self) -> None:
        if self._fd is not None:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
