"""The SNS -> Lambda event, parsed into :class:`~sentiment_pipeline.models.ItemMessage` values.

SNS invokes Lambda asynchronously with ``{"Records": [{"EventSource": "aws:sns",
"Sns": {"MessageId", "TopicArn", "Message", ...}}]}``. A record whose message
is not one of ours is reported, not retried: re-delivering it cannot fix it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Json, ValidationError

from ..models import ItemMessage  # noqa: TC001 - pydantic resolves annotations at run time

__all__ = ["SnsEvent", "SnsRecord", "parse_sns_event"]


class SnsBody(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    MessageId: str = ""
    TopicArn: str = ""
    Message: Json[ItemMessage]  # parsed and validated in one pass (pydantic-core)


class SnsRecord(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    EventSource: str = "aws:sns"
    Sns: SnsBody


class SnsEvent(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="ignore")

    Records: list[Any]


def parse_sns_event(event: object) -> tuple[list[ItemMessage], list[str]]:
    """The messages of an SNS event, and a reason for each record that is not one.

    >>> good = '{"pk": "ITEM#' + "0" * 64 + '", "text": "fine"}'
    >>> msgs, bad = parse_sns_event({"Records": [{"Sns": {"Message": good}}, {"Sns": {}}]})
    >>> len(msgs), len(bad)
    (1, 1)
    """
    try:
        records = SnsEvent.model_validate(event).Records
    except ValidationError:
        return [], ["not an SNS event (no Records array)"]
    messages: list[ItemMessage] = []
    problems: list[str] = []
    for index, raw in enumerate(records):
        try:
            messages.append(SnsRecord.model_validate(raw).Sns.Message)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            problems.append(f"record {index}: {where}: {first['msg']}")
    return messages, problems
