"""Verification of Lambda artifacts against their target runtime.

>>> from sentiment_pipeline.verify import ProblemCode
>>> ProblemCode.MISSING_FILE.value
'missing-file'
"""

from __future__ import annotations

from .check import verify
from .findings import Problem, ProblemCode
from .report import Report

__all__ = ["Problem", "ProblemCode", "Report", "verify"]
