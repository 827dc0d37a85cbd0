"""``container-image``: one Lambda container image per function, built without a daemon.

The function's files are installed exactly as for ``zip-in-docker`` (same code
path, engine or local), then packed into one reproducible layer under
``/var/task`` on top of the base image (``public.ecr.aws/lambda/python:<ver>-<arch>``
from the target catalog, or ``base-image``), resolved to a digest and pinned in
``lambdas.lock``. The result is an OCI image layout in
``dist/container-image/<lambda>/`` (verified like every artifact), a
``docker load`` tarball beside it, and, with ``--push``, the image in a registry
(blobs first, the manifest last; always a single-platform manifest).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import posixpath
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.assemble import assemble_zip
from sentiment_pipeline.packaging.backend import AssembleResult, Backend, BuildContext, StepError
from sentiment_pipeline.packaging.cache import default_cache_root
from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan
from sentiment_pipeline.packaging.sandbox import TASK_ROOT

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.oci.image import Descriptor, ImageManifest
    from sentiment_pipeline.packaging.oci.registry import RegistryClient

__all__ = ["ContainerImage"]

TAG = "latest"
_TASK_DIR = TASK_ROOT.lstrip("/")  # the function's directory, relative to the image's root


@attrs.frozen
class _Base:
    reference: str
    repository: str
    digest: str
    manifest: ImageManifest
    config: dict[str, Any]
    client: RegistryClient = attrs.field(eq=False)


@attrs.frozen
class _Built:
    """What publishing a verified image needs (kept between assemble and publish)."""

    manifest: bytes
    """In the base's media-type family, for registries."""
    blobs: dict[str, Path] = attrs.field(eq=False)
    base: _Base = attrs.field(eq=False)
    config: bytes
    layers: tuple[Descriptor, ...]


