"""Helpers shared by the tests: the ``newsindex`` command in a subprocess, work in threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_env() -> dict[str, str]:
    """The environment for a CLI subprocess: offline, no tokenizer threads warnings, the repo importable."""
    env = dict(os.environ)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        }
    )
    env.pop("NEWSINDEX_MODEL", None)
    return env


def run_cli(
    *args: str | os.PathLike[str], cwd: Path = ROOT, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m newsindex ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "newsindex", *map(str, args)],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def errors_in_threads(*work: Callable[[], None]) -> list[BaseException]:
    """Run each callable in a thread of its own, all at once; what they raised, collected (so that a
    test fails with the cause, not with a thread's traceback on stderr)."""
    errors: list[BaseException] = []

    def guarded(job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                job()
            except BaseException as exc:  # every failure, assertion errors included
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guarded(job)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
