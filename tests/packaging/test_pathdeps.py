"""Path dependencies: one spelling relative to the manifest, and content hashes of their trees."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.packaging.pathdeps import (
    PathDependencyError,
    absolute,
    directory_of,
    metadata_digest,
    rebase,
    tree_digest,
)
from tests.support.uvprojects import write_library

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_library(tmp_path / "libs" / "mylib")
    (tmp_path / "services" / "api").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("mylib @ file:../../libs/mylib", "mylib @ file:libs/mylib"),
        (
            "mylib[x] @ file:../../libs/mylib ; python_version >= '3.12'",
            "mylib[x] @ file:libs/mylib ; python_version >= '3.12'",
        ),
        ("mylib @ file:///${PROJECT_ROOT}/../../libs/mylib", "mylib @ file:libs/mylib"),
        ("../../libs/mylib", "mylib @ file:libs/mylib"),
        ("six==1.17.0", "six==1.17.0"),
        (
            "six @ https://example.org/six-1.17.0-py2.py3-none-any.whl",
            "six @ https://example.org/six-1.17.0-py2.py3-none-any.whl",
        ),
    ],
)
def test_local_requirements_are_rebased_to_the_manifest_folder(
    repo: Path, written: str, expected: str
) -> None:
    assert rebase(written, base=repo / "services" / "api", root=repo) == expected


def test_an_absolute_file_url_is_rebased_and_made_absolute_again(repo: Path) -> None:
    url = (repo / "libs" / "mylib").as_uri()
    spelled = rebase(f"mylib @ {url}", base=repo / "services", root=repo)
    assert spelled == "mylib @ file:libs/mylib" and directory_of(spelled) == "libs/mylib"
    assert absolute(spelled, repo) == f"mylib @ {url}"
    assert absolute("six==1.17.0", repo) == "six==1.17.0"


def test_a_missing_folder_says_where_it_was_looked_for(repo: Path) -> None:
    with pytest.raises(PathDependencyError, match=r"libs/other does not exist; fix the path"):
        rebase("other @ file:libs/other", base=repo, root=repo)
    (repo / "six-1.17.0-py2.py3-none-any.whl").write_bytes(b"PK")
    with pytest.raises(PathDependencyError, match=r"is a file; a path dependency is a source"):
        rebase("six @ file:six-1.17.0-py2.py3-none-any.whl", base=repo, root=repo)
    (repo / "empty").mkdir()
    with pytest.raises(PathDependencyError, match=r"no pyproject\.toml with a \[project\] name"):
        rebase("./empty", base=repo, root=repo)


def test_the_tree_digest_follows_content_not_times_nor_caches(repo: Path) -> None:
    lib = repo / "libs" / "mylib"
    before = tree_digest(lib)
    code = lib / "src" / "mylib" / "__init__.py"
    os.utime(code, (1, 1))
    (lib / "src" / "mylib" / "__pycache__").mkdir()
    (lib / "src" / "mylib" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"\0")
    (lib / "dist").mkdir()
    (lib / "dist" / "mylib-0.1.0-py3-none-any.whl").write_bytes(b"PK")
    assert tree_digest(lib) == before
    code.write_text(code.read_text() + "# changed\n")
    assert tree_digest(lib) != before


def test_the_metadata_digest_follows_the_pyproject_not_the_code(repo: Path) -> None:
    lib = repo / "libs" / "mylib"
    before = metadata_digest(lib)
    (lib / "src" / "mylib" / "__init__.py").write_text("X = 1\n")
    assert metadata_digest(lib) == before
    (lib / "pyproject.toml").write_text((lib / "pyproject.toml").read_text() + "\n")
    assert metadata_digest(lib) != before
