"""Create the pipeline's AWS resources: the items table (GSIs, TTL), the topic, the secrets.

Used by the tests and the local demo against a moto server, and usable against
an account for a quick start (production stacks belong in IaC; these
definitions are what it must match). Idempotent: existing resources are kept.

>>> table_definition("items")["KeySchema"]
[{'AttributeName': 'pk', 'KeyType': 'HASH'}]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from sentiment_pipeline.aws.clients import client
from sentiment_pipeline.aws.dynamodb import BY_INGESTED, BY_PUBLISHED, OUTBOX

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Resources", "provision", "table_definition"]


def _index(name: str, partition: str, sort: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def table_definition(table: str) -> dict[str, Any]:
    """``CreateTable`` arguments of the items table (on-demand capacity)."""
    return {
        "TableName": table,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("pk", "kind", "published_at", "stream_key", OUTBOX)
        ],
        "GlobalSecondaryIndexes": [
            _index(BY_PUBLISHED, "kind", "published_at"),
            _index(BY_INGESTED, "kind", "stream_key"),
            _index(OUTBOX, OUTBOX, "stream_key"),
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


@dataclass(frozen=True, slots=True)
class Resources:
    """What :func:`provision` made: give these to the handlers' environment."""

    table: str
    topic_arn: str
    newsapi_key_secret_arn: str
    dashboard_api_key_secret_arn: str

    def environment(self) -> dict[str, str]:
        return {
            "DYNAMODB_TABLE": self.table,
            "SNS_TOPIC_ARN": self.topic_arn,
            "NEWSAPI_KEY_SECRET_ARN": self.newsapi_key_secret_arn,
            "DASHBOARD_API_KEY_SECRET_ARN": self.dashboard_api_key_secret_arn,
        }


def _secret(sm: Any, name: str, value: str) -> str:
    try:
        return str(sm.create_secret(Name=name, SecretString=value)["ARN"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceExistsException":
            raise
        sm.put_secret_value(SecretId=name, SecretString=value)
        return str(sm.describe_secret(SecretId=name)["ARN"])


def provision(
    *,
    table: str = "sentiment-items",
    topic: str = "sentiment-items",
    newsapi_key: str,
    dashboard_api_key: str,
    prefix: str = "sentiment-pipeline",
    clients: Callable[[str], Any] = client,
) -> Resources:
    """Create (or keep) the table with its indexes and TTL, the topic and both secrets.

    ``clients`` makes the boto3 client of a service: the handlers' shared ones by
    default; the local stack passes its own, bound to its moto server.
    """
    ddb = clients("dynamodb")
    try:
        ddb.create_table(**table_definition(table))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    ttl = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
        )
    topic_arn = str(clients("sns").create_topic(Name=topic)["TopicArn"])
    sm = clients("secretsmanager")
    return Resources(
        table=table,
        topic_arn=topic_arn,
        newsapi_key_secret_arn=_secret(sm, f"{prefix}/newsapi-key", newsapi_key),
        dashboard_api_key_secret_arn=_secret(sm, f"{prefix}/dashboard-api-key", dashboard_api_key),
    )
