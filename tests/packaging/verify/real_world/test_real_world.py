"""The verifier on artifacts users really build, from real wheels (see README.md here).

Each case runs ``sentiment-pipeline verify ARTIFACT --runtime ... --json`` in the
artifact's folder, as users do, and checks the exit code, the problem codes and the
key words of the messages against what Lambda would do with the artifact.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment_pipeline import get_target
from sentiment_pipeline.packaging.verify.findings import ProblemCode
from sentiment_pipeline.packaging.verify.interpreters import find_interpreter
from tests.packaging.verify.real_world.cases import CASES, Case, Kit, ids
from tests.packaging.verify.real_world.wheels import PINNED
from tests.support import pypi_wheels

HERE = Path(__file__).parent
CLI = str(Path(sys.executable).with_name("sentiment-pipeline"))


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where zips several cases share are built once."""
    return tmp_path_factory.mktemp("real-world-builds")


@pytest.fixture(scope="session")
def corpus_wheels() -> None:
    """Every pinned wheel in the cache. PyPI unreachable fails the suite (it never skips):
    the corpus proves nothing without its wheels."""
    for pinned in PINNED.values():
        try:
            pypi_wheels.fetch(pinned)
        except pypi_wheels.WheelDownloadError as exc:
            pytest.fail(f"the real-world corpus needs its wheels from PyPI: {exc}")


def verify(case: Case, work: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    command = [CLI, "verify", *args, "--runtime", case.runtime, "--json", *case.extra]
    if case.architecture:
        command += ["--architecture", case.architecture]
    return subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=600)


@pytest.mark.network
@pytest.mark.usefixtures("corpus_wheels")
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_the_verdict_is_what_lambda_would_do(case: Case, tmp_path: Path, shared: Path) -> None:
    if case.imports:
        target = get_target(case.runtime, case.architecture or "x86_64")
        if find_interpreter(target) is None:
            pytest.skip(f"the import check of this case needs {case.runtime} on this machine")
    args = case.build(Kit(tmp_path, shared))
    done = verify(case, tmp_path, args)

    if case.exit == 2:
        assert done.returncode == 2, done.stdout + done.stderr
        for word in case.words:
            assert word in done.stderr, done.stderr
        return
    report = json.loads(done.stdout)
    problems = report["problems"]
    codes = {p["code"] for p in problems}
    shown = json.dumps(problems, indent=1)
    assert done.returncode == case.exit, shown
    assert case.codes <= codes <= case.codes | case.allowed, shown
    text = " ".join(p["message"] + " " + p["path"] for p in problems)
    if not problems:
        text = " ".join(report["checked"]["notes"])
    for word in case.words:
        assert word in text, f"{word!r} not in {text}"
    for word in case.not_words:
        assert word not in text, f"{word!r} in {text}"
    if case.imports:
        assert report["checked"]["dynamic"]["ran"], report["checked"]["dynamic"]
    if case.handler:
        assert report["checked"]["handler"] == case.handler


def test_every_case_is_in_the_readme_table_with_both_verdicts() -> None:
    table = (HERE / "README.md").read_text()
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z0-9-]+)` \|.*$", table, re.M)}
    assert sorted(rows) == sorted(c.id for c in CASES)
    for case in CASES:
        assert case.url in rows[case.id], case.id
        assert case.before in rows[case.id], case.id
        assert case.expected in rows[case.id], case.id


def test_every_case_names_a_public_report_and_codes_the_verifier_knows() -> None:
    known = {code.value for code in ProblemCode}
    assert len(CASES) >= 20
    assert len({c.id for c in CASES}) == len(CASES)
    for case in CASES:
        assert case.url.startswith("https://github.com/"), case.id
        assert case.codes | case.allowed <= known, case.id
        assert (case.exit == 1) == bool(case.codes), case.id


def test_each_problem_code_real_tools_produce_has_a_failing_case_and_a_sound_one() -> None:
    failing = {code for c in CASES for code in c.codes}
    # unsafe-path: no tool of the corpus writes absolute paths, `..` or escaping links.
    assert failing == {code.value for code in ProblemCode} - {"unsafe-path"}
    assert any(not c.codes and c.imports for c in CASES)
    assert any(not c.codes and c.architecture == "arm64" for c in CASES)
