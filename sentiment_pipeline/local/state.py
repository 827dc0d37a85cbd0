"""What the local stack keeps between runs, in its state directory.

moto holds everything in memory, so the stack keeps what a user would miss:

- ``state.json``: the dashboard's API key (mode 0600), so a restart keeps the
  key a browser tab or a script already has;
- ``items.jsonl``: the items table, one DynamoDB item (attribute-value JSON) per
  line, sorted by key; written whole to a temporary file, then renamed, so a
  crash mid-write leaves the previous snapshot.

The topic, the queue and the secrets are not kept: the stack re-creates them
with the same names (and so the same ARNs) at every start.
"""

from __future__ import annotations

import json
import os
import secrets
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.errors import PipelineError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["StateDir", "StateError"]


class StateError(PipelineError):
    """A file of the state directory is unreadable."""


def _replace(path: Path, text: str, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.rename(path)


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items_file = path / "items.jsonl"
        self.state_file = path / "state.json"

    def create(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def api_key(self, given: str | None = None) -> str:
        """``given``, else the kept key, else a new random one; kept for the next start."""
        state: dict[str, Any] = {}
        if self.state_file.exists():
            try:
                state = json.loads(self.state_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise StateError(
                    f"{self.state_file} is unreadable ({exc}); remove it or use another --state-dir"
                ) from exc
        key = str(given or state.get("api_key") or secrets.token_urlsafe(24))
        if state.get("api_key") != key:
            _replace(self.state_file, json.dumps({**state, "api_key": key}), 0o600)
        return key

    def write_items(self, items: Iterable[dict[str, Any]]) -> int:
        rows = sorted(items, key=lambda item: str(item.get("pk", {}).get("S", "")))
        _replace(self.items_file, "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows))
        return len(rows)

    def read_items(self) -> list[dict[str, Any]]:
        if not self.items_file.exists():
            return []
        items = []
        text = self.items_file.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                raise StateError(
                    f"{self.items_file}:{number}: not JSON ({exc}); fix or remove the file"
                ) from exc
            if not isinstance(item, dict) or "S" not in item.get("pk", {}):
                raise StateError(
                    f"{self.items_file}:{number}: not a DynamoDB item with a string pk; "
                    "fix or remove the file"
                )
            items.append(item)
        return items
