"""Bytecode without an engine: ``.pyc`` compiled by an interpreter of the target's Python here.

A ``.pyc`` depends on the Python version (its magic number and the compiler), not on
the machine: any CPython of the target's ``X.Y`` (GIL-enabled) on this machine writes
the bytes the runtime's would. :func:`find_compiler` picks one (the candidates the
verifier's dynamic check uses); :func:`wheel_bytecode` and :func:`source_bytecode`
compile with it, as the engine path does (``compileall`` in the build image):
unchecked-hash ``.pyc`` (no mtime in the header; Python never re-checks them against
the source), paths as Lambda has them (``/var/task/...``, ``/opt/python/...``) in
tracebacks, ``PYTHONHASHSEED=0``, a file that does not compile left without one.

Each wheel is compiled once per interpreter identity and Lambda path, in a process of
its own (so its bytes never depend on what else was compiled) and kept in the cache
root as a zip of deflated members copied into artifacts as they are, with their
RECORD lines. The same inputs give byte-identical ``.pyc``.

>>> compiler = find_compiler(target)  # doctest: +SKIP
>>> compiler.identity  # doctest: +SKIP
'cpython-3.13.5-f30d0d0a'
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import struct
import subprocess
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.targets import Target

__all__ = [
    "BytecodeError",
    "Compiled",
    "Compiler",
    "find_compiler",
    "pyc_name",
    "source_bytecode",
    "wheel_bytecode",
]

# Run by the target's interpreter (3.9+: standard library only, no newer syntax).
# stdin: JSON [[zip path or "", file path or member name, dfile], ...]; stdout: for
# each job a 4-byte big-endian length and the .pyc, 0xFFFFFFFF when it does not compile.
_PROGRAM = r"""
import importlib._bootstrap_external as ext, importlib.util, json, struct, sys, zipfile
out = sys.stdout.buffer
archives = {}
for archive, name, dfile in json.load(sys.stdin):
    if archive:
        if archive not in archives:
            archives[archive] = zipfile.ZipFile(archive)
        data = archives[archive].read(name)
    else:
        with open(name, "rb") as fh:
            data = fh.read()
    try:
        code = compile(data, dfile, "exec", dont_inherit=True, optimize=-1)
    except Exception:
        out.write(struct.pack(">I", 0xFFFFFFFF))
        continue
    pyc = ext._code_to_hash_pyc(code, importlib.util.source_hash(data), checked=False)
    out.write(struct.pack(">I", len(pyc)) + bytes(pyc))
out.flush()
"""

_IDENTITY = (
    "import importlib.util, json, sys, sysconfig;"
    "print(json.dumps([sys.implementation.name, '%d.%d.%d' % sys.version_info[:3],"
    " sys.implementation.cache_tag, importlib.util.MAGIC_NUMBER.hex(),"
    " bool(sysconfig.get_config_var('Py_GIL_DISABLED'))]))"
)
_FAILED = 0xFFFFFFFF
_LENGTH = struct.Struct(">I")
_INDEX = ".sp-bytecode.json"  # the cache zip's own list: pyc name -> RECORD hash and size
_CACHE_FORMAT = "1"


class BytecodeError(PipelineError, RuntimeError):
    """The target's interpreter could not compile (it crashed or could not start)."""


@attrs.frozen
class Compiler:
    """A CPython of the target's version on this machine that compiles ``.pyc``."""

    executable: str
    version: str
    """Its full version ("3.13.5"): part of every cache key."""
    cache_tag: str
    """``sys.implementation.cache_tag`` ("cpython-313"), in every ``.pyc`` name."""
    magic: str
    """The bytecode magic number, hex."""

    @property
    def identity(self) -> str:
        """What the ``.pyc`` it writes depend on: implementation, version and magic."""
        return f"cpython-{self.version}-{self.magic}"


@attrs.frozen
class Compiled:
    """``.pyc`` files for one wheel or one set of sources, by name relative to the site root.

    ``archive`` holds them deflated (a wheel's, from the cache: copied into the artifact
    without recompression); else ``data`` has their bytes. ``record`` has each one's
    RECORD hash and size.
    """

    record: dict[str, tuple[str, int]]
    archive: Path | None = None
    data: dict[str, bytes] = attrs.field(factory=dict)


