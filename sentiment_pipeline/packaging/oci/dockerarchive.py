"""A ``docker load`` tarball: ``manifest.json``, the config, one uncompressed tar per layer.

Recent Docker loads gzipped layers too, but older engines and some tools only
read plain ``layer.tar`` files, so layers are decompressed here. Each layer is
gunzipped to a temporary file (its size must be in the outer tar header before
its content) while its sha256 is checked against the config's diff_id: the
engine re-checks the same thing on load, and failing here names the layer.
The outer tar is deterministic (fixed order, mtime 0, owner 0) and written
beside the destination, then renamed into place.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sentiment_pipeline.errors import one_line
from sentiment_pipeline.packaging.oci.blobs import open_blob
from sentiment_pipeline.packaging.oci.image import ImageError, canonical_json
from sentiment_pipeline.packaging.oci.mediatypes import OCI_LAYER

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.oci.blobs import BlobSource
    from sentiment_pipeline.packaging.oci.image import Descriptor

__all__ = ["describes", "write_docker_archive"]

_CHUNK = 1 << 20


def write_docker_archive(
    dest: Path,
    *,
    repo_tags: Sequence[str],
    config: bytes,
    layers: Sequence[Descriptor],
    blobs: BlobSource,
) -> None:
    """Write ``dest`` for ``docker load -i`` (tagged ``repo_tags``, e.g. ``["app:latest"]``).

    ``layers`` are gzipped layer descriptors (base then ours), in order, matching
    the config's ``rootfs.diff_ids``.
    """
    diff_ids = json.loads(config).get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != len(layers):
        raise ImageError(
            f"config lists {len(diff_ids)} diff_ids for {len(layers)} layers: "
            "derive the config from the base the layers come from"
        )
    config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    layer_names = [f"{d.removeprefix('sha256:')}/layer.tar" for d in diff_ids]
    manifest = [{"Config": config_name, "RepoTags": list(repo_tags), "Layers": layer_names}]

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar,
            tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.layers-") as tmp,
        ):
            _add_bytes(tar, "manifest.json", canonical_json(manifest))
            _add_bytes(tar, config_name, config)
            written: set[str] = set()
            for layer, diff_id, name in zip(layers, diff_ids, layer_names, strict=True):
                if name in written:  # the same layer twice: docker load reads it by name
                    continue
                written.add(name)
                plain = Path(tmp) / "layer.tar"
                with open(plain, "wb") as out:
                    _gunzip_checked(blobs, layer, diff_id, out)
                _add_dir(tar, name.split("/")[0])
                with open(plain, "rb") as fh:
                    info = _info(name, os.fstat(fh.fileno()).st_size)
                    tar.addfile(info, fh)
                plain.unlink()
        Path(part).chmod(0o644)  # mkstemp's 0600 would keep it from everyone else
        os.replace(part, dest)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def describes(tarball: Path, layout: Path, repo_tag: str) -> bool:
    """Whether ``tarball`` (written by :func:`write_docker_archive`, whole or not at
    all) is the image of the OCI layout ``layout`` tagged ``repo_tag``: its
    ``manifest.json`` (the first member) names the layout's config and as many layers.
    Reads two small files, never a layer: an unchanged build keeps its tarball."""
    try:
        index = json.loads((layout / "index.json").read_text("utf-8"))
        digest = index["manifests"][0]["digest"].removeprefix("sha256:")
        manifest = json.loads((layout / "blobs" / "sha256" / digest).read_text("utf-8"))
        config = manifest["config"]["digest"].removeprefix("sha256:")
        with tarfile.open(tarball, mode="r:") as tar:
            first = tar.next()
            if first is None or first.name != "manifest.json":
                return False
            handle = tar.extractfile(first)
            if handle is None:
                return False
            (entry,) = json.loads(handle.read())
        return bool(
            entry["Config"] == f"{config}.json"
            and entry["RepoTags"] == [repo_tag]
            and len(entry["Layers"]) == len(manifest["layers"])
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError, tarfile.TarError):
        return False


def _gunzip_checked(blobs: BlobSource, layer: Descriptor, diff_id: str, out: IO[bytes]) -> None:
    if layer.media_type == OCI_LAYER:  # already a plain tar: its digest is its diff_id
        if layer.digest != diff_id:
            raise ImageError(f"uncompressed layer {layer.digest} is not the config's {diff_id}")
        for chunk in open_blob(blobs, layer):
            out.write(chunk)
        return
    # zlib with wbits=47 reads the gzip header itself and handles multi-member files below.
    inflater = zlib.decompressobj(47)
    digest = hashlib.sha256()
    try:
        for chunk in open_blob(blobs, layer):
            while chunk:
                data = inflater.decompress(chunk)
                digest.update(data)
                out.write(data)
                if inflater.eof:  # a concatenated gzip member follows
                    chunk = inflater.unused_data
                    inflater = zlib.decompressobj(47)
                else:
                    chunk = b""
    except zlib.error as exc:
        raise ImageError(
            one_line(f"layer {layer.digest} is not gzip ({exc}); only gzipped layers are handled")
        ) from exc
    if f"sha256:{digest.hexdigest()}" != diff_id:
        raise ImageError(
            one_line(
                f"layer {layer.digest} decompresses to sha256:{digest.hexdigest()}, but the "
                f"config says {diff_id}: the config and layers are from different images"
            )
        )


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_info(name, len(data)), io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = _info(name, 0)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    tar.addfile(info)
