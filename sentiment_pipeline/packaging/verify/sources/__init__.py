"""Artifact sources: a zip, a directory or a container image's ``/var/task``, read as a
:class:`Tree` the verifier lists and streams, never extracts.

- :mod:`.base`: :class:`Tree`, :class:`Entry`, and the name and link checks;
- :mod:`.archives`: :class:`ZipTree` (zip bombs refused unread), :class:`DirTree`;
- :mod:`.images`: an image's ``/var/task`` from an OCI layout or a registry, every
  blob checked against its digest (:mod:`.taskparts`: each layer's part, cached);
  loaded when an image is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import ArtifactError
from sentiment_pipeline.packaging.oci.reference import LAYOUT_SCHEME, REGISTRY_SCHEME
from sentiment_pipeline.packaging.verify.sources.archives import (
    BOMB_MIN_SIZE,
    BOMB_RATIO,
    MAX_TOTAL_UNCOMPRESSED,
    DirTree,
    ZipTree,
)
from sentiment_pipeline.packaging.verify.sources.base import (
    READ_ERRORS,
    Entry,
    Tree,
    check_link,
    check_name,
)

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.verify.sources.images import ImageTree

__all__ = [
    "BOMB_MIN_SIZE",
    "BOMB_RATIO",
    "MAX_TOTAL_UNCOMPRESSED",
    "READ_ERRORS",
    "DirTree",
    "Entry",
    "ImageTree",
    "Tree",
    "ZipTree",
    "check_link",
    "check_name",
    "open_tree",
]


def open_tree(path: str | os.PathLike[str]) -> Tree:
    """Open a zip, a directory, ``oci:LAYOUT[:TAG]`` or ``docker://HOST/REPO:TAG`` (an
    image's ``/var/task``); :class:`ArtifactError` for anything else."""
    text = os.fspath(path)
    if not text.startswith(LAYOUT_SCHEME) and (Path(text) / "oci-layout").is_file():
        text = f"{LAYOUT_SCHEME}{text}"  # a layout directory, as the container-image backend writes
    if text.startswith((LAYOUT_SCHEME, REGISTRY_SCHEME)):
        # Imported here: reading images brings the registry client (http, ssl).
        from sentiment_pipeline.packaging.verify.sources.images import open_image

        return open_image(text)
    p = Path(path)
    if p.is_dir():
        return DirTree(p)
    if not p.exists():
        raise ArtifactError(str(p), "no such file or directory")
    if not p.is_file():
        raise ArtifactError(str(p), "is neither a zip file nor a directory")
    return ZipTree(p)


def __getattr__(name: str) -> Any:
    if name != "ImageTree":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from sentiment_pipeline.packaging.verify.sources.images import ImageTree

    globals()["ImageTree"] = ImageTree
    return ImageTree
