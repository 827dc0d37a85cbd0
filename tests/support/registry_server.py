"""A real ``docker-registry`` (Debian's distribution 2.8) on 127.0.0.1 for tests.

Storage is a temp dir (tests may tamper with its blob files); the process is
stopped by its PID. With ``credentials``, the registry requires htpasswd Basic
auth; the bcrypt line comes from ``htpasswd`` (apache2-utils) when installed,
else from the ``bcrypt`` module, else from the system's libcrypt (``$2b$``).

With a :class:`TokenServer`, the registry uses the distribution token flow
(``auth: token``) instead: a 401 with ``WWW-Authenticate: Bearer realm=...``,
tokens that are ES256 JWTs with an ``x5c`` certificate the registry trusts.
Like public.ecr.aws, anonymous callers get ``pull`` only.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import ctypes.util
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

REGISTRY_BINARY = "docker-registry"


@dataclass
class RegistryServer:
    """A running registry: ``host`` is ``127.0.0.1:PORT``, ``storage`` its filesystem root."""

    host: str
    storage: Path
    process: subprocess.Popen[bytes]
    log: Path

    def blob_file(self, digest: str) -> Path:
        """Where the filesystem driver keeps a blob's bytes (to tamper with in tests)."""
        hexdigest = digest.removeprefix("sha256:")
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bcrypt_line(user: str, password: str) -> str:
    """An htpasswd line with a bcrypt hash (the only kind docker-registry accepts)."""
    if tool := shutil.which("htpasswd"):
        out = subprocess.run(
            [tool, "-nbB", user, password], check=True, capture_output=True, text=True
        ).stdout
        return out.strip()
    try:
        import bcrypt  # type: ignore[import-not-found,unused-ignore]

        hashed: bytes = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5))
        return f"{user}:{hashed.decode()}"
    except ImportError:
        pass
    name = ctypes.util.find_library("crypt")
    if name is None:
        raise RuntimeError("no bcrypt: install apache2-utils (htpasswd) or the bcrypt package")
    lib = ctypes.CDLL(name)
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2b$", 5, None, 0)
    hashed_c = lib.crypt(password.encode(), salt) if salt else None
    if not hashed_c or not hashed_c.startswith(b"$2"):
        raise RuntimeError("libcrypt has no bcrypt: install apache2-utils (htpasswd)")
    return f"{user}:{hashed_c.decode()}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenServer:
    """A token endpoint (``GET /token?service=&scope=``) on 127.0.0.1 for ``auth: token``."""

    workdir: Path
    credentials: tuple[str, str]
    service: str = "test-registry"
    issuer: str = "test-token-issuer"
    issued: list[str] = field(default_factory=list)  # the scopes it was asked for

    def __post_init__(self) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.issuer)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(self._key, hashes.SHA256())
        )
        self.cert_file = self.workdir / "token-cert.pem"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                auth = self.headers.get("Authorization", "")
                user = None
                if auth.startswith("Basic "):
                    given = base64.b64decode(auth[6:]).decode().partition(":")
                    if (given[0], given[2]) != server.credentials:
                        self.send_error(401, "bad credentials")
                        return
                    user = given[0]
                scopes = query.get("scope", [])
                server.issued.extend(scopes)
                body = json.dumps({"token": server.token(scopes, user)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self._httpd.server_address[1]}/token"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def token(self, scopes: list[str], user: str | None) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            repo, _, actions = rest.rpartition(":")
            granted = [a for a in actions.split(",") if user or a == "pull"]
            access.append({"type": kind, "name": repo, "actions": granted})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self._x5c]}
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        r, s = decode_dss_signature(
            self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def config(self) -> str:
        return (
            f"auth:\n  token:\n    realm: {self.realm}\n    service: {self.service}\n"
            f"    issuer: {self.issuer}\n    rootcertbundle: {self.cert_file}\n"
        )

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def start_registry(
    workdir: Path,
    *,
    credentials: tuple[str, str] | None = None,
    token_server: TokenServer | None = None,
) -> RegistryServer:
    """Start ``docker-registry serve`` on a free loopback port and wait until ``/v2/`` answers."""
    binary = shutil.which(REGISTRY_BINARY)
    if binary is None:
        raise RuntimeError("docker-registry is not on PATH: apt-get install docker-registry")
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if credentials:
        htpasswd = workdir / "htpasswd"
        htpasswd.write_text(bcrypt_line(*credentials) + "\n")
        auth = f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {htpasswd}\n"
    if token_server:
        auth = token_server.config()
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth
    )
    log = workdir / "registry.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    server = RegistryServer(f"127.0.0.1:{port}", storage, process, log)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited {process.returncode}: {log.read_text()}")
        try:
            with contextlib.closing(urllib.request.urlopen(f"http://{server.host}/v2/", timeout=1)):
                return server
        except urllib.error.HTTPError as exc:
            if exc.code == 401:  # auth-protected registry: it answers
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(
                f"docker-registry did not answer on {server.host}: {log.read_text()}"
            )
        time.sleep(0.05)
