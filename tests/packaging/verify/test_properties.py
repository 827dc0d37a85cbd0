"""Whatever the input, verify returns a report or refuses it with a one-line reason."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentiment_pipeline import ArtifactError, Report, get_target
from sentiment_pipeline.cli import main
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from tests.support.strategies import zip_archives

TARGET = get_target("python3.13", "x86_64")
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def check(data: bytes, *, dynamic: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "artifact.zip"
        path.write_bytes(data)
        try:
            report = verify(path, TARGET, VerifyOptions(dynamic=dynamic))
        except ArtifactError as exc:
            assert "\n" not in str(exc)
            return
        assert isinstance(report, Report)
        assert report.ok == (not report.problems)
        report.render()
        report.dumps()


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    check(data)


@SETTINGS
@given(zip_archives())
def test_arbitrary_zip_structures_never_raise(data: bytes) -> None:
    check(data)


@settings(max_examples=25, deadline=None)
@given(zip_archives())
def test_arbitrary_zips_with_the_dynamic_check_never_raise(data: bytes) -> None:
    check(data, dynamic=True)


@settings(max_examples=60, deadline=None)
@given(zip_archives())
def test_the_cli_exits_0_1_or_2_without_a_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "artifact.zip"
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["verify", str(path), "--no-import", "--json"])
        assert code in (0, 1, 2)
        assert "Traceback" not in err.getvalue()
        if code == 2:
            assert err.getvalue().count("\n") == 1
