"""WADO-RS retrieve of studies, series and instances: Accept negotiation and the bytes returned."""

import io

import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from tests.emulator.emulator_testlib import PLAIN, invalid_uid_text, read_multipart, send
from tests.support.part10 import as_stored, build_instance
from tests.support.stow import stow

EXPLICIT = "1.2.840.10008.1.2.1"
ANY_TS = 'multipart/related; type="application/dicom"; transfer-syntax=*'


@pytest.fixture
def study(emulator_client):
    """A study of three instances in two series."""
    a = build_instance()
    b = build_instance(study=a.study, series=a.series)
    c = build_instance(study=a.study)
    assert stow(emulator_client, [a.data, b.data, c.data]).status_code == 200
    return a, b, c


def get(client, path, accept=None):
    return send(client, "GET", f"{client.base}/{path}", accept)


@pytest.mark.parametrize("accept", [ANY_TS, 'multipart/related; type="*/*"',
                                    "multipart/related; type=application/dicom; transfer-syntax=*",
                                    'multipart/related; type="application/dicom"; transfer-syntax=*; q=0.5'])
def test_study_retrieve_returns_every_instance_as_stored(emulator_client, study, accept):
    a, b, c = study
    response = get(emulator_client, f"studies/{a.study}", accept)
    assert response.status_code == 200
    assert "type=" not in response.headers["Content-Type"]
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [f"application/dicom; transfer-syntax={EXPLICIT}"] * 3
    assert [body for _, body in parts] == [as_stored(a.data), as_stored(b.data), as_stored(c.data)]


def test_series_retrieve_returns_the_series_only(emulator_client, study):
    a, b, _ = study
    response = get(emulator_client, f"studies/{a.study}/series/{a.series}", ANY_TS)
    assert response.status_code == 200
    assert [body for _, body in read_multipart(response)] == [as_stored(a.data), as_stored(b.data)]


@pytest.mark.parametrize("accept", ['multipart/related; type="application/dicom"',
                                    f'multipart/related; type="application/dicom"; transfer-syntax={EXPLICIT}'])
def test_multi_instance_retrieve_without_any_transfer_syntax_is_406(emulator_client, study, accept):
    a, _, _ = study
    for path in (f"studies/{a.study}", f"studies/{a.study}/series/{a.series}"):
        response = get(emulator_client, path, accept)
        assert response.status_code == 406
        assert response.headers["Content-Type"] == PLAIN
        assert "transfer-syntax=*" in response.text


def test_single_instance_study_in_default_syntax_is_200(emulator_client):
    inst = build_instance()
    assert stow(emulator_client, [inst.data]).status_code == 200
    response = get(emulator_client, f"studies/{inst.study}", 'multipart/related; type="application/dicom"')
    assert response.status_code == 200
    assert read_multipart(response) == [({"content-type": f"application/dicom; transfer-syntax={EXPLICIT}"},
                                         as_stored(inst.data))]


@pytest.mark.parametrize("accept", [
    None, "application/dicom", "application/dicom; transfer-syntax=*",
    'multipart/related; type="application/octet-stream"; transfer-syntax=*',
    'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.4.100',
    "multipart/related", "multipart/related; transfer-syntax=*", "image/png", "not/valid/at/all",
    "*/*",  # ToAcceptHeader makes a bare */* single part; a study accepts only multipart
])
def test_unacceptable_study_retrieve_is_406(emulator_client, study, accept):
    a, _, _ = study
    response = get(emulator_client, f"studies/{a.study}", accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN
    assert response.text


@pytest.mark.parametrize("accept,multipart", [
    ("application/dicom; transfer-syntax=*", False),
    ("application/dicom", False),
    (f"application/dicom; transfer-syntax={EXPLICIT}", False),
    ('multipart/related; type="application/dicom"', True),
    (ANY_TS, True),
    ("*/*", True),
    ("text/html, application/dicom; q=0.2", False),
])
def test_instance_retrieve(emulator_client, study, accept, multipart):
    a, _, _ = study
    response = get(emulator_client, a.path, accept)
    assert response.status_code == 200
    if multipart:
        assert read_multipart(response) == [({"content-type": f"application/dicom; transfer-syntax={EXPLICIT}"},
                                             as_stored(a.data))]
    else:
        assert response.headers["Content-Type"] == f"application/dicom; transfer-syntax={EXPLICIT}"
        assert response.content == as_stored(a.data)


@pytest.mark.parametrize("accept", [None, "application/octet-stream", "multipart/related"])
def test_unacceptable_instance_retrieve_is_406(emulator_client, study, accept):
    a, _, _ = study
    response = get(emulator_client, a.path, accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN


def test_instance_stored_implicit_is_transcoded_unless_any_transfer_syntax(emulator_client):
    # application/dicom means Explicit VR LE: an implicit-VR file (pydicom's test files, many modalities'
    # output) is transcoded, as on Azure; transfer-syntax=* gives it as stored.
    inst = build_instance(transfer_syntax=ImplicitVRLittleEndian)
    assert stow(emulator_client, [inst.data]).status_code == 202
    response = get(emulator_client, inst.path, "application/dicom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"application/dicom; transfer-syntax={EXPLICIT}"
    ds = pydicom.dcmread(io.BytesIO(response.content))
    assert ds.file_meta.TransferSyntaxUID == EXPLICIT
    assert ds.SOPInstanceUID == inst.sop
    assert ds.PixelData == b"".join(inst.frames)
    response = get(emulator_client, inst.path, "application/dicom; transfer-syntax=*")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/dicom; transfer-syntax=1.2.840.10008.1.2"
    assert response.content == as_stored(inst.data)


@pytest.mark.parametrize("level,message", [("study", "The specified study cannot be found."),
                                           ("series", "The specified series cannot be found."),
                                           ("instance", "The specified instance cannot be found.")])
def test_missing_resource_is_404(emulator_client, study, level, message):
    a, _, _ = study
    path = {"study": "studies/1.2.3.404", "series": f"studies/{a.study}/series/1.2.3.404",
            "instance": f"studies/{a.study}/series/{a.series}/instances/1.2.3.404"}[level]
    response = get(emulator_client, path, ANY_TS if level != "instance" else "application/dicom")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == message


@pytest.mark.parametrize("path,name", [("studies/1.2.x", "StudyInstanceUid"),
                                       ("studies/1.2/series/1.2.", "SeriesInstanceUid"),
                                       ("studies/1.2/series/1.3/instances/" + "9" * 65, "SopInstanceUid")])
def test_bad_uid_is_400(emulator_client, path, name):
    response = get(emulator_client, path, ANY_TS)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == invalid_uid_text(name)


def test_large_study_retrieve_returns_every_instance_in_order(emulator_client):
    """More instances than the emulator opens before the status (256): the rest open as they stream."""
    first = build_instance(pixels=False)
    instances = [first] + [build_instance(study=first.study, series=first.series, pixels=False)
                           for _ in range(299)]
    assert stow(emulator_client, [i.data for i in instances]).status_code == 200
    parts = read_multipart(get(emulator_client, f"studies/{first.study}", ANY_TS))
    assert [body for _, body in parts] == [as_stored(i.data) for i in instances]
    assert emulator_client.delete(f"{emulator_client.base}/studies/{first.study}").status_code == 204
