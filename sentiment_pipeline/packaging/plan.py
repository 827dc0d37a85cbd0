"""From a manifest to build plans: pure functions over frozen values.

>>> from pathlib import Path
>>> from sentiment_pipeline.packaging.manifest import Manifest
>>> m = Manifest.parse('[lambdas.api]\\nhandler = "h.f"\\n', path=Path("lambdas.toml"),
...                    check_paths=False)
>>> [f.name for f in plan_functions(m)]
['api']
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import attrs

from sentiment_pipeline.errors import PipelineError
from sentiment_pipeline.packaging.slimming import SlimPolicy
from sentiment_pipeline.packaging.targets import Target, get_target

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sentiment_pipeline.packaging.manifest import LambdaSpec, LayerSpec, Manifest

__all__ = [
    "ArtifactPlan",
    "FunctionPlan",
    "LayerPlan",
    "Overrides",
    "PlanError",
    "SourceSet",
    "plan_functions",
]

# Never shipped from sources: bytecode of the build host's Python, VCS and tool debris.
ALWAYS_EXCLUDED = (
    "**/__pycache__/**",
    "**/*.pyc",
    "**/.git/**",
    "**/.mypy_cache/**",
    "**/.pytest_cache/**",
    "**/.ruff_cache/**",
    "**/.DS_Store",
)


class PlanError(PipelineError, ValueError):
    """A selection that the manifest cannot satisfy (unknown Lambda name...).

    >>> from pathlib import Path
    >>> from sentiment_pipeline.packaging.manifest import Manifest
    >>> m = Manifest.parse('[lambdas.api]\\nhandler = "h.f"\\n', path=Path("/p/lambdas.toml"),
    ...                    check_paths=False)
    >>> plan_functions(m, only=["web"])
    Traceback (most recent call last):
    ...
    sentiment_pipeline.packaging.plan.PlanError: no Lambda named 'web' in /p/lambdas.toml; ...
    """


@attrs.frozen
class LayerPlan:
    """One ``[layers.NAME]`` of the manifest, with every setting resolved.

    >>> from pathlib import Path
    >>> from sentiment_pipeline.packaging.manifest import Manifest
    >>> m = Manifest.parse(
    ...     '[layers.common]\\nrequirements = ["six"]\\n'
    ...     '[lambdas.api]\\nhandler = "h.f"\\nlayers = ["common"]\\n',
    ...     path=Path("lambdas.toml"), check_paths=False)
    >>> (common,) = plan_functions(m)[0].layers
    >>> common.key, common.requirements, common.target.runtime
    ('layers.common', ('six',), 'python3.13')
    """

    name: str
    target: Target
    requirements: tuple[str, ...]
    exclude: tuple[str, ...]
    """Globs of files never shipped (the manifest's, and host bytecode and VCS debris)."""
    build_image: str
    """The image whose interpreter installs the layer when a container engine is used."""
    slim: SlimPolicy | None = None
    """How installed distributions are slimmed (``slim``), or None to ship them whole."""
    s3_upload: bool = False
    """The zip is deployed through S3 (``s3-upload``): over 50 MiB zipped is allowed."""
    sources: tuple[Path, ...] = ()
    """First-party files or directories placed under ``python/`` (relative to ``root``)."""
    root: Path = Path()
    """The manifest's folder: what ``sources`` are relative to."""
    per_target: bool = False
    """Whether the manifest's Lambdas need this layer for more than one target: then it is
    built once per target, and its key, label and file name carry the target."""

    @property
    def variant(self) -> str:
        """``python3.12-arm64``: the target, as it appears in names."""
        return f"{self.target.runtime}-{self.target.architecture}"

    @property
    def key(self) -> str:
        """``layers.NAME`` (``layers.NAME@python3.12-arm64`` when built per target): the
        layer's key in the lock file and the build."""
        return f"layers.{self.name}@{self.variant}" if self.per_target else f"layers.{self.name}"

    @property
    def label(self) -> str:
        """How reports name it: ``NAME``, or ``NAME (python3.12/arm64)`` when built per target."""
        if not self.per_target:
            return self.name
        return f"{self.name} ({self.target.runtime}/{self.target.architecture})"

    @property
    def stem(self) -> str:
        """Its file name without suffix: ``NAME``, or ``NAME-python3.12-arm64`` per target
        (names hold no ``.``, so it never meets another layer's)."""
        return f"{self.name}-{self.variant}" if self.per_target else self.name


@attrs.frozen
class FunctionPlan:
    """One ``[lambdas.NAME]`` of the manifest, with every setting resolved.

    Paths are absolute (``root`` is the manifest's folder); the target, backend and
    images are the manifest's, or the overrides given to :func:`plan_functions`.

    >>> from pathlib import Path
    >>> from sentiment_pipeline.packaging.manifest import Manifest
    >>> m = Manifest.parse('[lambdas.api]\\nhandler = "app.main.handler"\\n',
    ...                    path=Path("/p/lambdas.toml"), check_paths=False)
    >>> (api,) = plan_functions(m)
    >>> api.key, api.handler, api.backend, str(api.root)
    ('lambdas.api', 'app.main.handler', 'zip-in-docker', '/p')
    """

    name: str
    target: Target
    backend: str
    """The name of the backend that builds it."""
    handler: str
    """``module.function``, as Lambda's handler setting."""
    sources: tuple[Path, ...]
    """Files or directories copied into the artifact root (relative to the manifest's root)."""
    root: Path
    """The manifest's folder: what ``sources`` are relative to."""
    requirements: tuple[str, ...]
    """The function's own requirements."""
    layers: tuple[LayerPlan, ...]
    """Its layers, in Lambda's order."""
    exclude: tuple[str, ...]
    """Globs of files never shipped (the manifest's, and host bytecode and VCS debris)."""
    build_image: str
    """The image whose interpreter installs the function when a container engine is used."""
    base_image: str
    """The image an image backend builds on (``/var/task`` goes on top of it)."""
    slim: SlimPolicy | None = None
    """How installed distributions are slimmed (``slim``), or None to ship them whole."""
    s3_upload: bool = False
    """The zip is deployed through S3 (``s3-upload``): over 50 MiB zipped is allowed."""
    environment: Mapping[str, str] = attrs.field(factory=dict)
    """Its ``deploy.environment``: Lambda sets it before init, so the import check does."""

    @property
    def key(self) -> str:
        """``lambdas.NAME``: the function's key in the manifest and the lock file."""
        return f"lambdas.{self.name}"

    @property
    def label(self) -> str:
        """How reports name it: its name."""
        return self.name

    @property
    def stem(self) -> str:
        """Its file name without suffix: its name."""
        return self.name

    @property
    def all_requirements(self) -> tuple[str, ...]:
        """Layers' requirements and the function's own: the full closure to resolve."""
        merged: list[str] = []
        for layer in self.layers:
            merged.extend(layer.requirements)
        merged.extend(self.requirements)
        return tuple(dict.fromkeys(merged))


ArtifactKind = Literal["function", "layer"]


@attrs.frozen
class SourceSet:
    """First-party files an artifact carries: a function's or a layer's ``sources``.

    ``exclude`` globs match a path as the set lays it out (``pkg/tests/x.py``), before
    any prefix an artifact puts it under (``python/`` in a layer zip).
    """

    owner: str
    """``lambdas.NAME`` or ``layers.NAME``: whose ``sources`` these are."""
    root: Path
    sources: tuple[Path, ...]
    exclude: tuple[str, ...]


def _requirements_of(plan: ArtifactPlan) -> tuple[str, ...]:
    subject = plan.subject
    return subject.all_requirements if isinstance(subject, FunctionPlan) else subject.requirements


@attrs.frozen
class ArtifactPlan:
    """One artifact a backend makes (a function zip, a layer zip, an image) for one subject.

    The subject is the function or the layer the artifact carries; its name, target,
    exclusions and build image are the subject's, so every choice about them is made
    once, when the plan is made (``--build-image`` included: see
    :func:`plan_functions`). ``requirements`` defaults to what the subject needs: a
    function's own requirements and its layers' (:attr:`FunctionPlan.all_requirements`),
    or a layer's.

    >>> from pathlib import Path
    >>> from sentiment_pipeline.packaging.manifest import Manifest
    >>> m = Manifest.parse('[lambdas.api]\\nhandler = "h.f"\\nrequirements = ["six"]\\n',
    ...                    path=Path("lambdas.toml"), check_paths=False)
    >>> (function,) = plan_functions(m)
    >>> artifact = ArtifactPlan(function)
    >>> artifact.kind, artifact.key, artifact.requirements
    ('function', 'lambdas.api', ('six',))
    """

    subject: FunctionPlan | LayerPlan
    """The function or layer this artifact carries."""
    requirements: tuple[str, ...] = attrs.field(
        default=attrs.Factory(_requirements_of, takes_self=True)
    )
    """What to resolve and install into this artifact."""
    provided_by_layers: tuple[LayerPlan, ...] = ()
    """Layers whose packages this artifact leaves out (the ``layer`` backend)."""

    @property
    def kind(self) -> ArtifactKind:
        """``"function"`` or ``"layer"``: what the subject is."""
        return "function" if isinstance(self.subject, FunctionPlan) else "layer"

    @property
    def name(self) -> str:
        """The subject's name in the manifest."""
        return self.subject.name

    @property
    def target(self) -> Target:
        """The subject's runtime and architecture."""
        return self.subject.target

    @property
    def build_image(self) -> str:
        """The image whose interpreter installs this artifact with a container engine."""
        return self.subject.build_image

    @property
    def exclude(self) -> tuple[str, ...]:
        """Globs of files never shipped in this artifact."""
        return self.subject.exclude

    @property
    def slim(self) -> SlimPolicy | None:
        """How the subject's installed distributions are slimmed, or None."""
        return self.subject.slim

    @property
    def s3_upload(self) -> bool:
        """Whether the subject's zip is deployed through S3."""
        return self.subject.s3_upload

    @property
    def function(self) -> FunctionPlan | None:
        """The subject when it is a function, else None."""
        return self.subject if isinstance(self.subject, FunctionPlan) else None

    @property
    def layer(self) -> LayerPlan | None:
        """The subject when it is a layer, else None."""
        return self.subject if isinstance(self.subject, LayerPlan) else None

    @property
    def key(self) -> str:
        """``lambdas.NAME`` or ``layers.NAME``: the subject's key in the manifest and lock
        (a layer built per target: ``layers.NAME@RUNTIME-ARCH``)."""
        return self.subject.key

    @property
    def label(self) -> str:
        """How reports name it (a layer built per target: ``NAME (RUNTIME/ARCH)``)."""
        return self.subject.label

    @property
    def source_sets(self) -> tuple[SourceSet, ...]:
        """The first-party files it carries: a layer's own sources; for a function,
        the sources of its layers that no layer artifact provides (a self-contained
        artifact carries them, as it carries their requirements), then its own."""
        subject = self.subject
        if isinstance(subject, LayerPlan):
            layers: tuple[LayerPlan, ...] = (subject,)
        else:
            provided = {layer.key for layer in self.provided_by_layers}
            layers = tuple(layer for layer in subject.layers if layer.key not in provided)
        sets = [
            SourceSet(layer.key, layer.root, layer.sources, layer.exclude)
            for layer in layers
            if layer.sources
        ]
        if isinstance(subject, FunctionPlan) and subject.sources:
            sets.append(SourceSet(subject.key, subject.root, subject.sources, subject.exclude))
        return tuple(sets)


def _target(manifest: Manifest, spec: LambdaSpec | LayerSpec) -> Target:
    return get_target(manifest.setting(spec, "runtime"), manifest.setting(spec, "architecture"))


@attrs.frozen
class Overrides:
    """What the command line forces on every planned artifact (``build --slim`` ...).

    >>> Overrides(strip=True).slim_policy(False)
    SlimPolicy(strip=True)
    """

    slim: bool = False
    """Slim every artifact (``--slim``), whatever the manifest says."""
    strip: bool = False
    """Slim and strip every artifact (``--strip``)."""
    s3_upload: bool = False
    """Every zip is deployed through S3 (``--s3-upload``)."""

    def slim_policy(self, setting: object) -> SlimPolicy | None:
        """The manifest's ``slim`` value (false, true or a table), with these overrides."""
        strip = self.strip or bool(getattr(setting, "strip", False))
        if self.slim or strip or setting is True or not isinstance(setting, bool | None):
            return SlimPolicy(strip=strip)
        return None


def _layer_plan(
    manifest: Manifest,
    name: str,
    function: LambdaSpec,
    build_image: str | None,
    overrides: Overrides,
) -> LayerPlan:
    """Layer ``name`` for the target of ``function`` (the layer's own runtime or
    architecture, when it sets them; the manifest has checked they agree)."""
    spec = manifest.layers[name]
    target = get_target(
        spec.runtime or manifest.setting(function, "runtime"),
        spec.architecture or manifest.setting(function, "architecture"),
    )
    return LayerPlan(
        name=name,
        target=target,
        requirements=manifest.requirements_of(spec),
        exclude=(*manifest.setting(spec, "exclude"), *ALWAYS_EXCLUDED),
        build_image=build_image or manifest.setting(spec, "build_image") or target.build_image,
        sources=tuple(Path(s) for s in spec.sources),
        root=manifest.root,
        per_target=len(manifest.layer_targets(name)) > 1,
        slim=overrides.slim_policy(manifest.setting(spec, "slim")),
        s3_upload=overrides.s3_upload or manifest.setting(spec, "s3_upload"),
    )


def plan_functions(
    manifest: Manifest,
    *,
    only: Sequence[str] = (),
    backend: str | None = None,
    build_image: str | None = None,
    base_image: str | None = None,
    overrides: Overrides | None = None,
) -> list[FunctionPlan]:
    """One plan per selected Lambda (all of them when ``only`` is empty), in manifest order.

    ``backend``, ``build_image`` and ``base_image`` override the manifest's choice for
    every Lambda (and, for the build image, every layer): each plan names the one
    backend and images it is built with; ``overrides`` forces ``slim``, ``strip`` and
    ``s3-upload`` on every Lambda and layer. A layer comes in each Lambda's plan built
    for that Lambda's target; one the manifest's Lambdas need for several targets is
    marked ``per_target`` (decided over the whole manifest, whatever ``only`` selects,
    so its names do not depend on the selection). Raises :class:`PlanError` for a
    name in ``only`` that the manifest does not define.

    >>> from pathlib import Path
    >>> from sentiment_pipeline.packaging.manifest import Manifest
    >>> m = Manifest.parse('[lambdas.api]\\nhandler = "h.f"\\n', path=Path("lambdas.toml"),
    ...                    check_paths=False)
    >>> (api,) = plan_functions(m, build_image="registry.example/build:3.13")
    >>> api.backend, api.build_image
    ('zip-in-docker', 'registry.example/build:3.13')
    """
    unknown = [name for name in only if name not in manifest.lambdas]
    if unknown:
        raise PlanError(
            f"no Lambda named {', '.join(map(repr, unknown))} in {manifest.path}; "
            f"defined: {', '.join(manifest.lambdas)}"
        )
    overrides = overrides if overrides is not None else Overrides()
    out = []
    for name, spec in manifest.lambdas.items():
        if only and name not in only:
            continue
        target = _target(manifest, spec)
        layers = tuple(
            _layer_plan(manifest, layer, spec, build_image, overrides) for layer in spec.layers
        )
        out.append(
            FunctionPlan(
                name=name,
                target=target,
                backend=backend or manifest.setting(spec, "backend"),
                handler=spec.handler,
                sources=tuple(Path(s) for s in spec.sources),
                root=manifest.root,
                requirements=manifest.requirements_of(spec),
                layers=layers,
                exclude=(*manifest.setting(spec, "exclude"), *ALWAYS_EXCLUDED),
                build_image=build_image
                or manifest.setting(spec, "build_image")
                or target.build_image,
                base_image=base_image or manifest.setting(spec, "base_image") or target.build_image,
                slim=overrides.slim_policy(manifest.setting(spec, "slim")),
                environment=manifest.deploy_settings(name).environment,
                s3_upload=overrides.s3_upload or manifest.setting(spec, "s3_upload"),
            )
        )
    return out
