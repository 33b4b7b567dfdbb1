"""``stow.in_place``: which STOW requests are stored on the event loop rather than in a worker thread."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian

from mock_server import storage
from mock_server.storage import Store
from mock_server.stow import in_place, store_parts
from tests.support.part10 import build_instance


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data")
    yield s
    s.close()


def spooled(store: Store, *datas: bytes) -> tuple[list[Path], dict[Path, bytes]]:
    paths = []
    for data in datas:
        path, f = store.create_file(store.spool_directory())
        with f:
            f.write(data)
        paths.append(path)
    return paths, dict(zip(paths, datas, strict=True))


def test_one_small_part_on_a_quick_disk_is_stored_in_place(store):
    paths, contents = spooled(store, build_instance().data)
    store._sync_seconds = 0.0003
    assert in_place(store, paths, contents)


def test_anything_else_goes_to_the_worker_thread(store):
    data = build_instance().data
    paths, contents = spooled(store, data)
    assert not in_place(store, paths, contents)  # no fsync measured yet
    store._sync_seconds = 0.01
    assert not in_place(store, paths, contents)  # a slow disk
    store._sync_seconds = 0.0003
    assert not in_place(store, paths, {})  # the part was not kept in memory
    two, both = spooled(store, data, build_instance().data)
    assert not in_place(store, two, both)
    deflated, kept = spooled(store, build_instance(transfer_syntax=DeflatedExplicitVRLittleEndian).data)
    assert not in_place(store, deflated, kept)  # inflating may take long
    with store._write_lock:
        assert not in_place(store, paths, contents)  # another write would hold the loop up
    store._syncs_running = 1
    assert not in_place(store, paths, contents)  # and so would another request's fsyncs
    store._syncs_running = 0
    assert in_place(store, paths, contents)
    large, kept_large = spooled(store, build_instance(rows=200, columns=200).data)
    assert len(kept_large[large[0]]) > 64 * 1024 and not in_place(store, large, kept_large)


def test_the_disk_counts_as_slow_after_slow_fsyncs(store, monkeypatch):
    paths, contents = spooled(store, build_instance().data)
    store._sync_seconds = 0.0003
    real = storage._fsync_file

    def slow(path: Path) -> None:
        time.sleep(0.05)
        real(path)

    monkeypatch.setattr(storage, "_fsync_file", slow)
    store.sync_files(paths)
    assert not store.syncs_are_quick and not in_place(store, paths, contents)


def test_the_loop_gives_way_when_another_write_takes_the_writer_lock_first(store):
    inst = build_instance()
    paths, contents = spooled(store, inst.data)
    with store._write_lock:
        assert store_parts(store, paths, 2, None, "http://h/v2", contents=contents, wait=False) is None
    assert [p.exists() for p in paths] == [True]  # nothing stored, nothing removed: the worker thread goes on
    response = store_parts(store, paths, 2, None, "http://h/v2", contents=contents)
    assert response.status_code == 200 and paths == []  # stored: its path taken out of the list
