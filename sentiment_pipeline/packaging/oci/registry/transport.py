"""HTTP to one registry: connections kept alive, bounded retries, redirects, auth challenges.

Plain HTTP only for loopback registries (``127.0.0.0/8``, ``localhost``,
``[::1]``), as container tools do; HTTPS with the default trust store
(``SSL_CERT_FILE`` honoured) for every other host, and never a redirect from
HTTPS to plain HTTP elsewhere. What to send as credentials, and what to say
when they are refused, is the :class:`Authorizer`'s business
(:mod:`~sentiment_pipeline.packaging.oci.registry.auth`).

>>> Transport("127.0.0.1:5000").base_url, Transport("registry.example.com").base_url
('http://127.0.0.1:5000', 'https://registry.example.com')
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import ssl
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

from sentiment_pipeline.errors import PipelineError, one_line

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Authorizer", "Body", "RegistryError", "RetryPolicy", "Transport"]

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5

Body = bytes | tuple[Path, int, int] | None
"""A request body: bytes, or ``(file, offset, length)`` streamed from a file, or none."""


class RegistryError(PipelineError, RuntimeError):
    """A registry could not be reached, refused a request, or answered wrongly.

    ``host`` and ``repository`` name where it happened; ``status`` is the HTTP
    status when there was one (``None`` for connection errors and digest checks).
    """

    def __init__(
        self, message: str, *, host: str, repository: str | None = None, status: int | None = None
    ) -> None:
        self.host = host
        self.repository = repository
        self.status = status
        super().__init__(one_line(message))


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff on connection errors, 429 and 5xx."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    timeout: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))


class Authorizer(Protocol):
    """What :meth:`Transport.request` asks about credentials."""

    def headers(self, repo: str, actions: str) -> dict[str, str]:
        """Headers that authorize ``actions`` (``pull``, ``pull,push``) on ``repo``."""

    def challenge(self, header: str) -> bool:
        """Take a 401's ``WWW-Authenticate``; True if a retry may now succeed."""

    def refusal(
        self, method: str, repo: str, status: int, detail: str, actions: str
    ) -> RegistryError:
        """The error for a 401 or 403 that no retry fixes."""


class Transport:
    """Requests to one registry ``host``; counts what it sends in ``requests``."""

    def __init__(
        self,
        host: str,
        retry: RetryPolicy | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.retry = retry or RetryPolicy()
        self.ssl_context = ssl_context
        self.requests: Counter[str] = Counter()
        self._conns: dict[
            tuple[str, str], tuple[http.client.HTTPConnection, http.client.HTTPResponse]
        ] = {}

    @property
    def base_url(self) -> str:
        return f"{'http' if _is_loopback(self.host) else 'https'}://{self.host}"

    def close(self) -> None:
        for conn, _ in self._conns.values():
            conn.close()
        self._conns.clear()

    def request(
        self,
        method: str,
        target: str,
        repo: str,
        headers: Mapping[str, str],
        body: Body = None,
        *,
        ok: tuple[int, ...],
        auth: Authorizer,
        actions: str = "",
        sign: bool = True,
    ) -> http.client.HTTPResponse:
        """Send with retries, auth challenges and redirects; the caller closes the response.

        ``target`` is a path on this registry or an absolute URL (a token realm).
        With ``sign``, credentials go to this registry's host only (never to the
        host of a redirect) and a 401 is answered once through ``auth.challenge``.
        """
        url = urllib.parse.urljoin(self.base_url + "/", target)
        challenged = False
        redirects = 0
        attempt = 0
        while True:
            sent = dict(headers)
            if sign and urllib.parse.urlsplit(url).netloc == self.host:
                sent.update(auth.headers(repo, actions))
            try:
                resp = self.send(method, url, sent, body)
            except (OSError, http.client.HTTPException) as exc:
                if attempt + 1 >= self.retry.attempts:
                    raise RegistryError(
                        f"registry {self.host} unreachable ({method} {url}): {exc}. Check the "
                        "address and that the registry is running and reachable from here",
                        host=self.host,
                        repository=repo,
                    ) from exc
                time.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            status = resp.status
            if status in ok:
                return resp
            detail = _error_detail(resp)
            if status in _REDIRECTS and method in ("GET", "HEAD") and redirects < _MAX_REDIRECTS:
                url = urllib.parse.urljoin(url, resp.getheader("Location", ""))
                scheme = urllib.parse.urlsplit(url).scheme
                if scheme != "https" and not _is_loopback(urllib.parse.urlsplit(url).netloc):
                    raise RegistryError(
                        f"{self.host} redirected {repo} to non-HTTPS {url}; refusing",
                        host=self.host,
                        repository=repo,
                    )
                redirects += 1
                continue
            if status == 401 and sign and not challenged:
                challenged = True
                if auth.challenge(resp.getheader("WWW-Authenticate", "")):
                    continue
            if status in (401, 403):
                raise auth.refusal(method, repo, status, detail, actions)
            if (status == 429 or status >= 500) and attempt + 1 < self.retry.attempts:
                time.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            what = "manifest unknown" if "MANIFEST_UNKNOWN" in detail else f"HTTP {status}"
            raise RegistryError(
                f"{self.host}: {method} {urllib.parse.urlsplit(url).path} in {repo!r} failed: "
                f"{what}: {detail}",
                host=self.host,
                repository=repo,
                status=status,
            )

    def send(
        self, method: str, url: str, headers: dict[str, str], body: Body
    ) -> http.client.HTTPResponse:
        """One request, on a kept-alive connection when there is one; no retry."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.netloc)
        conn, last = self._conns.pop(key, (None, None))
        # Reuse a keep-alive connection only once its last response was read to the end.
        if conn is not None and last is not None and not _drained(last):
            conn.close()
            conn = None
        if conn is None:
            timeout = self.retry.timeout
            if parts.scheme == "https":
                context = self.ssl_context or ssl.create_default_context()
                conn = http.client.HTTPSConnection(parts.netloc, timeout=timeout, context=context)
            else:
                conn = http.client.HTTPConnection(parts.netloc, timeout=timeout)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.requests[method] += 1
        try:
            if isinstance(body, tuple):
                path, offset, length = body
                with open(path, "rb") as file:
                    file.seek(offset)
                    headers["Content-Length"] = str(length)
                    conn.request(method, target, _Slice(file, length), headers)
            else:
                if body is not None or method in ("POST", "PUT", "PATCH"):
                    headers["Content-Length"] = str(len(body or b""))
                conn.request(method, target, body, headers)
            resp = conn.getresponse()
        except BaseException:
            conn.close()
            raise
        self._conns[key] = (conn, resp)
        return resp


def _is_loopback(host: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``[::1]``, with or without a port."""
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        name = host.partition(":")[0]
    else:
        name = host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class _Slice:
    """A file window that http.client streams as a request body."""

    def __init__(self, file: IO[bytes], length: int) -> None:
        self._file = file
        self._left = length

    def read(self, size: int = -1) -> bytes:
        size = self._left if size < 0 else min(size, self._left)
        data = self._file.read(size)
        self._left -= len(data)
        return data


def _drained(resp: http.client.HTTPResponse) -> bool:
    return resp.isclosed() and not resp.will_close and resp.length == 0


def _error_detail(resp: http.client.HTTPResponse) -> str:
    raw = resp.read(64 << 10)
    resp.close()
    try:
        errors = json.loads(raw)["errors"]
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or "no detail"
    except (ValueError, KeyError, TypeError, AttributeError):
        return raw.decode(errors="replace").strip()[:200] or resp.reason or "no detail"
