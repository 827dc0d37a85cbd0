"""A moto server in its own process on 127.0.0.1: the local stack's AWS.

Out of the stack's process, moto neither competes for its GIL with the Function
URL emulator nor shares state with another stack (moto's backends are global to
a process), and stopping AWS (a fault the tests inject) is stopping a process.
"""

from __future__ import annotations

import collections
import contextlib
import importlib.util
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from ..errors import PipelineError

__all__ = ["MotoServer", "MotoServerError"]


class MotoServerError(PipelineError):
    """moto is not installed, or its server did not start."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """``python -m moto.server`` on a free loopback port; ``url`` once started."""

    def __init__(self, *, startup_timeout: float = 60.0) -> None:
        self.startup_timeout = startup_timeout
        self.url = ""
        self.output: collections.deque[str] = collections.deque(maxlen=200)
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> MotoServer:
        if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
            raise MotoServerError(
                "the local stack needs moto's server: pip install 'sentiment-pipeline[local]' "
                "(or 'moto[server]>=5')"
            )
        for _attempt in range(3):  # another process may take the free port first
            port = _free_port()
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            threading.Thread(target=self._pump, args=(self._process,), daemon=True).start()
            self.url = f"http://127.0.0.1:{port}"
            if self._wait_ready():
                return self
            self.stop()
        tail = "\n".join(list(self.output)[-10:])
        raise MotoServerError(f"the moto server did not start: {tail}")

    def _pump(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:  # werkzeug's request log: keep the last lines only
            self.output.append(line.rstrip("\n"))

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return True
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
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
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
