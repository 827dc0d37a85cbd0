"""Analysis Lambda, subscribed to the SNS topic ingestion publishes to.

Environment: ``DYNAMODB_TABLE``, and optionally ``SENTIMENT_MODEL`` (default
``vader``), ``ANALYSIS_MAX_ATTEMPTS`` (3), ``ENVIRONMENT``, ``LOG_LEVEL``.

Returns the counts (received, analyzed, duplicate, failed, invalid). If an item
failed but has attempts left, it raises :class:`~sentiment_pipeline.errors.AnalysisRetryError`
after recording everything else, so that Lambda's asynchronous retry delivers
the event again (SNS has no partial-batch response).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.analysis import analyse, load_model, parse_sns_event
from sentiment_pipeline.aws.clients import reset_clients
from sentiment_pipeline.aws.dynamodb import DynamoRepository
from sentiment_pipeline.config import Settings
from sentiment_pipeline.errors import AnalysisRetryError
from sentiment_pipeline.logs import configure, get_logger, request_context, request_id_of

if TYPE_CHECKING:
    from sentiment_pipeline.analysis import SentimentModel
    from sentiment_pipeline.ports import AnalysisStore

__all__ = ["Dependencies", "dependencies", "handle", "lambda_handler", "reset"]

log = get_logger(__name__)


@dataclass(frozen=True)
class Dependencies:
    settings: Settings
    model: SentimentModel
    store: AnalysisStore


@functools.cache
def dependencies() -> Dependencies:
    """Built once per container: the model (lexicon load) and the table adapter."""
    settings = Settings.from_env()
    configure("analysis", environment=settings.environment, level=settings.log_level)
    return Dependencies(
        settings=settings,
        model=load_model(settings.sentiment_model),
        store=DynamoRepository(settings.require("DYNAMODB_TABLE")),
    )


def reset() -> None:
    """Forget the container's state: for tests and local runs."""
    dependencies.cache_clear()
    reset_clients()


def handle(event: Any, deps: Dependencies) -> dict[str, Any]:
    """The handler's work with explicit dependencies (the benchmark uses an in-memory store)."""
    messages, problems = parse_sns_event(event)
    for problem in problems:
        log.warning("record is not an item message; dropped", extra={"problem": problem})
    summary = analyse(
        messages, deps.model, deps.store, max_attempts=deps.settings.analysis_max_attempts
    )
    summary.invalid = len(problems)
    result = summary.counts()
    log.info("analysis done", extra=result)
    if summary.retrying:
        raise AnalysisRetryError(tuple(summary.retrying))
    return result


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    with request_context(request_id_of(context)):
        return handle(event, dependencies())
