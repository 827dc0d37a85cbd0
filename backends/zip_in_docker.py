"""``zip-in-docker``: one self-contained zip per Lambda, installed by the target interpreter.

Dependencies of the Lambda and of the layers it lists all go into its zip. With a
container engine the build image's interpreter installs offline and compiles
bytecode; with ``--engine none`` the wheels are cross-installed for the exact
target tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.assemble import assemble_zip
from sentiment_pipeline.packaging.backend import AssembleResult, Backend, BuildContext
from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

__all__ = ["ZipInDocker"]


class ZipInDocker(Backend):
    name = "zip-in-docker"
    description = "one self-contained zip per Lambda, built in a Lambda-like container"

    def artifacts(self, functions: Sequence[FunctionPlan]) -> list[ArtifactPlan]:
        return [ArtifactPlan(f) for f in functions]

    def assemble(
        self, artifact: ArtifactPlan, wheels: Sequence[Path], dest: Path, ctx: BuildContext
    ) -> AssembleResult:
        return assemble_zip(self.name, artifact, wheels, dest, ctx, prefix="")
