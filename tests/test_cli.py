"""The ``newsindex`` command (DESIGN §4), run as ``python -m newsindex`` in subprocesses with the real
model. One index of seeds/ is ingested per module and shared by the tests."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, SEED_FILE, SEEDS
from helpers import cli_env, run_cli

from newsindex import Article, IndexStats, SearchHit, load_articles

QUERY = "drone and missile attack on Ukrainian energy infrastructure"
HEAVY = ("torch", "sentence_transformers", "transformers", "faiss")


@dataclass
class Ingested:
    index: Path
    result: subprocess.CompletedProcess[str]
    expected_articles: int


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingested]:
    index = tmp_path_factory.mktemp("cli") / "seeds.idx"
    result = run_cli("ingest", "seeds/", "--index", index)
    yield Ingested(index, result, len(load_articles(SEEDS)))


@pytest.fixture(scope="module")
def seed_hits(ingested: Ingested) -> list[dict[str, object]]:
    """``search QUERY --json`` over the shared index, run once."""
    return search_json(ingested.index)


def search_json(index: Path, *extra: str) -> list[dict[str, object]]:
    result = run_cli("search", QUERY, "--index", index, "--json", *extra)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


def test_ingest_exits_0(ingested: Ingested) -> None:
    assert ingested.result.returncode == 0, ingested.result.stderr
    assert "Traceback" not in ingested.result.stderr
    assert (ingested.index / "store.sqlite").is_file()
    assert (ingested.index / "manifest.json").is_file()


def test_search_json_finds_the_seed_first(seed_hits: list[dict[str, object]]) -> None:
    hits = seed_hits
    assert 1 <= len(hits) <= 10
    first = hits[0]
    article = first["article"]
    assert isinstance(article, dict)
    assert str(article["body"]).startswith("Russia's wave")
    assert article["published"] == "2026-01-25T00:00:00Z"
    assert article["body"] == load_articles(SEED_FILE)[0].body
    for rank, item in enumerate(hits, start=1):
        assert set(item) == set(SearchHit.model_fields)
        assert set(item["article"]) == set(Article.model_fields)  # type: ignore[arg-type]
        assert item["rank"] == rank
        hit = SearchHit(**item)  # the dump reads back as the model
        assert hit.passage == hit.article.body[hit.passage_start : hit.passage_end]
    assert len({h["article"]["id"] for h in hits}) == len(hits)  # type: ignore[index]


def test_search_since_leaves_the_seed_out(ingested: Ingested, seed_hits: list[dict[str, object]]) -> None:
    seed_id = seed_hits[0]["article"]["id"]  # type: ignore[index]
    hits = search_json(ingested.index, "--since", "2026-01-26", "-k", "50")
    assert hits, "later articles exist"
    assert seed_id not in [h["article"]["id"] for h in hits]  # type: ignore[index]
    for h in hits:
        published = h["article"]["published"]  # type: ignore[index]
        assert published is not None and published >= "2026-01-26"


def test_search_text_output(ingested: Ingested) -> None:
    result = run_cli("search", QUERY, "--index", ingested.index, "-k", "3")
    assert result.returncode == 0, result.stderr
    assert "Russia's wave of overnight attacks" in result.stdout


def test_info_json(ingested: Ingested) -> None:
    result = run_cli("info", "--index", ingested.index, "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert set(info) == set(IndexStats.model_fields)
    assert info["articles"] == ingested.expected_articles
    assert info["passages"] >= info["articles"]
    assert info["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert info["dim"] == 384
    IndexStats(**info)


def test_ingest_again_is_unchanged(ingested: Ingested) -> None:
    result = run_cli("ingest", "seeds/", "--index", ingested.index)
    assert result.returncode == 0, result.stderr
    info = json.loads(run_cli("info", "--index", ingested.index, "--json").stdout)
    assert info["articles"] == ingested.expected_articles


# ------------------------------------------------------------------------------------------------
# Help is fast: no heavy imports


@pytest.mark.parametrize("argv", [["--help"], ["search", "--help"], ["ingest", "--help"], ["--version"]])
def test_help_does_not_import_heavy_modules(argv: list[str]) -> None:
    code = (
        "import json, sys\n"
        "from newsindex.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "    code = 'returned'\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "sys.stderr.write('RESULT ' + json.dumps({'code': code, 'heavy': heavy}) + '\\n')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), cwd=ROOT, timeout=60
    )
    result = json.loads(out.stderr.rsplit("RESULT ", 1)[1])
    assert result == {"code": 0, "heavy": []}
    assert "newsindex" in out.stdout


def test_help_lists_the_commands() -> None:
    result = run_cli("--help", timeout=60)
    assert result.returncode == 0
    for command in ("ingest", "search", "info", "demo"):
        assert command in result.stdout


# ------------------------------------------------------------------------------------------------
# Exit codes


def _one_error_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr
    assert lines, "an error must be reported on stderr"


def test_search_on_a_missing_index_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("search", "anything", "--index", tmp_path / "nope", timeout=60)
    assert result.returncode == 2
    _one_error_line(result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1
    assert str(tmp_path / "nope") in result.stderr
    assert not (tmp_path / "nope").exists(), "searching must not create an index"


def test_info_on_a_missing_index_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("info", "--index", tmp_path / "nope", timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "x"],  # --index missing
        ["search", "x", "--index", "somewhere", "--mode", "bogus"],
        ["frobnicate"],
        [],
    ],
)
def test_argument_errors_exit_2(argv: list[str]) -> None:
    result = run_cli(*argv, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bad_date_is_a_usage_error(ingested: Ingested) -> None:
    result = run_cli("search", "x", "--index", ingested.index, "--since", "last tuesday", timeout=60)
    assert result.returncode == 2
    _one_error_line(result.stderr)
    assert "since" in result.stderr


def test_ingest_with_some_failures_exits_1(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("date 2026-01-03 A bakery in Graz won a national bread award.\n")
    (folder / "broken.json").write_text('{"title": "half an object", "body": ')
    result = run_cli("ingest", folder, "--index", tmp_path / "ix")
    assert result.returncode == 1, result.stderr
    failure_lines = [line for line in result.stderr.splitlines() if "broken.json" in line]
    assert len(failure_lines) == 1
    assert "JSON" in failure_lines[0]
    assert "good.txt" not in result.stderr
    info = json.loads(run_cli("info", "--index", tmp_path / "ix", "--json").stdout)
    assert info["articles"] == 1


def test_ingest_with_nothing_added_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "broken.json").write_text("[{]")
    (folder / "empty.txt").write_text("   \n")
    result = run_cli("ingest", folder, "--index", tmp_path / "ix", timeout=120)
    assert result.returncode == 2
    assert "broken.json" in result.stderr and "empty.txt" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_of_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = run_cli("ingest", tmp_path / "no-such-folder", "--index", tmp_path / "ix", timeout=120)
    assert result.returncode == 2
    assert "no-such-folder" in result.stderr


# ------------------------------------------------------------------------------------------------
# Demo


def test_demo() -> None:
    result = run_cli("demo")  # from the project folder, into a temporary index
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The seed has no title: its first line stands for it.
    assert "Russia's wave of overnight attacks on Ukraine" in result.stdout
