"""Function URL payload format 2.0 in and out, with JSON errors.

Request (what Lambda sends): ``version``, ``rawPath``, ``rawQueryString``,
``headers`` (lower-case names, repeated values comma-joined), ``requestContext.http.method``,
``body``, ``isBase64Encoded``. Response: ``{statusCode, headers, body, isBase64Encoded}``.

Anything the handler receives is parsed without raising: an event that is not
a Function URL request becomes a 400, never a stack trace.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import PipelineError, one_line
from sentiment_pipeline.records import to_json

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MAX_BODY", "HttpError", "Request", "Response", "json_response"]

MAX_BODY = 64 * 1024
"""Largest request body accepted (413 beyond); the dashboard's routes take none."""


class HttpError(PipelineError):
    """An error answer: ``{"error": code, "message": ...}`` with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = one_line(message)
        self.headers = dict(headers or {})
        super().__init__(f"{status} {code}: {self.message}")


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body_size: int = 0
    request_id: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @classmethod
    def from_event(cls, event: object) -> Request:
        """Parse a payload-2.0 event; HttpError(400) for anything else."""
        if not isinstance(event, dict):
            raise HttpError(400, "bad_request", "the event is not a Function URL request")
        context = event.get("requestContext")
        http = context.get("http") if isinstance(context, dict) else None
        method = http.get("method") if isinstance(http, dict) else None
        path = event.get("rawPath")
        if not isinstance(path, str) and isinstance(http, dict):
            path = http.get("path")
        if not isinstance(method, str) or not isinstance(path, str) or not method:
            raise HttpError(
                400,
                "bad_request",
                "not a Function URL (payload 2.0) request: requestContext.http.method "
                "and rawPath are required",
            )
        raw_headers = event.get("headers")
        headers = (
            {str(k).lower(): str(v) for k, v in raw_headers.items()}
            if isinstance(raw_headers, dict)
            else {}
        )
        query: dict[str, str] = {}
        raw_query = event.get("rawQueryString")
        if isinstance(raw_query, str):
            try:
                pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
            except ValueError:
                pairs = []
            for key, value in pairs:
                query.setdefault(key, value)
        else:
            params = event.get("queryStringParameters")
            if isinstance(params, dict):
                query = {str(k): str(v) for k, v in params.items()}
        body = event.get("body")
        size = len(body.encode("utf-8", "surrogatepass")) if isinstance(body, str) else 0
        if event.get("isBase64Encoded") is True:
            size = size * 3 // 4
        request_id = context.get("requestId") if isinstance(context, dict) else None
        return cls(
            method=method.upper(),
            path=path,
            headers=headers,
            query=query,
            body_size=size,
            request_id=request_id if isinstance(request_id, str) else None,
        )


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_lambda(self) -> dict[str, Any]:
        return {
            "statusCode": self.status,
            "headers": self.headers,
            "body": self.body,
            "isBase64Encoded": False,
        }


def json_response(
    status: int, record: object, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer with one of the ``*Response`` records of :mod:`sentiment_pipeline.records`."""
    return Response(
        status,
        to_json(record),
        {"content-type": "application/json", "cache-control": "no-store", **(headers or {})},
    )


def error_response(error: HttpError) -> Response:
    body = json.dumps({"error": error.code, "message": error.message})
    return Response(
        error.status,
        body,
        {"content-type": "application/json", "cache-control": "no-store", **error.headers},
    )
