"""The library user's first steps: the wheel a release builds, installed in a fresh venv.

The wheel is built from the repository as a release builds it (source archive, then a
wheel from that archive), checked for its package data and entry points, installed
(not editable) in a virtualenv outside the repository, and its ``sentiment-pipeline``
command run from a directory that is not the repository, with relative paths, the way
the README tells a user to. Needs the package registry (build requirements, dependencies).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from importlib.metadata import PathDistribution
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

pytestmark = pytest.mark.network

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))

# The acceptance point: what the installed library reads at run time.
DASHBOARD_PAGE = "sentiment_pipeline/dashboard/page.html"
CATALOG_DATA = "sentiment_pipeline/packaging/data/*.json"
SAMPLE_ARTICLES = "sentiment_pipeline/local/sample_articles.json"
BACKENDS = ("container-image", "layer", "zip-in-docker")
COMMANDS = ("targets", "verify", "build", "serve")

SETUP_TIMEOUT = 600.0  # builds and installs fetch from the registry
COMMAND_TIMEOUT = 300.0

HANDLER = "def lambda_handler(event, context):\n    return 1\n"

# What the installed library does on import and first use, printed as JSON.
PROBE = """\
import json, sentiment_pipeline, sentiment_pipeline.backends as backends
from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.backend import installed_backends, load_backend
from sentiment_pipeline.dashboard.app import page
from sentiment_pipeline.local.sample import sample_articles
print(json.dumps({
    "files": [sentiment_pipeline.__file__, backends.__file__],
    "backends": {name: load_backend(name).name for name in installed_backends()},
    "page": page()[:15].lower(),
    "articles": len(sample_articles()),
    "target": get_target("python3.13", "arm64").runtime,
}))
"""


def transcript(args: Sequence[str], code: int | str, stdout: object, stderr: object) -> str:
    def text(stream: object) -> str:
        # TimeoutExpired carries bytes even when the run asked for text.
        return stream.decode(errors="replace") if isinstance(stream, bytes) else str(stream or "")

    return f"$ {' '.join(args)}  -> {code}\n--- stdout\n{text(stdout)}\n--- stderr\n{text(stderr)}"


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return transcript(proc.args, proc.returncode, proc.stdout, proc.stderr)


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    args = [str(part) for part in command]
    try:
        return subprocess.run(
            args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(transcript(args, f"timed out after {timeout:.0f} s", exc.stdout, exc.stderr))


def succeed(command: Sequence[str | Path], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = run(command, cwd=cwd, timeout=SETUP_TIMEOUT)
    assert proc.returncode == 0, explain(proc)
    return proc


def uv_binary() -> str | None:
    """uv is a dependency of the package, so the test environment has it (or it is on PATH)."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def outside_repo(path: Path) -> Path:
    assert not path.resolve().is_relative_to(REPO), f"{path} is inside the repository"
    return path


@dataclass(frozen=True)
class Installed:
    """A virtualenv holding only the wheel and its dependencies, and a user's environment."""

    venv: Path
    env: Mapping[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def cli(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return run([self.venv / "bin" / "sentiment-pipeline", *args], cwd=cwd, env=self.env)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built like a release: the source archive first, then the wheel from it.

    Building from the archive also proves the archive carries the package data, and keeps
    setuptools' ``build/`` (where stale files outlive their sources) out of the repository.
    """
    out = tmp_path_factory.mktemp("wheel")
    uv = uv_binary()
    if uv is not None:
        succeed([uv, "build", "--quiet", "--out-dir", out, REPO], cwd=out)
    else:
        succeed([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, REPO], cwd=out)
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {[w.name for w in wheels]}"
    return wheels[0]


@pytest.fixture(scope="module")
def distribution(wheel: Path) -> PathDistribution:
    """The wheel's metadata read the standard way (RECORD, entry_points.txt), unextracted."""
    with zipfile.ZipFile(wheel) as archive:
        dist_infos = {n.split("/")[0] for n in archive.namelist() if ".dist-info/" in n}
    assert len(dist_infos) == 1, f"{wheel.name}: dist-info directories {sorted(dist_infos)}"
    return PathDistribution(zipfile.Path(wheel, f"{dist_infos.pop()}/"))


@pytest.fixture(scope="module")
def wheel_files(distribution: PathDistribution) -> set[str]:
    assert distribution.files, "the wheel has no RECORD"
    return {file.as_posix() for file in distribution.files}


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = outside_repo(tmp_path_factory.mktemp("user"))
    venv = root / "venv"
    uv = uv_binary()
    if uv is not None:
        # --seed: pip, as `python -m venv` gives; the CLI runs `python -m pip` to fetch
        # the runtime SDK and source-archive build requirements.
        succeed([uv, "venv", "--quiet", "--seed", "--python", sys.executable, venv], cwd=root)
        succeed(
            [uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel], cwd=root
        )
    else:
        succeed([sys.executable, "-m", "venv", venv], cwd=root)
        succeed([venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel], cwd=root)
    # A user's shell with the venv activated: nothing of the test environment or the
    # repository on the paths, and an empty cache as on a new machine.
    ours = sysconfig.get_path("scripts")
    path = [str(venv / "bin"), *(p for p in os.environ["PATH"].split(os.pathsep) if p != ours)]
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}},
        "PATH": os.pathsep.join(path),
        "VIRTUAL_ENV": str(venv),
        "SENTIMENT_PIPELINE_CACHE": str(root / "cache"),
    }
    return Installed(venv, env)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return outside_repo(tmp_path)


