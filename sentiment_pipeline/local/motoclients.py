"""The local stack's AWS clients: the moto server's endpoint, one region, test credentials.

The stack's own clients (provisioning, the SNS delivery, table snapshots) and
its functions (through :meth:`MotoClients.environment`) reach the moto server
the same way, and never read the user's AWS config or credentials files: both
point at a file that does not exist (in the state directory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CREDENTIALS", "REGION", "MotoClients"]

REGION = "us-east-1"
"""The local stack's AWS region (its moto server answers any)."""
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class MotoClients:
    """botocore clients of the moto server at ``endpoint`` (set once it started), one each."""

    def __init__(self, no_config: Path) -> None:
        self.endpoint = ""
        self._no_config = str(no_config)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is None:
            import botocore.session  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            session = botocore.session.Session()
            session.set_config_variable("config_file", self._no_config)
            session.set_config_variable("credentials_file", self._no_config)
            found = session.create_client(
                service,
                region_name=REGION,
                endpoint_url=self.endpoint,
                aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                config=Config(
                    retries={"mode": "standard", "max_attempts": 2},
                    connect_timeout=2,
                    read_timeout=10,
                ),
            )
            self._clients[service] = found
        return found

    def environment(self) -> dict[str, str]:
        """The variables that point a function's AWS SDK at the moto server, and only there."""
        return {
            **CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": self._no_config,
            "AWS_SHARED_CREDENTIALS_FILE": self._no_config,
        }
