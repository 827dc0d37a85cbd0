"""The import check of :func:`~sentiment_pipeline.packaging.verify.check.verify`, started
before its sandbox is filled.

The interpreter starts at once and waits for "go" on its stdin; the verifier fills
the sandbox while it streams every member for the static checks (one inflate of each,
not two), says "go", and parses the ELF files while the import runs: two cores busy
instead of one after the other.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.verify import importattempt
from sentiment_pipeline.packaging.verify.dynamic import conclude
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from sentiment_pipeline.packaging.verify.report import DynamicResult
from sentiment_pipeline.packaging.verify.sandboxslot import SandboxSlot
from sentiment_pipeline.packaging.verify.sdk import runtime_sdk

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from sentiment_pipeline.packaging.sandbox import Placed
    from sentiment_pipeline.packaging.targets import Target

__all__ = ["LiveImport", "start_import"]


class LiveImport:
    """An import check waiting for its sandbox.

    The caller fills :attr:`sandbox`, then calls :meth:`go`, may do other work while
    the import runs, and collects it with :meth:`finish`. :meth:`close` always: it
    stops a child that is still waiting and empties the sandbox.
    """

    def __init__(
        self,
        target: Target,
        handler: str,
        python: str,
        sandbox: SandboxSlot,
        *,
        offline: bool,
        own: Mapping[str, str] | None = None,
    ) -> None:
        self.target, self.handler, self.python = target, handler, python
        self.own = dict(own or {})
        self.sandbox = sandbox
        self.offline = offline
        self.sdk = runtime_sdk(target, offline=True)
        root = sandbox.root
        self._log = open(root / "output.log", "w+b")  # noqa: SIM115 - closed in close()
        read, self._go = os.pipe()
        try:
            argv = importattempt.command(
                python, target, root, handler, self.sdk.path, sandbox.bytecode, wait=True
            )
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                argv,
                cwd=sandbox.local.task_root,
                env=importattempt.import_environment(target, root, handler, self.own),
                stdin=read,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except OSError:
            os.close(self._go)
            self._log.close()
            raise
        finally:
            os.close(read)
        self._started: float | None = None

    def go(self) -> None:
        """The sandbox is complete: import now."""
        if self._started is None:
            self._started = time.monotonic()
            with contextlib.suppress(OSError):  # a child gone: finish() says how it ended
                os.write(self._go, b"go\n")
            os.close(self._go)
            self._go = -1

    def finish(self) -> DynamicResult:
        if self.sandbox.failed is not None:
            return DynamicResult(False, f"dynamic check skipped: {self.sandbox.failed}")
        self.go()
        assert self._proc is not None and self._started is not None
        # A blocking wait, and a timer that kills the child at the deadline: waiting with
        # a timeout polls with sleeps of up to 50 ms, which would add to every import.
        proc, killed = self._proc, threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        deadline = importattempt.TIMEOUT - (time.monotonic() - self._started)
        timer = threading.Timer(max(0.0, deadline), kill)
        timer.start()
        try:
            returncode = proc.wait()
        finally:
            timer.cancel()
        self._proc = None
        if killed.is_set():
            result = importattempt.timed_out()
        else:
            self._log.seek(0)
            output = self._log.read().decode("utf-8", "replace")
            result = importattempt.outcome(self.sandbox.root, returncode, output)
        root = self.sandbox.root

        def retry(sdk_path: Path) -> dict[str, Any]:
            return importattempt.attempt(
                self.python, self.target, root, self.handler, sdk_path,
                bytecode=self.sandbox.bytecode, own=self.own,
            )  # fmt: skip

        return conclude(
            self.target, self.handler, self.python, result, self.sdk, retry,
            offline=self.offline, root=root, host=True,
        )  # fmt: skip

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        if self._go >= 0:
            os.close(self._go)  # a child still waiting reads end-of-file and leaves
            self._go = -1
        self._stop()
        self._log.close()
        self.sandbox.close()


def start_import(
    target: Target,
    placed: Sequence[Placed],
    handler: str,
    *,
    interpreter: str | None = None,
    offline: bool = False,
    own: Mapping[str, str] | None = None,
) -> LiveImport | None:
    """Start the import of ``handler`` with a local interpreter of the target, waiting for
    its sandbox; None when there is no such interpreter or no room to run it (then
    :func:`~sentiment_pipeline.packaging.verify.dynamic.run_dynamic` decides: a
    container engine, or a skip)."""
    python = find_interpreter(target, interpreter)
    if python is None:
        return None
    try:
        sandbox = SandboxSlot(placed)
    except OSError:
        return None
    try:
        return LiveImport(target, handler, python, sandbox, offline=offline, own=own)
    except OSError:
        sandbox.close()
        return None
