"""Score each message and record the result with a conditional update.

``PENDING -> ANALYZED`` is the only transition an analysis makes, so a second
delivery of the same message (SNS is at-least-once; ingestion may re-publish)
changes nothing and is counted as a duplicate. A text the model fails on is
counted against the item; at ``max_attempts`` the item becomes FAILED with the
reason, before that the caller should let Lambda retry the event.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from sentiment_pipeline.logs import get_logger
from sentiment_pipeline.models import AnalysisSummary
from sentiment_pipeline.records import AnalysisResult, Status, iso

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.analysis.model import SentimentModel
    from sentiment_pipeline.models import ItemMessage
    from sentiment_pipeline.ports import AnalysisStore

__all__ = ["analyse"]

log = get_logger(__name__)

_MAX_REASON = 500
_last_second: tuple[int, str] = (-1, "")


def _now() -> str:
    """``iso(now)``: the stored format has whole seconds, so the text is kept for a second."""
    global _last_second
    whole = int(time.time())
    second, text = _last_second
    if whole != second:
        text = iso(dt.datetime.fromtimestamp(whole, dt.UTC))
        _last_second = (whole, text)
    return text


def analyse(
    messages: Sequence[ItemMessage],
    model: SentimentModel,
    store: AnalysisStore,
    *,
    max_attempts: int = 3,
    now: dt.datetime | None = None,
) -> AnalysisSummary:
    """Analyse each message once; returns the counts and the keys to retry.

    >>> from sentiment_pipeline.memory import InMemoryRepository
    >>> from sentiment_pipeline.analysis import load_model
    >>> analyse([], load_model(), InMemoryRepository()).analyzed
    0
    """
    analyzed_at = iso(now) if now is not None else _now()
    summary = AnalysisSummary(received=len(messages))
    for message in messages:
        try:
            scores = model.score(message.text)
        except Exception as error:  # any model failure is the item's, not the batch's
            reason = f"{model.name}: {type(error).__name__}: {error}"[:_MAX_REASON]
            status = store.record_failure(message.pk, reason, max_attempts=max_attempts)
            if status is Status.FAILED:
                summary.failed += 1
                log.error("analysis failed for good", extra={"pk": message.pk, "reason": reason})
            elif status is Status.PENDING:
                summary.retrying.append(message.pk)
                log.warning("analysis failed; will retry", extra={"pk": message.pk})
            else:
                summary.duplicate += 1
            continue
        result = AnalysisResult(
            scores=scores,
            sentiment=scores.label,
            model_name=model.name,
            model_version=model.version,
            analyzed_at=analyzed_at,
        )
        if store.complete_analysis(message.pk, result):
            summary.analyzed += 1
        else:
            summary.duplicate += 1
    return summary
