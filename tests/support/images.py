"""Small images made by hand (one gzipped layer under ``/var/task``) to push to a test registry,
and OCI layouts written with the project's own writer (:mod:`sentiment_pipeline.packaging.oci`)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.oci.blobs import blob_source
from sentiment_pipeline.packaging.oci.image import canonical_json, sha256_digest
from sentiment_pipeline.packaging.oci.layer import build_layer, files_from_tree
from sentiment_pipeline.packaging.oci.layout import write_layout
from sentiment_pipeline.packaging.oci.mediatypes import DOCKER_MANIFEST

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


@dataclass
class Image:
    manifest: bytes
    digest: str
    config: bytes
    layer: Path
    blobs: dict[str, Path | bytes]

    @property
    def layer_digest(self) -> str:
        return sha256_digest(self.layer.read_bytes())


def make_image(
    tmp_path: Path,
    content: bytes = b"print('hi')\n",
    name: str = "app.py",
    *,
    cmd: str = "app.handler",
    architecture: str = "amd64",
) -> Image:
    """One gzipped layer with ``/var/task/<name>``, a config (``Cmd [cmd]``, built for
    ``architecture``) and a Docker v2 manifest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"var/task/{name}")
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    layer = tmp_path / f"layer-{name}.tar.gz"
    layer.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    config = json.dumps(
        {
            "architecture": architecture,
            "os": "linux",
            "config": {"Cmd": [cmd], "WorkingDir": "/var/task"},
            "rootfs": {"type": "layers", "diff_ids": [sha256_digest(raw.getvalue())]},
        },
        sort_keys=True,
    ).encode()
    layer_bytes = layer.read_bytes()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": sha256_digest(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer_bytes),
                    "digest": sha256_digest(layer_bytes),
                }
            ],
        },
        indent=3,
    ).encode()
    blobs: dict[str, Path | bytes] = {
        sha256_digest(config): config,
        sha256_digest(layer_bytes): layer,
    }
    return Image(manifest, sha256_digest(manifest), config, layer, blobs)


def oci_layout(
    tree: Path,
    dest: Path,
    *,
    config: Mapping[str, object],
    tag: str = "fn",
) -> str:
    """An OCI layout at ``dest`` whose ``/var/task`` holds ``tree``, written with the
    project's own layer and layout writers; ``config``: the image config's fields
    (``architecture``, ``os``, ``variant``, ``config``) besides ``rootfs``. Returns
    ``oci:DEST:TAG``."""
    layer = build_layer(
        files_from_tree(tree), dest.parent / f"{dest.name}-layers", mtime=0, skip_dirs=frozenset()
    )
    document = {**config, "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]}}
    write_layout(
        dest,
        tag=tag,
        config=canonical_json(document),
        layers=[layer.descriptor()],
        blobs=blob_source([layer]),
    )
    return f"oci:{dest}:{tag}"
