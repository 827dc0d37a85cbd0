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
        (["verify", "{good}", "--runtime", "python4.0"], "unknown Lambda runtime 'python4.0'"),
        (
            ["verify", "{good}", "--runtime", "python2.7"],
            "python2.7 was retired by Lambda on 2021-07-15; use python3.9 or newer "
            "(python3.13 recommended)",
        ),
        (
            ["verify", "{good}", "--architecture", "mips"],
            "argument --architecture: unknown Lambda architecture 'mips': Lambda runs x86_64 "
            "or arm64 (aarch64 and amd64 are accepted as aliases)",
        ),
        (
            ["targets", "--runtime", "python3.8"],
            "python3.8 was retired by Lambda on 2024-10-14; use python3.9 or newer",
        ),
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
    assert (
        "--architecture ARCHITECTURE Lambda architecture: x86_64 or arm64 (aarch64 and amd64"
        in text
    )
    assert "default: an image's own (its config's architecture), else x86_64" in text


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


# --- architectures by any name, runtimes past their date, as a user runs them ---


def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: from ``cwd``, with paths relative to it."""
    return subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_verify_accepts_aarch64_as_arm64(good: Path) -> None:
    result = run_in(
        good.parent,
        "verify",
        "fn",
        "--runtime",
        "python3.12",
        "--architecture",
        "aarch64",
        "--no-import",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    target = json.loads(result.stdout)["target"]
    assert (target["runtime"], target["architecture"]) == ("python3.12", "arm64")


def test_targets_accepts_amd64_as_x86_64() -> None:
    document = json.loads(
        run("targets", "--json", "--runtime", "python3.13", "--architecture", "amd64").stdout
    )
    assert [d["architecture"] for d in document] == ["x86_64"]


def test_a_deprecated_runtime_still_verifies_with_a_one_line_warning(good: Path) -> None:
    text = run_in(good.parent, "verify", "fn", "--runtime", "python3.10", "--no-import")
    assert text.returncode == 0, text.stderr
    warning = (
        "python3.10 is deprecated since 2026-06-30: Lambda no longer patches it, then blocks "
        "creating and updating functions on it; move to python3.13"
    )
    assert text.stderr == f"sentiment-pipeline: warning: {warning}\n"
    assert f"  warning: {warning}" in text.stdout.splitlines()
    document = run_in(
        good.parent, "verify", "fn", "--runtime", "python3.10", "--no-import", "--json"
    )
    assert json.loads(document.stdout)["checked"]["warnings"] == [warning]
    current = run_in(good.parent, "verify", "fn", "--runtime", "python3.13", "--no-import")
    assert current.returncode == 0 and current.stderr == ""


def test_targets_marks_passed_dates_and_warns_for_a_chosen_deprecated_runtime() -> None:
    table = run("targets")
    assert table.stderr == ""
    rows = {
        line.split()[0] + "/" + line.split()[1]: line
        for line in table.stdout.splitlines()
        if line.startswith("python")
    }
    assert rows["python3.9/x86_64"].endswith("2025-12-15 (passed)")
    assert rows["python3.13/arm64"].endswith("2029-06-30")
    chosen = run("targets", "--runtime", "python3.9")
    assert chosen.returncode == 0
    assert chosen.stderr.startswith(
        "sentiment-pipeline: warning: python3.9 is deprecated since 2025-12-15"
    )
    assert len(chosen.stderr.splitlines()) == 1


def test_build_refuses_a_retired_runtime_at_its_manifest_line(tmp_path: Path) -> None:
    manifest = make_project(tmp_path / "p")
    manifest.write_text(
        manifest.read_text().replace('runtime = "python3.13"', 'runtime = "python3.8"')
    )
    result = run_in(tmp_path, "build", "--manifest", "p/lambdas.toml", "--engine", "none")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "lambdas.toml:2: defaults.runtime: python3.8 was retired by Lambda on 2024-10-14; use "
            "python3.9 or newer (python3.13 recommended)"
        )
    )
    assert "Traceback" not in result.stderr
