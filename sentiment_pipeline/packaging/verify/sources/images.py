"""An image's ``/var/task``, read from an OCI image layout (``oci:PATH[:TAG]``).

Only the function's directory matters to the verifier; it is read from the
image's layers in order (whiteouts honoured), each layer decompressed once to a
temporary tar so members can be read in any order. Nothing is extracted.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any, cast

from sentiment_pipeline.errors import ArtifactError
from sentiment_pipeline.packaging.oci.mediatypes import (
    GZIP_LAYER_TYPES,
    INDEX_TYPES,
    PLAIN_LAYER_TYPES,
)
from sentiment_pipeline.packaging.verify.sources.base import (
    READ_ERRORS,
    Entry,
    Tree,
    check_link,
    check_name,
)

__all__ = ["OciTree", "parse_oci_ref"]

TASK_ROOT = "var/task/"


def parse_oci_ref(text: str) -> tuple[Path, str | None]:
    """``oci:PATH[:TAG]`` -> (layout directory, tag or None)."""
    rest = text.removeprefix("oci:")
    path, sep, tag = rest.rpartition(":")
    if sep and tag and "/" not in tag and Path(path).is_dir():
        return Path(path), tag
    return Path(rest), None


class _Padded(io.RawIOBase):
    """A layer stream that ends the way tar readers expect.

    Some writers (umoci 0.4) end the tar without padding or end-of-archive
    blocks; container runtimes accept that, so it is padded as they read it.
    """

    def __init__(self, source: io.BufferedIOBase | IO[bytes]) -> None:
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


def _task_part(blob: Path, digest: str, media_type: str, scratch: Path, number: int) -> Path:
    """A tar of what the layer holds under /var/task, cached by the layer's digest.

    The layer is streamed once and only /var/task is kept: a base image's hundreds
    of MB are inflated but never written. Layers are immutable by digest, so the
    next verification of an image on the same base skips the base entirely.
    """
    from sentiment_pipeline.packaging.cache import default_cache_root

    cache = default_cache_root() / "task-parts" / digest.replace(":", "-")
    part = cache / "part.tar"
    if part.is_file():
        return part
    plain = scratch / f"layer-{number}.tar"
    opener = gzip.open if media_type in GZIP_LAYER_TYPES else open
    with opener(blob, "rb") as src, tarfile.open(plain, "w", format=tarfile.GNU_FORMAT) as out:
        stream = tarfile.open(fileobj=_Padded(src), mode="r|")  # noqa: SIM115
        for member in stream:
            name = member.name.removeprefix("./").removeprefix("/")
            if name.startswith(TASK_ROOT) or name + "/" == TASK_ROOT:
                out.addfile(member, stream.extractfile(member) if member.isfile() else None)
    try:
        cache.mkdir(parents=True, exist_ok=True)
        staged = cache / f".{number}.{os.getpid()}.tmp"
        shutil.copyfile(plain, staged)
        os.replace(staged, part)
    except OSError:
        return plain  # an unwritable cache costs speed, never correctness
    return part


class OciTree(Tree):
    """``/var/task`` of the image ``tag`` in an OCI layout, as a verifier tree."""

    kind = "image"

    def __init__(self, layout: Path, tag: str | None = None) -> None:
        self.path = layout
        self.label = f"oci:{layout}" + (f":{tag}" if tag else "")
        self.archive_size = None
        self._tmp = tempfile.TemporaryDirectory(prefix="sp-oci-")
        self._tars: list[tarfile.TarFile] = []
        try:
            manifest = self._manifest(tag)
            self.config = json.loads(self._blob(manifest["config"]["digest"]).read_bytes())
            self._entries = self._read_layers(manifest.get("layers", []))
        except ArtifactError:
            self.close()
            raise
        except (OSError, ValueError, KeyError, TypeError, *READ_ERRORS, tarfile.TarError) as exc:
            self.close()
            raise ArtifactError(self.label, f"not a readable OCI image layout ({exc})") from exc

    # -- layout ---------------------------------------------------------------------------
    def _blob(self, digest: str) -> Path:
        algorithm, _, value = digest.partition(":")
        path = self.path / "blobs" / algorithm / value
        if not path.is_file():
            raise ArtifactError(self.label, f"blob {digest} is missing from the layout")
        return path

    def _manifest(self, tag: str | None) -> dict[str, Any]:
        index = json.loads((self.path / "index.json").read_text())
        manifests = index.get("manifests", [])
        if tag is not None:
            manifests = [
                m
                for m in manifests
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
            ]
        if len(manifests) != 1:
            names = sorted(
                m.get("annotations", {}).get("org.opencontainers.image.ref.name", "?")
                for m in index.get("manifests", [])
            )
            raise ArtifactError(
                self.label,
                f"expected one image{' tagged ' + tag if tag else ''}"
                f"; the layout holds: {', '.join(names) or 'none'} (use oci:PATH:TAG)",
            )
        descriptor = manifests[0]
        if descriptor.get("mediaType") in INDEX_TYPES:
            raise ArtifactError(
                self.label,
                "an image index was found where a single-platform "
                "manifest was expected; Lambda rejects indexes",
            )
        data: dict[str, Any] = json.loads(self._blob(descriptor["digest"]).read_bytes())
        if data.get("mediaType") in INDEX_TYPES or "manifests" in data:
            raise ArtifactError(
                self.label,
                "an image index was found where a single-platform "
                "manifest was expected; Lambda rejects indexes",
            )
        return data

    def _read_layers(self, layers: list[dict[str, Any]]) -> list[Entry]:
        found: dict[str, Entry] = {}
        for number, layer in enumerate(layers):
            media_type = layer.get("mediaType", "")
            blob = self._blob(layer["digest"])
            if media_type not in GZIP_LAYER_TYPES and media_type not in PLAIN_LAYER_TYPES:
                raise ArtifactError(
                    self.label,
                    f"layer {layer['digest']} has media type {media_type!r}, which this "
                    "verifier (and Lambda) cannot read",
                )
            plain = _task_part(blob, layer["digest"], media_type, Path(self._tmp.name), number)
            tar = tarfile.open(plain, "r:")  # noqa: SIM115 - kept open for reads; closed in close()
            self._tars.append(tar)
            for info in tar:
                self._apply(found, tar, info)
        return sorted(found.values(), key=lambda e: e.name)

    def _apply(self, found: dict[str, Entry], tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        raw = info.name.removeprefix("./").removeprefix("/")
        if not raw.startswith(TASK_ROOT):
            return
        rel = raw[len(TASK_ROOT) :]
        base = posixpath.basename(rel)
        if base.startswith(".wh."):  # whiteouts: this layer deletes what earlier ones added
            parent = posixpath.dirname(rel)
            gone = parent if base == ".wh..wh..opq" else posixpath.join(parent, base[4:])
            for name in [n for n in found if n == gone or n.startswith(gone + "/")]:
                if not (base == ".wh..wh..opq" and name == gone):
                    del found[name]
            return
        name, unsafe = check_name(rel)
        if not name:
            return
        key = (tar, info)
        if info.issym():
            found[name] = Entry(
                name,
                "symlink",
                0,
                0,
                link=info.linkname,
                unsafe=unsafe or check_link(name, info.linkname),
                key=key,
            )
        elif info.isdir():
            found[name] = Entry(name, "dir", 0, 0, key=key)
        elif info.isfile() or info.islnk():
            found[name] = Entry(
                name,
                "file",
                info.size,
                info.size,
                executable=bool(info.mode & 0o111),
                unsafe=unsafe,
                key=key,
            )
        else:
            found[name] = Entry(name, "other", 0, 0, unsafe="is a device or special file", key=key)

    # -- Tree -----------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        return self._entries

    def open(self, entry: Entry) -> IO[bytes]:
        tar, info = cast("tuple[tarfile.TarFile, tarfile.TarInfo]", entry.key)
        try:
            stream: IO[bytes] | None = tar.extractfile(info)
        except (KeyError, *READ_ERRORS, tarfile.TarError) as exc:
            raise self.corrupt(entry, exc) from exc
        if stream is None:
            raise self.corrupt(entry, ValueError("not a regular file"))
        return stream

    def close(self) -> None:
        for tar in self._tars:
            tar.close()
        self._tmp.cleanup()


class RegistryTree(OciTree):
    """``docker://HOST/REPO:TAG``: the image is pulled (manifest, config, layers, each
    checked against its digest) into a temporary layout, then read like ``oci:``."""

    def __init__(self, reference: str) -> None:
        from sentiment_pipeline.errors import PipelineError
        from sentiment_pipeline.packaging.oci.registry import ImageRef, RegistryClient

        self._download = tempfile.TemporaryDirectory(prefix="sp-pull-")
        root = Path(self._download.name)
        try:
            ref = ImageRef.parse(reference)
            client = RegistryClient(ref.host)
            try:
                fetched = client.get_manifest(ref, expect_manifest=True)
                manifest = json.loads(fetched.data)
                blobs = root / "blobs" / "sha256"
                blobs.mkdir(parents=True)
                (blobs / fetched.digest.removeprefix("sha256:")).write_bytes(fetched.data)
                for blob in [manifest["config"], *manifest.get("layers", [])]:
                    digest = blob["digest"]
                    client.get_blob(ref.repository, digest, blobs / digest.removeprefix("sha256:"))
            finally:
                client.close()
            (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
            top = {
                "mediaType": fetched.media_type,
                "digest": fetched.digest,
                "size": len(fetched.data),
                "annotations": {"org.opencontainers.image.ref.name": "image"},
            }
            (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
        except (PipelineError, ValueError, KeyError, TypeError, OSError) as exc:
            self._download.cleanup()
            raise ArtifactError(reference, str(exc)) from exc
        super().__init__(root, "image")
        self.label = reference

    def close(self) -> None:
        super().close()
        self._download.cleanup()
