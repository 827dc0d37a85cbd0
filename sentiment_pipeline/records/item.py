"""The stored item: its key, its status, its checks, and the one stored time format.

:class:`Item` is one DynamoDB item; :meth:`Item.from_dict` checks what is read
back from the table (pydantic's lax mode, minus numeric strings). Times are UTC
and serialised in one fixed format (:func:`iso`), so that stored strings sort
in time order: DynamoDB's sort keys compare them as strings.

>>> item_key("bbc-news", "https://example.com/a")[:5]
'ITEM#'
>>> iso(parse_time("2024-05-01T12:00:00+02:00"))
'2024-05-01T10:00:00Z'
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.records.scores import Sentiment, SentimentScores
from sentiment_pipeline.records.serialise import plain

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Item", "Status", "analysis_text", "iso", "item_key", "parse_time"]

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


# --- checks of stored values (pydantic's lax mode, minus numeric strings) -----------------


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
