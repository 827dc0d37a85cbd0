"""The local table across restarts: restored from the state directory, saved back to it."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from sentiment_pipeline.aws.dynamodb import OUTBOX
from sentiment_pipeline.local.snapshots import TableSnapshots
from sentiment_pipeline.local.state import StateDir

if TYPE_CHECKING:
    from pathlib import Path

    from sentiment_pipeline.aws.provision import Resources
    from sentiment_pipeline.local.motoclients import MotoClients

WAIT = 60.0  # a bound on waits for a condition, never a timing assertion


def item(number: int, status: str) -> dict[str, Any]:
    return {
        "pk": {"S": f"ITEM#{number}"},
        "title": {"S": f"story {number}"},
        "status": {"S": status},
    }


def snapshots(
    state: StateDir, moto: MotoClients, resources: Resources, stop: threading.Event | None = None
) -> TableSnapshots:
    return TableSnapshots(
        state, moto.client, lambda: resources.table, stop=stop or threading.Event()
    )


def scan(moto: MotoClients, table: str) -> list[dict[str, Any]]:
    items = moto.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(items, key=lambda i: str(i["pk"]["S"]))


def test_the_saved_table_is_restored_with_pending_items_back_in_the_outbox(
    moto_clients: MotoClients, resources: Resources, tmp_path: Path
) -> None:
    state = StateDir(tmp_path)
    saved = [item(n, "ANALYZED") for n in range(30)] + [item(30, "PENDING")]  # > one batch
    state.write_items(saved)
    table = snapshots(state, moto_clients, resources)
    assert not table.active

    assert table.restore(resources.table) == 31
    assert table.active
    restored = {i["pk"]["S"]: i for i in scan(moto_clients, resources.table)}
    assert len(restored) == 31
    # Its SNS message was lost with the queue: the next ingestion publishes it again.
    assert restored["ITEM#30"][OUTBOX] == {"S": "PENDING"}
    assert OUTBOX not in restored["ITEM#0"]


def test_an_empty_state_directory_restores_nothing(
    moto_clients: MotoClients, resources: Resources, tmp_path: Path
) -> None:
    table = snapshots(StateDir(tmp_path), moto_clients, resources)
    assert table.restore(resources.table) == 0
    assert table.active  # the (empty) table holds the state from now on


def test_a_write_saves_the_table_as_it_is(
    moto_clients: MotoClients, resources: Resources, tmp_path: Path
) -> None:
    state = StateDir(tmp_path)
    table = snapshots(state, moto_clients, resources)
    table.restore(resources.table)
    moto_clients.client("dynamodb").put_item(TableName=resources.table, Item=item(1, "PENDING"))
    assert table.write() == 1
    assert state.read_items() == [item(1, "PENDING")]


def test_a_change_is_saved_by_the_running_snapshots(
    moto_clients: MotoClients, resources: Resources, tmp_path: Path
) -> None:
    state, stop = StateDir(tmp_path), threading.Event()
    table = snapshots(state, moto_clients, resources, stop)
    table.restore(resources.table)
    thread = threading.Thread(target=table.run)
    thread.start()
    try:
        moto_clients.client("dynamodb").put_item(TableName=resources.table, Item=item(2, "NEW"))
        table.changed()
        deadline = time.monotonic() + WAIT
        while state.read_items() != [item(2, "NEW")] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert state.read_items() == [item(2, "NEW")]
    finally:
        stop.set()
        thread.join()
