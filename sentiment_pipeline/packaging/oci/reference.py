"""Where an image is: ``HOST/REPO[:TAG][@DIGEST]`` in a registry, or ``oci:LAYOUT[:TAG]`` on disk.

>>> ref = ImageRef.parse("127.0.0.1:5000/lambdas/analysis:v1")
>>> ref.host, ref.repository, ref.reference
('127.0.0.1:5000', 'lambdas/analysis', 'v1')
>>> LayoutRef.parse("oci:dist/container-image/api")
LayoutRef(path=PosixPath('dist/container-image/api'), tag=None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LAYOUT_SCHEME", "REGISTRY_SCHEME", "ImageRef", "LayoutRef"]

LAYOUT_SCHEME = "oci:"
REGISTRY_SCHEME = "docker://"

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_REPO = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


@dataclass(frozen=True)
class ImageRef:
    """``HOST[:PORT]/REPO[:TAG|@sha256:...]``; a tag and a digest may both be given."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse a reference (``docker://`` optional); the registry host is required (no
        Docker Hub default)."""
        rest = text.removeprefix(REGISTRY_SCHEME)
        host, slash, path = rest.partition("/")
        if not slash or not path or not ("." in host or ":" in host or host == "localhost"):
            raise ValueError(
                f"image reference {text!r} has no registry host: write it as "
                "HOST[:PORT]/REPO[:TAG|@sha256:DIGEST], e.g. 127.0.0.1:5000/lambdas/analysis:v1"
            )
        digest = None
        if "@" in path:
            path, _, digest = path.partition("@")
            if not _DIGEST.fullmatch(digest):
                raise ValueError(f"image reference {text!r}: {digest!r} is not a sha256 digest")
        tag = None
        name, colon, maybe_tag = path.rpartition(":")
        if colon and "/" not in maybe_tag:
            path, tag = name, maybe_tag
            if not _TAG.fullmatch(tag):
                raise ValueError(f"image reference {text!r}: invalid tag {tag!r}")
        if not _REPO.fullmatch(path):
            raise ValueError(
                f"image reference {text!r}: invalid repository {path!r} "
                "(lower-case letters, digits, and . _ - separators, '/' between components)"
            )
        return cls(host, path, tag, digest)

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest if known, else the tag (``latest``)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.host}/{self.repository}{tag}{digest}"


@dataclass(frozen=True)
class LayoutRef:
    """``oci:PATH[:TAG]``: an image in an OCI image layout directory.

    A ``:TAG`` suffix is a tag only when what precedes it is a directory and the
    suffix has no ``/``, so a layout whose path contains ``:`` still opens.
    """

    path: Path
    tag: str | None = None

    @classmethod
    def parse(cls, text: str) -> LayoutRef:
        rest = text.removeprefix(LAYOUT_SCHEME)
        path, sep, tag = rest.rpartition(":")
        if sep and tag and "/" not in tag and Path(path).is_dir():
            return cls(Path(path), tag)
        return cls(Path(rest))

    def __str__(self) -> str:
        return f"{LAYOUT_SCHEME}{self.path}" + (f":{self.tag}" if self.tag else "")