def package_data_globs() -> list[tuple[str, str]]:
    """(package directory, glob) of ``[tool.setuptools.package-data]``."""
    declared = PYPROJECT["tool"]["setuptools"]["package-data"]
    return [
        (package.replace(".", "/"), glob) for package, globs in declared.items() for glob in globs
    ]


def test_wheel_holds_every_file_the_package_data_globs_match(wheel_files: set[str]) -> None:
    missing: list[str] = []
    for folder, glob in package_data_globs():
        matched = [p for p in (REPO / folder).glob(glob) if p.is_file()]
        assert matched, f"pyproject.toml package-data {folder}: {glob!r} matches no file"
        missing += [p.relative_to(REPO).as_posix() for p in matched]
    assert sorted(set(missing) - wheel_files) == []


def test_wheel_holds_the_dashboard_page_catalog_data_and_sample_articles(
    wheel_files: set[str],
) -> None:
    assert DASHBOARD_PAGE in wheel_files
    assert SAMPLE_ARTICLES in wheel_files
    catalog = {p.relative_to(REPO).as_posix() for p in REPO.glob(CATALOG_DATA)}
    assert catalog, f"no {CATALOG_DATA} in the repository"
    assert {f for f in wheel_files if fnmatch(f, CATALOG_DATA)} == catalog
    assert "sentiment_pipeline/py.typed" in wheel_files


def test_every_data_file_of_the_shipped_packages_is_in_the_wheel(
    distribution: PathDistribution, wheel_files: set[str]
) -> None:
    # A data file added beside the code but not to [tool.setuptools.package-data] would
    # work from the repository and be missing for every user.
    top_level = (distribution.read_text("top_level.txt") or "").split()
    assert "sentiment_pipeline" in top_level
    data = {
        path.relative_to(REPO).as_posix()
        for top in top_level
        for path in (REPO / top).rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".pyc"}
        and not any(part == "__pycache__" or part.startswith(".") for part in path.parts)
    }
    assert sorted(data - wheel_files) == [], "add them to [tool.setuptools.package-data]"


def test_wheel_declares_the_console_script_and_every_backend(
    distribution: PathDistribution, wheel_files: set[str]
) -> None:
    points = distribution.entry_points
    scripts = {ep.name: ep.value for ep in points.select(group="console_scripts")}
    assert scripts == PYPROJECT["project"]["scripts"]
    assert scripts["sentiment-pipeline"] == "sentiment_pipeline.cli:main"
    for group, declared in PYPROJECT["project"]["entry-points"].items():
        assert {ep.name: ep.value for ep in points.select(group=group)} == declared, group
    backends = {ep.name for ep in points.select(group="sentiment_pipeline.backends")}
    assert backends >= set(BACKENDS)
    for ep in points:
        module = ep.module.replace(".", "/")
        assert {f"{module}.py", f"{module}/__init__.py"} & wheel_files, f"{ep}: module not shipped"


def test_wheel_ships_the_library_only_under_its_own_name(wheel_files: set[str]) -> None:
    # A top-level handlers/ or backends/ in site-packages would shadow a user's own
    # packages of those names (their `handlers.orders` was not found in their tests).
    tops = {name.split("/", 1)[0] for name in wheel_files if "/" in name}
    assert {top for top in tops if not top.endswith((".dist-info", ".data"))} == {
        "sentiment_pipeline"
    }
    assert "sentiment_pipeline/backends/zip_in_docker.py" in wheel_files


def test_installed_library_runs_from_the_venv_with_its_data_and_backends(
    installed: Installed, workdir: Path
) -> None:
    proc = run([installed.python, "-c", PROBE], cwd=workdir, env=installed.env)
    assert proc.returncode == 0, explain(proc)
    found = json.loads(proc.stdout)
    for file in found["files"]:
        assert Path(file).resolve().is_relative_to(installed.venv.resolve()), file
        assert not Path(file).resolve().is_relative_to(REPO), file
    assert {name: found["backends"].get(name) for name in BACKENDS} == {n: n for n in BACKENDS}
    assert found["page"] == "<!doctype html>"
    assert found["articles"] > 0
    assert found["target"] == "python3.13"


