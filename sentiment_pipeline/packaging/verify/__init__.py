"""Verification of Lambda artifacts against their target runtime.

:func:`verify` loads on first use: the verifier's readers (zips, images, registries)
are not needed by what only reads its findings (a build that reuses its last report).

>>> from sentiment_pipeline.packaging.verify import ProblemCode
>>> ProblemCode.MISSING_FILE.value
'missing-file'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sentiment_pipeline.packaging.verify.findings import Problem, ProblemCode
from sentiment_pipeline.packaging.verify.report import Checked, DynamicResult, Report

if TYPE_CHECKING:
    from sentiment_pipeline.packaging.verify.check import verify

__all__ = ["Checked", "DynamicResult", "Problem", "ProblemCode", "Report", "verify"]


def __getattr__(name: str) -> Any:
    if name != "verify":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from sentiment_pipeline.packaging.verify.check import verify

    globals()["verify"] = verify
    return verify
