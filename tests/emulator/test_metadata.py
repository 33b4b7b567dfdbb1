"""WADO-RS metadata: DICOM JSON arrays without bulk data, ETag and 304."""

import pytest

from tests.emulator.emulator_testlib import DICOM_JSON_UTF8, PLAIN, send
from tests.support.part10 import build_instance
from tests.support.stow import DICOM_JSON, stow


def test_instance_metadata_is_an_array_without_bulk_data(emulator_client, stored):
    inst = stored(ImageComments="synthetic", WindowCenter="2048", WindowWidth="4096.5")
    response = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata", headers={"Accept": DICOM_JSON})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DICOM_JSON_UTF8
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    meta = body[0]
    assert list(meta) == sorted(meta)
    assert "7FE00010" not in meta  # PixelData (OW) is bulk data
    assert not any(k.startswith("0002") for k in meta)  # no file meta information
    assert meta["00080018"] == {"vr": "UI", "Value": [inst.sop]}
    assert meta["00100010"] == {"vr": "PN", "Value": [{"Alphabetic": "Synthetic^Patient"}]}
    assert meta["00080023"] == {"vr": "DA"}  # empty ContentDate has no Value
    assert meta["00200013"] == {"vr": "IS", "Value": [1]}
    assert meta["00281050"] == {"vr": "DS", "Value": [2048]}
    assert meta["00281051"] == {"vr": "DS", "Value": [4096.5]}
    assert meta["00280010"] == {"vr": "US", "Value": [4]}


def test_study_and_series_metadata_list_every_instance(emulator_client):
    a = build_instance()
    b = build_instance(study=a.study, series=a.series)
    c = build_instance(study=a.study)
    assert stow(emulator_client, [a.data, b.data, c.data]).status_code == 200
    study = emulator_client.get(f"{emulator_client.base}/studies/{a.study}/metadata",
                                headers={"Accept": DICOM_JSON}).json()
    assert [m["00080018"]["Value"][0] for m in study] == [a.sop, b.sop, c.sop]
    series = emulator_client.get(f"{emulator_client.base}/studies/{a.study}/series/{a.series}/metadata",
                                 headers={"Accept": DICOM_JSON}).json()
    assert [m["00080018"]["Value"][0] for m in series] == [a.sop, b.sop]


def test_etag_and_if_none_match(emulator_client):
    a = build_instance()
    assert stow(emulator_client, [a.data]).status_code == 200
    url = f"{emulator_client.base}/studies/{a.study}/metadata"
    first = emulator_client.get(url, headers={"Accept": DICOM_JSON})
    etag = first.headers["ETag"]
    watermark, count = etag.split("-")
    assert count == "1" and watermark.isdigit()
    instance_etag = emulator_client.get(f"{emulator_client.base}/{a.path}/metadata",
                                        headers={"Accept": DICOM_JSON}).headers["ETag"]
    assert instance_etag == watermark
    not_modified = emulator_client.get(url, headers={"Accept": DICOM_JSON, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert "ETag" not in not_modified.headers  # MetadataResult adds the ETag only to a 200
    # IsCacheValid compares the whole header with the ETag: a quoted, weak or listed value is a miss.
    for value in (f'"{etag}"', f"W/{etag}", f"{etag}, 1-1", f"1-1, {etag}"):
        missed = emulator_client.get(url, headers={"Accept": DICOM_JSON, "If-None-Match": value})
        assert missed.status_code == 200, value
        assert missed.headers["ETag"] == etag
    # A new instance changes the study's ETag, so the old one no longer matches.
    assert stow(emulator_client, [build_instance(study=a.study).data]).status_code == 200
    changed = emulator_client.get(url, headers={"Accept": DICOM_JSON, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"].endswith("-2")
    assert len(changed.json()) == 2


@pytest.mark.parametrize("accept", [None, "", "application/dicom", "multipart/related; type=\"application/dicom\"",
                                    "text/html"])
def test_unacceptable_accept_is_406_with_empty_body(emulator_client, stored, accept):
    inst = stored()
    response = send(emulator_client, "GET", f"{emulator_client.base}/{inst.path}/metadata", accept)
    assert response.status_code == 406
    assert response.content == b""


@pytest.mark.parametrize("accept", ["*/*", "application/json", "application/*"])
def test_json_accepts(emulator_client, stored, accept):
    inst = stored()
    response = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == DICOM_JSON_UTF8


def test_missing_study_metadata_is_404(emulator_client):
    response = emulator_client.get(f"{emulator_client.base}/studies/1.2.3.4.404/metadata",
                                   headers={"Accept": DICOM_JSON})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == "The specified study cannot be found."


def test_bad_uid_metadata_is_400(emulator_client):
    response = emulator_client.get(f"{emulator_client.base}/studies/abc/metadata", headers={"Accept": DICOM_JSON})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
