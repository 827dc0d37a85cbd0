"""Routing, parameters, authentication and CORS of the dashboard.

=================  ======  ====================================================
route              auth    answer
=================  ======  ====================================================
``GET /``          no      the dashboard page (one static HTML file; it asks for the key)
``GET /health``    no      200 ``{"status": "ok"}`` if the table is reachable, else 503
``GET /api/items`` yes     items, newest published first; ``status``, ``sentiment``,
                           ``source``, ``since`` (ISO time), ``limit`` (1-100), ``cursor``
``GET /api/metrics`` yes   counts per sentiment, status, source and hour; ``hours`` (1-168)
``GET /api/stream`` yes    ``text/event-stream``: items ingested after ``Last-Event-ID``
                           or ``since``, then ``retry: <SSE_POLL_INTERVAL ms>``
``OPTIONS *``      no      CORS preflight (204)
=================  ======  ====================================================

Errors are ``{"error": code, "message": ...}`` with 400 (bad parameter or
event), 401 (no or wrong key), 404, 405 (with ``Allow``), 413 (a body over
64 KiB), 500 (misconfigured; the message names the setting) and 503 (table or
key unreachable).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.dashboard import queries
from sentiment_pipeline.dashboard.auth import authenticate
from sentiment_pipeline.dashboard.http import (
    MAX_BODY,
    HttpError,
    Request,
    Response,
    error_response,
    json_response,
)
from sentiment_pipeline.errors import (
    ConfigurationError,
    InvalidCursorError,
    StorageUnavailableError,
)
from sentiment_pipeline.logs import get_logger
from sentiment_pipeline.ports import ItemQuery
from sentiment_pipeline.records import Sentiment, Status, iso, parse_time

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from sentiment_pipeline.config import Settings
    from sentiment_pipeline.ports import ItemReader

__all__ = ["Dashboard"]

log = get_logger(__name__)

_METHODS = "GET, OPTIONS"
_PAGE = Path(__file__).with_name("page.html")
# The page is self-contained: its own inline script and style, calls to this origin only.
_PAGE_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@functools.cache
def page() -> str:
    """The dashboard page (read once per container, on the first ``GET /``)."""
    return _PAGE.read_text(encoding="utf-8")


_ALLOWED_HEADERS = "X-API-Key, Last-Event-ID, Content-Type"


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise HttpError(400, "invalid_parameter", f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _choice(query: Mapping[str, str], name: str, choices: list[str]) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in choices:
        raise HttpError(400, "invalid_parameter", f"{name} must be one of {', '.join(choices)}")
    return raw


def _time(query: Mapping[str, str], name: str) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return iso(parse_time(raw))
    except (ValueError, OverflowError):
        raise HttpError(
            400, "invalid_parameter", f"{name} must be an ISO-8601 time, e.g. 2024-05-01T00:00:00Z"
        ) from None


class Dashboard:
    """The dashboard application: ``handle(request) -> response``, never raising.

    ``reader`` and ``api_key`` are called per request (the handler caches what
    they build), so a missing setting is reported by the request that needs it.
    """

    def __init__(
        self,
        settings: Settings,
        reader: Callable[[], ItemReader],
        api_key: Callable[[], str],
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self._reader = reader
        self._api_key = api_key
        self._clock = clock
        self._routes: dict[str, tuple[bool, Callable[[Request], Response]]] = {
            "/": (False, self._page),
            "/health": (False, self._health),
            "/api/items": (True, self._items),
            "/api/metrics": (True, self._metrics),
            "/api/stream": (True, self._stream),
        }

    def handle(self, request: Request) -> Response:
        try:
            response = self._dispatch(request)
        except HttpError as error:
            response = error_response(error)
        except InvalidCursorError as error:
            response = error_response(HttpError(400, "invalid_cursor", str(error)))
        except ConfigurationError as error:
            log.error("dashboard misconfigured", extra={"setting": error.setting})
            response = error_response(HttpError(500, "misconfigured", str(error)))
        except StorageUnavailableError as error:
            log.error("table unavailable", extra={"table": error.table, "reason": error.reason})
            response = error_response(
                HttpError(503, "storage_unavailable", f"table {error.table!r} is unreachable")
            )
        except Exception:
            log.exception("unexpected error", extra={"path": request.path})
            response = error_response(
                HttpError(500, "internal", f"unexpected error (request {request.request_id})")
            )
        response.headers.update(self._cors(request))
        return response

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        route = self._routes.get(path)
        if route is None:
            raise HttpError(404, "not_found", f"no route {path!r}; see GET /health")
        if request.method == "OPTIONS":
            return Response(204, "", {"allow": _METHODS})
        if request.method != "GET":
            raise HttpError(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {path}",
                headers={"allow": _METHODS},
            )
        if request.body_size > MAX_BODY:
            raise HttpError(
                413, "payload_too_large", f"request bodies are limited to {MAX_BODY} bytes"
            )
        needs_auth, view = route
        if needs_auth:
            authenticate(request, self._api_key)
        return view(request)

    def _cors(self, request: Request) -> dict[str, str]:
        allowed = self.settings.cors_allowed_origins
        origin = request.header("origin")
        if not allowed or not origin:
            return {}
        if "*" in allowed:
            headers = {"access-control-allow-origin": "*"}
        elif origin.rstrip("/") in allowed:
            headers = {"access-control-allow-origin": origin, "vary": "Origin"}
        else:
            return {}
        if request.method == "OPTIONS":
            headers["access-control-allow-methods"] = _METHODS
            headers["access-control-allow-headers"] = _ALLOWED_HEADERS
            headers["access-control-max-age"] = "600"
        return headers

    def _page(self, request: Request) -> Response:
        # Public: the page holds no data; it asks for the API key and calls /api/*.
        return Response(
            200,
            page(),
            {
                "content-type": "text/html; charset=utf-8",
                "cache-control": "no-cache",
                "content-security-policy": _PAGE_CSP,
                "x-content-type-options": "nosniff",
                "referrer-policy": "no-referrer",
            },
        )

    def _health(self, request: Request) -> Response:
        # An unreachable table propagates: handle() answers 503 storage_unavailable.
        return json_response(200, queries.health(self._reader(), self.settings.environment))

    def _items(self, request: Request) -> Response:
        q = request.query
        query = ItemQuery(
            status=_choice(q, "status", [s.value for s in Status]),
            sentiment=_choice(q, "sentiment", [s.value for s in Sentiment]),
            source=q.get("source") or None,
            since=_time(q, "since"),
        )
        if query.source is not None and len(query.source) > 200:
            raise HttpError(400, "invalid_parameter", "source is limited to 200 characters")
        limit = _int(q, "limit", 20, 1, 100)
        answer = queries.list_items(
            self._reader(), query, limit=limit, cursor=q.get("cursor") or None
        )
        return json_response(200, answer)

    def _metrics(self, request: Request) -> Response:
        hours = _int(request.query, "hours", 24, 1, 168)
        return json_response(200, queries.metrics(self._reader(), now=self._clock(), hours=hours))

    def _stream(self, request: Request) -> Response:
        raw = request.header("last-event-id") or request.query.get("since") or None
        cursor = queries.stream_cursor(raw) if raw else None
        limit = _int(request.query, "limit", 50, 1, 100)
        events, resume = queries.stream(self._reader(), cursor, limit=limit)
        retry_ms = round(self.settings.sse_poll_interval * 1000)
        body = queries.sse_body(
            events, resume=resume, retry_ms=retry_ms, started=cursor is not None
        )
        return Response(
            200,
            body,
            {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store"},
        )
