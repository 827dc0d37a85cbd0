"""OCI image layout directories (``oci-layout``, ``index.json``, ``blobs/sha256/``).

A layout carries OCI media types only: umoci and others refuse Docker types
inside one. A Docker-family base converts without touching a byte, since a
Docker gzip layer and an OCI ``tar+gzip`` layer are the same file; only the
manifest (which we write anyway) names them differently.

Blobs are copied and read through :mod:`.blobs`, which re-hashes them on the
way: a corrupt or wrong base blob fails the build instead of producing an image
whose digests lie, and a layout whose blobs were altered fails whoever reads it.
The directory is assembled beside the destination and renamed into place: a
reader sees the old layout or the new one, never half.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.errors import one_line
from sentiment_pipeline.packaging.oci.blobs import copy_blob, read_blob
from sentiment_pipeline.packaging.oci.image import (
    Descriptor,
    ImageError,
    ImageManifest,
    UnexpectedIndexError,
    build_manifest,
    canonical_json,
    descriptor,
    parse_manifest,
    require_manifest,
)
from sentiment_pipeline.packaging.oci.mediatypes import INDEX_TYPES, OCI_INDEX, OCI_MANIFEST

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.oci.blobs import BlobSource

__all__ = ["LayoutError", "layout_blob_source", "read_layout", "write_layout"]

_REF_NAME = "org.opencontainers.image.ref.name"


class LayoutError(ImageError):
    """A directory that is not an OCI image layout, or that lacks the image asked for.

    ``reason`` says what is wrong without the path (:attr:`layout`).
    """

    def __init__(self, layout: Path, reason: str) -> None:
        self.layout = layout
        self.reason = one_line(reason)
        super().__init__(one_line(f"{layout}: {reason}"))


def layout_blob_source(layout: Path) -> BlobSource:
    """Blobs of an existing OCI layout (a base image already on disk), unchecked: read
    them through :mod:`.blobs`."""

    def get(digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        path = layout / "blobs" / algorithm / hexdigest
        if not path.is_file():
            raise LayoutError(
                layout, f"blob {digest} is missing from the layout: write or copy the image again"
            )
        return path

    return get


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
        _share(tmp)
        _replace_dir(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return top


def read_layout(layout: Path, tag: str | None = None) -> ImageManifest:
    """The manifest of ``tag`` in ``layout``, its bytes checked against the index's descriptor.

    With no tag, the layout must hold exactly one manifest. An entry that is
    itself an index raises :class:`UnexpectedIndexError` (unread); a directory
    that is not a layout, or has no such tag, :class:`LayoutError`.
    """
    reference = f"oci:{layout}" + (f":{tag}" if tag else "")
    try:
        index = parse_manifest((layout / "index.json").read_bytes())
    except FileNotFoundError as exc:
        raise LayoutError(layout, "not an OCI image layout (no index.json)") from exc
    except OSError as exc:
        raise LayoutError(layout, f"index.json cannot be read: {exc.strerror or exc}") from exc
    except ImageError as exc:
        raise LayoutError(layout, f"index.json is not an image index: {exc}") from exc
    entries = [
        m for m in index.manifests if tag is None or (m.annotations or {}).get(_REF_NAME) == tag
    ]
    if len(entries) != 1:
        tags = sorted((m.annotations or {}).get(_REF_NAME, "?") for m in index.manifests)
        raise LayoutError(
            layout,
            f"expected one image{' tagged ' + tag if tag else ''}; the layout holds: "
            f"{', '.join(tags) or 'none'} (use oci:PATH:TAG)",
        )
    [entry] = entries
    if entry.media_type in INDEX_TYPES:
        raise UnexpectedIndexError(reference, entry.media_type)
    data = read_blob(layout_blob_source(layout), entry)
    return require_manifest(parse_manifest(data, entry.media_type), reference)


def _write_bytes(blob_dir: Path, data: bytes) -> None:
    (blob_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)


def _share(tree: Path) -> None:
    """Modes 0755 for directories (mkdtemp's are 0700) and 0644 for files: a layout is
    read by other users and by engines that run as another user."""
    tree.chmod(0o755)
    for directory, subdirectories, files in os.walk(tree):
        for name in subdirectories:
            Path(directory, name).chmod(0o755)
        for name in files:
            Path(directory, name).chmod(0o644)


def _replace_dir(new: Path, dest: Path) -> None:
    """Rename ``new`` over ``dest``; the old tree is moved aside first, then removed."""
    old = None
    if dest.exists() or dest.is_symlink():
        old = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.old-"))
        os.replace(dest, old / "tree")
    os.replace(new, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
