"""An image's ``/var/task`` as an artifact source: ``oci:LAYOUT[:TAG]`` or ``docker://HOST/REPO:TAG``.

Only the function's directory matters to the verifier; it is read from the
image's layers in order (whiteouts honoured), each layer's part kept as a small
tar (:mod:`.taskparts`) so members can be read in any order. Nothing is extracted.
Besides, the image describes itself: its config names the architecture it is built
for and, in ``Cmd``, the handler Lambda runs (:attr:`ImageTree.architecture`,
:attr:`ImageTree.cmd`).

Layouts and registries are read through the oci package, one path for both:
the manifest is checked against the digest the index or the registry names, the
config and every layer against the manifest's digests. An image whose bytes do
not match its own digests cannot be judged: it is unusable input
(:class:`ArtifactError`, CLI exit 2) naming the blob, both digests and the fix.
"""

from __future__ import annotations

import json
import posixpath
import tarfile
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from sentiment_pipeline.errors import ArtifactError, PipelineError
from sentiment_pipeline.packaging.oci.blobs import BlobDigestError, read_blob
from sentiment_pipeline.packaging.oci.image import (
    ImageError,
    UnexpectedIndexError,
    parse_manifest,
    require_manifest,
)
from sentiment_pipeline.packaging.oci.layout import LayoutError, layout_blob_source, read_layout
from sentiment_pipeline.packaging.oci.platform import lambda_architecture
from sentiment_pipeline.packaging.oci.reference import REGISTRY_SCHEME, ImageRef, LayoutRef
from sentiment_pipeline.packaging.oci.registry import RegistryClient, RegistryError
from sentiment_pipeline.packaging.verify.sources.base import (
    READ_ERRORS,
    Entry,
    Tree,
    check_link,
    check_name,
)
from sentiment_pipeline.packaging.verify.sources.taskparts import (
    READABLE_LAYER_TYPES,
    TASK_ROOT,
    task_part,
)

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.oci.blobs import BlobSource
    from sentiment_pipeline.packaging.oci.image import ImageManifest

__all__ = ["ImageTree", "open_image"]

_UNREADABLE = (OSError, ValueError, KeyError, TypeError, *READ_ERRORS, tarfile.TarError)


def open_image(text: str) -> ImageTree:
    """``/var/task`` of the image ``text`` names (``oci:...`` or ``docker://...``).

    Raises :class:`ArtifactError` for anything that is not a readable image
    whose every blob matches its digest.
    """
    scratch = tempfile.TemporaryDirectory(prefix="sp-image-")
    try:
        if text.startswith(REGISTRY_SCHEME):
            return _from_registry(text, Path(scratch.name), scratch)
        return _from_layout(LayoutRef.parse(text), scratch)
    except BaseException:
        scratch.cleanup()
        raise


def _from_layout(ref: LayoutRef, scratch: tempfile.TemporaryDirectory[str]) -> ImageTree:
    label = str(ref)
    try:
        manifest = read_layout(ref.path, ref.tag)
    except (ImageError, *_UNREADABLE) as exc:
        raise _unusable(label, exc) from exc
    return ImageTree(label, ref.path, manifest, layout_blob_source(ref.path), scratch)


def _from_registry(text: str, folder: Path, scratch: tempfile.TemporaryDirectory[str]) -> ImageTree:
    try:
        ref = ImageRef.parse(text)
        client = RegistryClient(ref.host)
    except (PipelineError, ValueError) as exc:
        raise ArtifactError(text, str(exc)) from exc
    try:
        fetched = client.get_manifest(ref, expect_manifest=True)  # checked against its digest
        manifest = require_manifest(parse_manifest(fetched.data, fetched.media_type), str(ref))
        blobs = client.blob_source(ref.repository, folder)
        return ImageTree(text, Path(ref.repository), manifest, blobs, scratch)
    except ArtifactError:
        raise
    except (RegistryError, ImageError, *_UNREADABLE) as exc:
        raise _unusable(text, exc) from exc
    finally:
        client.close()


def _unusable(label: str, exc: Exception) -> ArtifactError:
    """The one-line reason an image cannot be verified at all."""
    if isinstance(exc, UnexpectedIndexError):
        return ArtifactError(
            label,
            "an image index was found where a single-platform manifest was expected "
            f"({exc.media_type}); Lambda rejects indexes: verify one platform's image "
            "(oci:LAYOUT:TAG of a single manifest, or docker://HOST/REPO@sha256:DIGEST of "
            "the platform's manifest)",
        )
    if isinstance(exc, LayoutError):
        return ArtifactError(label, exc.reason)
    if isinstance(exc, (BlobDigestError, RegistryError)):
        return ArtifactError(label, str(exc))
    return ArtifactError(label, f"not a readable image ({exc})")