def pyc_name(source: str, cache_tag: str) -> str:
    """Where Python looks for the bytecode of ``source`` (PEP 3147).

    >>> pyc_name("pkg/mod.py", "cpython-313")
    'pkg/__pycache__/mod.cpython-313.pyc'
    >>> pyc_name("top.py", "cpython-39")
    '__pycache__/top.cpython-39.pyc'
    """
    folder, _, leaf = source.rpartition("/")
    cached = f"__pycache__/{leaf.removesuffix('.py')}.{cache_tag}.pyc"
    return f"{folder}/{cached}" if folder else cached


def record_hash(data: bytes) -> str:
    """A RECORD hash field (``sha256=`` urlsafe base64, no padding)."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def _identity(executable: str) -> Compiler | None:
    """The interpreter's identity, asked once per file identity and kept in the cache root."""
    from sentiment_pipeline.packaging.cache import default_cache_root

    try:
        st = Path(executable).stat()
    except OSError:
        return None
    stamp = [str(Path(executable).resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]
    path = default_cache_root() / "pyc" / "compilers.json"
    try:
        known: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        known = {}
    hit = known.get(executable) if isinstance(known, dict) else None
    info: Any = hit.get("info") if isinstance(hit, dict) and hit.get("stamp") == stamp else None
    if info is None:
        try:
            out = subprocess.run(
                [executable, "-I", "-S", "-c", _IDENTITY],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout
            info = json.loads(out)
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        known = known if isinstance(known, dict) else {}
        known[executable] = {"stamp": stamp, "info": info}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{_unique()}.tmp")
            tmp.write_text(json.dumps(known, indent=1, sort_keys=True), "utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # only slower next time
    try:
        impl, version, cache_tag, magic, free_threaded = info
    except (TypeError, ValueError):
        return None
    if impl != "cpython" or free_threaded:
        return None
    return Compiler(str(executable), str(version), str(cache_tag), str(magic))


def find_compiler(target: Target, explicit: str | None = None) -> Compiler | None:
    """A GIL-enabled CPython of the target's ``X.Y`` on this machine, of any architecture
    (bytecode does not depend on it), or None. ``explicit``: that interpreter only."""
    return _find(target.python, target.python_version, explicit)


@functools.cache
def _find(python: str, version: tuple[int, int], explicit: str | None) -> Compiler | None:
    from sentiment_pipeline.packaging.verify.interpreters import _is_script, candidates, probe

    for candidate in [explicit] if explicit else candidates(python):
        if not explicit and _is_script(candidate):
            continue
        info = probe(candidate)
        if info is None or info[0] != "cpython" or info[1] != version or info[3]:
            continue
        compiler = _identity(candidate)
        if compiler is not None and compiler.version.startswith(f"{python}."):
            return compiler
    return None


def _run(compiler: Compiler, jobs: Sequence[tuple[str, str, str]]) -> list[bytes | None]:
    """Compile ``jobs`` (zip or "", member or file, dfile) in one process of ``compiler``."""
    if not jobs:
        return []
    # Not -I: it implies -E, which ignores PYTHONHASHSEED, and before 3.11 marshal
    # writes frozenset constants in hash order. The environment is this one alone, and
    # the working directory (first on sys.path with -c) an empty one.
    try:
        with tempfile.TemporaryDirectory(prefix="sp-pyc-") as empty:
            proc = subprocess.run(
                [compiler.executable, "-s", "-S", "-c", _PROGRAM],
                input=json.dumps([list(job) for job in jobs]).encode("utf-8"),
                capture_output=True,
                env={"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")},
                cwd=empty,
                timeout=900,
                check=False,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BytecodeError(f"cannot run {compiler.executable} to compile bytecode: {exc}") from exc
    out, offset = proc.stdout, 0
    results: list[bytes | None] = []
    while proc.returncode == 0 and offset + 4 <= len(out) and len(results) < len(jobs):
        (length,) = _LENGTH.unpack_from(out, offset)
        offset += 4
        if length == _FAILED:
            results.append(None)
            continue
        results.append(out[offset : offset + length])
        offset += length
    if proc.returncode != 0 or len(results) != len(jobs) or offset != len(out):
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise BytecodeError(
            f"{compiler.executable} (Python {compiler.version}) failed compiling bytecode "
            f"(exit {proc.returncode}): {' | '.join(tail) or 'no output'}"
        )
    return results


def _wheel_digest(wheel: Path) -> str:
    """The wheel's sha256: its folder's name in the content-addressed cache, else hashed."""
    folder = wheel.parent.name
    if re.fullmatch(r"[0-9a-f]{64}", folder) and wheel.parent.parent.name == folder[:2]:
        return folder
    from sentiment_pipeline.packaging.cache import sha256_file

    return sha256_file(wheel)


def wheel_bytecode(compiler: Compiler, wheel: Path, sources: dict[str, str], root: str) -> Compiled:
    """``.pyc`` for the ``.py`` files of ``wheel``: ``sources`` maps each member of the
    wheel to its name relative to the site root; ``root`` is that root in Lambda
    ("/var/task", "/opt/python"). Cached by wheel, interpreter and root."""
    from sentiment_pipeline.packaging.cache import default_cache_root

    payload = json.dumps([_CACHE_FORMAT, _wheel_digest(wheel), compiler.identity, root])
    key = hashlib.sha256(payload.encode()).hexdigest()
    cached = default_cache_root() / "pyc" / key[:2] / f"{key}.zip"
    record = _read_index(cached)
    if record is not None:
        return Compiled(record, archive=cached)
    names = sorted(sources)
    jobs = [(str(wheel), member, f"{root}/{sources[member]}") for member in names]
    results = _run(compiler, jobs)
    compiled = {
        pyc_name(sources[member], compiler.cache_tag): pyc
        for member, pyc in zip(names, results, strict=True)
        if pyc is not None
    }
    record = {name: (record_hash(pyc), len(pyc)) for name, pyc in compiled.items()}
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{_unique()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name in sorted(compiled):
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), compiled[name])
        index = {name: list(value) for name, value in record.items()}
        zf.writestr(_INDEX, json.dumps(index, sort_keys=True))
    os.replace(tmp, cached)
    return Compiled(record, archive=cached)


def _unique() -> str:
    """A temporary file's tag no other process or thread uses at the same time (builds
    compile artifacts on several threads, possibly the same wheel twice)."""
    return f"{os.getpid()}.{threading.get_ident()}"


def _read_index(path: Path) -> dict[str, tuple[str, int]] | None:
    try:
        with zipfile.ZipFile(path) as zf:
            index = json.loads(zf.read(_INDEX))
        return {str(name): (str(digest), int(size)) for name, (digest, size) in index.items()}
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile):
        return None


def source_bytecode(compiler: Compiler, files: dict[str, Path], root: str) -> Compiled:
    """``.pyc`` for the project's own ``.py`` files (name relative to the site root ->
    file). Each one is cached by its content, the interpreter and its path in Lambda, so
    only new or changed sources are compiled (one interpreter for all of them)."""
    from sentiment_pipeline.packaging.cache import default_cache_root

    folder = default_cache_root() / "pyc" / "sources"
    data: dict[str, bytes] = {}
    missing: list[tuple[str, Path]] = []
    for name in sorted(files):
        source = files[name].read_bytes()
        payload = json.dumps([_CACHE_FORMAT, compiler.identity, f"{root}/{name}"]).encode()
        key = hashlib.sha256(payload + b"\0" + source).hexdigest()
        cached = folder / key[:2] / f"{key}.pyc"
        try:
            data[pyc_name(name, compiler.cache_tag)] = cached.read_bytes()
        except OSError:
            missing.append((name, cached))
    if missing:
        results = _run(compiler, [("", str(files[name]), f"{root}/{name}") for name, _ in missing])
        for (name, cached), pyc in zip(missing, results, strict=True):
            if pyc is None:
                continue
            data[pyc_name(name, compiler.cache_tag)] = pyc
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_name(f".{cached.name}.{_unique()}.tmp")
                tmp.write_bytes(pyc)
                os.replace(tmp, cached)
            except OSError:
                pass  # only slower next time
    data = dict(sorted(data.items()))
    record = {name: (record_hash(pyc), len(pyc)) for name, pyc in data.items()}
    return Compiled(record, data=data)
