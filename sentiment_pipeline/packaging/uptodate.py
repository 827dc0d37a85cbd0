"""Is the last build still current? Answered from file metadata, before anything heavy loads.

An unchanged build already rebuilds nothing (:mod:`.reuse`: every artifact's key is a
hash of its inputs' *contents*), but to know that it must parse the manifest and the
lock, hash every source and every artifact. A **stamp**, written after a successful
build, records the metadata of everything that build read and wrote: the manifest, the
lock, each requirements, project and ``uv.lock`` file, every file under each Lambda's
and layer's ``sources`` and each path dependency, the bytecode compilers, the artifacts
and reports it wrote, the builder's own files, the environment variables that steer a
build, and the request (its options). When the same request finds every one of them
as recorded (modification and change times in nanoseconds, size, inode, mode: how git
and ninja tell a file unchanged), the build's outcome is the recorded one: its reports
are read back and printed as cache hits, without importing the manifest's schema.

Anything else (a file added, removed, edited or touched; an artifact replaced; another
request that rewrote a report; another builder version) is a miss, and the full build
decides, writing a new stamp. A file that changed *while* the build read it is caught
as git catches "racily clean" entries: a stamp is not written when an input's times
are not older than the build's start, so that run is followed by a full check.

Stamps live in ``<out>/.stamps/`` (removing the output removes them). Nothing here
is needed for correctness: without a stamp, the build is the full incremental one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from sentiment_pipeline.packaging.manifest import LambdaSpec, LayerSpec, Manifest
    from sentiment_pipeline.packaging.results import BuildResult

__all__ = ["Stamp", "current", "request_key", "write_stamp"]

FORMAT = 1
RACY_NS = 20_000_000
"""An input modified this close to (or after) the build's start may have changed while
it was read: no stamp then. File times come from the kernel's coarse clock, which lags
by up to one tick (4 ms at 250 Hz, 10 ms at 100 Hz)."""

_STEERING_PREFIXES = (
    "SENTIMENT_PIPELINE_",
    "UV_",
    "PIP_",
    "BUILDAH_",
    "CONTAINERS_",
    "DOCKER_",
)
_STEERING = frozenset(
    {"SOURCE_DATE_EPOCH", "XDG_CACHE_HOME", "PATH", "HOME", "VIRTUAL_ENV", "PYENV_VERSION"}
)
_NOT_WALKED = frozenset(
    {".git", ".hg", ".svn", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
)
"""Folders a source walk skips: the build never ships them (host bytecode, VCS data)."""

Signature = list[Any]
"""``[mtime_ns, ctime_ns, size, inode, mode]`` of a file, or ``None`` when absent."""


def _signature(path: str) -> Signature | None:
    try:
        st = os.stat(path)  # noqa: PTH116 (str paths: no Path per file in the hot loop)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_mode]


def _walk(root: str) -> Iterator[tuple[str, Signature]]:
    """Every file under ``root`` (relative name, signature), in a stable order."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except NotADirectoryError:
        signature = _signature(root)
        if signature is not None:
            yield "", signature
        return
    except OSError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=True):
            if entry.name in _NOT_WALKED or entry.name.endswith(".egg-info"):
                continue
            for name, signature in _walk(entry.path):
                yield f"{entry.name}/{name}", signature
        elif not entry.name.endswith((".pyc", ".pyo")):
            signature = _signature(entry.path)
            if signature is not None:
                yield entry.name, signature


def _tree(root: str) -> dict[str, Signature] | None:
    """``root``'s files by relative name (a file: ``{"": signature}``); None if absent."""
    if not os.path.exists(root):  # noqa: PTH110 (see _signature)
        return None
    return dict(_walk(root))


def _builder_tree() -> str:
    """The folder of this package: an edited builder (a checkout) is another builder."""
    return str(Path(__file__).resolve().parents[1])


def _environment() -> dict[str, str]:
    return {
        k: v
        for k, v in sorted(os.environ.items())
        if k in _STEERING or k.startswith(_STEERING_PREFIXES)
    }