class ContainerImage(Backend):
    name = "container-image"
    description = "a Lambda container image per function (OCI layout, docker tarball, push)"
    suffix = ""

    def __init__(self) -> None:
        self._built: dict[str, _Built] = {}

    def artifacts(self, functions: Sequence[FunctionPlan]) -> list[ArtifactPlan]:
        return [ArtifactPlan(f) for f in functions]

    def output_name(self, artifact: ArtifactPlan) -> str:
        return artifact.name

    def assemble(
        self, artifact: ArtifactPlan, wheels: Sequence[Path], dest: Path, ctx: BuildContext
    ) -> AssembleResult:
        from sentiment_pipeline.packaging.oci.blobs import blob_source
        from sentiment_pipeline.packaging.oci.image import (
            build_manifest,
            canonical_json,
            derive_config,
        )
        from sentiment_pipeline.packaging.oci.layer import (
            LayerCache,
            files_from_tree,
            source_date_epoch,
        )
        from sentiment_pipeline.packaging.oci.layout import write_layout

        function = artifact.function
        assert function is not None
        work = Path(tempfile.mkdtemp(prefix="image-", dir=ctx.work))
        app = work / "app.zip"
        installed = assemble_zip(self.name, artifact, wheels, app, ctx, prefix="")
        tree = work / "task"
        with zipfile.ZipFile(app) as zf:  # our own, just written and deterministic
            zf.extractall(tree)
            for info in zf.infolist():  # extractall drops Unix modes; the layer needs them
                if not info.is_dir():
                    executable = (info.external_attr >> 16) & 0o111
                    (tree / info.filename).chmod(0o755 if executable else 0o644)
        try:
            base = self._base(function.base_image, artifact, ctx)
            epoch = source_date_epoch()
            layer = LayerCache().get_or_build(
                files_from_tree(tree, _TASK_DIR),
                mtime=epoch,
                skip_dirs=frozenset({posixpath.dirname(_TASK_DIR), _TASK_DIR}),
            )
            created = dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            config = canonical_json(
                derive_config(
                    base.config,
                    cmd=function.handler,
                    diff_id=layer.diff_id,
                    created=created,
                    history_comment=f"sentiment-pipeline: {TASK_ROOT} of {artifact.key}",
                )
            )
            ours = layer.descriptor()
            layers: list[Descriptor] = [*base.manifest.layers, ours]
            pulled = work / "blobs"
            pulled.mkdir()
            blobs = blob_source([layer], fallback=base.client.blob_source(base.repository, pulled))
            ctx.progress(f"{self.name}:layout {artifact.key}")
            write_layout(dest, tag=TAG, config=config, layers=layers, blobs=blobs)
            manifest = build_manifest(config, layers, base.manifest.family)
            needed = {d.digest: Path(blobs(d.digest)) for d in layers}  # type: ignore[arg-type]
            needed[json.loads(manifest)["config"]["digest"]] = self._store(config, work)
            self._built[artifact.key] = _Built(manifest, needed, base, config, tuple(layers))
        except (PipelineError, ValueError) as exc:
            raise StepError(self.name, "image", str(exc)) from exc
        notes = (*installed.notes, f"base {base.reference}@{base.digest}")
        return attrs.evolve(installed, notes=notes)

    @staticmethod
    def _store(data: bytes, work: Path) -> Path:
        path = work / "config.json"
        path.write_bytes(data)
        return path

    def _base(self, reference: str, artifact: ArtifactPlan, ctx: BuildContext) -> _Base:
        """Pull the base manifest (pinned digest first) and config; check its architecture."""
        from sentiment_pipeline.packaging.oci.image import parse_manifest, require_manifest
        from sentiment_pipeline.packaging.oci.platform import check_architecture, select_platform
        from sentiment_pipeline.packaging.oci.reference import ImageRef
        from sentiment_pipeline.packaging.oci.registry import RegistryClient

        ref = ImageRef.parse(reference)
        client = RegistryClient(ref.host, cache_dir=default_cache_root() / "blobs")
        pinned = ctx.lockfile.base(artifact.key, reference) if ctx.lockfile else None
        wanted = dataclasses.replace(ref, digest=pinned, tag=None) if pinned else ref
        fetched = client.get_manifest(wanted)
        manifest = parse_manifest(fetched.data, fetched.media_type)
        if manifest.is_index:
            chosen = select_platform(manifest, artifact.target.architecture, reference=reference)
            fetched = client.get_manifest(
                dataclasses.replace(ref, digest=chosen.digest, tag=None), expect_manifest=True
            )
            manifest = parse_manifest(fetched.data, fetched.media_type)
        manifest = require_manifest(manifest, reference)
        assert manifest.config is not None
        with tempfile.TemporaryDirectory() as tmp:
            path = client.get_blob(ref.repository, manifest.config.digest, Path(tmp) / "config")
            config: dict[str, Any] = json.loads(path.read_bytes())
        check_architecture(config, artifact.target.architecture, reference=reference)
        if ctx.lockfile is not None:
            ctx.lockfile.pin_base(artifact.key, reference, manifest.digest)
        return _Base(reference, ref.repository, manifest.digest, manifest, config, client)

    def publish(self, artifact: ArtifactPlan, path: Path, ctx: BuildContext) -> str | None:
        """After verification: with ``--docker-archive`` a ``docker load`` tarball beside
        the layout, and with ``--push HOST/PREFIX`` the image as ``HOST/PREFIX/<lambda>:latest``."""
        built = self._built.pop(artifact.key, None)
        if built is None:
            return None
        from sentiment_pipeline.packaging.oci.dockerarchive import write_docker_archive
        from sentiment_pipeline.packaging.oci.reference import ImageRef
        from sentiment_pipeline.packaging.oci.registry import RegistryClient

        blobs = built.blobs
        if ctx.docker_archive:
            write_docker_archive(
                path.with_name(f"{path.name}.tar"),
                repo_tags=[f"{artifact.name}:{TAG}"],
                config=built.config,
                layers=built.layers,
                blobs=lambda digest: blobs[digest],
            )
        if not ctx.push:
            return None
        target = ImageRef.parse(f"{ctx.push.rstrip('/')}/{artifact.name}:{TAG}")
        client = RegistryClient(target.host)
        mount = built.base.repository if built.base.client.host == target.host else None
        media_type = json.loads(built.manifest)["mediaType"]
        result = client.push_image(target, built.manifest, media_type, blobs, mount_from=mount)
        return (
            f"{target.host}/{target.repository}@{result.digest} (uploaded "
            f"{len(result.uploaded)}, mounted {len(result.mounted)}, already there "
            f"{len(result.skipped)})"
        )
