"""SIGINT and SIGTERM end a command the same way: by unwinding it, cleaning up as it goes."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Interrupted", "signals_interrupt"]


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: the command unwinds, cleaning up as it goes."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread, once.

    Both end a command the same way (temp files removed, servers and workers
    stopped, the table saved). A second signal during that clean-up exits at
    once: the children started here leave on their own when this process ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if caught:
            print("sentiment-pipeline: stopping now", file=sys.stderr, flush=True)
            os._exit(128 + signum)
        caught.append(signum)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
