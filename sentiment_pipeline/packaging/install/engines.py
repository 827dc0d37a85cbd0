"""Container engines: run a command in a throwaway container of an image, offline.

The ``zip-in-docker`` path needs what a cross-install cannot give: ``.pyc``
compiled by the runtime's interpreter, and native builds against its libraries.
An :class:`Engine` runs a command in a throwaway container of a build image (by
default the Lambda base image of the target) with host directories mounted;
what runs there (installing wheels, building one) is
:mod:`sentiment_pipeline.packaging.install.containersteps`.

Three engines: docker (daemon), podman and buildah (daemonless; buildah runs
with ``--isolation chroot`` and the storage driver of
``$SENTIMENT_PIPELINE_BUILDAH_STORAGE``, ``vfs`` by default, so it works as root
in an unprivileged container where neither overlay nor runc are available).

>>> detect("auto").run("public.ecr.aws/lambda/python:3.13", ["python3", "-V"])  # doctest: +SKIP
CompletedProcess(args=[...], returncode=0, stdout='Python 3.13.5\\n', stderr='')
"""

from __future__ import annotations

import abc
import contextlib
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sentiment_pipeline.errors import PipelineError, one_line
from sentiment_pipeline.packaging.sandbox.paths import RUNTIME_BIN

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "ENGINES",
    "WITHOUT_ENGINE",
    "Buildah",
    "Docker",
    "Engine",
    "EngineError",
    "Podman",
    "detect",
]

STORAGE_ENV = "SENTIMENT_PIPELINE_BUILDAH_STORAGE"
"""Buildah's storage driver (``vfs`` by default; empty: buildah's configured default)."""

_PROBE_TIMEOUT = 20.0
# Image references read from local files rather than a registry (containers/image transports).
_LOCAL_TRANSPORTS = ("oci:", "oci-archive:", "docker-archive:", "dir:")
_CLEANUP_TIMEOUT = 120.0
# Inside the container: PATH of the Lambda base images (/var/lang/bin first) plus the
# usual directories, so ``python3`` is the runtime's interpreter in either kind of image.
_PATH = f"{RUNTIME_BIN}:/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"


WITHOUT_ENGINE = (
    "or build without one: --engine none (a local cross-install; .pyc compiled by a "
    "Python of the target's version on this machine when there is one), or give an "
    "image this machine has or can pull with --build-image"
)
"""What every failure the engine, its daemon or a registry caused adds to its fix."""


class EngineError(PipelineError, RuntimeError):
    """A container engine that is missing, or a container step that failed.

    ``output`` keeps the engine's full stderr; the message carries its tail.

    >>> raise EngineError("buildah", "pip exited 1", output="ERROR: Wheel 'x' is invalid",
    ...                   fix="rebuild the wheel")
    Traceback (most recent call last):
    ...
    sentiment_pipeline.packaging.install.engines.EngineError: buildah: pip exited 1: ...
    """

    def __init__(self, engine: str, problem: str, *, output: str = "", fix: str = "") -> None:
        self.engine = engine
        self.problem = problem
        self.output = output
        self.fix = fix
        tail = _tail(output).rstrip(".")
        message = f"{engine}: {problem}" + (f": {tail}" if tail else "")
        super().__init__(one_line(message + (f"; {fix}" if fix else "")))


def _tail(output: str, lines: int = 4, limit: int = 1500) -> str:
    """The lines of a tool's stderr worth showing: its ERROR lines, else the last few."""
    text = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in text if line.startswith(("ERROR", "Error", "error"))]
    shown = " | ".join((errors or text)[-lines:])
    return shown if len(shown) <= limit else "..." + shown[-limit:]


def _execute(argv: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``argv``; on timeout kill its whole process group, then raise TimeoutExpired."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # the engine's children are killed with it
        )
    except OSError as exc:
        raise EngineError(argv[0], f"cannot run {argv[0]} ({exc})") from exc
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise subprocess.TimeoutExpired(list(argv), timeout, stdout, stderr) from None
    return subprocess.CompletedProcess(list(argv), proc.returncode, stdout, stderr)


