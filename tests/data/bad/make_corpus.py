"""Writes the hostile-input corpus in this folder (run it from anywhere: ``python make_corpus.py``).

Every file is small (under 100 KB) and deterministic; README.md says what each one holds and how
newsindex must answer it, and tests/test_hostile_input.py checks exactly that. Inputs too large to
keep in the repository (a 50 MB article, 100,000 nested arrays, a 5 MB title) are made by the tests
at run time instead.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSWD = "file:///etc/passwd"


def write(name: str, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    assert len(data) < 100_000, (name, len(data))
    (HERE / name).write_bytes(data)


def jsonl(*lines: object) -> str:
    """One line per item: text as written (for broken lines), anything else through json.dumps."""
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"


def good(record_id: str, words: str) -> dict[str, str]:
    """A valid record; ``words`` make it findable."""
    return {"id": record_id, "title": words.capitalize(), "body": f"Reporters wrote about {words} today."}


# --------------------------------------------------------------------------------------------------
# JSON documents


def json_files() -> None:
    write("json_malformed_truncated.json", '[{"id": "cut-1", "body": "this string never ends')
    write("json_trailing_comma.json", '{"id": "comma-1", "body": "a body",}\n')
    write("json_nested_45k_arrays.json", "[" * 45_000 + "]" * 45_000)
    write("json_top_level_string.json", '"just a string, not an article"\n')
    write("json_invalid_utf8.json", b'{"id": "utf8-1", "body": "caf\xe9 au lait \xff\xfe"}\n')
    items = [
        good("bad-json-good-1", "walrus colony census Svalbard"),
        42,
        None,
        {"id": "bad-json-body-object", "body": {"text": "hidden"}},
        good("bad-json-good-2", "glacier museum reopens Fjaerland"),
    ]
    write("json_items_mixed.json", json.dumps(items, indent=1))


# --------------------------------------------------------------------------------------------------
# JSON Lines


def jsonl_files() -> None:
    write(
        "jsonl_malformed_lines.jsonl",
        jsonl(
            good("bad-lines-good-1", "lantern festival Hoi An river"),
            '{"id": "unterminated", "body": "no closing quote}',
            '{"id": "trailing-comma", "body": "text",}',
            "not json at all",
            '{"id": "cut-off"',
            [1, 2, 3],
            good("bad-lines-good-2", "salt flats flamingo count Uyuni"),
        ),
    )
    deep_metadata: object = "bottom"
    for _ in range(40):
        deep_metadata = [deep_metadata]
    write(
        "jsonl_nested.jsonl",
        jsonl(
            '{"a": ' * 10_000 + "1" + "}" * 10_000,
            {"id": "deep-metadata", "body": "A fine body with deep extras.", "extra": deep_metadata},
            good("bad-nested-good", "cliff swallows return Capistrano"),
        ),
    )
    write(
        "jsonl_wrong_types.jsonl",
        jsonl(
            {"id": "body-number", "body": 12345},
            {"id": "body-numbers", "body": [1, 2, 3]},
            {"id": "body-object", "body": {"text": "nested"}},
            {"id": "published-list", "body": "Fine text.", "published": [2026, 1, 5]},
            {"id": "published-bool", "body": "Fine text.", "published": True},
            {"id": {"value": "object id"}, "body": "Fine text."},
            {"id": ["list", "id"], "body": "Fine text."},
            {"id": "title-number", "body": "Fine text.", "title": 7},
            {"id": "tags-objects", "body": "Fine text.", "tags": [{"weight": 3}]},
            {"id": "authors-list-in-list", "body": "Fine text.", "authors": [["Ann", "Bo"]]},
            {"id": "language-number", "body": "Fine text.", "language": 5},
            {"id": "url-list", "body": "Fine text.", "url": ["https://example.org/a"]},
            {"id": "source-number", "body": "Fine text.", "source": 3.5},
            good("bad-types-good", "night ferry timetable Tallinn"),
        ),
    )
    write(
        "jsonl_huge_fields.jsonl",
        jsonl(
            {"id": "title-6000", "body": "Fine text.", "title": "T" * 6_000},
            {"id": "tags-1500", "body": "Fine text.", "tags": ["t"] * 1_500},
            {"id": "tag-2000-chars", "body": "Fine text.", "tags": ["x" * 2_000]},
            {"id": "tags-string-30k", "body": "Fine text.", "tags": "y" * 30_000},
            {"id": "i" * 3_000, "body": "Fine text."},
            {"id": "url-9000", "body": "Fine text.", "url": "https://example.org/" + "u" * 9_000},
            {"id": "authors-1001", "body": "Fine text.", "authors": ["A"] * 1_001},
            good("bad-huge-good", "tidal power station Orkney"),
        ),
    )
    write(
        "jsonl_dates.jsonl",
        jsonl(
            {"id": "date-year-0", "body": "Fine text.", "published": "0000-01-01"},
            {"id": "date-9999-minus-12", "body": "Fine text.", "published": "9999-12-31T23:59:59-12:00"},
            {"id": "date-0001-plus-1", "body": "Fine text.", "published": "0001-01-01T00:00:00+01:00"},
            {"id": "date-year-10000", "body": "Fine text.", "published": "10000-01-01"},
            {"id": "date-epoch-1e30", "body": "Fine text.", "published": 1e30},
            {"id": "date-epoch-minus-1e20", "body": "Fine text.", "published": -1e20},
            '{"id": "date-nan", "body": "Fine text.", "published": NaN}',
            {"id": "date-feb-30", "body": "Fine text.", "published": "2026-02-30"},
            {"id": "date-rfc822-year-0", "body": "Fine text.", "published": "Sat, 01 Jan 0000 00:00:00 GMT"},
            {
                "id": "bad-date-9999",
                "body": "Last day of the calendar: comet parade.",
                "published": "9999-12-31T23:59:59Z",
            },
            {
                "id": "bad-date-0001",
                "body": "First day of the calendar: Roman census.",
                "published": "0001-01-01",
            },
            {
                "id": "bad-date-epoch-minus-1",
                "body": "One second before the epoch: teletype.",
                "published": -1,
            },
        ),
    )
    write(
        "jsonl_negative_counts.jsonl",
        jsonl(
            {
                "id": "bad-negative-counts",
                "body": "Organisers of the pumpkin regatta in Ludwigsburg counted the boats.",
                "word_count": -5,
                "comment_count": -1,
                "shares": -1e9,
                "rank": -3,
            },
        ),
    )
    long_good = good("bad-nul-good-1", "long distance skating Weissensee")
    long_good["body"] += " The ice was thick." * 500  # pushes the next lines past the binary sniff
    write(
        "jsonl_nul.jsonl",
        jsonl(
            long_good,
            {"id": "nul-in-body", "body": "before\u0000after"},
            '{"id": "raw-nul-byte", "body": "before\x00after"}',
            {
                "id": "bad-nul-in-title",
                "title": "Odd\u0000title",
                "body": "A body about the kite festival in Weifang.",
            },
            good("bad-nul-good-2", "reindeer migration Finnmark"),
        ),
    )
    write(
        "jsonl_surrogates.jsonl",
        jsonl(
            '{"id": "surrogate-body", "body": "lone \\ud800 surrogate"}',
            '{"body": "lone \\udfff surrogate and no id"}',
            '{"id": "surrogate-title", "body": "Fine text.", "title": "t \\ud83d"}',
            '{"id": "surrogate-tag", "body": "Fine text.", "tags": ["\\udc00"]}',
            '{"id": "surrogate-extra", "body": "Fine text.", "extra": "\\ud800"}',
            '{"id": "surrogate-key", "body": "Fine text.", "k\\ud800": 1}',
            good("bad-surrogates-good", "paired emoji \U0001f600 harbour seals Texel"),
        ),
    )
    lines = [
        json.dumps(good("bad-utf8-good-1", "chestnut harvest Ardeche")).encode(),
        b'{"id": "bad-bytes", "body": "caf\xe9 \xff\xfe"}',
        json.dumps(good("bad-utf8-good-2", "mountain hut reopens Triglav")).encode(),
    ]
    write("jsonl_invalid_utf8.jsonl", b"\n".join(lines) + b"\n")


# --------------------------------------------------------------------------------------------------
# Text files


def text_files() -> None:
    write(
        "text_invalid_utf8.txt", b"date 2026-01-09 Caf\xe9 owners in Porto complained \xff\xfe about rules.\n"
    )
    filler = "The lighthouse keeper logged the weather every hour. " * 180  # past the binary sniff
    write("text_nul_after_sniff.txt", "Storm log\n\n" + filler + "\x00 and then a NUL byte.\n")
    write("text_year_0.txt", "date 0000-01-01 Nothing happened in a year that does not exist.\n")
    write("text_year_9999.txt", "date 9999-12-31 Astronomers at the far future observatory logged a comet.\n")


# --------------------------------------------------------------------------------------------------
# Binary files with text extensions


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x80\x20\x10" * 4 for _ in range(4)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo("word/document.xml", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, "<w:document>not an article</w:document>" * 20)
    return buffer.getvalue()


def binary_files() -> None:
    rng = random.Random(7)
    write("binary_png.txt", _png())
    write("binary_gzip.json", gzip.compress(b'{"id": "zipped", "body": "hidden"}\n' * 50, mtime=0))
    stream = zlib.compress(b"BT /F1 12 Tf 72 712 Td (not an article) Tj ET" * 20)
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Length " + str(len(stream)).encode()
    pdf += b" /Filter /FlateDecode >>\nstream\n"
    write("binary_pdf.xml", pdf + stream + b"\nendstream\nendobj\n%%EOF\n")
    write("binary_docx.jsonl", _zip())
    write("binary_sqlite.html", b"SQLite format 3\x00" + bytes(range(256)) * 8)
    # Random bytes without a single NUL: only the parsers can tell these are not text.
    write("binary_random_no_nul.html", bytes(rng.randrange(1, 256) for _ in range(20_000)))
    write("binary_random_no_nul.txt", bytes(rng.randrange(1, 256) for _ in range(20_000)))


# --------------------------------------------------------------------------------------------------
# Web pages


def html_files() -> None:
    write(
        "html_scripts_and_styles.html",
        """<!DOCTYPE html>
