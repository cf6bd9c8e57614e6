"""A folder of good articles next to broken files (the issue's case), with the real model: every bad
record is reported with where (file, and line for JSONL) and why, and every good article is searchable
— through ``NewsIndex.add(folder)`` and through ``newsindex ingest``."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import run_cli

from newsindex import AddReport, Article, Embedder, NewsIndex


@dataclass(frozen=True)
class Bad:
    name: str
    line: int | None  # the JSONL line, when the failure is one line of a file
    why: tuple[str, ...]  # words the reason must contain (any of them, case-insensitive)


# The good articles, each with the words that should find it.
GOOD = {
    "a_good.txt": "rooftop beehives Ljubljana honey harvest",
    "b_headline.txt": "cast-iron lighthouse restored Vlieland island volunteers",
    "feed-1": "saffron crocus harvest Kozani farmers",
    "feed-2": "new tram line to the zoo in Wroclaw",
}

BAD = [
    Bad("c_feed.jsonl", 2, ("JSON",)),
    Bad("c_feed.jsonl", 4, ("body",)),
    Bad("c_feed.jsonl", 5, ("published", "date")),
    Bad("d_malformed.json", None, ("JSON",)),
    Bad("e_bad_utf8.txt", None, ("UTF-8", "utf8", "decode")),
    Bad("f_binary.txt", None, ("binary",)),
    Bad("g_empty.txt", None, ("body", "empty")),
    Bad("h_bad_date.txt", None, ("published", "date")),
]


def _jsonl(*lines: object) -> str:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("broken") / "incoming"
    root.mkdir()
    (root / "a_good.txt").write_text(
        "date 2026-01-06 Beekeepers in Ljubljana counted a record honey harvest from the rooftop "
        "beehives of the old town this year.\n\nThe city now hosts more than 300 hives on its roofs.\n",
        encoding="utf-8",
    )
    (root / "b_headline.txt").write_text(
        "Lighthouse restored on Vlieland\n\nVolunteers finished restoring the cast-iron lighthouse on "
        "the Frisian island of Vlieland after two years of work.\n",
        encoding="utf-8",
    )
    (root / "c_feed.jsonl").write_text(
        _jsonl(
            {
                "id": "feed-1",
                "title": "Saffron harvest ends",
                "body": "Farmers around Kozani in northern Greece finished picking the saffron crocus "
                "harvest, drying the red stigmas by hand.",
                "published": "2026-01-07T09:00:00Z",
                "source": "Corvid Daily",
            },
            '{"id": "feed-bad-json", "title": "cut off", "body": "unterminated',
            {
                "id": "feed-2",
                "title": "Tram to the zoo",
                "body": "A new tram line to the zoo in Wroclaw opened on Monday, with trams every ten "
                "minutes from the main station.",
                "published": "2026-01-08",
            },
            {"id": "feed-empty", "title": "Nothing inside", "body": "   "},
            {
                "id": "feed-date",
                "title": "Unreadable date",
                "body": "This record has a date that no one can read.",
                "published": "2026-02-31",
            },
        ),
        encoding="utf-8",
    )
    (root / "d_malformed.json").write_text('[{"id": "m1", "body": "fine"}, {"id": "m2", "body": ]')
    (root / "e_bad_utf8.txt").write_bytes(
        b"date 2026-01-09 Caf\xe9 owners in Porto complained about the \xff\xfe new rules.\n"
    )
    (root / "f_binary.txt").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" * 4
    )
    (root / "g_empty.txt").write_text("   \n\n\t \n")
    (root / "h_bad_date.txt").write_text("date 2026-13-45 The text is fine but the date is impossible.\n")
    (root / "README.md").write_text("Files dropped here by the newsroom.\n")
    return root


def _where_matches(where: str, folder: Path, bad: Bad) -> bool:
    if bad.name not in where or str(folder) not in where:
        return False
    if bad.line is None:
        return not re.search(rf"{re.escape(bad.name)}\D+\d", where)
    return re.search(rf"{re.escape(bad.name)}\D+{bad.line}\b", where) is not None


def _check_reasons(report_lines: list[tuple[str, str]], folder: Path) -> None:
    """Each bad record appears exactly once, with its place and a reason that says why."""
    assert len(report_lines) == len(BAD), report_lines
    for bad in BAD:
        matching = [(w, r) for w, r in report_lines if _where_matches(w, folder, bad)]
        assert len(matching) == 1, (bad, report_lines)
        reason = matching[0][1].lower()
        assert any(word.lower() in reason for word in bad.why), (bad, matching)


def _check_good_searchable(ix: NewsIndex) -> None:
    assert len(ix) == len(GOOD)
    stored = {a_id: ix.get(a_id) for a_id in ("feed-1", "feed-2")}
    assert stored["feed-1"].source == "Corvid Daily"
    for key, words in GOOD.items():
        for mode in ("hybrid", "dense", "lexical"):
            found = [_key(h.article) for h in ix.search(words, k=3, mode=mode)]
            assert found and found[0] == key, (mode, words, found)


def _key(article: Article) -> str:
    """The GOOD key of an article: its id for JSONL records, its file name for text files."""
    if article.id.startswith("feed-"):
        return article.id
    return Path(str(article.metadata.get("path", ""))).name


def test_add_folder_reports_every_bad_record(folder: Path, tmp_path: Path, real_embedder: Embedder) -> None:
    with NewsIndex.open(tmp_path / "ix", model=real_embedder) as ix:
        report = ix.add(folder)
        assert isinstance(report, AddReport)
        assert report.added == len(GOOD)
        assert report.skipped == 1  # the README, passed over on purpose and not a failure
        assert not any("README" in f.where for f in report.failed)
        _check_reasons([(f.where, f.reason) for f in report.failed], folder)
        _check_good_searchable(ix)
        # Adding the folder again changes nothing and reports the same failures.
        again = ix.add(folder)
        assert (again.added, again.updated, again.unchanged) == (0, 0, len(GOOD))
        assert [f.where for f in again.failed] == [f.where for f in report.failed]


def test_cli_ingest_reports_every_bad_record(folder: Path, tmp_path: Path, real_embedder: Embedder) -> None:
    index = tmp_path / "ix"
    result = run_cli("ingest", folder, "--index", index)
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        assert str(folder) in line, f"unexpected stderr line: {line}"
        after = line.split(str(folder), 1)[1]
        where, _, reason = after.partition(": ")
        parsed.append((str(folder) + where, reason))
    _check_reasons(parsed, folder)
    with NewsIndex.open(index, model=real_embedder) as ix:
        _check_good_searchable(ix)
