"""``layer``: each ``[layers.X]`` becomes a layer zip under ``python/`` (its requirements
and its ``sources``), one per target of the Lambdas that list it; function zips carry
their sources and only the dependencies their layers do not provide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.assemble import assemble_zip
from sentiment_pipeline.packaging.backend import AssembleResult, Backend, BuildContext
from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan
from sentiment_pipeline.packaging.sandbox import LAYER_PYTHON

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["LayerBackend"]


class LayerBackend(Backend):
    name = "layer"
    description = "shared dependency layers (python/) plus slim function zips"

    def artifacts(self, functions: Sequence[FunctionPlan]) -> list[ArtifactPlan]:
        # One layer artifact per layer and target: Lambdas of different targets that
        # list a layer each get the one built for theirs.
        layers: dict[str, ArtifactPlan] = {}
        for function in functions:
            for layer in function.layers:
                layers.setdefault(layer.key, ArtifactPlan(layer))
        functions_out = [ArtifactPlan(f, provided_by_layers=f.layers) for f in functions]
        return [*layers.values(), *functions_out]

    def assemble(
        self, artifact: ArtifactPlan, wheels: Sequence[Path], dest: Path, ctx: BuildContext
    ) -> AssembleResult:
        prefix = f"{LAYER_PYTHON}/" if artifact.kind == "layer" else ""
        return assemble_zip(self.name, artifact, wheels, dest, ctx, prefix=prefix)
