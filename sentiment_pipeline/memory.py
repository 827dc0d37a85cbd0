"""In-memory implementations of the ports (:mod:`sentiment_pipeline.ports`).

They keep the same conditional semantics as the DynamoDB adapter (a put never
overwrites, an analysis only moves a PENDING item), so the domain tests and the
analysis benchmark exercise the real plumbing without a server. Thread-safe:
concurrent ingestions can share one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from .cursors import decode_cursor, encode_cursor
from .errors import SecretUnavailableError
from .models import Item, Status
from .ports import ItemQuery, MetricRow

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from .models import AnalysisResult, ItemMessage

__all__ = ["InMemoryPublisher", "InMemoryRepository", "InMemorySecrets"]


def matches(item: Item, query: ItemQuery) -> bool:
    """Whether an item passes the dashboard's filters (the DynamoDB filter's twin)."""
    return (
        (query.status is None or item.status == query.status)
        and (query.sentiment is None or item.sentiment == query.sentiment)
        and (query.source is None or query.source in (item.source_name, item.source_id))
        and (query.since is None or item.published_at >= query.since)
    )


class InMemoryRepository:
    """A dict of items behind a lock; implements ItemWriter, AnalysisStore and ItemReader."""

    def __init__(self, name: str = "memory") -> None:
        self._name = name
        self._items: dict[str, Item] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def items(self) -> Mapping[str, Item]:
        with self._lock:
            return dict(self._items)

    # ItemWriter
    def put_new(self, item: Item) -> bool:
        with self._lock:
            if item.pk in self._items:
                return False
            self._items[item.pk] = item
            return True

    def unpublished(self, limit: int) -> list[Item]:
        with self._lock:
            waiting = [i for i in self._items.values() if i.outbox]
        return sorted(waiting, key=lambda i: i.stream_cursor)[:limit]

    def mark_published(self, pks: Sequence[str]) -> None:
        with self._lock:
            for pk in pks:
                if pk in self._items:
                    self._items[pk] = self._items[pk].model_copy(update={"outbox": False})

    # AnalysisStore
    def complete_analysis(self, pk: str, result: AnalysisResult) -> bool:
        with self._lock:
            item = self._items.get(pk)
            if item is None or item.status is not Status.PENDING:
                return False
            self._items[pk] = item.model_copy(
                update={
                    "status": Status.ANALYZED,
                    "sentiment": result.sentiment,
                    "scores": result.scores,
                    "model_name": result.model_name,
                    "model_version": result.model_version,
                    "analyzed_at": result.analyzed_at,
                    "analyses": item.analyses + 1,
                    "failure_reason": None,
                }
            )
            return True

    def record_failure(self, pk: str, reason: str, *, max_attempts: int) -> Status | None:
        with self._lock:
            item = self._items.get(pk)
            if item is None or item.status is not Status.PENDING:
                return None
            attempts = item.attempts + 1
            status = Status.FAILED if attempts >= max_attempts else Status.PENDING
            self._items[pk] = item.model_copy(
                update={"attempts": attempts, "failure_reason": reason, "status": status}
            )
            return status

    # ItemReader
    def ping(self) -> None:
        return None

    def query_items(
        self, query: ItemQuery, *, limit: int, cursor: str | None
    ) -> tuple[list[Item], str | None]:
        with self._lock:
            ordered = sorted(
                (i for i in self._items.values() if matches(i, query)),
                key=lambda i: (i.published_at, i.pk),
                reverse=True,
            )
        if cursor is not None:
            key = decode_cursor(cursor, ("published_at", "pk"))
            after = (key["published_at"], key["pk"])
            ordered = [i for i in ordered if (i.published_at, i.pk) < after]
        page = ordered[:limit]
        more = len(ordered) > limit
        next_cursor = (
            encode_cursor({"published_at": page[-1].published_at, "pk": page[-1].pk})
            if more
            else None
        )
        return page, next_cursor

    def items_after(self, stream_cursor: str, *, limit: int) -> list[Item]:
        with self._lock:
            newer = [i for i in self._items.values() if i.stream_cursor > stream_cursor]
        return sorted(newer, key=lambda i: i.stream_cursor)[:limit]

    def latest_stream_cursor(self) -> str | None:
        with self._lock:
            return max((i.stream_cursor for i in self._items.values()), default=None)

    def metric_rows(self, since: str) -> Iterator[MetricRow]:
        with self._lock:
            items = list(self._items.values())
        for item in items:
            if item.published_at >= since:
                sentiment = item.sentiment.value if item.sentiment else None
                yield MetricRow(item.published_at, item.source_name, item.status.value, sentiment)


class InMemoryPublisher:
    """Records published messages; ``fail`` makes the next batches fail (outage simulation)."""

    def __init__(self) -> None:
        self.messages: list[ItemMessage] = []
        self.fail = False
        self._lock = threading.Lock()

    def publish_batch(self, messages: Sequence[ItemMessage]) -> set[str]:
        if len(messages) > 10:
            raise ValueError("SNS PublishBatch takes at most 10 entries")
        if self.fail:
            return set()
        with self._lock:
            self.messages.extend(messages)
        return {m.pk for m in messages}


class InMemorySecrets:
    """A mapping of secret ids to values; a missing id is unavailable, as in Secrets Manager."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        self.reads = 0

    def get_secret(self, secret_id: str) -> str:
        self.reads += 1
        try:
            return self.values[secret_id]
        except KeyError:
            raise SecretUnavailableError(secret_id, "no such secret") from None
