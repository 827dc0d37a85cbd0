"""A content-addressed wheel cache: every wheel stored once, by its sha256, checked on use."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.install.sdist import NativeBuilder
    from sentiment_pipeline.packaging.lock import LockedWheel

__all__ = ["CacheError", "WheelCache", "default_cache_root", "sha256_file"]

_CHUNK = 1 << 20


class CacheError(PipelineError, RuntimeError):
    """A wheel that cannot be fetched, or a cached file whose hash changed."""


def default_cache_root() -> Path:
    """``$SENTIMENT_PIPELINE_CACHE``, else ``$XDG_CACHE_HOME/sentiment-pipeline``."""
    explicit = os.environ.get("SENTIMENT_PIPELINE_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sentiment-pipeline"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_BUILT_RECORD = "wheel.sha256"


def _built_wheel(folder: Path) -> Path | None:
    """The wheel built earlier into ``folder``, if it is there and still has its hash."""
    record = folder / _BUILT_RECORD
    if not record.exists():
        return None
    digest, name = record.read_text().split()
    wheel_path = folder / name
    if wheel_path.exists() and sha256_file(wheel_path) == digest:
        return wheel_path
    return None


class WheelCache:
    """``<root>/wheels/sha256/<ab>/<digest>/<filename>``; writes are atomic renames."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_cache_root()) / "wheels" / "sha256"

    def path_for(self, wheel: LockedWheel) -> Path:
        return self.root / wheel.sha256[:2] / wheel.sha256 / wheel.filename

    def get(self, wheel: LockedWheel) -> Path | None:
        """The cached wheel, after checking its hash; None if absent."""
        path = self.path_for(wheel)
        if not path.exists():
            return None
        actual = sha256_file(path)
        if actual != wheel.sha256:
            path.unlink()
            raise CacheError(
                f"cached {wheel.filename} has sha256 {actual}, expected {wheel.sha256}: the cache "
                f"was modified; it has been removed, run the build again to fetch it anew"
            )
        return path

    def fetch(
        self,
        wheels: Sequence[LockedWheel],
        *,
        offline: bool = False,
        native: NativeBuilder | None = None,
    ) -> list[Path]:
        """Every wheel's cached path, downloading missing ones (in parallel) unless offline.

        Source archives (``sdist`` entries) are built into wheels once and cached;
        ``native`` builds those that compile code (inside the target's build image).
        """
        present = {w.sha256: self.get(w) for w in wheels}
        missing = [w for w in wheels if present[w.sha256] is None]
        if missing and offline:
            names = ", ".join(w.filename for w in missing)
            raise CacheError(
                f"--offline, but these wheels are not cached: {names}; build once online"
            )
        if missing:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(4, len(missing))) as pool:
                for wheel, fetched in zip(missing, pool.map(self._download, missing), strict=True):
                    present[wheel.sha256] = fetched
        out = []
        for wheel in wheels:
            path = present[wheel.sha256]
            assert path is not None
            out.append(
                self.built_from(wheel, path, offline=offline, native=native)
                if wheel.sdist
                else path
            )
        return out

    def built_from(
        self,
        sdist: LockedWheel,
        archive: Path,
        *,
        offline: bool,
        native: NativeBuilder | None = None,
    ) -> Path:
        """The wheel built (PEP 517) from a source archive.

        Pure-Python archives are built here with uv. One that compiles code must be
        compiled by the target's interpreter: by ``native`` (a container of the build
        image) when given, else it is refused with the options. Cached by the
        archive's sha256 (and, for native builds, the target and image) with the
        built wheel's own hash, checked on use.
        """
        from packaging.utils import parse_wheel_filename

        from sentiment_pipeline.packaging.lock import _uv

        folder = self.root.parent.parent / "built" / sdist.sha256
        cached = _built_wheel(folder)
        if cached is not None:
            return cached
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            command = [
                _uv(),
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
                return self._built_natively(sdist, archive, native)
            if proc.returncode != 0 or len(built) != 1:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise CacheError(f"cannot build {sdist.filename} into a wheel: {' '.join(tail)}")
            tags = parse_wheel_filename(built[0].name)[3]
            if any(t.abi != "none" or t.platform != "any" for t in tags):
                if native is not None:
                    return self._built_natively(sdist, archive, native)
                raise CacheError(
                    f"{sdist.name} {sdist.version} has no wheel for the target and its source "
                    "archive builds native code, which only the target interpreter may compile. "
                    f"Options: pin a {sdist.name} version that publishes manylinux wheels, use "
                    "a pure-Python alternative, or build with a container engine (--engine "
                    "buildah|docker|podman) and a build image with a compiler (build-image, "
                    "e.g. public.ecr.aws/sam/build-python<ver>)"
                )
            final = folder / built[0].name
            os.replace(built[0], final)
        (folder / _BUILT_RECORD).write_text(f"{sha256_file(final)} {final.name}\n")
        return final

    def _built_natively(self, sdist: LockedWheel, archive: Path, native: NativeBuilder) -> Path:
        folder = self.root.parent.parent / "built" / sdist.sha256 / f"native-{native.key}"
        cached = _built_wheel(folder)
        if cached is not None:
            return cached
        folder.mkdir(parents=True, exist_ok=True)
        from sentiment_pipeline.packaging.install.engines import EngineError
        from sentiment_pipeline.packaging.install.sdist import SdistError

        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            try:
                built = native(archive, Path(tmp))
            except (EngineError, SdistError) as exc:
                raise CacheError(f"cannot build {sdist.filename} in {native.image}: {exc}") from exc
            final = folder / built.name
            os.replace(built, final)
        (folder / _BUILT_RECORD).write_text(f"{sha256_file(final)} {final.name}\n")
        return final

    def _download(self, wheel: LockedWheel) -> Path:
        # Imported here: a warm build never downloads, and ssl is slow to import.
        import ssl
        import urllib.error
        import urllib.request

        final = self.path_for(wheel)
        final.parent.mkdir(parents=True, exist_ok=True)
        context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=final.parent, delete=False, suffix=".part") as tmp:
            try:
                request = urllib.request.Request(
                    wheel.url, headers={"User-Agent": "sentiment-pipeline"}
                )
                with urllib.request.urlopen(request, timeout=60, context=context) as response:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        tmp.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                Path(tmp.name).unlink(missing_ok=True)
                raise CacheError(
                    f"cannot download {wheel.filename} from {wheel.url}: {exc}"
                ) from exc
        if digest.hexdigest() != wheel.sha256:
            Path(tmp.name).unlink(missing_ok=True)
            raise CacheError(
                f"{wheel.filename} from {wheel.url} has sha256 {digest.hexdigest()}, the lock says "
                f"{wheel.sha256}: refusing it (a changed upload, or a tampering proxy)"
            )
        os.replace(tmp.name, final)
        return final

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
