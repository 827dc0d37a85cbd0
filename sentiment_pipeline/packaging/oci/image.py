"""Image manifests and configs as plain JSON values, and the rules Lambda imposes on them.

Lambda accepts a single-platform image manifest, Docker v2 schema 2 or OCI,
and rejects an index or manifest list (what ``docker buildx`` makes by default
with provenance attestations). So everything here produces one manifest whose
media types all belong to one family, and tells an index apart wherever a
manifest is read, refusing it (:mod:`.platform` resolves one to a platform).

Configs stay dicts: the base config carries fields we never touch (Env,
Entrypoint, labels, history), and a model class would drop what it does not
know. Only the bytes of :func:`canonical_json` are hashed.

>>> config = derive_config(
...     {"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/e.sh"]},
...      "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]}},
...     cmd="app.handler", diff_id="sha256:bb", created="1970-01-01T00:00:00Z",
...     history_comment="sentiment-pipeline: app layer")
>>> config["config"]["Cmd"], config["rootfs"]["diff_ids"]
(['app.handler'], ['sha256:aa', 'sha256:bb'])
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING, Any, Literal

import attrs

from sentiment_pipeline.errors import PipelineError, one_line
from sentiment_pipeline.packaging.oci.mediatypes import (
    DOCKER_CONFIG,
    DOCKER_FAMILY_PREFIX,
    DOCKER_LAYER_GZIP,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    OCI_CONFIG,
    OCI_FAMILY_PREFIX,
    OCI_INDEX,
    OCI_LAYER_GZIP,
    OCI_MANIFEST,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "Descriptor",
    "Family",
    "ImageError",
    "ImageManifest",
    "UnexpectedIndexError",
    "build_manifest",
    "canonical_json",
    "convert_media_type",
    "derive_config",
    "descriptor",
    "family_of",
    "parse_manifest",
    "require_manifest",
    "sha256_digest",
]

Family = Literal["docker", "oci"]

# Media types with an equivalent in the other family: the bytes they name are identical.
_TO_OCI = {
    DOCKER_MANIFEST: OCI_MANIFEST,
    DOCKER_MANIFEST_LIST: OCI_INDEX,
    DOCKER_CONFIG: OCI_CONFIG,
    DOCKER_LAYER_GZIP: OCI_LAYER_GZIP,
}
_TO_DOCKER = {v: k for k, v in _TO_OCI.items()}


class ImageError(PipelineError, ValueError):
    """An image manifest, index or config that cannot be used as given."""


class UnexpectedIndexError(ImageError):
    """An image index or manifest list where a single-platform manifest was required."""

    def __init__(self, reference: str, media_type: str) -> None:
        self.reference = reference
        self.media_type = media_type
        super().__init__(
            one_line(
                f"{reference} is an image index ({media_type}), but a single-platform manifest "
                "is required (Lambda rejects indexes): push or reference one platform's "
                "manifest, e.g. build with 'docker buildx build --provenance=false "
                "--platform linux/amd64'"
            )
        )


@attrs.frozen
class Descriptor:
    """A content descriptor: what a manifest or index says about one blob."""

    media_type: str
    digest: str
    size: int
    platform: Mapping[str, Any] | None = None
    annotations: Mapping[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest}
        out["size"] = self.size
        if self.platform is not None:
            out["platform"] = dict(self.platform)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    @classmethod
    def from_json(cls, value: Any, where: str) -> Descriptor:
        if not isinstance(value, dict):
            raise ImageError(f"{where}: a descriptor is a JSON object, got {value!r:.80}")
        try:
            media_type, digest, size = value["mediaType"], value["digest"], value["size"]
        except KeyError as exc:
            raise ImageError(f"{where}: descriptor without {exc.args[0]!r}") from exc
        if not (isinstance(media_type, str) and isinstance(digest, str)):
            raise ImageError(f"{where}: descriptor mediaType and digest must be strings")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ImageError(f"{where}: descriptor size {size!r} is not a non-negative integer")
        if not digest.startswith("sha256:") or len(digest) != 71:
            raise ImageError(f"{where}: unsupported digest {digest!r}; only sha256 is handled")
        return cls(media_type, digest, size, value.get("platform"), value.get("annotations"))

    def with_media_type(self, media_type: str) -> Descriptor:
        return attrs.evolve(self, media_type=media_type)


def sha256_digest(data: bytes) -> str:
    """The ``sha256:<hex>`` digest of ``data``: the id of a blob, manifest or config.

    >>> sha256_digest(b"{}")[:15]
    'sha256:44136fa3'
    """
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def descriptor(media_type: str, data_or_digest: bytes | str, size: int | None = None) -> Descriptor:
    """A descriptor for ``data`` (hashed here), or for a known digest and size.

    >>> descriptor(OCI_CONFIG, b"{}").digest[:15]
    'sha256:44136fa3'
    """
    if isinstance(data_or_digest, bytes):
        return Descriptor(media_type, sha256_digest(data_or_digest), len(data_or_digest))
    if size is None:
        raise TypeError("descriptor(media_type, digest, size): size is required with a digest")
    return Descriptor(media_type, data_or_digest, size)


def canonical_json(obj: Any) -> bytes:
    """The bytes that are hashed and stored: sorted keys, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def family_of(media_type: str) -> Family:
    """``"docker"`` or ``"oci"``, from a manifest, config or layer media type."""
    if media_type.startswith(DOCKER_FAMILY_PREFIX):
        return "docker"
    if media_type.startswith(OCI_FAMILY_PREFIX):
        return "oci"
    raise ImageError(one_line(f"media type {media_type!r} is neither Docker nor OCI"))


