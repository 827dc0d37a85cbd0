"""Find a local interpreter that matches a target's Python version and architecture."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..targets import Target

__all__ = ["candidates", "find_interpreter", "probe"]

_PROBE = (
    "import json, platform, sys, sysconfig;"
    "print(json.dumps([sys.implementation.name, list(sys.version_info[:2]), platform.machine(),"
    " bool(sysconfig.get_config_var('Py_GIL_DISABLED'))]))"
)


@functools.cache
def probe(executable: str) -> tuple[str, tuple[int, int], str, bool] | None:
    """(implementation, version, machine, free-threaded) of an interpreter; None if it won't run."""
    try:
        out = subprocess.run(
            [executable, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        impl, version, machine, free_threaded = json.loads(out)
        return str(impl), (int(version[0]), int(version[1])), str(machine), bool(free_threaded)
    except (OSError, subprocess.SubprocessError, ValueError, TypeError):
        return None


def candidates(python: str) -> list[str]:
    """Places an interpreter of version ``python`` ("3.13") may be, best first.

    The running interpreter, ``python3.X`` and ``python3`` on PATH, pyenv's and uv's
    managed interpreters. Each candidate is probed before use.
    """
    out = [sys.executable]
    for name in (f"python{python}", "python3"):
        found = shutil.which(name)
        if found:
            out.append(found)
    homes = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for home in filter(None, homes):
        managed = Path(home).glob(f"versions/{python}*/bin/python{python}")
        out += sorted((str(p) for p in managed), reverse=True)
    uv_dir = os.environ.get("UV_PYTHON_INSTALL_DIR") or str(
        Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local/share") / "uv/python"
    )
    uv_managed = Path(uv_dir).glob(f"cpython-{python}*/bin/python{python}")
    out += sorted((str(p) for p in uv_managed), reverse=True)
    return list(dict.fromkeys(out))


def _is_script(path: str) -> bool:
    """Wrapper scripts (pyenv's shims) cost a shell start to probe and are never the
    interpreter itself; the real binary is found through its own directory instead."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"#!"
    except OSError:
        return True


def find_interpreter(target: Target, explicit: str | None = None) -> str | None:
    """A CPython of the target's version and machine, GIL-enabled, or None."""
    for candidate in [explicit] if explicit else candidates(target.python):
        if not explicit and _is_script(candidate):
            continue
        info = probe(candidate)
        if info is None:
            continue
        impl, version, machine, free_threaded = info
        if (
            impl == "cpython"
            and version == target.python_version
            and machine == target.machine
            and not free_threaded
        ):
            return candidate
    return None
