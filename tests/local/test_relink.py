"""A reload unpacks the rebuilt artifact linking unchanged files from the running root,
and never writes into that root."""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

from sentiment_pipeline.local.runner import FunctionSpec, prepare
from sentiment_pipeline.packaging.targets import get_target

if TYPE_CHECKING:
    from pathlib import Path

BIG = "x = 1\n" * 2000


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in members.items():
            out.writestr(name, text)
    return path


def _spec(artifact: Path, *layers: Path) -> FunctionSpec:
    return FunctionSpec(
        name="api",
        handler="app.main.handler",
        target=get_target("python3.13", "x86_64"),
        artifact=artifact,
        layers=layers,
    )


def test_unchanged_files_are_linked_and_changed_ones_written(tmp_path: Path) -> None:
    first = prepare(
        _spec(_zip(tmp_path / "v1.zip", {"app/main.py": "A", "lib/big.py": BIG})),
        tmp_path / "one" / "api",
    )
    # Same size, other bytes: only the CRC tells them apart.
    spec = _spec(_zip(tmp_path / "v2.zip", {"app/main.py": "B", "lib/big.py": BIG}))
    second = prepare(spec, tmp_path / "two" / "api", reuse=first)
    old, new = first / "var/task", second / "var/task"
    assert (new / "lib/big.py").stat().st_ino == (old / "lib/big.py").stat().st_ino
    assert (new / "app/main.py").stat().st_ino != (old / "app/main.py").stat().st_ino
    assert (new / "app/main.py").read_text() == "B"
    assert (old / "app/main.py").read_text() == "A"
    assert (new / "lib/big.py").read_text() == BIG


def test_a_later_layer_never_writes_through_a_linked_file(tmp_path: Path) -> None:
    function = _zip(tmp_path / "f.zip", {"app/main.py": "A"})
    first = prepare(
        _spec(
            function,
            _zip(tmp_path / "l1.zip", {"python/shared.py": "one"}),
            _zip(tmp_path / "l2.zip", {"python/shared.py": "two"}),
        ),
        tmp_path / "one" / "api",
    )
    # Layer 1 now holds what the running root has (linked), layer 2 replaces it.
    spec = _spec(
        function,
        _zip(tmp_path / "m1.zip", {"python/shared.py": "two"}),
        _zip(tmp_path / "m2.zip", {"python/shared.py": "new"}),
    )
    second = prepare(spec, tmp_path / "two" / "api", reuse=first)
    assert (second / "opt/python/shared.py").read_text() == "new"
    assert (first / "opt/python/shared.py").read_text() == "two"
