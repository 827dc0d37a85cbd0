"""The up-to-date stamp: an unchanged build answers from file metadata, and anything that
could change an artifact sends the build back to the full (content) check."""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.packaging import uptodate
from tests.support.cli import run_cli
from tests.support.projects import make_project

if TYPE_CHECKING:
    from pathlib import Path

BUILD = ("build", "--engine", "none", "--out", "dist", "--json")


def build(root: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = run_cli(root, *BUILD, *extra, env=env)
    assert done.returncode == 0, done.stderr + done.stdout
    return dict(json.loads(done.stdout))


def hits(report: dict[str, Any]) -> dict[str, bool]:
    return {a["name"]: a["cache_hit"] for a in report["artifacts"]}


def stamps(root: Path) -> list[Path]:
    return sorted((root / "dist" / ".stamps").glob("*.json"))


def stamp_is_current(root: Path) -> bool:
    (stamp,) = stamps(root)
    return uptodate.current(root / "dist", stamp.stem) is not None


@pytest.fixture
def project(tmp_path: Path, project_lock: str) -> Path:
    root = tmp_path / "project"
    make_project(root, backend="layer", lock=project_lock)
    first = build(root)
    assert not any(hits(first).values())
    # Stamped by the first build, unless the project's files were written within a clock
    # tick of its start (then they might have changed while read): the next one stamps.
    assert all(hits(build(root)).values())
    assert stamp_is_current(root)
    return root


def without_times(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in a.items() if k != "seconds"} for a in report["artifacts"]]


def test_an_unchanged_build_answers_from_its_stamp_as_the_full_check_would(project: Path) -> None:
    stamped = build(project)
    # report.json says what the last build did, as a full no-op writes it; the stamp
    # follows the rewritten report, so the next unchanged build is answered from it too.
    written = json.loads((project / "dist" / "layer" / "report.json").read_text())
    assert hits(written) == {"common": True, "api": True}
    assert stamp_is_current(project)
    full = build(project, "--full-check")
    assert hits(stamped) == hits(full) == {"common": True, "api": True}
    assert without_times(stamped) == without_times(full)
    assert stamped["reports"] == full["reports"]
    # The table is printed from the same recorded build.
    table = run_cli(project, "build", "--engine", "none", "--out", "dist")
    assert table.returncode == 0
    assert "hit" in table.stdout and "reports: " in table.stdout


def test_an_edited_source_is_rebuilt_even_with_its_size_and_mtime_restored(project: Path) -> None:
    main = project / "app" / "main.py"
    before = main.stat()
    text = main.read_text()
    main.write_text(text.replace('"<b>"', '"<i>"'))  # same size
    os.utime(main, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert not stamp_is_current(project)
    assert hits(build(project)) == {"common": True, "api": False}


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda root: (root / "app" / "extra.py").write_text("X = 1\n"), id="new-file"),
        pytest.param(lambda root: (root / "app" / "__init__.py").unlink(), id="removed-file"),
        pytest.param(
            lambda root: (root / "lambdas.toml").write_text(
                (root / "lambdas.toml").read_text() + 'exclude = ["app/__init__.py"]\n'
            ),
            id="manifest",
        ),
        pytest.param(lambda root: (root / "dist" / "layer" / "api.zip").unlink(), id="artifact"),
    ],
)
def test_a_change_the_artifact_depends_on_is_rebuilt(project: Path, change: Any) -> None:
    change(project)
    assert not stamp_is_current(project)
    assert hits(build(project)) == {"common": True, "api": False}
    assert stamp_is_current(project)  # and stamped again


def test_host_bytecode_in_the_sources_changes_nothing(project: Path) -> None:
    (project / "app" / "__pycache__" / "other.cpython-311.pyc").write_bytes(b"host")
    assert stamp_is_current(project)


def test_another_request_or_environment_is_checked_in_full(project: Path) -> None:
    # Another request rewrites the report: the first request's stamp no longer holds.
    only = build(project, "--lambda", "api")
    assert hits(only) == {"common": True, "api": True}
    assert len(stamps(project)) == 2
    # Answered from its stamp: the same artifacts as the full check listed, no others.
    assert without_times(build(project, "--lambda", "api")) == without_times(only)
    assert [uptodate.current(project / "dist", s.stem) is None for s in stamps(project)].count(
        True
    ) == 1  # the --lambda request's holds; the whole build's report was rewritten
    again = build(project)
    assert hits(again) == {"common": True, "api": True}
    # A variable that steers builds: the full check decides (and keys change: rebuilt).
    epoch = build(project, env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert hits(epoch) == {"common": False, "api": False}


def test_a_file_changed_while_the_build_ran_leaves_no_stamp(project: Path) -> None:
    from sentiment_pipeline.packaging.manifest import Manifest
    from sentiment_pipeline.packaging.results import BuildResult

    (stamp,) = stamps(project)
    manifest = Manifest.load(project / "lambdas.toml")
    report = project / "dist" / "layer" / "report.json"
    result = BuildResult((), (report,))
    (project / "app" / "main.py").write_text((project / "app" / "main.py").read_text() + "\n")
    # The source was written after the build "started": it may have been read before the
    # edit, so the recorded metadata would not describe what was built.
    started = time.time_ns() - 10**6
    assert not uptodate.write_stamp(
        project / "dist", stamp.stem, manifest, result, started_ns=started
    )
    assert not stamp.exists()
    # The same inputs, with a build that started well after the edit: stamped.
    later = time.time_ns() + 10**9
    assert uptodate.write_stamp(project / "dist", stamp.stem, manifest, result, started_ns=later)
    assert stamp.exists()


def test_a_failed_build_leaves_no_stamp(project: Path) -> None:
    (project / "app" / "main.py").write_text(
        "import not_installed_anywhere\n\n\ndef lambda_handler(event, context):\n    return 1\n"
    )
    done = run_cli(project, *BUILD)
    assert done.returncode == 1, done.stderr
    assert stamps(project) == []
