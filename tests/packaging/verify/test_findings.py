"""Every printed fix works: the reinstall command a report prints, parsed from the report
and run on the artifact it was printed for, gives an artifact that verifies.

The broken artifacts are made the way users make them (``uv pip install --target`` or
``pip install --target`` for the wrong platform); the fix is read from the rendered
report, never copied into the test. Downloads are small wheels (markupsafe, six).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.lock import uv_binary
from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import verify
from sentiment_pipeline.packaging.verify.findings import rebuild_hint

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.packaging.verify.findings import Installer

pytestmark = pytest.mark.network

REQUIREMENTS = ("markupsafe==3.0.3", "six==1.17.0")
HANDLER = "import markupsafe\nimport six\n\n\ndef lambda_handler(event, context):\n    return 1\n"
WRONG_MACHINE = {"x86_64": "aarch64", "aarch64": "x86_64"}


def install(installer: Installer, python: str, machine: str, dest: Path) -> None:
    """What a user runs: the requirements installed for ``machine`` into ``dest``."""
    if installer == "uv":
        command = [
            uv_binary(),
            "pip",
            "install",
            "--python-platform",
            f"{machine}-manylinux_2_17",
            "--python-version",
            python,
            "--only-binary",
            ":all:",
            "--target",
            str(dest),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--platform",
            f"manylinux2014_{machine}",
            "--implementation",
            "cp",
            "--python-version",
            python,
            "--only-binary=:all:",
            "--target",
            str(dest),
        ]
    subprocess.run([*command, *REQUIREMENTS], check=True, capture_output=True, text=True)
    (dest / "handler.py").write_text(HANDLER)


def printed_fixes(rendered: str) -> list[str]:
    """The commands of the report's ``fix:`` lines (between backticks)."""
    return sorted(
        {m for line in rendered.splitlines() for m in re.findall(r"fix: .*?`([^`]+)`", line)}
    )


def installed_requirements(artifact: Path) -> str:
    """``name==version`` of every distribution the artifact has: what to reinstall."""
    pins = [
        "==".join(d.name.removesuffix(".dist-info").split("-", 1))
        for d in sorted(artifact.glob("*.dist-info"))
    ]
    return "\n".join(pins) + "\n"


def run_fix(command: str, dest: Path, requirements: Path) -> None:
    """Run a printed command with its placeholders (DIR, requirements.txt) filled in."""
    words = [
        {"DIR": str(dest), "requirements.txt": str(requirements)}.get(w, w)
        for w in shlex.split(command)
    ]
    tool = {"uv": [uv_binary()], "pip": [sys.executable, "-m", "pip"]}[words[0]]
    done = subprocess.run([*tool, *words[1:]], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize(
    ("runtime", "architecture", "installer"),
    [
        ("python3.11", "x86_64", "uv"),  # Amazon Linux 2: uv has no manylinux_2_26
        ("python3.13", "arm64", "uv"),
        ("python3.11", "x86_64", "pip"),
        ("python3.12", "arm64", "pip"),
    ],
)
def test_the_printed_reinstall_command_fixes_an_artifact_built_for_another_machine(
    runtime: str, architecture: str, installer: Installer, tmp_path: Path
) -> None:
    target = get_target(runtime, architecture)
    broken = tmp_path / "broken"
    install(installer, target.python, WRONG_MACHINE[target.machine], broken)
    report = verify(broken, target, VerifyOptions(dynamic=False))
    assert "arch-mismatch" in report.codes()
    [command] = printed_fixes(report.render())
    assert command.split()[0] == ("pip" if installer == "pip" else "uv")
    assert command == rebuild_hint(target, installer).split("`")[1]

    requirements = tmp_path / "requirements.txt"
    requirements.write_text(installed_requirements(broken))
    fixed = tmp_path / "fixed"
    run_fix(command, fixed, requirements)
    (fixed / "handler.py").write_text(HANDLER)
    again = verify(fixed, target, VerifyOptions(dynamic=False))
    assert again.ok, again.render()
    assert again.checked.native_files >= 1  # markupsafe's extension, now the target's
