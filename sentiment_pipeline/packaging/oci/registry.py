"""A small client for the OCI distribution API (registry v2), on the standard library.

It pulls and pushes single images: manifests checked against their digest, blobs
streamed to and from files (never a whole layer in memory), uploads monolithic or
chunked, cross-repository mounts, and the manifest PUT last so that a failed push
never leaves a tag pointing at a partial image.

Transport: plain HTTP only for loopback registries (``127.0.0.0/8``, ``localhost``,
``[::1]``), as container tools do; HTTPS with the default trust store
(``SSL_CERT_FILE`` honoured) for every other host. Auth: the bearer-token flow
(anonymous or with credentials), Basic, and ECR's ``get_authorization_token``.

>>> ref = ImageRef.parse("127.0.0.1:5000/lambdas/analysis:v1")
>>> ref.host, ref.repository, ref.reference
('127.0.0.1:5000', 'lambdas/analysis', 'v1')
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import ssl
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from sentiment_pipeline.errors import PipelineError, one_line
from sentiment_pipeline.packaging.oci.image import sha256_digest
from sentiment_pipeline.packaging.oci.mediatypes import ACCEPTED_MANIFEST_TYPES, INDEX_TYPES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "FetchedManifest",
    "ImageRef",
    "PushResult",
    "RegistryClient",
    "RegistryError",
    "RetryPolicy",
    "parse_ecr_token",
    "parse_www_authenticate",
]

USER_ENV = "SENTIMENT_PIPELINE_REGISTRY_USER"
PASSWORD_ENV = "SENTIMENT_PIPELINE_REGISTRY_PASSWORD"

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_REPO = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ECR_HOST = re.compile(r"\d{12}\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?")
_COPY_BLOCK = 1 << 20


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
class ImageRef:
    """``HOST[:PORT]/REPO[:TAG|@sha256:...]``; a tag and a digest may both be given."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse a reference; the registry host is required (no Docker Hub default)."""
        rest = text.removeprefix("docker://")
        host, slash, path = rest.partition("/")
        if not slash or not path or not ("." in host or ":" in host or host == "localhost"):
            raise ValueError(
                f"image reference {text!r} has no registry host: write it as "
                "HOST[:PORT]/REPO[:TAG|@sha256:DIGEST], e.g. 127.0.0.1:5000/lambdas/analysis:v1"
            )
        digest = None
        if "@" in path:
            path, _, digest = path.partition("@")
            if not _DIGEST.fullmatch(digest):
                raise ValueError(f"image reference {text!r}: {digest!r} is not a sha256 digest")
        tag = None
        name, colon, maybe_tag = path.rpartition(":")
        if colon and "/" not in maybe_tag:
            path, tag = name, maybe_tag
            if not _TAG.fullmatch(tag):
                raise ValueError(f"image reference {text!r}: invalid tag {tag!r}")
        if not _REPO.fullmatch(path):
            raise ValueError(
                f"image reference {text!r}: invalid repository {path!r} "
                "(lower-case letters, digits, and . _ - separators, '/' between components)"
            )
        return cls(host, path, tag, digest)

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest if known, else the tag (``latest``)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.host}/{self.repository}{tag}{digest}"


class FetchedManifest(NamedTuple):
    """A manifest as pulled: its exact bytes, media type and verified digest."""

    data: bytes
    media_type: str
    digest: str


@dataclass(frozen=True)
class PushResult:
    """What :meth:`RegistryClient.push_image` did; ``requests`` counts HTTP methods sent."""

    digest: str
    uploaded: list[str]
    skipped: list[str]
    mounted: list[str]
    requests: dict[str, int]


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff on connection errors, 429 and 5xx."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    timeout: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))


def parse_www_authenticate(header: str) -> tuple[str, dict[str, str]]:
    """Split ``Bearer realm="...",service="...",scope="..."`` into scheme and parameters.

    >>> parse_www_authenticate('Bearer realm="https://a/token",service="a"')
    ('bearer', {'realm': 'https://a/token', 'service': 'a'})
    """
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


