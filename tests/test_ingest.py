"""Tests of newsindex.ingest: the file readers, the directory walk and load_articles."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsindex.errors import ConfigurationError, DependencyError, IngestError, ValidationError
from newsindex.ingest import FORMATS, ReadSkip, iter_load, load_articles, make_article, sniff_format
from newsindex.ingest.htmltext import html_to_text
from newsindex.ingest.text import parse_text
from newsindex.models import Article, Failure

REPO = Path(__file__).resolve().parent.parent
SEED_NAME = "000_a8258f998b926b3a.txt"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def outcomes(*paths: Path | str, format: str = "auto") -> list[Article | Failure | ReadSkip]:
    return list(iter_load(list(paths), format))


def articles_of(items: list[Article | Failure | ReadSkip]) -> list[Article]:
    return [o for o in items if isinstance(o, Article)]


def failures_of(items: list[Article | Failure | ReadSkip]) -> list[Failure]:
    return [o for o in items if isinstance(o, Failure)]


# ------------------------------------------------------------------------------------------------
# Text files


def _seed_path() -> Path | None:
    for candidate in (REPO / "seeds" / SEED_NAME, REPO.parent / "shared" / "seeds" / SEED_NAME):
        if candidate.is_file():
            return candidate
    return None


def test_seed_file_itself() -> None:
    seed = _seed_path()
    if seed is None:
        pytest.skip("seed article not present in this checkout")
    [article] = load_articles(seed)
    assert article.published == datetime(2026, 1, 25, tzinfo=UTC)
    assert article.model_dump(mode="json")["published"] == "2026-01-25T00:00:00Z"
    assert article.title is None
    assert article.body.startswith("Russia's wave of overnight attacks")
    assert "date" not in article.body[:20]
    assert article.body == article.body.strip()
    assert "\n\n" in article.body  # paragraph breaks kept
    assert article.metadata["path"] == str(seed.resolve())


def test_seed_form_inner_text_kept_exactly(tmp_path: Path) -> None:
    lead = "Russia's wave of overnight attacks on Ukraine were among the heaviest in weeks."
    rest = '"Russia launched a massive attack," Zelensky said.\n\n\n\nRegional authorities  reported strikes.'
    path = write(tmp_path / "seed.txt", f" date 2026-01-25 {lead}\n\n\n\n{rest}\n\n")
    [article] = load_articles(path)
    assert article.body == f"{lead}\n\n\n\n{rest}"
    assert article.published == datetime(2026, 1, 25, tzinfo=UTC)
    assert article.title is None


def test_seed_form_date_alone_on_first_line() -> None:
    article = parse_text("date 2026-01-20\n\nKyiv was hit overnight.", where="x.txt")
    assert article.body == "Kyiv was hit overnight."
    assert article.published == datetime(2026, 1, 20, tzinfo=UTC)


def test_headline_form(tmp_path: Path) -> None:
    path = write(
        tmp_path / "story.txt",
        "Drones hit Kharkiv power plant\n\nRussian drones struck a plant.\n\nFour people were hurt.\n",
    )
    [article] = load_articles(path)
    assert article.title == "Drones hit Kharkiv power plant"
    assert article.body == "Russian drones struck a plant.\n\nFour people were hurt."
    assert article.published is None


def test_markdown_heading_is_title(tmp_path: Path) -> None:
    [article] = load_articles(write(tmp_path / "note.md", "# Talks resume\n\nDelegations met again.\n"))
    assert article.title == "Talks resume"
    assert article.body == "Delegations met again."


def test_no_headline_when_first_line_is_a_sentence_or_not_followed_by_blank_line() -> None:
    sentence = parse_text("Officials said the city was attacked.\n\nMore text.", where="a.txt")
    assert sentence.title is None
    assert sentence.body.startswith("Officials said")
    running = parse_text("First line\nsecond line of the same paragraph.", where="b.txt")
    assert running.title is None
    long_line = "x" * 201
    assert parse_text(f"{long_line}\n\nbody", where="c.txt").title is None
    assert parse_text("Only a headline\n\n", where="d.txt").title is None


def test_crlf_and_bom_are_read_like_plain_utf8(tmp_path: Path) -> None:
    data = "\ufeffHeadline here\r\n\r\nFirst paragraph.\r\n\r\nSecond.\r\n".encode()
    [article] = load_articles(write(tmp_path / "win.txt", data))
    assert article.title == "Headline here"
    assert article.body == "First paragraph.\n\nSecond."


def test_stable_id_for_the_same_file(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Some article text.")
    first = load_articles(path)[0]
    second = load_articles(str(path))[0]
    assert first.id == second.id
    assert len(first.id) == 16
    # Editing the file updates the same article rather than creating another.
    path.write_text("Edited article text.", encoding="utf-8")
    assert load_articles(path)[0].id == first.id
    # Another file with the same text is another article.
    other = write(tmp_path / "b.txt", "Edited article text.")
    assert load_articles(other)[0].id != first.id


# ------------------------------------------------------------------------------------------------
# Field mapping


def test_make_article_maps_common_names_and_keeps_the_rest_as_metadata() -> None:
    record = {
        "id": "r1",
        "title": "Strike on Kharkiv",
        "text": "Drones hit the city.",
        "published": "2026-01-24",
        "source": "Wire",
        "url": "https://example.org/r1",
        "event": "E1",
        "event_name": "Kharkiv strike",
        "topic": "conflict",
        "lang": "uk",
    }
    article = make_article(record, where="rec")
    assert article.id == "r1"
    assert article.body == "Drones hit the city."
    assert article.language == "uk"
    assert article.published == datetime(2026, 1, 24, tzinfo=UTC)
    assert article.metadata == {"event": "E1", "event_name": "Kharkiv strike", "topic": "conflict"}


def test_make_article_case_insensitive_and_exact_field_wins() -> None:
    article = make_article(
        {
            "Headline": "From headline",
            "Body": "The body.",
            "description": "A summary.",
            "publishedAt": "2026-01-24T10:00:00+02:00",
            "publisher": {"name": "Example News"},
            "author": "Jane Roe",
            "keywords": "war, energy",
            "link": "https://example.org/x",
            "guid": "g-1",
        },
        where="rec",
    )
    assert article.title == "From headline"
    assert article.body == "The body."  # "body" beats the alias "description" ...
    assert article.metadata == {"description": "A summary."}  # ... which is kept, not lost
    assert article.published == datetime(2026, 1, 24, 8, tzinfo=UTC)
    assert article.source == "Example News"
    assert article.authors == ["Jane Roe"]
    assert article.tags == ["war", "energy"]
    assert article.url == "https://example.org/x"
    assert article.id == "g-1"


def test_make_article_reports_field_and_record() -> None:
    with pytest.raises(ValidationError) as info:
        make_article({"title": "no text"}, where="feed.jsonl:7")
    assert info.value.field == "body"
    assert "feed.jsonl:7" in str(info.value)


# ------------------------------------------------------------------------------------------------
# JSON and JSON Lines


def test_json_single_object(tmp_path: Path) -> None:
    path = write(tmp_path / "one.json", json.dumps({"title": "T", "content": "Body text."}))
    [article] = load_articles(path)
    assert (article.title, article.body) == ("T", "Body text.")


def test_json_array_and_item_numbering(tmp_path: Path) -> None:
    records = [{"body": "First."}, {"body": "  "}, 42, {"body": "Fourth."}]
    path = write(tmp_path / "many.json", json.dumps(records))
    items = outcomes(path)
    assert [a.body for a in articles_of(items)] == ["First.", "Fourth."]
    failures = failures_of(items)
    assert [f.where for f in failures] == [f"{path}[item 2]", f"{path}[item 3]"]
    assert "body" in failures[0].reason and "empty" in failures[0].reason
    assert failures[1].reason == "expected a JSON object, got a number"


def test_json_nested_articles_list(tmp_path: Path) -> None:
    payload = {
        "status": "ok",
        "articles": [
            {"title": "A", "description": "Alpha.", "source": {"id": None, "name": "BBC"}},
            {"title": "B", "content": "Beta."},
        ],
    }
    path = write(tmp_path / "api.json", json.dumps(payload))
    articles = load_articles(path)
    assert [(a.title, a.body) for a in articles] == [("A", "Alpha."), ("B", "Beta.")]
    assert articles[0].source == "BBC"
    items_path = write(tmp_path / "items.json", json.dumps({"items": [{"text": "Gamma."}]}))
    assert [a.body for a in load_articles(items_path)] == ["Gamma."]


def test_jsonl_mapping_bad_line_and_empty_body(tmp_path: Path) -> None:
    good = {
        "id": "a1",
        "title": "Talks in Abu Dhabi",
        "text": "Delegations met on Friday.",
        "published": "2026-01-23T09:00:00Z",
        "source": "Wire",
        "url": "https://example.org/a1",
        "event": "ev-7",
        "event_name": "Abu Dhabi talks",
        "topic": "diplomacy",
        "lang": "en",
    }
    lines = [
        json.dumps(good),
        "",
        '{"id": "a2", "text": "broken", ',
        json.dumps({"id": "a3", "text": ""}),
        json.dumps({"id": "a4", "body": "Fourth record."}),
    ]
    path = write(tmp_path / "news.jsonl", "\n".join(lines) + "\n")
    items = outcomes(path)
    articles = articles_of(items)
    assert [a.id for a in articles] == ["a1", "a4"]
    first = articles[0]
    assert first.body == "Delegations met on Friday."
    assert first.language == "en"
    assert first.metadata == {"event": "ev-7", "event_name": "Abu Dhabi talks", "topic": "diplomacy"}
    failures = failures_of(items)
    assert [f.where for f in failures] == [f"{path}:3", f"{path}:4"]
    assert failures[0].reason.startswith("not valid JSON")
    assert "body" in failures[1].reason and "empty" in failures[1].reason


def test_jsonl_invalid_utf8_fails_only_that_line(tmp_path: Path) -> None:
    data = b'{"body": "one"}\n{"body": "tw\xff"}\n{"body": "three"}\n'
    path = write(tmp_path / "x.ndjson", data)
    items = outcomes(path)
    assert [a.body for a in articles_of(items)] == ["one", "three"]
    [failure] = failures_of(items)
    assert failure.where == f"{path}:2"
    assert failure.reason == "not valid UTF-8: byte 0xff at offset 28 (line 2)"


def test_absurdly_nested_json_is_a_failure(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000)
    [failure] = outcomes(path)
    assert isinstance(failure, Failure)
    assert failure.where == str(path)


# ------------------------------------------------------------------------------------------------
# HTML

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>Drones hit Kharkiv power plant | Example News</title>
<meta property="og:title" content="Drones hit Kharkiv power plant">
<meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2026-01-24T07:30:00+02:00">
<meta name="author" content="Olena Petrenko">
<link rel="canonical" href="https://news.example.org/world/kharkiv-drones">
</head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience. Accept all</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li></ul></nav>
<article>
<h1>Drones hit Kharkiv power plant</h1>
<p>Russian drones struck a thermal power plant in Kharkiv overnight, cutting electricity to tens
of thousands of homes, the regional governor said on Saturday morning.</p>
<p>Emergency crews worked through the night to put out the fires. At least four people were
injured, including a child, according to the mayor of the city.</p>
<p>The attack was part of a wider wave of strikes on energy infrastructure across the country,
officials said, as temperatures fell well below freezing.</p>
</article>
<footer><p>Copyright 2026 Example News. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body>
</html>
"""