<html lang="en"><head><title>Bell foundry casts a new bell</title>
<style>body { color: red } .STYLE_MARKER_HEAD { display: none }</style>
<script>var SCRIPT_MARKER_HEAD = "in the head";</script>
</head><body>
<script>document.write("SCRIPT_MARKER_BODY");</script>
<article>
<h1>Bell foundry casts a new bell</h1>
<p>The bell foundry in Innsbruck cast a new three-tonne bell for the cathedral on Friday, pouring
bronze heated to more than a thousand degrees into a clay mould buried in the foundry floor.</p>
<style>.STYLE_MARKER_BODY { color: blue }</style>
<p>The bell will cool for two weeks before it is dug out, cleaned and tuned by shaving metal from
its inside, the foundry said.</p>
<noscript>NOSCRIPT_MARKER please enable JavaScript</noscript>
<template><p>TEMPLATE_MARKER never shown</p></template>
<p onclick="alert('HANDLER_MARKER')">Visitors may watch the tuning in the foundry museum.</p>
<script type="text/javascript">
  // SCRIPT_MARKER_INLINE
  console.log("</p><p>SCRIPT_MARKER_FAKE_PARAGRAPH");
</script>
</article></body></html>
""",
    )
    write("html_nested_30k_tags.html", "<html><body>" + "<b>" * 30_000 + "Deep text about ferries." * 3)
    write(
        "html_xxe_entity.html",
        f"""<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY e SYSTEM "{PASSWD}">]>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Harbour pier opens</title></head><body>
