"""HTTP request <-> payload 2.0 translation of the local Function URL (pure functions)."""

from __future__ import annotations

import base64
import datetime as dt
import json

from sentiment_pipeline.local.functionurl import (
    HttpRequest,
    answer_from_invocation,
    event_from_request,
)
from sentiment_pipeline.local.runner import Invocation

NOW = dt.datetime(2026, 11, 25, 12, 30, 5, tzinfo=dt.UTC)


def request(
    method: str = "GET",
    target: str = "/api/items",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(method, target, headers, body, source_ip="127.0.0.9", host="127.0.0.1:8000")


def test_a_get_becomes_a_payload_2_event() -> None:
    event = event_from_request(
        request(target="/api/items?status=ANALYZED&limit=5", headers=(("User-Agent", "curl/8"),)),
        now=NOW,
        request_id="req-1",
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "$default"
    assert event["rawPath"] == "/api/items"
    assert event["rawQueryString"] == "status=ANALYZED&limit=5"
    assert event["queryStringParameters"] == {"status": "ANALYZED", "limit": "5"}
    assert event["headers"] == {"user-agent": "curl/8"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event and "cookies" not in event
    http = event["requestContext"]["http"]
    assert http == {
        "method": "GET",
        "path": "/api/items",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.9",
        "userAgent": "curl/8",
    }
    assert event["requestContext"]["requestId"] == "req-1"
    assert event["requestContext"]["timeEpoch"] == int(NOW.timestamp() * 1000)
    assert event["requestContext"]["time"] == "25/Nov/2026:12:30:05 +0000"


def test_repeated_headers_and_parameters_are_comma_joined_and_cookies_split() -> None:
    event = event_from_request(
        request(
            target="/x?a=1&a=2&b=",
            headers=(
                ("X-Multi", "one"),
                ("x-multi", "two"),
                ("Cookie", "session=abc; theme=dark"),
                ("Cookie", "extra=1"),
            ),
        )
    )
    assert event["headers"] == {"x-multi": "one,two"}  # the cookie header moves to cookies
    assert event["cookies"] == ["session=abc", "theme=dark", "extra=1"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["rawQueryString"] == "a=1&a=2&b="


def test_text_bodies_stay_text_and_binary_bodies_are_base64() -> None:
    text = event_from_request(
        request("POST", "/", (("Content-Type", "application/json"),), b'{"k": "v"}')
    )
    assert (text["body"], text["isBase64Encoded"]) == ('{"k": "v"}', False)
    raw = bytes(range(256))
    binary = event_from_request(
        request("POST", "/", (("Content-Type", "application/octet-stream"),), raw)
    )
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == raw
    # Text that is not UTF-8 cannot travel as text either.
    latin = event_from_request(
        request("POST", "/", (("Content-Type", "text/plain"),), b"\xe9t\xe9")
    )
    assert latin["isBase64Encoded"] is True


def test_a_percent_encoded_path_is_decoded_in_raw_path() -> None:
    assert event_from_request(request(target="/a%20b/c"))["rawPath"] == "/a b/c"


def ok(result: object) -> Invocation:
    return Invocation("rid", True, result)


def test_a_structured_response_keeps_status_headers_and_cookies() -> None:
    answer = answer_from_invocation(
        ok(
            {
                "statusCode": 201,
                "headers": {"Content-Type": "text/plain", "X-Thing": "1"},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": "created",
            }
        )
    )
    assert answer.status == 201
    assert answer.body == b"created"
    headers = list(answer.headers)
    assert ("content-type", "text/plain") in headers and ("x-thing", "1") in headers
    assert [v for k, v in headers if k == "set-cookie"] == ["a=1; Path=/", "b=2"]
    assert ("x-amzn-requestid", "rid") in headers


def test_a_base64_body_is_decoded() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00"
    answer = answer_from_invocation(
        ok(
            {
                "statusCode": 200,
                "headers": {"content-type": "image/png"},
                "body": base64.b64encode(png).decode(),
                "isBase64Encoded": True,
            }
        )
    )
    assert answer.body == png


def test_plain_json_without_status_code_is_a_200_json_body() -> None:
    answer = answer_from_invocation(ok({"hello": "world"}))
    assert answer.status == 200
    assert json.loads(answer.body) == {"hello": "world"}
    assert ("content-type", "application/json") in answer.headers
    assert json.loads(answer_from_invocation(ok([1, 2])).body) == [1, 2]
    assert answer_from_invocation(ok(None)).body == b"null"


def test_function_errors_are_502_and_timeouts_504_with_lambdas_error_body() -> None:
    error = {"errorMessage": "boom", "errorType": "ValueError", "requestId": "rid"}
    failed = answer_from_invocation(Invocation("rid", False, None, error))
    assert failed.status == 502
    assert json.loads(failed.body) == error
    assert ("x-amzn-errortype", "ValueError") in failed.headers
    timeout = {"errorMessage": "Task timed out after 1.00 seconds", "errorType": "Sandbox.Timedout"}
    timed_out = answer_from_invocation(Invocation("rid", False, None, timeout, timed_out=True))
    assert timed_out.status == 504


def test_a_malformed_response_is_a_502_not_a_crash() -> None:
    for bad in (
        {"statusCode": "abc"},
        {"statusCode": 999},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 200, "cookies": "a=1"},
    ):
        assert answer_from_invocation(ok(bad)).status == 502, bad
