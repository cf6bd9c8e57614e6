"""The typed records newsindex takes in and gives back (pydantic v2).

Field names are part of the public contract (DESIGN §2). Constructing a model from bad data raises
:class:`newsindex.errors.ValidationError`, which names the field and the record, instead of pydantic's
own error type.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, ClassVar, Literal, Self

import pydantic
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_serializer, field_validator

from .errors import ConfigurationError, ValidationError

__all__ = [
    "DEFAULT_MAX_BODY_CHARS",
    "MAX_ID_CHARS",
    "MAX_LIST_ITEMS",
    "MAX_LIST_ITEM_CHARS",
    "MAX_METADATA_DEPTH",
    "MAX_SOURCE_CHARS",
    "MAX_TITLE_CHARS",
    "MAX_URL_CHARS",
    "Actor",
    "ActorRole",
    "AddReport",
    "Article",
    "Casualties",
    "DatePrecision",
    "Event",
    "EventHit",
    "EventMention",
    "Evidence",
    "Failure",
    "IndexStats",
    "Location",
    "Quantity",
    "SearchHit",
    "body_limit",
    "parse_datetime",
]

#: Longest body accepted by default; longer is a clean per-record failure (see ``max_body_chars``).
DEFAULT_MAX_BODY_CHARS = 1_000_000

# Limits on the other fields of an Article, in characters (items for lists). Real values are far
# smaller; the limits keep one hostile record from bloating the index or the memory of a batch. Over
# a limit the record fails with a message naming the field and the limit.
#: Longest ``id`` (long enough for any URL used as a feed guid).
MAX_ID_CHARS = 2_048
#: Longest ``title``.
MAX_TITLE_CHARS = 5_000
#: Longest ``url``.
MAX_URL_CHARS = 8_192
#: Longest ``source``.
MAX_SOURCE_CHARS = 1_000
#: Most ``authors`` and most ``tags``.
MAX_LIST_ITEMS = 1_000
#: Longest single author or tag.
MAX_LIST_ITEM_CHARS = 1_000
#: Deepest nesting of ``metadata`` values (its text may total as many characters as the body limit).
MAX_METADATA_DEPTH = 32

_TEXT_LIMITS = {
    "id": MAX_ID_CHARS,
    "title": MAX_TITLE_CHARS,
    "url": MAX_URL_CHARS,
    "source": MAX_SOURCE_CHARS,
}

# Lone UTF-16 surrogates: Python strings can hold them (JSON "\ud800" escapes make them) but they
# cannot be encoded as UTF-8, so storing or hashing such a record would fail later, for the whole batch.
_SURROGATE = re.compile("[\ud800-\udfff]")


def body_limit(max_body_chars: int | None) -> int:
    """The body limit in effect: ``max_body_chars``, or :data:`DEFAULT_MAX_BODY_CHARS` when None.

    Raises :class:`~newsindex.errors.ConfigurationError` unless it is a positive whole number.
    """
    if max_body_chars is None:
        return DEFAULT_MAX_BODY_CHARS
    if isinstance(max_body_chars, bool) or not isinstance(max_body_chars, int) or max_body_chars < 1:
        raise ConfigurationError(f"max_body_chars must be a positive whole number, not {max_body_chars!r}")
    return max_body_chars


def _check_text(value: str, limit: int, what: str = "") -> None:
    """Raise ``ValueError`` (``what`` names the part) for text over ``limit`` or not valid Unicode."""
    if len(value) > limit:
        raise ValueError(f"{what}has {len(value):,} characters, more than the limit of {limit:,}")
    surrogate = _SURROGATE.search(value)
    if surrogate:
        raise ValueError(
            f"{what}contains an unpaired surrogate ({surrogate.group()!a} at character "
            f"{surrogate.start():,}), which is not valid Unicode"
        )


def _check_metadata(value: Mapping[Any, Any], limit: int) -> None:
    """Check a metadata tree (walked without recursion): its depth, its total characters of text,
    valid Unicode, and numbers JSON can hold (NaN and infinity would be stored as null)."""
    budget = limit
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping | list | tuple):
            if depth > MAX_METADATA_DEPTH:
                raise ValueError(f"is nested more than {MAX_METADATA_DEPTH} levels deep")
            if isinstance(node, Mapping):
                stack.extend((key, depth) for key in node)
                stack.extend((item, depth + 1) for item in node.values())
            else:
                stack.extend((item, depth + 1) for item in node)
            budget -= 1
        elif isinstance(node, str):
            _check_text(node, limit, "text ")
            budget -= len(node)
        else:
            if isinstance(node, float) and not math.isfinite(node):
                raise ValueError(f"holds the number {node!r}, which JSON cannot store")
            budget -= 1
        if budget < 0:
            raise ValueError(f"holds more than {limit:,} characters of text (the body limit)")


def parse_datetime(value: object) -> datetime | None:
    """Read a publication time from a datetime, a date, an epoch number or a string.

    Returns a timezone-aware datetime in UTC; a naive value is taken as UTC and a bare date means
    00:00 UTC. Raises ``ValueError`` for anything that cannot be read as a time.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0, 0))
    elif isinstance(value, bool):
        raise ValueError("a boolean is not a date")
    elif isinstance(value, int | float):
        try:
            dt = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"epoch seconds {value!r} out of range") from exc
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        dt = _parse_date_string(text)
    else:
        raise ValueError(f"cannot read a date from a {type(value).__name__}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"date {value!r} out of range") from exc


def _format_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# The first four-digit number of a date as written: its year in ISO 8601 and RFC 822 dates.
_WRITTEN_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")


def _parse_date_string(text: str) -> datetime:
    try:
        # ISO 8601 first: the common case and unambiguous ("Z" is accepted since Python 3.11).
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(text)  # RFC 822 dates of RSS feeds
    except (TypeError, ValueError, IndexError):
        pass
    else:
        # RFC 822 readers take years below 100 as two-digit years: "0000" would become 2000.
        written = _WRITTEN_YEAR.search(text)
        if written and int(written.group()) != parsed.year:
            raise ValueError(
                f"unreadable date {text!r}: year {written.group()} would be misread as {parsed.year}"
            )
        return parsed
    from dateutil import parser as date_parser

    try:
        return date_parser.parse(text)
    except (ValueError, OverflowError) as exc:
        # Say why when the date is well formed but impossible ("year 0 is out of range").
        why = str(exc).split(": ", 1)[0]
        detail = f": {why}" if "out of range" in why else ""
        raise ValueError(f"unreadable date {text!r}{detail}") from exc


def _record_name(data: object) -> str:
    """A short human name for a record that failed validation."""
    if isinstance(data, dict):
        for key in ("id", "url", "title"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                text = value.strip()
                return f"{key}={text[:60]!r}"
    return "record"


def _translate(exc: pydantic.ValidationError, data: object, record: str | None) -> ValidationError:
    """Turn pydantic's error into ours: one line per problem, each naming its field."""
    name = record or _record_name(data)
    problems = []
    first_field = None
    for err in exc.errors():
        loc = ".".join(str(part) for part in err.get("loc", ())) or "(record)"
        first_field = first_field or loc
        msg = err.get("msg", "invalid")
        msg = msg.removeprefix("Value error, ")
        problems.append(f"field {loc!r}: {msg}")
    message = f"invalid {exc.title} ({name}): " + "; ".join(problems)
    return ValidationError(message, field=first_field, record=name)


_CONTEXT: ContextVar[tuple[str | None, int]] = ContextVar(
    "newsindex_validation", default=(None, DEFAULT_MAX_BODY_CHARS)
)


class _Model(BaseModel):
    """Base of our models: pydantic errors become :class:`ValidationError`."""

    model_config = ConfigDict(extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise _translate(exc, data, _CONTEXT.get()[0]) from exc

    @classmethod
    def parse(cls, data: object, *, record: str | None = None, max_body_chars: int | None = None) -> Self:
        """Validate a mapping; ``record`` names it in errors (e.g. ``"feed.jsonl:12"``).

        ``max_body_chars`` overrides the longest body accepted (default 1,000,000).
        """
        limit = body_limit(max_body_chars)
        if not isinstance(data, Mapping):
            where = f" ({record})" if record else ""
            raise ValidationError(
                f"invalid {cls.__name__}{where}: expected an object, got {type(data).__name__}",
                record=record,
            )
        token = _CONTEXT.set((record, limit))
        try:
            return cls(**{str(k): v for k, v in data.items()})
        finally:
            _CONTEXT.reset(token)


class Article(_Model):
    """One news article. ``id`` is derived from the content when not given (see :meth:`derive_id`)."""

    id: str = ""
    title: str | None = None
    body: str
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    language: str = "en"
    authors: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # numeric ids from JSON are common; keep them as text
        if isinstance(value, str):
            return value.strip()
        return value

    @field_validator("title", "url", "source", mode="before")
    @classmethod
    def _optional_text(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("id", "title", "url", "source")
    @classmethod
    def _bounded_text(cls, value: str | None, info: pydantic.ValidationInfo) -> str | None:
        if value is not None:
            _check_text(value, _TEXT_LIMITS[str(info.field_name)])
        return value

    @field_validator("body")
    @classmethod
    def _body_present(cls, value: str) -> str:
        if "\x00" in value:
            raise ValueError("contains NUL characters (binary data?)")
        if not value.strip():
            raise ValueError("is empty")
        _check_text(value, _CONTEXT.get()[1])
        return value

    @field_validator("published", mode="before")
    @classmethod
    def _published(cls, value: object) -> datetime | None:
        return parse_datetime(value)

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: object) -> object:
        if value is None:
            return "en"
        if isinstance(value, str):
            value = value.strip().lower()
            if not value:
                return "en"
            if len(value) > 35 or not all(ch.isalnum() or ch in "-_" for ch in value):
                raise ValueError(f"{value!r} is not a language code such as 'en' or 'pt-br'")
        return value

    @field_validator("authors", "tags", mode="before")
    @classmethod
    def _text_list(cls, value: object) -> object:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            return value  # pydantic reports the wrong type
        if len(value) > MAX_LIST_ITEMS:
            raise ValueError(f"has {len(value):,} items, more than the limit of {MAX_LIST_ITEMS:,}")
        items = []
        for number, item in enumerate(value, start=1):
            if item is None:
                continue
            # Numbers are fine as text (a tag "2024"); objects and lists would become their repr.
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise ValueError(f"item {number} is a {type(item).__name__}, not text")
            text = str(item).strip()
            if text:
                _check_text(text, MAX_LIST_ITEM_CHARS, f"item {number} ")
                items.append(text)
        return items

    @field_validator("metadata", mode="before")
    @classmethod
    def _bounded_metadata(cls, value: object) -> object:
        if isinstance(value, Mapping):
            _check_metadata(value, _CONTEXT.get()[1])
        return value

    @pydantic.model_validator(mode="after")
    def _derive_id(self) -> Article:
        if not self.id:
            self.id = self.derive_id()
        return self

    @field_serializer("published")
    def _published_z(self, value: datetime | None) -> str | None:
        return None if value is None else _format_utc(value)

    def derive_id(self) -> str:
        """The id this article gets when none is given: from the URL, else title + date + body.

        Deterministic, so adding the same article again updates it instead of duplicating it.
        """
        if self.url:
            basis = "url\x1f" + self.url
        else:
            stamp = self.published.isoformat() if self.published else ""
            basis = "\x1f".join(["text", self.title or "", stamp, self.body])
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]

    def content_hash(self) -> str:
        """Hash of what the embeddings depend on (title and body); equal hash, no re-encoding."""
        basis = "\x1f".join([self.title or "", self.body])
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()

    def record_hash(self) -> str:
        """Hash of every field; equal hash means re-adding changes nothing at all."""
        return hashlib.sha256(self.model_dump_json().encode("utf-8")).hexdigest()


class SearchHit(_Model):
    """One article found by :meth:`NewsIndex.search`, with its best passage."""

    rank: int
    score: float
    article: Article
    passage: str
    passage_start: int
    passage_end: int
    highlights: list[tuple[int, int]] = Field(default_factory=list)
    event_ids: list[str] = Field(default_factory=list)


#: Roles an actor plays in an event (DESIGN §2).
ActorRole = Literal["initiator", "target", "mediator", "participant", "victim", "source"]
#: How precisely an event date is known.
DatePrecision = Literal["day", "week", "month", "year"]

_Count = Annotated[int, Field(ge=0)]
# Event models have a field named ``date``, which would shadow the type inside their class bodies.
_Day = date


class Location(_Model):
    """A place an event happened, normalised against the gazetteer.

    ``name`` is the canonical name ("Kyiv"), ``mention`` the words the article used ("Kiev"), ``country``
    the ISO 3166-1 alpha-2 code.
    """

    name: str
    mention: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    admin1: str | None = None
    lat: float | None = Field(default=None, ge=-90.0, le=90.0)
    lon: float | None = Field(default=None, ge=-180.0, le=180.0)
    geonameid: int | None = None


class Actor(_Model):
    """Who took part in an event: a canonical ``name`` ("Russia"), its ``role`` and the words used."""

    name: str
    role: ActorRole
    mention: str


class Casualties(_Model):
    """People killed and injured. ``None`` means not reported; ``0`` means reported as none."""

    killed: _Count | None = None
    injured: _Count | None = None
    approximate: bool = False


class Quantity(_Model):
    """A counted thing in an event, e.g. 370 of ``item`` "drone" (singular noun)."""

    item: str
    count: _Count
    approximate: bool = False


class Evidence(_Model):
    """The words of an article that support an extracted fact: ``body[start:end] == text``."""

    article_id: str
    start: _Count
    end: _Count
    text: str

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, value: int, info: pydantic.ValidationInfo) -> int:
        start = info.data.get("start")
        if isinstance(start, int) and value < start:
            raise ValueError(f"end {value} is before start {start}")
        return value


class EventMention(_Model):
    """One happening as one article reports it.

    ``date`` is when it happened (resolved against the article's ``published``), not when it was
    reported; ``date_precision`` says how exactly it is known.
    """

    id: str
    article_id: str
    type: str
    subtype: str | None = None
    date: _Day | None = None
    date_precision: DatePrecision | None = None
    locations: list[Location] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    casualties: Casualties = Field(default_factory=Casualties)
    quantities: list[Quantity] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    summary: str = ""
    evidence: list[Evidence] = Field(default_factory=list)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class Event(_Model):
    """One real-world happening, merged from the mentions of every article that reports it."""

    id: str
    type: str
    subtype: str | None = None
    title: str = ""
    date: _Day | None = None
    end_date: _Day | None = None
    locations: list[Location] = Field(default_factory=list)
    actors: list[Actor] = Field(default_factory=list)
    casualties: Casualties = Field(default_factory=Casualties)
    quantities: list[Quantity] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)
    article_ids: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    mentions: list[EventMention] = Field(default_factory=list)
    first_reported: datetime | None = None
    last_reported: datetime | None = None

    @field_validator("first_reported", "last_reported", mode="before")
    @classmethod
    def _reported(cls, value: object) -> datetime | None:
        return parse_datetime(value)

    @field_serializer("first_reported", "last_reported")
    def _utc_z(self, value: datetime | None) -> str | None:
        return None if value is None else _format_utc(value)


