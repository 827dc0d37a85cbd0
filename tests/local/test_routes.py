"""The local stack's own routes: the dashboard's key required, ingest on demand, status."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sentiment_pipeline.local.functionurl import HttpAnswer, HttpRequest
from sentiment_pipeline.local.routes import local_routes
from sentiment_pipeline.local.runner import Invocation

KEY = "the-dashboard-key"
INGEST, STATUS = ("POST", "/_local/ingest"), ("GET", "/_local/status")


class Stack:
    """What the routes call: an ingestion that answers ``invocation``, and a status."""

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation
        self.releases: list[int | None] = []

    def ingest(self, release: int | None) -> tuple[Invocation, int, int | None]:
        self.releases.append(release)
        return self.invocation, release or 0, 4

    def status(self) -> dict[str, Any]:
        return {"deliveries": {"delivered": 7}}


def call(stack: Stack, route: tuple[str, str], query: str = "", key: str | None = KEY) -> Any:
    routes = local_routes(KEY, ingest=stack.ingest, status=stack.status)
    headers = (("X-Api-Key", key),) if key is not None else ()
    answer: HttpAnswer = routes[route](HttpRequest(route[0], route[1] + query, headers))
    return answer.status, json.loads(answer.body), dict(answer.headers)


OK = Invocation(request_id="r-1", ok=True, result={"new": 3})


@pytest.mark.parametrize("route", [INGEST, STATUS])
def test_the_routes_need_the_dashboards_key(route: tuple[str, str]) -> None:
    stack = Stack(OK)
    assert call(stack, route, key=None)[:2] == (
        401,
        {"error": "unauthorized", "message": "X-API-Key is required"},
    )
    assert call(stack, route, key="wrong")[0] == 401
    assert call(stack, route, f"?api_key={KEY}", key=None)[0] == 200
    assert stack.releases == ([None] if route == INGEST else [])  # only the allowed call ran


def test_ingest_answers_what_it_ingested_and_released() -> None:
    stack = Stack(OK)
    status, body, _ = call(stack, INGEST, "?release=2")
    assert status == 200
    assert body == {"ingestion": {"new": 3}, "released": 2, "released_over_time": 4}
    call(stack, INGEST, "?release=many")
    call(stack, INGEST)
    assert stack.releases == [2, None, None]


def test_a_failed_ingestion_is_answered_as_the_function_url_would() -> None:
    error = {"errorType": "ValueError", "errorMessage": "boom"}
    status, body, headers = call(Stack(Invocation(request_id="r-2", ok=False, error=error)), INGEST)
    assert (status, body) == (502, error)
    assert headers["x-amzn-errortype"] == "ValueError"


def test_status_answers_the_stacks_status() -> None:
    assert call(Stack(OK), STATUS)[:2] == (200, {"deliveries": {"delivered": 7}})
