"""sentiment-pipeline: an event-driven sentiment pipeline for AWS Lambda, and
packaging that cannot ship a broken Lambda.

The verifier is :func:`sentiment_pipeline.packaging.verify.verify`. The packaging API is
importable from here, lazily: importing a runtime module
(``sentiment_pipeline.dashboard``, a handler) never loads the packaging code or
its dependencies (pyelftools, packaging, installer), which Lambda artifacts
do not carry.

>>> from sentiment_pipeline import get_target
>>> get_target("python3.12", "arm64").manylinux
'manylinux_2_34_aarch64'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentiment_pipeline.errors import ArtifactError, PipelineError, UnknownTargetError
    from sentiment_pipeline.packaging.targets import (
        CATALOG_VERSION,
        Target,
        all_targets,
        get_target,
        runtimes,
    )
    from sentiment_pipeline.packaging.verify import Problem, ProblemCode, Report

__all__ = [
    "CATALOG_VERSION",
    "ArtifactError",
    "PipelineError",
    "Problem",
    "ProblemCode",
    "Report",
    "Target",
    "UnknownTargetError",
    "all_targets",
    "get_target",
    "runtimes",
]

__version__ = "0.1.0.dev0"

_WHERE = {
    "ArtifactError": "errors",
    "PipelineError": "errors",
    "UnknownTargetError": "errors",
    "CATALOG_VERSION": "packaging.targets",
    "Target": "packaging.targets",
    "all_targets": "packaging.targets",
    "get_target": "packaging.targets",
    "runtimes": "packaging.targets",
    "Problem": "packaging.verify",
    "ProblemCode": "packaging.verify",
    "Report": "packaging.verify",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sentiment_pipeline' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
