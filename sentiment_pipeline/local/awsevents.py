"""The events AWS hands the pipeline's Lambdas, made locally: an EventBridge schedule, SNS.

Shaped as Lambda delivers them (the analysis parses the SNS event with
:mod:`sentiment_pipeline.analysis.events`), with the local stack's region and
account in their ARNs.

>>> scheduled_event(0)["time"], scheduled_event()["detail-type"]
('1970-01-01T00:00:00Z', 'Scheduled Event')
>>> sns_event({"Message": "{}"}, "arn:sub")["Records"][0]["Sns"]["Message"]
'{}'
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from sentiment_pipeline.local.motoclients import REGION

__all__ = ["ACCOUNT", "scheduled_event", "sns_event"]

ACCOUNT = "123456789012"
"""moto's default account, in the ARNs of local events."""


def scheduled_event(
    now: float | None = None, *, region: str = REGION, rule: str = "sentiment-pipeline-local"
) -> dict[str, Any]:
    """An EventBridge scheduled event of ``rule`` in ``region``, as a Lambda receives it."""
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": moment,
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


def sns_event(envelope: dict[str, Any], subscription_arn: str) -> dict[str, Any]:
    """The Lambda SNS event for one SNS notification (as delivered to SQS by SNS)."""
    attributes = {
        name: {"Type": value.get("Type", "String"), "Value": value.get("Value", "")}
        for name, value in (envelope.get("MessageAttributes") or {}).items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": envelope.get("Type", "Notification"),
                    "MessageId": envelope.get("MessageId", str(uuid.uuid4())),
                    "TopicArn": envelope.get("TopicArn", ""),
                    "Subject": envelope.get("Subject"),
                    "Message": envelope.get("Message", ""),
                    "Timestamp": envelope.get("Timestamp", ""),
                    "SignatureVersion": envelope.get("SignatureVersion", "1"),
                    "Signature": envelope.get("Signature", "EXAMPLE"),
                    "SigningCertUrl": envelope.get("SigningCertURL", "EXAMPLE"),
                    "UnsubscribeUrl": envelope.get("UnsubscribeURL", "EXAMPLE"),
                    "MessageAttributes": attributes,
                },
            }
        ]
    }