class EventHit(_Model):
    """One event found by :meth:`NewsIndex.search_events`."""

    rank: int
    score: float
    event: Event


class Failure(_Model):
    """A record or file that could not be added: ``where`` (file, line or item) and ``reason``."""

    where: str
    reason: str

    @field_validator("reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        # Reports list one failure per line; a reason quoting a parser's multi-line message must not
        # break that.
        lines = value.splitlines()
        return value if lines == [value] else " ".join(line.strip() for line in lines if line.strip())

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class AddReport(_Model):
    """What :meth:`NewsIndex.add` did.

    ``skipped`` counts files a directory walk passed over on purpose (unknown types, ``README*``);
    ``skipped_items`` lists them with the reason. ``failed`` lists every record that could not be added.
    """

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: list[Failure] = Field(default_factory=list)
    skipped_items: list[Failure] = Field(default_factory=list)

    def merge(self, other: AddReport) -> None:
        """Add the counts and lists of ``other`` into this report."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.failed.extend(other.failed)
        self.skipped_items.extend(other.skipped_items)

    @property
    def ok(self) -> bool:
        """True when no record failed."""
        return not self.failed


class IndexStats(_Model):
    """Counts and settings of an index (``ix.stats()``, ``newsindex info --json``)."""

    path: str
    articles: int
    passages: int
    mentions: int
    events: int
    sources: int
    model: str
    dim: int
    vector_index: str
    #: recall@10 of the vector index against exact search: 1.0 when exact, else as measured when
    #: the approximate index was built (None when not recorded)
    vector_recall: float | None = None
    #: what computed the vectors, in order of first use: backend and precision, e.g.
    #: "openvino-bf16", "openvino-int8", "torch-float32" (empty when not recorded)
    engines: list[str] = []
    size_bytes: int
    format_version: int
    newsindex_version: str

    FIELDS: ClassVar[tuple[str, ...]] = (
        "path",
        "articles",
        "passages",
        "mentions",
        "events",
        "sources",
        "model",
        "dim",
        "vector_index",
        "vector_recall",
        "engines",
        "size_bytes",
        "format_version",
        "newsindex_version",
    )
