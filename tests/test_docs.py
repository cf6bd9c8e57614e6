"""The documentation is tested: every ``python`` block of every page under docs/ runs, and so does
every script in examples/.

The blocks of one page run in order in one shared namespace, with the repository root as the
current directory (so ``seeds/`` resolves), exactly as a reader would paste them one after another.
Blocks fenced as ``bash``, ``console`` or ``text`` are not run. Each block is compiled under the
page's own file name and line numbers, so a traceback points at the line in the Markdown file. A
``text`` block right after a python block and marked with an ``<!-- output -->`` line above its fence
must equal what that python block printed, so shown output cannot drift from the code.

Doc code and examples must create indexes in temporary directories only; ``tempfile`` is pointed at
pytest's ``tmp_path`` while they run, and a test fails if an index appears inside the repository.

Many pages and examples embed the same sample articles. The model is real, but within this module a
text it has encoded once is not encoded again (see :func:`_encode_each_text_once`), which keeps the
whole run well under a minute on a small CPU.
"""

from __future__ import annotations

import contextlib
import io
import re
import runpy
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"
MKDOCS_YML = ROOT / "mkdocs.yml"

# A fenced block opened by ```python (optionally with attributes after the language) at the start of
# a line, closed by ``` at the start of a line.
_PYTHON_FENCE = re.compile(r"^```python[^\n]*\n(?P<code>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


# A text block whose fence follows an "<!-- output -->" line: the expected output of the block before.
_OUTPUT_FENCE = re.compile(
    r"\s*<!-- output -->[ \t]*\n```text[ \t]*\n(?P<out>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL
)


def python_blocks(page: Path) -> list[tuple[int, str]]:
    """The ``python`` blocks of a Markdown page as (line number of the first code line, code)."""
    return [(line, code) for line, code, _ in python_blocks_with_output(page)]


def python_blocks_with_output(page: Path) -> list[tuple[int, str, str | None]]:
    """Each ``python`` block with the output shown for it, when a marked text block follows it."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _PYTHON_FENCE.finditer(text):
        first_line = text.count("\n", 0, match.start("code")) + 1
        shown = _OUTPUT_FENCE.match(text, match.end())
        blocks.append((first_line, match.group("code"), shown.group("out") if shown else None))
    return blocks


def _pages_with_code() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md") if python_blocks(p))


def _examples() -> list[str]:
    return sorted(p.name for p in EXAMPLES.glob("*.py"))


def _indexes_in_repo() -> set[Path]:
    """Index stores inside the repository (outside the virtual environment), a few levels deep."""
    found = set()
    for pattern in ("store.sqlite", "*/store.sqlite", "*/*/store.sqlite", "*/*/*/store.sqlite"):
        found.update(p for p in ROOT.glob(pattern) if ".venv" not in p.relative_to(ROOT).parts)
    return found


@pytest.fixture(scope="module", autouse=True)
def _encode_each_text_once() -> Any:
    """Share encoded vectors between the embedder objects of this module (one per opened index).

    The same model gives the same vector for the same text, so results are unchanged; only the
    repeated work of re-encoding the sample articles for every page and example is saved.
    """
    from newsindex.embedding import SentenceTransformerEmbedder

    original = SentenceTransformerEmbedder.encode
    memo: dict[tuple[str, str], np.ndarray] = {}

    def encode(self: SentenceTransformerEmbedder, texts: Any) -> np.ndarray:
        texts = list(texts)
        missing = list(dict.fromkeys(t for t in texts if (self.name, t) not in memo))
        if missing:
            for text, row in zip(missing, original(self, missing), strict=True):
                memo[(self.name, text)] = row
        if not texts:
            return original(self, texts)
        return np.stack([memo[(self.name, t)] for t in texts])

    patch = pytest.MonkeyPatch()
    patch.setattr(SentenceTransformerEmbedder, "encode", encode)
    yield
    patch.undo()


@pytest.fixture
def in_repo_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Run from the repository root, with temporary directories under ``tmp_path``."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = _indexes_in_repo()
    yield
    created = _indexes_in_repo() - before
    assert not created, f"an index was created inside the repository: {sorted(map(str, created))}"


@pytest.mark.parametrize("page", _pages_with_code())
def test_doc_page_code_runs(page: str, in_repo_root: None) -> None:
    path = DOCS / page
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    for first_line, code, shown in python_blocks_with_output(path):
        # Padding with newlines keeps the line numbers of the Markdown file in tracebacks.
        compiled = compile("\n" * (first_line - 1) + code, str(path), "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compiled, namespace)
        if shown is not None:
            assert printed.getvalue().rstrip() == shown.rstrip(), f"{page}:{first_line}: output differs"


def test_taxonomy_page_lists_the_taxonomy() -> None:
    """docs/event-taxonomy.md's tables hold exactly the module's types and sub-types."""
    from newsindex.events.taxonomy import ACLED_TYPES, GENERAL_TYPES

    page = (DOCS / "event-taxonomy.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \| ([^|]+?) \|$", page, re.MULTILINE)
    listed = [(kind, sub, what) for kind, sub, what in rows if kind != "type"]
    expected = [
        (t.name, sub, what) for t in (*ACLED_TYPES, *GENERAL_TYPES) for sub, what in t.subtypes.items()
    ]
    assert listed == expected


@pytest.mark.parametrize("example", _examples())
def test_example_runs(example: str, in_repo_root: None) -> None:
    runpy.run_path(str(EXAMPLES / example), run_name="__main__")


def _nav_files(node: object) -> list[str]:
    """Every page path named anywhere in an mkdocs ``nav`` tree."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [name for item in node for name in _nav_files(item)]
    if isinstance(node, dict):
        return [name for value in node.values() for name in _nav_files(value)]
    return []


def test_every_docs_page_is_in_the_nav() -> None:
    config = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
    listed = {name for name in _nav_files(config.get("nav")) if not name.startswith(("http:", "https:"))}
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages, "docs/ has no pages"
    assert pages - listed == set(), "pages missing from the nav of mkdocs.yml"
    assert listed - pages == set(), "nav entries of mkdocs.yml without a page"


def test_code_blocks_are_found(tmp_path: Path) -> None:
    """The fence pattern itself: python blocks are picked up, shell blocks are not."""
    sample = "text\n```python\nx = 1\n```\n\n```bash\nls\n```\n```python title='t'\ny = 2\n```\n"
    page = tmp_path / "sample.md"
    page.write_text(sample, encoding="utf-8")
    assert python_blocks(page) == [(3, "x = 1\n"), (10, "y = 2\n")]
    marked = (
        "```python\nprint(1)\n```\n\n<!-- output -->\n```text\n1\n```\n"
        "```python\nz = 3\n```\n```text\nx\n```\n"
    )
    page.write_text(marked, encoding="utf-8")
    assert python_blocks_with_output(page) == [(2, "print(1)\n", "1\n"), (10, "z = 3\n", None)]