def test_html_page_main_text_without_boilerplate(tmp_path: Path) -> None:
    [article] = load_articles(write(tmp_path / "page.html", PAGE))
    assert article.title == "Drones hit Kharkiv power plant"
    assert article.body.startswith("Russian drones struck a thermal power plant in Kharkiv overnight")
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[2].startswith("The attack was part of a wider wave")
    for boilerplate in ("cookies", "Home", "World news", "Copyright", "Privacy policy"):
        assert boilerplate not in article.body
    assert article.url == "https://news.example.org/world/kharkiv-drones"
    assert article.source == "Example News"
    assert article.authors == ["Olena Petrenko"]
    assert article.language == "en-gb"
    assert article.published == datetime(2026, 1, 24, 5, 30, tzinfo=UTC)
    # With a canonical URL the id follows the URL, as for any other record with that URL.
    assert article.id == Article(body="x", url=article.url).id


def test_html_without_text_fails(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.htm", "<html><body><nav><a href='/'>Home</a></nav></body></html>")
    [failure] = outcomes(path)
    assert isinstance(failure, Failure)
    assert failure.where == str(path)
    assert failure.reason == "no article text found"


def test_missing_optional_dependency_propagates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "page.html", PAGE)
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # makes `import trafilatura` fail
    with pytest.raises(DependencyError, match="trafilatura"):
        load_articles(path, on_error="skip")