def request_key(request: Mapping[str, Any]) -> str:
    """The stamp's name for a build request (its options, paths absolute), this Python."""
    payload = json.dumps({"request": request, "python": sys.executable}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _stamp_path(out: Path, key: str) -> Path:
    return out / ".stamps" / f"{key}.json"


class Stamp:
    """What a current stamp says the build produced: its reports (one per backend), its
    artifacts (report, key) in the build's order (a report also keeps other Lambdas'
    entries after a ``--lambda`` build), and its warnings."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.reports: list[str] = list(data["reports"])
        self.warnings: list[str] = list(data["warnings"])
        self.artifacts: list[tuple[str, str]] = [(r, k) for r, k in data["artifacts"]]
        self._read: list[dict[str, Any]] = []

    def _documents(self) -> list[dict[str, Any]]:
        if not self._read:
            self._read = [dict(json.loads(Path(r).read_text())) for r in self.reports]
        return self._read

    def result(self, seconds: float) -> BuildResult:
        """The recorded build, every artifact a cache hit; ``seconds``, the check's time,
        shared among them. Each ``report.json`` is rewritten to say so, as a build that
        reused everything writes it, and the stamp follows its new metadata."""
        from sentiment_pipeline.packaging.results import ArtifactResult, BuildResult

        documents = dict(zip(self.reports, self._documents(), strict=True))
        entries = {
            (report, entry["key"]): entry
            for report, document in documents.items()
            for entry in document["artifacts"]
        }
        each = seconds / max(1, len(self.artifacts))
        artifacts: list[ArtifactResult] = []
        for report, key in self.artifacts:
            entry = entries[report, key]
            entry["cache_hit"], entry["seconds"] = True, each
            artifacts.append(ArtifactResult.from_json(entry))
        for report, document in documents.items():
            _write_json(Path(report), document, indent=2)
        written = {str(r) for r in self.reports}
        self.data["files"] = [
            [path, _signature(path) if path in written else signature]
            for path, signature in self.data["files"]
        ]
        _write_json(self.path, self.data)
        return BuildResult(tuple(artifacts), tuple(Path(r) for r in self.reports))


def _write_json(path: Path, data: dict[str, Any], indent: int | None = None) -> None:
    """``path`` whole or not at all (a temporary file renamed over it), mode 0644."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(data, tmp, indent=indent)
        if indent is not None:
            tmp.write("\n")
    Path(tmp.name).chmod(0o644)
    os.replace(tmp.name, path)


def current(out: Path, key: str) -> Stamp | None:
    """The stamp of request ``key`` under ``out`` when everything it recorded is still as
    recorded; None otherwise (no stamp, unreadable, or anything changed)."""
    try:
        data = json.loads(_stamp_path(out, key).read_text())
        if data.get("format") != FORMAT or data.get("environment") != _environment():
            return None
        for path, signature in data["files"]:
            if _signature(path) != signature:
                return None
        for root, tree in data["trees"]:
            if _tree(root) != tree:
                return None
        # Read the reports now: one that is unreadable is a miss, not an error later.
        stamp = Stamp(_stamp_path(out, key), data)
        documents = zip(stamp.reports, stamp._documents(), strict=True)
        keys = {(r, a["key"]) for r, d in documents for a in d["artifacts"]}
        return stamp if all(pair in keys for pair in stamp.artifacts) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _inputs(manifest: Manifest, compilers: Iterable[str]) -> tuple[list[str], list[str]]:
    """(files, trees) a build of ``manifest`` reads: the manifest; each Lambda's and
    layer's sources, requirements file, project (its ``pyproject.toml`` and ``uv.lock``)
    and path dependencies; the bytecode compilers."""
    from sentiment_pipeline.packaging.pathdeps import directory_of

    root = manifest.root
    files = {str(manifest.path)}
    trees: set[str] = set()
    specs: list[LambdaSpec | LayerSpec] = [*manifest.lambdas.values(), *manifest.layers.values()]
    for spec in specs:
        trees.update(os.path.normpath(root / s) for s in spec.sources)
        if spec.requirements_file:
            files.add(os.path.normpath(root / spec.requirements_file))
        if spec.project:
            project = Path(os.path.normpath(root / spec.project))
            files.update({str(project), str(project.with_name("uv.lock"))})
        for requirement in manifest.requirements_of(spec):
            directory = directory_of(requirement)
            if directory is not None:
                trees.add(os.path.normpath(root / directory))
    files.update(os.path.realpath(c) for c in compilers)
    return sorted(files), sorted(trees)


def _racy(signatures: Iterable[Signature | None], started_ns: int) -> bool:
    return any(s is not None and max(s[0], s[1]) >= started_ns - RACY_NS for s in signatures)


def write_stamp(
    out: Path,
    key: str,
    manifest: Manifest,
    result: BuildResult,
    *,
    started_ns: int,
    warnings: Sequence[str] = (),
) -> bool:
    """Record a successful build of request ``key`` (begun at ``started_ns``, wall clock):
    what it read and wrote. Returns False, writing nothing, when the build failed or an
    input changed while it ran (the next build then checks in full)."""
    path = _stamp_path(out, key)
    if not result.ok:
        path.unlink(missing_ok=True)
        return False
    compilers = [
        note.split(" by ", 1)[1].split(" (", 1)[0]
        for a in result.artifacts
        for note in a.notes
        if note.startswith("bytecode compiled by ")
    ]
    input_files, input_trees = _inputs(manifest, compilers)
    trees = [(t, _tree(t)) for t in input_trees]
    signatures = {f: _signature(f) for f in input_files}
    if _racy(signatures.values(), started_ns) or any(
        _racy((tree or {}).values(), started_ns) for _, tree in trees
    ):
        path.unlink(missing_ok=True)
        return False
    # Written by the build itself: the lock (when it changed), the reports, the artifacts.
    written = [str(manifest.path.with_suffix(".lock")), *(str(r) for r in result.reports)]
    report_of = {Path(r).parent.name: str(r) for r in result.reports}
    outputs = [[report_of[a.backend], a.key] for a in result.artifacts]
    for a in result.artifacts:
        artifact = Path(a.path)
        if artifact.is_dir():
            trees.append((str(artifact), _tree(str(artifact))))
            tarball = artifact.with_name(f"{artifact.name}.tar")
            if tarball.exists():
                written.append(str(tarball))
        else:
            written.append(str(artifact))
    signatures.update({f: _signature(f) for f in written})
    builder = _builder_tree()
    trees.append((builder, _tree(builder)))
    data = {
        "format": FORMAT,
        "written": time.time(),
        "environment": _environment(),
        "files": sorted(signatures.items()),
        "trees": trees,
        "reports": [str(r) for r in result.reports],
        "artifacts": outputs,
        "warnings": list(warnings),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_json(path, data)
    return True
