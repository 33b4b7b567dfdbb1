"""Durability: a restart keeps everything acknowledged, a SIGKILL mid-upload leaves nothing half-written."""

import sqlite3
import subprocess
import sys
import shutil
import stat
import threading
from pathlib import Path

import pydicom
import requests

from tests.emulator.emulator_testlib import read_multipart, session_for
from tests.support.part10 import build_instance
from tests.support.data_dir import index_rows, unindexed_files
from tests.support.stow import DICOM_JSON, stow

ANY = "application/dicom; transfer-syntax=*"


def retrieve(client, inst) -> requests.Response:
    return client.get(f"{client.base}/{inst.path}", headers={"Accept": ANY})


def test_restart_keeps_instances_and_change_feed(own_emulator, tmp_path):
    first = own_emulator(tmp_path / "data")
    client = session_for(first)
    instances = [build_instance(frames=2) for _ in range(3)]
    assert stow(client, [i.data for i in instances]).status_code == 200
    feed_before = client.get(f"{client.base}/changefeed").json()
    first.stop()

    second = own_emulator(tmp_path / "data")
    client = session_for(second)
    for inst in instances:
        response = retrieve(client, inst)
        assert response.status_code == 200
        assert response.content == b"\0" * 128 + inst.data[128:]
    assert client.get(f"{client.base}/changefeed").json() == feed_before
    # A token minted for the first run still works: the secret lives in the data dir.
    assert requests.get(f"{second.base_url()}/changefeed",
                        headers={"Authorization": f"Bearer {first.token()}"}).status_code == 200


def test_sigkill_during_concurrent_uploads(own_emulator, tmp_path):
    data_dir = tmp_path / "data"
    emu = own_emulator(data_dir)
    acknowledged: dict[str, object] = {}
    attempted: dict[str, object] = {}
    lock = threading.Lock()
    enough = threading.Event()

    def upload(worker: int) -> None:
        client = session_for(emu)
        while True:
            batch = [build_instance(frames=8, rows=128, columns=128) for _ in range(2)]
            with lock:
                attempted.update({i.sop: i for i in batch})
            try:
                response = stow(client, [i.data for i in batch])
            except requests.RequestException:
                return  # the server is gone
            if response.status_code != 200:
                return
            with lock:
                acknowledged.update({i.sop: i for i in batch})
                if len(acknowledged) >= 24:
                    enough.set()

    workers = [threading.Thread(target=upload, args=(n,)) for n in range(4)]
    for w in workers:
        w.start()
    assert enough.wait(120), "uploads did not make progress"
    emu.process.kill()  # SIGKILL while the other uploads are still in flight
    emu.process.wait()
    for w in workers:
        w.join(60)

    restarted = own_emulator(data_dir)
    client = session_for(restarted)
    for inst in acknowledged.values():
        response = retrieve(client, inst)
        assert response.status_code == 200
        assert response.content == b"\0" * 128 + inst.data[128:]
    # Uploads cut short are either absent or complete; never partial.
    for sop, inst in attempted.items():
        if sop in acknowledged:
            continue
        response = retrieve(client, inst)
        assert response.status_code in (200, 404)
        if response.status_code == 200:
            assert response.content == b"\0" * 128 + inst.data[128:]
    # The index and the files agree exactly: no part of a request cut short survived.
    rows = index_rows(data_dir)
    files = {p.relative_to(data_dir / "files").as_posix(): p.stat().st_size
             for p in (data_dir / "files").rglob("*") if p.is_file()}
    assert files == {name: size for _, name, size in rows}
    assert set(acknowledged) <= {sop for sop, _, _ in rows}


def test_startup_removes_unindexed_files_and_an_older_versions_tmp(own_emulator, tmp_path):
    data_dir = tmp_path / "data"
    emu = own_emulator(data_dir)
    inst = build_instance()
    assert stow(session_for(emu), [inst.data]).status_code == 200
    emu.stop()
    (_, stored_name, _), = index_rows(data_dir)
    # A part of a request cut short by a crash, beside a stored file, and a file in a directory of its own.
    cut_short = data_dir / "files" / Path(stored_name).parent / "cut-short.dcm"
    cut_short.write_bytes(b"half an upload")
    orphan = data_dir / "files" / "zz" / "orphan.dcm"
    orphan.parent.mkdir()
    orphan.write_bytes(inst.data)
    # Earlier versions spooled parts to tmp/.
    legacy = data_dir / "tmp" / "leftover.part"
    legacy.parent.mkdir()
    legacy.write_bytes(b"half an upload")

    client = session_for(own_emulator(data_dir))
    assert not cut_short.exists()
    assert not orphan.exists()
    assert not legacy.parent.exists()
    assert unindexed_files(data_dir) == []
    assert retrieve(client, inst).status_code == 200


