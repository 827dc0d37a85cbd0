"""The shipped contract's project: self-contained, locked without a resolver or network.

The contract's tests themselves run in tests/contract/ against every backend.
"""

from __future__ import annotations

import doctest
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging import testing
from sentiment_pipeline.packaging.backend import installed_backends, load_backend
from sentiment_pipeline.packaging.lock import LockFile
from sentiment_pipeline.packaging.manifest import Manifest
from sentiment_pipeline.packaging.plan import plan_functions
from sentiment_pipeline.packaging.testing import project
from sentiment_pipeline.packaging.testing.project import make_contract_project

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize("module", [testing, project], ids=lambda m: m.__name__)
def test_the_examples_in_the_docstrings_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("backend", installed_backends())
def test_every_artifact_the_backend_plans_is_locked_already(backend: str, tmp_path: Path) -> None:
    project = make_contract_project(tmp_path, backend=backend, runtime="python3.12")
    manifest = Manifest.load(project.manifest)
    lockfile = LockFile(project.lock)
    for artifact in load_backend(backend).artifacts(plan_functions(manifest)):
        # offline: a missing or stale entry raises instead of calling the resolver.
        lock = lockfile.get(artifact.key, artifact.requirements, artifact.target, offline=True)
        assert [w.url.startswith("file:") for w in lock.wheels] == [True] * len(lock.wheels)
        assert lock.runtime == "python3.12"
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py")} >= {
        "app/main.py",
        "app/helper.py",
    }
