"""WADO-RS frames: byte ranges of native pixel data, encapsulated fragments, and the 400/404/406 rules."""

import pytest
from pydicom.uid import JPEGBaseline8Bit

from tests.emulator.emulator_testlib import PLAIN, read_multipart, send

OCTET_ANY = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
EXPLICIT = "1.2.840.10008.1.2.1"


@pytest.fixture
def multiframe(stored):
    return stored(frames=4, rows=6, columns=7)


def frames_url(client, inst, frames):
    return f"{client.base}/{inst.path}/frames/{frames}"


@pytest.mark.parametrize("accept", [OCTET_ANY, 'multipart/related; type="application/octet-stream"', "*/*",
                                    f'multipart/related; type="application/octet-stream"; transfer-syntax={EXPLICIT}'])
def test_frames_are_returned_in_request_order(emulator_client, multiframe, accept):
    response = emulator_client.get(frames_url(emulator_client, multiframe, "3,1,4"), headers={"Accept": accept})
    assert response.status_code == 200
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [f"application/octet-stream; transfer-syntax={EXPLICIT}"] * 3
    assert [body for _, body in parts] == [multiframe.frames[2], multiframe.frames[0], multiframe.frames[3]]


def test_v2_single_part_frame(emulator_client, multiframe):
    response = emulator_client.get(frames_url(emulator_client, multiframe, "2"),
                                   headers={"Accept": "application/octet-stream; transfer-syntax=*"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"application/octet-stream; transfer-syntax={EXPLICIT}"
    assert response.content == multiframe.frames[1]
    # Streamed as Azure's single-part ObjectResult is: chunked, no Content-Length.
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.headers


# Azure binds the list with int.TryParse and NumberStyles.Any (IntArrayModelBinder): a sign, a zero
# fraction, an exponent, leading zeros or the invariant currency symbol "¤" still name frame 2.
@pytest.mark.parametrize("frames", ["+2", "2.0", "2e0", "20e-1", "%202%20", "0000000002", "%C2%A42", "2,+2"])
def test_frame_numbers_bind_as_dotnet_parses_them(emulator_client, multiframe, frames):
    response = emulator_client.get(frames_url(emulator_client, multiframe, frames), headers={"Accept": OCTET_ANY})
    assert response.status_code == 200
    assert all(body == multiframe.frames[1] for _, body in read_multipart(response))


def test_a_frame_number_within_int_but_past_the_last_is_404(emulator_client, multiframe):
    for frames, status in (("2147483647", 404), ("2147483648", 400), ("5", 404)):
        response = emulator_client.get(frames_url(emulator_client, multiframe, frames), headers={"Accept": OCTET_ANY})
        assert response.status_code == status, frames


@pytest.mark.parametrize("accept", ["image/png", "application/dicom+json", None])
def test_a_bad_frame_list_is_400_whatever_the_accept(emulator_client, multiframe, accept):
    response = send(emulator_client, "GET", frames_url(emulator_client, multiframe, "0,x"), accept)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert "frames" in response.text


def test_single_part_accept_with_several_frames_is_400(emulator_client, multiframe):
    response = emulator_client.get(frames_url(emulator_client, multiframe, "1,2"),
                                   headers={"Accept": "application/octet-stream; transfer-syntax=*"})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == ("The accept header is supported for single frame retrieval, use multi-part accept "
                             "header instead.")


def test_v1_serves_single_part_frames_too(v1_client, multiframe):
    # One descriptor table for every API version (AcceptHeaderHandler; both conformance statements).
    url = f"{v1_client.base}/{multiframe.path}/frames/1"
    response = v1_client.get(url, headers={"Accept": "application/octet-stream; transfer-syntax=*"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"application/octet-stream; transfer-syntax={EXPLICIT}"
    assert response.content == multiframe.frames[0]


@pytest.mark.parametrize("frames", ["0", "-1", "1,,2", "a", "1.5", "", " ", "1,0", "(1)", "1e", "1-",
                                    "%C2%B2", "%D9%A1", "1,%EF%BC%92"])  # only ASCII digits are numbers
def test_bad_frame_list_is_400(emulator_client, multiframe, frames):
    response = emulator_client.get(frames_url(emulator_client, multiframe, frames), headers={"Accept": OCTET_ANY})
    if frames in ("", " "):
        # An empty last segment does not reach the frames route at all.
        assert response.status_code in (400, 404)
    else:
        assert response.status_code == 400
        assert response.headers["Content-Type"] == PLAIN
        assert "frames" in response.text


@pytest.mark.parametrize("frames", ["5", "1,5", "99999"])
def test_frame_beyond_the_last_is_404(emulator_client, multiframe, frames):
    response = emulator_client.get(frames_url(emulator_client, multiframe, frames), headers={"Accept": OCTET_ANY})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == "The specified frame cannot be found."


def test_instance_without_pixel_data_has_no_frames(emulator_client, stored):
    inst = stored(pixels=False)
    response = emulator_client.get(frames_url(emulator_client, inst, "1"), headers={"Accept": OCTET_ANY})
    assert response.status_code == 404
    assert response.text == "The specified frame cannot be found."


def test_missing_instance_is_404(emulator_client, multiframe):
    url = f"{emulator_client.base}/studies/{multiframe.study}/series/{multiframe.series}/instances/1.2.404/frames/1"
    response = emulator_client.get(url, headers={"Accept": OCTET_ANY})
    assert response.status_code == 404
    assert response.text == "The specified instance cannot be found."


@pytest.mark.parametrize("accept", [None, "application/dicom", 'multipart/related; type="application/dicom"',
                                    'multipart/related; type="image/jp2"',
                                    'multipart/related; type="application/octet-stream"; '
                                    'transfer-syntax=1.2.840.10008.1.2.4.50',
                                    "image/png"])
def test_unacceptable_frames_accept_is_406(emulator_client, multiframe, accept):
    response = send(emulator_client, "GET", frames_url(emulator_client, multiframe, "1"), accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == PLAIN


def test_encapsulated_frames_as_stored(emulator_client, stored):
    fragments = [b"\xff\xd8frame-one\xff\xd9", b"\xff\xd8frame-two!\xff\xd9"]
    inst = stored(frames=2, transfer_syntax=JPEGBaseline8Bit, encapsulated_frames=fragments,
                  BitsAllocated=8, BitsStored=8, HighBit=7)
    response = emulator_client.get(frames_url(emulator_client, inst, "2,1"), headers={"Accept": OCTET_ANY})
    assert response.status_code == 200
    parts = read_multipart(response)
    assert [h["content-type"] for h, _ in parts] == [
        f"application/octet-stream; transfer-syntax={JPEGBaseline8Bit}"] * 2
    # Fragments are padded to even length inside the file, as PS3.5 requires.
    assert [body.rstrip(b"\0") for _, body in parts] == [fragments[1], fragments[0]]
    # Uncompressed frames need transcoding, and these fragments are no JPEG: the codec fails (Azure's
    # TranscodingException).
    response = emulator_client.get(frames_url(emulator_client, inst, "1"),
                                   headers={"Accept": 'multipart/related; type="application/octet-stream"'})
    assert response.status_code == 406
    assert response.text == "The specified transcoding is not supported."


def test_large_frames_are_exact(emulator_client, stored):
    inst = stored(frames=3, rows=300, columns=400)
    response = emulator_client.get(frames_url(emulator_client, inst, "2"), headers={"Accept": OCTET_ANY})
    assert read_multipart(response)[0][1] == inst.frames[1]
    assert len(inst.frames[1]) == 300 * 400 * 2


def test_a_restored_instance_serves_its_new_frames(emulator_client, stored):
    # The emulator remembers where a stored file's frames lie; a new version of the instance is a new file.
    first = stored(frames=3, rows=6, columns=7)
    url = frames_url(emulator_client, first, "2")
    assert read_multipart(emulator_client.get(url, headers={"Accept": OCTET_ANY}))[0][1] == first.frames[1]
    assert emulator_client.delete(f"{emulator_client.base}/{first.path}").status_code == 204
    second = stored(study=first.study, series=first.series, sop=first.sop, frames=2, rows=9, columns=4)
    assert second.frames[1] != first.frames[1]
    assert read_multipart(emulator_client.get(url, headers={"Accept": OCTET_ANY}))[0][1] == second.frames[1]
    third = emulator_client.get(frames_url(emulator_client, first, "3"), headers={"Accept": OCTET_ANY})
    assert third.status_code == 404
