"""At-least-once delivery: duplicates and races leave one item and one analysis."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

import handlers.analysis
import handlers.ingestion
from tests.integration.helpers import Context, SnsTap, event, scan
from tests.support.newsapi_fake import article

if TYPE_CHECKING:
    from tests.integration.conftest import Pipeline


def _analyses(table: str) -> dict[str, tuple[str, int]]:
    return {
        a["pk"]["S"]: (a["status"]["S"], int(a.get("analyses", {"N": "0"})["N"]))
        for a in scan(table)
    }


def test_a_duplicate_sns_delivery_changes_nothing(pipeline: Pipeline) -> None:
    tap = SnsTap(pipeline.resources.topic_arn)
    pipeline.newsapi.articles = [article(1)]
    handlers.ingestion.lambda_handler(event("eventbridge_schedule"), Context())
    [delivery] = tap.events()

    first = handlers.analysis.lambda_handler(delivery, Context("a"))
    before = scan(pipeline.resources.table)
    second = handlers.analysis.lambda_handler(delivery, Context("b"))
    # A re-publish carries the same item under a new MessageId: still the same item.
    delivery["Records"][0]["Sns"]["MessageId"] = "ffffffff-0000-0000-0000-000000000000"
    third = handlers.analysis.lambda_handler(delivery, Context("c"))

    assert (first["analyzed"], second["duplicate"], third["duplicate"]) == (1, 1, 1)
    assert scan(pipeline.resources.table) == before
    [(status, analyses)] = _analyses(pipeline.resources.table).values()
    assert (status, analyses) == ("ANALYZED", 1)


@pytest.fixture
def atomic_moto_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real DynamoDB evaluates a condition and writes an item atomically; moto's server
    handles requests on several threads with no lock around that, so two conditional
    puts of one item can both succeed there. Serialise moto's writes, as DynamoDB's
    per-item atomicity would, so the test exercises our code and not moto's race."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


@pytest.mark.usefixtures("atomic_moto_writes")
def test_two_concurrent_ingestions_of_the_same_articles(pipeline: Pipeline) -> None:
    tap = SnsTap(pipeline.resources.topic_arn)
    pipeline.newsapi.articles = [article(i) for i in range(5)]
    # Both runs fetch before either writes: NewsAPI answers only once both have asked.
    pipeline.newsapi.barrier = threading.Barrier(2, timeout=10)
    handlers.ingestion.dependencies()  # one container's state, shared as two invocations would
    results: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def run(request_id: str) -> None:
        try:
            results.append(
                handlers.ingestion.lambda_handler(
                    event("eventbridge_schedule"), Context(request_id)
                )
            )
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(f"run-{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(results) == 2
    assert sum(r["new"] for r in results) == 5
    assert sum(r["duplicate"] for r in results) == 5
    assert len(scan(pipeline.resources.table)) == 5

    deliveries = tap.events()
    assert len(deliveries) >= 5  # both runs may publish an item; never fewer than once each
    outcomes = [handlers.analysis.lambda_handler(d, Context()) for d in deliveries]
    assert sum(o["analyzed"] for o in outcomes) == 5
    assert sum(o["duplicate"] for o in outcomes) == len(deliveries) - 5
    assert set(_analyses(pipeline.resources.table).values()) == {("ANALYZED", 1)}
