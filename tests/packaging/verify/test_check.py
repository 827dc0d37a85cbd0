"""Handler, imports, RECORD integrity, layers and limits, on synthetic artifacts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pytest

from sentiment_pipeline import ProblemCode, Target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.targets import Limits
from sentiment_pipeline.packaging.verify import verify
from tests.support.synth import add_dist, zip_tree

if TYPE_CHECKING:
    from pathlib import Path

HANDLER = "import json\nimport six\n\ndef lambda_handler(event, context):\n    return {}\n"


@pytest.fixture
def fn(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "handler.py").write_text(HANDLER)
    add_dist(root, "six", "1.16.0", {"six.py": "X = 1\n"})
    return root


def problems(report: object) -> set[tuple[str, str]]:
    return {(p.code.value, p.path) for p in report.problems}  # type: ignore[attr-defined]


def test_a_clean_function_is_ok(fn: Path, py313: Target) -> None:
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    assert report.checked.hashed_files == 3  # six.py, METADATA, WHEEL


def test_a_modified_file_is_a_record_mismatch(fn: Path, py313: Target) -> None:
    (fn / "six.py").write_text("X = 2  # patched by hand\n")
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert problems(report) == {("record-mismatch", "six.py")}
    assert "RECORD says" in report.problems[0].message


def test_missing_module_handler(fn: Path, py313: Target) -> None:
    report = verify(fn, py313, VerifyOptions(handler="app.main", dynamic=False))
    assert problems(report) == {("handler-missing", "app.py")}


def test_extra_top_level_folder_is_explained(fn: Path, tmp_path: Path, py313: Target) -> None:
    artifact = zip_tree(fn, tmp_path / "fn.zip", prefix="myproject/")
    report = verify(artifact, py313, VerifyOptions(handler="handler.lambda_handler", dynamic=False))
    message = next(p.message for p in report.problems if p.code == ProblemCode.HANDLER_MISSING)
    assert "myproject/handler.py" in message and "extra top-level folder" in message


def test_missing_function(fn: Path, py313: Target) -> None:
    report = verify(fn, py313, VerifyOptions(handler="handler.main", dynamic=False))
    assert problems(report) == {("handler-missing", "handler.py")}
    assert "lambda_handler" in report.problems[0].message  # lists what the module defines


def test_async_handler_is_reported(fn: Path, py313: Target) -> None:
    (fn / "handler.py").write_text("async def lambda_handler(event, context):\n    return 1\n")
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert "async def" in report.problems[0].message


@pytest.mark.parametrize(
    "source",
    [
        "from app import lambda_handler\n",
        "lambda_handler = lambda e, c: 1\n",
        "if True:\n    def lambda_handler(e, c):\n        return 1\n",
        "from app import *\n",
    ],
)
def test_handlers_bound_in_other_ways_are_found(source: str, fn: Path, py313: Target) -> None:
    (fn / "app.py").write_text("def lambda_handler(e, c):\n    return 1\n")
    (fn / "handler.py").write_text(source)
    assert verify(fn, py313, VerifyOptions(dynamic=False)).ok


def test_unresolved_import_names_line_and_module(fn: Path, py313: Target) -> None:
    (fn / "handler.py").write_text(
        "import os\nimport boto3\n\nimport requests\n\ndef lambda_handler(e, c):\n    return 1\n"
    )
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert problems(report) == {("unresolved-import", "handler.py:4")}
    assert "'requests'" in report.problems[0].message


def test_guarded_and_type_checking_imports_are_optional(fn: Path, py313: Target) -> None:
    (fn / "handler.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        "if TYPE_CHECKING:\n    import mypy_boto3_dynamodb\n"
        "def lambda_handler(e, c):\n    import requests\n    return 1\n"
    )
    assert verify(fn, py313, VerifyOptions(dynamic=False)).ok


def test_first_party_imports_are_followed(fn: Path, py313: Target) -> None:
    (fn / "app").mkdir()
    (fn / "app" / "__init__.py").write_text("")
    (fn / "app" / "routes.py").write_text("from . import models\n")
    (fn / "app" / "models.py").write_text("import pydantic\n")
    (fn / "handler.py").write_text(
        "from app.routes import *\ndef lambda_handler(e, c):\n    return 1\n"
    )
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert problems(report) == {("unresolved-import", "app/models.py:1")}


def test_missing_submodule_of_a_first_party_package(fn: Path, py313: Target) -> None:
    (fn / "app").mkdir()
    (fn / "app" / "__init__.py").write_text("")
    (fn / "handler.py").write_text("import app.nothing\ndef lambda_handler(e, c):\n    return 1\n")
    assert problems(verify(fn, py313, VerifyOptions(dynamic=False))) == {
        ("unresolved-import", "handler.py:1")
    }


def test_stdlib_differs_by_version(fn: Path, py313: Target) -> None:
    """cgi left the standard library in 3.13."""
    from sentiment_pipeline import get_target

    (fn / "handler.py").write_text("import cgi\ndef lambda_handler(e, c):\n    return 1\n")
    assert verify(fn, get_target("python3.12"), VerifyOptions(dynamic=False)).ok
    assert "unresolved-import" in verify(fn, py313, VerifyOptions(dynamic=False)).codes()


def test_layer_provides_a_dependency(fn: Path, tmp_path: Path, py313: Target) -> None:
    (fn / "handler.py").write_text("import attrs_like\ndef lambda_handler(e, c):\n    return 1\n")
    layer = tmp_path / "layer"
    add_dist(layer / "python", "attrs-like", "1.0", {"attrs_like/__init__.py": ""})
    report = verify(
        fn, py313, VerifyOptions(layers=[zip_tree(layer, tmp_path / "l.zip")], dynamic=False)
    )
    assert report.ok, report.render()
    assert report.checked.layers == (str(tmp_path / "l.zip"),)


def test_layer_in_versioned_site_packages(fn: Path, tmp_path: Path, py313: Target) -> None:
    layer = tmp_path / "layer"
    add_dist(layer / "python/lib/python3.12/site-packages", "old", "1.0", {"old/__init__.py": ""})
    report = verify(fn, py313, VerifyOptions(layers=[layer], dynamic=False))
    assert report.codes() == {"abi-mismatch"}
    assert "python/lib/python3.13/site-packages" in report.problems[0].message


def test_a_layer_that_shadows_a_function_dependency(
    fn: Path, tmp_path: Path, py313: Target
) -> None:
    layer = tmp_path / "layer"
    add_dist(layer / "python", "six", "1.15.0", {"six.py": "X = 0\n"})
    report = verify(
        fn, py313, VerifyOptions(layers=[zip_tree(layer, tmp_path / "common.zip")], dynamic=False)
    )
    assert problems(report) == {("shadowed-distribution", "common.zip:python/six-1.15.0.dist-info")}
    message = report.problems[0].message
    assert "1.16.0" in message and "1.15.0" in message and "function" in message


def test_an_earlier_layers_site_packages_shadows_a_later_layers_python_dir(
    fn: Path, tmp_path: Path, py313: Target
) -> None:
    """Lambda's path puts every layer's site-packages before any layer's python/: the
    first-listed layer's copy wins here, though the second layer was unpacked last."""
    first, second = tmp_path / "first", tmp_path / "second"
    add_dist(first / "python/lib/python3.13/site-packages", "attrs", "25.1.0", {"attr.py": ""})
    add_dist(second / "python", "attrs", "23.1.0", {"attr.py": ""})
    layers = [zip_tree(first, tmp_path / "first.zip"), zip_tree(second, tmp_path / "second.zip")]
    report = verify(fn, py313, VerifyOptions(layers=layers, dynamic=False))
    assert problems(report) == {
        ("shadowed-distribution", "second.zip:python/attrs-23.1.0.dist-info")
    }
    assert "shadowed by attrs 25.1.0 in layer 1 (first.zip)" in report.problems[0].message