def test_second_emulator_on_the_same_data_dir_is_refused(own_emulator, tmp_path):
    own_emulator(tmp_path / "data")
    result = subprocess.run([sys.executable, "-m", "mock_server", "--port", "0", "--data-dir", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "another emulator is already using" in result.stderr


def test_in_memory_keeps_nothing(own_emulator, tmp_path):
    data_dir = tmp_path / "data"
    emu = own_emulator(data_dir, in_memory=True)
    client = session_for(emu)
    inst = build_instance()
    assert stow(client, [inst.data]).status_code == 200
    assert retrieve(client, inst).status_code == 200
    emu.stop()
    assert not (data_dir / "index.sqlite").exists()
    client = session_for(own_emulator(data_dir, in_memory=True))
    assert retrieve(client, inst).status_code == 404
    assert client.get(f"{client.base}/studies/{inst.study}/metadata", headers={"Accept": DICOM_JSON}
                      ).status_code == 404


def test_stored_files_are_valid_part10_with_zero_preamble(own_emulator, tmp_path):
    emu = own_emulator(tmp_path / "data")
    inst = build_instance()
    assert stow(session_for(emu), [inst.data]).status_code == 200
    (_, name, size), = index_rows(tmp_path / "data")
    path = tmp_path / "data" / "files" / name
    assert path.stat().st_size == size == len(inst.data)
    assert path.read_bytes()[:132] == b"\0" * 128 + b"DICM"
    assert pydicom.dcmread(path).SOPInstanceUID == inst.sop


V0_DATA_DIR = Path(__file__).parent / "data" / "v0-data-dir"


def test_data_dir_of_the_previous_version_opens_with_everything_in_it(own_emulator, tmp_path):
    """data/v0-data-dir was written by the emulator before the study/series index (one instances table):
    study 2.25.1001 (two instances, the older one with a StudyDescription and two frames), study
    2.25.2001 (MR) and study 2.25.3001, stored then deleted."""
    data_dir = tmp_path / "data"
    shutil.copytree(V0_DATA_DIR, data_dir)
    emu = own_emulator(data_dir)
    client = session_for(emu)
    # Its files were written under the umask; they are made private.
    assert {stat.S_IMODE(p.stat().st_mode) for p in (data_dir / "files").rglob("*") if p.is_file()} == {0o600}
    studies = client.get(f"{client.base}/studies", params={"includefield": "NumberOfStudyRelatedInstances"},
                         headers={"Accept": DICOM_JSON}).json()
    by_uid = {s["0020000D"]["Value"][0]: s for s in studies}
    assert set(by_uid) == {"2.25.1001", "2.25.2001"}
    # Rebuilt by Azure's rule: the older instance's StudyDescription is kept, the newer PatientName wins.
    assert by_uid["2.25.1001"]["00081030"] == {"vr": "LO", "Value": ["Migrated study"]}
    assert by_uid["2.25.1001"]["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "Newer^Name"}]}
    assert by_uid["2.25.1001"]["00201208"] == {"vr": "IS", "Value": [2]}
    assert [s["0020000D"]["Value"][0] for s in studies] == ["2.25.2001", "2.25.1001"]
    mr = client.get(f"{client.base}/series", params={"Modality": "MR", "PatientID": "MIG-2"},
                    headers={"Accept": DICOM_JSON})
    assert [s["0020000E"]["Value"][0] for s in mr.json()] == ["2.25.2002"]

    frame = client.get(f"{client.base}/studies/2.25.1001/series/2.25.1002/instances/2.25.1003/frames/2",
                       headers={"Accept": "application/octet-stream; transfer-syntax=*"})
    assert frame.status_code == 200 and len(frame.content) == 4 * 5 * 2
    assert client.get(f"{client.base}/studies/2.25.3001/metadata", headers={"Accept": DICOM_JSON}).status_code == 404

    feed = client.get(f"{client.base}/changefeed", params={"includeMetadata": "false"}).json()
    assert [(e["sequence"], e["sopInstanceUid"], e["action"], e["state"]) for e in feed] == [
        (1, "2.25.1003", "Create", "Current"), (2, "2.25.1004", "Create", "Current"),
        (3, "2.25.2003", "Create", "Current"), (4, "2.25.3003", "Create", "Deleted"),
        (5, "2.25.3003", "Delete", "Deleted")]
    v2_feed = client.get(f"{client.base}/changefeed", params={"startTime": feed[0]["timestamp"],
                                                             "includeMetadata": "false"}).json()
    assert [e["sequence"] for e in v2_feed] == [1, 2, 3, 4, 5]

    # Watermarks and sequences go on from where the old index stopped.
    new = build_instance(study="2.25.1001", series="2.25.1002")
    assert stow(client, [new.data]).status_code == 200
    latest = client.get(f"{client.base}/changefeed/latest").json()
    assert latest["sequence"] == 6 and latest["sopInstanceUid"] == new.sop
    assert index_rows(data_dir)[-1][0] == new.sop
    emu.stop()
    # Opening it again does not migrate twice.
    again = session_for(own_emulator(data_dir))
    assert len(again.get(f"{again.base}/changefeed", params={"includeMetadata": "false"}).json()) == 6


V1_DATA_DIR = Path(__file__).parent / "data" / "v1-data-dir"
OCTET_ANY = "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"


def _frames(client, sop: str, frames: str):
    url = f"{client.base}/studies/2.25.5001/series/2.25.5002/instances/{sop}/frames/{frames}"
    return client.get(url, headers={"Accept": OCTET_ANY})


def test_data_dir_of_schema_version_1_opens_and_new_stores_record_their_frame_layout(own_emulator, tmp_path):
    """data/v1-data-dir was written by the emulator at index schema version 1 (commit 76d2709, before the
    frame-layout columns): study 2.25.5001 with a native instance of 3 frames of 4x5 16-bit pixels
    (2.25.5003, StudyDescription "Written by schema version 1") and a JPEG 2000 one of 2 frames whose
    fragments are the bytes FF4FFF51 + frame-one / frame-two (2.25.5004)."""
    data_dir = tmp_path / "data"
    shutil.copytree(V1_DATA_DIR, data_dir)
    emu = own_emulator(data_dir)
    client = session_for(emu)
    studies = client.get(f"{client.base}/studies", params={"includefield": "NumberOfStudyRelatedInstances"},
                         headers={"Accept": DICOM_JSON}).json()
    assert [(s["0020000D"]["Value"][0], s["00081030"]["Value"][0], s["00201208"]["Value"][0]) for s in studies] == [
        ("2.25.5001", "Written by schema version 1", 2)]
    # Its instances have no recorded layout: their frames are found in the file, as before.
    native = [body for _, body in read_multipart(_frames(client, "2.25.5003", "3,1"))]
    assert [len(b) for b in native] == [4 * 5 * 2] * 2 and native[0] != native[1]
    assert _frames(client, "2.25.5003", "4").status_code == 404
    jp2 = [body for _, body in read_multipart(_frames(client, "2.25.5004", "2"))]
    assert jp2 == [b"\xff\x4f\xff\x51frame-two\0"]  # the fragment as stored, padded to an even length
    # An instance stored now records where its frames lie, and is served from that record.
    new = build_instance(study="2.25.5001", series="2.25.5002", frames=3, rows=6, columns=7)
    assert stow(client, [new.data]).status_code == 200
    with sqlite3.connect(data_dir / "index.sqlite") as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        layouts = dict(db.execute("SELECT sop_uid, frame_bytes FROM instances").fetchall())
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert layouts == {"2.25.5003": None, "2.25.5004": None, new.sop: 6 * 7 * 2}
    assert "changefeed_instance" not in indexes and "changefeed_position" in indexes  # the unused one dropped
    served = client.get(f"{client.base}/{new.path}/frames/3,2", headers={"Accept": OCTET_ANY})
    assert [body for _, body in read_multipart(served)] == [new.frames[2], new.frames[1]]
    emu.stop()
    # Opened again: nothing migrates twice, and everything is still there.
    again = session_for(own_emulator(data_dir))
    assert len(again.get(f"{again.base}/studies/2.25.5001/metadata", headers={"Accept": DICOM_JSON}).json()) == 3