# Only this repository's pipeline (and serve, and ECR pushes) need these: extras.
PIPELINE_ONLY = ("vaderSentiment", "boto3", "botocore", "moto")


def test_the_core_requirements_leave_the_pipelines_dependencies_to_extras(
    distribution: PathDistribution,
) -> None:
    requires = distribution.requires or []
    core = {Requirement(r).name.lower() for r in requires if Requirement(r).marker is None}
    assert core.isdisjoint(name.lower() for name in PIPELINE_ONLY), sorted(core)
    assert 'vaderSentiment==3.3.2; extra == "pipeline"' in requires
    assert any(r.startswith("boto3") and 'extra == "pipeline"' in r for r in requires)
    assert any(r.startswith("moto[server]") and 'extra == "local"' in r for r in requires)


def test_the_core_install_has_no_pipeline_dependencies(installed: Installed, workdir: Path) -> None:
    probe = (
        "import importlib.util, json\n"
        f"print(json.dumps([n for n in {PIPELINE_ONLY!r} if importlib.util.find_spec(n)]))"
    )
    proc = run([installed.python, "-c", probe], cwd=workdir, env=installed.env)
    assert proc.returncode == 0, explain(proc)
    assert json.loads(proc.stdout) == [], "the core install has what only the extras need"


def test_help_lists_every_command(installed: Installed, workdir: Path) -> None:
    proc = installed.cli("--help", cwd=workdir)
    assert proc.returncode == 0, explain(proc)
    for command in COMMANDS:
        assert command in proc.stdout, explain(proc)


def test_targets_shows_python313_on_arm64(installed: Installed, workdir: Path) -> None:
    proc = installed.cli("targets", cwd=workdir)
    assert proc.returncode == 0, explain(proc)
    rows = [line.split()[:2] for line in proc.stdout.splitlines()]
    assert ["python3.13", "arm64"] in rows, explain(proc)


def write_zip(path: Path, members: Mapping[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)


def test_verify_accepts_a_good_zip_given_by_relative_path(
    installed: Installed, workdir: Path
) -> None:
    (workdir / "artifacts").mkdir()
    write_zip(workdir / "artifacts" / "good.zip", {"handler.py": HANDLER})
    proc = installed.cli("verify", "artifacts/good.zip", cwd=workdir)
    assert proc.returncode == 0, explain(proc)
    assert "no problems found" in proc.stdout, explain(proc)


def test_verify_names_handler_missing_in_a_zip_without_the_function(
    installed: Installed, workdir: Path
) -> None:
    write_zip(workdir / "broken.zip", {"handler.py": HANDLER.replace("lambda_handler", "other")})
    proc = installed.cli("verify", "broken.zip", cwd=workdir)
    assert proc.returncode == 1, explain(proc)
    assert "handler-missing" in proc.stdout, explain(proc)


def write_project(root: Path) -> None:
    """One Lambda: a handler module and one small pure-Python requirement."""
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text(f"import six\n\n\n{HANDLER}")
    (root / "lambdas.toml").write_text(
        textwrap.dedent("""\
            [defaults]
            runtime = "python3.13"
            architecture = "x86_64"

            [lambdas.hello]
            handler = "app.main.lambda_handler"
            sources = ["app"]
            requirements = ["six==1.17.0"]
            """)
    )


@pytest.mark.parametrize(
    ("cwd", "prefix"),
    [
        pytest.param("proj", "", id="from-the-project"),
        pytest.param(".", "proj/", id="from-its-parent"),
    ],
)
def test_build_with_relative_paths_writes_a_verified_zip_beside_the_manifest(
    installed: Installed, workdir: Path, cwd: str, prefix: str
) -> None:
    project = workdir / "proj"
    write_project(project)
    proc = installed.cli(
        "build",
        *("--manifest", f"{prefix}lambdas.toml", "--out", f"{prefix}dist", "--engine", "none"),
        cwd=workdir / cwd,
    )
    assert proc.returncode == 0, explain(proc)
    zips = sorted((project / "dist" / "zip-in-docker").glob("*.zip"))
    assert [z.name for z in zips] == ["hello.zip"], explain(proc)
    with zipfile.ZipFile(zips[0]) as archive:
        names = set(archive.namelist())
    assert {"app/main.py", "six.py", "six-1.17.0.dist-info/RECORD"} <= names, sorted(names)
    # The lock goes next to the manifest; nothing lands in the working directory.
    assert {p.name for p in project.iterdir()} == {"app", "dist", "lambdas.lock", "lambdas.toml"}
    assert [p.name for p in workdir.iterdir()] == ["proj"]
