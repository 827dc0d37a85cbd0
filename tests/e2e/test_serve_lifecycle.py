"""`serve` as a user runs it: from another directory, relative paths, signals at every phase.

Each run is ``python -m sentiment_pipeline serve`` in its own process, started in a
directory that is not the project, with every path relative. A signal during the
build, during start-up or while serving stops it in a few seconds with the
documented exit code, and leaves no process, no bound port, no half-written
artifact; while serving, the table is saved first.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.localserve import free_port, port_is_free
from tests.support.newcomer import ProcessTree

if TYPE_CHECKING:
    from pathlib import Path

# Where each phase is caught: a line serve printed, and a process it started.
PHASES = {
    "build": ("zip-in-docker:verify lambdas.", None),  # an import check may be running
    "start-up": ("starting the local stack", "-I -S -B"),  # moto up, workers starting
    "serving": ("serving; Ctrl-C", None),
}
EXIT_CODES: dict[
    tuple[str, int], int
] = {  # README: 128 + the signal before serving began, 0 once serving
    ("build", signal.SIGINT): 130,
    ("build", signal.SIGTERM): 143,
    ("start-up", signal.SIGINT): 130,
    ("start-up", signal.SIGTERM): 143,
    ("serving", signal.SIGINT): 0,
    ("serving", signal.SIGTERM): 0,
}


class Serve:
    """``serve`` of ``project`` (a copy of this repository), run from ``project``'s parent."""

    def __init__(self, project: Path, *extra: str, out: str = "dist") -> None:
        self.project = project
        self.port = free_port()
        self.log = project.parent / f"serve-{self.port}.log"
        name = project.name
        command = [
            sys.executable,
            "-m",
            "sentiment_pipeline",
            "serve",
            "--manifest",
            f"{name}/lambdas.toml",
            "--out",
            f"{name}/{out}",
            "--state-dir",
            f"{name}/state",
            "--port",
            str(self.port),
            "--sample-data",
            *extra,
        ]
        with open(self.log, "wb") as sink:
            self.process = subprocess.Popen(
                command,
                cwd=project.parent,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        self.tree = ProcessTree(self.process.pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def started(self, command: str | None) -> bool:
        return command is None or any(command in c for _, c in self.tree.seen.values())

    def wait_for(self, marker: str, command: str | None = None, timeout: float = 600) -> None:
        """Until ``marker`` was printed and a process whose command holds ``command`` ran."""
        deadline = time.monotonic() + timeout
        while marker not in self.output() or not self.started(command):
            self.tree.scan()
            if self.process.poll() is not None:
                pytest.fail(f"serve exited {self.process.returncode} before {marker!r}:\n"
                            f"{self.output()[-3000:]}")  # fmt: skip
            if time.monotonic() > deadline:
                pytest.fail(f"no {marker!r} after {timeout} s:\n{self.output()[-3000:]}")
            time.sleep(0.05)
        self.tree.scan()

    def stop(self, signum: int) -> tuple[int, float]:
        """Send ``signum``; the exit code and the seconds it took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        try:
            code = self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"serve still running 10 s after {signum!r}:\n{self.output()[-3000:]}")
        return code, time.monotonic() - sent


@pytest.fixture
def project(repo_copy: Path, tmp_path: Path) -> Path:
    """A copy of the repository copy (its sources, manifest and lock), to build anew."""
    copy = tmp_path / "project"
    shutil.copytree(repo_copy, copy, ignore=shutil.ignore_patterns("dist", "state"))
    return copy


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("phase", list(PHASES))
def test_a_signal_at_any_phase_stops_serve_cleanly(
    project: Path, python313: str, phase: str, signum: int
) -> None:
    serve = Serve(project, "--ingest-every", "0")
    serve.wait_for(*PHASES[phase])
    code, seconds = serve.stop(signum)
    output = serve.output()
    assert code == EXIT_CODES[(phase, signum)], output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    left = serve.tree.wait_gone(timeout=2)
    assert not left, f"left running after serve ended ({phase}, {signum!r}): {left}"
    assert port_is_free(serve.port)
    dist = project / "dist"
    assert not [p.name for p in dist.rglob("*partial*")] if dist.exists() else True
    if phase == "serving":
        saved = (project / "state" / "items.jsonl").read_text().splitlines()
        assert len(saved) >= 20  # the first ingestion's items, analysed before serving
    print(f"{phase} {signal.Signals(signum).name}: exited {code} in {seconds:.2f} s")


def test_an_init_failure_at_start_is_reported_once_and_nothing_is_served(
    project: Path, python313: str
) -> None:
    # Imports fine where the build verifies it; fails where it runs against AWS (moto),
    # like a handler whose init needs a setting only its deployment has.
    dashboard = project / "handlers" / "dashboard.py"
    dashboard.write_text(
        dashboard.read_text()
        + '\nimport os\n\nif os.environ.get("AWS_ENDPOINT_URL"):\n'
        + '    raise RuntimeError("the dashboard cannot start here")\n'
    )
    serve = Serve(project)
    try:
        code = serve.process.wait(timeout=300)
    except subprocess.TimeoutExpired:
        serve.process.kill()
        pytest.fail(f"serve kept running with a broken init:\n{serve.output()[-3000:]}")
    output = serve.output()
    assert code == 1, output[-3000:]
    assert "init failed, nothing is served" in output
    assert "dashboard: Runtime.ImportModuleError" in output
    assert output.count('"errorType": "Runtime.ImportModuleError"') == 1  # Lambda's body, once
    assert "the dashboard cannot start here" in output
    assert "Traceback" not in output
    assert not serve.tree.wait_gone(timeout=2)
    assert port_is_free(serve.port)


def test_serve_once_from_another_directory_with_relative_paths(
    project: Path, python313: str
) -> None:
    serve = Serve(project, "--once", out="relative-dist")
    code = serve.process.wait(timeout=600)
    output = serve.output()
    assert code == 0, output[-3000:]
    assert "by status:" in output
    assert (project / "relative-dist" / "zip-in-docker" / "dashboard.zip").is_file()
    assert (project / "state" / "items.jsonl").is_file()
    # Nothing was written in the working directory itself.
    assert sorted(p.name for p in project.parent.iterdir()) == sorted(["project", serve.log.name])
