"""AWS adapters: the only modules of the library that import boto3.

They implement the ports of :mod:`sentiment_pipeline.ports` over DynamoDB,
SNS and Secrets Manager. Endpoints come from boto3's own configuration, so
``AWS_ENDPOINT_URL`` points them at a moto server in tests and local runs
exactly as they run in AWS.
"""

from __future__ import annotations

__all__: list[str] = []  # import the submodules: each costs boto3's import