# ------------------------------------------------------------------------------------------------
# Feeds

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
<title>Example Wire</title><link>https://wire.example.org/</link><language>en-us</language>
<item>
  <title>Talks resume in Abu Dhabi</title>
  <link>https://wire.example.org/a</link>
  <guid>wire-a</guid>
  <pubDate>Sat, 24 Jan 2026 10:00:00 +0200</pubDate>
  <author>desk@example.org (Jane Roe)</author>
  <category>Diplomacy</category>
  <description>&lt;p&gt;Delegations met for a &lt;b&gt;second&lt;/b&gt; day.&lt;/p&gt;
  &lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;No results were announced.&lt;/p&gt;</description>
</item>
<item>
  <title>Strikes on Kharkiv</title>
  <link>https://wire.example.org/b</link>
  <pubDate>Sun, 25 Jan 2026 06:00:00 GMT</pubDate>
  <description>Drones hit the city overnight.</description>
</item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>Atom Desk</title>
  <id>urn:uuid:feed</id>
  <updated>2026-01-25T12:00:00Z</updated>
  <entry>
    <title>Ceasefire talks</title>
    <id>urn:uuid:entry-1</id>
    <link href="https://atom.example.org/1"/>
    <updated>2026-01-25T11:00:00Z</updated>
    <author><name>Ann Lee</name></author>
    <content type="html">&lt;p&gt;First paragraph.&lt;/p&gt;
      &lt;p&gt;Second&lt;br/&gt;line.&lt;/p&gt;</content>
  </entry>
