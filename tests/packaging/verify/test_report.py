"""The rendered report: shared fixes said once, and a verdict that says what was not checked."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import Target, get_target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import Checked, DynamicResult, Report, verify
from tests.support.synth import add_dist, zip_tree

if TYPE_CHECKING:
    from pathlib import Path

HANDLER = "import json\n\ndef lambda_handler(event, context):\n    return {}\n"
FOREIGN = ("a", "b", "c")


def function(root: Path, *, handler: bool = True) -> Path:
    root.mkdir()
    if handler:
        (root / "handler.py").write_text(HANDLER)
    add_dist(root, "six", "1.16.0", {"six.py": "X = 1\n"})
    return root


def test_a_fix_shared_by_several_problems_is_printed_once_after_them(
    tmp_path: Path, py313: Target
) -> None:
    fn = function(tmp_path / "fn")
    for name in FOREIGN:
        (fn / f"{name}.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert report.codes() == {"abi-mismatch"} and len(report.problems) == len(FOREIGN)
    fix = report.problems[0].fix
    assert fix.startswith("Reinstall the dependencies for the target")
    text = report.render()
    assert text.count(fix) == 1
    lines = text.splitlines()
    for name in FOREIGN:  # each problem keeps its own line, without the fix
        (line,) = [x for x in lines if x.startswith(f"  {name}.cpython-312")]
        assert "built for CPython 3.12" in line and fix not in line
    assert lines[-1] == f"  fix: {fix}"  # after the problems of its code


def test_the_json_report_keeps_its_shape_and_whole_messages(tmp_path: Path, py313: Target) -> None:
    fn = function(tmp_path / "fn")
    for name in FOREIGN:
        (fn / f"{name}.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    document = json.loads(report.dumps())
    assert list(document) == ["ok", "target", "problems", "warnings", "checked"]
    assert document["warnings"] == []
    for problem in document["problems"]:
        assert set(problem) == {"code", "path", "message"}
        assert problem["message"].endswith(report.problems[0].fix)


def test_checked_is_typed_and_its_json_keeps_every_key_in_order(
    tmp_path: Path, py313: Target
) -> None:
    report = verify(function(tmp_path / "fn"), py313, VerifyOptions(dynamic=False))
    checked = json.loads(report.dumps())["checked"]
    assert list(checked) == [
        "artifact",
        "kind",
        "layers",
        "files",
        "bytes_unzipped",
        "hashed_files",
        "native_files",
        "distributions",
        "handler",
        "dynamic",
        "not_checked",
        "native",
        "notes",
        "origin",
        "warnings",
    ]
    # a zip declares nothing: the target was given, handler.py found at the root
    assert checked["origin"] == {"architecture": "given", "handler": "default"}
    assert checked["warnings"] == []
    assert checked["dynamic"] == {
        "ran": False,
        "summary": "dynamic check skipped: --no-import",
        "interpreter": None,
        "detail": None,
        "host_libraries": None,
        "loaded": [],
    }
    typed = report.checked
    assert (typed.kind, typed.handler, typed.files, typed.distributions) == (
        "function",
        "handler.lambda_handler",
        5,  # handler.py; six.py and its METADATA, WHEEL, RECORD
        1,
    )
    assert checked["not_checked"] == list(typed.not_checked) == ["import not checked: --no-import"]
    assert checked["artifact"] == typed.artifact == str(tmp_path / "fn")


def test_the_rendering_reads_every_count_of_checked(py313: Target) -> None:
    checked = Checked(
        "fn.zip",
        "function",
        DynamicResult(True, "dynamic check: imported app.main with python3.13", "python3.13"),
        layers=("common.zip",),
        files=12,
        bytes_unzipped=2_500_000,
        hashed_files=7,
        native_files=2,
        distributions=3,
        handler="app.main",
        notes=("a note",),
    )
    lines = Report(py313, (), checked).render().splitlines()
    assert lines[1:] == [
        "  + layer common.zip",
        "  checked 12 files, 2.4 MiB unzipped, 3 distributions, 7 RECORD hashes, 2 native files",
        "  handler: app.main",
        "  dynamic check: imported app.main with python3.13",
        "  note: a note",
        "OK: no problems found; static checks passed and the handler imported: deployable.",
    ]
    assert lines[0].startswith("fn.zip (function) for python3.13 x86_64 (")


@pytest.fixture(scope="module")
def host() -> Target:
    """The Python running these tests: an interpreter of it is always here."""
    return get_target(f"python3.{sys.version_info.minor}", "x86_64")


def test_ok_says_deployable_only_when_the_handler_was_imported(
    tmp_path: Path, host: Target
) -> None:
    report = verify(function(tmp_path / "fn"), target=host)
    assert report.ok and report.not_checked == ()
    assert report.render().splitlines()[-1] == (
        "OK: no problems found; static checks passed and the handler imported: deployable."
    )


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no-import", "import not checked: --no-import"),
        ("no-handler", "handler not checked: no handler.py at the root and no --handler"),
        ("no-interpreter", "import not checked: no python3.13 interpreter for arm64"),
        ("layer", "handler not checked: a layer has none (verify its function with --layer)"),
    ],
)
def test_ok_without_the_import_says_what_was_not_checked(
    case: str, expected: str, tmp_path: Path, host: Target
) -> None:
    target, dynamic = host, True
    artifact = function(tmp_path / "fn", handler=case != "no-handler")
    if case == "no-import":
        dynamic = False
    elif case == "no-interpreter":
        target = get_target("python3.13", "arm64")  # never runnable on this x86_64 machine
    elif case == "layer":
        layer = tmp_path / "layer"
        add_dist(layer / "python", "six", "1.16.0", {"six.py": "X = 1\n"})
        artifact = zip_tree(layer, tmp_path / "layer.zip")
    report = verify(artifact, target, VerifyOptions(dynamic=dynamic))
    assert report.ok, report.render()
    assert report.not_checked == (expected,)
    verdict = report.render().splitlines()[-1]
    assert verdict == f"OK: no problems found; static checks passed; {expected}."
    assert "deployable" not in verdict


def test_warnings_have_their_own_heading_and_leave_ok_and_codes_alone(py313: Target) -> None:
    from sentiment_pipeline import Problem, ProblemCode

    checked = Checked(
        "fn.zip",
        "function",
        DynamicResult(True, "dynamic check: imported app.main with python3.13", "python3.13"),
        handler="app.main",
    )
    warning = Problem(ProblemCode.UNRESOLVED_IMPORT, "app.py:3", "app.py line 3 imports 'x'.")
    report = Report(py313, (), checked, warnings=(warning,))
    assert report.ok and report.codes() == set()
    lines = report.render().splitlines()
    assert lines[-3:] == [
        "WARNINGS: 1 (not failures)",
        "  [unresolved-import] app.py:3: app.py line 3 imports 'x'.",
        "OK: no problems found; static checks passed and the handler imported: deployable.",
    ]
    assert json.loads(report.dumps())["warnings"] == [
        {"code": "unresolved-import", "path": "app.py:3", "message": "app.py line 3 imports 'x'."}
    ]
