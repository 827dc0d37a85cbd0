"""The dynamic check: import the handler in an interpreter of the target.

The function and its layers are unpacked into a temporary sandbox laid out like
Lambda's (``var/task``, ``opt``); an isolated interpreter (``-I -S``: no user or
host site-packages) imports the handler with exactly Lambda's path order: task
root, layer site-packages, layer ``python/``, the runtime's SDK, the standard library.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .interpreters import find_interpreter
from .sdk import runtime_sdk

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..install.engines import Engine
    from ..targets import Target
    from .layout import Placed

__all__ = ["DynamicResult", "run_dynamic"]

TIMEOUT = 120

# Runs inside the target interpreter; it must work on every Python the catalog knows.
_RUNNER = r"""
import importlib, json, os, site, sys, traceback
front, sdk = json.loads(sys.argv[1]), json.loads(sys.argv[2])
handler, out = sys.argv[3], sys.argv[4]
sys.path[:0] = front + sdk
for entry in front:
    site.addsitedir(entry)  # the bootstrap honours .pth files in these directories
result = {"ok": False, "python": "%d.%d" % sys.version_info[:2], "machine": os.uname()[4]}
try:
    module_name, _, function = handler.rpartition(".")
    module = importlib.import_module(module_name.replace("/", "."))
    func = getattr(module, function, None)
    if func is None:
        result.update(kind="AttributeError", missing=None,
                      message="module %r has no attribute %r" % (module_name, function))
    elif not callable(func):
        result.update(kind="TypeError", missing=None,
                      message="%s.%s is not callable" % (module_name, function))
    else:
        result.update(ok=True, file=getattr(module, "__file__", None))
except BaseException as exc:
    result.update(kind=type(exc).__name__, message=str(exc),
                  missing=getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
                  traceback=traceback.format_exc()[-4000:])
with open(out, "w") as fh:
    json.dump(result, fh)
"""


@attrs.frozen
class DynamicResult:
    ran: bool
    summary: str
    interpreter: str | None = None
    problem: str | None = None
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "summary": self.summary,
            "interpreter": self.interpreter,
            "detail": self.detail,
        }


def _unpack(placed: Placed, dest: Path) -> None:
    tree = placed.tree
    for entry in tree.entries():
        if entry.unsafe:
            continue
        path = dest.joinpath(*entry.name.split("/"))
        if entry.kind == "dir":
            path.mkdir(parents=True, exist_ok=True)
        elif entry.kind == "symlink" and entry.link is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink() or path.exists():
                path.unlink()
            path.symlink_to(entry.link)
        elif entry.kind == "file":
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_symlink():
                path.unlink()
            with tree.open(entry) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            # Lambda makes everything world-readable; keep the executable bit.
            path.chmod(0o755 if entry.executable else 0o644)


def _sandbox_env(target: Target, root: Path) -> dict[str, str]:
    """Lambda's environment, with its paths moved into the sandbox."""

    def inside(path: str) -> str | None:
        for prefix in ("/var/task", "/opt"):
            if path == prefix or path.startswith(prefix + "/"):
                return str(root) + path
        return None  # the runtime's own directories do not exist here

    library_path = [p for p in map(inside, target.ld_library_path) if p]
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LAMBDA_TASK_ROOT": str(root / "var/task"),
        "LAMBDA_RUNTIME_DIR": str(root / "var/runtime"),
        "LD_LIBRARY_PATH": ":".join(library_path),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "sentiment-pipeline-verify",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{target.runtime}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "HOME": str(root),
    }


