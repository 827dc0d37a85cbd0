"""A local Function URL: HTTP request -> payload 2.0 event -> handler -> HTTP response.

The translation follows what Lambda documents for Function URLs (payload format
2.0): header names lower-cased and repeated values comma-joined, the ``Cookie``
header moved to ``cookies``, query parameters comma-joined in
``queryStringParameters`` beside the untouched ``rawQueryString``, bodies that
are not text base64-encoded. The answer is either a structured response
(``statusCode``, ``headers``, ``cookies``, ``body``, ``isBase64Encoded``) or any
other JSON value, which becomes a 200 ``application/json`` body. A function
error is a 502, a timeout a 504 (their bodies are Lambda's error body, which
AWS keeps in the function's log: locally it helps to see it at once).

The server is a small threaded HTTP/1.1 server (keep-alive) from the standard
library; requests under ``/_local/`` go to the emulator's own routes instead.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import sys
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import attrs

from sentiment_pipeline.local.background import BackgroundServer
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sentiment_pipeline.local.runner import Invocation

__all__ = [
    "HttpAnswer",
    "HttpRequest",
    "LocalFunctionUrl",
    "answer_from_invocation",
    "event_from_request",
    "json_answer",
]

log = get_logger(__name__)

MAX_REQUEST = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload limit: bigger requests get 413."""

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
)


@attrs.frozen
class HttpRequest:
    method: str
    target: str
    """The request target as received: path and query, percent-encoded."""
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    host: str = "localhost"


@attrs.frozen
class HttpAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def _is_text(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(("+json", "+xml"))


def event_from_request(
    request: HttpRequest, *, now: dt.datetime | None = None, request_id: str | None = None
) -> dict[str, Any]:
    """The payload-2.0 event Lambda would send for ``request``."""
    now = now or dt.datetime.now(dt.UTC)
    path, _, raw_query = request.target.partition("?")
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": urllib.parse.unquote(path) or "/",
        "rawQueryString": raw_query,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if raw_query:
        params: dict[str, str] = {}
        for key, value in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
            params[key] = f"{params[key]},{value}" if key in params else value
        event["queryStringParameters"] = params
    host = headers.get("host", request.host)
    event["requestContext"] = {
        "accountId": "anonymous",
        "apiId": "local",
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": event["rawPath"],
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or str(uuid.uuid4()),
        "routeKey": "$default",
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if request.body:
        if _is_text(headers.get("content-type")):
            try:
                event["body"] = request.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                pass
        if "body" not in event:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def json_answer(status: int, body: object, extra: Iterable[tuple[str, str]] = ()) -> HttpAnswer:
    raw = json.dumps(body).encode()
    return HttpAnswer(status, (("content-type", "application/json"), *extra), raw)


def answer_from_invocation(invocation: Invocation) -> HttpAnswer:
    """The HTTP answer for a function's result, as a Function URL shapes it."""
    request_id = (("x-amzn-requestid", invocation.request_id),)
    if not invocation.ok:
        error = dict(invocation.error or {})
        extra = (*request_id, ("x-amzn-errortype", str(error.get("errorType", "Unhandled"))))
        return json_answer(504 if invocation.timed_out else 502, error, extra)
    result = invocation.result
    if not isinstance(result, dict) or "statusCode" not in result:
        return json_answer(200, result, request_id)
    try:
        status = int(result["statusCode"])
        if not 100 <= status <= 599:
            raise ValueError(status)
        raw_headers = result.get("headers") or {}
        if not isinstance(raw_headers, dict):
            raise TypeError("headers must be an object")
        headers = [(str(k).lower(), str(v)) for k, v in raw_headers.items()]
        cookies = result.get("cookies") or []
        if not isinstance(cookies, list):
            raise TypeError("cookies must be a list")
        headers += [("set-cookie", str(c)) for c in cookies]
        body = result.get("body")
        if body is None:
            raw = b""
        elif not isinstance(body, str):
            raw = json.dumps(body).encode()
        elif result.get("isBase64Encoded") is True:
            raw = base64.b64decode(body, validate=True)
        else:
            raw = body.encode("utf-8")
    except (TypeError, ValueError, binascii.Error) as exc:
        log.error("malformed Function URL response", extra={"error": str(exc)})
        error = {"message": "Internal Server Error", "reason": f"malformed response: {exc}"}
        return json_answer(502, error, request_id)
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    return HttpAnswer(status, (*headers, *request_id), raw)


class LocalFunctionUrl(BackgroundServer):
    """An HTTP server on ``host:port`` in front of ``invoke`` (a function's pool).

    ``local_routes`` maps ``(method, path)`` under ``/_local/`` to the emulator's
    own handlers (ingest now, status).
    """

    def __init__(
        self,
        invoke: Callable[[dict[str, Any], str], Invocation],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        local_routes: dict[tuple[str, str], Callable[[HttpRequest], HttpAnswer]] | None = None,
    ) -> None:
        self.invoke = invoke
        self.local_routes = dict(local_routes or {})
        self.requests = 0
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "sentiment-pipeline-function-url"
            # Headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm
            # and the client's delayed ACK hold the body back about 40 ms per response.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return  # the access log would drown the functions' logs

            def _serve(self) -> None:
                length = self.headers.get("content-length")
                try:
                    size = int(length) if length else 0
                except ValueError:
                    size = -1
                if size < 0 or size > MAX_REQUEST:
                    self.close_connection = True
                    self._send(json_answer(413, {"message": "Request must be smaller than 6 MB"}))
                    return
                body = self.rfile.read(size) if size else b""
                request = HttpRequest(
                    method=self.command,
                    target=self.path,
                    headers=tuple(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                    host="{}:{}".format(*emulator.address),
                )
                self._send(emulator.answer(request))

            def _send(self, answer: HttpAnswer) -> None:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    if name not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that hung up (a browser's reconnecting EventSource) is no error.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._serve_in_background(Server((host, port), Handler), "function-url")

    def answer(self, request: HttpRequest) -> HttpAnswer:
        self.requests += 1
        path = request.target.partition("?")[0]
        if path.startswith("/_local/"):
            route = self.local_routes.get((request.method.upper(), path))
            if route is None:
                known = ", ".join(f"{m} {p}" for m, p in sorted(self.local_routes))
                return json_answer(404, {"error": "not_found", "message": f"local routes: {known}"})
            return route(request)
        request_id = str(uuid.uuid4())
        event = event_from_request(request, request_id=request_id)
        return answer_from_invocation(self.invoke(event, request_id))
