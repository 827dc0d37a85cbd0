"""The pipeline's data at every boundary, as pydantic v2 models.

NewsAPI payloads come in (:class:`NewsArticle`), items are stored
(:class:`Item`), SNS carries :class:`ItemMessage`, and the dashboard answers with
the ``*Response`` models. Times are UTC and serialised in one fixed format
(:func:`iso`), so that stored strings sort in time order: DynamoDB's sort keys
compare them as strings.

>>> a = NewsArticle.model_validate({
...     "source": {"id": None, "name": "Example"}, "title": "Good news",
...     "url": "https://example.com/a", "publishedAt": "2024-05-01T10:00:00Z"})
>>> item_key(a.source_key, a.url)[:5]
'ITEM#'
>>> label_for(0.05), label_for(-0.05), label_for(0.0)
(<Sentiment.POSITIVE: 'positive'>, <Sentiment.NEGATIVE: 'negative'>, <Sentiment.NEUTRAL: 'neutral'>)
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "REMOVED_TITLE",
    "AnalysisResult",
    "AnalysisSummary",
    "ErrorResponse",
    "HealthResponse",
    "IngestionRequest",
    "IngestionSummary",
    "Item",
    "ItemMessage",
    "ItemView",
    "ItemsResponse",
    "MetricsResponse",
    "NewsArticle",
    "NewsSource",
    "Sentiment",
    "SentimentScores",
    "Status",
    "StreamEvent",
    "analysis_text",
    "iso",
    "item_key",
    "label_for",
    "parse_time",
]

REMOVED_TITLE = "[Removed]"
"""NewsAPI's title for a retracted article: such articles are dropped."""

# The VADER paper's thresholds on the compound score (Hutto & Gilbert, ICWSM 2014;
# also the vaderSentiment README): >= 0.05 positive, <= -0.05 negative.
POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

# Pydantic builds a model's validator when the class is created unless told to
# wait: deferring it to first use keeps each handler's import (its cold start)
# from paying for the models only the other handlers use.
_DEFERRED = ConfigDict(defer_build=True)

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


_Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class SentimentScores(BaseModel):
    """A model's scores for one text: compound in [-1, 1], proportions in [0, 1]."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    compound: Annotated[float, Field(ge=-1.0, le=1.0)]
    positive: _Unit
    neutral: _Unit
    negative: _Unit

    @property
    def label(self) -> Sentiment:
        return label_for(self.compound)


# --- NewsAPI -------------------------------------------------------------------------


class NewsSource(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, str_strip_whitespace=True)

    id: str | None = None
    name: Annotated[str, Field(min_length=1, max_length=200)]


_Text = Annotated[str, Field(max_length=10_000)]


class NewsArticle(BaseModel):
    """One article of NewsAPI's ``articles`` array (documented shape, camelCase)."""

    model_config = ConfigDict(
        defer_build=True, frozen=True, populate_by_name=True, str_strip_whitespace=True
    )

    source: NewsSource
    author: _Text | None = None
    title: Annotated[str, Field(min_length=1, max_length=1_000)]
    description: _Text | None = None
    url: Annotated[str, Field(min_length=8, max_length=2_048)]
    url_to_image: Annotated[str | None, Field(alias="urlToImage")] = None
    published_at: Annotated[dt.datetime, Field(alias="publishedAt")]
    content: _Text | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if (
            scheme.lower() not in ("http", "https")
            or not sep
            or not rest
            or any(c.isspace() for c in value)
        ):
            raise ValueError("url must be an absolute http(s) URL without spaces")
        return value

    @field_validator("published_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    @property
    def source_key(self) -> str:
        """The source's stable identity: NewsAPI's id when it has one, else its name."""
        return self.source.id or self.source.name  # both stripped

    @property
    def removed(self) -> bool:
        return self.title == REMOVED_TITLE


class IngestionRequest(BaseModel):
    """What one ingestion run asks NewsAPI for.

    Defaults come from the environment (``NEWSAPI_*``); an EventBridge rule can
    override any field through the event's ``detail`` (one function, several
    schedules). The combinations NewsAPI refuses are refused here, before any
    request is spent (the free plan allows 100 a day).
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    endpoint: Literal["everything", "top-headlines"] = "everything"
    q: str | None = None
    sources: str | None = None
    domains: str | None = None
    language: str | None = None
    country: str | None = None
    category: str | None = None
    sort_by: Literal["relevancy", "popularity", "publishedAt"] | None = None
    page_size: Annotated[int, Field(ge=1, le=100)] = 100
    max_pages: Annotated[int, Field(ge=1, le=100)] = 1

    @model_validator(mode="after")
    def _combination(self) -> IngestionRequest:
        if self.endpoint == "everything":
            if not (self.q or self.sources or self.domains):
                raise ValueError("/v2/everything needs at least one of q, sources, domains")
            if self.country or self.category:
                raise ValueError("country and category exist only on /v2/top-headlines")
        else:
            if self.sources and (self.country or self.category):
                raise ValueError("/v2/top-headlines: sources cannot be mixed with country/category")
            if not (self.q or self.sources or self.country or self.category):
                raise ValueError("/v2/top-headlines needs one of q, sources, country, category")
            if self.domains or self.language or self.sort_by:
                raise ValueError("domains, language and sort_by exist only on /v2/everything")
        return self

    def params(self) -> dict[str, str]:
        """NewsAPI's query parameters for this request (without ``page``)."""
        names = {"sort_by": "sortBy"}
        fields = ("q", "sources", "domains", "language", "country", "category", "sort_by")
        out = {names.get(f, f): str(v) for f in fields if (v := getattr(self, f)) is not None}
        out["pageSize"] = str(self.page_size)
        return out


# --- the stored item and the SNS message -------------------------------------------------


def analysis_text(title: str, description: str | None, content: str | None) -> str:
    """The text the model scores: title and description (else the truncated content)."""
    body = description or (_TRUNCATION.sub("", content) if content else "")
    return f"{title}. {body}".strip() if body else title


class Item(BaseModel):
    """An article as stored in the table (one DynamoDB item).

    ``outbox`` is set until the item has been published to SNS: a sparse index
    on it finds the items an earlier failed publish left behind.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

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
    def from_article(cls, article: NewsArticle, *, now: dt.datetime, ttl_days: int) -> Item:
        """A new PENDING item for a validated article."""
        return cls(
            pk=item_key(article.source_key, article.url),
            source_id=article.source.id,
            source_name=article.source.name,
            url=article.url,
            title=article.title,
            description=article.description or None,
            content=article.content or None,
            author=article.author or None,
            image_url=article.url_to_image or None,
            published_at=iso(article.published_at),
            ingested_at=iso(now, micro=True),
            ttl=int((now + dt.timedelta(days=ttl_days)).timestamp()),
            outbox=True,
        )

    def message(self) -> ItemMessage:
        return ItemMessage(pk=self.pk, text=self.text, source=self.source_name, url=self.url)


class ItemMessage(BaseModel):
    """What ingestion publishes to SNS for each new item (the analysis input).

    It carries the text so that the analysis needs no read before its
    conditional write.
    """

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    version: int = 1
    pk: Annotated[str, Field(pattern=r"^ITEM#[0-9a-f]{64}$")]
    text: Annotated[str, Field(max_length=25_000)]
    source: str = ""
    url: str = ""


class AnalysisResult(BaseModel):
    """A model's verdict on one item, as written by the analysis."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    scores: SentimentScores
    sentiment: Sentiment
    model_name: str
    model_version: str
    analyzed_at: str


class IngestionSummary(BaseModel):
    """What the ingestion handler returns (and logs)."""

    model_config = _DEFERRED

    fetched: int = 0
    new: int = 0
    duplicate: int = 0
    failed: int = 0
    removed: int = 0
    published: int = 0
    republished: int = 0
    publish_failed: int = 0
    stopped: str | None = None


class AnalysisSummary(BaseModel):
    """What the analysis handler returns (and logs)."""

    model_config = _DEFERRED

    received: int = 0
    analyzed: int = 0
    duplicate: int = 0
    failed: int = 0
    retrying: list[str] = Field(default_factory=list)
    invalid: int = 0


# --- dashboard responses -----------------------------------------------------------------


class ErrorResponse(BaseModel):
    model_config = _DEFERRED

    error: str
    message: str


class HealthResponse(BaseModel):
    model_config = _DEFERRED

    status: str
    table: str
    environment: str


class ItemView(BaseModel):
    """An item as the dashboard shows it (no storage internals)."""

    model_config = _DEFERRED

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


class ItemsResponse(BaseModel):
    model_config = _DEFERRED

    items: list[ItemView]
    next_cursor: str | None


class MetricsResponse(BaseModel):
    model_config = _DEFERRED

    window_start: str
    window_end: str
    total: int
    by_sentiment: dict[str, int]
    by_status: dict[str, int]
    by_source: dict[str, int]
    by_hour: dict[str, dict[str, int]]


class StreamEvent(BaseModel):
    """One server-sent event: the item, with its cursor as the event id."""

    model_config = _DEFERRED

    id: str
    item: ItemView
