"""A moto server in its own process, as the local stack runs one, and clients bound to it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.aws.provision import Resources, provision
from sentiment_pipeline.local.moto import MotoServer
from sentiment_pipeline.local.motoclients import MotoClients

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def moto_clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoClients]:
    server = MotoServer().start()
    clients = MotoClients(tmp_path_factory.mktemp("aws") / "no-aws-config")
    clients.endpoint = server.url
    try:
        yield clients
    finally:
        server.stop()


@pytest.fixture
def resources(moto_clients: MotoClients) -> Resources:
    """The pipeline's table and topic, under names of this test's own."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    return provision(
        table=name,
        topic=name,
        newsapi_key="newsapi-key",
        dashboard_api_key="dashboard-key",
        prefix=name,
        clients=moto_clients.client,
    )
