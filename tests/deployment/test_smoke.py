"""The smoke's event and verdict."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.deployment.errors import RefusedError
from sentiment_pipeline.deployment.smoke import judge, smoke_event
from sentiment_pipeline.packaging.manifest import FunctionUrl
from tests.deployment.test_plan import item

if TYPE_CHECKING:
    from pathlib import Path


def test_a_function_error_without_a_document_still_fails() -> None:
    assert judge("Task timed out", function_error="Unhandled", has_url=False) == (
        False,
        "Unhandled",
        "Task timed out",
        None,
    )


def test_a_status_code_counts_only_for_a_function_url() -> None:
    assert judge({"statusCode": 500}, function_error=None, has_url=False)[0] is True
    assert judge({"statusCode": 500}, function_error=None, has_url=True)[:2] == (False, "HTTP 500")
    assert judge({"statusCode": 404}, function_error=None, has_url=True)[0] is True


def test_a_url_lambda_is_smoked_with_a_payload_2_get_health() -> None:
    event = json.loads(smoke_event(item(function_url=FunctionUrl())))
    assert (event["version"], event["rawPath"], event["requestContext"]["http"]["method"]) == (
        "2.0",
        "/health",
        "GET",
    )
    assert smoke_event(item()) == b"{}"


def test_the_smoke_event_file_is_used_and_a_bad_one_refused(tmp_path: Path) -> None:
    good = tmp_path / "event.json"
    good.write_text('{"Records": []}')
    assert json.loads(smoke_event(item(smoke_event=good))) == {"Records": []}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(RefusedError, match=r"api: smoke-event .*bad\.json is not JSON"):
        smoke_event(item(smoke_event=bad))
    with pytest.raises(RefusedError, match="cannot be read"):
        smoke_event(item(smoke_event=tmp_path / "missing.json"))
