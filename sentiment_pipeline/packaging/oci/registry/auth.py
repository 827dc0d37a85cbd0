"""Credentials for a registry: the bearer-token flow, Basic, and ECR's authorization token.

Where credentials come from, in order: given explicitly, else the environment
(:data:`USER_ENV`, :data:`PASSWORD_ENV`), else for an ECR host
``ecr_token(region)`` (boto3's ``get_authorization_token`` by default). Without
any, only anonymous bearer tokens are tried (public.ecr.aws gives pull tokens).

>>> parse_www_authenticate('Bearer realm="https://a/token",service="a"')
('bearer', {'realm': 'https://a/token', 'service': 'a'})
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.parse
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.oci.registry.transport import RegistryError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sentiment_pipeline.packaging.oci.registry.transport import Transport

__all__ = [
    "PASSWORD_ENV",
    "USER_ENV",
    "Auth",
    "boto3_ecr_token",
    "parse_ecr_token",
    "parse_www_authenticate",
]

USER_ENV = "SENTIMENT_PIPELINE_REGISTRY_USER"
PASSWORD_ENV = "SENTIMENT_PIPELINE_REGISTRY_PASSWORD"

_ECR_HOST = re.compile(r"\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")


def parse_www_authenticate(header: str) -> tuple[str, dict[str, str]]:
    """Split ``Bearer realm="...",service="...",scope="..."`` into scheme and parameters."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        key.lower(): quoted if quoted or not bare else bare
        for key, quoted, bare in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', rest)
    }
    return scheme.lower(), params


def parse_ecr_token(token: str) -> tuple[str, str]:
    """Decode an ECR ``authorizationToken`` (base64 of ``AWS:password``) into user, password."""
    try:
        user, sep, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"ECR authorization token is not base64 'user:password': {exc}") from exc
    if not sep or not user or not password:
        raise ValueError("ECR authorization token is not of the form 'AWS:password'")
    return user, password


def boto3_ecr_token(region: str) -> str:
    """ECR's ``authorizationToken`` for ``region``, with the caller's AWS credentials."""
    import boto3  # type: ignore[import-untyped]  # lazily: only ECR pushes need it

    data = boto3.client("ecr", region_name=region).get_authorization_token()
    return str(data["authorizationData"][0]["authorizationToken"])


class Auth:
    """The credentials for one registry, and the scheme its last 401 asked for.

    Bearer tokens are fetched from the challenge's realm once per scope and kept
    until the next challenge. :meth:`resolve` finds the credentials.
    """

    def __init__(
        self,
        transport: Transport,
        username: str | None = None,
        password: str | None = None,
        *,
        basic: bool = False,
    ) -> None:
        self.transport = transport
        self.username = username
        self.password = password
        # Basic from the first request (ECR), else nothing until a registry asks.
        self._challenge: tuple[str, dict[str, str]] | None = ("basic", {}) if basic else None
        self._tokens: dict[str, str] = {}

    @classmethod
    def resolve(
        cls,
        transport: Transport,
        username: str | None,
        password: str | None,
        ecr_token: Callable[[str], str],
    ) -> Auth:
        """Credentials given, else from the environment, else ECR's for an ECR host."""
        host = transport.host
        if username is None and password is None:
            username = os.environ.get(USER_ENV) or None
            password = os.environ.get(PASSWORD_ENV) or None
        ecr = _ECR_HOST.fullmatch(host)
        if ecr is None or username is not None:
            return cls(transport, username, password)
        try:
            username, password = parse_ecr_token(ecr_token(ecr.group(1)))
        except Exception as exc:
            raise RegistryError(
                f"could not get an ECR token for {host}: {exc}. Check the AWS "
                "credentials (and ecr:GetAuthorizationToken permission) for that account",
                host=host,
            ) from exc
        return cls(transport, username, password, basic=True)

    @property
    def tried(self) -> str:
        """Who the requests were sent as, for error messages."""
        return f"user {self.username!r}" if self.username else "anonymous (no credentials)"

    def headers(self, repo: str, actions: str) -> dict[str, str]:
        if self._challenge is None:
            return {}
        scheme, params = self._challenge
        if scheme == "basic" and self.username is not None:
            return self._basic()
        if scheme == "bearer":
            return {"Authorization": "Bearer " + self._token(repo, actions, params)}
        return {}

    def challenge(self, header: str) -> bool:
        scheme, params = parse_www_authenticate(header)
        if scheme == "bearer" or (scheme == "basic" and self.username is not None):
            self._challenge = (scheme, params)
            self._tokens.clear()
            return True
        return False

    def refusal(
        self, method: str, repo: str, status: int, detail: str, actions: str
    ) -> RegistryError:
        return RegistryError(
            f"{self.transport.host} refused {method} on repository {repo!r} ({status}) with auth "
            f"{self.tried}: {detail}. Set {USER_ENV} and {PASSWORD_ENV} (or log "
            "in to the registry) with an account that may "
            f"{actions.partition(' ')[0] or 'read'} it",
            host=self.transport.host,
            repository=repo,
            status=status,
        )

    def _basic(self) -> dict[str, str]:
        raw = f"{self.username}:{self.password or ''}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def _token(self, repo: str, actions: str, params: dict[str, str]) -> str:
        """A bearer token for ``actions`` on ``repo`` (and any extra scopes after a space)."""
        first, _, extra = actions.partition(" ")
        scopes = [f"repository:{repo}:{first}", *extra.split()]
        key = " ".join(scopes)
        if key not in self._tokens:
            query = urllib.parse.urlencode(
                [("service", params.get("service", ""))] + [("scope", s) for s in scopes]
            )
            realm = params.get("realm", "")
            url = f"{realm}{'&' if '?' in realm else '?'}{query}"
            headers = self._basic() if self.username else {}
            try:
                with self.transport.request(
                    "GET", url, repo, headers, ok=(200,), auth=self, sign=False
                ) as resp:
                    body = json.loads(resp.read())
            except (ValueError, AttributeError) as exc:
                raise RegistryError(
                    f"token endpoint {realm} answered without a JSON token: {exc}",
                    host=self.transport.host,
                    repository=repo,
                ) from exc
            self._tokens[key] = str(body.get("token") or body.get("access_token") or "")
        return self._tokens[key]
