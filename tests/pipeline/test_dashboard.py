"""The dashboard application over an in-memory store: routes, auth, CORS, errors, SSE."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from sentiment_pipeline.analysis import analyse, load_model
from sentiment_pipeline.config import Settings
from sentiment_pipeline.dashboard import Dashboard, Request
from sentiment_pipeline.errors import SecretUnavailableError, StorageUnavailableError
from sentiment_pipeline.ingestion import ingest
from sentiment_pipeline.memory import InMemoryPublisher, InMemoryRepository, InMemorySecrets
from sentiment_pipeline.secretcache import CachedSecret
from tests.support.newsapi_fake import article

KEY = "dash-key-9f8e7d6c5b4a"
NOW = dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.UTC)


def make(
    repo: InMemoryRepository | None = None,
    *,
    env: dict[str, str] | None = None,
    secrets: InMemorySecrets | None = None,
) -> Dashboard:
    settings = Settings.from_env({"SSE_POLL_INTERVAL": "2", **(env or {})})
    store = repo if repo is not None else InMemoryRepository()
    cached = CachedSecret(secrets or InMemorySecrets({"arn": KEY}), "arn", ttl=60)
    return Dashboard(settings, lambda: store, cached.get, clock=lambda: NOW)


def get(
    app: Dashboard,
    path: str,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    key: str | None = KEY,
) -> tuple[int, dict[str, str], str]:
    all_headers = {**({"x-api-key": key} if key else {}), **(headers or {})}
    request = Request(method, path, all_headers, query or {}, 0, "req-1")
    response = app.handle(request)
    return response.status, response.headers, response.body


def loaded(n: int = 30) -> InMemoryRepository:
    repo = InMemoryRepository()
    publisher = InMemoryPublisher()
    sources = ["BBC", "CNN", "Reuters"]
    raws = [article(i, source=sources[i % 3], source_id=sources[i % 3].lower()) for i in range(n)]
    for index, raw in enumerate(raws):
        if index % 4 == 0:
            raw["title"] = "Deadly floods kill dozens; grief and anger grow"
            raw["description"] = "A terrible disaster."
    ingest(raws, repo, publisher, now=NOW)
    analyse(publisher.messages[: n - 5], load_model(), repo)  # five stay PENDING
    return repo


def test_health_is_public_and_reports_the_table() -> None:
    status, headers, body = get(make(), "/health", key=None)
    assert status == 200
    assert json.loads(body) == {
        "status": "ok",
        "table": "memory",
        "environment": "dev",
    }
    assert headers["content-type"] == "application/json"


def test_health_is_503_when_the_table_is_unreachable() -> None:
    class Down(InMemoryRepository):
        def ping(self) -> None:
            raise StorageUnavailableError("items", "connection refused")

    status, _, body = get(make(Down()), "/health")
    assert status == 503
    assert json.loads(body) == {
        "error": "storage_unavailable",
        "message": "table 'items' is unreachable",
    }


@pytest.mark.parametrize("path", ["/api/items", "/api/metrics", "/api/stream"])
def test_data_routes_need_the_key(path: str) -> None:
    app = make()
    status, _, body = get(app, path, key=None)
    assert (status, json.loads(body)["error"]) == (401, "unauthorized")
    status, _, body = get(app, path, key="wrong-key-000000")
    assert (status, json.loads(body)["error"]) == (401, "unauthorized")
    assert get(app, path, query={"api_key": KEY}, key=None)[0] == 200
    assert get(app, path)[0] == 200


def test_secrets_manager_unreachable_is_503_never_open_access() -> None:
    class Unreachable(InMemorySecrets):
        def get_secret(self, secret_id: str) -> str:
            raise SecretUnavailableError(secret_id, "EndpointConnectionError")

    app = make(secrets=Unreachable({}))
    for key in (KEY, None, ""):
        status, _, body = get(app, "/api/items", key=key)
        assert (status, json.loads(body)["error"]) == (503, "auth_unavailable")


def test_the_key_is_cached_for_its_ttl() -> None:
    secrets = InMemorySecrets({"arn": KEY})
    app = make(secrets=secrets)
    for _ in range(5):
        assert get(app, "/api/items")[0] == 200
    assert secrets.reads == 1


def test_items_are_newest_first_and_paginate_without_gaps_or_repeats() -> None:
    app = make(loaded(30))
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        status, _, body = get(app, "/api/items", query)
        assert status == 200
        page = json.loads(body)
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 7
    assert len(seen) == 30
    assert len({i["id"] for i in seen}) == 30
    published = [i["published_at"] for i in seen]
    assert published == sorted(published, reverse=True)


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ({"status": "PENDING"}, lambda i: i["status"] == "PENDING"),
        ({"sentiment": "negative"}, lambda i: i["sentiment"] == "negative"),
        ({"source": "CNN"}, lambda i: i["source"] == "CNN"),
        ({"source": "bbc"}, lambda i: i["source_id"] == "bbc"),
        ({"since": "2024-05-01T20:00:00Z"}, lambda i: i["published_at"] >= "2024-05-01T20:00:00Z"),
    ],
)
def test_item_filters(query: dict[str, str], check: Any) -> None:
    repo = loaded(30)
    status, _, body = get(make(repo), "/api/items", {**query, "limit": "100"})
    items = json.loads(body)["items"]
    assert status == 200
    assert items and all(check(i) for i in items)
    everything = json.loads(get(make(repo), "/api/items", {"limit": "100"})[2])["items"]
    assert len(items) == sum(bool(check(i)) for i in everything)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"limit": "0"}, "invalid_parameter"),
        ({"limit": "101"}, "invalid_parameter"),
        ({"limit": "ten"}, "invalid_parameter"),
        ({"status": "DONE"}, "invalid_parameter"),
        ({"sentiment": "sad"}, "invalid_parameter"),
        ({"since": "yesterday"}, "invalid_parameter"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "invalid_cursor"),
        ({"cursor": "%%%"}, "invalid_cursor"),
    ],
)
def test_bad_parameters_are_400_with_a_json_error(query: dict[str, str], code: str) -> None:
    status, headers, body = get(make(loaded(3)), "/api/items", query)
    assert status == 400
    assert headers["content-type"] == "application/json"
    error = json.loads(body)
    assert error["error"] == code and error["message"]


def test_unknown_route_is_404_and_wrong_method_is_405() -> None:
    app = make()
    status, _, body = get(app, "/api/nope")
    assert (status, json.loads(body)["error"]) == (404, "not_found")
    status, headers, body = get(app, "/api/items", method="POST")
    assert (status, json.loads(body)["error"]) == (405, "method_not_allowed")
    assert headers["allow"] == "GET, OPTIONS"


def test_a_large_body_is_413() -> None:
    request = Request("GET", "/api/items", {"x-api-key": KEY}, {}, 70_000, "r")
    response = make().handle(request)
    assert (response.status, json.loads(response.body)["error"]) == (413, "payload_too_large")


def test_metrics_count_per_sentiment_status_source_and_hour() -> None:
    metrics = json.loads(get(make(loaded(30)), "/api/metrics", {"hours": "24"})[2])
    assert metrics["total"] == 30
    assert sum(metrics["by_sentiment"].values()) == 30
    assert metrics["by_sentiment"]["none"] == 5
    assert metrics["by_status"] == {"PENDING": 5, "ANALYZED": 25, "FAILED": 0}
    assert metrics["by_source"] == {"BBC": 10, "CNN": 10, "Reuters": 10}
    assert len(metrics["by_hour"]) == 24
    assert sum(sum(b.values()) for b in metrics["by_hour"].values()) == 30
    # article(i) is published at hour i % 24: hours 0-5 hold two items, the others one.
    assert sum(metrics["by_hour"]["2024-05-01T03:00:00Z"].values()) == 2
    assert sum(metrics["by_hour"]["2024-05-01T10:00:00Z"].values()) == 1
    narrow = json.loads(get(make(loaded(30)), "/api/metrics", {"hours": "2"})[2])
    assert narrow["window_start"] == "2024-05-01T22:00:00Z"
    assert narrow["total"] == 2  # hours 22 and 23


def _events(body: str) -> list[dict[str, str]]:
    events = []
    for block in body.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append(fields)
    return events


def test_stream_without_a_cursor_starts_at_the_newest_item() -> None:
    repo = loaded(5)
    status, headers, body = get(make(repo), "/api/stream")
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    ready, retry = _events(body)
    assert ready["event"] == "ready"
    assert ready["id"] == repo.latest_stream_cursor()
    assert retry == {"retry": "2000"}


def test_stream_replays_items_after_last_event_id_then_asks_to_reconnect() -> None:
    repo = InMemoryRepository()
    publisher = InMemoryPublisher()
    ingest([article(1)], repo, publisher, now=NOW)
    app = make(repo)
    start = _events(get(app, "/api/stream")[2])[0]["id"]
    ingest([article(2), article(3)], repo, publisher, now=NOW + dt.timedelta(seconds=5))
    body = get(app, "/api/stream", headers={"last-event-id": start})[2]
    *items, retry = _events(body)
    assert [e["event"] for e in items] == ["item", "item"]
    assert {json.loads(e["data"])["url"] for e in items} == {
        article(2)["url"],
        article(3)["url"],
    }
    assert retry == {"retry": "2000"}
    # Reconnecting with the last id replays nothing.
    after = _events(get(app, "/api/stream", headers={"last-event-id": items[-1]["id"]})[2])
    assert after == [{"retry": "2000"}]
    # `since` as a time works for EventSource users without a stored id.
    since = _events(get(app, "/api/stream", {"since": "2024-05-01T23:30:01Z"})[2])
    assert len(since) == 3


def test_stream_with_a_bad_cursor_is_400() -> None:
    status, _, body = get(make(), "/api/stream", headers={"last-event-id": "garbage"})
    assert (status, json.loads(body)["error"]) == (400, "invalid_cursor")


def test_cors_answers_allowed_origins_only() -> None:
    app = make(env={"CORS_ALLOWED_ORIGINS": "https://dash.example, https://ops.example/"})
    _, headers, _ = get(app, "/api/items", headers={"origin": "https://ops.example"})
    assert headers["access-control-allow-origin"] == "https://ops.example"
    assert headers["vary"] == "Origin"
    _, headers, _ = get(app, "/api/items", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in headers
    status, headers, _ = get(
        app, "/api/items", headers={"origin": "https://dash.example"}, method="OPTIONS", key=None
    )
    assert status == 204
    assert "X-API-Key" in headers["access-control-allow-headers"]
    # Errors carry CORS headers too, so the browser can read them.
    status, headers, _ = get(
        app, "/api/items", headers={"origin": "https://dash.example"}, key=None
    )
    assert (status, headers["access-control-allow-origin"]) == (401, "https://dash.example")


def test_no_cors_headers_unless_configured() -> None:
    _, headers, _ = get(make(), "/api/items", headers={"origin": "https://dash.example"})
    assert not any(h.startswith("access-control") for h in headers)


def test_an_unexpected_error_is_a_500_without_a_traceback() -> None:
    class Broken(InMemoryRepository):
        def query_items(self, *args: Any, **kwargs: Any) -> Any:
            raise ZeroDivisionError("boom")

    status, _, body = get(make(Broken()), "/api/items")
    error = json.loads(body)
    assert (status, error["error"]) == (500, "internal")
    assert "Traceback" not in body and "boom" not in body
    assert "req-1" in error["message"]
