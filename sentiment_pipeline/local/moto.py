"""A moto server in its own process on 127.0.0.1: the local stack's AWS.

Out of the stack's process, moto neither competes for its GIL with the Function
URL emulator nor shares state with another stack (moto's backends are global to
a process), and stopping AWS (a fault the tests inject) is stopping a process.
The child (:mod:`.moto_process`) binds its own free port and reports it, and it
leaves when this process does, however this one ends.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from sentiment_pipeline.errors import PipelineError

__all__ = ["MotoServer", "MotoServerError", "missing_local_extra"]


class MotoServerError(PipelineError):
    """moto is not installed, or its server did not start."""


def missing_local_extra() -> str | None:
    """None when moto's server can run here, else the one command that installs it.

    The requirement is read from this package's own ``local`` extra, so the command
    stays right when the extra changes; the interpreter is the one running now.
    """
    if all(importlib.util.find_spec(name) is not None for name in ("moto", "flask", "werkzeug")):
        return None
    from importlib import metadata

    try:
        requires = metadata.requires("sentiment-pipeline") or []
    except metadata.PackageNotFoundError:
        requires = []
    local = [r.split(";")[0].strip() for r in requires if 'extra == "local"' in r]
    wanted = " ".join(f"'{r}'" for r in local) or "'moto[server]>=5'"
    return f"{sys.executable} -m pip install {wanted}"


class MotoServer:
    """moto's server in a child process on a free loopback port; ``url`` once started."""

    def __init__(self, *, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.url = ""
        self.output: collections.deque[str] = collections.deque(maxlen=200)
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> MotoServer:
        fix = missing_local_extra()
        if fix is not None:
            raise MotoServerError(f"the local stack needs moto's server; install it: {fix}")
        process = self._process = subprocess.Popen(
            [sys.executable, "-m", "sentiment_pipeline.local.moto_process"],
            stdin=subprocess.PIPE,  # never written: its end-of-file tells the child to leave
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # a Ctrl-C in the terminal is ours to handle, not moto's
        )
        port = self._read_port(process)
        if port is None or not self._wait_ready():
            self.stop()
            tail = "\n".join(list(self.output)[-10:])
            raise MotoServerError(f"the moto server did not start: {tail or 'no output'}")
        return self

    def _read_port(self, process: subprocess.Popen[str]) -> int | None:
        """The port the child reports on its first line; then its output is kept in the tail."""
        found: list[int] = []
        reported = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:  # werkzeug's request log: keep the last lines only
                text = line.rstrip("\n")
                if not found and text.startswith('{"port"'):
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        found.append(int(json.loads(text)["port"]))
                        self.url = f"http://127.0.0.1:{found[0]}"
                        reported.set()
                        continue
                self.output.append(text)
            reported.set()  # the child ended without reporting

        threading.Thread(target=pump, name="moto-output", daemon=True).start()
        reported.wait(self.startup_timeout)
        return found[0] if found else None

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        return False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=2)
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
