"""The ingestion Lambda's triggers, locally: the EventBridge schedule, and runs on demand.

In AWS an EventBridge rule invokes the ingestion Lambda on a schedule. Here a
timer does (:meth:`IngestionSchedule.run`, every ``every`` seconds) and
:meth:`~IngestionSchedule.ingest` runs it now (``POST /_local/ingest``, the
first ingestion at start); runs never overlap. With the bundled sample as
NewsAPI (``feed``), a run on demand may first release more sample articles
(:meth:`~IngestionSchedule.ingest_releasing`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.local.awsevents import scheduled_event
from sentiment_pipeline.local.runner import RunnerError
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.local.runner import Invocation
    from sentiment_pipeline.local.sample import SampleFeed

__all__ = ["IngestionSchedule"]

log = get_logger(__name__)


class IngestionSchedule:
    """Runs ``invoke`` (the ingestion Lambda) with scheduled events, one run at a time.

    ``changed`` is called after every run (the table may have changed); ``stop``
    ends the schedule.
    """

    def __init__(
        self,
        invoke: Callable[[dict[str, Any]], Invocation],
        *,
        every: float,
        stop: threading.Event,
        changed: Callable[[], None],
    ) -> None:
        self.feed: SampleFeed | None = None
        """The bundled sample served as NewsAPI, if it is."""
        self._invoke = invoke
        self._every = every
        self._stop = stop
        self._changed = changed
        self._lock = threading.RLock()  # re-entered: release-and-ingest is one step

    def ingest(self, detail: dict[str, Any] | None = None) -> Invocation:
        """Run the ingestion Lambda now with a scheduled event (one run at a time)."""
        event = scheduled_event()
        if detail:
            event["detail"] = detail
        with self._lock:
            invocation = self._invoke(event)
        self._changed()
        return invocation

    def ingest_releasing(self, release: int | None) -> tuple[Invocation, int, int | None]:
        """Release ``release`` more sample articles (sample data only), then :meth:`ingest`.

        Answers the invocation, how many were released, and how many the sample's
        clock released since the previous ingestion (None without the sample).
        """
        feed, released, over_time = self.feed, 0, None
        # No scheduled ingestion between the release and this one: it sees what was released.
        with self._lock:
            if feed is not None and release is not None:
                released = feed.release_next(release)
            served = feed.served if feed is not None else 0
            invocation = self.ingest()
            if feed is not None:
                # The sample also publishes on its clock: what this ingestion saw first
                # beyond this request's releases was released since the previous one.
                over_time = max(0, feed.served - served - released)
        return invocation, released, over_time

    def ingest_quietly(self) -> None:
        """:meth:`ingest`, its result logged; a thread's target."""
        try:
            invocation = self.ingest()
        except RunnerError:  # stopped meanwhile
            return
        if invocation.ok:
            log.info("ingestion", extra={"result": invocation.result})

    def run(self) -> None:
        """Ingest every ``every`` seconds until ``stop`` is set; a thread's target."""
        while not self._stop.wait(self._every):
            self.ingest_quietly()