class ImageTree(Tree):
    """``/var/task`` of one image, its manifest, config and layers checked while read."""

    kind = "image"

    def __init__(
        self,
        label: str,
        path: Path,
        manifest: ImageManifest,
        blobs: BlobSource,
        scratch: tempfile.TemporaryDirectory[str],
    ) -> None:
        self.path = path
        self.label = label
        self.archive_size = None
        self._scratch = scratch
        self._tars: list[tarfile.TarFile] = []
        try:
            assert manifest.config is not None  # require_manifest: never an index
            self.config: dict[str, Any] = json.loads(read_blob(blobs, manifest.config))
            try:
                self.architecture: str | None = lambda_architecture(
                    self.config, reference="the image"
                )
                """Lambda's name of the architecture the config says (None: it does not say)."""
            except ImageError as exc:
                raise ArtifactError(label, str(exc)) from exc
            self._entries = self._read_layers(manifest, blobs)
        except BaseException as exc:
            self.close()
            if isinstance(exc, ArtifactError) or not isinstance(
                exc, (ImageError, RegistryError, *_UNREADABLE)
            ):
                raise
            raise _unusable(label, exc) from exc

    def _read_layers(self, manifest: ImageManifest, blobs: BlobSource) -> list[Entry]:
        found: dict[str, Entry] = {}
        for layer in manifest.layers:
            if layer.media_type not in READABLE_LAYER_TYPES:
                raise ArtifactError(
                    self.label,
                    f"layer {layer.digest} has media type {layer.media_type!r}, which this "
                    "verifier (and Lambda) cannot read",
                )
            part = task_part(blobs, layer, Path(self._scratch.name))
            tar = tarfile.open(part, "r:")  # noqa: SIM115 - kept open for reads; closed in close()
            self._tars.append(tar)
            for info in tar:
                self._apply(found, tar, info)
        return sorted(found.values(), key=lambda e: e.name)

    def _apply(self, found: dict[str, Entry], tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
        raw = info.name.removeprefix("./").removeprefix("/")
        if not raw.startswith(TASK_ROOT):
            return
        rel = raw[len(TASK_ROOT) :]
        base = posixpath.basename(rel)
        if base.startswith(".wh."):  # whiteouts: this layer deletes what earlier ones added
            parent = posixpath.dirname(rel)
            gone = parent if base == ".wh..wh..opq" else posixpath.join(parent, base[4:])
            for name in [n for n in found if n == gone or n.startswith(gone + "/")]:
                if not (base == ".wh..wh..opq" and name == gone):
                    del found[name]
            return
        name, unsafe = check_name(rel)
        if not name:
            return
        key = (tar, info)
        if info.issym():
            found[name] = Entry(
                name,
                "symlink",
                0,
                0,
                link=info.linkname,
                unsafe=unsafe or check_link(name, info.linkname),
                key=key,
            )
        elif info.isdir():
            found[name] = Entry(name, "dir", 0, 0, key=key)
        elif info.isfile() or info.islnk():
            found[name] = Entry(
                name,
                "file",
                info.size,
                info.size,
                executable=bool(info.mode & 0o111),
                unsafe=unsafe,
                key=key,
            )
        else:
            found[name] = Entry(name, "other", 0, 0, unsafe="is a device or special file", key=key)

    @property
    def cmd(self) -> object:
        """The config's ``Cmd`` as it is (Lambda's base images: ``["module.function"]``),
        None when it has none."""
        container = self.config.get("config")
        return container.get("Cmd") if isinstance(container, dict) else None

    # -- Tree -----------------------------------------------------------------------------
    def entries(self) -> list[Entry]:
        return self._entries

    def open(self, entry: Entry) -> IO[bytes]:
        tar, info = cast("tuple[tarfile.TarFile, tarfile.TarInfo]", entry.key)
        try:
            stream: IO[bytes] | None = tar.extractfile(info)
        except (KeyError, *READ_ERRORS, tarfile.TarError) as exc:
            raise self.corrupt(entry, exc) from exc
        if stream is None:
            raise self.corrupt(entry, ValueError("not a regular file"))
        return stream

    def close(self) -> None:
        for tar in self._tars:
            tar.close()
        self._tars.clear()
        self._scratch.cleanup()