def convert_media_type(media_type: str, family: Family) -> str:
    """The equivalent of ``media_type`` in ``family`` (the content does not change)."""
    if family_of(media_type) == family:
        return media_type
    table = _TO_OCI if family == "oci" else _TO_DOCKER
    try:
        return table[media_type]
    except KeyError:
        raise ImageError(
            one_line(
                f"media type {media_type!r} has no {family} equivalent; an image in the "
                f"{family} family cannot reference it (Lambda needs gzipped layers)"
            )
        ) from None


def derive_config(
    base_config: Mapping[str, Any],
    *,
    cmd: str,
    diff_id: str,
    created: str,
    history_comment: str,
) -> dict[str, Any]:
    """The app image's config: the base's, with our handler, layer and history.

    Entrypoint, Env and WorkingDir stay as the base sets them (the Lambda
    runtime interface client lives there); ``Cmd`` becomes exactly one string,
    the handler, which is what Lambda's entrypoint expects.
    """
    if not cmd or any(c.isspace() for c in cmd) or "." not in cmd:
        raise ImageError(
            one_line(f"handler {cmd!r}: give one 'module.function' string with no spaces")
        )
    config = copy.deepcopy(dict(base_config))
    rootfs = config.get("rootfs")
    if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids"), list):
        raise ImageError("base image config has no rootfs.diff_ids list: it is not an image config")
    if config.get("config") is None:  # scratch images may have "config": null
        config["config"] = {}
    container = config["config"]
    if not isinstance(container, dict):
        raise ImageError("base image config's 'config' field is not an object")
    container["Cmd"] = [cmd]
    rootfs["diff_ids"] = [*rootfs["diff_ids"], diff_id]
    history = config.get("history")
    config["history"] = [
        *(history if isinstance(history, list) else []),
        {"created": created, "created_by": history_comment, "comment": history_comment},
    ]
    config["created"] = created
    return config


def build_manifest(config_bytes: bytes, layers: Sequence[Descriptor], family: Family) -> bytes:
    """One single-platform manifest in ``family``, as the bytes to hash and push.

    Every media type (manifest, config, base layers and ours) is converted to
    ``family`` so the manifest never mixes Docker and OCI types.
    """
    manifest_type = OCI_MANIFEST if family == "oci" else DOCKER_MANIFEST
    config = descriptor(OCI_CONFIG if family == "oci" else DOCKER_CONFIG, config_bytes)
    body = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": config.to_json(),
        "layers": [
            attrs.evolve(
                layer,
                media_type=convert_media_type(layer.media_type, family),
                platform=None,
            ).to_json()
            for layer in layers
        ],
    }
    return canonical_json(body)


@attrs.frozen
class ImageManifest:
    """A parsed manifest or index; ``raw`` keeps the exact bytes (their digest is the id)."""

    media_type: str
    raw: bytes
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def digest(self) -> str:
        return sha256_digest(self.raw)

    @property
    def family(self) -> Family:
        return family_of(self.media_type)


def parse_manifest(data: bytes, content_type: str | None = None) -> ImageManifest:
    """Parse a manifest or index, telling them apart by media type, else by shape.

    ``content_type`` is the registry's Content-Type header, if any; registries
    and layouts do not always set the body's ``mediaType`` (optional in OCI).
    """
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise ImageError(f"manifest is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ImageError("manifest is not a JSON object")
    if body.get("schemaVersion") != 2:
        raise ImageError(
            one_line(
                f"manifest schemaVersion {body.get('schemaVersion')!r} is not supported: only "
                "Docker v2 schema 2 and OCI manifests are (re-push the image with a current tool)"
            )
        )
    header = (content_type or "").split(";")[0].strip()
    declared = body.get("mediaType")
    known = MANIFEST_TYPES | INDEX_TYPES
    if isinstance(declared, str) and declared in known:
        media_type = declared
        if header in known and header != declared:
            raise ImageError(
                one_line(f"Content-Type {header!r} contradicts the body's mediaType {declared!r}")
            )
    elif header in known:
        media_type = header
    elif "manifests" in body:
        media_type = OCI_INDEX
    elif "layers" in body:
        media_type = OCI_MANIFEST
    else:
        raise ImageError(
            one_line(f"not an image manifest or index (mediaType {declared!r}, {header!r})")
        )
    if media_type in INDEX_TYPES:
        entries = body.get("manifests")
        if not isinstance(entries, list):
            raise ImageError("image index without a 'manifests' list")
        return ImageManifest(
            media_type,
            data,
            manifests=tuple(
                Descriptor.from_json(m, f"manifests[{i}]") for i, m in enumerate(entries)
            ),
        )
    layers = body.get("layers")
    if not isinstance(layers, list):
        raise ImageError("image manifest without a 'layers' list")
    return ImageManifest(
        media_type,
        data,
        config=Descriptor.from_json(body.get("config"), "config"),
        layers=tuple(Descriptor.from_json(layer, f"layers[{i}]") for i, layer in enumerate(layers)),
    )


def require_manifest(manifest: ImageManifest, reference: str) -> ImageManifest:
    """``manifest`` if it is a single-platform manifest, else :class:`UnexpectedIndexError`."""
    if manifest.is_index:
        raise UnexpectedIndexError(reference, manifest.media_type)
    return manifest
