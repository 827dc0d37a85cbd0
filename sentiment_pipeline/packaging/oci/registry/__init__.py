"""A small client for the OCI distribution API (registry v2), on the standard library.

- :mod:`.transport`: HTTP to one registry (keep-alive, retries, redirects), :class:`RegistryError`;
- :mod:`.auth`: credentials (bearer tokens, Basic, ECR) and what a refusal says to do;
- :mod:`.client`: pull and push single images, every digest checked.

References (``HOST/REPO[:TAG][@DIGEST]``) are parsed by
:mod:`sentiment_pipeline.packaging.oci.reference`; :class:`ImageRef` is re-exported here
because every client call takes one.
"""

from __future__ import annotations

from sentiment_pipeline.packaging.oci.reference import ImageRef
from sentiment_pipeline.packaging.oci.registry.auth import (
    PASSWORD_ENV,
    USER_ENV,
    parse_ecr_token,
    parse_www_authenticate,
)
from sentiment_pipeline.packaging.oci.registry.client import (
    FetchedManifest,
    PushResult,
    RegistryClient,
)
from sentiment_pipeline.packaging.oci.registry.transport import RegistryError, RetryPolicy

__all__ = [
    "PASSWORD_ENV",
    "USER_ENV",
    "FetchedManifest",
    "ImageRef",
    "PushResult",
    "RegistryClient",
    "RegistryError",
    "RetryPolicy",
    "parse_ecr_token",
    "parse_www_authenticate",
]
