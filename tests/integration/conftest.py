"""A real moto server on 127.0.0.1, reached through AWS_ENDPOINT_URL as in AWS.

The server runs once per session (``ThreadedMotoServer``); each test gets a
clean state (``POST /moto-api/reset``), freshly provisioned resources and the
handlers' environment, and the handlers forget their per-container state.
Credentials are fixed dummies and the AWS config files are pointed at nothing,
so no test can ever reach a real account.
"""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from moto.server import ThreadedMotoServer

import handlers.analysis
import handlers.dashboard
import handlers.ingestion
from sentiment_pipeline.aws.clients import reset_clients
from sentiment_pipeline.aws.provision import Resources, provision
from tests.support.newsapi_fake import FakeNewsAPI

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

NEWSAPI_KEY = "newsapi-test-key-0123456789"
DASHBOARD_KEY = "dashboard-key-abcdef123456"

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    nowhere: Path = tmp_path_factory.mktemp("aws") / "none"
    env = {
        **_AWS_ENV,
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_CONFIG_FILE": str(nowhere),
        "AWS_SHARED_CREDENTIALS_FILE": str(nowhere),
    }
    saved = {key: os.environ.get(key) for key in [*env, "AWS_PROFILE"]}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(env)
    reset_clients()
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_clients()


def _reset_handlers() -> None:
    handlers.ingestion.reset()
    handlers.analysis.reset()
    handlers.dashboard.reset()


@dataclass
class Pipeline:
    """What a test gets: the endpoint, the provisioned resources, the local NewsAPI."""

    endpoint: str
    resources: Resources
    newsapi: FakeNewsAPI

    def reset_handlers(self) -> None:
        _reset_handlers()


@pytest.fixture
def pipeline(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    reset = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10) as answer:
        assert answer.status == 200
    reset_clients()
    resources = provision(newsapi_key=NEWSAPI_KEY, dashboard_api_key=DASHBOARD_KEY)
    newsapi = FakeNewsAPI(api_key=NEWSAPI_KEY).start()
    for name, value in resources.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEWSAPI_BASE_URL", newsapi.url)
    monkeypatch.setenv("NEWSAPI_QUERY", "markets")
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("SSE_POLL_INTERVAL", "3")
    _reset_handlers()
    try:
        yield Pipeline(moto_endpoint, resources, newsapi)
    finally:
        newsapi.stop()
        _reset_handlers()
