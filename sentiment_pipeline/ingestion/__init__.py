"""Ingestion: NewsAPI articles -> validated, deduplicated items -> SNS announcements.

Pure domain code: it talks to the store and to SNS through
:class:`~sentiment_pipeline.ports.ItemWriter` and
:class:`~sentiment_pipeline.ports.Publisher`.
"""

from __future__ import annotations

from sentiment_pipeline.ingestion.ingest import OUTBOX_LIMIT, ingest, publish_outbox
from sentiment_pipeline.ingestion.normalise import Normalised, normalise

__all__ = ["OUTBOX_LIMIT", "Normalised", "ingest", "normalise", "publish_outbox"]
