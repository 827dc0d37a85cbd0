"""Small images made by hand (one gzipped layer under ``/var/task``) to push to a test registry."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.oci.image import sha256_digest
from sentiment_pipeline.packaging.oci.mediatypes import DOCKER_MANIFEST

if TYPE_CHECKING:
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


def make_image(tmp_path: Path, content: bytes = b"print('hi')\n", name: str = "app.py") -> Image:
    """One gzipped layer with ``/var/task/<name>``, a config and a Docker v2 manifest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"var/task/{name}")
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    layer = tmp_path / f"layer-{name}.tar.gz"
    layer.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["app.handler"], "WorkingDir": "/var/task"},
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
