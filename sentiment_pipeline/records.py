"""The pipeline's records without pydantic: the stored item, scores, and the dashboard's answers.

What the store holds (:class:`Item`), what a model returns (:class:`SentimentScores`),
what an analysis writes (:class:`AnalysisResult`) and what the dashboard answers
(the ``*Response`` classes) are frozen or slotted dataclasses. They are validated
where data crosses a boundary: :meth:`Item.from_dict` checks what is read back
from the table, :class:`SentimentScores` checks what a model returns. The
boundaries with outside data (NewsAPI articles, SNS messages, ingestion
requests) are pydantic models in :mod:`sentiment_pipeline.models`, which also
convert between themselves and these records; this module never imports them.

Keeping pydantic out of this module keeps it out of the dashboard's cold start:
the dashboard only reads items and answers JSON (measured in
``benchmarks/bench_coldstart.py``: pydantic's import and first schema builds
cost about 50 ms of a cold start).

Times are UTC and serialised in one fixed format (:func:`iso`), so that stored
strings sort in time order: DynamoDB's sort keys compare them as strings.

>>> item_key("bbc-news", "https://example.com/a")[:5]
'ITEM#'
>>> label_for(0.05), label_for(-0.05), label_for(0.0)
(<Sentiment.POSITIVE: 'positive'>, <Sentiment.NEGATIVE: 'negative'>, <Sentiment.NEUTRAL: 'neutral'>)
>>> to_json(HealthResponse(status="ok", table="items", environment="dev"))
'{"status":"ok","table":"items","environment":"dev"}'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "AnalysisResult",
    "ErrorResponse",
    "HealthResponse",
    "Item",
    "ItemView",
    "ItemsResponse",
    "MetricsResponse",
    "Sentiment",
    "SentimentScores",
    "Status",
    "StreamEvent",
    "analysis_text",
    "iso",
    "item_key",
    "label_for",
    "parse_time",
    "plain",
    "to_json",
]

# The VADER paper's thresholds on the compound score (Hutto & Gilbert, ICWSM 2014;
# also the vaderSentiment README): >= 0.05 positive, <= -0.05 negative.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

_TRUNCATION = re.compile(r"\s*\[\+\d+ chars\]\s*$")


def iso(moment: dt.datetime, *, micro: bool = False) -> str:
    """The one stored time format: UTC, ``Z`` suffix, fixed width (sorts as text)."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    """Parse ISO-8601 (``Z`` or an offset; a naive time is taken as UTC).

    Raises ``ValueError`` for anything else.
    """
    value = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def item_key(source: str, url: str) -> str:
    """The item's partition key: ``ITEM#`` + sha256 of source and URL.

    Keyed on the article, not on a delivery: re-fetching or re-publishing the
    same article always gives the same key, which is what makes the writes
    idempotent.
    """
    digest = hashlib.sha256(f"{source}\n{url}".encode()).hexdigest()
    return f"ITEM#{digest}"


def analysis_text(title: str, description: str | None, content: str | None) -> str:
    """The text the model scores: title and description (else the truncated content)."""
    body = description or (_TRUNCATION.sub("", content) if content else "")
    return f"{title}. {body}".strip() if body else title


class Status(enum.StrEnum):
    """Where an item is in the pipeline."""

    PENDING = "PENDING"
    ANALYZED = "ANALYZED"
    FAILED = "FAILED"


class Sentiment(enum.StrEnum):
    """The label derived from the compound score."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    NEUTRAL = "neutral"


def label_for(compound: float) -> Sentiment:
    """Label a compound score with the VADER paper's +-0.05 thresholds."""
    if compound >= POSITIVE_THRESHOLD:
        return Sentiment.POSITIVE
    if compound <= NEGATIVE_THRESHOLD:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


# --- checks of stored values (pydantic's lax mode, minus numeric strings) -----------------


def _number(name: str, value: object) -> float:
    if type(value) is float:
        return value
    if not isinstance(value, bool | str | bytes):
        try:
            return float(value)  # type: ignore[arg-type]  # int, numpy scalars, Decimal...
        except (TypeError, ValueError):
            pass
    raise ValueError(f"{name} must be a number, not {type(value).__name__}")


