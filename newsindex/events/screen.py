"""Skip the regular expressions that cannot match a text, found with one scan for their literal words.

The event rules run many regular expressions over every clause (about 90 trigger rules, a dozen date
rules), and most of them match nothing. Each pattern needs some literal text to match: "protest" or
"demonstrat" or "rally" ... for the protest rule. :class:`LiteralScreen` reads those necessary
literals out of each compiled pattern, and finds which of them occur in a text with a single scan, so
only the patterns whose literals are all there run.

The screen is exact, never an approximation: a pattern is skipped only when a literal that every
match must contain is absent. A pattern without such a literal is always run. Texts that are not
pure ASCII are not screened at all: under ``re.IGNORECASE`` a few non-ASCII letters match ASCII ones
(the Kelvin sign matches "k"), which a plain lower-cased search would miss.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["LiteralScreen", "necessary_literals"]

# Literals shorter than this select too little to be worth a lookup.
_MIN_LITERAL = 3
# Characters that IGNORECASE matches against ASCII letters (dotless i, long s, Kelvin sign, dotted
# capital I): a literal holding one could match ASCII text that does not contain it.
_ASCII_FOLDING = frozenset("ıſKİ")

_Literals = frozenset[str]


def _sre(name: str) -> Any:
    # CPython's own pattern parser: the only way to read a pattern's structure. It is internal, so
    # where it is missing or different, no literals are known (every pattern runs), never a wrong skip.
    try:
        return importlib.import_module(f"re.{name}")
    except ImportError:
        return None


_PARSER = _sre("_parser")
_OPS = _sre("_constants")


def necessary_literals(pattern: re.Pattern[str]) -> _Literals | None:
    """Lower-cased strings of which every match of ``pattern`` contains at least one; None when the
    pattern needs no such literal (it could match without any)."""
    if _PARSER is None or _OPS is None:
        return None
    try:
        return _needed(list(_PARSER.parse(pattern.pattern, pattern.flags)))
    except Exception:  # an internal API that may change between Python versions: no screening then
        return None


def _needed(items: list[Any]) -> _Literals | None:
    """The most selective necessary set of a sequence of parsed items (see ``necessary_literals``)."""
    candidates: list[_Literals] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= _MIN_LITERAL:
            candidates.append(frozenset({"".join(run)}))
        run.clear()

    for op, arg in items:
        if op is _OPS.LITERAL and chr(arg) not in _ASCII_FOLDING:
            run.append(chr(arg).lower())
            continue
        flush()
        found: _Literals | None = None
        if op is _OPS.SUBPATTERN:
            found = _needed(list(arg[3]))
        elif op is _OPS.BRANCH:
            branches = [_needed(list(branch)) for branch in arg[1]]
            known = [branch for branch in branches if branch]
            if len(known) == len(branches):
                found = frozenset().union(*known)
        elif op in (_OPS.MAX_REPEAT, _OPS.MIN_REPEAT) and arg[0] >= 1:
            found = _needed(list(arg[2]))
        if found:
            candidates.append(found)
    flush()
    if not candidates:
        return None
    # The set whose shortest literal is longest (rarest), fewer literals breaking ties.
    return max(candidates, key=lambda s: (min(len(x) for x in s), -len(s)))


class LiteralScreen:
    """Which of ``patterns`` can match a text; see the module docstring."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        self.size = len(patterns)
        self._needs: list[_Literals | None] = [necessary_literals(p) for p in patterns]
        literals = sorted({lit for need in self._needs if need for lit in need})
        # A lookahead at every position reports the longest literal starting there; the shorter ones
        # starting there are its prefixes, added from this table, so every occurring literal is known.
        self._prefixes = {lit: frozenset(o for o in literals if lit.startswith(o)) for lit in literals}
        self._scan = re.compile(f"(?=({_trie_pattern(literals)}))") if literals else None

    def present(self, text: str) -> frozenset[str] | None:
        """The literals that occur in ``text`` (lower-cased); None when ``text`` cannot be screened."""
        if self._scan is None or not text.isascii():
            return None
        found: set[str] = set()
        for match in self._scan.finditer(text.lower()):
            found.update(self._prefixes[match.group(1)])
        return frozenset(found)

    def candidates(self, text: str) -> list[int]:
        """Positions of the patterns that may match ``text``, in order."""
        present = self.present(text)
        if present is None:
            return list(range(self.size))
        return [i for i, need in enumerate(self._needs) if need is None or not need.isdisjoint(present)]


def _trie_pattern(words: Sequence[str]) -> str:
    """A regular expression matching any of ``words``, longest first, with shared prefixes merged:
    at each character only one branch can continue, so a scan costs about one step per position
    (a flat alternation of 800 words tries each of them at every position)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)
