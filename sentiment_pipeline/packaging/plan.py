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
from sentiment_pipeline.packaging.targets import Target, get_target

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.packaging.manifest import LambdaSpec, LayerSpec, Manifest

__all__ = ["ArtifactPlan", "FunctionPlan", "LayerPlan", "PlanError", "plan_functions"]

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
    """A selection that the manifest cannot satisfy (unknown Lambda name...)."""


@attrs.frozen
class LayerPlan:
    name: str
    target: Target
    requirements: tuple[str, ...]
    exclude: tuple[str, ...]
    build_image: str

    @property
    def key(self) -> str:
        return f"layers.{self.name}"


@attrs.frozen
class FunctionPlan:
    name: str
    target: Target
    backend: str
    handler: str
    sources: tuple[Path, ...]
    """Files or directories copied into the artifact root (relative to the manifest's root)."""
    root: Path
    requirements: tuple[str, ...]
    """The function's own requirements."""
    layers: tuple[LayerPlan, ...]
    exclude: tuple[str, ...]
    build_image: str
    base_image: str

    @property
    def key(self) -> str:
        return f"lambdas.{self.name}"

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
class ArtifactPlan:
    """One file a backend produces: a function zip, a layer zip or an image."""

    kind: ArtifactKind
    name: str
    target: Target
    requirements: tuple[str, ...]
    """What to resolve and install into this artifact."""
    function: FunctionPlan | None = None
    layer: LayerPlan | None = None
    provided_by_layers: tuple[LayerPlan, ...] = ()
    """Layers whose packages this artifact leaves out (the ``layer`` backend)."""

    @property
    def key(self) -> str:
        return f"{'lambdas' if self.kind == 'function' else 'layers'}.{self.name}"


def _target(manifest: Manifest, spec: LambdaSpec | LayerSpec) -> Target:
    return get_target(manifest.setting(spec, "runtime"), manifest.setting(spec, "architecture"))


def _layer_plan(manifest: Manifest, name: str) -> LayerPlan:
    spec = manifest.layers[name]
    target = _target(manifest, spec)
    return LayerPlan(
        name=name,
        target=target,
        requirements=manifest.requirements_of(spec),
        exclude=(*manifest.setting(spec, "exclude"), *ALWAYS_EXCLUDED),
        build_image=manifest.setting(spec, "build_image") or target.build_image,
    )


def plan_functions(
    manifest: Manifest,
    *,
    only: Sequence[str] = (),
    backend: str | None = None,
) -> list[FunctionPlan]:
    """One plan per selected Lambda (all of them when ``only`` is empty), in manifest order."""
    unknown = [name for name in only if name not in manifest.lambdas]
    if unknown:
        raise PlanError(
            f"no Lambda named {', '.join(map(repr, unknown))} in {manifest.path}; "
            f"defined: {', '.join(manifest.lambdas)}"
        )
    out = []
    for name, spec in manifest.lambdas.items():
        if only and name not in only:
            continue
        target = _target(manifest, spec)
        layers = tuple(_layer_plan(manifest, layer) for layer in spec.layers)
        mismatched = [layer.name for layer in layers if layer.target != target]
        if mismatched:
            raise PlanError(
                f"{manifest.path}: lambdas.{name} runs {target.runtime}/{target.architecture} but "
                f"layer(s) {', '.join(mismatched)} are built for another runtime or architecture; "
                "give them the same runtime and architecture"
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
                build_image=manifest.setting(spec, "build_image") or target.build_image,
                base_image=manifest.setting(spec, "base_image") or target.build_image,
            )
        )
    return out