<article><h1>Harbour pier opens</h1>
<p>The harbour master of Zadar said the new ferry pier would open in spring, after two years of
building work on the old quay.</p>
<p>Entity here: &e; and the paragraph goes on about the ferries and the many travellers.</p>
</article></body></html>
""",
    )


# --------------------------------------------------------------------------------------------------
# Feeds


def _rss(doctype: str, items: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
        f'<rss version="2.0"><channel><title>Hostile feed</title><link>https://example.org/</link>\n'
        f"{items}</channel></rss>\n"
    )


def _item(guid: str, title: str, description: str, extra: str = "") -> str:
    return (
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<description>{description}</description>{extra}</item>\n"
    )


def feed_files() -> None:
    write(
        "feed_xxe_external_entity.xml",
        _rss(
            f'<!DOCTYPE rss [<!ENTITY e SYSTEM "{PASSWD}">]>',
            _item(
                "bad-xxe-1", "Entity &e; in the title", "Ice road to Hailuoto opens; entity &e; in the text."
            ),
        ),
    )
    write(
        "feed_xxe_entity_own_line.xml",
        _rss(
            f'<!DOCTYPE rss [\n<!ENTITY e SYSTEM "{PASSWD}">\n]>',
            _item("bad-xxe-2", "Own line &e;", "Sauna village in Tampere grows; entity &e; here."),
        ),
    )
    write(
        "feed_xxe_parameter_entity.xml",
        _rss(
            f'<!DOCTYPE rss [\n<!ENTITY % p SYSTEM "{PASSWD}">\n%p;\n]>',
            _item("bad-xxe-3", "Parameter entity", "Wooden church restored in Kizhi by carpenters."),
        ),
    )
    write(
        "feed_external_dtd.xml",
        _rss(
            f'<!DOCTYPE rss SYSTEM "{PASSWD}">',
            _item("bad-xxe-4", "External DTD", "Amber workshop in Gdansk trains apprentices."),
        ),
    )
    utf16 = _rss(
        f'<!DOCTYPE rss [<!ENTITY e SYSTEM "{PASSWD}">]>',
        _item("bad-xxe-5", "UTF-16 &e;", "Cork oak harvest in Alentejo; entity &e; here."),
    ).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    write("feed_xxe_utf16.xml", utf16.encode("utf-16"))
    laughs = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    write(
        "feed_billion_laughs.xml",
        _rss(
            f"<!DOCTYPE rss [\n{laughs}\n]>",
            _item("bad-laughs", "Laughs", "Clown school in Verona graduates its class &lol9; today."),
        ),
    )
    write(
        "feed_quadratic_blowup.xml",
        _rss(
            f'<!DOCTYPE rss [\n<!ENTITY big "{"B" * 20_000}">\n]>',
            _item("bad-quadratic", "Quadratic", "Snow sculptures in Harbin. " + "&big;" * 4_000),
        ),
    )
    write(
        "feed_doctype_behind_comment.xml",
        '<?xml version="1.0"?>\n<!-- a comment that looks like <rss " and a quote -->\n'
        + f'<!DOCTYPE rss [\n<!ENTITY big "{"C" * 20_000}">\n<!ENTITY e SYSTEM "{PASSWD}">\n]>\n'
        + '<rss version="2.0"><channel><title>Hidden DTD</title>\n'
        + _item("bad-hidden-dtd", "Hidden &e;", "Kelp farm off Bantry Bay expands. " + "&big;" * 2_000)
        + "</channel></rss>\n",
    )
    write(
        "feed_scripts_in_summary.xml",
        _rss(
            "",
            _item(
                "bad-feed-script",
                "Marble quarry tours",
                "&lt;p&gt;Quarry tours in Carrara resume in May.&lt;/p&gt;"
                "&lt;script&gt;var FEED_SCRIPT_MARKER = 1;&lt;/script&gt;"
                "&lt;style&gt;.FEED_STYLE_MARKER { }&lt;/style&gt;"
                "&lt;p&gt;Guides lead groups into the galleries.&lt;/p&gt;",
            ),
        ),
    )
    write(
        "feed_dates.xml",
        _rss(
            "",
            _item(
                "feed-date-year-0",
                "Year zero",
                "No such year.",
                "<pubDate>Sat, 01 Jan 0000 00:00:00 GMT</pubDate>",
            )
            + _item(
                "feed-date-9999-minus-12",
                "Past the end",
                "Overflows in UTC.",
                "<pubDate>Fri, 31 Dec 9999 23:59:59 -1200</pubDate>",
            )
            + _item(
                "bad-feed-date-9999",
                "Last second",
                "Clockmakers in Glashuette set the last clock.",
                "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>",
            ),
        ),
    )
    write(
        "feed_not_a_feed.xml", '<?xml version="1.0"?>\n<note><to>Tove</to><body>Not a feed.</body></note>\n'
    )


def main() -> None:
    json_files()
    jsonl_files()
    text_files()
    binary_files()
    html_files()
    feed_files()


if __name__ == "__main__":
    main()
