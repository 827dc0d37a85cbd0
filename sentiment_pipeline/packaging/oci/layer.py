"""Reproducible image layers: a sorted, normalized tar, gzipped with a fixed header.

The same files give the same bytes on every run and every build host with the
same zlib: entries sorted by path, one integer mtime, uid/gid 0 with empty
owner names, modes 0644/0755, GNU tar headers (never PAX, whose records carry
times and would vary), and a gzip header with mtime 0, no file name and the OS
byte 255 ("unknown") that :class:`gzip.GzipFile` always writes. zlib's own gzip
wrapper (what :func:`gzip.compress` uses for ``mtime=0`` on 3.11) writes the OS
byte of the platform zlib was built for instead, so the digest would differ
between a Linux and a macOS build host.

The tar is streamed to a temporary file while its sha256 (the diff_id) is
computed, then gzipped from there: nothing holds a whole layer in memory, and
:class:`LayerCache` can skip the gzip (the slow half) when a layer with the
same diff_id was already compressed.

>>> import tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp())
>>> layer = build_layer([LayerFile("var/task/h.py", b"x = 1\\n")], out, mtime=0,
...                     skip_dirs=frozenset({"var", "var/task"}))
>>> layer.digest.startswith("sha256:"), layer.media_type
(True, 'application/vnd.oci.image.layer.v1.tar+gzip')
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

import attrs

from sentiment_pipeline.errors import PipelineError, one_line
from sentiment_pipeline.packaging.cache import default_cache_root, sha256_file
from sentiment_pipeline.packaging.oci.image import Descriptor
from sentiment_pipeline.packaging.oci.mediatypes import OCI_LAYER_GZIP
from sentiment_pipeline.packaging.sandbox.paths import TASK_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Layer",
    "LayerCache",
    "LayerError",
    "LayerFile",
    "build_layer",
    "files_from_tree",
    "source_date_epoch",
]

_CHUNK = 1 << 20
_MODES = frozenset({0o644, 0o755})
# 6 is Go's (and so Docker's) default: ~3x faster than GzipFile's default 9 for a few % size.
_GZIP_LEVEL = 6


class LayerError(PipelineError, ValueError):
    """A layer that cannot be built from the given files (bad path, mode, conflict)."""


@attrs.frozen
class LayerFile:
    """One regular file of a layer.

    ``path`` is relative to the image root (``var/task/handler.py``); ``source``
    is the content, in memory or in a file read when the layer is written.
    """

    path: str
    source: bytes | Path
    mode: int = 0o644


@attrs.frozen
class Layer:
    """A compressed layer on disk with the two hashes an image needs.

    ``diff_id`` (sha256 of the tar) goes in the image config's rootfs;
    ``digest`` (sha256 of the gzip) and ``size`` go in the manifest.
    """

    path: Path
    digest: str
    diff_id: str
    size: int
    media_type: str = OCI_LAYER_GZIP

    def descriptor(self) -> Descriptor:
        """The manifest entry of this layer (``build_manifest`` converts its family)."""
        return Descriptor(self.media_type, self.digest, self.size)


def source_date_epoch() -> int:
    """``$SOURCE_DATE_EPOCH`` as the layer's integer mtime, else 0."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else 0


