"""What may be deployed: the verified artifacts of the last build, read from its report.

Deploy reads ``<out>/<backend>/report.json`` and takes an artifact only when the build
verified it and the file on disk is still the one verified (same sha256, or the same
manifest digest for an image). Anything else is refused, all problems at once, each
with the command that rebuilds the artifact; then nothing is uploaded.
"""

from __future__ import annotations

import base64
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline.deployment.errors import RefusedError
from sentiment_pipeline.packaging.plan import plan_functions
from sentiment_pipeline.packaging.results import ArtifactResult, mib
from sentiment_pipeline.packaging.reuse import identity

if TYPE_CHECKING:
    from sentiment_pipeline.deployment.options import DeployOptions
    from sentiment_pipeline.packaging.manifest import DeploySettings, Manifest
    from sentiment_pipeline.packaging.plan import FunctionPlan, LayerPlan
    from sentiment_pipeline.packaging.targets import Target

__all__ = ["Artifact", "Deployable", "LayerArtifact", "deployables", "layer_name"]


@attrs.frozen
class Artifact:
    """One verified artifact on disk, as the report describes it."""

    label: str
    path: Path
    sha256: str
    """A zip's sha256 (hex), or an image layout's manifest digest."""
    size: int
    image: str | None = None
    """Where an image was pushed, by digest: ``HOST/REPO@sha256:...``."""

    @property
    def is_image(self) -> bool:
        return self.image is not None

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as the code's ``CodeSha256``: base64 of a zip's sha256, the
        hex digest of an image."""
        if self.image is not None:
            return self.image.rpartition("@sha256:")[2]
        return base64.b64encode(bytes.fromhex(self.sha256)).decode("ascii")


@attrs.frozen
class LayerArtifact:
    """A layer artifact and the name it is published under."""

    name: str
    """The layer's name in Lambda (``name-prefix``, the manifest's name, the target when
    the layer is built for several)."""
    runtime: str
    architecture: str
    artifact: Artifact


@attrs.frozen
class Deployable:
    """One Lambda ready to deploy: its verified artifacts and its deploy settings."""

    name: str
    """The Lambda's name in the manifest."""
    handler: str
    target: Target
    backend: str
    function: Artifact
    layers: tuple[LayerArtifact, ...]
    settings: DeploySettings


def layer_name(prefix: str, layer: LayerPlan) -> str:
    """A layer's name in Lambda: ``PREFIX + NAME``, plus the target when it is built for
    several (``shared-python312-arm64``: Lambda's layer names hold no ``.``).

    >>> from sentiment_pipeline.packaging.plan import LayerPlan
    >>> from sentiment_pipeline.packaging.targets import get_target
    >>> target = get_target("python3.12", "arm64")
    >>> layer_name("prod-", LayerPlan("shared", target, (), (), "img", per_target=True))
    'prod-shared-python312-arm64'
    """
    if not layer.per_target:
        return f"{prefix}{layer.name}"
    return (
        f"{prefix}{layer.name}-{layer.target.runtime.replace('.', '')}-{layer.target.architecture}"
    )


def _read_report(path: Path) -> dict[str, ArtifactResult] | None:
    """Every artifact of a report by its label (failed ones too), or None without one."""
    import json

    try:
        data = json.loads(path.read_text())
        return {a["name"]: ArtifactResult.from_json(a) for a in data.get("artifacts", [])}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


class _Rebuild:
    """The command that rebuilds a Lambda's artifacts, spelled as the user would type it."""

    def __init__(self, manifest: Manifest, options: DeployOptions) -> None:
        cwd = Path.cwd()
        words = ["sentiment-pipeline", "build"]
        if manifest.path != cwd / "lambdas.toml":
            words += ["--manifest", os.path.relpath(manifest.path, cwd)]
        if options.out != cwd / "dist":
            words += ["--out", os.path.relpath(options.out, cwd)]
        if options.backend:
            words += ["--backend", options.backend]
        self._words = words

    def __call__(self, name: str, *extra: str) -> str:
        return shlex.join([*self._words, "--lambda", name, *extra])


