"""DELETE (Azure-only): 204 then 404 at each level, 400 for a bad UID, one change-feed entry per instance."""

import sqlite3

import pytest

from tests.emulator.emulator_testlib import PLAIN, invalid_uid_text
from tests.support.part10 import build_instance
from tests.support.stow import DICOM_JSON, stow


def metadata_status(client, path):
    return client.get(f"{client.base}/{path}/metadata", headers={"Accept": DICOM_JSON}).status_code


def changefeed_rows(emulator, sop):
    with sqlite3.connect(emulator.data_dir / "index.sqlite") as conn:
        return conn.execute("SELECT action FROM changefeed WHERE sop_uid=? ORDER BY sequence", (sop,)).fetchall()


def test_delete_instance_then_series_then_study(emulator_client, emulator):
    a = build_instance()
    b = build_instance(study=a.study, series=a.series)
    c = build_instance(study=a.study)
    assert stow(emulator_client, [a.data, b.data, c.data]).status_code == 200

    response = emulator_client.delete(f"{emulator_client.base}/{a.path}")
    assert response.status_code == 204
    assert response.content == b""
    assert metadata_status(emulator_client, a.path) == 404
    assert metadata_status(emulator_client, b.path) == 200
    again = emulator_client.delete(f"{emulator_client.base}/{a.path}")
    assert again.status_code == 404
    assert again.headers["Content-Type"] == PLAIN
    assert again.text == "The specified instance cannot be found."

    series = f"{emulator_client.base}/studies/{a.study}/series/{a.series}"
    assert emulator_client.delete(series).status_code == 204
    assert metadata_status(emulator_client, b.path) == 404
    assert metadata_status(emulator_client, c.path) == 200
    assert emulator_client.delete(series).text == "The specified series cannot be found."

    study = f"{emulator_client.base}/studies/{a.study}"
    assert emulator_client.delete(study).status_code == 204
    assert metadata_status(emulator_client, f"studies/{a.study}") == 404
    response = emulator_client.delete(study)
    assert response.status_code == 404
    assert response.text == "The specified study cannot be found."

    for inst in (a, b, c):
        assert changefeed_rows(emulator, inst.sop) == [("Create",), ("Delete",)]


def test_delete_removes_the_files(emulator_client, emulator):
    inst = build_instance()
    files_before = set((emulator.data_dir / "files").rglob("*.dcm"))
    assert stow(emulator_client, [inst.data]).status_code == 200
    added = set((emulator.data_dir / "files").rglob("*.dcm")) - files_before
    assert len(added) == 1
    assert emulator_client.delete(f"{emulator_client.base}/{inst.path}").status_code == 204
    assert not next(iter(added)).exists()


def test_store_again_after_delete(emulator_client, emulator):
    inst = build_instance()
    assert stow(emulator_client, [inst.data]).status_code == 200
    assert emulator_client.delete(f"{emulator_client.base}/studies/{inst.study}").status_code == 204
    assert stow(emulator_client, [inst.data]).status_code == 200
    assert metadata_status(emulator_client, inst.path) == 200
    assert changefeed_rows(emulator, inst.sop) == [("Create",), ("Delete",), ("Create",)]


@pytest.mark.parametrize("path,name", [("studies/notAStudyInstanceUid", "StudyInstanceUid"),
                                       ("studies/1.2/series/1.2.a", "SeriesInstanceUid"),
                                       ("studies/1.2/series/1.3/instances/1.4.", "SopInstanceUid")])
def test_malformed_uid_is_400(emulator_client, path, name):
    response = emulator_client.delete(f"{emulator_client.base}/{path}")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == invalid_uid_text(name)


def test_delete_ignores_accept(emulator_client):
    inst = build_instance()
    assert stow(emulator_client, [inst.data]).status_code == 200
    response = emulator_client.delete(f"{emulator_client.base}/{inst.path}", headers={"Accept": "anything/at+all"})
    assert response.status_code == 204