</feed>
"""


def test_rss_feed_two_items(tmp_path: Path) -> None:
    path = write(tmp_path / "wire.rss", RSS)
    first, second = load_articles(path)
    assert first.title == "Talks resume in Abu Dhabi"
    assert first.body == "Delegations met for a second day.\n\nNo results were announced."
    assert "alert" not in first.body
    assert first.id == "wire-a"
    assert first.url == "https://wire.example.org/a"
    assert first.source == "Example Wire"
    assert first.published == datetime(2026, 1, 24, 8, tzinfo=UTC)
    assert first.authors == ["Jane Roe"]
    assert first.tags == ["Diplomacy"]
    assert first.language == "en-us"
    assert second.body == "Drones hit the city overnight."
    assert second.id == Article(body="x", url="https://wire.example.org/b").id  # no guid: from link


def test_atom_feed(tmp_path: Path) -> None:
    [article] = load_articles(write(tmp_path / "desk.atom", ATOM))
    assert article.title == "Ceasefire talks"
    assert article.id == "urn:uuid:entry-1"
    assert article.body == "First paragraph.\n\nSecond\nline."
    assert article.published == datetime(2026, 1, 25, 11, tzinfo=UTC)
    assert article.authors == ["Ann Lee"]
    assert article.source == "Atom Desk"
    assert article.url == "https://atom.example.org/1"


def test_feed_entry_without_text_and_bad_date_fail_alone(tmp_path: Path) -> None:
    feed = RSS.replace("<description>Drones hit the city overnight.</description>", "").replace(
        "Sat, 24 Jan 2026 10:00:00 +0200", "not a date at all"
    )
    path = write(tmp_path / "wire.xml", feed)
    first, second = outcomes(path)
    assert isinstance(first, Failure) and isinstance(second, Failure)
    assert first.where == f"{path}[entry 1]"
    assert "published" in first.reason
    assert second.where == f"{path}[entry 2]"
    assert "no text" in second.reason


def test_not_a_feed_is_one_failure(tmp_path: Path) -> None:
    path = write(tmp_path / "data.xml", "<?xml version='1.0'?><catalog><book>x</book></catalog>")
    [failure] = outcomes(path)
    assert isinstance(failure, Failure)
    assert failure.where == str(path)
    assert failure.reason.startswith("not an RSS or Atom feed")


def test_html_to_text_keeps_paragraphs_and_drops_scripts() -> None:
    markup = "<div><p>One  <i>two</i>\nthree.</p><style>p{}</style><ul><li>a</li><li>b</li></ul></div>"
    assert html_to_text(markup) == "One two three.\n\na\n\nb"
    assert html_to_text("plain &amp; simple") == "plain & simple"


# ------------------------------------------------------------------------------------------------
# Directories, format choice, broken files


def test_directory_walk_order_and_skips(tmp_path: Path) -> None:
    root = tmp_path / "news"
    write(root / "README.md", "# About this folder\n\nNot an article.")
    write(root / "blob.bin", b"\x00\x01\x02")
    write(root / ".hidden.txt", "Secret draft.")
    write(root / ".git" / "config.txt", "Not news.")
    write(root / "b.txt", "Second file.")
    write(root / "a.txt", "First file.")
    write(root / "sub" / "c.json", json.dumps([{"body": "Third."}, {"body": "Fourth."}]))
    write(root / "sub" / "deeper" / "d.md", "Fifth.")
    write(root / "z.txt", "Last file.")
    items = outcomes(root)
    assert [a.body for a in articles_of(items)] == [
        "First file.",
        "Second file.",
        "Third.",
        "Fourth.",
        "Fifth.",
        "Last file.",
    ]
    skips = [o for o in items if isinstance(o, ReadSkip)]
    assert skips == [
        ReadSkip(where=str(root / "README.md"), reason="README file"),
        ReadSkip(where=str(root / "blob.bin"), reason="unknown file type '.bin'"),
    ]
    assert not failures_of(items)
    assert list(iter_load(root)) == items  # deterministic


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks on this platform")
def test_symlinked_directory_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    write(target / "x.txt", "Outside the tree.")
    root = tmp_path / "root"
    write(root / "in.txt", "Inside.")
    (root / "link").symlink_to(target, target_is_directory=True)
    items = outcomes(root)
    assert [a.body for a in articles_of(items)] == ["Inside."]
    assert ReadSkip(str(root / "link"), "symbolic link to a directory, not followed") in items


def test_broken_files_fail_alone_with_where_and_why(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    good_txt = write(root / "good.txt", "A good article.")
    write(root / "good.jsonl", json.dumps({"body": "A good record."}) + "\n")
    bad_json = write(root / "malformed.json", '{\n  "body": "x",\n  "title": \n}')
    empty = write(root / "empty.txt", "   \n\n  ")
    latin1 = write(root / "latin1.txt", "Caf\xe9 society.".encode("latin-1"))
    binary = write(root / "binary.txt", b"GIF89a\x00\x00\x01\x02")
    bad_date = write(root / "when.txt", "date 2026-02-30 The lead paragraph.")
    bad_date_json = write(root / "when.jsonl", json.dumps({"body": "x", "date": "yesterday-ish"}))
    items = outcomes(root)

    assert sorted(a.body for a in articles_of(items)) == ["A good article.", "A good record."]
    failures = {f.where: f.reason for f in failures_of(items)}
    assert set(failures) == {
        str(bad_json),
        str(empty),
        str(latin1),
        str(binary),
        str(bad_date),
        f"{bad_date_json}:1",
    }
    assert failures[str(bad_json)].startswith("not valid JSON: Expecting value at line 4, column 1")
    assert "body" in failures[str(empty)] and "empty" in failures[str(empty)]
    assert failures[str(latin1)] == "not valid UTF-8: byte 0xe9 at offset 3 (line 1)"
    assert failures[str(binary)] == "binary file, not text"
    assert "published" in failures[str(bad_date)] and "2026-02-30" in failures[str(bad_date)]
    assert "published" in failures[f"{bad_date_json}:1"]
    assert good_txt.exists()


def test_missing_path_is_a_failure(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    good = write(tmp_path / "ok.txt", "Fine.")
    items = outcomes(missing, good)
    assert items[0] == Failure(where=str(missing), reason="no such file or directory")
    assert isinstance(items[1], Article)


def test_named_file_with_unknown_extension_is_sniffed(tmp_path: Path) -> None:
    as_json = write(tmp_path / "export.dat", json.dumps([{"body": "From JSON."}]))
    as_jsonl = write(tmp_path / "export.log", '{"body": "L1."}\n{"body": "L2."}\n')
    as_feed = write(tmp_path / "feed.php", RSS)
    as_text = write(tmp_path / "NOTES", "Just text.")
    assert sniff_format(as_json) == "json"
    assert sniff_format(as_jsonl) == "jsonl"
    assert sniff_format(as_feed) == "feed"
    assert sniff_format(as_text) == "text"
    bodies = [a.body for a in load_articles([as_json, as_jsonl, as_text])]
    assert bodies == ["From JSON.", "L1.", "L2.", "Just text."]
    assert len(load_articles(as_feed)) == 2


def test_explicit_format_forces_the_reader(tmp_path: Path) -> None:
    path = write(tmp_path / "records.txt", '{"body": "One."}\n{"body": "Two."}\n')
    assert [a.body for a in load_articles(path, format="jsonl")] == ["One.", "Two."]
    [as_text] = load_articles(path, format="text")
    assert as_text.body.startswith('{"body"')


def test_unknown_format_and_on_error_are_configuration_errors(tmp_path: Path) -> None:
    assert FORMATS == ("auto", "text", "json", "jsonl", "html", "feed")
    with pytest.raises(ConfigurationError, match="auto, text, json, jsonl, html, feed"):
        iter_load(tmp_path, format="csv")
    with pytest.raises(ConfigurationError):
        load_articles(tmp_path, on_error="ignore")


def test_load_articles_raise_versus_skip(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "Good one.")
    write(tmp_path / "b.json", "{not json")
    write(tmp_path / "c.txt", "Good two.")
    with pytest.raises(IngestError) as info:
        load_articles(tmp_path)
    assert info.value.where == str(tmp_path / "b.json")
    assert info.value.reason.startswith("not valid JSON")
    with pytest.warns(UserWarning, match=r"b\.json: not valid JSON"):
        articles = load_articles(tmp_path, on_error="skip")
    assert [a.body for a in articles] == ["Good one.", "Good two."]


def test_max_body_chars_is_a_clean_failure(tmp_path: Path) -> None:
    path = write(tmp_path / "long.txt", "word " * 100)
    [failure] = list(iter_load(path, max_body_chars=50))
    assert isinstance(failure, Failure)
    assert "limit" in failure.reason


def test_paths_accepts_str_path_and_iterables(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "A.")
    b = write(tmp_path / "b.txt", "B.")
    assert len(load_articles(str(a))) == 1
    assert len(load_articles(a)) == 1
    assert len(load_articles(p for p in (a, str(b)))) == 2
    with pytest.raises(ConfigurationError):
        load_articles([a, 3])  # type: ignore[list-item]
