"""The command line: exit codes, JSON shape, one-line errors, both entry points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment_pipeline.cli import main
from tests.support.projects import make_project
from tests.support.synth import add_dist


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", *args],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def good(tmp_path: Path) -> Path:
    root = tmp_path / "fn"
    root.mkdir()
    (root / "handler.py").write_text("import six\ndef lambda_handler(e, c):\n    return 1\n")
    add_dist(root, "six", "1.16.0", {"six.py": "X = 1\n"})
    return root


def test_verify_ok_exits_0(good: Path) -> None:
    result = run("verify", str(good), "--runtime", "python3.13", "--no-import")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: no problems found" in result.stdout


def test_verify_problems_exit_1_with_json(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (good / "six.py").write_text("X = 2\n")
    code = main(["verify", str(good), "--json", "--no-import"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert set(document) == {"ok", "target", "problems", "warnings", "checked"}
    assert document["ok"] is False
    assert document["problems"] == [
        {"code": "record-mismatch", "path": "six.py", "message": document["problems"][0]["message"]}
    ]
    assert document["target"]["runtime"] == "python3.13"
    assert document["checked"]["dynamic"]["summary"] == "dynamic check skipped: --no-import"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["verify", "missing.zip"], "missing.zip: no such file or directory"),
        (["verify", "{good}", "--runtime", "python2.7"], "unknown Lambda runtime 'python2.7'"),
        (["verify", "{good}", "--architecture", "mips"], "invalid choice: 'mips' (choose from"),
        (["build", "--engine", "dockr"], "invalid choice: 'dockr' (choose from"),
        (["serve", "--engine", "dockr"], "invalid choice: 'dockr' (choose from"),
        (["verify", "{notzip}"], "not a readable zip archive"),
        (["verify"], "the following arguments are required: artifact"),
        (["bogus"], "invalid choice"),
    ],
)
def test_unusable_input_exits_2_with_one_line(
    args: list[str], needle: str, good: Path, tmp_path: Path
) -> None:
    notzip = tmp_path / "notes.zip"
    notzip.write_text("hello")
    result = run(*(a.format(good=good, notzip=notzip) for a in args))
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].count(needle) == 1


def test_targets_table_and_json() -> None:
    table = run("targets")
    assert table.returncode == 0
    assert "python3.13  x86_64  3.13    Amazon Linux 2023  2.34" in table.stdout
    document = json.loads(run("targets", "--json", "--runtime", "python3.9").stdout)
    assert [d["architecture"] for d in document] == ["x86_64", "arm64"]
    assert document[0]["glibc"] == "2.26"


def test_targets_show_lambdas_libraries_apart_from_the_wheel_policy() -> None:
    table = run("targets", "--runtime", "python3.13").stdout
    assert "Runtime libraries: " in table and "Amazon Linux 2023 minimal" in table
    policy = next(line for line in table.splitlines() if line.startswith("Wheel policy: "))
    assert "auditwheel" in policy and "python3.13 lacks " in policy and "libGL.so.1" in policy
    document = json.loads(run("targets", "--json", "--runtime", "python3.13").stdout)
    assert "libGL.so.1" in document[0]["wheel_policy_libraries"]
    assert "libGL.so.1" not in document[0]["runtime_libraries"]
    assert "libssl.so.3" in document[0]["runtime_libraries"]
    assert document[0]["libraries_source"] and document[0]["wheel_policy_source"]


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "sentiment-pipeline"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "target catalog" in result.stdout


def test_targets_help_describes_the_catalog_and_what_json_adds() -> None:
    result = run("targets", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "Print the target catalog: every Lambda Python runtime" in text
    assert "--json prints more of each row: every extension suffix, the platform tags" in text


def test_verify_help_names_image_artifacts_and_the_architectures() -> None:
    result = run("verify", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    description, arguments = text.split("positional arguments:")
    for needle in ("oci:LAYOUT[:TAG]", "docker://HOST/REPO:TAG"):
        assert needle in description and needle in arguments
    assert "--architecture {x86_64,arm64}" in text


def test_the_build_table_has_a_kind_column_instead_of_prefixes(
    project_lock: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = make_project(tmp_path / "p", lock=project_lock)
    out = tmp_path / "dist"
    args = ["--manifest", str(manifest), "--out", str(out), "--engine", "none"]
    assert main(["build", *args, "--backend", "layer"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:3] == ["artifact", "kind", "backend"]
    assert [row.split()[:3] for row in rows[:2]] == [
        ["common", "layer", "layer"],
        ["api", "function", "layer"],
    ]
