"""Source archives, built into wheels: pure ones here with uv, native ones in the build image.

A lock names a source archive (an ``sdist`` entry) only for a distribution with
no wheel for the target. :func:`wheel_from_sdist` builds it (PEP 517) and keeps
the wheel in the cache under the archive's hash. A pure-Python archive is built
on this machine with uv. One that compiles code can only be built by the
target's interpreter against the target's C library: in a container of the
build image (:class:`NativeBuilder`). The archive's build requirements (its
``[build-system] requires``) are fetched as wheels on the host, since the
container has no network, and mounted with it. The wheel pip builds there is
tagged ``linux_<arch>``, which says nothing about the C library it needs; it was
built on exactly the runtime's, so it is retagged ``manylinux_<runtime glibc>``,
and the verifier then checks every ELF file in it against that runtime (symbol
versions, needed libraries), as for any other wheel.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.cache import default_cache_root

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.cache import WheelCache
    from sentiment_pipeline.packaging.install.engines import Engine
    from sentiment_pipeline.packaging.lock import LockedWheel
    from sentiment_pipeline.packaging.targets import Target

__all__ = [
    "NativeBuilder",
    "SdistError",
    "build_native",
    "build_requirements",
    "built_wheels",
    "retag",
    "wheel_from_sdist",
]

# pip's default when an archive has no pyproject.toml or no [build-system] (PEP 517/518).
_LEGACY = ["setuptools>=40.8.0"]


class SdistError(PipelineError, RuntimeError):
    """A source archive cannot be read or built."""


def _pyproject(archive: Path) -> bytes | None:
    """The archive's top-level ``pyproject.toml`` (``<name>-<version>/pyproject.toml``)."""
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    if name.count("/") == 1 and name.endswith("/pyproject.toml"):
                        return zf.read(name)
            return None
        with tarfile.open(archive) as tar:
            for member in tar:
                top_level = member.isfile() and member.name.count("/") == 1
                if top_level and member.name.endswith("/pyproject.toml"):
                    handle = tar.extractfile(member)
                    return handle.read() if handle else None
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise SdistError(f"cannot read {archive.name}: {exc}") from exc
    return None


