"""A content-addressed wheel cache: every wheel stored once, by its sha256, checked on use.

It only stores and returns files. Locked wheels are downloaded into it by their
hash; wheels built from a source archive (by :mod:`.install.sdist`) are kept
under the archive's hash, with the built wheel's own hash recorded and checked
on use. What to build, and how, is not its business.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.lock import LockedWheel

__all__ = ["CacheError", "WheelCache", "default_cache_root", "sha256_file"]

_CHUNK = 1 << 20


class CacheError(PipelineError, RuntimeError):
    """A wheel that cannot be fetched, or a cached file whose hash changed."""


def default_cache_root() -> Path:
    """``$SENTIMENT_PIPELINE_CACHE``, else ``$XDG_CACHE_HOME/sentiment-pipeline``, absolute.

    A relative ``$SENTIMENT_PIPELINE_CACHE`` is taken against the working directory
    (engines mount the cache into containers, which need absolute paths); a relative
    ``$XDG_CACHE_HOME`` is ignored, as the XDG specification says.
    """
    explicit = os.environ.get("SENTIMENT_PIPELINE_CACHE")
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not Path(base).is_absolute():
        base = str(Path.home() / ".cache")
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

    def fetch(self, wheels: Sequence[LockedWheel], *, offline: bool = False) -> list[Path]:
        """Every entry's cached file, downloading missing ones (in parallel) unless offline.

        A source archive (an ``sdist`` entry) is returned as it is: building it into
        a wheel is :func:`sentiment_pipeline.packaging.install.sdist.wheel_from_sdist`.
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
            out.append(path)
        return out

    def built(self, key: str) -> Path | None:
        """The wheel kept under ``key`` (see :meth:`keep_built`), if it still has its hash."""
        return _built_wheel(self._built_folder(key))

    def keep_built(self, key: str, wheel: Path) -> Path:
        """Keep ``wheel``, built from a source archive, under ``key``; its path in the cache.

        ``key`` is the archive's sha256, with ``/<variant>`` for a build that also
        depends on something else (``<sha256>/native-<target and image>``). The wheel
        is moved when it is on the cache's filesystem, else copied.
        """
        folder = self._built_folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / wheel.name
        try:
            os.replace(wheel, final)
        except OSError:  # another filesystem: copy beside the final path, then rename
            staged = folder / f".{wheel.name}.{os.getpid()}.partial"
            shutil.copyfile(wheel, staged)
            os.replace(staged, final)
        (folder / _BUILT_RECORD).write_text(f"{sha256_file(final)} {final.name}\n")
        return final

    def scratch(self, key: str) -> tempfile.TemporaryDirectory[str]:
        """A temporary directory on the cache's filesystem, to build what is kept under ``key``."""
        folder = self._built_folder(key)
        folder.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryDirectory(dir=folder)

    def _built_folder(self, key: str) -> Path:
        return self.root.parent.parent / "built" / key

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