def _boto3_ecr_token(region: str) -> str:
    import boto3  # type: ignore[import-untyped]  # lazily: only ECR pushes need it

    data = boto3.client("ecr", region_name=region).get_authorization_token()
    return str(data["authorizationData"][0]["authorizationToken"])


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


_Body = bytes | tuple[Path, int, int] | None  # bytes, or (file, offset, length) to stream


@dataclass
class RegistryClient:
    """A client for one registry host.

    Credentials come from ``username``/``password``, else the environment
    (``SENTIMENT_PIPELINE_REGISTRY_USER``/``..._PASSWORD``), else for ECR hosts
    from ``ecr_token(region)`` (boto3's ``get_authorization_token`` by default);
    without any, only anonymous bearer tokens are tried.

    >>> RegistryClient("127.0.0.1:5000").base_url
    'http://127.0.0.1:5000'
    """

    host: str
    username: str | None = None
    password: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    chunk_size: int = 16 << 20
    cache_dir: Path | None = None
    ecr_token: Callable[[str], str] = _boto3_ecr_token
    ssl_context: ssl.SSLContext | None = None
    requests: Counter[str] = field(default_factory=Counter, init=False)
    _tokens: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _challenge: tuple[str, dict[str, str]] | None = field(default=None, init=False, repr=False)
    _conns: dict[tuple[str, str], tuple[http.client.HTTPConnection, http.client.HTTPResponse]] = (
        field(default_factory=dict, init=False, repr=False)
    )

    def __post_init__(self) -> None:
        if self.username is None and self.password is None:
            self.username = os.environ.get(USER_ENV) or None
            self.password = os.environ.get(PASSWORD_ENV) or None
        ecr = _ECR_HOST.fullmatch(self.host)
        if ecr and self.username is None:
            try:
                self.username, self.password = parse_ecr_token(self.ecr_token(ecr.group(1)))
            except Exception as exc:
                raise RegistryError(
                    f"could not get an ECR token for {self.host}: {exc}. Check the AWS "
                    "credentials (and ecr:GetAuthorizationToken permission) for that account",
                    host=self.host,
                ) from exc
            self._challenge = ("basic", {})

    @property
    def base_url(self) -> str:
        return f"{'http' if _is_loopback(self.host) else 'https'}://{self.host}"

    @property
    def _auth_tried(self) -> str:
        return f"user {self.username!r}" if self.username else "anonymous (no credentials)"

    def close(self) -> None:
        for conn, _ in self._conns.values():
            conn.close()
        self._conns.clear()

    # --- pull ---

    def get_manifest(
        self,
        ref: ImageRef,
        accept: Iterable[str] = ACCEPTED_MANIFEST_TYPES,
        *,
        expect_manifest: bool = False,
    ) -> FetchedManifest:
        """GET a manifest, verified against the requested digest and Docker-Content-Digest.

        With ``expect_manifest``, an index or manifest list is an error.
        """
        self._check_host(ref)
        path = f"/v2/{ref.repository}/manifests/{ref.reference}"
        headers = {"Accept": ", ".join(accept)}
        with self._request("GET", path, ref.repository, "pull", headers, ok=(200,)) as resp:
            data = resp.read()
        digest = sha256_digest(data)
        for claimed, source in ((ref.digest, "requested"), (_dcd(resp), "Docker-Content-Digest")):
            if claimed and claimed != digest:
                raise RegistryError(
                    f"digest mismatch pulling {ref}: expected {claimed} ({source}), got "
                    f"{digest}. The registry's copy is corrupt or altered; do not use it",
                    host=self.host,
                    repository=ref.repository,
                )
        try:
            doc = json.loads(data)
        except ValueError as exc:
            raise RegistryError(
                f"{ref} is not a JSON manifest: {exc}", host=self.host, repository=ref.repository
            ) from exc
        media_type = (resp.getheader("Content-Type") or "").partition(";")[0].strip()
        if media_type not in ACCEPTED_MANIFEST_TYPES and isinstance(doc, dict):
            media_type = str(doc.get("mediaType") or media_type)
        is_index = media_type in INDEX_TYPES or (isinstance(doc, dict) and "manifests" in doc)
        if expect_manifest and is_index:
            raise RegistryError(
                f"an index was found where a manifest was expected: {ref} is {media_type} "
                f"({digest}). Lambda rejects indexes; push a single-platform image "
                "(docker buildx: --provenance=false) or pick the platform's manifest by digest",
                host=self.host,
                repository=ref.repository,
            )
        return FetchedManifest(data, media_type, digest)

    def resolve(self, ref: ImageRef) -> str:
        """The digest a tag points at (HEAD, falling back to GET when no digest header)."""
        if ref.digest:
            return ref.digest
        path = f"/v2/{ref.repository}/manifests/{ref.reference}"
        headers = {"Accept": ", ".join(ACCEPTED_MANIFEST_TYPES)}
        with self._request("HEAD", path, ref.repository, "pull", headers, ok=(200,)) as resp:
            digest = _dcd(resp)
        return digest or self.get_manifest(ref).digest

    def get_blob(self, repository: str, digest: str, dest: Path) -> Path:
        """Stream a blob into ``dest`` (through a temp file), verified against ``digest``."""
        cached = self.cache_dir / digest.replace(":", "/") if self.cache_dir else None
        if cached and cached.is_file():
            shutil.copyfile(cached, dest)
            return dest
        hasher = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".blob-")
        try:
            path = f"/v2/{repository}/blobs/{digest}"
            with (
                os.fdopen(fd, "wb") as out,
                self._request("GET", path, repository, "pull", {}, ok=(200,)) as resp,
            ):
                while block := resp.read(_COPY_BLOCK):
                    hasher.update(block)
                    out.write(block)
            actual = "sha256:" + hasher.hexdigest()
            if actual != digest:
                raise RegistryError(
                    f"digest mismatch pulling blob {digest} from {self.host}/{repository}: "
                    f"expected {digest}, got {actual}. The registry's copy is corrupt or altered",
                    host=self.host,
                    repository=repository,
                )
            if cached:
                cached.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(tmp_name, cached)
            os.replace(tmp_name, dest)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return dest

    # --- push ---

    def blob_exists(self, repository: str, digest: str) -> bool:
        """HEAD the blob: True if the repository already has it."""
        path = f"/v2/{repository}/blobs/{digest}"
        with self._request("HEAD", path, repository, "pull,push", {}, ok=(200, 404)) as resp:
            return resp.status == 200

    def mount_blob(self, repository: str, digest: str, from_repo: str) -> bool:
        """Mount a blob from another repository of this registry; False if it was not mounted."""
        location = self._start_upload(repository, mount=(digest, from_repo))
        if location is None:
            return True
        with contextlib.suppress(RegistryError):  # cancel the upload session the server opened
            self._request("DELETE", location, repository, "pull,push", {}, ok=(204, 404)).close()
        return False

    def push_blob(
        self, repository: str, source: Path | bytes, digest: str, *, chunk_size: int | None = None
    ) -> None:
        """Upload a blob: monolithic up to ``chunk_size``, else chunked PATCHes from the file."""
        chunk = chunk_size or self.chunk_size
        location = self._start_upload(repository)
        assert location is not None
        size = len(source) if isinstance(source, bytes) else source.stat().st_size
        if isinstance(source, Path) and size > chunk:
            for start in range(0, size, chunk):
                length = min(chunk, size - start)
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{start}-{start + length - 1}",
                }
                body = (source, start, length)
                with self._request(
                    "PATCH", location, repository, "pull,push", headers, body, ok=(202,)
                ) as resp:
                    location = self._location(resp, repository)
                    got = resp.getheader("Range", "")
                    if got and got != f"0-{start + length - 1}":
                        raise RegistryError(
                            f"chunked upload of {digest} to {self.host}/{repository} went out of "
                            f"step: sent up to byte {start + length - 1}, registry has {got!r}",
                            host=self.host,
                            repository=repository,
                        )
            final: _Body = b""
        else:
            final = source if isinstance(source, bytes) else (source, 0, size)
        url = _with_query(location, digest=digest)
        headers = {"Content-Type": "application/octet-stream"}
        with self._request("PUT", url, repository, "pull,push", headers, final, ok=(201,)) as r:
            self._check_digest(r, digest, f"blob upload to {repository}", repository)

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str:
        """PUT a manifest under a tag (or its digest); returns its verified digest."""
        digest = sha256_digest(data)
        path = f"/v2/{repository}/manifests/{reference}"
        headers = {"Content-Type": media_type}
        with self._request("PUT", path, repository, "pull,push", headers, data, ok=(201,)) as r:
            self._check_digest(r, digest, f"manifest PUT to {repository}:{reference}", repository)
        return digest

    def push_image(
        self,
        ref: ImageRef,
        manifest: bytes,
        media_type: str,
        blobs: Mapping[str, Path | bytes],
        *,
        mount_from: str | None = None,
        chunk_size: int | None = None,
    ) -> PushResult:
        """Push the blobs the registry lacks, then the manifest last.

        Every blob the manifest references (config and layers) must be in ``blobs``
        or already in the repository; the tag only moves once all of them are there.
        """
        self._check_host(ref)
        repo = ref.repository
        before = Counter(self.requests)
        wanted = _referenced_blobs(manifest)
        uploaded: list[str] = []
        skipped: list[str] = []
        mounted: list[str] = []
        for digest in wanted:
            if self.blob_exists(repo, digest):
                skipped.append(digest)
            elif mount_from and self._start_upload(repo, mount=(digest, mount_from)) is None:
                mounted.append(digest)
            elif digest in blobs:
                self.push_blob(repo, blobs[digest], digest, chunk_size=chunk_size)
                uploaded.append(digest)
            else:
                raise RegistryError(
                    f"cannot push {ref}: blob {digest} is referenced by the manifest but is "
                    "neither given nor in the repository; the tag was not changed",
                    host=self.host,
                    repository=repo,
                )
        digest = self.put_manifest(repo, ref.tag or sha256_digest(manifest), manifest, media_type)
        if ref.digest and ref.digest != digest:
            raise RegistryError(
                f"pushed manifest digest {digest} differs from the reference's {ref.digest}",
                host=self.host,
                repository=repo,
            )
        counts = dict(self.requests - before)
        return PushResult(digest, uploaded, skipped, mounted, counts)

    # --- internals ---

    def _check_host(self, ref: ImageRef) -> None:
        if ref.host != self.host:
            raise ValueError(f"{ref} is not on this client's registry {self.host}")

    def _start_upload(self, repo: str, *, mount: tuple[str, str] | None = None) -> str | None:
        """POST an upload session; ``None`` when a mount succeeded (201), else its Location."""
        path = f"/v2/{repo}/blobs/uploads/"
        scope = "pull,push"
        if mount:
            path = _with_query(path, mount=mount[0], **{"from": mount[1]})
            scope += f" repository:{mount[1]}:pull"
        with self._request("POST", path, repo, scope, {}, b"", ok=(201, 202)) as resp:
            if resp.status == 201:
                return None
            return self._location(resp, repo)

    def _location(self, resp: http.client.HTTPResponse, repo: str) -> str:
        location = resp.getheader("Location")
        if not location:
            raise RegistryError(
                f"{self.host} answered an upload to {repo} without a Location header; "
                "it does not follow the distribution API",
                host=self.host,
                repository=repo,
            )
        return location

    def _check_digest(
        self, resp: http.client.HTTPResponse, expected: str, what: str, repo: str
    ) -> None:
        got = _dcd(resp)
        if got and got != expected:
            raise RegistryError(
                f"{what}: registry reports Docker-Content-Digest {got}, expected {expected}",
                host=self.host,
                repository=repo,
            )

    def _auth_header(self, repo: str, actions: str) -> dict[str, str]:
        if self._challenge is None:
            return {}
        scheme, params = self._challenge
        if scheme == "basic" and self.username is not None:
            raw = f"{self.username}:{self.password or ''}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if scheme == "bearer":
            return {"Authorization": "Bearer " + self._token(repo, actions, params)}
        return {}

    def _token(self, repo: str, actions: str, params: dict[str, str]) -> str:
        first, _, extra = actions.partition(" ")
        scopes = [f"repository:{repo}:{first}", *extra.split()]
        key = " ".join(scopes)
        if key not in self._tokens:
            query = urllib.parse.urlencode(
                [("service", params.get("service", ""))] + [("scope", s) for s in scopes]
            )
            realm = params.get("realm", "")
            url = f"{realm}{'&' if '?' in realm else '?'}{query}"
            saved, self._challenge = self._challenge, ("basic", {})
            try:
                headers = self._auth_header(repo, actions) if self.username else {}
                with self._request("GET", url, repo, "", headers, ok=(200,), auth=False) as r:
                    body = json.loads(r.read())
            except (ValueError, AttributeError) as exc:
                raise RegistryError(
                    f"token endpoint {realm} answered without a JSON token: {exc}",
                    host=self.host,
                    repository=repo,
                ) from exc
            finally:
                self._challenge = saved
            self._tokens[key] = str(body.get("token") or body.get("access_token") or "")
        return self._tokens[key]

    def _request(
        self,
        method: str,
        target: str,
        repo: str,
        actions: str,
        headers: Mapping[str, str],
        body: _Body = None,
        *,
        ok: tuple[int, ...],
        auth: bool = True,
    ) -> http.client.HTTPResponse:
        """Send with retries, auth challenges and redirects; the caller closes the response."""
        url = urllib.parse.urljoin(self.base_url + "/", target)
        challenged = False
        redirects = 0
        attempt = 0
        while True:
            sent = dict(headers)
            if auth and urllib.parse.urlsplit(url).netloc == self.host:
                sent.update(self._auth_header(repo, actions))
            try:
                resp = self._send(method, url, sent, body)
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
            if status in (301, 302, 303, 307, 308) and method in ("GET", "HEAD") and redirects < 5:
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
            if status == 401 and auth and not challenged:
                challenged = True
                challenge = parse_www_authenticate(resp.getheader("WWW-Authenticate", ""))
                if challenge[0] in ("bearer", "basic") and (
                    challenge[0] == "bearer" or self.username is not None
                ):
                    self._challenge = challenge
                    self._tokens.clear()
                    continue
            if status in (401, 403):
                raise RegistryError(
                    f"{self.host} refused {method} on repository {repo!r} ({status}) with auth "
                    f"{self._auth_tried}: {detail}. Set {USER_ENV} and {PASSWORD_ENV} (or log "
                    "in to the registry) with an account that may "
                    f"{actions.partition(' ')[0] or 'read'} it",
                    host=self.host,
                    repository=repo,
                    status=status,
                )
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

    def _send(
        self, method: str, url: str, headers: dict[str, str], body: _Body
    ) -> http.client.HTTPResponse:
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


def _drained(resp: http.client.HTTPResponse) -> bool:
    return resp.isclosed() and not resp.will_close and resp.length == 0


def _dcd(resp: http.client.HTTPResponse) -> str | None:
    return resp.getheader("Docker-Content-Digest")


def _error_detail(resp: http.client.HTTPResponse) -> str:
    raw = resp.read(64 << 10)
    resp.close()
    try:
        errors = json.loads(raw)["errors"]
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors) or "no detail"
    except (ValueError, KeyError, TypeError, AttributeError):
        return raw.decode(errors="replace").strip()[:200] or resp.reason or "no detail"


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = "&".join(q for q in (parts.query, urllib.parse.urlencode(params)) if q)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _referenced_blobs(manifest: bytes) -> list[str]:
    """Config and layer digests of an image manifest (an index references no blobs)."""
    doc = json.loads(manifest)
    config = [doc["config"]] if "config" in doc else []
    return [d["digest"] for d in (*config, *doc.get("layers", []))]
