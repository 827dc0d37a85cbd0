"""The media types of images: the one place they are spelled.

Two families name the same things: Docker's (v2 schema 2) and OCI's. A Docker
gzip layer and an OCI ``tar+gzip`` layer are the same bytes; only the name
differs (:func:`~sentiment_pipeline.packaging.oci.image.convert_media_type`).
"""

from __future__ import annotations

__all__ = [
    "ACCEPTED_MANIFEST_TYPES",
    "DOCKER_CONFIG",
    "DOCKER_FAMILY_PREFIX",
    "DOCKER_LAYER_GZIP",
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "GZIP_LAYER_TYPES",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "OCI_CONFIG",
    "OCI_FAMILY_PREFIX",
    "OCI_INDEX",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "OCI_MANIFEST",
    "PLAIN_LAYER_TYPES",
]

DOCKER_FAMILY_PREFIX = "application/vnd.docker."
OCI_FAMILY_PREFIX = "application/vnd.oci."

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"

MANIFEST_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
"""Single-platform image manifests: what Lambda accepts."""
INDEX_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
"""Indexes and manifest lists: what Lambda rejects."""
ACCEPTED_MANIFEST_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX)
"""Every manifest and index type, in the order a registry's ``Accept`` header lists them."""
GZIP_LAYER_TYPES = frozenset({DOCKER_LAYER_GZIP, OCI_LAYER_GZIP})
PLAIN_LAYER_TYPES = frozenset({OCI_LAYER})
