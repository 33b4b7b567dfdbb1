"""Accept negotiation as Azure's AcceptHeaderHandler does it: any-media-type descriptors, unquoted
``type=``, several ranges with quality and the ``transfer-syntax=*`` preference, and the 406 cases."""

import pytest
from pydicom.uid import ImplicitVRLittleEndian, JPEGBaseline8Bit

from tests.emulator.emulator_testlib import PLAIN, read_multipart, send
from tests.support.part10 import as_stored, build_instance
from tests.support.stow import stow

EXPLICIT = "1.2.840.10008.1.2.1"
NOT_ACCEPTABLE = "The request headers are not acceptable"
DICOM_ANY = 'multipart/related; type="application/dicom"; transfer-syntax=*'
DICOM_DEFAULT = 'multipart/related; type="application/dicom"'


def multi_instance_406(syntax: str) -> str:
    # DicomCoreResource.RetrieveServiceMultiInstanceTranscodingNotSupported
    return (f"Accept transfer syntax '{syntax}' is not supported when multiple instances are matched. Matching "
            "instances can be retrieved with their original transfer syntax by specifying 'transfer-syntax=*' "
            "in the Accept header.")


@pytest.fixture
def mixed_study(emulator_client):
    """Two instances in one series, one stored explicit VR, one implicit VR."""
    a = build_instance()
    b = build_instance(study=a.study, series=a.series, transfer_syntax=ImplicitVRLittleEndian)
    assert stow(emulator_client, [a.data, b.data]).status_code == 202  # implicit VR: warning 45063
    return a, b


@pytest.fixture
def jpeg_instance(stored):
    return stored(transfer_syntax=JPEGBaseline8Bit, encapsulated_frames=[b"\xff\xd8frame-01\xff\xd9"],
                  BitsAllocated=8, BitsStored=8, HighBit=7)


def get(client, path, accept):
    return send(client, "GET", f"{client.base}/{path}", accept)


@pytest.mark.parametrize("level", ["study", "series"])
def test_multipart_any_media_type_returns_each_instance_as_stored(emulator_client, mixed_study, level):
    a, b = mixed_study
    path = f"studies/{a.study}" + (f"/series/{a.series}" if level == "series" else "")
    response = get(emulator_client, path, 'multipart/related; type="*/*"')
    assert response.status_code == 200
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [f"application/dicom; transfer-syntax={EXPLICIT}",
                                                     f"application/dicom; transfer-syntax={ImplicitVRLittleEndian}"]
    assert [body for _, body in parts] == [as_stored(a.data), as_stored(b.data)]


@pytest.mark.parametrize("level", ["study", "series"])
def test_bare_any_media_type_on_study_or_series_is_406(emulator_client, mixed_study, level):
    # ToAcceptHeader makes a bare */* single part; study and series descriptors are multipart only.
    a, _ = mixed_study
    path = f"studies/{a.study}" + (f"/series/{a.series}" if level == "series" else "")
    response = get(emulator_client, path, "*/*")
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == NOT_ACCEPTABLE


def test_bare_any_media_type_on_an_instance_is_multipart_as_stored(emulator_client, mixed_study):
    _, b = mixed_study
    response = get(emulator_client, b.path, "*/*")
    assert response.status_code == 200
    assert read_multipart(response) == [
        ({"content-type": f"application/dicom; transfer-syntax={ImplicitVRLittleEndian}"}, as_stored(b.data))]


@pytest.mark.parametrize("accept", [f'multipart/related; type="*/*"; transfer-syntax={EXPLICIT}', DICOM_DEFAULT,
                                    f"{DICOM_DEFAULT}; transfer-syntax={EXPLICIT}"])
def test_several_instances_in_a_named_syntax_are_406(emulator_client, mixed_study, accept):
    a, _ = mixed_study
    response = get(emulator_client, f"studies/{a.study}", accept)
    assert response.status_code == 406
    assert response.text == multi_instance_406(EXPLICIT)


@pytest.mark.parametrize("accept", [
    # At equal or higher quality, a later range asking for transfer-syntax=* replaces the first pick.
    f"{DICOM_DEFAULT}, {DICOM_ANY}",
    f"{DICOM_DEFAULT}; q=0.5, {DICOM_ANY}",
    f"{DICOM_ANY}; q=0.9, image/png",
    f"image/png, {DICOM_ANY}",
])
def test_a_range_with_any_transfer_syntax_wins(emulator_client, mixed_study, accept):
    a, _ = mixed_study
    response = get(emulator_client, f"studies/{a.study}", accept)
    assert response.status_code == 200
    assert len(read_multipart(response)) == 2


@pytest.mark.parametrize("accept", [
    f"{DICOM_DEFAULT}, {DICOM_ANY}; q=0.9",  # lower quality: the first pick stays
    f"{DICOM_DEFAULT}; q=abc, {DICOM_ANY}; q=0.9",  # a q that does not parse counts as 1
])
def test_a_lower_quality_any_transfer_syntax_does_not_win(emulator_client, mixed_study, accept):
    a, _ = mixed_study
    response = get(emulator_client, f"studies/{a.study}", accept)
    assert response.status_code == 406
    assert response.text == multi_instance_406(EXPLICIT)


def test_a_line_starting_with_multipart_makes_every_range_multipart(emulator_client, mixed_study):
    # ToAcceptHeader tests the buffer behind the media type, which is the whole Accept line.
    a, _ = mixed_study
    assert get(emulator_client, f"studies/{a.study}", 'multipart/related; type="image/png", */*').status_code == 200
    assert get(emulator_client, f"studies/{a.study}", '*/*, multipart/related; type="image/png"').status_code == 406


@pytest.mark.parametrize("accept", ['multipart/related; type="*/*"', "*/*",
                                    "multipart/related; type=application/octet-stream; transfer-syntax=*"])
def test_frames_as_stored_for_dicomweb_client_and_ohif_defaults(emulator_client, stored, accept):
    # dicomweb-client's frames default, a bare */*, and OHIF's unquoted type= (omitQuotationForMultipartRequest).
    inst = stored(frames=3)
    response = get(emulator_client, f"{inst.path}/frames/2,3", accept)
    assert response.status_code == 200
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [f"application/octet-stream; transfer-syntax={EXPLICIT}"] * 2
    assert [body for _, body in parts] == inst.frames[1:]


def test_any_media_type_frames_of_a_compressed_instance_are_the_original_fragments(emulator_client, jpeg_instance):
    response = get(emulator_client, f"{jpeg_instance.path}/frames/1", 'multipart/related; type="*/*"')
    assert response.status_code == 200
    assert read_multipart(response) == [
        ({"content-type": f"application/octet-stream; transfer-syntax={JPEGBaseline8Bit}"}, jpeg_instance.frames[0])]


def test_unquoted_type_on_instance_retrieve(emulator_client, stored):
    inst = stored()
    response = get(emulator_client, inst.path, "multipart/related; type=application/dicom; transfer-syntax=*")
    assert response.status_code == 200
    assert read_multipart(response)[0][1] == as_stored(inst.data)


@pytest.mark.parametrize("accept", ['multipart/related; type="image/jp2"; transfer-syntax=*',
                                    'multipart/related; type="*/*"; transfer-syntax=1.2.840.10008.1.2.4.90',
                                    "application/dicom", "multipart/related"])
def test_unacceptable_frames_accept_is_406(emulator_client, stored, accept):
    inst = stored()
    response = get(emulator_client, f"{inst.path}/frames/1", accept)
    assert response.status_code == 406
    assert response.text == NOT_ACCEPTABLE