def _check_mount_path(engine: str, path: str) -> None:
    # -v host:container:ro splits on ':'; --mount splits on ','.
    if ":" in path or "," in path:
        raise EngineError(
            engine,
            f"cannot mount {path!r}",
            fix="paths given to a container engine must not contain ':' or ','; "
            "move the project or set TMPDIR to a plain path",
        )


class Engine(abc.ABC):
    """A container engine: runs commands in throwaway containers of an image.

    Subclasses implement :meth:`run`, :meth:`has_image` and :meth:`_probe`.
    """

    name: ClassVar[str]
    binary: ClassVar[str]
    install_hint: ClassVar[str]
    container_prefix: str = "sentiment-pipeline-"
    """Names of the containers this engine makes start with it (to find leftovers)."""

    def _container_name(self) -> str:
        return f"{self.container_prefix}{uuid.uuid4().hex[:12]}"

    @classmethod
    def available(cls) -> bool:
        """Whether the engine's binary is on PATH and works (a daemon, if any, answers)."""
        return cls.unavailable_reason() is None

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why the engine cannot be used here, or None if it can."""
        if shutil.which(cls.binary) is None:
            return f"{cls.binary} is not on PATH"
        try:
            proc = _execute(cls._probe(), timeout=_PROBE_TIMEOUT)
        except (EngineError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if proc.returncode != 0:
            return f"`{shlex.join(cls._probe())}` exited {proc.returncode}: {_tail(proc.stderr)}"
        return None

    @classmethod
    @abc.abstractmethod
    def _probe(cls) -> list[str]:
        """A cheap command that succeeds only if the engine is usable."""

    @abc.abstractmethod
    def has_image(self, image: str) -> bool:
        """Whether ``image`` is in the engine's local storage (no pull)."""

    @abc.abstractmethod
    def run(
        self,
        image: str,
        argv: Sequence[str],
        *,
        mounts: Sequence[tuple[Path, str, bool]] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in a throwaway container of ``image``; the container is removed after.

        ``mounts`` are ``(host path, container path, read_only)``. ``argv[0]`` is
        looked up on the image's PATH, ignoring its entrypoint. A non-zero exit of
        the command is returned, not raised; :class:`EngineError` means the engine
        itself failed (image missing, cannot start), and ``subprocess.TimeoutExpired``
        that ``timeout`` passed (the container is killed).

        >>> Buildah().run("localhost/img", ["python3", "-V"]).stdout  # doctest: +SKIP
        'Python 3.13.5\\n'
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _env_args(flag: str, env: Mapping[str, str] | None) -> list[str]:
    merged = {"PATH": _PATH, **(env or {})}
    return [arg for key, value in merged.items() for arg in (flag, f"{key}={value}")]


class _DaemonEngine(Engine):
    """docker and podman share the ``run --rm`` command line."""

    def _user_args(self) -> list[str]:
        return []

    def has_image(self, image: str) -> bool:
        try:
            proc = _execute(
                [self.binary, "image", "inspect", "--format", "{{.Id}}", image],
                timeout=_PROBE_TIMEOUT,
            )
        except subprocess.TimeoutExpired as exc:
            raise EngineError(
                self.name,
                f"`{self.binary} image inspect` hung",
                fix=f"is the daemon up? {WITHOUT_ENGINE}",
            ) from exc
        return proc.returncode == 0

    def run_command(
        self,
        image: str,
        argv: Sequence[str],
        *,
        name: str,
        mounts: Sequence[tuple[Path, str, bool]] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> list[str]:
        """The ``run`` command line (no network, entrypoint overridden, invoking user)."""
        if not argv:
            raise EngineError(self.name, "nothing to run", fix="pass a command")
        command = [self.binary, "run", "--rm", "--name", name, "--network", "none"]
        command += self._user_args()
        command += ["--entrypoint", argv[0]]  # the Lambda images' /lambda-entrypoint.sh
        for host, inside, read_only in mounts:
            _check_mount_path(self.name, str(host))
            options = ":ro" if read_only else ""
            command += ["-v", f"{Path(host).resolve()}:{inside}{options}"]
        command += _env_args("-e", env)
        if cwd:
            command += ["-w", cwd]
        return [*command, image, *argv[1:]]

    def run(
        self,
        image: str,
        argv: Sequence[str],
        *,
        mounts: Sequence[tuple[Path, str, bool]] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        name = self._container_name()
        command = self.run_command(image, argv, name=name, mounts=mounts, env=env, cwd=cwd)
        try:
            proc = _execute(command, timeout=timeout)
        except subprocess.TimeoutExpired:
            # --rm removes the container only when it stops; killing the client does not.
            _execute([self.binary, "rm", "--force", name], timeout=_CLEANUP_TIMEOUT)
            raise
        if proc.returncode == 125:  # docker's and podman's own failures, not the command's
            raise EngineError(
                self.name,
                f"cannot run {argv[0]} in {image}",
                output=proc.stderr,
                fix=f"check the image name, or pull it first (`{self.binary} pull {image}`), "
                + WITHOUT_ENGINE,
            )
        return proc


class Docker(_DaemonEngine):
    """``docker run --rm --network none --user UID:GID``; needs a reachable daemon."""

    name = "docker"
    binary = "docker"
    install_hint = (
        "install Docker Engine (https://docs.docker.com/engine/install/) and start the "
        "daemon, or use --engine podman|buildah"
    )

    @classmethod
    def _probe(cls) -> list[str]:
        return ["docker", "info", "--format", "{{json .SecurityOptions}}"]

    @functools.cached_property
    def _rootless(self) -> bool:
        try:
            proc = _execute(self._probe(), timeout=_PROBE_TIMEOUT)
        except (EngineError, subprocess.TimeoutExpired):
            return False  # `run` will fail with docker's own message
        return "rootless" in proc.stdout

    def _user_args(self) -> list[str]:
        # Rootless docker already maps the container's root to the invoking user.
        if self._rootless or not hasattr(os, "getuid"):
            return []
        return ["--user", f"{os.getuid()}:{os.getgid()}"]


class Podman(_DaemonEngine):
    """``podman run --rm --network none``; rootless keeps the invoking user's id."""

    name = "podman"
    binary = "podman"
    install_hint = (
        "install podman (apt-get install podman; https://podman.io/docs/installation), "
        "or use --engine docker|buildah"
    )

    @classmethod
    def _probe(cls) -> list[str]:
        return ["podman", "version", "--format", "{{.Client.Version}}"]

    def _user_args(self) -> list[str]:
        # Rootless: files written by the container's root would belong to a sub-uid.
        return ["--userns=keep-id"] if hasattr(os, "geteuid") and os.geteuid() != 0 else []


class Buildah(Engine):
    """``buildah from`` + ``buildah run --isolation chroot`` + ``buildah rm``; no daemon.

    Chroot isolation shares the host's network (buildah refuses ``--network none``
    with it): the install stays offline because pip runs with ``--no-index``.
    """

    name = "buildah"
    binary = "buildah"
    install_hint = (
        "install buildah (apt-get install buildah; https://buildah.io), "
        "or use --engine docker|podman"
    )

    def __init__(self, storage_driver: str | None = None) -> None:
        self.storage_driver = (
            storage_driver if storage_driver is not None else os.environ.get(STORAGE_ENV, "vfs")
        )

    @classmethod
    def _probe(cls) -> list[str]:
        return ["buildah", "version"]

    def command(self, *args: str) -> list[str]:
        """``buildah [--storage-driver D] args...``."""
        driver = ["--storage-driver", self.storage_driver] if self.storage_driver else []
        return [self.binary, *driver, *args]

    def has_image(self, image: str) -> bool:
        proc = _execute(self.command("inspect", "--type", "image", image), timeout=_PROBE_TIMEOUT)
        return proc.returncode == 0

    def run(
        self,
        image: str,
        argv: Sequence[str],
        *,
        mounts: Sequence[tuple[Path, str, bool]] = (),
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        if not argv:
            raise EngineError(self.name, "nothing to run", fix="pass a command")
        volumes: list[str] = []
        for host, inside, read_only in mounts:
            _check_mount_path(self.name, str(host))
            volumes += ["-v", f"{Path(host).resolve()}:{inside}:{'ro' if read_only else 'rw'}"]
        name = self._container_name()
        # localhost/ names are local builds: trying to pull them only costs retries.
        pull = "--pull=never" if image.startswith("localhost/") else "--pull=missing"
        made = _execute(
            self.command("from", "--quiet", pull, "--name", name, image),
            timeout=max(timeout, _CLEANUP_TIMEOUT),
        )
        if made.returncode != 0:
            how = (
                "build it first (localhost/ images are never pulled)"
                if pull == "--pull=never"
                else f"pull it first (`{shlex.join(self.command('pull', image))}`)"
            )
            raise EngineError(
                self.name,
                f"cannot create a container of {image}",
                output=made.stderr,
                fix=f"check the image name and the storage driver (${STORAGE_ENV}), or {how}; "
                + WITHOUT_ENGINE,
            )
        # An image read from local files (an artifact's OCI layout, an archive) is copied
        # into buildah's storage by `from`: it is removed with the container, so no
        # build leaves one behind. Registry images stay: they are the pull cache.
        stored = None
        if image.startswith(_LOCAL_TRANSPORTS):
            found = _execute(
                self.command("inspect", "--type", "container", "--format", "{{.FromImage}}", name),
                timeout=_PROBE_TIMEOUT,
            )
            stored = found.stdout.strip() if found.returncode == 0 else None
        try:
            command = self.command("run", "--isolation", "chroot", *volumes)
            command += _env_args("--env", env)
            if cwd:
                command += ["--workingdir", cwd]
            proc = _execute([*command, name, "--", *argv], timeout=timeout)
        finally:
            _execute(self.command("rm", name), timeout=_CLEANUP_TIMEOUT)
            if stored:
                _execute(self.command("rmi", stored), timeout=_CLEANUP_TIMEOUT)
        if proc.returncode:
            # buildah appends its own account of the exit status to the command's stderr.
            trailer = re.compile(
                rf"(?:subprocess exited with status {proc.returncode}\n)*"
                rf"(?:Error: exit status {proc.returncode}\n)?\Z"
            )
            proc.stderr = trailer.sub("", proc.stderr)
        return proc


ENGINES: tuple[type[Engine], ...] = (Docker, Podman, Buildah)
"""Engines in the order ``auto`` tries them."""


def detect(name: str = "auto") -> Engine | None:
    """The engine called ``name``; ``"auto"``: the first available, else None; ``"none"``: None.

    Raises :class:`EngineError` for an unknown name, or a named engine that
    cannot be used here (with how to install it).

    >>> detect("none") is None
    True
    """
    if name == "none":
        return None
    if name == "auto":
        for cls in ENGINES:
            if cls.available():
                return cls()
        return None
    for cls in ENGINES:
        if cls.name == name:
            reason = cls.unavailable_reason()
            if reason is not None:
                raise EngineError(
                    name, f"not available ({reason})", fix=f"{cls.install_hint}, {WITHOUT_ENGINE}"
                )
            return cls()
    choices = ", ".join(["auto", *(cls.name for cls in ENGINES), "none"])
    raise EngineError("--engine", f"unknown engine {name!r}", fix=f"choose one of {choices}")
