"""Daemonless, reproducible OCI/Docker images for Lambda: layers, manifests, layouts, registries.

The modules, one concept each (only :mod:`.registry` talks to the network):

- :mod:`.mediatypes`: the media types of both families, spelled once;
- :mod:`.reference`: ``HOST/REPO[:TAG][@DIGEST]`` and ``oci:LAYOUT[:TAG]``;
- :mod:`.image`: descriptors, configs, manifests and indexes;
- :mod:`.platform`: an index resolved to one architecture, a config checked against it;
- :mod:`.layer`: a reproducible app layer (sorted tar, fixed gzip) and its cache;
- :mod:`.layout`: OCI image layout directories, and blob sources;
- :mod:`.dockerarchive`: ``docker load`` tarballs;
- :mod:`.registry`: the distribution API client (transport, auth, client).
"""

from __future__ import annotations

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
    BlobSource,
    blob_source,
    layout_blob_source,
    read_blob,
    read_layout,
    write_layout,
)
from sentiment_pipeline.packaging.oci.platform import (
    ArchitectureMismatchError,
    PlatformNotFoundError,
    check_architecture,
    select_platform,
)

__all__ = [
    "ArchitectureMismatchError",
    "BlobSource",
    "Descriptor",
    "ImageError",
    "ImageManifest",
    "Layer",
    "LayerCache",
    "LayerError",
    "LayerFile",
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
    "layout_blob_source",
    "parse_manifest",
    "read_blob",
    "read_layout",
    "require_manifest",
    "select_platform",
    "write_docker_archive",
    "write_layout",
]
