"""Which platform an image is for: Lambda's architecture names against OCI's.

Lambda says ``x86_64`` and ``arm64``; images say ``amd64`` and ``arm64`` (variant
``v8`` or none). An index is resolved to the linux manifest of the target's
architecture; a base image's config is checked to be that architecture.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import one_line
from sentiment_pipeline.packaging.oci.image import ImageError
from sentiment_pipeline.packaging.oci.mediatypes import MANIFEST_TYPES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sentiment_pipeline.packaging.oci.image import Descriptor, ImageManifest

__all__ = [
    "ArchitectureMismatchError",
    "PlatformNotFoundError",
    "check_architecture",
    "lambda_architecture",
    "select_platform",
]

# Lambda architecture names (and aliases) -> (OCI architecture, acceptable variants).
_PLATFORMS: dict[str, tuple[str, frozenset[str | None]]] = {
    "x86_64": ("amd64", frozenset({None})),
    "amd64": ("amd64", frozenset({None})),
    "arm64": ("arm64", frozenset({"v8", None})),
    "aarch64": ("arm64", frozenset({"v8", None})),
}


# OCI architecture -> Lambda's name for it.
_LAMBDA_NAMES = {"amd64": "x86_64", "arm64": "arm64"}


class ArchitectureMismatchError(ImageError):
    """The base image is built for another architecture than the Lambda's target."""

    def __init__(self, image: str, expected: str, actual: str) -> None:
        self.image = image
        self.expected = expected
        self.actual = actual
        super().__init__(
            one_line(
                f"base image {image} is for {actual}, the Lambda targets {expected}: use the "
                f"{expected} variant of the base image (public.ecr.aws/lambda/python:<version>-"
                f"{'arm64' if _oci_arch(expected) == 'arm64' else 'x86_64'}), or change the "
                "target architecture"
            )
        )


class PlatformNotFoundError(ImageError, LookupError):
    """An index without a manifest for the requested architecture."""

    def __init__(self, reference: str, architecture: str, available: tuple[str, ...]) -> None:
        self.reference = reference
        self.architecture = architecture
        self.available = available
        super().__init__(
            one_line(
                f"{reference} has no linux/{_oci_arch(architecture)} manifest. Available: "
                f"{', '.join(available) or 'none'}. Pick a base image published for "
                f"{architecture}, or change the target architecture"
            )
        )


def select_platform(
    index: ImageManifest, architecture: str, *, reference: str = "image"
) -> Descriptor:
    """The descriptor of ``index``'s linux manifest for a Lambda ``architecture``.

    ``x86_64`` matches ``amd64``; ``arm64`` matches ``arm64``/``aarch64`` with
    variant ``v8`` or none. Attestation entries (platform ``unknown``) never match.
    """
    if not index.is_index:
        raise ImageError(f"{reference} is a single manifest, not an index: use it directly")
    want, variants = _platform(architecture)
    available = []
    matches = []
    for entry in index.manifests:
        platform = entry.platform or {}
        arch = _PLATFORMS.get(str(platform.get("architecture")), (platform.get("architecture"),))[0]
        os_name = platform.get("os")
        variant = platform.get("variant")
        available.append(
            f"{os_name}/{platform.get('architecture')}" + (f"/{variant}" if variant else "")
        )
        if (
            os_name == "linux"
            and arch == want
            and variant in variants
            and entry.media_type in MANIFEST_TYPES
        ):
            matches.append(entry)
    if not matches:
        raise PlatformNotFoundError(reference, architecture, tuple(available))
    # an explicit v8 wins over an absent variant; otherwise the index's first entry.
    matches.sort(key=lambda e: (e.platform or {}).get("variant") is None)
    return matches[0]


def check_architecture(
    config: Mapping[str, Any], target: str, *, reference: str = "base image"
) -> None:
    """Raise :class:`ArchitectureMismatchError` unless ``config`` is linux/``target``."""
    want, variants = _platform(target)
    actual = config.get("architecture")
    arch = _PLATFORMS.get(str(actual), (actual,))[0]
    variant = config.get("variant")
    os_name = config.get("os", "linux")
    if arch != want or variant not in variants or os_name != "linux":
        shown = f"{os_name}/{actual}" + (f"/{variant}" if variant else "")
        raise ArchitectureMismatchError(reference, target, shown)


def lambda_architecture(config: Mapping[str, Any], *, reference: str = "image") -> str | None:
    """Lambda's name (``x86_64``, ``arm64``) of the architecture ``config`` is built for,
    or None when the config does not say. Raises :class:`ImageError` for a platform
    Lambda cannot run (another OS, 32-bit ARM, s390x...).

    >>> lambda_architecture({"architecture": "arm64", "variant": "v8", "os": "linux"})
    'arm64'
    >>> lambda_architecture({"architecture": "amd64"}), lambda_architecture({})
    ('x86_64', None)
    """
    actual = config.get("architecture")
    if not actual:
        return None
    oci, variants = _PLATFORMS.get(str(actual), (str(actual), frozenset()))
    variant = config.get("variant")
    os_name = config.get("os", "linux")
    if oci not in _LAMBDA_NAMES or variant not in variants or os_name != "linux":
        shown = f"{os_name}/{actual}" + (f"/{variant}" if variant else "")
        raise ImageError(
            one_line(
                f"{reference} is built for {shown}; Lambda runs linux/amd64 (x86_64) and "
                "linux/arm64 (arm64) images: build the image for one of them"
            )
        )
    return _LAMBDA_NAMES[oci]


def _platform(architecture: str) -> tuple[str, frozenset[str | None]]:
    try:
        return _PLATFORMS[architecture]
    except KeyError:
        raise ImageError(
            one_line(
                f"architecture {architecture!r}: Lambda runs x86_64 or arm64 "
                "(amd64/aarch64 are accepted as aliases)"
            )
        ) from None


def _oci_arch(architecture: str) -> str:
    return _PLATFORMS.get(architecture, (architecture,))[0]
