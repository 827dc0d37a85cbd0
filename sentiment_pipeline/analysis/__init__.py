"""Analysis: SNS records -> sentiment scores -> an idempotent PENDING -> ANALYZED update.

The model is pluggable (entry-point group ``sentiment_pipeline.models``); the
default, ``vader``, is :class:`~sentiment_pipeline.analysis.vader.VaderModel`.
"""

from __future__ import annotations

from sentiment_pipeline.analysis.analyse import analyse
from sentiment_pipeline.analysis.events import parse_sns_event
from sentiment_pipeline.analysis.model import (
    MODEL_GROUP,
    SentimentModel,
    available_models,
    load_model,
)

__all__ = [
    "MODEL_GROUP",
    "SentimentModel",
    "analyse",
    "available_models",
    "load_model",
    "parse_sns_event",
]
