"""The local stack's state directory: the key and the table snapshot."""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

import pytest

from sentiment_pipeline.local.state import StateDir, StateError

if TYPE_CHECKING:
    from pathlib import Path


def test_the_key_is_generated_once_kept_private_and_overridable(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    first = state.api_key()
    assert len(first) >= 32
    assert StateDir(tmp_path).api_key() == first
    assert stat.S_IMODE(state.state_file.stat().st_mode) == 0o600
    assert state.api_key("chosen-key") == "chosen-key"
    assert StateDir(tmp_path).api_key() == "chosen-key"


def test_items_round_trip_sorted_and_replace_the_previous_snapshot(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert state.read_items() == []
    items = [{"pk": {"S": f"ITEM#{n}"}, "title": {"S": f"t{n}"}} for n in (3, 1, 2)]
    assert state.write_items(items) == 3
    assert [i["pk"]["S"] for i in state.read_items()] == ["ITEM#1", "ITEM#2", "ITEM#3"]
    state.write_items(items[:1])
    assert state.read_items() == items[:1]
    assert [p.name for p in tmp_path.iterdir()] == ["items.jsonl"]  # no temp file left


@pytest.mark.parametrize(
    ("text", "problem"),
    [("{not json\n", "not JSON"), ('{"title": {"S": "x"}}\n', "string pk"), ("[1]\n", "string pk")],
)
def test_a_damaged_snapshot_is_a_clear_error_naming_the_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    state = StateDir(tmp_path)
    state.items_file.write_text('{"pk": {"S": "ITEM#1"}}\n' + text)
    with pytest.raises(StateError, match=rf"items\.jsonl:2: .*{problem}.*fix or remove"):
        state.read_items()


def test_a_damaged_key_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("{oops")
    with pytest.raises(StateError, match=r"unreadable.*another --state-dir"):
        StateDir(tmp_path).api_key()
