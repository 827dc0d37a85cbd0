"""Store new articles (conditional put) and publish what the store's outbox holds.

Delivery to SNS is at-least-once and the store is the source of truth:

1. each valid article becomes a PENDING item, written only if its key does not
   exist (``attribute_not_exists(pk)``): re-fetches and concurrent runs store
   it exactly once;
2. a new item enters the outbox (a sparse index) with its write;
3. the outbox is published in batches of 10 (SNS ``PublishBatch``'s maximum),
   and an item leaves it only once SNS accepted it. Items an earlier run failed
   to publish are therefore re-published by the next run. Two runs may both
   publish one item; the analysis' conditional update makes that harmless.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.ingestion.normalise import normalise
from sentiment_pipeline.logs import get_logger
from sentiment_pipeline.models import IngestionSummary, ItemMessage

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sentiment_pipeline.ports import ItemWriter, Publisher

__all__ = ["OUTBOX_LIMIT", "SNS_BATCH", "ingest", "publish_outbox"]

log = get_logger(__name__)

SNS_BATCH = 10
OUTBOX_LIMIT = 1_000
"""Outbox items published per run at most: bounds one run's time after a long SNS outage."""


def ingest(
    raw_articles: Iterable[object],
    writer: ItemWriter,
    publisher: Publisher,
    *,
    now: dt.datetime | None = None,
    ttl_days: int = 30,
) -> IngestionSummary:
    """Validate, store and announce a batch of raw NewsAPI articles; returns the counts.

    >>> from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository
    >>> article = {"source": {"id": "bbc-news", "name": "BBC News"}, "title": "Calm seas",
    ...            "url": "https://bbc.example/1", "publishedAt": "2024-05-01T10:00:00Z"}
    >>> repo, sns = InMemoryRepository(), InMemoryPublisher()
    >>> s = ingest([article, article, {"title": 1}], repo, sns)
    >>> s.fetched, s.new, s.duplicate, s.failed, s.published, len(sns.messages)
    (3, 1, 1, 1, 1, 1)
    """
    now = now or dt.datetime.now(dt.UTC)
    raw = list(raw_articles)
    normalised = normalise(raw)
    summary = IngestionSummary(fetched=len(raw), removed=normalised.removed)
    for index, reason in normalised.invalid:
        log.warning("invalid article dropped", extra={"index": index, "reason": reason})
    summary.failed = len(normalised.invalid)
    new_keys: set[str] = set()
    for article in normalised.valid:
        item = article.to_item(now=now, ttl_days=ttl_days)
        try:
            stored = writer.put_new(item)
        except PipelineError as error:
            log.error("could not store article", extra={"pk": item.pk, "error": str(error)})
            summary.failed += 1
            continue
        if stored:
            summary.new += 1
            new_keys.add(item.pk)
        else:
            summary.duplicate += 1
    published, failed = publish_outbox(writer, publisher)
    summary.published = len(published & new_keys)
    summary.republished = len(published - new_keys)
    summary.publish_failed = failed
    return summary


def publish_outbox(writer: ItemWriter, publisher: Publisher) -> tuple[set[str], int]:
    """Publish the outbox in batches of 10; returns (keys published, failures)."""
    published: set[str] = set()
    failed = 0
    try:
        waiting = writer.unpublished(OUTBOX_LIMIT)
    except PipelineError as error:
        log.error("could not read the outbox", extra={"error": str(error)})
        return published, failed
    for start in range(0, len(waiting), SNS_BATCH):
        batch = [ItemMessage.of(item) for item in waiting[start : start + SNS_BATCH]]
        accepted = publisher.publish_batch(batch)
        failed += len(batch) - len(accepted)
        if accepted:
            try:
                writer.mark_published(sorted(accepted))
            except PipelineError as error:
                # Still in the outbox: the next run publishes them again, which
                # the analysis' conditional update makes harmless.
                log.error("could not clear the outbox", extra={"error": str(error)})
            published |= accepted
    if failed:
        log.warning("some items were not published; the next run retries", extra={"failed": failed})
    return published, failed
