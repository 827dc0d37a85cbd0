"""The stack's faults and state: AWS gone mid-run, a restart, a broken build, the CLI."""

from __future__ import annotations

import json
import urllib.request
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

from sentiment_pipeline.cli import main
from sentiment_pipeline.local.stack import Stack, StackError, StackOptions
from tests.e2e.conftest import Served, first_articles, start_stack
from tests.support.newsapi_fake import FakeNewsAPI

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sentiment_pipeline.local.runner import FunctionSpec


def items_of(served: Served) -> dict[str, tuple[str, str | None]]:
    return {
        item["id"]: (item["status"], item["sentiment"])
        for item in served.json("/api/items?limit=100")["items"]
    }


def test_aws_stopped_mid_run_gives_503_and_no_crash(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> None:
    specs = build_backend("zip-in-docker")
    newsapi = FakeNewsAPI(articles=first_articles()).start()
    stack = start_stack(specs, newsapi, tmp_path / "state")
    try:
        served = Served("zip-in-docker", stack, newsapi, specs)
        served.ingest()
        assert items_of(served)
        stack.stop_aws()
        status, _, body = served.call("GET", "/health", key=False)
        assert status == 503, body
        assert json.loads(body)["error"] == "storage_unavailable"
        status, _, body = served.call("GET", "/api/items")
        assert status == 503, body
        status, _, body = served.call("POST", "/_local/ingest")
        assert status in (200, 502), body  # the ingestion Lambda fails or counts failures
        status, _, _ = served.call("GET", "/", key=False)
        assert status == 200  # the functions and the emulator are still up
        assert stack.status()["functions"]["dashboard"]["timeouts"] == 0
    finally:
        stack.stop()  # no hang, no crash: the last snapshot is kept
        newsapi.stop()
    assert (tmp_path / "state" / "items.jsonl").read_text().count("\n") == len(first_articles())


def test_a_restart_with_the_same_state_dir_keeps_the_data_and_the_key(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> None:
    specs = build_backend("zip-in-docker")
    state = tmp_path / "state"
    newsapi = FakeNewsAPI(articles=first_articles()).start()
    try:
        first = start_stack(specs, newsapi, state)
        try:
            served = Served("zip-in-docker", first, newsapi, specs)
            served.ingest()
            before, key = items_of(served), first.api_key
        finally:
            first.stop()
        assert len(before) == len(first_articles())
        assert all(status == "ANALYZED" for status, _ in before.values())
        # An item whose SNS message was in flight at the stop: PENDING in the snapshot.
        snapshot = state / "items.jsonl"
        rows = [json.loads(line) for line in snapshot.read_text().splitlines()]
        pending: dict[str, Any] = rows[0]
        pending["status"] = {"S": "PENDING"}
        for name in ("sentiment", "scores", "model_name", "model_version", "analyzed_at"):
            pending.pop(name, None)
        snapshot.write_text("".join(json.dumps(row) + "\n" for row in rows))
        pending_id = pending["pk"]["S"].removeprefix("ITEM#")

        second = start_stack(specs, newsapi, state)
        try:
            served = Served("zip-in-docker", second, newsapi, specs)
            assert second.api_key == key
            assert second.restored == len(before)
            after = items_of(served)
            assert after[pending_id] == ("PENDING", None)
            assert {k: v for k, v in after.items() if k != pending_id} == {
                k: v for k, v in before.items() if k != pending_id
            }
            # The next ingestion publishes it again (the outbox) and it is analysed.
            result = served.ingest()
            assert result["republished"] == 1
            assert items_of(served) == before
        finally:
            second.stop()
    finally:
        newsapi.stop()


def test_a_damaged_snapshot_stops_the_start_and_is_left_as_it_was(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> None:
    specs = build_backend("zip-in-docker")
    state = tmp_path / "state"
    state.mkdir()
    damaged = '{"pk": {"S": "ITEM#1"}}\n{"pk": {"S": "ITEM#2"}, oops\n'
    (state / "items.jsonl").write_text(damaged)
    newsapi = FakeNewsAPI(articles=first_articles()).start()
    try:
        with pytest.raises(StackError, match=r"items\.jsonl:2: not JSON.*fix or remove"):
            start_stack(specs, newsapi, state)
    finally:
        newsapi.stop()
    assert (state / "items.jsonl").read_text() == damaged  # nothing lost


def _without_shared_objects(path: Path) -> None:
    tmp = path.with_name(path.name + ".strip")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith(".so"):
                dst.writestr(info, src.read(info))
    tmp.replace(path)


def test_a_build_with_its_so_removed_fails_before_anything_is_served(
    repo_copy: Path,
    python313: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from sentiment_pipeline.backends.zip_in_docker import ZipInDocker

    original = ZipInDocker.assemble

    def sabotaged(self: ZipInDocker, artifact: Any, wheels: Any, dest: Path, ctx: Any) -> Any:
        result = original(self, artifact, wheels, dest, ctx)
        _without_shared_objects(dest)  # the incident: pydantic_core's extension is gone
        return result

    monkeypatch.setattr(ZipInDocker, "assemble", sabotaged)
    out, state = tmp_path / "dist", tmp_path / "state"
    code = serve(repo_copy, out, state, "--backend", "zip-in-docker", "--port", "0", "--once")
    err = capsys.readouterr().err
    assert code == 1
    assert "nothing is served" in err
    assert "_pydantic_core" in err and "missing" in err
    assert not (out / "zip-in-docker" / "dashboard.zip").exists()
    assert not state.exists()  # no stack was started


def serve(repo_copy: Path, out: Path, state: Path, *extra: str) -> int:
    """``sentiment-pipeline serve`` of the repository copy's manifest, on any free port."""
    return main(
        [
            "serve",
            "--manifest",
            str(repo_copy / "lambdas.toml"),
            "--out",
            str(out),
            "--state-dir",
            str(state),
            *extra,
        ]
    )


def test_serve_once_with_the_sample_data_prints_a_summary(
    repo_copy: Path, python313: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = serve(
        repo_copy, repo_copy / "dist", tmp_path / "state", "--port", "0", "--sample-data", "--once"
    )
    out = capsys.readouterr().out
    assert code == 0, out
    ingestion = json.loads(out.split("ingestion: ", 1)[1].splitlines()[0])
    assert ingestion["removed"] >= 1 and ingestion["new"] >= 20
    assert "by sentiment: positive" in out
    assert "Harbor Daily" in out  # a source of the bundled sample


def test_a_port_in_use_is_a_clear_error_and_nothing_keeps_running(
    repo_copy: Path, python313: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket
    import threading

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        before = threading.active_count()
        code = serve(
            repo_copy, repo_copy / "dist", tmp_path / "state", "--port", str(port), "--sample-data"
        )
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err and "pick another --port" in err
    assert "Traceback" not in err
    assert threading.active_count() <= before + 1  # the stack's threads were stopped


def test_ingest_with_release_reports_what_the_ingestion_saw_first(
    build_backend: Callable[[str], dict[str, FunctionSpec]], tmp_path: Path
) -> None:
    """`?release=N` answers `released: N` and `released_over_time`: the sample articles its
    clock published since the previous ingestion. `new` counts both, less `[Removed]` ones."""
    specs = build_backend("zip-in-docker")
    options = StackOptions(
        state_dir=tmp_path / "state",
        port=0,
        sample_data=True,
        ingest_every=0,
        ingest_on_start=False,
        release_every=3600,  # the clock releases nothing during the test: the test does
        retry_delay=0.2,
    )
    stack = Stack(specs, options).start()
    try:

        def ingest(query: str = "") -> dict[str, Any]:
            request = urllib.request.Request(
                f"{stack.url}/_local/ingest{query}",
                method="POST",
                headers={"X-API-Key": stack.api_key},
            )
            with urllib.request.urlopen(request, timeout=60) as answer:
                assert answer.status == 200
                result: dict[str, Any] = json.load(answer)
            return result

        first = ingest()  # the sample's 30 articles of history, one of them [Removed]
        assert (first["released"], first["released_over_time"]) == (0, 30)
        assert (first["ingestion"]["new"], first["ingestion"]["removed"]) == (29, 1)
        assert stack.feed is not None
        assert stack.feed.release_next(1) == 1  # stands in for the sample's clock
        second = ingest("?release=2")
        assert (second["released"], second["released_over_time"]) == (2, 1)
        assert second["ingestion"]["new"] == 3
        third = ingest("?release=1")  # the next sample article is a [Removed] one
        assert (third["released"], third["released_over_time"]) == (1, 0)
        assert (third["ingestion"]["new"], third["ingestion"]["removed"]) == (0, 2)
    finally:
        stack.stop()
