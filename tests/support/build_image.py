"""A Lambda-like build image for the engine tests, made once per machine.

The Lambda base images (``public.ecr.aws/lambda/python``) cannot be pulled in
every CI sandbox, and a container cannot reach the package registries there, so
the tests make their own build image: a minimal Debian whose ``python3`` is the
target's version (Debian 13 "trixie": 3.13; Debian 12 "bookworm": 3.11), with pip,
Lambda's environment (``LAMBDA_TASK_ROOT``, ``WORKDIR /var/task``) and an
entrypoint that, like Lambda's, refuses to run a command (engines must override
it). The image is named by a hash of this recipe and kept in buildah's storage:
the first session on a machine builds it (under a minute), later ones find it.

Needs root, buildah and debootstrap (``apt-get install buildah debootstrap``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.install.engines import Buildah

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "BuildImageError",
    "debian_mirror",
    "image_name",
    "image_size",
    "lambda_like_image",
]

REPOSITORY = "localhost/sentiment-pipeline/lambda-python"
SUITES = {"3.13": "trixie", "3.11": "bookworm"}
PACKAGES = ("python3", "python3-pip")
MIRROR_ENV = "SENTIMENT_PIPELINE_DEBIAN_MIRROR"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_TIMEOUT = 1200

# Like the Lambda image's, it needs exactly one argument (the handler) and never
# runs a command: an engine that forgets to override it fails loudly.
ENTRYPOINT = """\
#!/bin/sh
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
echo "this test image has no Lambda runtime interface; cannot serve $1" 1>&2
exit 142
"""
ENV = {
    "PATH": "/var/lang/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "TZ": ":/etc/localtime",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
}
WORKDIR = "/var/task"
# Emptied after debootstrap: apt's caches and indexes, documentation and
# translations (about 150 MB of 280). With vfs storage every container start
# copies the whole image, so its size is the engine tests' main cost.
TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/info",
    "usr/share/locale",
    "usr/share/man",
    "dev",
)


class BuildImageError(RuntimeError):
    """The test build image cannot be made here; the message says what to install."""


def recipe(python: str, extra: tuple[str, ...] = ()) -> dict[str, object]:
    """Everything that decides the image's content; its hash names the image.

    ``extra``: more Debian packages (a compiler and Python's headers make an image
    that can build native source archives, like the SAM build images).
    """
    if python not in SUITES:
        raise BuildImageError(
            f"no Debian release with python{python} in this recipe; known: "
            f"{', '.join(sorted(SUITES))}"
        )
    return {
        "suite": SUITES[python],
        "variant": "minbase",
        "include": [*PACKAGES, *extra],
        "trim": list(TRIM),
        "env": ENV,
        "workdir": WORKDIR,
        "entrypoint": ENTRYPOINT,
        "python": python,
    }


def image_name(python: str, extra: tuple[str, ...] = ()) -> str:
    """``localhost/sentiment-pipeline/lambda-python:<python>[-build]-<recipe hash>``."""
    spec = recipe(python, extra)
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    if extra:  # its own family: replacing one variant's image never removes the other's
        return f"{REPOSITORY}:{python}-build-{key}"
    return f"{REPOSITORY}:{python}-{key}"


def debian_mirror() -> str:
    """``$SENTIMENT_PIPELINE_DEBIAN_MIRROR``, else the Debian mirror apt uses here."""
    explicit = os.environ.get(MIRROR_ENV)
    if explicit:
        return explicit
    apt = Path("/etc/apt")
    texts = [p.read_text(errors="replace") for p in sorted(apt.glob("sources.list.d/*.sources"))]
    texts += [p.read_text(errors="replace") for p in [apt / "sources.list"] if p.is_file()]
    texts += [p.read_text(errors="replace") for p in sorted(apt.glob("sources.list.d/*.list"))]
    for text in texts:
        # deb822 "URIs: http://..." and one-line "deb [opts] http://... suite comp".
        for uri in re.findall(r"^(?:URIs:|deb(?:\s+\[[^]]*\])?)\s+(\S+)", text, re.MULTILINE):
            if re.fullmatch(r"https?://\S+/debian/?", uri):
                return str(uri).rstrip("/")
    return DEFAULT_MIRROR


def _lock_path(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    path = Path(base) / "sentiment-pipeline" / "images" / f"{safe}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _check_prerequisites() -> None:
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    problems = []
    if missing:
        problems.append(f"{' and '.join(missing)} not on PATH")
    if os.geteuid() != 0:
        problems.append("not running as root (debootstrap and `buildah mount` need root)")
    if problems:
        raise BuildImageError(
            f"cannot build the Lambda-like test image: {'; '.join(problems)}. "
            "Run the tests as root with `apt-get install buildah debootstrap` done "
            "(.ci/run installs them)"
        )


def _run(argv: list[str], what: str, *, timeout: float = 300) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BuildImageError(f"{what} took over {timeout:.0f} s: {' '.join(argv)}") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise BuildImageError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout.strip()


def _remove_stale(buildah: Buildah, current: str) -> None:
    """Remove this Python's images of older recipes: each is about 130 MB."""
    # Same Python and same variant (with or without extra packages), another recipe hash.
    family = current.rsplit("-", 1)[0]
    listed = subprocess.run(
        buildah.command("images", "--format", "{{.Name}}:{{.Tag}}"),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    for image in listed:
        if image.rsplit("-", 1)[0] == family and image != current:
            subprocess.run(buildah.command("rmi", image), capture_output=True, check=False)


def image_size(buildah: Buildah, image: str) -> int:
    """The uncompressed size of the image's layers, in bytes."""
    manifest = json.loads(
        json.loads(_run(buildah.command("inspect", "--type", "image", image), "buildah inspect"))[
            "Manifest"
        ]
    )
    return sum(int(layer["size"]) for layer in manifest["layers"])


def lambda_like_image(python: str = "3.13", extra: tuple[str, ...] = ()) -> str:
    """The name of a Lambda-like build image with ``python3`` = Python ``python``.

    Fast when it exists in buildah's storage; otherwise built under a file lock
    so concurrent sessions build it once. Raises :class:`BuildImageError` with
    what to install when buildah, debootstrap or root are missing.
    """
    name = image_name(python, extra)
    buildah = Buildah()
    if shutil.which("buildah") is not None and buildah.has_image(name):
        return name
    _check_prerequisites()
    with _locked(_lock_path(name)):
        if buildah.has_image(name):  # another process built it while we waited
            return name
        _build(buildah, name, python, extra)
    return name


def _build(buildah: Buildah, name: str, python: str, extra: tuple[str, ...] = ()) -> None:
    spec = recipe(python, extra)
    container = "sentiment-pipeline-image-" + name.rsplit(":", 1)[1]
    # Under the lock, a container of this name is a leftover of an interrupted build.
    subprocess.run(buildah.command("rm", container), capture_output=True, check=False)
    started = time.monotonic()
    print(f"building {name} (debootstrap {spec['suite']}, once per machine)", file=sys.stderr)
    _run(buildah.command("from", "--name", container, "scratch"), "buildah from scratch")
    try:
        root = Path(_run(buildah.command("mount", container), "buildah mount"))
        # debootstrap writes straight into the container's root: no copy of the rootfs.
        with tempfile.TemporaryDirectory(prefix="sp-debootstrap-") as tmp:
            log = Path(tmp, "debootstrap.log")
            with open(log, "w") as out:
                try:
                    status = subprocess.run(
                        [
                            "debootstrap",
                            f"--variant={spec['variant']}",
                            f"--include={','.join((*PACKAGES, *extra))}",
                            str(spec["suite"]),
                            str(root),
                            debian_mirror(),
                        ],
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        timeout=DEBOOTSTRAP_TIMEOUT,
                        check=False,
                    ).returncode
                except subprocess.TimeoutExpired:
                    status = -1
            if status != 0:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                raise BuildImageError(
                    f"debootstrap {spec['suite']} from {debian_mirror()} failed (exit {status}); "
                    f"set {MIRROR_ENV} to a reachable Debian mirror if this one is not:\n{tail}"
                )
        version = _run(
            [
                "chroot",
                str(root),
                "python3",
                "-c",
                "import sys, pip; print('%d.%d' % sys.version_info[:2])",
            ],
            "checking python3 and pip in the new root",
        )
        if version != python:
            raise BuildImageError(
                f"Debian {spec['suite']} now has python{version}, not python{python}: "
                "update SUITES in tests/support/build_image.py"
            )
        for relative in TRIM:
            for entry in (root / relative).iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        for directory in ("var/task", "var/runtime", "var/lang/bin", "opt"):
            (root / directory).mkdir(parents=True, exist_ok=True)
        entrypoint = root / "lambda-entrypoint.sh"
        entrypoint.write_text(ENTRYPOINT)
        entrypoint.chmod(0o755)
        _run(buildah.command("umount", container), "buildah umount")
        config = [f"--env={key}={value}" for key, value in ENV.items()]
        config += [
            f"--workingdir={WORKDIR}",
            '--entrypoint=["/lambda-entrypoint.sh"]',
            "--cmd=",
            f"--label=org.sentiment-pipeline.recipe={name.rsplit('-', 1)[1]}",
        ]
        _run(buildah.command("config", *config, container), "buildah config")
        _run(buildah.command("commit", "--quiet", "--rm", container, name), "buildah commit")
    except BaseException:
        subprocess.run(buildah.command("rm", container), capture_output=True, check=False)
        raise
    _remove_stale(buildah, name)
    size = image_size(buildah, name)
    print(
        f"built {name} in {time.monotonic() - started:.0f} s ({size / 1e6:.0f} MB)",
        file=sys.stderr,
    )


def push_to_registry(image: str, destination: str) -> None:
    """Push ``image`` from buildah's storage to ``HOST:PORT/REPO:TAG`` on a loopback
    registry (plain HTTP), with buildah: an independent tool, not our client."""
    subprocess.run(
        [
            "buildah",
            "--storage-driver",
            "vfs",
            "push",
            "--tls-verify=false",
            "--quiet",
            image,
            f"docker://{destination}",
        ],
        check=True,
        capture_output=True,
    )
