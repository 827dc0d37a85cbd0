"""boto3 clients, made once per container and shared by every invocation.

Client creation costs tens of milliseconds (it loads the service model), so it
happens once, on first use, never at import: a route that does not need
Secrets Manager never pays for its client. Retries use botocore's ``standard``
mode (exponential backoff with jitter, retry quotas) rather than ``legacy``.

Clients come from a botocore session, which is what ``boto3.client()`` calls:
the same clients, configuration chain and ``AWS_ENDPOINT_URL`` handling, without
``import boto3``'s import of s3transfer and the resource layer (about 40 ms of
every cold start here, used by no route; see ``benchmarks/bench_coldstart.py``).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from sentiment_pipeline.errors import ConfigurationError

__all__ = ["CLIENT_CONFIG", "client", "reset_clients"]

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3},
    connect_timeout=3,
    read_timeout=10,
)

_clients: dict[str, Any] = {}
_session: Any = None
_lock = threading.Lock()


def client(service: str) -> Any:
    """The container's client for ``service`` (``dynamodb``, ``sns``, ``secretsmanager``)."""
    found = _clients.get(service)
    if found is not None:
        return found
    global _session
    with _lock:
        if service not in _clients:
            # Lambda sets AWS_REGION (and AWS_DEFAULT_REGION); botocore itself reads
            # only the latter, so pass it explicitly. Outside Lambda, say what is
            # missing instead of botocore's NoRegionError at the first call.
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            if not region:
                raise ConfigurationError("AWS_REGION")
            if _session is None:
                _session = botocore.session.get_session()
            _clients[service] = _session.create_client(
                service, region_name=region, config=CLIENT_CONFIG
            )
        return _clients[service]


def reset_clients() -> None:
    """Forget every client (tests that change the endpoint or credentials)."""
    global _session
    with _lock:
        _clients.clear()
        _session = None
