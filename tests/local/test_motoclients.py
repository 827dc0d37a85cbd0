"""The local stack's AWS clients and its functions' AWS variables: moto, and nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline.local.motoclients import CREDENTIALS, REGION, MotoClients

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_the_functions_reach_moto_and_read_no_aws_files(tmp_path: Path) -> None:
    clients = MotoClients(tmp_path / "no-aws-config")
    clients.endpoint = "http://127.0.0.1:5000"
    assert clients.environment() == {
        **CREDENTIALS,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-config"),
    }
    assert not (tmp_path / "no-aws-config").exists()


def test_a_client_talks_to_the_moto_server_whatever_the_users_aws_files_say(
    moto_clients: MotoClients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config))
    sqs = moto_clients.client("sqs")
    assert sqs.meta.region_name == REGION
    assert sqs.meta.endpoint_url == moto_clients.endpoint
    assert "QueueUrl" in sqs.create_queue(QueueName="motoclients-test")
    assert moto_clients.client("sqs") is sqs  # one client per service
