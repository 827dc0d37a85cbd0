"""Dashboard: queries over the store, served over a Lambda Function URL (payload 2.0).

:class:`~sentiment_pipeline.dashboard.app.Dashboard` routes a parsed
:class:`~sentiment_pipeline.dashboard.http.Request` to the queries of
:mod:`sentiment_pipeline.dashboard.queries` and shapes a
:class:`~sentiment_pipeline.dashboard.http.Response`; ``handlers/dashboard.py``
only converts the Lambda event.
"""

from __future__ import annotations

from sentiment_pipeline.dashboard.app import Dashboard
from sentiment_pipeline.dashboard.http import HttpError, Request, Response

__all__ = ["Dashboard", "HttpError", "Request", "Response"]
