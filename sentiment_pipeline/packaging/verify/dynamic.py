"""The dynamic check: import the handler in an interpreter of the target.

The function and its layers are unpacked into a temporary sandbox laid out like
Lambda's (``var/task``, ``opt``); an isolated interpreter (``-I -S``: no user or
host site-packages) imports the handler with exactly Lambda's path order: task
root, layer site-packages, layer ``python/``, the runtime's SDK, the standard library.

The sandbox sits at a stable path (a numbered slot, locked while in use), so the
target interpreter can keep a bytecode cache for it: ``.pyc`` files in a prefix
tree of the cache root, written as *checked-hash* pycs (PEP 552: each is used only
while the source's hash matches, never on a timestamp). The import itself runs in
full every time: every module's code executes anew; only compiling is saved.

:func:`verify` fills the sandbox while it streams the artifact for the static
checks (one inflate of every member, not two) and starts the interpreter before
that, waiting; :func:`run_dynamic` unpacks on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from sentiment_pipeline.packaging.verify.sdk import runtime_sdk

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.targets import Target
    from sentiment_pipeline.packaging.verify.modules import Placed
    from sentiment_pipeline.packaging.verify.sources import Entry

__all__ = ["DynamicResult", "LiveImport", "Sandbox", "run_dynamic", "start_import"]

TIMEOUT = 120
# Concurrent verifications on one machine each take a slot; past this many, a
# throw-away directory (no bytecode cache) is used.
_SLOTS = 32

# Runs inside the target interpreter; it must work on every Python the catalog knows.
_RUNNER = r"""
import sys
if sys.argv[5:6] != [""]:
    # A bytecode cache for the sandbox and the SDK (argv[6], ":"-separated), in the tree
    # argv[5]: checked-hash pycs only (valid while the source's hash matches, never by
    # timestamp). The interpreter's own modules keep their pycs, read and never written
    # (as with -B, which the process starts with). Without that support, none is written.
    try:
        import _imp
        _bx = sys.modules["_frozen_importlib_external"]
        _tree = sys.argv[5].rstrip("/")
        _roots = tuple(r.rstrip("/") + "/" for r in sys.argv[6].split(":") if r)
        _where = _bx.cache_from_source
        _write = _bx.SourceFileLoader._cache_bytecode
        def cache_from_source(path, debug_override=None, *, optimization=None):
            cached = _where(path, debug_override, optimization=optimization)
            if not path.startswith(_roots):
                return cached
            return _tree + path.rpartition("/")[0] + "/" + cached.rpartition("/")[2]
        def _cache_bytecode(self, source_path, bytecode_path, data):
            if not source_path.startswith(_roots):
                return None
            if data[4:8] == b"\0\0\0\0":
                try:
                    with open(source_path, "rb") as fh:
                        digest = _imp.source_hash(_bx._RAW_MAGIC_NUMBER, fh.read())
                except Exception:
                    return None  # no bytecode rather than a timestamp-checked one
                data = data[:4] + b"\3\0\0\0" + digest + data[16:]
            return _write(self, source_path, bytecode_path, data)
        _bx.cache_from_source = cache_from_source
        _bx.SourceFileLoader._cache_bytecode = _cache_bytecode
        sys.dont_write_bytecode = False
    except Exception:
        sys.dont_write_bytecode = True
import importlib, json, os, site, traceback
front, sdk = json.loads(sys.argv[1]), json.loads(sys.argv[2])
handler, out = sys.argv[3], sys.argv[4]
if sys.argv[7:] == ["wait"] and sys.stdin.readline().strip() != "go":
    sys.exit(0)  # started early; the sandbox was never completed
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
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)  # the result is written; tearing the interpreter down tells nothing more
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


