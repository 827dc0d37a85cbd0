"""The local table, kept across restarts: restored from the state directory, saved to it.

moto keeps the table in memory only. At start the saved items are written back
(:meth:`TableSnapshots.restore`); items still PENDING lost their SNS message
with the queue, so they go back to ingestion's outbox and are published again.
While the stack runs, :meth:`TableSnapshots.run` saves the table a moment
after each change (:meth:`~TableSnapshots.changed`); the stack saves it once
more at stop, while moto still runs. The files are :mod:`.state`'s.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.local.state import StateDir

__all__ = ["TableSnapshots"]

log = get_logger(__name__)


class TableSnapshots:
    """Snapshots of the table ``table()`` names, in ``state``; ``client`` makes AWS clients.

    ``active`` is set once the saved table was restored: from then on the table
    holds the state, and a snapshot may replace the saved one.
    """

    def __init__(
        self,
        state: StateDir,
        client: Callable[[str], Any],
        table: Callable[[], str],
        *,
        stop: threading.Event,
    ) -> None:
        self.active = False
        self._state = state
        self._client = client
        self._table = table
        self._stop = stop
        self._changed = threading.Event()
        self._lock = threading.Lock()

    def changed(self) -> None:
        """The table may have changed: the next round of :meth:`run` saves it."""
        self._changed.set()

    def restore(self, table: str) -> int:
        """Write the saved items into ``table``; how many. Raises ``StateError``."""
        from sentiment_pipeline.aws.dynamodb import OUTBOX

        items = self._state.read_items()
        for item in items:
            # Its SNS message was lost with the queue: back to the outbox, published again.
            if item.get("status", {}).get("S") == "PENDING":
                item[OUTBOX] = {"S": "PENDING"}
        ddb = self._client("dynamodb")
        for start in range(0, len(items), 25):
            requests: dict[str, Any] = {
                table: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            }
            while requests:
                answer = ddb.batch_write_item(RequestItems=requests)
                requests = answer.get("UnprocessedItems") or {}
        if items:
            log.info("restored the table", extra={"items": len(items)})
        self.active = True
        return len(items)

    def write(self) -> int:
        """Write the table to the state directory; the item count."""
        with self._lock:
            paginator = self._client("dynamodb").get_paginator("scan")
            return self._state.write_items(
                item
                for page in paginator.paginate(TableName=self._table())
                for item in page.get("Items", [])
            )

    def run(self) -> None:
        """Save the table about a second after it changed, until ``stop`` is set; a thread's
        target. A failed save (moto down) keeps the last good snapshot and is tried again."""
        while not self._stop.wait(1.0):
            if self._changed.is_set():
                self._changed.clear()
                try:
                    self.write()
                except Exception as exc:
                    log.warning("snapshot failed", extra={"error": str(exc)[:300]})
                    self._changed.set()
