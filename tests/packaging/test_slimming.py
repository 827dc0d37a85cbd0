"""Slimming rules, RECORD rewriting and strip, on names and on real numpy wheels."""

from __future__ import annotations

import csv
import platform
import shutil
import subprocess
import zipfile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.install import install_wheels
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.slimming import (
    SlimPolicy,
    loaded_image,
    record_hash,
    rewrite_record,
    slim_distribution,
    slim_reason,
    slim_tree,
    strip_elf,
)
from sentiment_pipeline.packaging.verify import verify
from tests.support.wheelhouse import fetch

if TYPE_CHECKING:
    from pathlib import Path

TAG = "cpython-312"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("numpy/_core/tests/test_umath.py", "tests"),
        ("pandas/tests/io/sas/data/DEMO_G.xpt", "tests"),
        ("numpy/random/tests/data/mt19937-testset-1.csv", "tests"),
        ("somepkg/test/test_api.py", "tests"),
        ("numpy/__init__.pyi", "stubs"),
        ("numpy/_core/include/numpy/ndarrayobject.h", "sources"),
        ("pandas/_libs/tslibs/offsets.pyx", "sources"),
        ("pandas/_libs/tslibs/offsets.pxd", "sources"),
        ("numpy/random/_examples/cython/extending.pyx", "sources"),
        ("somepkg/src/kernel.cpp", "sources"),
        ("somepkg/docs/index.html", "docs"),
        ("somepkg/README.rst", "docs"),
        ("six/__pycache__/six.cpython-311.pyc", "bytecode"),
        ("six/__pycache__/six.cpython-311.opt-1.pyc", "bytecode"),
    ],
)
def test_what_lambda_never_reads_is_removed_with_its_reason(path: str, reason: str) -> None:
    assert slim_reason(path, cache_tag=TAG) == reason


@pytest.mark.parametrize(
    "path",
    [
        "numpy/testing/__init__.py",  # public API: numpy.testing.assert_allclose
        "numpy/testing/_private/utils.py",
        "pandas/_testing/__init__.py",
        "pandas/testing.py",
        "numpy/__init__.py",
        "numpy-2.1.3.dist-info/RECORD",
        "numpy-2.1.3.dist-info/LICENSE.txt",
        "pandas-2.2.3.dist-info/METADATA",
        "somepkg/tests/LICENSE",  # licences stay wherever they are
        "somepkg/LICENSES/BSD-3-Clause.txt",
        "somepkg/COPYING.md",
        "six/__pycache__/six.cpython-312.pyc",  # the target's own bytecode
        "numpy/_core/_multiarray_umath.cpython-312-aarch64-linux-gnu.so",
        "certifi/cacert.pem",
        "pkg/py.typed",
    ],
)
def test_code_data_licences_and_metadata_stay(path: str) -> None:
    assert slim_reason(path, cache_tag=TAG) is None


def test_a_test_package_imported_by_a_kept_module_stays_its_stubs_do_not() -> None:
    files = {
        "pkg/__init__.py": "from pkg.tests.fixtures import make\n",
        "pkg/tests/__init__.py": "",
        "pkg/tests/fixtures.py": "def make(): ...\n",
        "pkg/tests/fixtures.pyi": "def make() -> None: ...\n",
        "other/__init__.py": "from . import helpers\n",
        "other/helpers.py": "from .tests import data\n",
        "other/tests/data.py": "",
        "third/__init__.py": "import os\n",
        "fourth/__init__.py": "from fourth import tests as _t\n",
        "fourth/tests/__init__.py": "",
        "third/tests/test_x.py": "import third\n",
    }
    slimmed = slim_distribution(
        {p: len(t) for p, t in files.items()}, files.__getitem__, cache_tag=TAG
    )
    assert slimmed.kept_suites == ("fourth/tests", "other/tests", "pkg/tests")
    assert slimmed.removed == {
        "pkg/tests/fixtures.pyi": "stubs",
        "third/tests/test_x.py": "tests",
    }


def test_a_mention_in_a_comment_or_string_is_not_an_import() -> None:
    files = {
        "pkg/__init__.py": '"""Run pkg.tests with pytest."""\n# see pkg.tests\n',
        "pkg/tests/test_a.py": "",
    }
    slimmed = slim_distribution(
        {p: len(t) for p, t in files.items()}, files.__getitem__, cache_tag=TAG
    )
    assert slimmed.removed == {"pkg/tests/test_a.py": "tests"}


