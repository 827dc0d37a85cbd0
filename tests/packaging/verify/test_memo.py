"""A layer's member facts, recorded when it is verified, replayed for a function that
uses it: the same report as reading the layer again, without reading it."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.packaging.options import VerifyOptions
from sentiment_pipeline.packaging.verify import reading
from sentiment_pipeline.packaging.verify.check import verify_with
from sentiment_pipeline.packaging.verify.memo import ReadMemo
from sentiment_pipeline.packaging.verify.reading import MemberRead
from tests.support.synth import zip_tree

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sentiment_pipeline import Target
    from sentiment_pipeline.packaging.verify.report import Report

CONTENTS = "sentiment_pipeline.packaging.verify.contents"
HANDLER = """\
import pydantic
import pydantic_core


def lambda_handler(event, context):
    return pydantic_core.to_json({"ok": True}).decode()
"""


def _layer_and_function(tree: Path, work: Path, *, tamper: bool) -> tuple[Path, Path]:
    """pydantic as a layer (python/), a handler importing it as the function."""
    layer_tree = work / "layer"
    shutil.copytree(tree, layer_tree)
    (layer_tree / "handler.py").unlink()
    if tamper:  # a file changed after install: a record-mismatch problem in the layer
        init = layer_tree / "pydantic" / "version.py"
        init.write_text(init.read_text() + "\n# changed\n")
    function_tree = work / "function"
    function_tree.mkdir()
    (function_tree / "handler.py").write_text(HANDLER)
    layer = zip_tree(layer_tree, work / "layer.zip", prefix="python/")
    function = zip_tree(function_tree, work / "function.zip")
    return layer, function


def _verdict(report: Report) -> dict[str, Any]:
    """Everything of the report but where the sandbox was and what the import loaded."""
    data = report.to_json()
    checked = data["checked"]
    dynamic = checked.pop("dynamic")
    return {**data, "checked": checked, "imported": (dynamic["ran"], dynamic.get("problem"))}


@pytest.mark.network
@pytest.mark.parametrize("stored", [False, True], ids=["same-build", "from-the-store"])
@pytest.mark.parametrize("tamper", [False, True], ids=["clean-layer", "tampered-layer"])
def test_a_recorded_layer_is_not_read_again_and_the_report_is_the_same(
    pydantic_tree: Callable[[str, str], Path],
    host_target: Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tamper: bool,
    stored: bool,
) -> None:
    """Replayed in the build that verified the layer, or in a later one from the store
    (its ELF facts, pydantic_core's, read back from JSON): the same report."""
    tree = pydantic_tree(host_target.python, f"manylinux2014_{host_target.machine}")
    layer, function = _layer_and_function(tree, tmp_path, tamper=tamper)
    memo = ReadMemo(tmp_path / "memo")
    memo.record(layer)
    alone = verify_with(layer, host_target, VerifyOptions(), container=lambda: None, memo=memo)
    assert alone.ok is not tamper
    sha = "sha256:" + "ab" * 32
    memo.seal(layer, sha, layer)
    if stored:  # a later build: a new memo over the same store
        memo = ReadMemo(tmp_path / "memo")
        assert memo.known(layer) is None
        memo.reuse(layer, "sha256:" + "cd" * 32)  # another artifact: nothing stored
        assert memo.known(layer) is None
        memo.reuse(layer, sha)
        assert memo.known(layer) is not None
    options = VerifyOptions(layers=[layer], handler="handler.lambda_handler")

    fresh = verify_with(function, host_target, options, container=lambda: None)

    read: list[str] = []
    real_read_members = reading.read_members
    real_read_member = reading.read_member

    def spy_members(placed: Any, jobs: Any, sandbox: Any) -> Any:
        read.extend(entry.name for entry, _ in jobs)
        return real_read_members(placed, jobs, sandbox)

    def spy_member(placed: Any, entry: Any, *args: Any) -> Any:
        read.append(entry.name)
        return real_read_member(placed, entry, *args)

    monkeypatch.setattr(f"{CONTENTS}.read_members", spy_members)
    monkeypatch.setattr(f"{CONTENTS}.read_member", spy_member)
    replayed = verify_with(function, host_target, options, container=lambda: None, memo=memo)

    assert read == ["handler.py"]  # only the function's own members were read
    assert _verdict(replayed) == _verdict(fresh)
    assert replayed.checked.dynamic.imported  # the sandbox had the layer: pydantic imported
    if tamper:
        assert "record-mismatch" in replayed.codes()


def test_facts_of_another_verifier_version_are_not_reused(tmp_path: Path) -> None:
    memo = ReadMemo(tmp_path / "memo")
    memo.record(tmp_path / "a.zip").update(a=MemberRead())
    memo.seal(tmp_path / "a.zip", "sha256:" + "ab" * 32, tmp_path / "a.zip")
    facts = next((tmp_path / "memo").rglob("facts.json"))

    def stored() -> bool:
        memo = ReadMemo(tmp_path / "memo")
        memo.reuse(tmp_path / "a.zip", "sha256:" + "ab" * 32)
        return memo.known(tmp_path / "a.zip") is not None

    assert stored()
    facts.write_text(facts.read_text().replace('"verifier": "', '"verifier": "0.0.0-other'))
    assert not stored()
    facts.write_text("not json")
    assert not stored()


def test_an_unsealed_or_failed_recording_is_not_kept(tmp_path: Path) -> None:
    memo = ReadMemo(tmp_path / "memo")
    memo.record(tmp_path / "a.zip")
    assert memo.recording(tmp_path / "a.zip") == {}
    memo.seal(tmp_path / "a.zip", None, tmp_path / "final.zip")  # failed: dropped
    assert memo.known(tmp_path / "final.zip") is None
    assert memo.recording(tmp_path / "a.zip") is None
