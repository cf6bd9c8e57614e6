"""Helpers shared by the tests that run the ``newsindex`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
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
