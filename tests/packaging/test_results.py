"""A build's results and its report.json: typed values, written whole, read back for reuse."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import attrs

from sentiment_pipeline._version import __version__
from sentiment_pipeline.packaging.results import (
    ArtifactResult,
    BuildResult,
    mib,
    read_report,
    write_report,
)
from sentiment_pipeline.packaging.slimming import DistributionSize
from sentiment_pipeline.packaging.verify import Problem, ProblemCode

if TYPE_CHECKING:
    from pathlib import Path

MISSING = Problem(ProblemCode.HANDLER_MISSING, "app/main.py", "app/main.py has no 'nope'.")


def result(name: str, *, ok: bool = True, key: str | None = None) -> ArtifactResult:
    return ArtifactResult(
        name=name,
        kind="function",
        backend="zip-in-docker",
        path=f"/out/zip-in-docker/{name}.zip",
        runtime="python3.13",
        architecture="x86_64",
        ok=ok,
        cache_hit=False,
        seconds=1.25,
        key=key or f"sha256:{name}",
        sha256="ab" * 32 if ok else None,
        native=("m.so",),
        problems=() if ok else (MISSING,),
        notes=("a note",),
        layers=("/out/zip-in-docker/layers/common.zip",),
    )


def test_an_artifact_reads_back_from_its_json_with_typed_problems() -> None:
    failed = result("api", ok=False)
    data = json.loads(json.dumps(failed.to_json()))
    assert data["problems"] == [
        {"code": "handler-missing", "path": "app/main.py", "message": "app/main.py has no 'nope'."}
    ]
    assert data["native"] == ["m.so"] and data["layers"] == [failed.layers[0]]
    back = ArtifactResult.from_json(data)
    assert back == failed
    assert back.problems[0].code is ProblemCode.HANDLER_MISSING


def test_warnings_read_back_from_the_json_apart_from_problems() -> None:
    warning = Problem(ProblemCode.UNRESOLVED_IMPORT, "app/main.py:3", "app/main.py imports x.")
    with_warning = attrs.evolve(result("api"), warnings=(warning,))
    data = json.loads(json.dumps(with_warning.to_json()))
    assert data["problems"] == [] and data["warnings"][0]["code"] == "unresolved-import"
    assert ArtifactResult.from_json(data) == with_warning


def test_the_json_of_an_artifact_keeps_its_keys() -> None:
    assert list(result("api").to_json()) == [
        "name",
        "kind",
        "backend",
        "path",
        "runtime",
        "architecture",
        "ok",
        "cache_hit",
        "seconds",
        "key",
        "sha256",
        "zipped",
        "unzipped",
        "files",
        "native",
        "compiled",
        "problems",
        "warnings",
        "dynamic",
        "notes",
        "layers",
        "distributions",
        "slim",
        "pushed",
        "source_code_hash",
    ]


def test_a_report_is_written_whole_and_read_back_keeping_only_verified_artifacts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out" / "zip-in-docker" / "report.json"
    artifacts = [result("api"), result("worker", ok=False)]
    write_report(path, backend="zip-in-docker", engine="none", artifacts=artifacts)
    data = json.loads(path.read_text())
    assert (data["backend"], data["engine"], data["builder"]) == (
        "zip-in-docker",
        "none",
        __version__,
    )
    assert [a["name"] for a in data["artifacts"]] == ["api", "worker"]
    assert path.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.json"]
    assert read_report(path) == {"sha256:api": artifacts[0]}


def test_a_missing_or_damaged_report_reuses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    assert read_report(path) == {}
    for text in ("{not json", "[]", '{"artifacts": [{"ok": true}]}', '{"artifacts": [1]}'):
        path.write_text(text)
        assert read_report(path) == {}, text
    entry = result("api").to_json()
    path.write_text(json.dumps({"artifacts": [{**entry, "from_a_later_version": 1}]}))
    assert read_report(path) == {"sha256:api": result("api")}  # unknown keys are ignored


def test_a_build_is_ok_only_when_every_artifact_is() -> None:
    ok = result("api")
    assert BuildResult((ok,), ()).ok
    assert not BuildResult((ok, attrs.evolve(ok, ok=False)), ()).ok


def test_distribution_sizes_read_back_from_the_json_largest_first() -> None:
    sizes = (
        DistributionSize("pandas", "2.2.3", 27_577_987, saved=31_813_077, removed=1573),
        DistributionSize("numpy", "2.1.3", 39_000_479),
    )
    slimmed = attrs.evolve(result("api"), distributions=sizes, slim="slim")
    data = json.loads(json.dumps(slimmed.to_json()))
    assert data["distributions"][0] == {
        "name": "pandas",
        "version": "2.2.3",
        "unzipped": 27_577_987,
        "saved": 31_813_077,
        "removed": 1573,
    }
    back = ArtifactResult.from_json(data)
    assert back == slimmed and back.saved == 31_813_077


def test_sizes_are_printed_in_mib_so_a_limit_in_mib_reads_right() -> None:
    # 255 MB is 243.2 MiB: printed as MB it looked over the 250 MiB limit, and
    # 262 MB (249.9 MiB, legal) looked far over it.
    assert mib(255 * 10**6) == "243.2 MiB"
    assert mib(250 * 2**20 + 1) == "250.0 MiB" and mib(251 * 2**20) == "251.0 MiB"
    assert mib(7_000) == "6.8 KiB"  # a small function beside its layer is not "0.0 MiB"


def test_a_zip_reports_terraforms_source_code_hash_the_base64_of_its_sha256(
    tmp_path: Path,
) -> None:
    import base64
    import hashlib

    data = b"PK\x05\x06" + b"\0" * 18  # an empty zip
    (tmp_path / "api.zip").write_bytes(data)
    built = attrs.evolve(
        result("api"), path=str(tmp_path / "api.zip"), sha256=hashlib.sha256(data).hexdigest()
    )
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert built.to_json()["source_code_hash"] == expected
    write_report(
        tmp_path / "report.json", backend="zip-in-docker", engine="none", artifacts=[built]
    )
    (entry,) = json.loads((tmp_path / "report.json").read_text())["artifacts"]
    assert entry["source_code_hash"] == expected


def test_an_image_or_a_failed_artifact_has_no_source_code_hash() -> None:
    image = attrs.evolve(
        result("api"), path="/out/container-image/api", pushed="h:5000/sp/api@sha256:" + "c" * 64
    )
    assert image.to_json()["source_code_hash"] is None
    assert result("api", ok=False).to_json()["source_code_hash"] is None
    assert ArtifactResult.from_json(image.to_json()).pushed == image.pushed
