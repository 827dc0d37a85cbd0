"""The libraries the import loaded: from the artifact, the interpreter or the runtime's
set, or found on this machine only (``unresolved-library``, naming the module).

Real imports with this machine's python3.11 (the target these tests use), of artifacts
holding libraries and extension modules the tests compile with gcc. The "host"
library sits in a directory outside the artifact, as a system library Lambda lacks.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ProblemCode, Target, get_target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from sentiment_pipeline.packaging.verify.loaded import LoadedLibrary, library_problems
from tests.support.sharedlibs import extension, library
from tests.support.synth import write_files

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.verify.report import Report

HANDLER = "def lambda_handler(e, c):\n    return 1\n"


@pytest.fixture(scope="module")
def target(host_target: Target) -> Target:
    return get_target("python3.11", host_target.architecture)


@pytest.fixture(scope="module")
def python(target: Target) -> str:
    found = find_interpreter(target)
    if found is None:
        pytest.skip("no python3.11 interpreter on this machine")
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, python: str) -> dict[str, Path]:
    """``host``: libsphost.so.1 outside any artifact; ``bundled``: libspbundled.so.1;
    ``rpath_ext``: extension ``spext`` needing libsphost, found through its RPATH;
    ``lib_ext``: extension ``spext`` needing libspbundled, found through LD_LIBRARY_PATH."""
    d = tmp_path_factory.mktemp("libs")
    host = library(d / "host", "libsphost.so.1", "sp_host")
    bundled = library(d / "bundled", "libspbundled.so.1", "sp_bundled")
    rpath_ext = extension(
        d / "rpath", python, "spext", "sp_host", f"-L{host.parent}", "-l:libsphost.so.1",
        f"-Wl,-rpath,{host.parent}",
    )  # fmt: skip
    lib_ext = extension(
        d / "lib", python, "spext", "sp_bundled", f"-L{bundled.parent}", "-l:libspbundled.so.1"
    )
    return {"host": host, "bundled": bundled, "rpath_ext": rpath_ext, "lib_ext": lib_ext}


def loaded_by(report: Report, soname: str) -> list[tuple[str, str]]:
    """``(by, origin)`` of each loaded object named ``soname``."""
    return [(lib.by, lib.origin) for lib in report.checked.dynamic.loaded if lib.soname == soname]


def test_a_library_opened_with_ctypes_from_this_machine_is_unresolved_naming_the_module(
    tmp_path: Path, target: Target, built: dict[str, Path]
) -> None:
    host = os.path.realpath(built["host"])
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import hostuser\n" + HANDLER,
            "hostuser/__init__.py": "from hostuser.pq import _pq_ctypes\n",
            "hostuser/pq/__init__.py": "",
            "hostuser/pq/_pq_ctypes.py": "import ctypes\n\n"
            f"def _load():\n    return ctypes.CDLL({host!r})\n\nLIB = _load()\n",
        },
    )
    assert verify(fn, target, VerifyOptions(dynamic=False)).ok  # invisible to the static checks
    report = verify(fn, target)
    assert [(p.code, p.path) for p in report.problems] == [
        (ProblemCode.UNRESOLVED_LIBRARY, "hostuser.pq._pq_ctypes")
    ]
    message = report.problems[0].message
    assert message.startswith(
        f"hostuser.pq._pq_ctypes loaded libsphost.so.1 ({host}) from this machine; "
        "Lambda's python3.11 runtime (Amazon Linux 2) has no libsphost.so.1"
    )
    assert loaded_by(report, "libsphost.so.1") == [("hostuser.pq._pq_ctypes", "unresolved")]
    assert report.checked.dynamic.ran and report.checked.dynamic.problem is None


@pytest.mark.skipif(
    ctypes.util.find_library("pq") is None, reason="no libpq on this machine (ldconfig -p)"
)
def test_libpq_found_by_find_library_like_psycopg_without_binary_is_unresolved(
    tmp_path: Path, target: Target, python: str
) -> None:
    """psycopg 3 without its binary extra: ``ctypes.util.find_library("pq")`` at import."""
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import psycopg\n" + HANDLER,
            "psycopg/__init__.py": "from psycopg import pq\n",
            "psycopg/pq/__init__.py": "from psycopg.pq import _pq_ctypes\n",
            "psycopg/pq/_pq_ctypes.py": "import ctypes, ctypes.util\n"
            "libname = ctypes.util.find_library('pq')\n"
            "if not libname:\n    raise ImportError('libpq library not found')\n"
            "pq = ctypes.cdll.LoadLibrary(libname)\n",
        },
    )
    report = verify(fn, target)
    assert [(p.code, p.path) for p in report.problems] == [
        (ProblemCode.UNRESOLVED_LIBRARY, "psycopg.pq._pq_ctypes")
    ]
    # libpq is named first; what it brings along (libssl, libgssapi...) is not a problem of its own.
    assert report.problems[0].message.startswith("psycopg.pq._pq_ctypes loaded libpq.so.5 (")


def test_a_library_bundled_in_the_artifact_opened_with_ctypes_is_fine(
    tmp_path: Path, target: Target, built: dict[str, Path]
) -> None:
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import bundled\n" + HANDLER,
            "bundled/__init__.py": "import ctypes, os\n"
            "LIB = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'libsphost.so.1'))\n",
        },
    )
    shutil.copy(built["host"], fn / "bundled")
    report = verify(fn, target)
    assert report.ok, report.render()
    assert loaded_by(report, "libsphost.so.1") == [("bundled", "artifact")]


def test_a_soname_the_runtime_has_is_fine(tmp_path: Path, target: Target, python: str) -> None:
    assert "libz.so.1" in target.runtime_libraries
    fn = write_files(
        tmp_path / "fn",
        {"handler.py": "import zuser\n" + HANDLER, "zuser.py": "import ctypes\n"
         "Z = ctypes.CDLL('libz.so.1')\n"},
    )  # fmt: skip
    report = verify(fn, target)
    assert report.ok, report.render()
    assert loaded_by(report, "libz.so.1") == [("zuser", "runtime")]


def test_the_interpreters_extensions_and_the_libraries_they_load_are_its_own(
    tmp_path: Path, target: Target, python: str
) -> None:
    """Lambda's runtime brings its own libssl, libsqlite3, libffi for these."""
    fn = write_files(
        tmp_path / "fn", {"handler.py": "import ctypes, lzma, sqlite3, ssl\n" + HANDLER}
    )
    report = verify(fn, target)
    assert report.ok, report.render()
    loaded = report.checked.dynamic.loaded
    own = {lib.soname for lib in loaded if lib.origin == "interpreter"}
    assert own - target.runtime_libraries, own  # some would be unresolved but for this rule
    assert {lib.origin for lib in loaded} <= {"interpreter", "runtime"}