def _attempt(
    python: str,
    target: Target,
    root: Path,
    handler: str,
    sdk: Path | None,
    in_image: tuple[Engine, str] | None = None,
) -> dict[str, Any]:
    """One isolated import; the runner's result, or a synthetic one if it died."""
    task, opt = root / "var/task", root / "opt"
    front = [str(task), str(opt / target.layer_site_packages), str(opt / "python")]
    out = root / "result.json"
    out.unlink(missing_ok=True)
    command = [
        python,
        "-I",
        "-S",
        "-B",
        "-c",
        _RUNNER,
        json.dumps(front),
        json.dumps([str(sdk)] if sdk else []),
        handler,
        str(out),
    ]
    try:
        if in_image is not None:
            proc = _run_in_image(*in_image, command, root, sdk, _sandbox_env(target, root))
        else:
            proc = subprocess.run(
                command,
                cwd=task,
                env=_sandbox_env(target, root),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
    except subprocess.TimeoutExpired:
        return {
            "ok": False,
            "kind": "Timeout",
            "message": f"the import took over {TIMEOUT} s; module-level code must not "
            "block (Lambda's init phase is limited to 10 s)",
        }
    if not out.exists():
        tail = (proc.stderr or proc.stdout).strip()[-2000:]
        return {
            "ok": False,
            "kind": "Crash",
            "message": f"the interpreter died (exit {proc.returncode}): {tail}",
        }
    result: dict[str, Any] = json.loads(out.read_text())
    return result


# --- the dynamic check through a container engine (no host interpreter of the target) ---


class _EngineFailed(Exception):
    """The engine could not run the image at all (not a result of the import)."""


def _run_in_image(
    engine: Engine,
    image: str,
    command: list[str],
    root: Path,
    sdk: Path | None,
    env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    """Run the import in ``image``, the sandbox (and SDK) mounted at their own paths.

    Same paths inside and out, so every argument of the runner stays valid; the
    image's own PATH (``python3`` is its interpreter) replaces the host's.
    """
    mounts = [(root, str(root), False)]
    if sdk is not None:
        mounts.append((sdk, str(sdk), True))
    env = {key: value for key, value in env.items() if key != "PATH"}
    from ..install.engines import EngineError

    try:
        return engine.run(
            image, command, mounts=mounts, env=env, cwd=str(root / "var/task"), timeout=TIMEOUT
        )
    except EngineError as exc:
        raise _EngineFailed(str(exc)) from exc


def _image_mismatch(target: Target, result: dict[str, Any]) -> str | None:
    python, machine = result.get("python"), result.get("machine")
    if python is not None and python != target.python:
        return f"its python3 is Python {python}, not {target.python}"
    if machine is not None and machine != target.machine:
        return f"it runs on {machine}, not {target.machine}"
    return None


# --- end of the engine part ---


def _scratch(placed: Sequence[Placed]) -> str | None:
    """Memory-backed scratch space when it has room: unpacking hundreds of small files
    costs about a millisecond each on a disk, next to nothing in memory."""
    shm = "/dev/shm"
    try:
        needed = 2 * sum(e.size for p in placed for e in p.tree.entries())
        stats = os.statvfs(shm)
        if os.access(shm, os.W_OK) and stats.f_bavail * stats.f_frsize > needed:
            return shm
    except OSError:
        pass
    return None


def run_dynamic(
    target: Target,
    placed: Sequence[Placed],
    handler: str,
    *,
    interpreter: str | None = None,
    offline: bool = False,
    engine: Engine | None = None,
    image: str | None = None,
    prefer_image: bool = False,
) -> DynamicResult:
    """Import ``handler`` from the unpacked artifacts in an interpreter of the target.

    With ``prefer_image`` (the artifact *is* ``image``, a container image), the
    import runs inside it even when this machine has a matching interpreter.

    The runtime's SDK is used from the cache when it is there; it is fetched only
    when the import actually needs it. When no host interpreter matches and
    ``engine`` and ``image`` are given, the import runs with ``python3`` inside a
    container of ``image`` (the target's build image) instead.
    """
    python = None if prefer_image and engine and image else find_interpreter(target, interpreter)
    in_image = (engine, image) if python is None and engine and image else None
    if in_image is not None:
        python = f"python3 in {image} ({in_image[0].name})"
    if python is None:
        if interpreter:
            return DynamicResult(
                False,
                f"dynamic check skipped: {interpreter} is not a "
                f"python{target.python} interpreter for {target.machine}",
            )
        return DynamicResult(
            False,
            f"dynamic check skipped: no python{target.python} "
            f"interpreter for {target.architecture}",
        )
    sdk = runtime_sdk(target, offline=True)
    with tempfile.TemporaryDirectory(prefix="sp-verify-", dir=_scratch(placed)) as tmp:
        root = Path(tmp)
        (root / "var/task").mkdir(parents=True)
        (root / "opt").mkdir(parents=True)
        try:
            for p in sorted(placed, key=lambda p: p.order):  # layers unpack in the order given
                _unpack(p, root / ("var/task" if p.role == "function" else "opt"))
        except OSError as exc:
            return DynamicResult(False, f"dynamic check skipped: cannot unpack here ({exc})")
        executable = "python3" if in_image else python
        try:
            result = _attempt(executable, target, root, handler, sdk.path, in_image)
            mismatch = _image_mismatch(target, result) if in_image else None
            if mismatch:
                return DynamicResult(False, f"dynamic check skipped: {image}: {mismatch}")
            missing = (result.get("missing") or "").split(".")[0]
            needs_sdk = not result.get("ok") and missing in target.sdk_modules
            if needs_sdk and sdk.path is None and not offline:
                sdk = runtime_sdk(target)
                if sdk.path is not None:
                    result = _attempt(executable, target, root, handler, sdk.path, in_image)
        except _EngineFailed as exc:
            return DynamicResult(False, f"dynamic check skipped: {exc}")
    if result.get("ok"):
        return DynamicResult(True, f"dynamic check: imported {handler} with {python}", python)
    if needs_sdk and sdk.path is None:
        return DynamicResult(
            True,
            f"dynamic check incomplete: {handler} needs {missing!r} "
            f"from the runtime's SDK, which is not available here "
            f"({sdk.reason})",
            python,
            detail=result.get("traceback"),
        )
    message = (
        f"importing {handler} with {python} failed: {result.get('kind')}: "
        f"{result.get('message')}. Lambda would fail every invocation with "
        "Runtime.ImportModuleError."
    )
    return DynamicResult(
        True,
        f"dynamic check: import of {handler} FAILED",
        python,
        problem=message,
        detail=result.get("traceback"),
    )
