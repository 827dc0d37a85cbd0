"""The dashboard's queries: pure functions over an :class:`~sentiment_pipeline.ports.ItemReader`.

>>> import datetime as dt
>>> from sentiment_pipeline.memory import InMemoryRepository
>>> now = dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)
>>> m = metrics(InMemoryRepository(), now=now, hours=2)
>>> m.total, sorted(m.by_hour)
(0, ['2024-05-01T11:00:00Z', '2024-05-01T12:00:00Z'])
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import InvalidCursorError
from sentiment_pipeline.records import (
    HealthResponse,
    ItemsResponse,
    ItemView,
    MetricsResponse,
    Sentiment,
    Status,
    StreamEvent,
    iso,
    parse_time,
    to_json,
)

if TYPE_CHECKING:
    from sentiment_pipeline.ports import ItemQuery, ItemReader

__all__ = [
    "NOT_ANALYZED",
    "health",
    "list_items",
    "metrics",
    "sse_body",
    "stream",
    "stream_cursor",
]

NOT_ANALYZED = "none"
"""The sentiment key counting items without a sentiment yet (PENDING or FAILED)."""

_CURSOR = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#ITEM#[0-9a-f]{64}$")


def health(reader: ItemReader, environment: str) -> HealthResponse:
    """Raises StorageUnavailableError when the table cannot be reached."""
    reader.ping()
    return HealthResponse(status="ok", table=reader.name, environment=environment)


def list_items(
    reader: ItemReader, query: ItemQuery, *, limit: int, cursor: str | None
) -> ItemsResponse:
    items, next_cursor = reader.query_items(query, limit=limit, cursor=cursor)
    return ItemsResponse(items=[ItemView.of(i) for i in items], next_cursor=next_cursor)


def _hour(moment: dt.datetime) -> str:
    return iso(moment.replace(minute=0, second=0, microsecond=0))


def metrics(reader: ItemReader, *, now: dt.datetime, hours: int) -> MetricsResponse:
    """Counts per sentiment, status, source and hour bucket of items published in the window.

    The window is the last ``hours`` whole hours including the current one;
    every bucket is present, zeros included, so a chart needs no gap filling.
    """
    now = now.astimezone(dt.UTC)
    first = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours - 1)
    start = iso(first)
    buckets = [_hour(first + dt.timedelta(hours=h)) for h in range(hours)]
    labels = [s.value for s in Sentiment] + [NOT_ANALYZED]
    by_hour = {bucket: dict.fromkeys(labels, 0) for bucket in buckets}
    by_sentiment: Counter[str] = Counter(dict.fromkeys(labels, 0))
    by_status: Counter[str] = Counter({s.value: 0 for s in Status})
    by_source: Counter[str] = Counter()
    total = 0
    end = iso(now)
    for row in reader.metric_rows(start):
        if row.published_at > end:  # clock skew or NewsAPI dating ahead: outside the window
            continue
        label = row.sentiment or NOT_ANALYZED
        total += 1
        by_sentiment[label] += 1
        by_status[row.status] += 1
        by_source[row.source] += 1
        bucket = row.published_at[:13] + ":00:00Z"
        if bucket in by_hour:
            by_hour[bucket][label] = by_hour[bucket].get(label, 0) + 1
    return MetricsResponse(
        window_start=start,
        window_end=end,
        total=total,
        by_sentiment=dict(by_sentiment),
        by_status=dict(by_status),
        by_source=dict(by_source.most_common()),
        by_hour=by_hour,
    )


def stream_cursor(value: str) -> str:
    """A stream position from a ``Last-Event-ID``/``since`` value: a cursor or an ISO time.

    A time means "items ingested after it". Anything else is InvalidCursorError.
    """
    text = value.strip()
    if _CURSOR.match(text):
        return text
    try:
        moment = parse_time(text)
    except ValueError:
        raise InvalidCursorError(value) from None
    return iso(moment, micro=True)


def stream(reader: ItemReader, cursor: str | None, *, limit: int) -> tuple[list[StreamEvent], str]:
    """Events after ``cursor`` (oldest first) and the cursor to resume from.

    Without a cursor nothing is replayed: the stream starts at the newest item
    (the dashboard loads the current list from ``/api/items``).
    """
    if cursor is None:
        latest = reader.latest_stream_cursor()
        return [], latest or iso(dt.datetime.now(dt.UTC), micro=True)
    items = reader.items_after(cursor, limit=limit)
    events = [StreamEvent(id=i.stream_cursor, item=ItemView.of(i)) for i in items]
    return events, (events[-1].id if events else cursor)


def sse_body(events: list[StreamEvent], *, resume: str, retry_ms: int, started: bool) -> str:
    """A buffered ``text/event-stream`` body: the events, then ``retry:``.

    Lambda's Python runtimes cannot stream a response, so each request returns
    what is new and ends; ``retry`` tells EventSource when to reconnect, and it
    sends the last ``id:`` back as ``Last-Event-ID``. When the client had no
    position yet, a ``ready`` event carries one.
    """
    parts = []
    if not started:
        parts.append(f"id: {resume}\nevent: ready\ndata: {json.dumps({'cursor': resume})}\n\n")
    for event in events:
        data = to_json(event.item)
        parts.append(f"id: {event.id}\nevent: item\ndata: {data}\n\n")
    parts.append(f"retry: {retry_ms}\n\n")
    return "".join(parts)
