"""Where newsindex keeps files shared by all indexes (the gazetteer, model exports)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """``NEWSINDEX_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsindex``, else ``~/.cache/newsindex``."""
    explicit = os.environ.get("NEWSINDEX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    root = os.environ.get("XDG_CACHE_HOME")
    return (Path(root) if root else Path.home() / ".cache") / "newsindex"
