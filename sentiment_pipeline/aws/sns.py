"""SNS as a :class:`~sentiment_pipeline.ports.Publisher` (``PublishBatch``, 10 at most)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from sentiment_pipeline.aws.clients import client
from sentiment_pipeline.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sentiment_pipeline.models import ItemMessage

__all__ = ["SnsPublisher"]

log = get_logger(__name__)


class SnsPublisher:
    """Publishes item messages to one topic; reports which ones SNS accepted."""

    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn

    def publish_batch(self, messages: Sequence[ItemMessage]) -> set[str]:
        if not messages:
            return set()
        if len(messages) > 10:
            raise ValueError("SNS PublishBatch takes at most 10 entries")
        # Entry ids must be alphanumeric, '-' or '_': the item keys contain '#'.
        entries = [
            {"Id": f"m{index}", "Message": message.model_dump_json()}
            for index, message in enumerate(messages)
        ]
        try:
            answer = client("sns").publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
            )
        except (ClientError, BotoCoreError) as error:
            log.error(
                "SNS publish failed",
                extra={
                    "topic": self.topic_arn,
                    "error": type(error).__name__,
                    "detail": str(error),
                },
            )
            return set()
        accepted = {entry["Id"] for entry in answer.get("Successful", [])}
        for failed in answer.get("Failed", []):
            log.warning("SNS refused a message", extra={"code": failed.get("Code")})
        return {m.pk for index, m in enumerate(messages) if f"m{index}" in accepted}