def test_same_version_in_two_places_is_not_shadowing(
    fn: Path, tmp_path: Path, py313: Target
) -> None:
    layer = tmp_path / "layer"
    add_dist(layer / "python", "six", "1.16.0", {"six.py": "X = 1\n"})
    assert verify(fn, py313, VerifyOptions(layers=[layer], dynamic=False)).ok


def test_a_layer_alone_is_recognised(tmp_path: Path, py313: Target) -> None:
    layer = tmp_path / "layer"
    add_dist(layer / "python", "six", "1.16.0", {"six.py": "X = 1\n"})
    report = verify(zip_tree(layer, tmp_path / "l.zip"), target=py313)
    assert report.ok and report.checked.kind == "layer"


def test_incompatible_wheel_tag(fn: Path, py313: Target) -> None:
    add_dist(
        fn, "native", "1.0", {"native/__init__.py": ""}, tag="cp312-cp312-manylinux_2_17_x86_64"
    )
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert problems(report) == {("wheel-tag-incompatible", "native-1.0.dist-info")}


def test_size_limits(fn: Path, tmp_path: Path, py313: Target) -> None:
    tiny = attrs.evolve(py313, limits=Limits(zipped_upload=100, unzipped=50, layers=1, image=1))
    artifact = zip_tree(fn, tmp_path / "fn.zip")
    layers = [zip_tree(fn, tmp_path / f"l{i}.zip", prefix="python/") for i in range(2)]
    report = verify(artifact, tiny, VerifyOptions(layers=layers, dynamic=False))
    sizes = {p.path for p in report.problems if p.code == ProblemCode.SIZE_LIMIT}
    assert {"layers", "unzipped", str(artifact)} <= sizes
    assert verify(artifact, tiny, VerifyOptions(dynamic=False, s3_upload=True)).codes() == {
        "size-limit"
    }