def files_from_tree(root: Path, prefix: str = TASK_ROOT.lstrip("/")) -> list[LayerFile]:
    """Every regular file under ``root`` as a :class:`LayerFile` under ``prefix``.

    A file with any execute bit becomes 0755, every other 0644: the modes the
    Lambda runtime needs, independent of the build host's umask. Symlinked
    files are stored as their content (as in the zip artifacts); a symlinked
    directory is refused because its target may lie outside the tree.
    """
    out: list[LayerFile] = []
    prefix = prefix.strip("/")
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for name in dirnames:
            if (here / name).is_symlink():
                raise LayerError(
                    one_line(
                        f"{here / name} is a symlink to a directory; an image layer is built "
                        "from real files: replace the link with the directory it points to"
                    )
                )
        for name in filenames:
            path = here / name
            try:
                info = path.stat()
            except OSError as exc:  # a dangling symlink, or a file removed meanwhile
                raise LayerError(one_line(f"{path} cannot be read: {exc}")) from exc
            if not stat.S_ISREG(info.st_mode):
                raise LayerError(one_line(f"{path} is not a regular file; remove it"))
            rel = path.relative_to(root).as_posix()
            mode = 0o755 if info.st_mode & 0o111 else 0o644
            out.append(LayerFile(f"{prefix}/{rel}" if prefix else rel, path, mode))
    return out


def build_layer(
    files: Iterable[LayerFile], out_dir: Path, *, mtime: int, skip_dirs: frozenset[str]
) -> Layer:
    """Write the layer of ``files`` to ``out_dir/<digest hex>.tar.gz``.

    Parent directories are emitted once (0755) unless listed in ``skip_dirs``,
    which names the directories the base image already has (``var``,
    ``var/task``): an entry for them would override the base's owner and mode.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".layer-") as tmp:
        tar_path = Path(tmp) / "layer.tar"
        diff_id = _write_tar(files, tar_path, mtime=mtime, skip_dirs=skip_dirs)
        return _compress(tar_path, out_dir, diff_id)


class LayerCache:
    """Compressed layers by diff_id: ``<root>/sha256/<diff_id hex>/layer.tar.gz``.

    The tar is always rewritten (it is cheap and is what tells whether the
    inputs changed); the gzip is reused when one with the same diff_id exists
    and still hashes to the digest recorded beside it.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_cache_root() / "layers"

    def get_or_build(
        self, files: Iterable[LayerFile], *, mtime: int, skip_dirs: frozenset[str]
    ) -> Layer:
        """The layer of ``files``, compressed only if this diff_id is not cached."""
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".build-") as tmp:
            tar_path = Path(tmp) / "layer.tar"
            diff_id = _write_tar(files, tar_path, mtime=mtime, skip_dirs=skip_dirs)
            folder = self.root / "sha256" / diff_id.removeprefix("sha256:")
            cached = self._load(folder, diff_id)
            if cached is not None:
                return cached
            layer = _compress(tar_path, Path(tmp), diff_id)
            staged = Path(tmp) / "entry"
            staged.mkdir()
            os.replace(layer.path, staged / "layer.tar.gz")
            record = {"digest": layer.digest, "diff_id": diff_id, "size": layer.size}
            (staged / "layer.json").write_text(json.dumps(record, sort_keys=True) + "\n")
            folder.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(folder, ignore_errors=True)
            # a concurrent build of the same layer may have won: use its entry then.
            with contextlib.suppress(OSError):
                os.replace(staged, folder)
            return attrs.evolve(layer, path=folder / "layer.tar.gz")

    def _load(self, folder: Path, diff_id: str) -> Layer | None:
        try:
            record = json.loads((folder / "layer.json").read_text())
        except (OSError, ValueError):
            return None
        path = folder / "layer.tar.gz"
        if (
            record.get("diff_id") != diff_id
            or not path.is_file()
            or path.stat().st_size != record.get("size")
            or f"sha256:{sha256_file(path)}" != record.get("digest")
        ):
            shutil.rmtree(folder, ignore_errors=True)  # damaged: rebuild it
            return None
        return Layer(path, record["digest"], diff_id, record["size"])


