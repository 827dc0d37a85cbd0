"""`serve` of a generated project, run as a user runs it: a subprocess in the project's folder.

The project (:func:`make_functions_project`) has three Lambdas: ``api`` and ``admin`` with a
Function URL (``function-url = true``, and a ``deploy.function-url`` table), ``jobs``
without. Each handler answers who it is and which version of its code runs.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
from typing import TYPE_CHECKING, Any

from tests.support.newcomer import ProcessTree

if TYPE_CHECKING:
    from pathlib import Path

API = """\
import json
import os
import time

VERSION = {version!r}
# The deploy environment reaches the init; STAGE comes from serve's --env only (the
# build's import check runs with the deploy environment alone, so it passes there).
if os.environ.get("GREETING") == "fail-init" and os.environ.get("STAGE") == "local":
    raise RuntimeError("GREETING says fail-init")


def handler(event, context):
    if event["rawPath"] == "/slow":
        time.sleep(float(event["queryStringParameters"]["seconds"]))
    return {{
        "statusCode": 200,
        "headers": {{"content-type": "application/json", "x-version": VERSION}},
        "cookies": ["seen=1"],
        "body": json.dumps({{
            "who": "api",
            "version": VERSION,
            "greeting": os.environ.get("GREETING"),
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
            "event": event,
        }}),
    }}
"""

ADMIN = """\
def handler(event, context):
    return {{"who": "admin", "version": {version!r}, "path": event["rawPath"]}}
"""

JOBS = """\
def handler(event, context):
    return {"who": "jobs"}
"""


def write_handler(root: Path, name: str, version: str) -> None:
    """Write Lambda ``name``'s handler (``api`` or ``admin``) at ``version``, as an editor
    saves: a temporary file renamed over the old one."""
    text = (API if name == "api" else ADMIN).format(version=version)
    path = root / name / "main.py"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def make_functions_project(root: Path, *, api_runtime: str, admin_runtime: str) -> Path:
    """The three-Lambda project in ``root``; returns its manifest."""
    for name in ("api", "admin", "jobs"):
        (root / name).mkdir(parents=True, exist_ok=True)
        (root / name / "__init__.py").write_text("")
    write_handler(root, "api", "1")
    write_handler(root, "admin", "1")
    (root / "jobs" / "main.py").write_text(JOBS)
    manifest = root / "lambdas.toml"
    manifest.write_text(
        textwrap.dedent(f"""\
        [defaults]
        architecture = "x86_64"
        exclude = ["**/*.tmp"]

        [lambdas.api]
        runtime = "{api_runtime}"
        handler = "api.main.handler"
        sources = ["api"]
        function-url = true

        [lambdas.api.deploy]
        timeout = 60
        environment = {{ GREETING = "hello" }}

        [lambdas.admin]
        runtime = "{admin_runtime}"
        handler = "admin.main.handler"
        sources = ["admin"]

        [lambdas.admin.deploy]
        function-url = {{ auth = "NONE" }}

        [lambdas.jobs]
        runtime = "{api_runtime}"
        handler = "jobs.main.handler"
        sources = ["jobs"]
        """)
    )
    return manifest


def free_port(count: int = 1) -> int:
    """A port where ``count`` consecutive ports are free (for now) on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = int(probe.getsockname()[1])
        if first + count <= 65535 and all(port_is_free(first + i) for i in range(count)):
            return first
    raise AssertionError(f"no {count} consecutive free ports")


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (SO_REUSEADDR, as servers bind)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Serve:
    """``python -m sentiment_pipeline serve ARGS`` started in ``project``, output to a log."""

    def __init__(self, project: Path, *args: str) -> None:
        self.project = project
        self.log = project / f"serve-{time.monotonic_ns()}.log"
        with open(self.log, "wb") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sentiment_pipeline", "serve", "--engine", "none", *args],
                cwd=project,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.tree = ProcessTree(self.process.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, marker: str, timeout: float = 300, *, count: int = 1) -> str:
        """Until ``marker`` was printed (``count`` times); the output. Fails if serve
        exits before."""
        deadline = time.monotonic() + timeout
        while (text := self.output()).count(marker) < count:
            self.tree.scan()
            if self.process.poll() is not None:
                raise AssertionError(
                    f"serve exited {self.process.returncode} before {marker!r}:\n{text[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {marker!r} after {timeout} s:\n{text[-3000:]}")
            time.sleep(0.05)
        self.tree.scan()
        return self.output()

    def urls(self) -> dict[str, str]:
        """The ``NAME  http://...`` lines printed at start-up."""
        found = re.findall(r"^(\S+)\s+(http://\S+)$", self.output(), re.M)
        return dict(found)

    def wait_exit(self, timeout: float = 120) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"serve still running:\n{self.output()[-3000:]}") from None

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum``; the exit code (fails when serve takes over 15 s)."""
        self.tree.scan()
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.wait_exit(15)


def request(
    url: str,
    path: str = "/",
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request; status, headers (lower-cased, Set-Cookie joined) and JSON body."""
    host, port = url.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        raw = answer.read()
        names: dict[str, str] = {}
        for name, value in answer.getheaders():
            key = name.lower()
            names[key] = f"{names[key]}, {value}" if key in names else value
        return answer.status, names, json.loads(raw) if raw else None
    finally:
        connection.close()


def wait_for_answer(
    url: str, check: Any, *, path: str = "/", timeout: float = 120
) -> tuple[int, dict[str, str], Any]:
    """Poll ``url`` until ``check(body)`` holds; the last answer."""
    deadline = time.monotonic() + timeout
    last: tuple[int, dict[str, str], Any] | None = None
    while time.monotonic() < deadline:
        try:
            last = request(url, path)
        except OSError:
            last = None
        if last is not None and last[0] == 200 and check(last[2]):
            return last
        time.sleep(0.1)
    raise AssertionError(f"{url}{path}: no expected answer in {timeout} s; last: {last}")
