"""The preprod 502 and its cousins, reproduced with real wheels from the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sentiment_pipeline import ProblemCode, Target, get_target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.support import wheelhouse

X86 = "manylinux2014_x86_64"
ARM = "manylinux2014_aarch64"
MAC = "macosx_11_0_arm64"
CORE_SO = "pydantic_core/_pydantic_core.cpython-{}-{}-linux-gnu.so"

Tree = Callable[[str, str], Path]


def paths(report: object, code: ProblemCode) -> list[str]:
    return [p.path for p in report.problems if p.code == code]  # type: ignore[attr-defined]


def test_cp312_pydantic_core_on_python313_is_abi_mismatch_naming_the_so(
    pydantic_tree: Tree, tmp_path: Path, py313: Target
) -> None:
    artifact = wheelhouse.zip_dir(pydantic_tree("3.12", X86), tmp_path / "dashboard.zip")
    report = verify(artifact, py313, VerifyOptions(dynamic=False))
    assert not report.ok
    so = CORE_SO.format("312", "x86_64")
    assert so in paths(report, ProblemCode.ABI_MISMATCH)
    message = next(p.message for p in report.problems if p.path == so)
    assert "CPython 3.12" in message and "python3.13" in message
    assert "Reinstall the dependencies" in message
    # The wheel's own tag says so too.
    assert any("pydantic_core" in p for p in paths(report, ProblemCode.WHEEL_TAG_INCOMPATIBLE))


def test_correct_tree_with_the_so_deleted_is_missing_file(
    pydantic_tree: Tree, copy_tree: Callable[[Path], Path], tmp_path: Path, py313: Target
) -> None:
    tree = copy_tree(pydantic_tree("3.13", X86))
    so = CORE_SO.format("313", "x86_64")
    (tree / so).unlink()
    artifact = wheelhouse.zip_dir(tree, tmp_path / "dashboard.zip")
    report = verify(artifact, py313, VerifyOptions(dynamic=False))
    assert paths(report, ProblemCode.MISSING_FILE) == [so]
    assert report.codes() == {"missing-file"}
    assert "RECORD" in report.problems[0].message


def test_aarch64_wheel_on_x86_64_is_arch_mismatch(
    pydantic_tree: Tree, tmp_path: Path, py313: Target
) -> None:
    artifact = wheelhouse.zip_dir(pydantic_tree("3.13", ARM), tmp_path / "a.zip")
    report = verify(artifact, py313, VerifyOptions(dynamic=False))
    assert CORE_SO.format("313", "aarch64") in paths(report, ProblemCode.ARCH_MISMATCH)
    assert "wheel-tag-incompatible" in report.codes()
    # The same tree is fine for arm64.
    assert verify(artifact, get_target("python3.13", "arm64"), VerifyOptions(dynamic=False)).ok


def test_macos_wheel_is_not_linux(pydantic_tree: Tree, tmp_path: Path, py313: Target) -> None:
    artifact = wheelhouse.zip_dir(pydantic_tree("3.13", MAC), tmp_path / "mac.zip")
    report = verify(artifact, py313, VerifyOptions(dynamic=False))
    not_linux = paths(report, ProblemCode.NOT_LINUX)
    assert any(p.startswith("pydantic_core/_pydantic_core") for p in not_linux)


def test_cryptography_manylinux_2_28_on_python311_is_glibc_too_new(
    tmp_path: Path, py311: Target
) -> None:
    wheels = wheelhouse.fetch(
        wheelhouse.CRYPTOGRAPHY, python="3.11", platform="manylinux_2_28_x86_64"
    )
    tree = wheelhouse.install_wheels(wheels, tmp_path / "tree")
    report = verify(tree, py311, VerifyOptions(dynamic=False))
    too_new = [p for p in report.problems if p.code == ProblemCode.GLIBC_TOO_NEW]
    assert too_new, report.render()
    assert all(p.path.startswith("cryptography/") and p.path.endswith(".so") for p in too_new)
    assert "glibc 2.26" in too_new[0].message and "GLIBC_2.2" in too_new[0].message
    # python3.12 runs on Amazon Linux 2023 (glibc 2.34): the same wheel is fine there.
    later = verify(tree, get_target("python3.12", "x86_64"), VerifyOptions(dynamic=False))
    assert "glibc-too-new" not in later.codes()


def test_correct_cp313_manylinux_tree_is_ok(
    pydantic_tree: Tree, tmp_path: Path, py313: Target
) -> None:
    artifact = wheelhouse.zip_dir(pydantic_tree("3.13", X86), tmp_path / "good.zip")
    report = verify(artifact, target=py313)
    assert report.ok, report.render()
    assert report.checked.handler == "handler.lambda_handler"
    assert report.checked.native_files >= 1
    assert report.checked.hashed_files > 100
    dynamic = report.checked.dynamic
    if find_interpreter(py313) is None:
        assert dynamic.summary == "dynamic check skipped: no python3.13 interpreter for x86_64"
    else:
        assert dynamic.ran and "imported handler.lambda_handler" in dynamic.summary


@pytest.mark.parametrize("deleted", [True, False])
def test_dynamic_check_reproduces_the_import_error(
    pydantic_tree: Tree, copy_tree: Callable[[Path], Path], py311: Target, deleted: bool
) -> None:
    """The host interpreter (3.11) is always there: import for real, as Lambda would."""
    tree = copy_tree(pydantic_tree("3.11", X86))
    if deleted:
        (tree / CORE_SO.format("311", "x86_64")).unlink()
    report = verify(tree, target=py311)
    assert report.checked.dynamic.ran
    if deleted:
        failed = [p for p in report.problems if p.code == ProblemCode.IMPORT_FAILED]
        assert failed and "No module named 'pydantic_core._pydantic_core'" in failed[0].message
    else:
        assert report.ok, report.render()