class _HashingWriter:
    """A write-only file that hashes what passes through to ``target``."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self.target.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.target.flush()


def _entries(
    files: Iterable[LayerFile], skip_dirs: frozenset[str]
) -> list[tuple[str, LayerFile | None]]:
    """(path, file or None for a directory), sorted by path segments (parents first)."""
    by_path: dict[str, LayerFile] = {}
    for file in files:
        path = _check_path(file.path)
        if file.mode not in _MODES:
            raise LayerError(
                one_line(
                    f"{path}: mode {file.mode:#o}; a layer file is 0o644 or 0o755 "
                    "(use files_from_tree, which normalizes modes)"
                )
            )
        if path in by_path:
            raise LayerError(one_line(f"{path} is given twice; every path must be unique"))
        by_path[path] = file
    skip = {d.strip("/") for d in skip_dirs}
    dirs: set[str] = set()
    for path in by_path:
        parent = posixpath.dirname(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    clash = sorted(dirs & by_path.keys())
    if clash:
        raise LayerError(one_line(f"{clash[0]} is both a file and a directory in this layer"))
    entries: list[tuple[str, LayerFile | None]] = [(d, None) for d in dirs - skip]
    entries.extend(by_path.items())
    entries.sort(key=lambda e: e[0].split("/"))
    return entries


def _check_path(path: str) -> str:
    clean = posixpath.normpath(path.strip())
    if (
        not path
        or path.startswith("/")
        or clean != path
        or clean == ".."
        or clean.startswith("../")
        or clean == "."
        or "\0" in path
    ):
        raise LayerError(
            one_line(
                f"{path!r} is not a layer path: give a normalized path relative to the image "
                f"root, such as {TASK_ROOT.lstrip('/') + '/handler.py'!r}"
            )
        )
    return path


def _write_tar(
    files: Iterable[LayerFile], tar_path: Path, *, mtime: int, skip_dirs: frozenset[str]
) -> str:
    # whole seconds only: a float mtime is what makes tarfile (PAX format) add time records
    if not isinstance(mtime, int) or mtime < 0:
        raise LayerError(f"mtime {mtime!r}: give a non-negative integer (SOURCE_DATE_EPOCH)")
    entries = _entries(files, skip_dirs)
    with open(tar_path, "wb") as raw:
        writer = _HashingWriter(raw)
        # GNU format: long names become ././@LongLink entries, never PAX records.
        with tarfile.open(
            fileobj=writer,  # type: ignore[call-overload]  # duck-typed writer
            mode="w",
            format=tarfile.GNU_FORMAT,
            encoding="utf-8",
        ) as tar:
            for path, file in entries:
                info = tarfile.TarInfo(path)
                info.mtime = mtime
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if file is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                elif isinstance(file.source, bytes):
                    info.mode = file.mode
                    info.size = len(file.source)
                    tar.addfile(info, _BytesReader(file.source))
                else:
                    info.mode = file.mode
                    with open(file.source, "rb") as fh:
                        info.size = os.fstat(fh.fileno()).st_size
                        tar.addfile(info, fh)
    return f"sha256:{writer.hash.hexdigest()}"


class _BytesReader:
    """The minimal readable tarfile.addfile needs, without copying ``data``."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._pos + size
        chunk = self._view[self._pos : end]
        self._pos += len(chunk)
        return bytes(chunk)


def _compress(tar_path: Path, out_dir: Path, diff_id: str) -> Layer:
    """Gzip ``tar_path`` (fixed header) into ``out_dir``, named by the digest."""
    with tempfile.NamedTemporaryFile(dir=out_dir, suffix=".part", delete=False) as raw:
        try:
            writer = _HashingWriter(raw)
            with (
                open(tar_path, "rb") as src,
                gzip.GzipFile(
                    fileobj=writer,
                    mode="wb",
                    mtime=0,
                    filename="",
                    compresslevel=_GZIP_LEVEL,
                ) as gz,
            ):
                shutil.copyfileobj(src, gz, _CHUNK)
        except BaseException:
            Path(raw.name).unlink(missing_ok=True)
            raise
    digest = writer.hash.hexdigest()
    final = out_dir / f"{digest}.tar.gz"
    os.replace(raw.name, final)
    return Layer(final, f"sha256:{digest}", diff_id, writer.size)
