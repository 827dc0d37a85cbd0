"""The contract project's wheels: the same bytes each time, every file in RECORD."""

from __future__ import annotations

import doctest
import zipfile
from typing import TYPE_CHECKING

from sentiment_pipeline.packaging.testing import wheels as wheels_module
from sentiment_pipeline.packaging.testing.project import make_contract_project

if TYPE_CHECKING:
    from pathlib import Path


def test_the_examples_in_the_docstrings_run() -> None:
    result = doctest.testmod(wheels_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_its_wheels_are_the_same_bytes_each_time_and_list_every_file(tmp_path: Path) -> None:
    first = make_contract_project(tmp_path / "a", backend="layer")
    second = make_contract_project(tmp_path / "b", backend="layer")
    wheels = sorted((first.root / "wheels").glob("*.whl"))
    assert [w.name for w in wheels] == [
        "sp_contract_own-1.0-py3-none-any.whl",
        "sp_contract_shared-1.0-py3-none-any.whl",
    ]
    for wheel in wheels:
        assert wheel.read_bytes() == (second.root / "wheels" / wheel.name).read_bytes()
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            record = archive.read(next(n for n in names if n.endswith("/RECORD"))).decode()
        assert {line.split(",")[0] for line in record.splitlines()} == names
