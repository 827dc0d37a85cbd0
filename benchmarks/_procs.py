"""Whole-process measurements shared by the benchmarks: wall time, CPU time and max RSS."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs

__all__ = ["ProcessRun", "SpawnError", "rss_floor", "run_process"]


class SpawnError(RuntimeError):
    """The spawner itself could not run the command (not the command's own failure)."""


@attrs.frozen
class ProcessRun:
    seconds: float
    exit_code: int
    max_rss_kib: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0
    """User + system time of the command and its waited-for children: far less
    sensitive than wall time to what else the machine runs."""


# Runs argv[2:], then writes "<wall seconds> <exit code> <ru_maxrss KiB> <cpu seconds>"
# to argv[1].
# A child's ru_maxrss on Linux starts at the high-water RSS of the process that
# spawned it (exec folds the old mm's peak into it), so spawning from a benchmark
# process would report the benchmark's own peak, not the child's. This bare
# interpreter (-I -S, builtins only) is the spawner instead: the contamination is
# bounded by its own few MB, measured as the floor (rss_floor). wait4's ru_maxrss
# also covers the child's waited-for children.
_SPAWNER = """\
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as fh:
    cpu = usage.ru_utime + usage.ru_stime
    fh.write(f"{seconds!r} {os.waitstatus_to_exitcode(status)} {usage.ru_maxrss} {cpu!r}")
"""


def run_process(
    command: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    sync: bool = False,
) -> ProcessRun:
    """Run ``command``: its wall time and max RSS (``os.wait4`` in a bare spawner).

    ``sync`` flushes the page cache first, so nothing a previous contender wrote
    is written back on this one's time.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        result = Path(tmp) / "result"
        if sync:
            os.sync()
        spawner = [sys.executable, "-I", "-S", "-c", _SPAWNER, str(result), *command]
        done = subprocess.run(spawner, stdout=out, stderr=err, check=False, env=env, cwd=cwd)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
        if done.returncode != 0 or not result.exists():
            raise SpawnError(f"cannot run {command[0]}: {stderr.strip()}")
        seconds, code, rss, cpu = result.read_text().split()
        return ProcessRun(float(seconds), int(code), int(rss), stdout, stderr, float(cpu))


def rss_floor() -> int:
    """The lowest max RSS (KiB) a child can report through the spawner (``true``)."""
    return min(run_process(["true"]).max_rss_kib for _ in range(3))
