"""The helpers against a real Orthanc: literal wildcards, multipart decoding, REST-API cleanup."""

import uuid

import pytest
from pydicom.uid import generate_uid

from helpers import connect, encode_multipart_related, read_datasets, read_frames
from helpers.cleanup import delete_study

DICOM_JSON = "application/dicom+json"
MULTIPART_DICOM = 'multipart/related; type="application/dicom"; transfer-syntax=*'
MULTIPART_FRAMES = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'


@pytest.fixture
def client(orthanc):
    return connect({"DICOMWEB_URL": orthanc.dicomweb_url, "DICOMWEB_SERVER": "orthanc"})


@pytest.fixture
def study(client, make_dicom):
    """A fresh two-instance study on Orthanc, with a patient name unique to this test."""
    study_uid, series_uid = generate_uid(), generate_uid()
    name = "Helpers" + uuid.uuid4().hex[:12]
    files = [make_dicom(study_uid, series_uid, patient_name=name, patient_id="HELPERS-1")
             for _ in range(2)]
    body, content_type = encode_multipart_related(files)
    stored = client.session.post(client.url("studies"), data=body,
                                 headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert stored.status_code == 200, stored.text
    yield study_uid, series_uid, name
    delete_study(client, study_uid)


def test_connect_defaults_for_orthanc(client, orthanc) -> None:
    assert (client.base_url, client.config.auth, client.flavor) == (orthanc.dicomweb_url, "none", "orthanc")
    assert client.session.auth is None


def test_wildcard_search_from_params_matches(client, study) -> None:
    study_uid, _, name = study

    response = client.session.get(client.url("studies"), params={"PatientName": name[:10] + "*"},
                                  headers={"Accept": DICOM_JSON})

    assert response.status_code == 200
    assert [s["0020000D"]["Value"][0] for s in response.json()] == [study_uid]


def test_uid_list_search_with_commas(client, study) -> None:
    study_uid, _, _ = study

    response = client.session.get(client.url("studies"),
                                  params={"StudyInstanceUID": f"{study_uid},1.2.3.4"},
                                  headers={"Accept": DICOM_JSON})

    assert [s["0020000D"]["Value"][0] for s in response.json()] == [study_uid]


def test_read_datasets_and_frames_from_orthanc(client, study) -> None:
    study_uid, series_uid, name = study

    datasets = read_datasets(client.session.get(client.url(f"studies/{study_uid}"),
                                                headers={"Accept": MULTIPART_DICOM}))
    sop_uid = datasets[0].SOPInstanceUID
    frames = read_frames(client.session.get(
        client.url(f"studies/{study_uid}/series/{series_uid}/instances/{sop_uid}/frames/1"),
        headers={"Accept": MULTIPART_FRAMES}))

    assert [(ds.StudyInstanceUID, str(ds.PatientName)) for ds in datasets] == [(study_uid, name)] * 2
    assert frames == [bytes(range(16))]


def test_delete_study_removes_it_and_tolerates_absence(client, make_dicom) -> None:
    study_uid = generate_uid()
    body, content_type = encode_multipart_related([make_dicom(study_uid)])
    client.session.post(client.url("studies"), data=body,
                        headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert client.session.get(client.url(f"studies/{study_uid}/metadata")).status_code == 200

    delete_study(client, study_uid)
    delete_study(client, study_uid)  # already gone: no error

    assert client.session.get(client.url(f"studies/{study_uid}/metadata")).status_code == 404
