"""The SNS -> Lambda event, parsed into :class:`~sentiment_pipeline.models.ItemMessage` values.

SNS invokes Lambda asynchronously with ``{"Records": [{"EventSource": "aws:sns",
"Sns": {"MessageId", "TopicArn", "Message", ...}}]}``. A record whose message
is not one of ours is reported, not retried: re-delivering it cannot fix it.

Only the message is validated (pydantic-core parses and checks its JSON in one
pass); the envelope is read with plain dict access, since nothing but
``Records[i].Sns.Message`` is used.
"""

from __future__ import annotations

from pydantic import ValidationError

from sentiment_pipeline.models import ItemMessage

__all__ = ["parse_sns_event"]

_NOT_SNS = "not an SNS event (no Records array)"


def _message(record: object) -> str | bytes | bytearray:
    """The record's ``Sns.Message``; ValueError naming what is missing."""
    if not isinstance(record, dict):
        raise ValueError("not an SNS record (an object with Sns.Message)")
    body = record.get("Sns")
    if not isinstance(body, dict):
        raise ValueError("Sns: missing, or not an object")
    message = body.get("Message")
    if not isinstance(message, str | bytes | bytearray):
        raise ValueError("Sns.Message: missing, or not a string")
    return message


def parse_sns_event(event: object) -> tuple[list[ItemMessage], list[str]]:
    """The messages of an SNS event, and a reason for each record that is not one.

    >>> good = '{"pk": "ITEM#' + "0" * 64 + '", "text": "fine"}'
    >>> msgs, bad = parse_sns_event({"Records": [{"Sns": {"Message": good}}, {"Sns": {}}]})
    >>> len(msgs), bad
    (1, ['record 1: Sns.Message: missing, or not a string'])
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list | tuple):
        return [], [_NOT_SNS]
    messages: list[ItemMessage] = []
    problems: list[str] = []
    validate = ItemMessage.model_validate_json
    for index, record in enumerate(records):
        try:
            messages.append(validate(_message(record)))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(["Sns.Message", *(str(p) for p in first["loc"])])
            problems.append(f"record {index}: {where}: {first['msg']}")
        except ValueError as error:
            problems.append(f"record {index}: {error}")
    return messages, problems