def test_a_damaged_record_line_is_skipped_not_fatal(fn: Path, py313: Target) -> None:
    record = fn / "six-1.16.0.dist-info" / "RECORD"
    record.write_bytes(b'"broken\r\x00,\n' + record.read_bytes())
    report = verify(fn, py313, VerifyOptions(dynamic=False))
    assert report.ok, report.render()
    assert report.checked.hashed_files == 3


def test_the_unzipped_size_problem_reads_as_a_sentence(
    fn: Path, tmp_path: Path, py313: Target
) -> None:
    tiny = attrs.evolve(py313, limits=Limits(zipped_upload=10**9, unzipped=50, layers=5, image=1))
    alone = verify(fn, tiny, VerifyOptions(dynamic=False))
    (message,) = [p.message for p in alone.problems if p.path == "unzipped"]
    assert message.startswith("the artifact unpacks to ")
    layer = zip_tree(fn, tmp_path / "l.zip", prefix="python/")
    with_layer = verify(fn, tiny, VerifyOptions(layers=[layer], dynamic=False))
    (message,) = [p.message for p in with_layer.problems if p.path == "unzipped"]
    assert message.startswith("the function and layers unpack to ")


def test_bytecode_of_another_python_is_a_note_with_its_count_and_size(
    fn: Path, tmp_path: Path, py313: Target
) -> None:
    # What `pip install -t` on a python3.11 build host leaves in a python3.13 zip.
    (fn / "__pycache__").mkdir()
    for name, size in (
        ("six.cpython-311.pyc", 40_000),
        ("handler.cpython-311.pyc", 60_000),
        ("handler.cpython-311.opt-1.pyc", 100_000),
    ):
        (fn / "__pycache__" / name).write_bytes(b"\0" * size)
    (fn / "__pycache__" / "six.cpython-313.pyc").write_bytes(b"\0" * 1000)  # the target's own
    artifact = zip_tree(fn, tmp_path / "fn.zip")
    report = verify(artifact, py313, VerifyOptions(dynamic=False))
    assert report.ok, report.render()  # a note, not a problem: the exit code is unchanged
    (note,) = [n for n in report.checked.notes if ".pyc" in n]
    assert note.startswith("3 .pyc file(s) (0.2 MiB unzipped) hold bytecode for another Python")
    assert "(cpython-311: 3)" in note and "python3.13 reads only cpython-313" in note
    assert f"note: {note}" in report.render()


def test_bytecode_of_the_targets_own_python_is_not_flagged(
    fn: Path, tmp_path: Path, py313: Target
) -> None:
    (fn / "__pycache__").mkdir()
    (fn / "__pycache__" / "six.cpython-313.pyc").write_bytes(b"\0" * 1000)
    (fn / "__pycache__" / "six.cpython-313.opt-1.pyc").write_bytes(b"\0" * 1000)
    report = verify(zip_tree(fn, tmp_path / "fn.zip"), py313, VerifyOptions(dynamic=False))
    assert report.ok
    assert not [n for n in report.checked.notes if ".pyc" in n]