def test_an_extension_needing_a_library_of_this_machine_is_reported_once_by_the_static_check(
    tmp_path: Path, target: Target, built: dict[str, Path]
) -> None:
    ext = built["rpath_ext"]
    fn = write_files(tmp_path / "fn", {"handler.py": "import spext\n" + HANDLER})
    shutil.copy(ext, fn)
    report = verify(fn, target)
    # The import loaded libsphost.so.1 from this machine too: the same soname, one problem.
    assert loaded_by(report, "libsphost.so.1") == [("spext", "unresolved")]
    assert [(p.code, p.path) for p in report.problems] == [
        (ProblemCode.UNRESOLVED_LIBRARY, ext.name)
    ]
    assert "needs libsphost.so.1" in report.problems[0].message


def test_an_extension_whose_library_is_bundled_in_lib_is_fine(
    tmp_path: Path, target: Target, built: dict[str, Path]
) -> None:
    ext = built["lib_ext"]
    fn = write_files(tmp_path / "fn", {"handler.py": "import spext\n" + HANDLER})
    shutil.copy(ext, fn)
    (fn / "lib").mkdir()
    shutil.copy(built["bundled"], fn / "lib")
    report = verify(fn, target)
    assert report.ok, report.render()
    assert loaded_by(report, "libspbundled.so.1") == [("spext", "artifact")]


