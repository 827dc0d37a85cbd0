"""sentiment-pipeline: an event-driven sentiment pipeline for AWS Lambda, and
packaging that cannot ship a broken Lambda.

The library's API is importable from here: build the Lambdas of a manifest,
verify any artifact against its target runtime, look up the target catalog, and
write a packaging backend. The names resolve lazily, on first use: importing a
runtime module (``sentiment_pipeline.dashboard``, a handler) never loads the
packaging code or its dependencies (pydantic's manifest models, pyelftools,
packaging, installer), which Lambda artifacts do not carry.

>>> from sentiment_pipeline import get_target
>>> get_target("python3.12", "arm64").manylinux
'manylinux_2_34_aarch64'

>>> from sentiment_pipeline import BuildOptions, Manifest, build, verify
>>> result = build(Manifest.load("lambdas.toml"), BuildOptions(engine="none"))  # doctest: +SKIP
>>> report = verify(result.artifacts[0].path, get_target("python3.13"))  # doctest: +SKIP
>>> report.ok  # doctest: +SKIP
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiment_pipeline._version import __version__ as __version__
    from sentiment_pipeline.deployment import (
        AwsCallError,
        DeployError,
        DeployOptions,
        DeployRecord,
        RefusedError,
        deploy,
    )
    from sentiment_pipeline.errors import ArtifactError, PipelineError, UnknownTargetError
    from sentiment_pipeline.local.invoke import (
        InvokeOptions,
        InvokeResult,
        VerificationFailedError,
        invoke,
    )
    from sentiment_pipeline.packaging.backend import (
        AssembleResult,
        Backend,
        BackendError,
        BuildContext,
        StepError,
        installed_backends,
        load_backend,
    )
    from sentiment_pipeline.packaging.build import build
    from sentiment_pipeline.packaging.cache import CacheError
    from sentiment_pipeline.packaging.lock import ResolutionError
    from sentiment_pipeline.packaging.manifest import Manifest, ManifestError
    from sentiment_pipeline.packaging.options import BuildOptions, OptionsError, VerifyOptions
    from sentiment_pipeline.packaging.plan import ArtifactPlan, FunctionPlan, LayerPlan, PlanError
    from sentiment_pipeline.packaging.results import ArtifactResult, BuildResult
    from sentiment_pipeline.packaging.targets import (
        CATALOG_VERSION,
        Target,
        all_targets,
        get_target,
        runtimes,
    )
    from sentiment_pipeline.packaging.verify import (
        Checked,
        DynamicResult,
        Problem,
        ProblemCode,
        Report,
        verify,
    )

__all__ = [
    "CATALOG_VERSION",
    "ArtifactError",
    "ArtifactPlan",
    "ArtifactResult",
    "AssembleResult",
    "AwsCallError",
    "Backend",
    "BackendError",
    "BuildContext",
    "BuildOptions",
    "BuildResult",
    "CacheError",
    "Checked",
    "DeployError",
    "DeployOptions",
    "DeployRecord",
    "DynamicResult",
    "FunctionPlan",
    "InvokeOptions",
    "InvokeResult",
    "LayerPlan",
    "Manifest",
    "ManifestError",
    "OptionsError",
    "PipelineError",
    "PlanError",
    "Problem",
    "ProblemCode",
    "RefusedError",
    "Report",
    "ResolutionError",
    "StepError",
    "Target",
    "UnknownTargetError",
    "VerificationFailedError",
    "VerifyOptions",
    "all_targets",
    "build",
    "deploy",
    "get_target",
    "installed_backends",
    "invoke",
    "load_backend",
    "runtimes",
    "verify",
]

# Where each public name lives, relative to this package; imported on first use.
_WHERE = {
    "__version__": "_version",
    "ArtifactError": "errors",
    "PipelineError": "errors",
    "UnknownTargetError": "errors",
    "AwsCallError": "deployment.errors",
    "DeployError": "deployment.errors",
    "RefusedError": "deployment.errors",
    "DeployOptions": "deployment.options",
    "DeployRecord": "deployment.record",
    "deploy": "deployment.run",
    "AssembleResult": "packaging.backend",
    "Backend": "packaging.backend",
    "BackendError": "packaging.backend",
    "BuildContext": "packaging.backend",
    "StepError": "packaging.backend",
    "installed_backends": "packaging.backend",
    "load_backend": "packaging.backend",
    "build": "packaging.build",
    "CacheError": "packaging.cache",
    "ResolutionError": "packaging.lock",
    "Manifest": "packaging.manifest",
    "ManifestError": "packaging.manifest",
    "BuildOptions": "packaging.options",
    "OptionsError": "packaging.options",
    "VerifyOptions": "packaging.options",
    "ArtifactPlan": "packaging.plan",
    "FunctionPlan": "packaging.plan",
    "LayerPlan": "packaging.plan",
    "PlanError": "packaging.plan",
    "ArtifactResult": "packaging.results",
    "BuildResult": "packaging.results",
    "CATALOG_VERSION": "packaging.targets",
    "Target": "packaging.targets",
    "all_targets": "packaging.targets",
    "get_target": "packaging.targets",
    "runtimes": "packaging.targets",
    "Checked": "packaging.verify",
    "DynamicResult": "packaging.verify",
    "Problem": "packaging.verify",
    "ProblemCode": "packaging.verify",
    "Report": "packaging.verify",
    "verify": "packaging.verify",
    "InvokeOptions": "local.invoke",
    "InvokeResult": "local.invoke",
    "VerificationFailedError": "local.invoke",
    "invoke": "local.invoke",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sentiment_pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
