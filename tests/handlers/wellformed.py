"""What a well-formed Function URL response is (shared by the property tests)."""

from __future__ import annotations

import json
from typing import Any

STATUSES = {200, 204, 400, 401, 404, 405, 413, 500, 503}


def assert_well_formed(response: Any) -> dict[str, Any] | None:
    """Check the response's shape; returns the JSON error body, if it is an error."""
    assert isinstance(response, dict)
    assert set(response) == {"statusCode", "headers", "body", "isBase64Encoded"}
    status = response["statusCode"]
    assert status in STATUSES, status
    headers = response["headers"]
    assert isinstance(headers, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    assert isinstance(response["body"], str)
    assert response["isBase64Encoded"] is False
    assert "Traceback" not in response["body"]
    if status >= 400:
        assert headers["content-type"] == "application/json"
        error = json.loads(response["body"])
        assert isinstance(error, dict) and set(error) >= {"error", "message"}
        assert isinstance(error["error"], str) and isinstance(error["message"], str)
        return error
    if headers.get("content-type") == "application/json":
        json.loads(response["body"])
    return None
