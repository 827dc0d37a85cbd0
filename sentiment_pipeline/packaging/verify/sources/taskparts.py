"""What one image layer holds under ``/var/task``, as a small tar, cached by verified digest.

The verifier reads only the function's directory. A layer is streamed once
through :func:`~sentiment_pipeline.packaging.oci.blobs.open_checked`, and only
its ``/var/task`` members are written out: a base image's hundreds of MB are
inflated but never stored. The result is cached under the layer's digest, and
only after that digest was checked over every byte of the blob that produced it.

A cached part is used only once the layer's blob, read again now, hashes to the
same digest: a blob altered in place is reported (``BlobDigestError``), never
judged by the contents its digest had before. The check costs a read and a
hash of the compressed blob; the cache saves the inflating and the tar walk.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.cache import default_cache_root, sha256_file
from sentiment_pipeline.packaging.oci.blobs import BlobDigestError, open_checked
from sentiment_pipeline.packaging.oci.mediatypes import GZIP_LAYER_TYPES, PLAIN_LAYER_TYPES
from sentiment_pipeline.packaging.sandbox.paths import TASK_ROOT as SANDBOX_TASK_ROOT

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.oci.blobs import BlobSource
    from sentiment_pipeline.packaging.oci.image import Descriptor

__all__ = ["READABLE_LAYER_TYPES", "TASK_ROOT", "TaskPartCache", "task_part"]

TASK_ROOT = SANDBOX_TASK_ROOT.lstrip("/") + "/"
"""The task root as a path inside an image's layers."""
READABLE_LAYER_TYPES = GZIP_LAYER_TYPES | PLAIN_LAYER_TYPES
# Not "task-parts": entries there were keyed by a digest nobody had checked.
_CACHE_FOLDER = "verified-task-parts"


class TaskPartCache:
    """``<root>/sha256-<hex>/part.tar`` beside ``part.json`` (the layer digest, the part's
    own sha256 and size); an entry that no longer matches its record is dropped."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_cache_root() / _CACHE_FOLDER

    def get(self, digest: str) -> Path | None:
        folder = self._folder(digest)
        part = folder / "part.tar"
        try:
            record = json.loads((folder / "part.json").read_text())
            intact = (
                record.get("layer") == digest
                and part.stat().st_size == record.get("size")
                and sha256_file(part) == record.get("sha256")
            )
        except (OSError, ValueError, AttributeError):
            intact = False
        if not intact:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return part

    def put(self, digest: str, part: Path) -> Path:
        """Store ``part`` (of a layer whose ``digest`` was checked) and return the cached
        path; ``part`` itself when the cache cannot be written (speed lost, nothing else)."""
        folder = self._folder(digest)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            staged = Path(tempfile.mkdtemp(dir=self.root, prefix=".staged-"))
        except OSError:
            return part
        try:
            shutil.copyfile(part, staged / "part.tar")
            record = {"layer": digest, "sha256": sha256_file(part), "size": part.stat().st_size}
            (staged / "part.json").write_text(json.dumps(record, sort_keys=True) + "\n")
            shutil.rmtree(folder, ignore_errors=True)
            # a concurrent verification of the same layer may have won: its entry is as good.
            with contextlib.suppress(OSError):
                os.replace(staged, folder)
        except OSError:
            return part
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        return folder / "part.tar" if (folder / "part.tar").is_file() else part

    def _folder(self, digest: str) -> Path:
        return self.root / digest.replace(":", "-")


def task_part(
    blobs: BlobSource, layer: Descriptor, scratch: Path, cache: TaskPartCache | None = None
) -> Path:
    """A tar of what ``layer`` holds under ``/var/task``; its blob is checked either way.

    Raises :class:`~sentiment_pipeline.packaging.oci.blobs.BlobDigestError` when the
    blob's bytes are not the ones ``layer`` names; ``layer.media_type`` must be one of
    :data:`READABLE_LAYER_TYPES`.
    """
    cache = cache or TaskPartCache()
    cached = cache.get(layer.digest)
    if cached is not None:
        with open_checked(blobs, layer) as blob:
            blob.finish()
        return cached
    fd, name = tempfile.mkstemp(dir=scratch, suffix=".tar")
    os.close(fd)
    part = Path(name)
    with open_checked(blobs, layer) as blob:
        try:
            if layer.media_type in GZIP_LAYER_TYPES:
                with gzip.GzipFile(fileobj=blob, mode="rb") as inflated:
                    _copy_task_members(inflated, part)
            else:
                _copy_task_members(blob, part)
        except BlobDigestError:
            raise
        except (OSError, EOFError, ValueError, zlib.error, tarfile.TarError):
            # Altered bytes rarely still inflate: when the digest is why, say that.
            blob.finish()
            raise
        blob.finish()  # before anything is cached: a mismatch raises here
    return cache.put(layer.digest, part)


def _copy_task_members(source: io.BufferedIOBase | io.RawIOBase, dest: Path) -> None:
    with tarfile.open(dest, "w", format=tarfile.GNU_FORMAT) as out:
        stream = tarfile.open(fileobj=_Padded(source), mode="r|")  # noqa: SIM115
        for member in stream:
            name = member.name.removeprefix("./").removeprefix("/")
            if name.startswith(TASK_ROOT) or name + "/" == TASK_ROOT:
                out.addfile(member, stream.extractfile(member) if member.isfile() else None)


class _Padded(io.RawIOBase):
    """A layer stream that ends the way tar readers expect.

    Some writers (umoci 0.4) end the tar without padding or end-of-archive
    blocks; container runtimes accept that, so it is padded as they read it.
    """

    def __init__(self, source: io.BufferedIOBase | io.RawIOBase) -> None:
        self.source = source
        self.count = 0
        self.tail: bytes | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.tail is None:
            data = self.source.read(len(buffer))
            if data:
                self.count += len(data)
                buffer[: len(data)] = data
                return len(data)
            self.tail = bytes(-self.count % 512 + 1024)
        data, self.tail = self.tail[: len(buffer)], self.tail[len(buffer) :]
        buffer[: len(data)] = data
        return len(data)