def build_requirements(archive: Path) -> list[str]:
    """What building ``archive`` needs installed (PEP 518), pip's default if unsaid."""
    raw = _pyproject(archive)
    if raw is None:
        return list(_LEGACY)
    try:
        system = tomllib.loads(raw.decode("utf-8")).get("build-system", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SdistError(f"{archive.name}: pyproject.toml is not valid TOML: {exc}") from exc
    requires = system.get("requires") if isinstance(system, dict) else None
    if requires is None:
        return list(_LEGACY)
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise SdistError(f"{archive.name}: [build-system] requires must be a list of strings")
    return list(requires)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def retag(wheel: Path, platform: str, dest: Path) -> Path:
    """``wheel`` with its ``linux_*`` platform tags replaced by ``platform``, in ``dest``.

    The ``WHEEL`` file's ``Tag:`` lines, its RECORD line and the file name change;
    every other member is copied as it is (compressed bytes untouched).
    """
    stem = wheel.name.removesuffix(".whl")
    name, *middle, python_tag, abi_tag, platform_tag = stem.split("-")
    tags = platform_tag.split(".")
    new_tags = [platform if t.startswith("linux_") else t for t in tags]
    out = dest / ("-".join([name, *middle, python_tag, abi_tag, ".".join(new_tags)]) + ".whl")
    with zipfile.ZipFile(wheel) as src:
        dist_info = next(
            (n.split("/")[0] for n in src.namelist() if n.split("/")[0].endswith(".dist-info")),
            None,
        )
        if dist_info is None:
            raise SdistError(f"{wheel.name} has no .dist-info directory")
        wheel_file, record_file = f"{dist_info}/WHEEL", f"{dist_info}/RECORD"
        text = src.read(wheel_file).decode("utf-8")
        lines = []
        for line in text.splitlines():
            key, _, value = line.partition(": ")
            if key == "Tag" and value.rsplit("-", 1)[-1].startswith("linux_"):
                line = f"Tag: {value.rsplit('-', 1)[0]}-{platform}"
            lines.append(line)
        new_wheel = ("\n".join(lines) + "\n").encode("utf-8")
        record = []
        for row in src.read(record_file).decode("utf-8").splitlines():
            if row.split(",", 1)[0] == wheel_file:
                row = f"{wheel_file},{_record_hash(new_wheel)},{len(new_wheel)}"
            record.append(row)
        new_record = ("\n".join(record) + "\n").encode("utf-8")
        tmp = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                if info.filename == wheel_file:
                    dst.writestr(info, new_wheel)
                elif info.filename == record_file:
                    dst.writestr(info, new_record)
                else:
                    with src.open(info) as member, dst.open(info, "w") as copy:
                        shutil.copyfileobj(member, copy)
    tmp.replace(out)
    return out


def build_native(
    engine: Engine,
    image: str,
    archive: Path,
    target: Target,
    work: Path,
    build_wheels: list[Path],
) -> Path:
    """Build ``archive`` in ``image`` with ``engine`` and retag it for ``target``."""
    from sentiment_pipeline.packaging.install.containersteps import build_wheel_in_container

    built = build_wheel_in_container(
        engine, image, archive, build_wheels, work / "built", python=target.python
    )
    return retag(built, target.platform_tags[0], work)


def requirements_key(requirements: list[str], target: Target) -> str:
    """A cache key for the build requirements' wheels of one target."""
    payload = json.dumps([sorted(requirements), target.runtime, target.architecture])
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@attrs.frozen
class NativeBuilder:
    """Builds native source archives for ``target`` in ``image`` (see the module doc)."""

    engine: Engine
    image: str
    target: Target
    offline: bool = False

    @property
    def key(self) -> str:
        """What the built wheel depends on besides the archive: the target and the image."""
        payload = json.dumps([self.target.runtime, self.target.architecture, self.image])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def __call__(self, archive: Path, work: Path) -> Path:
        requirements = build_requirements(archive)
        return build_native(
            self.engine, self.image, archive, self.target, work, self._wheels(requirements)
        )

    def _wheels(self, requirements: list[str]) -> list[Path]:
        """The build requirements' wheels for the target, fetched once into the cache."""
        from sentiment_pipeline.packaging.install.fetch import FetchError, download

        home = default_cache_root() / "build-requirements"
        home /= requirements_key(requirements, self.target)
        if (home / ".complete").exists():
            return sorted(home.glob("*.whl"))
        if self.offline:
            raise SdistError(
                f"--offline, but the build requirements {', '.join(requirements)} are not "
                "cached; build once online"
            )
        staging = home.with_name(f"{home.name}.{os.getpid()}.partial")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            wheels = download(
                requirements,
                staging,
                python=self.target.python,
                platforms=self.target.platform_tags,
            )
        except FetchError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise SdistError(f"cannot fetch the build requirements: {exc}") from exc
        (staging / ".complete").write_text("\n".join(w.name for w in wheels) + "\n")
        shutil.rmtree(home, ignore_errors=True)
        staging.rename(home)
        return sorted(home.glob("*.whl"))


def built_wheels(
    entries: Sequence[LockedWheel],
    files: Sequence[Path],
    cache: WheelCache,
    *,
    offline: bool,
    native: NativeBuilder | None = None,
) -> list[Path]:
    """``files`` (the cache's, one per lock entry) with each source archive built into its wheel."""
    return [
        wheel_from_sdist(entry, path, cache, offline=offline, native=native)
        if entry.sdist
        else path
        for entry, path in zip(entries, files, strict=True)
    ]


def wheel_from_sdist(
    sdist: LockedWheel,
    archive: Path,
    cache: WheelCache,
    *,
    offline: bool,
    native: NativeBuilder | None = None,
) -> Path:
    """The wheel built (PEP 517) from the source archive ``archive`` of ``sdist``.

    Pure-Python archives are built here with uv. One that compiles code must be
    compiled by the target's interpreter: by ``native`` (a container of the build
    image) when given, else it is refused with the options. Kept in ``cache``
    under the archive's sha256 (and, for native builds, the target and image)
    with the built wheel's own hash, checked on use.
    """
    cached = cache.built(sdist.sha256)
    if cached is not None:
        return cached
    from packaging.utils import parse_wheel_filename

    from sentiment_pipeline.packaging.lock import uv_binary

    with cache.scratch(sdist.sha256) as tmp:
        command = [
            uv_binary(),
            "build",
            "--wheel",
            "--out-dir",
            tmp,
            "--python",
            sys.executable,
            "--no-python-downloads",
            str(archive),
        ]
        if offline:
            command.append("--offline")
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        built = sorted(Path(tmp).glob("*.whl"))
        if (proc.returncode != 0 or len(built) != 1) and native is not None:
            # No compiler (or headers) here: the build image may have them.
            return _built_natively(sdist, archive, cache, native)
        if proc.returncode != 0 or len(built) != 1:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise SdistError(f"cannot build {sdist.filename} into a wheel: {' '.join(tail)}")
        tags = parse_wheel_filename(built[0].name)[3]
        if any(t.abi != "none" or t.platform != "any" for t in tags):
            if native is not None:
                return _built_natively(sdist, archive, cache, native)
            raise SdistError(
                f"{sdist.name} {sdist.version} has no wheel for the target and its source "
                "archive builds native code, which only the target interpreter may compile. "
                f"Options: pin a {sdist.name} version that publishes manylinux wheels, use "
                "a pure-Python alternative, or build with a container engine (--engine "
                "buildah|docker|podman) and a build image with a compiler (build-image, "
                "e.g. public.ecr.aws/sam/build-python<ver>)"
            )
        return cache.keep_built(sdist.sha256, built[0])


def _built_natively(
    sdist: LockedWheel, archive: Path, cache: WheelCache, native: NativeBuilder
) -> Path:
    key = f"{sdist.sha256}/native-{native.key}"
    cached = cache.built(key)
    if cached is not None:
        return cached
    from sentiment_pipeline.packaging.install.engines import EngineError

    with cache.scratch(key) as tmp:
        try:
            built = native(archive, Path(tmp))
        except (EngineError, SdistError) as exc:
            raise SdistError(f"cannot build {sdist.filename} in {native.image}: {exc}") from exc
        return cache.keep_built(key, built)
