"""The pipeline's boundaries with outside data: pydantic models, and their records.

NewsAPI payloads come in (:class:`NewsArticle`), an ingestion run is asked for
with an :class:`IngestionRequest`, and SNS carries :class:`ItemMessage`. These
models validate what comes from outside, and convert to and from the records
the pipeline keeps inside (:mod:`sentiment_pipeline.records`: the stored item,
scores, dashboard answers), which never import pydantic: the dashboard, which
needs only those, answers without it.

>>> import datetime as dt
>>> a = NewsArticle.model_validate({
...     "source": {"id": None, "name": "Example"}, "title": "Good news",
...     "url": "https://example.com/a", "publishedAt": "2024-05-01T10:00:00Z"})
>>> item = a.to_item(now=dt.datetime(2024, 5, 1, 11, tzinfo=dt.UTC), ttl_days=30)
>>> item.pk[:5], item.published_at, item.outbox
('ITEM#', '2024-05-01T10:00:00Z', True)
>>> ItemMessage.of(item).text
'Good news'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from sentiment_pipeline.records import Item, iso, item_key

__all__ = [
    "REMOVED_TITLE",
    "AnalysisSummary",
    "IngestionRequest",
    "IngestionSummary",
    "ItemMessage",
    "NewsArticle",
    "NewsSource",
]

REMOVED_TITLE = "[Removed]"
"""NewsAPI's title for a retracted article: such articles are dropped."""

# Pydantic builds a model's validator when the class is created unless told to
# wait: deferring it to first use keeps each handler's import (its cold start)
# from paying for the models only the other handlers use.
_DEFERRED = ConfigDict(defer_build=True)


# --- NewsAPI -------------------------------------------------------------------------


def _strip(value: object) -> object:
    # Python's idea of whitespace (str.strip), which also covers the C0 separators
    # \x1c-\x1f that pydantic's own stripping keeps: a title of "\x1f" is blank.
    return value.strip() if isinstance(value, str) else value


_Stripped = BeforeValidator(_strip)


class NewsSource(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, str_strip_whitespace=True)

    id: Annotated[str | None, _Stripped] = None
    name: Annotated[str, _Stripped, Field(min_length=1, max_length=200)]


_Text = Annotated[str, Field(max_length=10_000)]


class NewsArticle(BaseModel):
    """One article of NewsAPI's ``articles`` array (documented shape, camelCase)."""

    model_config = ConfigDict(
        defer_build=True, frozen=True, populate_by_name=True, str_strip_whitespace=True
    )

    source: NewsSource
    author: _Text | None = None
    title: Annotated[str, _Stripped, Field(min_length=1, max_length=1_000)]
    description: _Text | None = None
    url: Annotated[str, _Stripped, Field(min_length=8, max_length=2_048)]
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

    def to_item(self, *, now: dt.datetime, ttl_days: int) -> Item:
        """A new PENDING item for this article, in the ingestion's outbox."""
        return Item(
            pk=item_key(self.source_key, self.url),
            source_id=self.source.id,
            source_name=self.source.name,
            url=self.url,
            title=self.title,
            description=self.description or None,
            content=self.content or None,
            author=self.author or None,
            image_url=self.url_to_image or None,
            published_at=iso(self.published_at),
            ingested_at=iso(now, micro=True),
            ttl=int((now + dt.timedelta(days=ttl_days)).timestamp()),
            outbox=True,
        )


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


# --- the SNS message and the handlers' summaries ------------------------------------------


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

    @classmethod
    def of(cls, item: Item) -> ItemMessage:
        """What ingestion publishes to SNS for ``item``."""
        return cls(pk=item.pk, text=item.text, source=item.source_name, url=item.url)


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


@dataclass(slots=True)
class AnalysisSummary:
    """What the analysis handler returns (and logs): :meth:`counts`, and the keys to retry."""

    received: int = 0
    analyzed: int = 0
    duplicate: int = 0
    failed: int = 0
    retrying: list[str] = field(default_factory=list)
    invalid: int = 0

    def counts(self) -> dict[str, Any]:
        """The counts (everything but ``retrying``), as the handler returns them."""
        return {
            "received": self.received,
            "analyzed": self.analyzed,
            "duplicate": self.duplicate,
            "failed": self.failed,
            "invalid": self.invalid,
        }