def _text(data: Mapping[str, object], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _optional_text(data: Mapping[str, object], name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string or null, not {type(value).__name__}")
    return value


def _integer(data: Mapping[str, object], name: str, default: int | None = None) -> int:
    value = data.get(name, default)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, not {type(value).__name__}")
    return value


_SCORES = ("compound", "positive", "neutral", "negative")


@dataclass(frozen=True, slots=True)
class SentimentScores:
    """A model's scores for one text: compound in [-1, 1], proportions in [0, 1].

    Checked on construction, so a model returning out-of-range scores fails
    that item's analysis instead of storing them.

    >>> SentimentScores(0.5, 0.3, 0.7, 0.0).label
    <Sentiment.POSITIVE: 'positive'>
    >>> SentimentScores(1.5, 0.0, 1.0, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: compound must be in [-1, 1], not 1.5
    """

    compound: float
    positive: float
    neutral: float
    negative: float

    def __post_init__(self) -> None:
        c, p, u, n = self.compound, self.positive, self.neutral, self.negative
        if not type(c) is type(p) is type(u) is type(n) is float:  # ints, numpy scalars...
            c, p, u, n = (_number(f, getattr(self, f)) for f in _SCORES)
            for name, value in zip(_SCORES, (c, p, u, n), strict=True):
                object.__setattr__(self, name, value)
        if not (-1.0 <= c <= 1.0 and 0.0 <= p <= 1.0 and 0.0 <= u <= 1.0 and 0.0 <= n <= 1.0):
            # (NaN fails every comparison, so it is rejected too)
            if not -1.0 <= c <= 1.0:
                raise ValueError(f"compound must be in [-1, 1], not {c!r}")
            for name, value in zip(_SCORES[1:], (p, u, n), strict=True):
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"{name} must be in [0, 1], not {value!r}")

    @property
    def label(self) -> Sentiment:
        return label_for(self.compound)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SentimentScores:
        """From a stored map; unknown or missing keys are an error."""
        if set(data) != set(_SCORES):
            raise ValueError(f"scores must have exactly the keys {', '.join(_SCORES)}")
        return cls(*(data[name] for name in _SCORES))  # type: ignore[arg-type]  # checked above


# --- the stored item --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """An article as stored in the table (one DynamoDB item).

    A new one is made from a validated article by
    :meth:`sentiment_pipeline.models.NewsArticle.to_item`. ``outbox`` is set until
    the item has been published to SNS: a sparse index on it finds the items an
    earlier failed publish left behind. Change one with :func:`dataclasses.replace`.
    """

    pk: str
    source_id: str | None = None
    source_name: str
    url: str
    title: str
    description: str | None = None
    content: str | None = None
    author: str | None = None
    image_url: str | None = None
    published_at: str
    ingested_at: str
    ttl: int
    status: Status = Status.PENDING
    sentiment: Sentiment | None = None
    scores: SentimentScores | None = None
    model_name: str | None = None
    model_version: str | None = None
    analyzed_at: str | None = None
    attempts: int = 0
    analyses: int = 0
    failure_reason: str | None = None
    outbox: bool = False

    @property
    def stream_cursor(self) -> str:
        """The item's position in the live stream: ingestion time, then key (unique, sortable)."""
        return f"{self.ingested_at}#{self.pk}"

    @property
    def text(self) -> str:
        return analysis_text(self.title, self.description, self.content)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Item:
        """An item from stored data (the table's attributes as plain values), checked.

        Unknown keys are ignored; a missing required field, a value of the wrong
        type or an unknown status or sentiment raises ``ValueError``.

        >>> Item.from_dict({"pk": "ITEM#1", "source_name": "S", "url": "u", "title": "t",
        ...                 "published_at": "p", "ingested_at": "i", "ttl": 1}).status
        <Status.PENDING: 'PENDING'>
        """
        status = data.get("status", Status.PENDING)
        sentiment = data.get("sentiment")
        if not isinstance(status, str) or not isinstance(sentiment, str | None):
            raise ValueError("status and sentiment must be strings")
        scores = data.get("scores")
        if scores is not None and not isinstance(scores, SentimentScores):
            if not isinstance(scores, dict):
                raise ValueError(f"scores must be a map, not {type(scores).__name__}")
            scores = SentimentScores.from_dict(scores)
        outbox = data.get("outbox", False)
        if not isinstance(outbox, bool):
            raise ValueError(f"outbox must be a boolean, not {type(outbox).__name__}")
        return cls(
            pk=_text(data, "pk"),
            source_id=_optional_text(data, "source_id"),
            source_name=_text(data, "source_name"),
            url=_text(data, "url"),
            title=_text(data, "title"),
            description=_optional_text(data, "description"),
            content=_optional_text(data, "content"),
            author=_optional_text(data, "author"),
            image_url=_optional_text(data, "image_url"),
            published_at=_text(data, "published_at"),
            ingested_at=_text(data, "ingested_at"),
            ttl=_integer(data, "ttl"),
            status=Status(status),
            sentiment=None if sentiment is None else Sentiment(sentiment),
            scores=scores,
            model_name=_optional_text(data, "model_name"),
            model_version=_optional_text(data, "model_version"),
            analyzed_at=_optional_text(data, "analyzed_at"),
            attempts=_integer(data, "attempts", 0),
            analyses=_integer(data, "analyses", 0),
            failure_reason=_optional_text(data, "failure_reason"),
            outbox=outbox,
        )

    def to_dict(self) -> dict[str, Any]:
        """Every field as a JSON value (enums as their values, scores as a map)."""
        data: dict[str, Any] = plain(self)  # type: ignore[assignment]  # a dataclass: a dict
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisResult:
    """A model's verdict on one item, as written by the analysis."""

    scores: SentimentScores
    sentiment: Sentiment
    model_name: str
    model_version: str
    analyzed_at: str


# --- dashboard answers -------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class ErrorResponse:
    error: str
    message: str


@dataclass(slots=True, kw_only=True)
class HealthResponse:
    status: str
    table: str
    environment: str


@dataclass(slots=True, kw_only=True)
class ItemView:
    """An item as the dashboard shows it (no storage internals)."""

    id: str
    source: str
    source_id: str | None
    url: str
    title: str
    description: str | None
    published_at: str
    ingested_at: str
    status: Status
    sentiment: Sentiment | None
    scores: SentimentScores | None
    model: str | None
    failure_reason: str | None

    @classmethod
    def of(cls, item: Item) -> ItemView:
        model = f"{item.model_name}/{item.model_version}" if item.model_name else None
        return cls(
            id=item.pk.removeprefix("ITEM#"),
            source=item.source_name,
            source_id=item.source_id,
            url=item.url,
            title=item.title,
            description=item.description,
            published_at=item.published_at,
            ingested_at=item.ingested_at,
            status=item.status,
            sentiment=item.sentiment,
            scores=item.scores,
            model=model,
            failure_reason=item.failure_reason,
        )


@dataclass(slots=True, kw_only=True)
class ItemsResponse:
    items: list[ItemView]
    next_cursor: str | None


@dataclass(slots=True, kw_only=True)
class MetricsResponse:
    window_start: str
    window_end: str
    total: int
    by_sentiment: dict[str, int]
    by_status: dict[str, int]
    by_source: dict[str, int]
    by_hour: dict[str, dict[str, int]]


@dataclass(slots=True, kw_only=True)
class StreamEvent:
    """One server-sent event: the item, with its cursor as the event id."""

    id: str
    item: ItemView


def plain(value: object) -> object:
    """A record as JSON values: dataclasses as maps (in field order), enums as their values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def to_json(value: object) -> str:
    """Compact JSON of a record (UTF-8 text, as pydantic's ``model_dump_json`` wrote it)."""
    return json.dumps(plain(value), ensure_ascii=False, separators=(",", ":"))
