"""The local stack's own HTTP routes beside the dashboard's: ``/_local/ingest``, ``/_local/status``.

Both need the dashboard's API key (``X-API-Key``, or ``?api_key=``), like the
dashboard itself.

- ``POST /_local/ingest[?release=N]`` runs the ingestion Lambda now (after
  releasing ``N`` more sample articles, with the sample data) and answers its
  result, what was released and what the sample's clock released since the
  previous ingestion; a failed invocation is answered as the Function URL would.
- ``GET /_local/status`` answers the stack's status (functions, deliveries...).
"""

from __future__ import annotations

import secrets
import urllib.parse
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.local.functionurl import answer_from_invocation, json_answer

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.local.functionurl import HttpAnswer, HttpRequest
    from sentiment_pipeline.local.runner import Invocation

__all__ = ["local_routes"]


def local_routes(
    api_key: str,
    *,
    ingest: Callable[[int | None], tuple[Invocation, int, int | None]],
    status: Callable[[], dict[str, Any]],
) -> dict[tuple[str, str], Callable[[HttpRequest], HttpAnswer]]:
    """The routes for :class:`~sentiment_pipeline.local.functionurl.LocalFunctionUrl`.

    ``ingest(release)`` runs the ingestion after releasing ``release`` sample
    articles (None: none asked for) and answers ``(invocation, released,
    released_over_time)``; ``status()`` answers the stack's status.
    """

    def authorised(request: HttpRequest) -> bool:
        query = dict(urllib.parse.parse_qsl(request.target.partition("?")[2]))
        given = next((v for k, v in request.headers if k.lower() == "x-api-key"), None)
        given = given or query.get("api_key") or ""
        return secrets.compare_digest(given.encode(), api_key.encode())

    def route_ingest(request: HttpRequest) -> HttpAnswer:
        if not authorised(request):
            return _unauthorised()
        query = dict(urllib.parse.parse_qsl(request.target.partition("?")[2]))
        release = query.get("release", "")
        invocation, released, over_time = ingest(int(release) if release.isdecimal() else None)
        if not invocation.ok:
            return answer_from_invocation(invocation)
        return json_answer(
            200,
            {
                "ingestion": invocation.result,
                "released": released,
                "released_over_time": over_time,
            },
        )

    def route_status(request: HttpRequest) -> HttpAnswer:
        if not authorised(request):
            return _unauthorised()
        return json_answer(200, status())

    return {("POST", "/_local/ingest"): route_ingest, ("GET", "/_local/status"): route_status}


def _unauthorised() -> HttpAnswer:
    return json_answer(401, {"error": "unauthorized", "message": "X-API-Key is required"})
