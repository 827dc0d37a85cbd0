"""The dynamic check imports the handler for real, in an isolated interpreter of the target.

These tests target this machine's interpreter (the ``host_target`` fixture), so they
run wherever it is a Lambda runtime; the python3.13 path is covered in test_incident.py.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import ProblemCode, Target, get_target
from sentiment_pipeline.packaging.install.engines import EngineError
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import importattempt, verify
from sentiment_pipeline.packaging.verify.dynamic import conclude
from sentiment_pipeline.packaging.verify.sdk import SdkResult
from tests.support.synth import write_files, zip_tree

if TYPE_CHECKING:
    from pathlib import Path


def test_a_handler_that_raises_at_import_fails(tmp_path: Path, host_target: Target) -> None:
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import os\nTABLE = os.environ['DYNAMODB_TABLE']\n"
            "def lambda_handler(e, c):\n    return TABLE\n"
        },
    )
    report = verify(fn, target=host_target)
    failed = [p for p in report.problems if p.code == ProblemCode.IMPORT_FAILED]
    assert failed and "KeyError: 'DYNAMODB_TABLE'" in failed[0].message
    assert "Runtime.ImportModuleError" in failed[0].message


def test_the_hosts_site_packages_are_invisible(tmp_path: Path, host_target: Target) -> None:
    """pytest is installed on the host, never in Lambda: importing it must fail."""
    fn = write_files(
        tmp_path / "fn", {"handler.py": "import pytest\ndef lambda_handler(e, c):\n    pass\n"}
    )
    report = verify(fn, target=host_target)
    assert {"unresolved-import", "import-failed"} <= report.codes()


def test_the_runtime_sdk_is_importable_without_bundling(
    tmp_path: Path, host_target: Target
) -> None:
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import boto3\nCLIENT = boto3.client('sns')\n"
            "def lambda_handler(e, c):\n    return 1\n"
        },
    )
    report = verify(fn, target=host_target)
    assert report.ok, report.render()
    assert report.checked.dynamic.ran


def test_lambda_path_order_function_then_layers(tmp_path: Path, host_target: Target) -> None:
    site = f"python/lib/python{host_target.python}/site-packages"
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import first, second, third\n"
            "assert (first.WHERE, second.WHERE, third.WHERE) == "
            "('function', 'site-packages', 'python'), "
            "(first.WHERE, second.WHERE, third.WHERE)\n"
            "def lambda_handler(e, c):\n    return 1\n",
            "first.py": "WHERE = 'function'\n",
        },
    )
    layer1 = write_files(
        tmp_path / "l1",
        {
            "python/first.py": "WHERE = 'layer'\n",
            "python/second.py": "WHERE = 'python'\n",
            "python/third.py": "WHERE = 'python'\n",
            f"{site}/second.py": "WHERE = 'site-packages'\n",
        },
    )
    report = verify(fn, host_target, VerifyOptions(layers=[zip_tree(layer1, tmp_path / "l1.zip")]))
    assert report.ok, report.render()


def test_later_layers_overwrite_earlier_ones(tmp_path: Path, host_target: Target) -> None:
    fn = write_files(
        tmp_path / "fn",
        {
            "handler.py": "import shared\nassert shared.WHERE == 'second'\n"
            "def lambda_handler(e, c):\n    return 1\n"
        },
    )
    first = write_files(tmp_path / "a", {"python/shared.py": "WHERE = 'first'\n"})
    second = write_files(tmp_path / "b", {"python/shared.py": "WHERE = 'second'\n"})
    assert verify(fn, host_target, VerifyOptions(layers=[first, second])).ok
    assert "import-failed" in verify(fn, host_target, VerifyOptions(layers=[second, first])).codes()


def test_no_matching_interpreter_is_a_skip_not_a_failure(tmp_path: Path) -> None:
    fn = write_files(tmp_path / "fn", {"handler.py": "def lambda_handler(e, c):\n    return 1\n"})
    target = get_target("python3.13", "arm64")  # this machine is x86_64
    report = verify(fn, target=target)
    assert report.ok
    dynamic = report.checked.dynamic
    assert not dynamic.ran
    assert dynamic.summary == "dynamic check skipped: no python3.13 interpreter for arm64"


def test_a_wrong_explicit_interpreter_is_named(tmp_path: Path) -> None:
    fn = write_files(tmp_path / "fn", {"handler.py": "def lambda_handler(e, c):\n    return 1\n"})
    report = verify(fn, get_target("python3.9"), VerifyOptions(interpreter=sys.executable))
    assert report.checked.dynamic.summary.startswith(f"dynamic check skipped: {sys.executable}")


def test_without_the_sdk_offline_the_check_says_it_is_incomplete(
    tmp_path: Path, host_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    fn = write_files(
        tmp_path / "fn", {"handler.py": "import boto3\ndef lambda_handler(e, c):\n    pass\n"}
    )
    report = verify(fn, host_target, VerifyOptions(offline=True))
    assert report.ok
    summary = report.checked.dynamic.summary
    assert summary.startswith("dynamic check incomplete: handler.lambda_handler needs 'boto3'")
    assert "--offline" in summary


def test_a_blocking_import_times_out(
    tmp_path: Path, host_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importattempt, "TIMEOUT", 1)
    fn = write_files(
        tmp_path / "fn",
        {"handler.py": "import time\ntime.sleep(30)\ndef lambda_handler(e, c):\n    pass\n"},
    )
    report = verify(fn, target=host_target)
    failed = [p.message for p in report.problems if p.code == ProblemCode.IMPORT_FAILED]
    assert failed and "took over 1 s" in failed[0]


def test_an_interpreter_crash_is_import_failed(tmp_path: Path, host_target: Target) -> None:
    fn = write_files(
        tmp_path / "fn",
        {"handler.py": "import os\nos._exit(3)\ndef lambda_handler(e, c):\n    pass\n"},
    )
    report = verify(fn, target=host_target)
    failed = [p.message for p in report.problems if p.code == ProblemCode.IMPORT_FAILED]
    assert failed and "the interpreter died (exit 3)" in failed[0]


def test_the_engine_is_detected_only_when_the_import_needs_a_container(
    tmp_path: Path, host_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host interpreter of the target imports: the engine chosen is never probed. With
    none (arm64 here), it is, once: a docker that cannot run is an error naming it."""
    probes = tmp_path / "probes"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho probed >> {probes}\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    fn = write_files(tmp_path / "fn", {"handler.py": "def lambda_handler(e, c):\n    return 1\n"})
    report = verify(fn, host_target, VerifyOptions(engine="docker"))
    assert report.ok and report.checked.dynamic.ran, report.render()
    assert not probes.exists()
    with pytest.raises(EngineError, match=r"^docker: not available"):
        verify(fn, get_target("python3.13", "arm64"), VerifyOptions(engine="docker"))
    assert probes.read_text() == "probed\n"


