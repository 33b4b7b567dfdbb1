"""encode_multipart_related / decode_multipart / read_datasets / read_frames."""

import pytest

from helpers.multipart import (decode_body, decode_multipart, encode_multipart_related,
                               read_datasets, read_frames)

# Binary payloads that contain what a naive parser would trip over: CRLFs, blank lines, dashes.
TRICKY = [b"\x00\x01\r\n\r\n--not-a-boundary\r\n\xff", b"\r\n", b"plain", b""]


def test_encode_gives_standard_content_type_and_wire_format() -> None:
    body, content_type = encode_multipart_related([b"AAA", b"BB"], boundary="b0und")

    assert content_type == 'multipart/related; type="application/dicom"; boundary=b0und'
    assert body == (b"--b0und\r\nContent-Type: application/dicom\r\n\r\nAAA\r\n"
                    b"--b0und\r\nContent-Type: application/dicom\r\n\r\nBB\r\n"
                    b"--b0und--\r\n")


def test_default_boundary_is_random_and_named_in_content_type() -> None:
    body1, type1 = encode_multipart_related([b"x"])
    body2, type2 = encode_multipart_related([b"x"])

    assert type1 != type2
    boundary = type1.split("boundary=")[1]
    assert body1.startswith(f"--{boundary}\r\n".encode())
    assert body1.endswith(f"--{boundary}--\r\n".encode())


def test_round_trip_keeps_binary_content_and_part_headers(make_response) -> None:
    body, content_type = encode_multipart_related(TRICKY)
    response = make_response(200, body, {"Content-Type": content_type})

    parts = decode_multipart(response)

    assert [p.content for p in parts] == TRICKY
    assert all(p.headers == {"content-type": "application/dicom"} for p in parts)
    assert all(p.content_type == "application/dicom" for p in parts)


@pytest.mark.parametrize("content_type", [
    "multipart/related; boundary=B-1",                                   # Azure: no type=
    'multipart/related; type="application/dicom"; boundary=B-1',
    'multipart/related; boundary="B-1"; type="application/dicom"',       # quoted, type last
    # Orthanc folds the transfer syntax into the quoted type, with a ";" inside the quotes.
    'multipart/related; type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"; '
    "boundary=B-1",
])
def test_decode_finds_the_boundary_whatever_the_parameters(make_response, content_type) -> None:
    body = (b"--B-1\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
            b"\r\nContent-Location: /frames/1\r\n\r\n\x01\x02\r\n--B-1--\r\n")

    [part] = decode_multipart(make_response(200, body, {"Content-Type": content_type}))

    assert part.content == b"\x01\x02"
    assert part.headers == {
        "content-type": "application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1",
        "content-location": "/frames/1"}


def test_part_without_headers_decodes_with_empty_headers() -> None:
    [part] = decode_body(b"--B\r\n\r\npayload\r\n--B--\r\n", "multipart/related; boundary=B")

    assert part.headers == {}
    assert part.content_type == ""
    assert part.content == b"payload"


def test_decode_rejects_a_non_multipart_response_clearly(make_response) -> None:
    response = make_response(404, b"The specified study cannot be found.",
                             {"Content-Type": "text/plain; charset=utf-8"})

    with pytest.raises(ValueError, match="expected a multipart response, got 404"):
        decode_multipart(response)


def test_decode_rejects_multipart_without_boundary(make_response) -> None:
    with pytest.raises(ValueError, match="boundary"):
        decode_multipart(make_response(200, b"--x--", {"Content-Type": "multipart/related"}))


@pytest.mark.parametrize("boundary", ["has space", "semi;colon", "x" * 71, 'quo"te', "new\nline",
                                      "trailing\n"])
def test_bad_boundary_is_refused(boundary: str) -> None:
    with pytest.raises(ValueError, match="boundary"):
        encode_multipart_related([b"x"], boundary=boundary)


def test_boundary_inside_a_part_is_refused() -> None:
    with pytest.raises(ValueError, match="occurs inside a part"):
        encode_multipart_related([b"abc\r\n--clash\r\n"], boundary="clash")


def test_read_datasets_from_multipart_and_single_part(make_response, make_dicom) -> None:
    files = [make_dicom(patient_id="PID-1"), make_dicom(patient_id="PID-2")]
    body, content_type = encode_multipart_related(files)

    multi = read_datasets(make_response(200, body, {"Content-Type": content_type}))
    single = read_datasets(make_response(200, files[0], {
        "Content-Type": "application/dicom; transfer-syntax=1.2.840.10008.1.2.1"}))

    assert [ds.PatientID for ds in multi] == ["PID-1", "PID-2"]
    assert [ds.PatientID for ds in single] == ["PID-1"]


def test_read_frames_returns_raw_part_bytes(make_response) -> None:
    frame = bytes(range(256)) * 3
    body = (b"--F\r\nContent-Type: application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1"
            b"\r\n\r\n" + frame + b"\r\n--F--\r\n")

    frames = read_frames(make_response(200, body, {"Content-Type": "multipart/related; boundary=F"}))

    assert frames == [frame]


def test_read_frames_refuses_an_error_response(make_response) -> None:
    response = make_response(404, b"The specified frame cannot be found.",
                             {"Content-Type": "text/plain; charset=utf-8"})

    with pytest.raises(ValueError, match="got 404"):
        read_frames(response)
