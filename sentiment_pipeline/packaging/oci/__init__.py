"""Daemonless, reproducible OCI/Docker images for Lambda: layers, manifests, layouts, registries.

The modules, one concept each (only :mod:`.registry` talks to the network):

- :mod:`.mediatypes`: the media types of both families, spelled once;
- :mod:`.reference`: ``HOST/REPO[:TAG][@DIGEST]`` and ``oci:LAYOUT[:TAG]``;
- :mod:`.image`: descriptors, configs, manifests and indexes;
- :mod:`.platform`: an index resolved to one architecture, a config checked against it;
- :mod:`.layer`: a reproducible app layer (sorted tar, fixed gzip) and its cache;
- :mod:`.blobs`: blobs by digest, read only through a check of their sha256;
- :mod:`.layout`: OCI image layout directories;
- :mod:`.dockerarchive`: ``docker load`` tarballs;
- :mod:`.registry`: the distribution API client (transport, auth, client).
"""

from __future__ import annotations

from sentiment_pipeline.packaging.oci.blobs import (
    BlobDigestError,
    BlobSource,
    blob_source,
    read_blob,
)
from sentiment_pipeline.packaging.oci.dockerarchive import write_docker_archive
from sentiment_pipeline.packaging.oci.image import (
    Descriptor,
    ImageError,
    ImageManifest,
    UnexpectedIndexError,
    build_manifest,
    canonical_json,
    derive_config,
    descriptor,
    parse_manifest,
    require_manifest,
)
from sentiment_pipeline.packaging.oci.layer import (
    Layer,
    LayerCache,
    LayerError,
    LayerFile,
    build_layer,
    files_from_tree,
)
from sentiment_pipeline.packaging.oci.layout import (
    LayoutError,
    layout_blob_source,
    read_layout,
    write_layout,
)
from sentiment_pipeline.packaging.oci.platform import (
    ArchitectureMismatchError,
    PlatformNotFoundError,
    check_architecture,
    lambda_architecture,
    select_platform,
)

__all__ = [
    "ArchitectureMismatchError",
    "BlobDigestError",
    "BlobSource",
    "Descriptor",
    "ImageError",
    "ImageManifest",
    "Layer",
    "LayerCache",
    "LayerError",
    "LayerFile",
    "LayoutError",
    "PlatformNotFoundError",
    "UnexpectedIndexError",
    "blob_source",
    "build_layer",
    "build_manifest",
    "canonical_json",
    "check_architecture",
    "derive_config",
    "descriptor",
    "files_from_tree",
    "lambda_architecture",
    "layout_blob_source",
    "parse_manifest",
    "read_blob",
    "read_layout",
    "require_manifest",
    "select_platform",
    "write_docker_archive",
    "write_layout",
]