def test_record_loses_removed_rows_and_rehashes_changed_files() -> None:
    record = (
        "pkg/__init__.py,sha256=AAAA,10\n"
        "pkg/tests/test_a.py,sha256=BBBB,20\n"
        "pkg/_ext.so,sha256=CCCC,300\n"
        "pkg-1.0.dist-info/RECORD,,\n"
    )
    out = rewrite_record(record, ["pkg/tests/test_a.py"], {"pkg/_ext.so": b"stripped"})
    rows = list(csv.reader(out.splitlines()))
    assert rows == [
        ["pkg/__init__.py", "sha256=AAAA", "10"],
        ["pkg/_ext.so", record_hash(b"stripped"), "8"],
        ["pkg-1.0.dist-info/RECORD", "", ""],
    ]


@pytest.fixture(scope="module")
def numpy_py311_x86_64() -> Path:
    (wheel,) = fetch(("numpy==2.1.3",), python="3.11", platform="manylinux_2_17_x86_64")
    return wheel


def test_a_slimmed_real_numpy_tree_verifies_exactly_and_imports(
    numpy_py311_x86_64: Path, tmp_path: Path
) -> None:
    """The engine path: pip's tree slimmed in place, RECORD rewritten, verify exact."""
    site = install_wheels([numpy_py311_x86_64], tmp_path / "task", python="3.11")
    (site / "handler.py").write_text(
        "import numpy\nimport numpy.testing\n\n"
        "def lambda_handler(event, context):\n"
        "    numpy.testing.assert_allclose(numpy.ones(2).sum(), 2.0)\n"
        "    return 'ok'\n"
    )
    before = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    sizes, notes = slim_tree(site, cache_tag="cpython-311", policy=SlimPolicy())
    after = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    (numpy,) = sizes
    assert (numpy.name, numpy.version) == ("numpy", "2.1.3") and notes == []
    assert numpy.removed > 500 and numpy.saved == before - after > 5 * 2**20
    assert not (site / "numpy/_core/tests").exists() and (site / "numpy/testing").is_dir()
    assert not list(site.rglob("*.pyi")) and not list(site.rglob("*.h"))
    record = (site / "numpy-2.1.3.dist-info/RECORD").read_text()
    assert "numpy/_core/tests/" not in record and "numpy/testing/__init__.py" in record
    assert any(site.glob("numpy-2.1.3.dist-info/LICENSE*"))
    if shutil.which("python3.11") is None:
        pytest.skip("no python3.11 on this machine for the import")
    report = verify(site, "python3.11", VerifyOptions(handler="handler.lambda_handler"))
    assert report.ok, report.render()
    assert report.checked.hashed_files > 200  # kept files checked against the new RECORD
    assert "imported handler.lambda_handler" in report.checked.dynamic.summary


@pytest.mark.skipif(
    platform.machine() != "x86_64" or shutil.which("strip") is None,
    reason="strips x86_64 files with this host's binutils",
)
def test_strip_keeps_only_results_whose_loaded_segments_are_unchanged(
    numpy_py311_x86_64: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(numpy_py311_x86_64) as zf:
        names = zf.namelist()
        (gfortran,) = [n for n in names if n.startswith("numpy.libs/libgfortran")]
        (philox,) = [n for n in names if n.startswith("numpy/random/_philox.cpython")]
        grafted, extension = zf.read(gfortran), zf.read(philox)
    # auditwheel's grafted library, grown by patchelf: objcopy re-lays it out and the
    # result no longer loads (numpy then fails to import), so it is shipped as it is.
    plain = tmp_path / "plain"
    plain.write_bytes(grafted)
    subprocess.run(["strip", "--strip-unneeded", str(plain)], check=True)
    assert loaded_image(plain.read_bytes()) != loaded_image(grafted)
    assert strip_elf(grafted) is None
    stripped = strip_elf(extension)
    assert stripped is not None and len(stripped) < len(extension)
    assert loaded_image(stripped) == loaded_image(extension)
    assert strip_elf(b"not an ELF file") is None
