"""The contract of :class:`~sentiment_pipeline.packaging.backend.Backend` as pytest tests.

Importing it does not import pytest; running the tests needs it.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sentiment_pipeline.packaging.backend import Backend, load_backend
from sentiment_pipeline.packaging.build import build
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.options import BuildOptions
from sentiment_pipeline.packaging.plan import plan_functions
from sentiment_pipeline.packaging.testing.project import (
    HANDLER,
    ContractProject,
    make_contract_project,
)
from sentiment_pipeline.packaging.verify.findings import ProblemCode

if TYPE_CHECKING:
    import pytest

    from sentiment_pipeline.packaging.options import EngineChoice
    from sentiment_pipeline.packaging.results import BuildResult

__all__ = ["BackendContract"]


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root``: a file's sha256, ``dir`` or ``link``."""
    found = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[name] = "link"
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class BackendContract:
    """The contract of :class:`~sentiment_pipeline.packaging.backend.Backend`, as pytest tests.

    Subclass it in a test module, named ``Test...``, and set :attr:`backend_name`
    (the entry point's name); pytest collects the ``test_*`` methods. Each builds
    in its own temporary directory, with that directory as the working directory.

    >>> class TestLayerBackend(BackendContract):
    ...     backend_name = "layer"
    ...     engine = "none"
    >>> TestLayerBackend().options(Path("/tmp/out")).backend
    'layer'
    """

    backend_name: ClassVar[str]
    """The backend under test: its entry point's name."""
    runtime: ClassVar[str] = "python3.13"
    """The runtime of the contract project."""
    architecture: ClassVar[str] = "x86_64"
    """The architecture of the contract project."""
    engine: ClassVar[EngineChoice] = "none"
    """The engine of the builds (``none``: a local cross-install, no container)."""
    build_image: str | None = None
    """The build image, when ``engine`` is a container engine."""
    base_image: str | None = None
    """The base image, for a backend that builds images."""

    def options(self, out: Path) -> BuildOptions:
        """The options of every build of the contract; override to change them."""
        return BuildOptions(
            backend=self.backend_name,
            out=out,
            engine=self.engine,
            build_image=self.build_image,
            base_image=self.base_image,
        )

    def project(self, root: Path, *, handler: str = HANDLER) -> ContractProject:
        """The contract project in ``root``, locked for the backend under test."""
        return make_contract_project(
            root,
            backend=self.backend_name,
            runtime=self.runtime,
            architecture=self.architecture,
            handler=handler,
        )

    def _build(self, project: ContractProject, out: Path) -> BuildResult:
        return build(Manifest.load(project.manifest), self.options(out))

    # --- the contract ---

    def test_the_backend_loads_under_its_entry_point_name(self) -> None:
        """The entry point loads a :class:`Backend` whose ``name`` is the entry point's."""
        backend = load_backend(self.backend_name)
        assert isinstance(backend, Backend)
        assert backend.name == self.backend_name

    def test_planning_is_pure_dependencies_first_one_artifact_per_function(
        self, tmp_path: Path
    ) -> None:
        """``artifacts()`` writes nothing and gives equal plans twice: one function artifact
        per function, in order, each after the layers it leaves out, which are built for
        its target (a layer listed by Lambdas of two targets is planned once per target);
        output names distinct and relative."""
        other = "arm64" if self.architecture == "x86_64" else "x86_64"
        manifest = Manifest.parse(
            textwrap.dedent(f"""\
                [defaults]
                runtime = "{self.runtime}"
                architecture = "{self.architecture}"
                [layers.common]
                requirements = ["sp-contract-shared==1.0"]
                [layers.extra]
                requirements = ["sp-contract-own==1.0"]
                [lambdas.api]
                handler = "app.main.lambda_handler"
                layers = ["common", "extra"]
                [lambdas.worker]
                handler = "app.worker.lambda_handler"
                [lambdas.cron]
                handler = "app.cron.lambda_handler"
                layers = ["common"]
                [lambdas.elsewhere]
                handler = "app.cron.lambda_handler"
                architecture = "{other}"
                layers = ["common"]
                """),
            path=tmp_path / "lambdas.toml",
            check_paths=False,
        )
        functions = plan_functions(manifest, backend=self.backend_name)
        backend = load_backend(self.backend_name)
        artifacts = backend.artifacts(functions)
        assert backend.artifacts(functions) == artifacts, "artifacts() must be pure"
        assert list(tmp_path.iterdir()) == [], "artifacts() must not write files"
        made = [a.function for a in artifacts if a.kind == "function"]
        assert made == functions, "one function artifact per function, in their order"
        for index, artifact in enumerate(artifacts):
            assert artifact.target == artifact.subject.target
            earlier = {a.key for a in artifacts[:index] if a.kind == "layer"}
            for layer in artifact.provided_by_layers:
                assert layer.key in earlier, f"{artifact.key} comes before its layer {layer.key}"
                assert layer.target == artifact.target, f"{artifact.key} gets {layer.key}"
        names = [backend.output_name(a) for a in artifacts]
        assert len(set(names)) == len(names), f"output names must differ: {names}"
        for name in names:
            path = Path(name)
            assert not path.is_absolute() and ".." not in path.parts, name

    def test_every_artifact_is_verified_in_place_and_reported(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every planned artifact builds, passes verification and is at
        ``<out>/<backend>/<output_name>``, named in ``report.json``; a zip holds the
        function's sources and the file count and size ``assemble`` reported."""
        monkeypatch.chdir(tmp_path)
        project = self.project(tmp_path / "project")
        out = tmp_path / "out"
        result = self._build(project, out)
        assert result.ok, [(a.name, a.problems, a.notes) for a in result.artifacts]
        backend = load_backend(self.backend_name)
        report_path = out / self.backend_name / "report.json"
        assert result.reports == (report_path,)
        report = json.loads(report_path.read_text())
        assert [a["name"] for a in report["artifacts"]] == [a.name for a in result.artifacts]
        planned = backend.artifacts(plan_functions(Manifest.load(project.manifest)))
        assert [(a.kind, a.name) for a in result.artifacts] == [(p.kind, p.label) for p in planned]
        for artifact, plan in zip(result.artifacts, planned, strict=True):
            path = Path(artifact.path)
            assert path == out / self.backend_name / backend.output_name(plan)
            assert path.exists(), f"{artifact.name}: nothing at {path}"
            if artifact.kind == "function":
                assert "imported app.main.lambda_handler" in artifact.dynamic or (
                    "skipped" in artifact.dynamic
                ), artifact.dynamic
            if path.is_file() and zipfile.is_zipfile(path):
                self._check_zip(artifact.kind, path, artifact.files, artifact.unzipped, project)

    @staticmethod
    def _check_zip(
        kind: str, path: Path, files: int, unzipped: int, project: ContractProject
    ) -> None:
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None, f"{path}: a damaged member"
            infos = [info for info in archive.infolist() if not info.is_dir()]
        names = {info.filename for info in infos}
        if kind == "function":
            missing = sorted(set(project.sources) - names)
            assert missing == [], f"{path.name} lacks sources: {missing}"
        assert files == len(infos), f"{path.name}: reported {files} files, holds {len(infos)}"
        size = sum(info.file_size for info in infos)
        assert unzipped == size, f"{path.name}: reported {unzipped} bytes unzipped, holds {size}"

    def test_the_same_inputs_give_the_same_bytes(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two builds of the same project give artifacts with the same digests."""
        monkeypatch.chdir(tmp_path)
        project = self.project(tmp_path / "project")
        first = self._build(project, tmp_path / "a")
        second = self._build(project, tmp_path / "b")
        assert first.ok, [(a.name, a.problems) for a in first.artifacts]
        assert not any(a.cache_hit for a in second.artifacts)
        identities = [(a.name, a.sha256) for a in first.artifacts]
        assert identities == [(a.name, a.sha256) for a in second.artifacts]
        assert all(sha for _, sha in identities)

    def test_a_build_writes_its_artifacts_and_report_and_nothing_else(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Nothing changes in the project, the working directory or the output folder but
        the artifacts, the report and the lock file."""
        monkeypatch.chdir(tmp_path)
        project = self.project(tmp_path / "project")
        out = tmp_path / "out"
        before = _snapshot(tmp_path)
        result = self._build(project, out)
        assert result.ok, [(a.name, a.problems) for a in result.artifacts]
        produced = [Path(a.path).relative_to(tmp_path).as_posix() for a in result.artifacts] + [
            report.relative_to(tmp_path).as_posix() for report in result.reports
        ]
        lock = project.lock.relative_to(tmp_path).as_posix()

        def expected(name: str) -> bool:
            # The artifacts, the report, the folders holding them, and the lock (image
            # backends pin their base images' digests in it).
            return (
                name == lock
                or any(name == p or name.startswith(f"{p}/") for p in produced)
                or any(p.startswith(f"{name}/") for p in produced)
            )

        after = _snapshot(tmp_path)
        changed = sorted(
            name
            for name in set(before) | set(after)
            if before.get(name) != after.get(name) and not expected(name)
        )
        assert changed == [], f"written, changed or removed outside the artifacts: {changed}"

    def test_a_failed_verification_leaves_no_artifact(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A function whose handler is missing fails verification (``handler-missing``) and
        leaves nothing at its path, and no partial file, behind."""
        monkeypatch.chdir(tmp_path)
        project = self.project(tmp_path / "project", handler="app.main.missing")
        out = tmp_path / "out"
        result = self._build(project, out)
        functions = [a for a in result.artifacts if a.kind == "function"]
        assert functions and not any(a.ok for a in functions)
        for artifact in functions:
            assert not Path(artifact.path).exists(), f"{artifact.path} was written"
            assert {p.code for p in artifact.problems} == {ProblemCode.HANDLER_MISSING}
        leftovers = sorted(
            p.relative_to(out).as_posix()
            for p in out.rglob("*")
            if not any(Path(a.path) == p or Path(a.path) in p.parents for a in result.artifacts)
            and p.name != "report.json"
            and p.is_file()
        )
        assert leftovers == [], f"left behind: {leftovers}"
