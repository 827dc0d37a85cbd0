"""OCI image layout directories (``oci-layout``, ``index.json``, ``blobs/sha256/``).

A layout carries OCI media types only: umoci and others refuse Docker types
inside one. A Docker-family base converts without touching a byte, since a
Docker gzip layer and an OCI ``tar+gzip`` layer are the same file; only the
manifest (which we write anyway) names them differently.

Blobs are copied through :data:`BlobSource` callables and re-hashed on the
way, so a corrupt or wrong base blob fails the build instead of producing an
image whose digests lie. The directory is assembled beside the destination and
renamed into place: a reader sees the old layout or the new one, never half.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sentiment_pipeline.errors import one_line
from sentiment_pipeline.packaging.oci.image import (
    Descriptor,
    ImageError,
    ImageManifest,
    build_manifest,
    canonical_json,
    descriptor,
    parse_manifest,
    require_manifest,
)
from sentiment_pipeline.packaging.oci.mediatypes import OCI_INDEX, OCI_MANIFEST

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from sentiment_pipeline.packaging.oci.layer import Layer

__all__ = [
    "BlobSource",
    "blob_source",
    "copy_blob",
    "layout_blob_source",
    "open_blob",
    "read_blob",
    "read_layout",
    "write_layout",
]

BlobSource = Callable[[str], "Path | bytes"]
"""``digest -> content``: a file (pulled from a registry, in a cache) or bytes."""

_CHUNK = 1 << 20
_REF_NAME = "org.opencontainers.image.ref.name"


def blob_source(layers: Iterable[Layer], fallback: BlobSource | None = None) -> BlobSource:
    """Serve ``layers`` from their files and every other digest from ``fallback``."""
    ours = {layer.digest: layer.path for layer in layers}

    def get(digest: str) -> Path | bytes:
        if digest in ours:
            return ours[digest]
        if fallback is None:
            raise ImageError(f"no source for blob {digest}: pass a fallback blob source")
        return fallback(digest)

    return get


def layout_blob_source(layout: Path) -> BlobSource:
    """Blobs of an existing OCI layout (a base image already on disk)."""

    def get(digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return layout / "blobs" / algorithm / hexdigest

    return get


def open_blob(blobs: BlobSource, expected: Descriptor) -> Iterator[bytes]:
    """The chunks of a blob, checked against ``expected``'s size and digest at the end."""
    content = blobs(expected.digest)
    digest = hashlib.sha256()
    size = 0
    try:
        fh = _reader(content)
    except OSError as exc:
        raise ImageError(one_line(f"blob {expected.digest} cannot be read: {exc}")) from exc
    with fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            yield chunk
    actual = f"sha256:{digest.hexdigest()}"
    if actual != expected.digest or size != expected.size:
        raise ImageError(
            one_line(
                f"blob {expected.digest} ({expected.size} bytes) has {actual} ({size} bytes): "
                "the base image's blobs are corrupt or from another image; pull it again"
            )
        )


def copy_blob(blobs: BlobSource, expected: Descriptor, dest: IO[bytes]) -> None:
    """Stream a checked blob into ``dest``."""
    for chunk in open_blob(blobs, expected):
        dest.write(chunk)


def write_layout(
    dest: Path,
    *,
    tag: str,
    config: bytes,
    layers: Sequence[Descriptor],
    blobs: BlobSource,
) -> Descriptor:
    """Write an OCI layout holding one image tagged ``tag``; return its manifest descriptor.

    ``layers`` are the base's descriptors then ours, in either family; they are
    written with OCI media types. ``dest`` (``dist/container-image/<lambda>``)
    is replaced as a whole.
    """
    if not tag or "/" in tag or ":" in tag:
        raise ImageError(one_line(f"tag {tag!r}: give a plain tag such as 'latest' or '1.2.3'"))
    manifest_bytes = build_manifest(config, layers, "oci")
    manifest = require_manifest(parse_manifest(manifest_bytes), str(dest))
    config_json = json.loads(config)
    platform = {
        key: config_json[key]
        for key in ("architecture", "os", "variant")
        if isinstance(config_json.get(key), str) and config_json[key]
    }
    top = descriptor(OCI_MANIFEST, manifest_bytes)
    top = Descriptor(top.media_type, top.digest, top.size, platform or None, {_REF_NAME: tag})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top.to_json()]}

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.tmp-"))
    try:
        blob_dir = tmp / "blobs" / "sha256"
        blob_dir.mkdir(parents=True)
        _write_bytes(blob_dir, manifest_bytes)
        _write_bytes(blob_dir, config)
        for layer in manifest.layers:
            target = blob_dir / layer.digest.removeprefix("sha256:")
            if not target.exists():  # an image may repeat a layer
                with open(target, "wb") as out:
                    copy_blob(blobs, layer, out)
        (tmp / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        (tmp / "index.json").write_bytes(canonical_json(index))
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return top


def read_layout(layout: Path, tag: str | None = None) -> ImageManifest:
    """The manifest of ``tag`` in ``layout`` (its ``raw`` bytes are checked against the index).

    With no tag, the layout must hold exactly one manifest. A layout whose
    entry is itself an index raises :class:`UnexpectedIndexError`.
    """
    try:
        index = parse_manifest((layout / "index.json").read_bytes())
    except OSError as exc:
        raise ImageError(one_line(f"{layout} is not an OCI layout: {exc}")) from exc
    entries = [
        m for m in index.manifests if tag is None or (m.annotations or {}).get(_REF_NAME) == tag
    ]
    if len(entries) != 1:
        tags = sorted((m.annotations or {}).get(_REF_NAME, "?") for m in index.manifests)
        raise ImageError(
            one_line(
                f"{layout}: {len(entries)} manifests match tag {tag!r}; tags present: "
                f"{', '.join(tags) or 'none'}"
            )
        )
    data = read_blob(layout_blob_source(layout), entries[0])
    reference = f"oci:{layout}" + (f":{tag}" if tag else "")
    return require_manifest(parse_manifest(data, entries[0].media_type), reference)


def read_blob(blobs: BlobSource, expected: Descriptor) -> bytes:
    """A small blob (config, manifest) in memory, checked. Never use it for layers."""
    return b"".join(open_blob(blobs, expected))


def _write_bytes(blob_dir: Path, data: bytes) -> None:
    (blob_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)


def _replace_dir(new: Path, dest: Path) -> None:
    """Rename ``new`` over ``dest``; the old tree is moved aside first, then removed."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.old-"))
        os.replace(dest, old / "tree")
    os.replace(new, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _reader(content: Path | bytes) -> IO[bytes]:
    # BytesIO shares the bytes object until written to: no copy of the blob.
    return open(content, "rb") if isinstance(content, Path) else io.BytesIO(content)
