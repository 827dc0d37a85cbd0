"""One local Lambda execution environment: an interpreter of the function's Python
version running :mod:`sentiment_pipeline.local.bootstrap`, serving one request at a time.

The interpreter starts isolated, in Lambda's layout and environment (moved into the
function's local root, :mod:`sentiment_pipeline.packaging.sandbox`). Requests go to its
stdin, answers come back on a pipe of their own: its stdout is the function's log.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.packaging.sandbox import LocalRoot, isolated_command

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sentiment_pipeline.packaging.targets import Target

__all__ = ["Worker", "WorkerSetup"]

_BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


@attrs.frozen
class WorkerSetup:
    """What every worker of one function starts with."""

    name: str
    handler: str
    target: Target
    python: str
    root: Path
    """The function's local root (Lambda's layout, unpacked)."""
    sdk: Path | None
    environment: Mapping[str, str]


class Worker:
    """One interpreter process: an execution environment serving one request at a time."""

    def __init__(self, setup: WorkerSetup, emit: Callable[[str], None]) -> None:
        self._emit = emit
        answers_read, answers_write = os.pipe()
        local = LocalRoot(setup.root)
        command = isolated_command(
            setup.python,
            _BOOTSTRAP,
            json.dumps(local.import_paths(setup.target)),
            json.dumps([str(setup.sdk)] if setup.sdk else []),
            setup.handler,
            str(answers_write),
            str(setup.root),  # where Lambda's "/" is here: tracebacks show Lambda's paths
        )
        try:
            self.process = subprocess.Popen(
                command,
                cwd=local.task_root,
                env=dict(setup.environment),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(answers_write,),
                start_new_session=True,
            )
        finally:
            os.close(answers_write)
        self._answers = answers_read
        self._buffer = b""
        self.used = 0
        self.died = False
        self._logs = threading.Thread(
            target=self._pump_logs, name=f"{setup.name}-logs", daemon=True
        )
        self._logs.start()

    def _pump_logs(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        for raw in iter(stream.readline, b""):
            self._emit(raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()

    def read_answer(self, deadline: float) -> dict[str, Any] | None:
        """The next answer line, or None if the deadline passed or the worker died."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._answers, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    return None
                chunk = os.read(self._answers, 1 << 16)
                if not chunk:
                    self.died = True  # the worker closed its end: it exited
                    return None
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def send(self, request: dict[str, Any]) -> bool:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(request).encode() + b"\n")
            stdin.flush()
        except OSError:  # a broken pipe: the worker is gone
            self.died = True
            return False
        return True

    def exit_status(self) -> str:
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "still running"
        return f"signal: {-code}" if code < 0 else f"exit status {code}"

    def signal_kill(self) -> None:
        """Kill the process (and what it started) without touching the pipes.

        Safe while another thread waits for this worker's answer: it reads the
        end of the answers pipe and retires the worker itself.
        """
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Kill the process and release its pipes, once its last log lines are emitted."""
        self.signal_kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        # What it wrote before it died is still in the pipe: the log pump reads it, then
        # the end of the file (the process group is gone, so nothing holds the pipe open).
        self._logs.join(timeout=2)
        with contextlib.suppress(OSError):
            os.close(self._answers)
        if self.process.stdin:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
