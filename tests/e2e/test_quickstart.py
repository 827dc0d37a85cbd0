"""The README's main job, run the way a newcomer runs it: fresh clone, default options, Ctrl-C.

The first Quickstart command is read from README.md (never copied here), run by a
shell in a fresh ``git clone`` with this test run's virtual environment taken
off PATH; it must print the dashboard's URL and key, serve real HTTP, and stop
within 10 s of a SIGINT to its process group (a terminal's Ctrl-C), leaving no
process behind. Then ``nox -s incident`` the same way.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.newcomer import (
    ProcessTree,
    fresh_clone,
    newcomer_environment,
    quickstart_commands,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.network  # the main job installs nox and the package from PyPI

START_TIMEOUT = 20 * 60  # a first run installs, resolves and builds: minutes, bounded
READY = re.compile(r"dashboard: (http://\S+?)/?\s+API key: (\S+)")


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _get(url: str, key: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"X-API-Key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_clone(tmp_path_factory.mktemp("newcomer") / "sentiment-pipeline")


@pytest.fixture(scope="module")
def main_job(clone: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, ProcessTree]]:
    with socket.socket() as probe:  # default options: the README's port must be free
        if probe.connect_ex(("127.0.0.1", 8000)) == 0:
            pytest.fail("port 8000 is in use here; the README's main job serves on it")
    command = quickstart_commands()[0]
    log = clone.parent / "main-job.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=clone,
            env=newcomer_environment(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives a job
        )
    tree = ProcessTree(process.pid)
    try:
        yield process, log, tree
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for line in tree.alive():
            os.kill(int(line.split(":")[0]), signal.SIGKILL)


def test_the_main_job_serves_the_analysed_items_and_stops_on_ctrl_c(
    clone: Path, main_job: tuple[subprocess.Popen[bytes], Path, ProcessTree]
) -> None:
    process, log, tree = main_job
    deadline = time.monotonic() + START_TIMEOUT
    ready = None
    while ready is None:
        tree.scan()
        ready = READY.search(log.read_text(errors="replace"))
        if process.poll() is not None:
            pytest.fail(f"the main job exited {process.returncode} before serving:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"no dashboard URL after {START_TIMEOUT} s:\n{_tail(log)}")
        time.sleep(0.5)
    url, key = ready.group(1), ready.group(2)
    assert url == "http://127.0.0.1:8000"  # the README's promise
    tree.scan()
    commands = "\n".join(command for _, command in tree.seen.values())
    assert "moto_process" in commands and "-I -S -B" in commands  # moto and the workers ran

    status, health = _get(f"{url}/health")
    assert status == 200, health
    status, page = _get(f"{url}/api/items?limit=100", key)
    assert status == 200, page
    analysed = [item for item in page["items"] if item["status"] == "ANALYZED"]
    assert analysed, page
    assert {item["sentiment"] for item in analysed} <= {"positive", "negative", "neutral"}
    status, refused = _get(f"{url}/api/items")
    assert status == 401, refused

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running 10 s after SIGINT:\n{_tail(log)}")
    left = tree.wait_gone(timeout=2)
    assert not left, f"left running after the main job ended: {left}\n{_tail(log)}"
    assert "Traceback" not in log.read_text(errors="replace"), _tail(log, 80)
    # The table was saved where the default --state-dir says, relative to the clone.
    snapshot = clone / ".sentiment-pipeline" / "items.jsonl"
    assert len(snapshot.read_text().splitlines()) >= len(analysed)


def test_the_incident_reproduction_names_the_incident(clone: Path) -> None:
    # The README's first command with the incident's session instead of the demo's.
    command = quickstart_commands()[0]
    assert "nox -s demo" in command
    done = subprocess.run(
        ["bash", "-c", command.replace("nox -s demo", "nox -s incident")],
        cwd=clone,
        env=newcomer_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=15 * 60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "rejected, as it must be" in output
    assert "_pydantic_core" in output and "cpython-312" in output, output[-4000:]
