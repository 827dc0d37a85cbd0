"""One function's pool behind a name that can be swapped: new code in, old workers drained.

``serve --watch`` builds a changed Lambda, starts and warms a new
:class:`~sentiment_pipeline.local.runner.LocalFunction` beside the running one,
then swaps: from that instant every new invocation goes to the new pool, while
the invocations already running finish on the old one, which is closed when the
last of them returns (at once when none is running).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.local.runner import Invocation, LocalFunction

__all__ = ["SwappableFunction"]


class SwappableFunction:
    """Invokes the current pool of one function; :meth:`swap` replaces it atomically.

    ``retired`` is called with each swapped-out pool once it is closed (to remove
    its unpacked root).
    """

    def __init__(
        self, function: LocalFunction, *, retired: Callable[[LocalFunction], None] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._current = function
        self._on_retired = retired
        self._running: dict[LocalFunction, int] = {}
        """Invocations in flight per pool."""
        self._retired: set[LocalFunction] = set()
        """Pools swapped out whose invocations are still running."""

    @property
    def current(self) -> LocalFunction:
        """The pool new invocations go to."""
        return self._current

    def invoke(self, event: Any, request_id: str | None = None) -> Invocation:
        """Run ``event`` on the current pool; a swap meanwhile does not interrupt it."""
        with self._lock:
            function = self._current
            self._running[function] = self._running.get(function, 0) + 1
        try:
            return function.invoke(event, request_id=request_id)
        finally:
            with self._lock:
                self._running[function] -= 1
                idle = self._running[function] == 0
                if idle:
                    del self._running[function]
                drained = idle and function in self._retired
                if drained:
                    self._retired.discard(function)
            if drained:
                self._retire(function)

    def swap(self, function: LocalFunction) -> LocalFunction:
        """Make ``function`` the current pool; the old one (returned) closes once idle."""
        with self._lock:
            old, self._current = self._current, function
            busy = self._running.get(old, 0) > 0
            if busy:
                self._retired.add(old)
        if not busy:
            self._retire(old)
        return old

    def _retire(self, function: LocalFunction) -> None:
        function.close()
        if self._on_retired is not None:
            self._on_retired(function)

    def draining(self) -> int:
        """How many swapped-out pools still finish invocations."""
        with self._lock:
            return len(self._retired)

    def close(self) -> None:
        """Stop every pool now, the current and those still draining."""
        with self._lock:
            retired = list(self._retired)
            self._retired.clear()
        self._current.close()
        for function in retired:
            self._retire(function)
