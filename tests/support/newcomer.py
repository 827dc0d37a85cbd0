"""What a newcomer has: the README's commands, a fresh clone, a plain shell, and their processes.

The newcomer tests run the README's own commands, parsed from README.md, in a fresh
``git clone`` of this repository, in a shell environment without this test run's
virtual environment, and check that nothing they started is left running.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quickstart_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The commands of the README's Quickstart section, in order (comments dropped)."""
    text = readme.read_text("utf-8")
    section = re.search(r"^#+\s*Quick ?start.*?$(.*?)(?=^#+\s|\Z)", text, re.S | re.M | re.I)
    if section is None:
        raise AssertionError("README.md has no Quickstart section")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", section.group(1), re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def fresh_clone(dest: Path) -> Path:
    """``git clone`` of this repository into ``dest``, as a newcomer gets it.

    What is not committed yet (a change under test) is laid over the clone, as the
    commit would bring it: tracked and new files as they are in the work tree,
    deleted files removed; ignored files (``.venv``, ``dist``...) never.
    """
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)], check=True)
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    for name in filter(None, listing.decode().split("\0")):
        source, copy = ROOT / name, dest / name
        if not source.exists():  # deleted in the work tree
            copy.unlink(missing_ok=True)
        elif source.is_file() and (not copy.exists() or copy.read_bytes() != source.read_bytes()):
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
    return dest


def newcomer_environment() -> dict[str, str]:
    """This process's environment without the virtual environment the tests run in."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "CONDA_PREFIX", "PYTHONSAFEPATH")
        and not k.startswith(("NOX_", "PYTEST_"))
    }
    ours = {str(Path(sys.prefix) / "bin"), str(Path(sys.executable).parent)}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p not in ours
    )
    return env


def _stat(pid: int) -> tuple[int, str, str] | None:
    """(parent pid, state, start time) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], fields[19]


class ProcessTree:
    """Every process seen under ``root`` (by parent links), remembered with its start time.

    Call :meth:`scan` while the command runs (children started in their own
    session are still children); after it ends, :meth:`alive` lists those still
    running (a zombie, dead and waiting to be reaped, does not count).
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: dict[int, tuple[str, str]] = {}

    def scan(self) -> None:
        parents: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                found = _stat(int(entry.name))
                if found is not None:
                    parents.setdefault(found[0], []).append(int(entry.name))
        todo = [self.root]
        while todo:
            pid = todo.pop()
            for child in parents.get(pid, []):
                found = _stat(child)
                if found is not None and child not in self.seen:
                    self.seen[child] = (found[2], _command(child))
                todo.append(child)

    def alive(self) -> list[str]:
        left = []
        for pid, (started, command) in self.seen.items():
            found = _stat(pid)
            if found is not None and found[2] == started and found[1] != "Z":
                left.append(f"{pid}: {command}")
        return left

    def wait_gone(self, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while (left := self.alive()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return left


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"
