"""Path dependencies built into wheels: a monorepo's shared library, a uv workspace member.

A lock entry with a ``directory`` (:class:`~sentiment_pipeline.packaging.lock.LockedWheel`)
is built with ``uv build --wheel`` and then installed like any wheel. The wheel is kept
in the cache under the hash of its source tree (:func:`.pathdeps.tree_digest`: names,
modes and bytes, never modification times), so an unchanged library is built once, on
any clone, and a change to it rebuilds only the artifacts that contain it.

Only pure-Python packages are built here: compiled code must come from the target's
interpreter, so a path dependency that compiles is refused with the ways out.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.pathdeps import tree_digest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.cache import WheelCache
    from sentiment_pipeline.packaging.lock import LockedWheel

__all__ = ["LocalPackageError", "SourceDigests", "local_wheel"]


class LocalPackageError(PipelineError, RuntimeError):
    """A path dependency that cannot be built into a wheel."""


class SourceDigests:
    """The tree digest of each path dependency's folder, computed once per build.

    Forty Lambdas that share a library hash its tree once, not forty times.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._known: dict[str, str] = {}

    def __call__(self, directory: str) -> str:
        """The digest of ``directory`` (relative to the manifest's folder)."""
        if directory not in self._known:
            folder = self.root / directory
            if not folder.is_dir():
                raise LocalPackageError(
                    f"path dependency {directory!r} does not exist under {self.root}; restore "
                    "it, or remove it from the requirements (then the lock is resolved again)"
                )
            self._known[directory] = tree_digest(folder)
        return self._known[directory]

    def identities(self, entries: Sequence[LockedWheel]) -> list[str]:
        """What each entry is, for an artifact's key: a wheel's sha256, a folder's tree."""
        return [
            f"tree:{w.directory}:{self(w.directory)}" if w.directory is not None else w.sha256
            for w in entries
        ]


def local_wheel(
    entry: LockedWheel, digests: SourceDigests, cache: WheelCache, *, offline: bool
) -> Path:
    """The wheel of the path dependency ``entry``, built unless its tree's is cached."""
    assert entry.directory is not None
    folder = digests.root / entry.directory
    key = f"tree-{digests(entry.directory)}"
    cached = cache.built(key)
    if cached is not None:
        return cached
    from packaging.utils import parse_wheel_filename

    from sentiment_pipeline.packaging.lock import uv_binary

    with cache.scratch(key) as tmp:
        command = [
            uv_binary(),
            "build",
            "--wheel",
            "--out-dir",
            tmp,
            "--python",
            sys.executable,
            "--no-python-downloads",
            "--quiet",
            str(folder),
        ]
        if offline:
            command.append("--offline")
        try:
            proc = subprocess.run(command, capture_output=True, text=True, check=False)
        except OSError as exc:
            raise LocalPackageError(
                f"cannot build the path dependency {entry.name} ({entry.directory}): cannot "
                f"run uv ({exc}); pip install uv"
            ) from exc
        built = sorted(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or len(built) != 1:
            tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise LocalPackageError(
                f"cannot build the path dependency {entry.name} ({entry.directory}) into a "
                f"wheel: {tail or f'uv build exited {proc.returncode}'}. Fix: make `uv build "
                f"--wheel {entry.directory}` work in {digests.root}"
            )
        tags = parse_wheel_filename(built[0].name)[3]
        if any(t.abi != "none" or t.platform != "any" for t in tags):
            raise LocalPackageError(
                f"the path dependency {entry.name} ({entry.directory}) builds native code "
                f"({built[0].name}), which only the target's interpreter may compile. Build "
                "its manylinux wheel for the target in CI and require that wheel instead, or "
                "keep the compiled part in a package published with wheels"
            )
        return cache.keep_built(key, built[0])