HOST_LINE = re.compile(
    r"the import ran with this machine's libraries \(glibc \d+\.\d+\); libraries outside "
    r"the artifact and the runtime's set were checked by what it loaded"
)


def test_an_import_with_this_machines_libraries_says_so_in_one_line(
    tmp_path: Path, host_target: Target
) -> None:
    fn = write_files(tmp_path / "fn", {"handler.py": "def lambda_handler(e, c):\n    return 1\n"})
    report = verify(fn, host_target)
    line = report.checked.dynamic.host_libraries
    assert line is not None and HOST_LINE.fullmatch(line), line
    assert f"\n  {line}\n" in report.render()
    assert report.to_json()["checked"]["dynamic"]["host_libraries"] == line
    skipped = verify(fn, host_target, VerifyOptions(dynamic=False))
    assert skipped.checked.dynamic.host_libraries is None
    assert "the import ran with" not in skipped.render()


def test_an_import_whose_loads_could_not_be_read_says_what_that_leaves_open(
    tmp_path: Path, host_target: Target
) -> None:
    """Where /proc/self/maps cannot be read, the program reports ``loaded: null``."""
    ok = {"ok": True, "python": host_target.python, "libc": "glibc 2.36", "loaded": None}
    result = conclude(
        host_target, "handler.lambda_handler", "python3", ok, SdkResult(None, "offline"),
        lambda _: ok, offline=True, root=tmp_path, host=True,
    )  # fmt: skip
    assert result.host_libraries == (
        "the import ran with this machine's libraries (glibc 2.36); what it loaded could not "
        "be read, so a library Lambda lacks may have been found here"
    )
    assert result.loaded == ()
