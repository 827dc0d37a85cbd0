"""``invoke`` with input it cannot use: one line naming the problem and the fix, exit 2.

Nothing is built for these: the command refuses before the build. A Lambda that
does not pass verification is the one exit 1 here: its problems, and nothing run.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

MANIFEST = """\
[defaults]
runtime = "python3.13"

[lambdas.api]
handler = "api.lambda_handler"
sources = ["api.py"]

[lambdas.worker]
handler = "worker.lambda_handler"
sources = ["worker.py"]

[lambdas.broken]
handler = "broken.lambda_handler"
sources = ["broken.py"]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("invoke-input")
    (root / "lambdas.toml").write_text(MANIFEST)
    (root / "api.py").write_text("def lambda_handler(event, context):\n    return event\n")
    (root / "worker.py").write_text("def lambda_handler(event, context):\n    return 1\n")
    (root / "broken.py").write_text(
        "import not_installed_anywhere\n\ndef lambda_handler(event, context):\n    return 1\n"
    )
    (root / "events").mkdir()
    (root / "events" / "bad.json").write_text('{\n  "a": 1,\n  "b": \n}\n')
    return root


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", "invoke", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def refused(project: Path, *args: str) -> str:
    """The one line ``invoke`` prints for unusable input (exit 2, nothing on stdout)."""
    done = run(project, *args)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("sentiment-pipeline: error: ")
    assert not (project / "dist").exists()  # refused before any build
    return lines[0].removeprefix("sentiment-pipeline: error: ")


def test_an_unknown_lambda_lists_the_names(project: Path) -> None:
    line = refused(project, "apj")
    assert line.startswith("no Lambda named 'apj' in ")
    assert line.endswith("lambdas.toml; defined: api, worker, broken")


def test_an_event_file_that_is_not_json_names_the_file_line_and_column(project: Path) -> None:
    line = refused(project, "api", "--event", "events/bad.json")
    assert line == ("event file events/bad.json is not JSON: line 4, column 1: Expecting value")


def test_json_on_stdin_that_is_not_json_says_stdin(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sentiment_pipeline", "invoke", "api", "--event", "-"],
        cwd=project,
        input="{nope",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        "sentiment-pipeline: error: event <stdin> is not JSON: line 1, column 2: "
        "Expecting property name enclosed in double quotes\n"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--event", "events/missing.json"), "event file events/missing.json not found"),
        (("--event", "sqs:events/missing.txt"), "event file events/missing.txt not found"),
        (("--event", "events"), "event file events is a directory"),
        (("--event", "s3:put"), "unknown event template 's3:put'; templates: function-url:"),
        (("--event", "function-url:/items"), "--event 'function-url:/items': expected "),
        (("--body", "{}"), "--body goes with --event function-url:METHOD:/path"),
        (("--event", "schedule", "--body", "x"), "--body goes with --event function-url:"),
        (("--env", "GREETING"), "--env 'GREETING': expected KEY=VALUE (e.g. --env GREETING="),
        (("--env", "1X=secret-value"), "--env '1X': not a valid variable name"),
        (("--env", "AWS_REGION=eu-west-1"), "--env AWS_REGION: reserved by Lambda"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    project: Path, args: tuple[str, ...], expected: str
) -> None:
    line = refused(project, "api", *args)
    assert line.startswith(expected), line
    assert "secret-value" not in line  # a value may be a secret: never echoed


def test_a_lambda_that_fails_verification_exits_1_and_runs_nothing(
    project: Path, tmp_path: Path
) -> None:
    done = run(project, "broken", "--engine", "none", "--out", str(tmp_path / "dist"))
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert "broken did not pass verification, nothing was run:" in done.stderr
    assert "not_installed_anywhere" in done.stderr
    assert "START RequestId" not in done.stderr
