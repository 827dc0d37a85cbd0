"""End to end over real HTTP, for each backend's artifacts: the built Lambdas, served locally."""

from __future__ import annotations

import collections
import json
from typing import TYPE_CHECKING

from tests.e2e.conftest import ORIGIN, TEXTS, article, first_articles

if TYPE_CHECKING:
    from tests.e2e.conftest import Served


def sse_events(body: bytes) -> list[dict[str, str]]:
    events = []
    for block in body.decode().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = value
        if fields:
            events.append(fields)
    return events


def test_health_is_200_without_a_key(served: Served) -> None:
    status, headers, body = served.call("GET", "/health", key=False)
    assert status == 200, body
    assert json.loads(body)["status"] == "ok"
    assert headers["content-type"] == "application/json"


def test_the_served_functions_are_the_built_artifacts_on_python313(served: Served) -> None:
    status = served.stack.status()["functions"]
    for role, spec in served.specs.items():
        assert status[role]["artifact"] == str(spec.artifact)
        assert "python3.13" in status[role]["python"]
    if served.backend == "layer":
        assert all(status[role]["layers"] for role in status)  # function zip + layer zip
    if served.backend == "container-image":  # the image's /var/task, read from its layout
        assert all((spec.artifact / "oci-layout").is_file() for spec in served.specs.values())


def test_the_api_needs_the_key(served: Served) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}):
        status, _, body = served.call("GET", "/api/items", headers=headers, key=False)
        assert status == 401, body
        assert json.loads(body)["error"] == "unauthorized"
    status, _, _ = served.call("POST", "/_local/ingest", key=False)
    assert status == 401


def test_the_cors_preflight_is_answered_as_configured(served: Served) -> None:
    asked = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    status, headers, _ = served.call("OPTIONS", "/api/items", headers=asked, key=False)
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "GET" in headers["access-control-allow-methods"]
    assert "X-API-Key" in headers["access-control-allow-headers"]
    other = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
    status, headers, _ = served.call("OPTIONS", "/api/items", headers=other, key=False)
    assert "access-control-allow-origin" not in headers
    status, headers, _ = served.call("GET", "/api/items", headers={"Origin": ORIGIN})
    assert (status, headers["access-control-allow-origin"]) == (200, ORIGIN)


def test_items_appear_after_an_ingest_and_the_metrics_agree(served: Served) -> None:
    result = served.ingest()
    assert result["fetched"] >= len(TEXTS)
    assert result["new"] + result["duplicate"] == result["fetched"]
    items = served.json("/api/items?limit=100")["items"]
    first = {a["url"] for a in first_articles()}
    assert first <= {item["url"] for item in items}
    assert all(item["status"] == "ANALYZED" for item in items), items
    assert all(item["model"] == "vader/3.3.2" for item in items)
    labels = {item["title"]: item["sentiment"] for item in items}
    assert labels[TEXTS[0][1]] == "positive"
    assert labels[TEXTS[1][1]] == "negative"
    assert labels[TEXTS[2][1]] == "neutral"
    metrics = served.json("/api/metrics?hours=24")
    assert metrics["total"] == len(items)
    expected = collections.Counter(item["sentiment"] for item in items)
    assert {k: v for k, v in metrics["by_sentiment"].items() if v} == dict(expected)
    assert metrics["by_source"] == dict(collections.Counter(item["source"] for item in items))
    per_hour: collections.Counter[str] = collections.Counter()
    for bucket in metrics["by_hour"].values():
        per_hour.update({k: v for k, v in bucket.items() if v})
    assert per_hour == expected
    # A second ingestion of the same articles stores nothing twice.
    again = served.ingest()
    assert (again["new"], again["duplicate"]) == (0, again["fetched"])
    assert len(served.json("/api/items?limit=100")["items"]) == len(items)


def test_the_stream_delivers_a_new_item(served: Served) -> None:
    status, headers, body = served.call("GET", f"/api/stream?api_key={served.key}", key=False)
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = sse_events(body)
    assert events[0]["event"] == "ready" and events[-1]["retry"] == "1000"
    cursor = events[0]["id"]
    fresh = article(99, "Metro Wire", "Town celebrates a fantastic new park opening", minutes_ago=1)
    served.newsapi.articles.insert(0, fresh)
    served.ingest()
    status, _, body = served.call(
        "GET", f"/api/stream?api_key={served.key}", headers={"Last-Event-ID": cursor}, key=False
    )
    items = [json.loads(e["data"]) for e in sse_events(body) if e.get("event") == "item"]
    assert [item["url"] for item in items] == [fresh["url"]]
    # Resuming from the new item's id: nothing more.
    last = [e for e in sse_events(body) if e.get("event") == "item"][-1]["id"]
    _, _, body = served.call(
        "GET", f"/api/stream?api_key={served.key}", headers={"Last-Event-ID": last}, key=False
    )
    assert not [e for e in sse_events(body) if e.get("event") == "item"]


def test_the_dashboard_page_is_served(served: Served) -> None:
    status, headers, body = served.call("GET", "/", key=False)
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert b'id="api-key"' in body and b"api/stream" in body
