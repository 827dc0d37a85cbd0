"""Pull and push single images over the OCI distribution API (registry v2).

Manifests are checked against their digest (the requested one and the
registry's ``Docker-Content-Digest``), blobs streamed to and from files (never a
whole layer in memory) and checked too; uploads are monolithic or chunked,
cross-repository mounts are tried first, and the manifest is PUT last so that a
failed push never leaves a tag pointing at a partial image.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sentiment_pipeline.packaging.cache import sha256_file
from sentiment_pipeline.packaging.oci.image import sha256_digest
from sentiment_pipeline.packaging.oci.mediatypes import ACCEPTED_MANIFEST_TYPES, INDEX_TYPES
from sentiment_pipeline.packaging.oci.registry.auth import Auth, boto3_ecr_token
from sentiment_pipeline.packaging.oci.registry.transport import (
    Body,
    RegistryError,
    RetryPolicy,
    Transport,
)

if TYPE_CHECKING:
    import http.client
    import ssl
    from collections.abc import Callable, Iterable, Mapping

    from sentiment_pipeline.packaging.oci.blobs import BlobSource
    from sentiment_pipeline.packaging.oci.reference import ImageRef

__all__ = ["FetchedManifest", "PushResult", "RegistryClient"]

_COPY_BLOCK = 1 << 20


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
    ecr_token: Callable[[str], str] = boto3_ecr_token
    ssl_context: ssl.SSLContext | None = None
    transport: Transport = field(init=False, repr=False)
    _auth: Auth = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.transport = Transport(self.host, self.retry, self.ssl_context)
        self._auth = Auth.resolve(self.transport, self.username, self.password, self.ecr_token)
        self.username, self.password = self._auth.username, self._auth.password

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def requests(self) -> Counter[str]:
        """How many requests of each method were sent (retries and challenges included)."""
        return self.transport.requests

    def close(self) -> None:
        self.transport.close()

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
                    f"{digest}. The registry's copy is corrupt or altered: do not use it; push the "
                    "image again",
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
        """Stream a blob into ``dest`` (through a temp file), verified against ``digest``.

        With a ``cache_dir``, a cached copy is used when it still hashes to
        ``digest`` (else it is dropped and pulled again), and a pulled blob is
        cached only after its digest matched.
        """
        cached = self.cache_dir / digest.replace(":", "/") if self.cache_dir else None
        if cached is not None and cached.is_file():
            if f"sha256:{sha256_file(cached)}" == digest:
                shutil.copyfile(cached, dest)
                return dest
            cached.unlink(missing_ok=True)  # damaged or altered: never served
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
                    f"expected {digest}, got {actual}. The registry's copy is corrupt or altered: "
                    "do not use it; push the image again",
                    host=self.host,
                    repository=repository,
                )
            if cached is not None:
                _store(Path(tmp_name), cached)
            os.replace(tmp_name, dest)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return dest

    def blob_source(self, repository: str, folder: Path) -> BlobSource:
        """Blobs of ``repository`` as a :data:`~sentiment_pipeline.packaging.oci.blobs.BlobSource`:
        each pulled (and checked) into ``folder`` when first asked for."""

        def get(digest: str) -> Path:
            dest = folder / digest.replace(":", "-")
            if dest.is_file():
                return dest
            return self.get_blob(repository, digest, dest)

        return get

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
            final: Body = b""
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

    def _request(
        self,
        method: str,
        target: str,
        repo: str,
        actions: str,
        headers: Mapping[str, str],
        body: Body = None,
        *,
        ok: tuple[int, ...],
    ) -> http.client.HTTPResponse:
        return self.transport.request(
            method, target, repo, headers, body, ok=ok, auth=self._auth, actions=actions
        )


def _store(blob: Path, cached: Path) -> None:
    """Copy a checked blob into the cache: a temporary file renamed into place, so a
    reader never sees half a blob (a failed copy costs speed, never correctness)."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    fd, staged = tempfile.mkstemp(dir=cached.parent, prefix=".blob-")
    os.close(fd)
    try:
        shutil.copyfile(blob, staged)
        os.replace(staged, cached)
    except OSError:
        Path(staged).unlink(missing_ok=True)


def _dcd(resp: http.client.HTTPResponse) -> str | None:
    return resp.getheader("Docker-Content-Digest")


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = "&".join(q for q in (parts.query, urllib.parse.urlencode(params)) if q)
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _referenced_blobs(manifest: bytes) -> list[str]:
    """Config and layer digests of an image manifest (an index references no blobs)."""
    doc = json.loads(manifest)
    config = [doc["config"]] if "config" in doc else []
    return [d["digest"] for d in (*config, *doc.get("layers", []))]
