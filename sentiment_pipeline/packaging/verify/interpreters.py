"""Find a local interpreter that matches a target's Python version and architecture."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.targets import Target

__all__ = ["candidates", "find_interpreter", "probe"]

_PROBE = (
    "import json, platform, sys, sysconfig;"
    "print(json.dumps([sys.implementation.name, list(sys.version_info[:2]), platform.machine(),"
    " bool(sysconfig.get_config_var('Py_GIL_DISABLED'))]))"
)


Info = tuple[str, tuple[int, int], str, bool]


@functools.cache
def probe(executable: str) -> Info | None:
    """(implementation, version, machine, free-threaded) of an interpreter; None if it won't run.

    The running interpreter answers for itself. Others are asked once, in a subprocess;
    the answer is kept in the cache root, keyed by the executable's path and the
    identity of the file it resolves to (device, inode, size, mtime), so a replaced
    interpreter is asked again.
    """
    if executable == sys.executable:
        import sysconfig

        return (
            sys.implementation.name,
            (sys.version_info[0], sys.version_info[1]),
            os.uname().machine,
            bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        )
    try:
        st = Path(executable).stat()
    except OSError:
        return None
    stamp = [str(Path(executable).resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
    known = _load_probes()
    hit = known.get(executable)
    if isinstance(hit, dict) and hit.get("stamp") == stamp:
        try:
            return _info(hit["info"])
        except (KeyError, ValueError, TypeError):
            pass
    try:
        out = subprocess.run(
            [executable, "-I", "-S", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        info = _info(json.loads(out))
    except (OSError, subprocess.SubprocessError, ValueError, TypeError):
        return None
    known[executable] = {"stamp": stamp, "info": [info[0], list(info[1]), info[2], info[3]]}
    _save_probes(known)
    return info


def _info(data: Any) -> Info:
    impl, version, machine, free_threaded = data
    return str(impl), (int(version[0]), int(version[1])), str(machine), bool(free_threaded)


def _probes_file() -> Path:
    from sentiment_pipeline.packaging.cache import default_cache_root

    return default_cache_root() / "interpreters.json"


def _load_probes() -> dict[str, Any]:
    try:
        data = json.loads(_probes_file().read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_probes(known: dict[str, Any]) -> None:
    """Best effort, atomic: a cache that cannot be written is only slower."""
    path = _probes_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(known, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


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
