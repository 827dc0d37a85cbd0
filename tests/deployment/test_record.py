"""dist/deploy.json: written whole, read as the CLI prints it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sentiment_pipeline.deployment.record import DeployRecord, FunctionRecord, render
from sentiment_pipeline.deployment.smoke import SmokeResult

if TYPE_CHECKING:
    from pathlib import Path


def test_the_record_is_written_whole_and_renders_a_failed_smoke(tmp_path: Path) -> None:
    smoke = SmokeResult("aws", False, 0.1, "ValueError", "boom", None, ("[ERROR] boom",))
    function = FunctionRecord(
        "api",
        "prod-api",
        "live",
        "3",
        "4",
        "abc=",
        None,
        None,
        ("code uploaded", "published version 4"),
        smoke,
    )
    record = DeployRecord(region="eu-west-1", functions=(function,)).write(tmp_path / "deploy.json")
    assert [p.name for p in tmp_path.iterdir()] == ["deploy.json"]
    data = json.loads((tmp_path / "deploy.json").read_text())
    assert data["ok"] is False and data["functions"][0]["smoke"]["error_type"] == "ValueError"
    assert render(record).splitlines()[:3] == [
        "api -> prod-api: code uploaded; published version 4; smoke FAILED (aws): ValueError: "
        "boom (CodeSha256 abc=)",
        "api -> prod-api: alias live stays at version 3: no traffic reaches version 4",
        "api -> prod-api: log: [ERROR] boom",
    ]


def test_a_dry_run_renders_its_plan() -> None:
    record = DeployRecord(region="eu-west-1", dry_run=True, plan=("layer x: unchanged",))
    assert render(record) == "dry run: nothing was changed\nlayer x: unchanged"