def _check(
    entry: ArtifactResult | None,
    label: str,
    report: Path,
    rebuild: str,
    problems: list[str],
) -> Artifact | None:
    """The artifact when it can be deployed, else None and its problem appended."""
    if entry is None:
        problems.append(f"{label}: not in the last build's report ({report}); build it: {rebuild}")
        return None
    path = Path(entry.path)
    if not entry.ok:
        first = entry.problems[0].message if entry.problems else "see the build's report"
        problems.append(
            f"{label}: failed verification in the last build ({len(entry.problems)} "
            f"problem(s), first: {first}); fix it and rebuild: {rebuild}"
        )
        return None
    if not path.exists():
        problems.append(f"{label}: {path} is missing; rebuild it: {rebuild}")
        return None
    now = identity(path)
    if entry.sha256 is None or now != entry.sha256:
        problems.append(
            f"{label}: {path} changed since it was verified (sha256 {now}, the report has "
            f"{entry.sha256}); rebuild it: {rebuild}"
        )
        return None
    size = path.stat().st_size if path.is_file() else 0
    return Artifact(label, path, entry.sha256, size, image=entry.pushed)


def deployables(manifest: Manifest, options: DeployOptions) -> list[Deployable]:
    """The selected Lambdas with their verified artifacts and settings, in manifest order.

    Raises :class:`~sentiment_pipeline.deployment.errors.RefusedError` listing every
    artifact that is missing, unverified, changed since, an image never pushed, or a zip
    over Lambda's direct-upload size; and :class:`~sentiment_pipeline.packaging.plan.PlanError`
    for a ``--lambda`` the manifest lacks.
    """
    plans = plan_functions(manifest, only=options.only, backend=options.backend)
    rebuild = _Rebuild(manifest, options)
    prefix = manifest.defaults.deploy.name_prefix or ""
    reports: dict[str, dict[str, ArtifactResult] | None] = {}
    problems: list[str] = []
    out: list[Deployable] = []
    for plan in plans:
        report_path = options.out / plan.backend / "report.json"
        if plan.backend not in reports:
            reports[plan.backend] = _read_report(report_path)
        entries = reports[plan.backend]
        command = rebuild(plan.name)
        if entries is None:
            problems.append(
                f"{plan.name}: no build report at {report_path}; build first: {command}"
            )
            continue
        function = _check(entries.get(plan.name), plan.name, report_path, command, problems)
        layers = _layers(plan, entries, prefix, report_path, command, problems)
        if function is None or layers is None:
            continue
        limit = plan.target.limits.zipped_upload
        for artifact in (function, *(layer.artifact for layer in layers)):
            if not artifact.is_image and artifact.size > limit:
                problems.append(
                    f"{artifact.label}: {mib(artifact.size)} zipped is over the "
                    f"{mib(limit)} of a direct upload, and deploy uploads directly; upload "
                    f"{artifact.path} to S3 and deploy it from there (aws lambda "
                    "update-function-code --s3-bucket ...), or make it smaller (slim = true)"
                )
        if plan.backend == "container-image" and function.image is None:
            problems.append(
                f"{plan.name}: the image was built but never pushed, and Lambda runs images "
                f"from a registry; push it: {rebuild(plan.name, '--push', 'REGISTRY/PREFIX')}"
            )
        out.append(
            Deployable(
                plan.name,
                plan.handler,
                plan.target,
                plan.backend,
                function,
                layers,
                manifest.deploy_settings(plan.name),
            )
        )
    if problems:
        raise RefusedError(problems)
    return out


def _layers(
    plan: FunctionPlan,
    entries: dict[str, ArtifactResult],
    prefix: str,
    report: Path,
    rebuild: str,
    problems: list[str],
) -> tuple[LayerArtifact, ...] | None:
    """The layer artifacts the function was verified with, in its order (none when its
    backend bundles them into the function's artifact)."""
    own = entries.get(plan.name)
    if own is None or not own.layers:
        return ()
    if len(own.layers) != len(plan.layers):
        problems.append(
            f"{plan.name}: built with {len(own.layers)} layer(s), the manifest now lists "
            f"{len(plan.layers)}; rebuild it: {rebuild}"
        )
        return None
    by_path = {e.path: e for e in entries.values() if e.kind == "layer"}
    layers: list[LayerArtifact] = []
    ok = True
    for path, layer in zip(own.layers, plan.layers, strict=True):
        entry = by_path.get(path)
        artifact = _check(entry, layer.label, report, rebuild, problems)
        if artifact is None:
            ok = False
            continue
        layers.append(
            LayerArtifact(
                layer_name(prefix, layer),
                layer.target.runtime,
                layer.target.architecture,
                artifact,
            )
        )
    return tuple(layers) if ok else None
