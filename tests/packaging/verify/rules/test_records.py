"""RECORD integrity, and the bytecode installers rewrite: a ``__pycache__`` ``.pyc``
that differs from RECORD (or is gone beside its source) is a note, never a failure."""

from __future__ import annotations

import py_compile
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from tests.support.synth import add_dist, zip_tree

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline import Target

SOURCE = "numpy/distutils/conv_template.py"
CACHED = "numpy/distutils/__pycache__/conv_template.cpython-311.pyc"
RECORD = "numpy-2.1.3.dist-info/RECORD"
SOURCELESS = "numpy/_legacy.pyc"


@pytest.fixture
def fn(tmp_path: Path) -> Path:
    """numpy's wheel ships ``CACHED`` (and, here, one sourceless module), RECORD hashed."""
    root = tmp_path / "fn"
    root.mkdir()
    (root / "handler.py").write_text("def lambda_handler(e, c):\n    return 1\n")
    files = {
        "numpy/__init__.py": "",
        "numpy/distutils/__init__.py": "",
        SOURCE: "def process_str(text):\n    return text\n",
        CACHED: "bytecode as the wheel's build compiled it",
        SOURCELESS: "bytecode without its source",
    }
    add_dist(root, "numpy", "2.1.3", files, tag="cp311-cp311-manylinux_2_17_x86_64")
    return root


def problems(report: object) -> set[tuple[str, str]]:
    return {(p.code.value, p.path) for p in report.problems}  # type: ignore[attr-defined]


def test_bytecode_pip_recompiled_is_a_note_and_exit_0(
    fn: Path, py311: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pip install --target` recompiles numpy's __pycache__: the sizes differ."""
    py_compile.compile(str(fn / SOURCE), cfile=str(fn / CACHED), doraise=True)
    report = verify(fn, py311, VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    (note,) = [n for n in report.checked.notes if n.startswith(CACHED)]
    assert f"differs from {RECORD}: not a failure" in note
    assert main(["verify", str(fn), "--runtime", "python3.11", "--no-import"]) == 0
    assert f"note: {CACHED} differs from" in capsys.readouterr().out


def test_sourceless_bytecode_that_differs_stays_a_record_mismatch(fn: Path, py311: Target) -> None:
    (fn / SOURCELESS).write_bytes(b"patched")
    assert problems(verify(fn, py311, VerifyOptions(dynamic=False))) == {
        ("record-mismatch", SOURCELESS)
    }


def test_missing_cached_bytecode_beside_its_source_is_a_note(fn: Path, py311: Target) -> None:
    (fn / CACHED).unlink()
    report = verify(fn, py311, VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    assert f"{CACHED} (listed in {RECORD}) is missing: not a failure, Python compiles {SOURCE} " \
        "instead" in report.checked.notes  # fmt: skip


def test_missing_cached_bytecode_without_its_source_is_a_missing_file(
    fn: Path, py311: Target
) -> None:
    (fn / CACHED).unlink()
    (fn / SOURCE).unlink()
    assert problems(verify(fn, py311, VerifyOptions(dynamic=False))) == {
        ("missing-file", SOURCE),
        ("missing-file", CACHED),
    }


def test_missing_sourceless_bytecode_is_a_missing_file(fn: Path, py311: Target) -> None:
    (fn / SOURCELESS).unlink()
    assert problems(verify(fn, py311, VerifyOptions(dynamic=False))) == {
        ("missing-file", SOURCELESS)
    }


def test_in_a_layer_the_note_names_the_layer(tmp_path: Path, fn: Path, py311: Target) -> None:
    layer = tmp_path / "layer"
    site = layer / "python"
    site.mkdir(parents=True)
    for path in fn.iterdir():
        if path.name != "handler.py":
            path.rename(site / path.name)
    py_compile.compile(str(site / SOURCE), cfile=str(site / CACHED), doraise=True)
    zipped = zip_tree(layer, tmp_path / "numpy-layer.zip")
    report = verify(fn, py311, VerifyOptions(layers=[zipped], dynamic=False))
    assert report.ok, report.render()
    assert any(
        n.startswith(f"numpy-layer.zip:python/{CACHED} differs") for n in report.checked.notes
    )
