"""Secrets Manager as a :class:`~sentiment_pipeline.ports.SecretSource`."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from sentiment_pipeline.aws.clients import client
from sentiment_pipeline.errors import SecretUnavailableError

__all__ = ["SecretsManagerSource"]


class SecretsManagerSource:
    """Reads ``SecretString`` values; every failure is a SecretUnavailableError."""

    def get_secret(self, secret_id: str) -> str:
        try:
            answer = client("secretsmanager").get_secret_value(SecretId=secret_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise SecretUnavailableError(secret_id, str(code)) from error
        except BotoCoreError as error:
            raise SecretUnavailableError(secret_id, type(error).__name__) from error
        value = answer.get("SecretString")
        if not isinstance(value, str):
            raise SecretUnavailableError(secret_id, "no SecretString (binary secrets are not read)")
        return value
