"""mock_server.negotiation, in process: Azure's AcceptHeaderHandler choices for WADO-RS and rendered."""

import pytest

from mock_server.errors import DicomError
from mock_server.negotiation import (
    EXPLICIT_VR_LE, JPEG2000_LOSSLESS, MULTIPLE_ACCEPT, NOT_ACCEPTABLE, ORIGINAL, AcceptHeader, Choice, accept_headers,
    negotiate, negotiate_rendered,
)

DICOM = "application/dicom"
OCTETS = "application/octet-stream"


@pytest.mark.parametrize(("header", "parsed"), [
    (None, []),
    ("nonsense", []),
    ("application/dicom", [AcceptHeader(DICOM, False, "", 1.0)]),
    ('multipart/related; type="Application/DICOM"; transfer-syntax=*; q=0.4',
     [AcceptHeader(DICOM, True, ORIGINAL, 0.4)]),
    ("multipart/related", [AcceptHeader("", True, "", 1.0)]),  # no type parameter
    # A line that starts with multipart/related makes every range multipart (Azure tests the buffer).
    ('multipart/related; type="application/dicom", application/dicom',
     [AcceptHeader(DICOM, True, "", 1.0), AcceptHeader(DICOM, True, "", 1.0)]),
    ('application/dicom, multipart/related; type="application/dicom"',
     [AcceptHeader(DICOM, False, "", 1.0), AcceptHeader(DICOM, True, "", 1.0)]),
    # A q that is not a plain decimal in 0..1 counts as missing.
    ("application/dicom; q=1.5", [AcceptHeader(DICOM, False, "", 1.0)]),
    ("application/dicom; q=-0.1", [AcceptHeader(DICOM, False, "", 1.0)]),
    ("application/dicom; q=.5", [AcceptHeader(DICOM, False, "", 1.0)]),
    ("application/dicom; q=0.25", [AcceptHeader(DICOM, False, "", 0.25)]),
])
def test_accept_headers(header: str | None, parsed: list[AcceptHeader]) -> None:
    assert accept_headers(header) == parsed


@pytest.mark.parametrize(("resource", "header", "choice"), [
    # A part type without a transfer syntax gets the descriptor's default.
    ("instance", "application/dicom", Choice(False, DICOM, EXPLICIT_VR_LE)),
    ("instance", 'multipart/related; type="application/dicom"', Choice(True, DICOM, EXPLICIT_VR_LE)),
    ("instance", "application/dicom; transfer-syntax=*", Choice(False, DICOM, ORIGINAL)),
    ("study", f'multipart/related; type="application/dicom"; transfer-syntax={JPEG2000_LOSSLESS}',
     Choice(True, DICOM, JPEG2000_LOSSLESS)),
    # */* is answered as multipart, in the original syntax.
    ("instance", "*/*", Choice(True, DICOM, ORIGINAL)),
    ("series", 'multipart/related; type="*/*"', Choice(True, DICOM, ORIGINAL)),
    ("frames", "*/*", Choice(True, OCTETS, ORIGINAL)),
    ("frames", 'multipart/related; type="application/octet-stream"', Choice(True, OCTETS, EXPLICIT_VR_LE)),
    ("frames", "application/octet-stream", Choice(False, OCTETS, EXPLICIT_VR_LE)),
    ("frames", 'multipart/related; type="image/jp2"', Choice(True, "image/jp2", JPEG2000_LOSSLESS)),
    # Highest quality first; the first acceptable range is kept ...
    ("instance", "application/dicom; q=0.5, */*; q=0.9", Choice(True, DICOM, ORIGINAL, 0.9)),
    ("instance", "application/dicom; q=0.9, */*; q=0.5", Choice(False, DICOM, EXPLICIT_VR_LE, 0.9)),
    # ... unless a later one asks for transfer-syntax=* at an equal or higher quality.
    ("instance", "application/dicom, application/dicom; transfer-syntax=*", Choice(False, DICOM, ORIGINAL)),
    ("instance", "application/dicom, application/dicom; transfer-syntax=*; q=0.5",
     Choice(False, DICOM, EXPLICIT_VR_LE)),
    # An unacceptable range is passed over.
    ("instance", "image/png, application/dicom; q=0.1", Choice(False, DICOM, EXPLICIT_VR_LE, 0.1)),
])
def test_negotiate(resource: str, header: str, choice: Choice) -> None:
    assert negotiate(header, resource) == choice


@pytest.mark.parametrize(("resource", "header"), [
    ("study", "application/dicom"),  # a study is multipart only
    ("series", "application/dicom"),
    ("series", "*/*"),  # a bare */* is single part, and a series multipart only
    ("instance", None),
    ("instance", "nonsense"),
    ("instance", "application/dicom; transfer-syntax=1.2.840.10008.1.2"),  # implicit VR: not offered
    ("frames", "application/dicom"),
    ("frames", "image/jp2"),  # image/jp2 frames are multipart only
    ("frames", f"application/octet-stream; transfer-syntax={JPEG2000_LOSSLESS}"),
])
def test_negotiate_not_acceptable(resource: str, header: str | None) -> None:
    with pytest.raises(DicomError) as raised:
        negotiate(header, resource)
    assert (raised.value.status, raised.value.message) == (406, NOT_ACCEPTABLE)


@pytest.mark.parametrize(("header", "media_type"), [
    (None, "image/jpeg"),
    ("image/jpeg", "image/jpeg"),
    ("image/png", "image/png"),
    ('multipart/related; type="image/png"', "image/png"),  # only the (part) media type counts
])
def test_negotiate_rendered(header: str | None, media_type: str) -> None:
    assert negotiate_rendered(header) == media_type


@pytest.mark.parametrize(("header", "message"), [
    ("image/gif", NOT_ACCEPTABLE),
    ("*/*", NOT_ACCEPTABLE),
    ("image/png, image/jpeg", MULTIPLE_ACCEPT),
])
def test_negotiate_rendered_not_acceptable(header: str, message: str) -> None:
    with pytest.raises(DicomError) as raised:
        negotiate_rendered(header)
    assert (raised.value.status, raised.value.message) == (406, message)
