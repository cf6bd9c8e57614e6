"""Damaged files (issue 6.3): a truncated or altered vector file, manifest or store gives a clear error
naming the file, never a crash; ``check_index`` / ``newsindex check`` reports it, and ``--repair``
rebuilds what the store allows. The index here uses the small hashing embedder: these tests are about
files, and ``check`` never loads a model."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import HashingEmbedder
from helpers import run_cli

from newsindex import Article, CorruptIndexError, NewsIndex
from newsindex.check import check_index
from newsindex.vectorfile import VectorFileState, write_vector_file
from newsindex.vectors import FaissRetriever

N_ARTICLES = 160
WORDS = ["harbour", "bridge", "tram", "council", "school", "ferry", "orchard", "museum", "stadium", "library"]


def _article(i: int) -> Article:
    word = WORDS[i % len(WORDS)]
    body = (
        f"Report {i}: the {word} in town {i % 17} was discussed at length by residents. "
        f"Marker qx{i:04d}z appears only here. " + "Residents wrote letters about it. " * (i % 5 + 1)
    )
    return Article(id=f"a{i:03d}", title=f"Story {i} on the {word}", body=body, published="2026-02-01")


def _open(path: Path) -> NewsIndex:
    return NewsIndex.open(path, model=HashingEmbedder())  # type: ignore[arg-type]


@pytest.fixture
def index(tmp_path: Path) -> Path:
    """A closed index of 160 articles, 10 of them deleted again (so tombstones exist)."""
    path = tmp_path / "ix"
    with _open(path) as ix:
        assert ix.add([_article(i) for i in range(N_ARTICLES)]).added == N_ARTICLES
        assert ix.delete([f"a{i:03d}" for i in range(0, 100, 10)]) == 10
    return path


def _snapshot(path: Path) -> dict[str, list[str]]:
    """What searches return: to compare an index before damage and after repair."""
    with _open(path) as ix:
        return {
            query: [h.article.id for h in ix.search(query, k=8, mode=mode)]
            for query, mode in [("harbour residents", "dense"), ("qx0042z", "lexical"), ("tram", "hybrid")]
        }


def _assert_sound(path: Path) -> None:
    report = check_index(path)
    assert report.findings == [], report.findings
    assert report.ok


def test_a_sound_index_checks_clean(index: Path) -> None:
    report = check_index(index)
    assert report.ok and report.findings == []
    assert report.articles == N_ARTICLES - 10
    assert any("integrity_check" in c for c in report.checked)
    assert any("vectors.faiss" in c for c in report.checked)
    result = run_cli("check", "--index", index)
    assert result.returncode == 0, result.stderr
    assert f"ok: {N_ARTICLES - 10} articles" in result.stdout


@pytest.mark.parametrize(
    "damage",
    ["truncate", "header", "middle", "tail", "empty"],
)
def test_a_damaged_vector_file_is_named_and_rebuilt(index: Path, damage: str) -> None:
    before = _snapshot(index)
    file = index / "vectors.faiss"
    data = bytearray(file.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = bytearray()
    else:
        pos = {"header": 10, "middle": len(data) // 2, "tail": len(data) - 12}[damage]
        data[pos : pos + 4] = bytes(255 - b for b in data[pos : pos + 4])
    file.write_bytes(bytes(data))

    with pytest.raises(CorruptIndexError) as info:
        _open(index)
    assert info.value.path == str(file)
    assert "newsindex check" in str(info.value) and "--repair" in str(info.value)
    with pytest.raises(CorruptIndexError):  # readers too
        NewsIndex.open(index, model=HashingEmbedder(), read_only=True)  # type: ignore[arg-type]

    found = run_cli("check", "--index", index)
    assert found.returncode == 1
    assert f"found: {file}:" in found.stdout
    repaired = run_cli("check", "--index", index, "--repair", "--json")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    report = json.loads(repaired.stdout)
    assert [f["file"] for f in report["findings"]] == [str(file)]
    assert report["findings"][0]["repaired"] is True
    _assert_sound(index)
    assert _snapshot(index) == before


def test_a_vector_file_of_another_index_is_caught(index: Path, tmp_path: Path) -> None:
    """The file and its manifest agree with each other but not with this store."""
    other = tmp_path / "other"
    with _open(other) as ix:
        ix.add([Article(id=f"o{i}", body=f"Other text number {i} about ferries.") for i in range(400)])
    for name in ("vectors.faiss", "manifest.json"):
        shutil.copy(other / name, index / name)
    with pytest.raises(CorruptIndexError, match="passage"):
        _open(index)
    report = check_index(index, repair=True)
    assert [f.file.endswith("vectors.faiss") for f in report.findings] == [True]
    assert report.ok
    _assert_sound(index)


def test_a_vector_file_with_ids_the_store_never_assigned_is_caught(index: Path) -> None:
    """As many vectors as passages, but one under an id the store has not given out yet: it would be
    counted right, and a later passage would get its id twice."""
    manifest = json.loads((index / "manifest.json").read_text())
    with sqlite3.connect(index / "store.sqlite") as con:
        rows = con.execute("SELECT id, vector FROM passages ORDER BY id").fetchall()
        ceiling = con.execute("SELECT seq FROM sqlite_sequence WHERE name = 'passages'").fetchone()[0]
    ids = np.array([r[0] for r in rows[:-1]] + [ceiling + 3], dtype=np.int64)
    vectors = FaissRetriever(manifest["dim"])
    vectors.add(ids, np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1))

    def record(state: VectorFileState) -> None:
        manifest["vectors"] = {"current": state.to_json()}
        (index / "manifest.json").write_text(json.dumps(manifest))

    seq = manifest["vectors"]["current"]["tombstone_seq"]
    write_vector_file(vectors, index / "vectors.faiss", seq, record)
    with pytest.raises(CorruptIndexError, match="never assigned"):
        _open(index)
    report = check_index(index, repair=True)
    assert ["never assigned" in f.problem for f in report.findings] == [True]
    _assert_sound(index)


def test_an_old_vector_file_with_its_manifest_is_caught_up(index: Path) -> None:
    """What a crash between saves leaves: a file that lags behind the store is no damage."""
    saved = {name: (index / name).read_bytes() for name in ("vectors.faiss", "manifest.json")}
    with _open(index) as ix:
        ix.add([_article(i) for i in range(N_ARTICLES, N_ARTICLES + 30)])
        ix.delete(["a001", "a002"])
    for name, data in saved.items():
        (index / name).write_bytes(data)
    _assert_sound(index)
    with _open(index) as ix:
        assert len(ix) == N_ARTICLES - 10 + 30 - 2
        assert [h.article.id for h in ix.search("qx0185z", k=1, mode="dense")] == ["a185"]
        assert "a001" not in {h.article.id for h in ix.search("harbour", k=200, mode="dense")}


@pytest.mark.parametrize("damage", ["truncate", "not-json", "missing", "wrong-model"])
def test_a_damaged_manifest_is_named_and_rewritten(index: Path, damage: str) -> None:
    manifest = index / "manifest.json"
    if damage == "truncate":
        manifest.write_bytes(manifest.read_bytes()[:40])
    elif damage == "not-json":
        manifest.write_bytes(b"\x00\xff garbage")
    elif damage == "missing":
        manifest.unlink()
    else:
        data = json.loads(manifest.read_text())
        data["model"] = "someone/else"
        manifest.write_text(json.dumps(data))
    if damage != "wrong-model":  # the store, not the manifest, says which model: it still opens
        with pytest.raises(CorruptIndexError) as info:
            _open(index)
        assert info.value.path == str(manifest)
    report = check_index(index)
    # Without its checksum the vector file cannot be verified either: that is reported too.
    assert report.findings[0].file == str(manifest)
    assert {f.file for f in report.findings} <= {str(manifest), str(index / "vectors.faiss")}
    assert not report.ok
    assert check_index(index, repair=True).ok
    _assert_sound(index)
    assert json.loads(manifest.read_text())["model"] == "test/hashing"


def test_a_store_that_is_not_a_database_is_named_not_crashed_on(index: Path) -> None:
    store = index / "store.sqlite"
    data = bytearray(store.read_bytes())
    data[:100] = b"\x13" * 100  # the header: SQLite no longer recognises the file
    store.write_bytes(bytes(data))
    with pytest.raises(CorruptIndexError) as info:
        _open(index)
    assert info.value.path == str(store)
    result = run_cli("check", "--index", index, "--repair")
    assert result.returncode == 1
    assert "NOT repaired" in result.stdout and "restore a backup" in result.stdout


def _damage_pages(store: Path, fraction: float, pages: int) -> None:
    """Overwrite ``pages`` whole pages starting at ``fraction`` of the file with garbage."""
    page = sqlite3.connect(store).execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(store.read_bytes())
    first = max(1, int(len(data) / page * fraction))
    for number in range(first, first + pages):
        data[number * page : (number + 1) * page] = bytes((n * 37 + 11) % 256 for n in range(page))
    store.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["pages", "truncate"])
def test_a_damaged_store_is_salvaged(index: Path, how: str) -> None:
    store = index / "store.sqlite"
    with _open(index) as ix:
        bodies = {a: ix.get(a).body for a in (f"a{i:03d}" for i in range(N_ARTICLES)) if a in ix}
        nearest = {a: ix.search(body, k=1, mode="dense")[0].article.id for a, body in bodies.items()}
    if how == "pages":
        _damage_pages(store, 0.5, 2)
    else:
        store.write_bytes(store.read_bytes()[: store.stat().st_size * 2 // 3])

    report = check_index(index)
    assert [f.file for f in report.findings] == [str(store)] and not report.ok
    assert "damaged" in report.findings[0].problem
    repaired = check_index(index, repair=True)
    assert repaired.ok, repaired.findings
    assert "salvaged" in repaired.findings[0].problem
    assert (index / "store.sqlite.damaged").is_file()
    _assert_sound(index)

    with _open(index) as ix:
        kept = [a for a in bodies if a in ix]
        assert len(ix) == len(kept) > 0
        for article_id in kept:  # what was kept is whole, and findable by its marker word
            assert ix.get(article_id).body == bodies[article_id]
        sample = kept[:: max(1, len(kept) // 10)]
        for article_id in sample:
            marker = f"qx{int(article_id[1:]):04d}z"
            assert [h.article.id for h in ix.search(marker, k=1, mode="lexical")] == [article_id]
            if nearest[article_id] in kept:  # the salvaged vectors are the stored ones
                assert ix.search(bodies[article_id], k=1, mode="dense")[0].article.id == nearest[article_id]
        ix.add(_article(999))  # and it takes new articles
        assert "a999" in ix


def test_a_lexical_index_out_of_step_is_rebuilt(index: Path) -> None:
    db = sqlite3.connect(index / "store.sqlite")
    rid, title, body = db.execute("SELECT rid, title, body FROM articles WHERE id = 'a042'").fetchone()
    db.execute(
        "INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', ?, ?, ?)",
        (rid, title, body),
    )
    db.commit()
    db.close()
    with _open(index) as ix:
        assert ix.search("qx0042z", k=1, mode="lexical") == []
    report = check_index(index, repair=True)
    assert [("lexical" in f.problem, f.repaired) for f in report.findings] == [(True, True)]
    with _open(index) as ix:
        assert [h.article.id for h in ix.search("qx0042z", k=1, mode="lexical")] == ["a042"]


def test_leftover_temporary_files_are_reported_and_removed(index: Path) -> None:
    (index / "vectors.faiss.tmp").write_bytes(b"half a file")
    report = check_index(index)
    assert [f.file for f in report.findings] == [str(index / "vectors.faiss.tmp")]
    assert check_index(index, repair=True).ok
    assert not (index / "vectors.faiss.tmp").exists()


def test_check_takes_the_writer_lock(index: Path) -> None:
    from newsindex import IndexLockedError

    with _open(index), pytest.raises(IndexLockedError, match="another writer"):
        check_index(index)


def test_a_manifest_written_before_checksums_is_brought_up_to_date(index: Path) -> None:
    """Indexes written before the vector file's checksum was recorded open, and gain it."""
    manifest = index / "manifest.json"
    data = json.loads(manifest.read_text())
    data["vectors"] = {"tombstone_seq": data["vectors"]["current"]["tombstone_seq"]}
    manifest.write_text(json.dumps(data))
    before = _snapshot(index)  # opens for writing: the file is written again with its checksum
    assert "current" in json.loads(manifest.read_text())["vectors"]
    _assert_sound(index)
    assert _snapshot(index) == before
