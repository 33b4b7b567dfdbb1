"""The v2 change feed's pages, in process: every (window, offset, limit) page the Store answers from its
recorded places equals the page worked out by sorting all entries by time then sequence, across data
partitions, deletes, equal timestamps, a restart whose clock went back, and a migrated data dir."""

import random
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mock_server import storage
from mock_server.binding import timestamp_ticks
from mock_server.dicomfile import Accepted, inspect_file
from mock_server.storage import DEFAULT_PARTITION, FeedEntry, Store
from tests.support.part10 import build_instance

OTHER = "ward-b"
V1_DATA_DIR = Path(__file__).parent / "data" / "v1-data-dir"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data")
    yield s
    s.close()


def add(store: Store, partition: str, count: int) -> list[str]:
    """Store ``count`` small instances in ``partition``, one STOW-sized batch; their study UIDs."""
    staged = []
    for _ in range(count):
        inst = build_instance(pixels=False)
        path, f = store.create_file(store.spool_directory())
        with f:
            f.write(inst.data)
        result = inspect_file(path, 2, None)
        assert isinstance(result, Accepted)
        staged.append(result.staged)
    store.add_all(staged, partition)
    return [s.study_uid for s in staged]


def every_entry(store: Store) -> list[FeedEntry]:
    with store.snapshot() as snap:
        return snap.feed_by_sequence(0, 2**62, False, partition=None)


def expected_page(entries: list[FeedEntry], partition: str | None, low: int, high: int, offset: int,
                  limit: int) -> list[int]:
    chosen = [e for e in entries if partition is None or e.partition == partition]
    chosen.sort(key=lambda e: (timestamp_ticks(e.timestamp), e.sequence))
    in_window = [e.sequence for e in chosen if low <= timestamp_ticks(e.timestamp) < high]
    return in_window[offset:offset + limit]


def check_pages(store: Store, seed: int, tries: int = 300) -> None:
    entries = every_entry(store)
    ticks = sorted({timestamp_ticks(e.timestamp) for e in entries})
    rng = random.Random(seed)
    for _ in range(tries):
        partition = rng.choice([DEFAULT_PARTITION, OTHER, None])
        start = rng.choice([None, *ticks])
        end = rng.choice([None, *ticks, ticks[-1] + 1])
        offset, limit = rng.randrange(0, len(entries) + 3), rng.randrange(1, 12)
        with store.snapshot() as snap:
            got = [e.sequence for e in snap.feed_by_time(start, end, offset, limit, False, partition=partition)]
        low = start if start is not None else -(2**63)
        high = end if end is not None else 2**63 - 1
        assert got == expected_page(entries, partition, low, high, offset, limit), (partition, start, end, offset)


def test_pages_across_partitions_deletes_and_equal_timestamps(store: Store) -> None:
    store.get_or_add_partition(OTHER)
    studies = add(store, DEFAULT_PARTITION, 6)
    add(store, OTHER, 4)
    add(store, DEFAULT_PARTITION, 3)
    assert store.delete(studies[2], partition=DEFAULT_PARTITION) == 1
    add(store, OTHER, 5)
    entries = every_entry(store)
    assert len(entries) == 19 and [e.action for e in entries].count("Delete") == 1
    check_pages(store, seed=1)


def test_a_clock_that_went_back_while_closed_keeps_the_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Store(tmp_path / "data")
    add(s, DEFAULT_PARTITION, 4)
    newest = every_entry(s)[-1].timestamp
    s.close()

    class Earlier(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return datetime(2001, 1, 1, tzinfo=timezone.utc)

    monkeypatch.setattr(storage, "datetime", Earlier)
    s = Store(tmp_path / "data")
    try:
        add(s, DEFAULT_PARTITION, 3)
        entries = every_entry(s)
        # The new entries take the newest stored time, not 2001: the feed's time order stays its append order.
        assert [e.timestamp for e in entries[4:]] == [newest] * 3
        check_pages(s, seed=2, tries=100)
    finally:
        s.close()


def test_a_version_1_data_dir_gets_its_places(tmp_path: Path) -> None:
    shutil.copytree(V1_DATA_DIR, tmp_path / "data")
    s = Store(tmp_path / "data")
    try:
        add(s, DEFAULT_PARTITION, 3)
        with sqlite3.connect(tmp_path / "data" / "index.sqlite") as db:
            places = db.execute("SELECT position, all_position FROM changefeed ORDER BY sequence").fetchall()
        assert places == [(n, n) for n in range(5)]
        check_pages(s, seed=3, tries=100)
    finally:
        s.close()


def test_a_dir_an_older_emulator_opened_again_opens(tmp_path: Path) -> None:
    # An emulator of schema version 1 writes version 1 back and adds feed entries without places.
    s = Store(tmp_path / "data")
    add(s, DEFAULT_PARTITION, 3)
    s.close()
    with sqlite3.connect(tmp_path / "data" / "index.sqlite") as db:
        db.execute("PRAGMA user_version=1")
        db.execute("INSERT INTO changefeed (partition, study_uid, series_uid, sop_uid, action, timestamp, ticks)"
                   " SELECT partition, study_uid, series_uid, sop_uid, 'Delete', timestamp, ticks FROM changefeed"
                   " ORDER BY sequence DESC LIMIT 1")
    s = Store(tmp_path / "data")
    try:
        add(s, DEFAULT_PARTITION, 2)
        with sqlite3.connect(tmp_path / "data" / "index.sqlite") as db:
            assert db.execute("PRAGMA user_version").fetchone() == (2,)
            places = db.execute("SELECT position FROM changefeed ORDER BY sequence").fetchall()
        assert places == [(n,) for n in range(6)]
        check_pages(s, seed=4, tries=100)
    finally:
        s.close()
