"""The bundled sample of NewsAPI-shaped articles, released over time.

``sample_articles.json`` holds original, fictional articles in NewsAPI's shape
(two ``[Removed]`` entries and one duplicate included, as NewsAPI sends them).
:class:`SampleFeed` dates them relative to when it started: the first
``initial`` are spread over the previous hours (so the dashboard's chart has a
history), the others are published one every ``release_every`` seconds, so
each scheduled ingestion finds something new and the page updates live.
:meth:`SampleFeed.release_next` publishes the next ones at once; :attr:`SampleFeed.served`
counts the articles NewsAPI answers have shown, so a caller can tell how many an
ingestion saw for the first time (released on demand or over time).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["SAMPLE_KEY", "SampleFeed", "sample_articles"]

SAMPLE_KEY = "local-sample-newsapi-key"
"""The key the local sample NewsAPI expects (it is no secret: it opens nothing real)."""

_FILE = Path(__file__).with_name("sample_articles.json")


def sample_articles() -> list[dict[str, Any]]:
    articles: list[dict[str, Any]] = json.loads(_FILE.read_text(encoding="utf-8"))
    return articles


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SampleFeed:
    """Callable: the articles published so far, newest first (NewsAPI sorts by ``publishedAt``)."""

    def __init__(
        self,
        *,
        started: dt.datetime | None = None,
        initial: int = 30,
        history_hours: float = 20.0,
        release_every: float = 20.0,
        articles: list[dict[str, Any]] | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
    ) -> None:
        self._clock = clock
        """The current time (a test's own clock releases articles without waiting)."""
        self.started = started or clock()
        self.release_every = release_every
        base = articles if articles is not None else sample_articles()
        spacing = dt.timedelta(hours=history_hours) / max(initial, 1)
        self._dated: list[tuple[dt.datetime, dict[str, Any]]] = []
        for index, article in enumerate(base):
            if index < initial:
                moment = self.started - spacing * (initial - index)
            else:
                moment = self.started + dt.timedelta(seconds=release_every * (index - initial + 1))
            self._dated.append((moment, {**article, "publishedAt": _iso(moment)}))
        self._served: set[int] = set()
        self._lock = threading.Lock()

    def release_next(self, count: int = 1) -> int:
        """Publish the next ``count`` waiting articles now, as breaking stories; how many were."""
        now = self._clock()
        with self._lock:
            waiting = sorted(
                (i for i, (moment, _) in enumerate(self._dated) if moment > now),
                key=lambda i: self._dated[i][0],
            )[:count]
            for i in waiting:
                self._dated[i] = (now, {**self._dated[i][1], "publishedAt": _iso(now)})
        return len(waiting)

    def __call__(self) -> list[dict[str, Any]]:
        now = self._clock()
        with self._lock:
            visible = [i for i, (moment, _) in enumerate(self._dated) if moment <= now]
            self._served.update(visible)
            released = [self._dated[i] for i in visible]
        released.sort(key=lambda pair: pair[0], reverse=True)
        return [article for _, article in released]

    @property
    def served(self) -> int:
        """How many distinct articles the answers so far have included: the difference
        across an ingestion is what it saw for the first time."""
        with self._lock:
            return len(self._served)

    @property
    def remaining(self) -> int:
        now = self._clock()
        with self._lock:
            return sum(1 for moment, _ in self._dated if moment > now)