def _command(
    python: str,
    target: Target,
    root: Path,
    handler: str,
    sdk: Path | None,
    bytecode: Path | None,
    *,
    wait: bool = False,
) -> list[str]:
    task, opt = root / "var/task", root / "opt"
    front = [str(task), str(opt / target.layer_site_packages), str(opt / "python")]
    cached = [str(root), *([str(sdk)] if sdk else [])]
    return [
        python,
        "-I",
        "-S",
        "-B",
        "-c",
        _RUNNER,
        json.dumps(front),
        json.dumps([str(sdk)] if sdk else []),
        handler,
        str(root / "result.json"),
        str(bytecode) if bytecode is not None else "",
        ":".join(cached),
        *(["wait"] if wait else []),
    ]


def _timed_out() -> dict[str, Any]:
    return {
        "ok": False,
        "kind": "Timeout",
        "message": f"the import took over {TIMEOUT} s; module-level code must not "
        "block (Lambda's init phase is limited to 10 s)",
    }


def _outcome(root: Path, returncode: int, output: str) -> dict[str, Any]:
    """The runner's result, or a synthetic one if it died before writing it."""
    out = root / "result.json"
    if not out.exists():
        tail = output.strip()[-2000:]
        return {
            "ok": False,
            "kind": "Crash",
            "message": f"the interpreter died (exit {returncode}): {tail}",
        }
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _attempt(
    python: str,
    target: Target,
    root: Path,
    handler: str,
    sdk: Path | None,
    in_image: tuple[Engine, str] | None = None,
    bytecode: Path | None = None,
) -> dict[str, Any]:
    """One isolated import; the runner's result, or a synthetic one if it died."""
    (root / "result.json").unlink(missing_ok=True)
    command = _command(python, target, root, handler, sdk, bytecode if in_image is None else None)
    try:
        if in_image is not None:
            proc = _run_in_image(*in_image, command, root, sdk, _sandbox_env(target, root))
        else:
            proc = subprocess.run(
                command,
                cwd=root / "var/task",
                env=_sandbox_env(target, root),
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
    except subprocess.TimeoutExpired:
        return _timed_out()
    return _outcome(root, proc.returncode, proc.stderr or proc.stdout)


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
    from sentiment_pipeline.packaging.install.engines import EngineError

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


def _bytecode_dir() -> Path | None:
    """Where the target interpreters keep bytecode of sandboxed sources (cache root)."""
    from sentiment_pipeline.packaging.cache import default_cache_root

    path = default_cache_root() / "bytecode"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


class Sandbox:
    """Lambda's layout (``var/task``, ``opt``) in scratch space, filled entry by entry.

    The root is a numbered slot under ``<scratch>/sp-verify-<uid>/``, held with an
    exclusive lock while in use: the same paths build after build, so the bytecode
    the target interpreter caches for them (keyed by path, checked by hash) is found
    again. Emptied when taken and when closed. If no slot can be had, a throw-away
    directory without a bytecode cache.
    """

    def __init__(self, placed: Sequence[Placed]) -> None:
        base = Path(_scratch(placed) or tempfile.gettempdir())
        self._lock: int | None = None
        slot = self._take_slot(base)
        self.root = slot or Path(tempfile.mkdtemp(prefix="sp-verify-", dir=base))
        self.bytecode = _bytecode_dir() if slot is not None else None
        self.failed: str | None = None
        """Why filling the sandbox stopped (a write error), if it did."""
        self._made: set[Path] = set()
        self._links: set[Path] = set()
        try:
            (self.root / "var/task").mkdir(parents=True)
            (self.root / "opt").mkdir()
        except OSError:
            self.close()
            raise

    def _take_slot(self, base: Path) -> Path | None:
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no slots
            return None
        uid = os.getuid()
        home = base / f"sp-verify-{uid}"
        try:
            home.mkdir(mode=0o700, exist_ok=True)
            st = os.lstat(home)
            if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o022:
                return None  # not ours alone: never share a path with another user
            if st.st_mode & 0o077:
                home.chmod(0o700)
            for number in range(_SLOTS):
                fd = os.open(home / f"{number}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                slot = home / str(number)
                try:
                    if slot.is_symlink() or slot.is_file():
                        slot.unlink()
                    elif slot.exists():
                        shutil.rmtree(slot)  # left over by a process that was killed
                    slot.mkdir(mode=0o700)
                except OSError:
                    os.close(fd)
                    return None
                self._lock = fd
                return slot
        except OSError:
            return None
        return None

    def has_links(self) -> bool:
        """Whether a symlink was placed (then two names may be one file)."""
        return bool(self._links)

    def dest(self, placed: Placed) -> Path:
        return self.root / ("var/task" if placed.role == "function" else "opt")

    def fail(self, exc: OSError) -> None:
        if self.failed is None:
            self.failed = f"cannot unpack here ({exc})"

    def _parent(self, path: Path) -> None:
        parent = path.parent
        if parent not in self._made:
            parent.mkdir(parents=True, exist_ok=True)
            self._made.add(parent)

    def place(self, placed: Placed, entry: Entry) -> None:
        """A directory or a symlink (files go through :meth:`create`), as ``_unpack`` does."""
        if self.failed is not None or entry.unsafe:
            return
        path = self.dest(placed) / entry.name
        try:
            if entry.kind == "dir":
                path.mkdir(parents=True, exist_ok=True)
                self._made.add(path)
            elif entry.kind == "symlink" and entry.link is not None:
                self._parent(path)
                if path.is_symlink() or path.exists():
                    path.unlink()
                path.symlink_to(entry.link)
                self._links.add(path)
        except OSError as exc:
            self.fail(exc)

    def path_of(self, placed: Placed, entry: Entry) -> Path:
        return self.dest(placed) / entry.name

    def create(self, placed: Placed, entry: Entry) -> IO[bytes] | None:
        """A file to write ``entry``'s contents to; None once the sandbox has failed."""
        if self.failed is not None or entry.unsafe:
            return None
        path = self.dest(placed) / entry.name
        try:
            self._parent(path)
            if path in self._links:  # only this sandbox made symlinks here
                path.unlink()
                self._links.discard(path)
            fh = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by the caller
            # Lambda makes everything world-readable; keep the executable bit.
            os.fchmod(fh.fileno(), 0o755 if entry.executable else 0o644)
        except OSError as exc:
            self.fail(exc)
            return None
        return fh

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)  # releases the slot
            self._lock = None


def _skipped_no_interpreter(target: Target, interpreter: str | None) -> DynamicResult:
    if interpreter:
        return DynamicResult(
            False,
            f"dynamic check skipped: {interpreter} is not a "
            f"python{target.python} interpreter for {target.machine}",
        )
    return DynamicResult(
        False,
        f"dynamic check skipped: no python{target.python} interpreter for {target.architecture}",
    )


def _conclude(
    target: Target,
    handler: str,
    python: str,
    result: dict[str, Any],
    sdk: Any,
    retry: Any,
    *,
    offline: bool,
) -> DynamicResult:
    """From the runner's result to the check's; ``retry(sdk_path)`` imports again with
    the SDK when the import missed an SDK module that was not cached."""
    missing = (result.get("missing") or "").split(".")[0]
    needs_sdk = not result.get("ok") and missing in target.sdk_modules
    if needs_sdk and sdk.path is None and not offline:
        sdk = runtime_sdk(target)
        if sdk.path is not None:
            result = retry(sdk.path)
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


class LiveImport:
    """The dynamic check of :func:`verify`, started before its sandbox is filled.

    The interpreter starts at once and waits; the caller fills :attr:`sandbox` (while
    it streams the artifact for the static checks), then calls :meth:`go`, may do other
    work while the import runs, and collects it with :meth:`finish`. :meth:`close`
    always: it stops a child that is still waiting and empties the sandbox.
    """

    def __init__(
        self, target: Target, handler: str, python: str, sandbox: Sandbox, *, offline: bool
    ) -> None:
        self.target, self.handler, self.python = target, handler, python
        self.sandbox = sandbox
        self.offline = offline
        self.sdk = runtime_sdk(target, offline=True)
        root = sandbox.root
        self._log = open(root / "output.log", "w+b")  # noqa: SIM115 - closed in close()
        read, self._go = os.pipe()
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                _command(python, target, root, handler, self.sdk.path, sandbox.bytecode, wait=True),
                cwd=root / "var/task",
                env=_sandbox_env(target, root),
                stdin=read,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
        except OSError:
            os.close(self._go)
            self._log.close()
            raise
        finally:
            os.close(read)
        self._started: float | None = None

    def go(self) -> None:
        """The sandbox is complete: import now."""
        if self._started is None:
            self._started = time.monotonic()
            with contextlib.suppress(OSError):  # a child gone: finish() says how it ended
                os.write(self._go, b"go\n")
            os.close(self._go)
            self._go = -1

    def finish(self) -> DynamicResult:
        if self.sandbox.failed is not None:
            return DynamicResult(False, f"dynamic check skipped: {self.sandbox.failed}")
        self.go()
        assert self._proc is not None and self._started is not None
        # A blocking wait, and a timer that kills the child at the deadline: waiting with
        # a timeout polls with sleeps of up to 50 ms, which would add to every import.
        proc, killed = self._proc, threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(max(0.0, TIMEOUT - (time.monotonic() - self._started)), kill)
        timer.start()
        try:
            returncode = proc.wait()
        finally:
            timer.cancel()
        self._proc = None
        if killed.is_set():
            result = _timed_out()
        else:
            self._log.seek(0)
            output = self._log.read().decode("utf-8", "replace")
            result = _outcome(self.sandbox.root, returncode, output)
        root = self.sandbox.root

        def retry(sdk_path: Path) -> dict[str, Any]:
            return _attempt(
                self.python, self.target, root, self.handler, sdk_path,
                bytecode=self.sandbox.bytecode,
            )  # fmt: skip

        return _conclude(
            self.target, self.handler, self.python, result, self.sdk, retry, offline=self.offline
        )

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        if self._go >= 0:
            os.close(self._go)  # a child still waiting reads end-of-file and leaves
            self._go = -1
        self._stop()
        self._log.close()
        self.sandbox.close()


def start_import(
    target: Target,
    placed: Sequence[Placed],
    handler: str,
    *,
    interpreter: str | None = None,
    offline: bool = False,
) -> LiveImport | None:
    """Start the import of ``handler`` with a local interpreter of the target, waiting for
    its sandbox; None when there is no such interpreter or no room to run it (then
    :func:`run_dynamic` decides: a container engine, or a skip)."""
    python = find_interpreter(target, interpreter)
    if python is None:
        return None
    try:
        sandbox = Sandbox(placed)
    except OSError:
        return None
    try:
        return LiveImport(target, handler, python, sandbox, offline=offline)
    except OSError:
        sandbox.close()
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
        return _skipped_no_interpreter(target, interpreter)
    sdk = runtime_sdk(target, offline=True)
    try:
        sandbox = Sandbox(placed)
    except OSError as exc:
        return DynamicResult(False, f"dynamic check skipped: cannot unpack here ({exc})")
    try:
        root = sandbox.root
        try:
            for p in sorted(placed, key=lambda p: p.order):  # layers unpack in the order given
                _unpack(p, sandbox.dest(p))
        except OSError as exc:
            return DynamicResult(False, f"dynamic check skipped: cannot unpack here ({exc})")
        executable = "python3" if in_image else python
        bytecode = None if in_image else sandbox.bytecode

        def retry(sdk_path: Path) -> dict[str, Any]:
            return _attempt(executable, target, root, handler, sdk_path, in_image, bytecode)

        try:
            result = _attempt(executable, target, root, handler, sdk.path, in_image, bytecode)
            mismatch = _image_mismatch(target, result) if in_image else None
            if mismatch:
                return DynamicResult(False, f"dynamic check skipped: {image}: {mismatch}")
            return _conclude(target, handler, python, result, sdk, retry, offline=offline)
        except _EngineFailed as exc:
            return DynamicResult(False, f"dynamic check skipped: {exc}")
    finally:
        sandbox.close()
