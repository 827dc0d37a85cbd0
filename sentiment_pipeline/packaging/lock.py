"""Locks: the exact wheels (name, version, file, sha256) of each artifact for its target.

Resolution uses ``uv pip compile --format pylock.toml`` with the target's platform
and Python version, so only wheels the runtime accepts are chosen. Locks live in
the lock file next to the manifest (``lambdas.lock`` for ``lambdas.toml``, else the
manifest's path with the suffix ``.lock``), one ``[[lock]]`` per Lambda or layer,
keyed by a hash of its inputs: unchanged inputs never call the resolver again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.pathdeps import (
    absolute,
    directory_of,
    metadata_digest,
    package_version,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.targets import Target

__all__ = [
    "LocalPins",
    "Lock",
    "LockFile",
    "LockedWheel",
    "ResolutionError",
    "inputs_hash",
    "resolve",
    "uv_binary",
]

FORMAT_VERSION = 1


class ResolutionError(PipelineError, RuntimeError):
    """The requirements have no solution of wheels for the target."""


@attrs.frozen(order=True)
class LockedWheel:
    """One distribution of a lock: a wheel for the target, or (``sdist``) a source archive
    that has no wheel for it and is built into one (:mod:`.install.sdist`; native code only
    inside the target's build image, through a container engine)."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str
    size: int | None = None
    sdist: bool = False
    directory: str | None = None
    """A path dependency: its source folder, relative to the manifest's folder (POSIX).
    Such an entry has no file, URL or hash: it is built into a wheel from its source at
    every build whose tree changed (:mod:`.install.localpackages`)."""


@attrs.frozen
class Lock:
    key: str
    runtime: str
    architecture: str
    inputs: str
    wheels: tuple[LockedWheel, ...]

    def names(self) -> dict[str, str]:
        return {w.name: w.version for w in self.wheels}


def inputs_hash(requirements: Sequence[str], target: Target, root: Path | None = None) -> str:
    """What a lock depends on, hashed: the requirements (in any order) and the target.

    With path dependencies (``NAME @ file:PATH``, relative to ``root``), also the files
    that declare their metadata: a shared library that gains a dependency is resolved
    again, one whose code changed is not. A lock whose ``inputs`` equal this for an
    artifact's requirements is used as it is.
    """
    fields: dict[str, object] = {
        "format": FORMAT_VERSION,
        "requirements": sorted(requirements),
        "runtime": target.runtime,
        "architecture": target.architecture,
    }
    local = sorted({d for r in requirements if (d := directory_of(r)) is not None})
    if local:
        # Only then: locks without path dependencies keep the inputs they always had.
        base = root if root is not None else Path()
        fields["local"] = {d: metadata_digest(base / d) for d in local}
    payload = json.dumps(fields)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def uv_binary() -> str:
    """The uv executable: the ``uv`` dependency's, else one on ``PATH``."""
    try:
        from uv import find_uv_bin
    except ImportError:  # pragma: no cover - uv is a dependency; a bare PATH install also works
        import shutil

        found = shutil.which("uv")
        if found is None:
            raise ResolutionError("uv is not installed: pip install uv") from None
        return found
    return str(find_uv_bin())


def resolve(
    requirements: Sequence[str], target: Target, *, key: str, root: Path | None = None
) -> Lock:
    """Resolve ``requirements`` to one wheel per package for ``target`` (network).

    Path dependencies (``NAME @ file:PATH``) are relative to ``root`` (the manifest's
    folder; the working directory when None) and locked as their folder.
    """
    base = root if root is not None else Path()
    inputs = inputs_hash(requirements, target, root)
    if not requirements:
        return Lock(key, target.runtime, target.architecture, inputs, ())
    # uv accepts a fixed set of manylinux values (none for glibc 2.26): the newest one not
    # above the runtime's glibc, so no wheel the runtime cannot load is selected.
    platform = target.uv_platform
    with tempfile.TemporaryDirectory() as tmp:
        tmp_root = Path(tmp)
        req = Path(tmp) / "requirements.in"
        req.write_text("\n".join(absolute(r, base.resolve()) for r in requirements) + "\n")
        out = Path(tmp) / "pylock.toml"
        command = [
            uv_binary(),
            "pip",
            "compile",
            str(req),
            "--python-platform",
            platform,
            "--python-version",
            target.python,
            # Resolve with this interpreter for the target's markers; never let uv fetch
            # a Python of its own (slow, and impossible offline).
            "--python",
            sys.executable,
            "--no-python-downloads",
            "--format",
            "pylock.toml",
            "--no-header",
            "--quiet",
            "-o",
            str(out),
        ]
        env = {**os.environ, "UV_NO_PROGRESS": "1"}
        # Wheels only first: that picks versions with wheels for the target where they
        # exist. Only when some requirement has none are source archives allowed.
        # Path dependencies are source trees by nature: exempt them by name.
        local = [_name(r) for r in requirements if directory_of(r) is not None]
        exempt = [arg for name in local for arg in ("--no-binary", name)]
        proc = subprocess.run(
            [*command, "--only-binary", ":all:", *exempt],
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
        if proc.returncode != 0 and "no usable wheels" in proc.stderr:
            proc = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if proc.returncode != 0:
            raise ResolutionError(_explain(proc.stderr, requirements, target, key))
        document = tomllib.loads(out.read_text())
    wheels = []
    for package in document.get("packages", []):
        files = package.get("wheels") or []
        sdist = package.get("sdist")
        folder = (package.get("directory") or {}).get("path")
        if folder is not None:
            relative = Path(os.path.relpath(Path(tmp_root, folder), base.resolve())).as_posix()
            wheels.append(
                LockedWheel(
                    package["name"],
                    package_version(base / relative),
                    "",
                    "",
                    "",
                    directory=relative,
                )
            )
        elif files:
            best = min(files, key=lambda f: _rank(f["url"], target))
            wheels.append(
                LockedWheel(
                    package["name"],
                    str(package["version"]),
                    best["url"].rsplit("/", 1)[-1],
                    best["url"],
                    best["hashes"]["sha256"],
                    best.get("size"),
                )
            )
        elif sdist:
            wheels.append(
                LockedWheel(
                    package["name"],
                    str(package["version"]),
                    sdist["url"].rsplit("/", 1)[-1],
                    sdist["url"],
                    sdist["hashes"]["sha256"],
                    sdist.get("size"),
                    sdist=True,
                )
            )
        else:
            raise ResolutionError(
                f"{key}: {package['name']} {package.get('version')} has no wheel for "
                f"{target.runtime}/{target.architecture}; pin a version that publishes one"
            )
    return Lock(key, target.runtime, target.architecture, inputs, tuple(sorted(wheels)))


def _name(requirement: str) -> str:
    return re.split(r"[\s\[@;]", requirement.strip(), maxsplit=1)[0]


def _rank(url: str, target: Target) -> int:
    from packaging.utils import parse_wheel_filename

    tags = {str(t) for t in parse_wheel_filename(url.rsplit("/", 1)[-1])[3]}
    ranks = [i for i, tag in enumerate(target.wheel_tags) if tag in tags]
    return min(ranks, default=len(target.wheel_tags))


def _explain(stderr: str, requirements: Sequence[str], target: Target, key: str) -> str:
    detail = " ".join(line.strip() for line in stderr.strip().splitlines() if line.strip())
    detail = re.sub(r"\s+", " ", detail).removeprefix("error: ").removeprefix("\u00d7 ")
    hint = (
        f"pin versions that publish {target.cp}/abi3/py3 wheels for "
        f"{target.uv_platform.partition('-')[2]}_{target.machine} or older"
    )
    if "Failed to build" in detail and "file://" in detail:
        hint = (
            "make the path dependency build (`uv build --wheel PATH` works there); a "
            "package's own dependencies on local folders go in [tool.uv.sources] with a "
            "path, as PEP 508 allows no relative file: URLs in a package's metadata"
        )
    elif "no wheels" in detail or "only-binary" in detail or "source distribution" in detail:
        hint += (
            "; a package with only a source distribution must be built in a container "
            "engine with the target interpreter (--engine buildah|docker|podman)"
        )
    return (
        f"{key}: cannot resolve {', '.join(requirements)} for {target.runtime}/"
        f"{target.architecture}: {detail}. Fix: {hint}."
    )


class _BasePins:
    """Base-image digests by artifact key, as a lock file or the cache keeps them."""

    bases: dict[str, tuple[str, str]]
    dirty: bool

    def base(self, key: str, image: str) -> str | None:
        """The digest ``image`` was pinned to for ``key``, if it is still the same image."""
        pinned = self.bases.get(key)
        return pinned[1] if pinned is not None and pinned[0] == image else None

    def pin_base(self, key: str, image: str, digest: str) -> None:
        """Remember that ``image`` resolved to ``digest`` for ``key``."""
        if self.bases.get(key) != (image, digest):
            self.bases[key] = (image, digest)
            self.dirty = True


class LockFile(_BasePins):
    """The lock file (``lambdas.lock``, or ``<manifest>.lock`` next to another manifest):
    every artifact's lock, read and written as one TOML file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.locks: dict[str, Lock] = {}
        self.bases: dict[str, tuple[str, str]] = {}
        """Per image artifact: (base image reference as written, the digest it resolved to)."""
        if path.exists():
            try:
                data = tomllib.loads(path.read_text("utf-8"))
                for entry in data.get("lock", []):
                    wheels = tuple(LockedWheel(**w) for w in entry.get("wheels", []))
                    self.locks[entry["key"]] = Lock(
                        entry["key"],
                        entry["runtime"],
                        entry["architecture"],
                        entry["inputs"],
                        wheels,
                    )
                for entry in data.get("base", []):
                    self.bases[entry["key"]] = (entry["image"], entry["digest"])
            except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
                raise ResolutionError(
                    f"{path} is damaged ({exc}); delete it to resolve every artifact again"
                ) from exc
        self.dirty = False

    def get(
        self, key: str, requirements: Sequence[str], target: Target, *, offline: bool = False
    ) -> Lock:
        """The artifact's lock, resolved again only when its inputs changed."""
        inputs = inputs_hash(requirements, target, self.path.parent)
        lock = self.locks.get(key)
        if lock is not None and lock.inputs == inputs:
            return lock
        if offline:
            raise ResolutionError(self._offline_miss(key, stale=lock is not None))
        lock = resolve(requirements, target, key=key, root=self.path.parent)
        self.locks[key] = lock
        self.dirty = True
        return lock

    def _offline_miss(self, key: str, *, stale: bool) -> str:
        """Why ``--offline`` cannot build ``key``, and how to get the lock it needs."""
        if stale:
            return (
                f"{key}: its lock in {self.path} is out of date (its requirements or target "
                "changed); run the build once without --offline to resolve it again"
            )
        if not self.path.exists():
            return (
                f"{key}: --offline builds from the lock file, and {self.path} does not exist; "
                "run the build once without --offline to resolve every artifact and write it "
                "(then commit it)"
            )
        return (
            f"{key}: {self.path} has no entry for {key!r} (e.g. a Lambda or layer added "
            "since it was written); run the build once without --offline to add it"
        )

    def save(self) -> None:
        """Write the file atomically (temp file, then rename), sorted for stable diffs."""
        if not self.dirty:
            return
        lines = [
            "# Written by sentiment-pipeline: the exact wheels of every artifact. Commit it.",
            f"version = {FORMAT_VERSION}",
            "",
        ]
        for key in sorted(self.locks):
            lock = self.locks[key]
            lines += [
                "[[lock]]",
                f"key = {_s(key)}",
                f"runtime = {_s(lock.runtime)}",
                f"architecture = {_s(lock.architecture)}",
                f"inputs = {_s(lock.inputs)}",
            ]
            for wheel in lock.wheels:
                fields: dict[str, Any] = attrs.asdict(wheel)
                lines.append("[[lock.wheels]]")
                lines += [
                    f"{k} = {_v(v)}"
                    for k, v in fields.items()
                    if v is not None and not (k == "sdist" and v is False)
                ]
            lines.append("")
        for key in sorted(self.bases):
            image, digest = self.bases[key]
            lines += [
                "[[base]]",
                f"key = {_s(key)}",
                f"image = {_s(image)}",
                f"digest = {_s(digest)}",
                "",
            ]
        text = "\n".join(lines)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, delete=False, suffix=".tmp", encoding="utf-8"
        ) as tmp:
            tmp.write(text)
        Path(tmp.name).chmod(0o644)
        os.replace(tmp.name, self.path)
        self.dirty = False


def _s(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _v(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _s(value) if isinstance(value, str) else str(value)


class LocalPins(_BasePins):
    """Base-image digests of images chosen on this machine only (``--base-image``, as
    ``$SENTIMENT_PIPELINE_BASE_IMAGE`` in the nox sessions): kept in the cache root, per
    lock file, so a local override never changes the committed lock. Same
    ``base``/``pin_base``/``save`` as :class:`LockFile`."""

    def __init__(self, lock: Path, root: Path) -> None:
        """Pins of ``lock`` kept under the cache root ``root``."""
        self.path = root / "local-pins.json"
        self.scope = str(lock.resolve())
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        self.all: dict[str, Any] = data if isinstance(data, dict) else {}
        mine = self.all.get(self.scope)
        self.bases: dict[str, tuple[str, str]] = {}
        if isinstance(mine, dict):
            for key, pin in mine.items():
                if isinstance(pin, list) and len(pin) == 2:
                    self.bases[str(key)] = (str(pin[0]), str(pin[1]))
        self.dirty = False

    def save(self) -> None:
        """Write the cache's file atomically; best effort (a lost pin only re-resolves)."""
        if not self.dirty:
            return
        self.all[self.scope] = {key: list(pin) for key, pin in sorted(self.bases.items())}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.all, indent=1, sort_keys=True), "utf-8")
            os.replace(tmp, self.path)
        except OSError:
            return
        self.dirty = False
