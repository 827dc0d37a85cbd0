"""What ``serve --watch`` watches, and which Lambdas a change touches.

Each Lambda is watched through the files its artifact is made of, as the build
sees them: its ``sources`` and those of its layers (with their ``exclude``
globs, so ``__pycache__`` and other unshipped files never trigger a rebuild),
its and its layers' ``requirements-file`` and ``project`` (with the project's
``uv.lock``). The manifest itself is watched too. Files are polled: their
modification time and size, every ``interval`` seconds (no dependency, works on
every file system; a few hundred source files cost well under a millisecond of
``stat`` calls each time).

Not watched: the trees of path dependencies (``NAME @ file:PATH``) and the lock
file (the build itself writes it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sentiment_pipeline.packaging.manifest import LambdaSpec, LayerSpec, Manifest
    from sentiment_pipeline.packaging.plan import FunctionPlan

__all__ = ["Snapshot", "changed_entries", "changed_files", "snapshot", "watched_files"]

Stamp = tuple[int, int] | None
"""A file's modification time (ns) and size; None when it does not exist."""
Snapshot = dict[Path, Stamp]


def _requirement_files(manifest: Manifest, spec: LambdaSpec | LayerSpec) -> list[Path]:
    files = []
    if spec.requirements_file:
        files.append(manifest.root / spec.requirements_file)
    if spec.project is not None:
        project = manifest.root / spec.project
        pyproject = project / "pyproject.toml" if project.is_dir() else project
        files += [pyproject, pyproject.with_name("uv.lock")]
    return files


def watched_files(manifest: Manifest, plan: FunctionPlan) -> list[Path]:
    """Every file the Lambda of ``plan`` is built from (absolute), the manifest aside.

    Listed anew on each call, so a file added to a source folder is seen; a
    ``sources`` entry that does not exist is watched as a path that may appear.
    """
    from sentiment_pipeline.packaging.install.crossinstall import InstallError, source_members

    sets = [(layer.root, layer.sources, layer.exclude) for layer in plan.layers]
    sets.append((plan.root, plan.sources, plan.exclude))
    files: list[Path] = []
    for root, sources, exclude in sets:
        for source in sources:
            try:
                members = source_members(root, [source], exclude=exclude)
            except InstallError:
                files.append(root / source)
                continue
            files += [Path(m.file) for m in members if m.file is not None]
    spec = manifest.lambdas[plan.name]
    for layer in spec.layers:
        if layer in manifest.layers:
            files += _requirement_files(manifest, manifest.layers[layer])
    files += _requirement_files(manifest, spec)
    return list(dict.fromkeys(files))


def _stamp(path: Path) -> Stamp:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def snapshot(files: Iterable[Path]) -> Snapshot:
    """The stamp of each file now."""
    return {path: _stamp(path) for path in files}


def changed_files(before: Snapshot, now: Snapshot) -> list[Path]:
    """Files added, removed or modified between two snapshots, in ``now``'s order."""
    changed = [p for p, stamp in now.items() if before.get(p, ()) != stamp]
    return changed + [p for p in before if p not in now and before[p] is not None]


def changed_entries(old: Manifest, new: Manifest, names: Sequence[str]) -> list[str]:
    """The Lambdas of ``names`` whose manifest entry (or a layer or default it uses) differs."""
    if old.defaults != new.defaults:
        return [n for n in names if n in new.lambdas]
    out = []
    for name in names:
        before, after = old.lambdas.get(name), new.lambdas.get(name)
        if before is None or after is None:
            continue
        layers = {*before.layers, *after.layers}
        if before != after or any(old.layers.get(n) != new.layers.get(n) for n in layers):
            out.append(name)
    return out
