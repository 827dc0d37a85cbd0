"""Verification of Lambda artifacts against their target runtime.

>>> from sentiment_pipeline.packaging.verify import ProblemCode
>>> ProblemCode.MISSING_FILE.value
'missing-file'
"""

from __future__ import annotations

from sentiment_pipeline.packaging.verify.check import verify
from sentiment_pipeline.packaging.verify.findings import Problem, ProblemCode
from sentiment_pipeline.packaging.verify.report import Checked, DynamicResult, Report

__all__ = ["Checked", "DynamicResult", "Problem", "ProblemCode", "Report", "verify"]
