"""The shipped backend contract (sentiment_pipeline.packaging.testing), run against every
registered backend, and shown to fail backends that break it.

The contract itself is in the package, for third-party backends to run the same way:
a ``BackendContract`` subclass with ``backend_name`` set.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest
from stevedore import ExtensionManager

from sentiment_pipeline.packaging.backend import installed_backends
from sentiment_pipeline.packaging.testing import BackendContract

if TYPE_CHECKING:
    from pathlib import Path

pytest_plugins = ["pytester"]

BACKENDS = installed_backends()


def test_the_products_backends_are_registered() -> None:
    assert {"container-image", "layer", "zip-in-docker"} <= set(BACKENDS)


class _RepositoryContract(BackendContract):
    """The shipped contract, with this repository's base image for the image backend."""

    @pytest.fixture(autouse=True)
    def _pullable_base_image(self, request: pytest.FixtureRequest) -> None:
        # The default base image is on public.ecr.aws; the tests' registry on
        # 127.0.0.1 holds a Lambda-like one.
        if self.backend_name == "container-image":
            self.base_image = request.getfixturevalue("base_image")


# One test class per registered backend (third-party ones installed here included).
for _name in BACKENDS:
    _class_name = "TestContract_" + _name.replace("-", "_")
    globals()[_class_name] = type(_class_name, (_RepositoryContract,), {"backend_name": _name})


def test_importing_the_contract_does_not_import_pytest() -> None:
    code = "import sys, sentiment_pipeline.packaging.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Third-party backends as a user's package would ship them: one keeps the contract,
# two break it in the ways it exists to catch.
PLUGINS = '''\
import zipfile

from sentiment_pipeline.backends.zip_in_docker import ZipInDocker


class Faithful(ZipInDocker):
    name = "faithful"


class LeavesAFileOut(ZipInDocker):
    """Drops a file that its distribution's RECORD lists (the preprod incident's shape)."""

    name = "leaves-a-file-out"

    def assemble(self, artifact, wheels, dest, ctx):
        result = super().assemble(artifact, wheels, dest, ctx)
        full = dest.with_name(dest.name + ".full")
        dest.rename(full)
        with zipfile.ZipFile(full) as src, zipfile.ZipFile(dest, "w") as out:
            for info in src.infolist():
                if info.filename != "sp_contract_own/__init__.py":
                    out.writestr(info, src.read(info))
        full.unlink()
        return result


class WritesOutside(ZipInDocker):
    """Leaves a log beside its artifact, in the output folder."""

    name = "writes-outside"

    def assemble(self, artifact, wheels, dest, ctx):
        (dest.parent / "assemble.log").write_text("assembled\\n")
        return super().assemble(artifact, wheels, dest, ctx)
'''

SUITE = """\
from sentiment_pipeline.packaging.testing import BackendContract


class TestThirdParty(BackendContract):
    backend_name = "{name}"
"""


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A distribution on sys.path registering the three backends by entry points."""
    site = tmp_path / "site"
    dist_info = site / "contract_plugins-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (site / "contract_plugins.py").write_text(PLUGINS)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: contract-plugins\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        textwrap.dedent("""\
            [sentiment_pipeline.backends]
            faithful = contract_plugins:Faithful
            leaves-a-file-out = contract_plugins:LeavesAFileOut
            writes-outside = contract_plugins:WritesOutside
            """)
    )
    monkeypatch.syspath_prepend(str(site))
    # stevedore memoizes entry points per process; a real install is seen by the next one.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    return site


def run_contract(pytester: pytest.Pytester, name: str) -> pytest.RunResult:
    pytester.makepyfile(test_third_party=SUITE.format(name=name))
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rA")


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Each contract test's outcome, from the summary lines ``-rA`` prints."""
    found = {}
    for line in result.outlines:
        match = re.match(r"(PASSED|FAILED|ERROR|SKIPPED) \S+::(test_\w+)", line)
        if match:
            found[match[2]] = match[1].lower()
    return found


CONTRACT = sorted(name for name in dir(BackendContract) if name.startswith("test_"))


def test_a_third_party_backend_that_keeps_the_contract_passes_it_in_two_lines(
    plugins: Path, pytester: pytest.Pytester
) -> None:
    result = run_contract(pytester, "faithful")
    assert outcomes(result) == dict.fromkeys(CONTRACT, "passed")


def test_a_backend_that_leaves_a_recorded_file_out_fails_the_contract(
    plugins: Path, pytester: pytest.Pytester
) -> None:
    result = run_contract(pytester, "leaves-a-file-out")
    failed = sorted(name for name, outcome in outcomes(result).items() if outcome == "failed")
    assert failed == [
        "test_a_build_writes_its_artifacts_and_report_and_nothing_else",
        "test_a_failed_verification_leaves_no_artifact",
        "test_every_artifact_is_verified_in_place_and_reported",
        "test_the_same_inputs_give_the_same_bytes",
    ]
    result.stdout.fnmatch_lines(["*missing-file*sp_contract_own/__init__.py*"])


def test_a_backend_that_writes_outside_its_destination_fails_the_contract(
    plugins: Path, pytester: pytest.Pytester
) -> None:
    result = run_contract(pytester, "writes-outside")
    failed = sorted(name for name, outcome in outcomes(result).items() if outcome == "failed")
    assert failed == [
        "test_a_build_writes_its_artifacts_and_report_and_nothing_else",
        "test_a_failed_verification_leaves_no_artifact",
    ]
    result.stdout.fnmatch_lines(["*outside the artifacts: *'out/writes-outside/assemble.log'*"])
