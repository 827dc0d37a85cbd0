"""sentiment-pipeline: an event-driven sentiment pipeline for AWS Lambda, and
packaging that cannot ship a broken Lambda.

The packaging side is importable from here; the Lambda runtime side (domains,
handlers) never imports it.

>>> from sentiment_pipeline import get_target
>>> get_target("python3.12", "arm64").manylinux
'manylinux_2_34_aarch64'
"""

from __future__ import annotations

from .errors import ArtifactError, PipelineError, UnknownTargetError
from .targets import CATALOG_VERSION, Target, all_targets, get_target, runtimes
from .verify import Problem, ProblemCode, Report, verify

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
    "verify",
]

__version__ = "0.1.0.dev0"
