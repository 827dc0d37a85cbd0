"""Where the architecture and the handler come from, for artifacts that declare nothing
(zips, directories); images are in ``sources/test_images.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from tests.support.wheelhouse import zip_dir

if TYPE_CHECKING:
    from pathlib import Path

HANDLER = "def lambda_handler(event, context):\n    return 1\n"


def function(root: Path) -> Path:
    root.mkdir()
    (root / "handler.py").write_text(HANDLER)
    return zip_dir(root, root.with_suffix(".zip"))


def test_a_zip_with_a_runtime_name_is_checked_for_x86_64_by_default(tmp_path: Path) -> None:
    report = verify(function(tmp_path / "fn"), "python3.12", VerifyOptions(dynamic=False))
    assert report.ok
    assert (report.target.runtime, report.target.architecture) == ("python3.12", "x86_64")
    assert report.checked.origin == {"architecture": "default", "handler": "default"}


def test_a_given_target_and_handler_are_reported_as_given(tmp_path: Path) -> None:
    target = get_target("python3.13", "arm64")
    options = VerifyOptions(handler="handler.lambda_handler", dynamic=False)
    report = verify(function(tmp_path / "fn"), target, options)
    assert report.target is target
    assert report.checked.origin == {"architecture": "given", "handler": "given"}


def test_a_deprecated_runtime_is_a_warning_of_the_report_not_a_problem(tmp_path: Path) -> None:
    report = verify(function(tmp_path / "fn"), "python3.9", VerifyOptions(dynamic=False))
    assert report.ok
    [warning] = report.checked.warnings
    assert warning.startswith("python3.9 is deprecated since 2025-12-15")
    assert f"  warning: {warning}" in report.render().splitlines()