def test_each_library_is_credited_to_the_module_that_loaded_it(
    tmp_path: Path, target: Target, built: dict[str, Path]
) -> None:
    """A ctypes load owns what is mapped until the next load: an extension imported
    right after it gets its own libraries, and the library opened later is the
    module's again."""
    host = os.path.realpath(built["host"])
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import app.mixed\n" + HANDLER,
            "app/__init__.py": "",
            "app/mixed.py": "import ctypes\n"
            "import app.first\n"
            "import spext\n"
            f"LATER = ctypes.CDLL({host!r})\n",
            "app/first.py": "import ctypes\nZ = ctypes.CDLL('libz.so.1')\n",
        },
    )
    shutil.copy(built["lib_ext"], fn)
    (fn / "lib").mkdir()
    shutil.copy(built["bundled"], fn / "lib")
    report = verify(fn, target)
    assert loaded_by(report, "libz.so.1") == [("app.first", "runtime")]
    assert loaded_by(report, "libspbundled.so.1") == [("spext", "artifact")]
    assert loaded_by(report, built["lib_ext"].name) == [("spext", "artifact")]
    assert loaded_by(report, "libsphost.so.1") == [("app.mixed", "unresolved")]
    assert [p.path for p in report.problems] == ["app.mixed"]


def lib(soname: str, *needed: str, by: str = "m", origin: str = "unresolved") -> LoadedLibrary:
    return LoadedLibrary(f"/usr/lib/{soname}", by, soname, origin, needed)  # type: ignore[arg-type]


def test_a_missing_library_is_named_with_what_it_brings_along(target: Target) -> None:
    loaded = [lib("libpq.so.5", "libssl.so.3", "libc.so.6"), lib("libssl.so.3", "libc.so.6")]
    problems = library_problems(target, loaded, set(), "this machine")
    assert [(module, message) for module, message, _ in problems] == [
        (
            "m",
            "m loaded libpq.so.5 (/usr/lib/libpq.so.5) from this machine; Lambda's python3.11 "
            "runtime (Amazon Linux 2) has no libpq.so.5, so the import fails there "
            "(nor libssl.so.3, which it needs).",
        )
    ]


def test_a_soname_the_static_check_reported_and_what_it_brings_are_left_out(
    target: Target,
) -> None:
    loaded = [
        lib("libsphost.so.1", "libdep.so.2", by="spext"),
        lib("libdep.so.2", by="spext"),
        lib("libother.so.1", by="other"),
    ]
    problems = library_problems(target, loaded, {"libsphost.so.1"}, "this machine")
    assert [module for module, _, _ in problems] == ["other"]


def test_libraries_that_need_each_other_are_all_named(target: Target) -> None:
    loaded = [lib("liba.so.1", "libb.so.1"), lib("libb.so.1", "liba.so.1")]
    (problem,) = library_problems(target, loaded, set(), "the image")
    assert "loaded liba.so.1 (/usr/lib/liba.so.1), libb.so.1 (/usr/lib/libb.so.1) " in problem[1]
    assert "from the image" in problem[1] and "has none of them" in problem[1]


def test_in_a_lambda_like_image_the_libraries_are_the_images_and_no_host_line(
    tmp_path: Path, lambda_image: str, host_target: Target
) -> None:
    """The import ran in the image: a library it found there outside the runtime's set
    is named as the image's, and the report does not say this machine's were used."""
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import aptuser\n" + HANDLER,
            "aptuser.py": "import ctypes, ctypes.util\n"
            "APT = ctypes.CDLL(ctypes.util.find_library('apt-pkg'))\n",
        },
    )
    options = VerifyOptions(engine="buildah", image=lambda_image, prefer_image=True)
    report = verify(fn, get_target("python3.13", host_target.architecture), options)
    dynamic = report.checked.dynamic
    assert dynamic.ran and dynamic.host_libraries is None, dynamic
    assert [(p.code, p.path) for p in report.problems] == [
        (ProblemCode.UNRESOLVED_LIBRARY, "aptuser")
    ]
    assert report.problems[0].message.startswith("aptuser loaded libapt-pkg.so.")
    assert "from the image;" in report.problems[0].message
    assert "the import ran with" not in report.render()
