"""The vector index's lock: searches side by side, an add or a removal alone, writers not starved."""

from __future__ import annotations

import threading
import time

import pytest

from newsindex.vectors import _ReadWriteLock

WAIT = 5.0  # seconds; only reached when the lock is broken


def test_readers_share_and_a_writer_waits_for_them_then_goes_before_new_readers() -> None:
    lock = _ReadWriteLock()
    events: list[str] = []
    first_in, second_in, release_readers = threading.Event(), threading.Event(), threading.Event()
    writer_waiting = threading.Event()

    def reader(name: str, inside: threading.Event) -> None:
        with lock.reading():
            events.append(f"{name} in")
            inside.set()
            release_readers.wait(WAIT)
            events.append(f"{name} out")

    def writer() -> None:
        writer_waiting.set()
        with lock.writing():
            events.append("writer in")
            time.sleep(0.05)
            events.append("writer out")

    def late_reader() -> None:
        with lock.reading():
            events.append("late in")

    a = threading.Thread(target=reader, args=("a", first_in))
    b = threading.Thread(target=reader, args=("b", second_in))
    a.start()
    b.start()
    assert first_in.wait(WAIT) and second_in.wait(WAIT)  # both inside at once
    w = threading.Thread(target=writer)
    w.start()
    assert writer_waiting.wait(WAIT)
    time.sleep(0.05)
    late = threading.Thread(target=late_reader)
    late.start()
    time.sleep(0.05)
    assert "writer in" not in events and "late in" not in events  # the writer waits; so does the late reader
    release_readers.set()
    for thread in (a, b, w, late):
        thread.join(WAIT)
    assert events.index("writer in") > max(events.index("a out"), events.index("b out"))
    assert events.index("late in") > events.index("writer out")


def test_a_thread_inside_passes_through_and_a_reader_cannot_write() -> None:
    lock = _ReadWriteLock()
    with lock.writing(), lock.reading(), lock.writing():
        pass
    with lock.reading(), lock.reading(), pytest.raises(RuntimeError, match="asked to write"), lock.writing():
        pass
    with lock.writing():  # everything was released
        pass
