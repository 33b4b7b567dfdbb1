"""Fixtures for the helper tests: fake transports, synthetic DICOM files, the shared Orthanc peer."""

from collections.abc import Callable

import numpy as np
import pydicom
import pytest
import requests
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.support.part10 import to_part10


def _make_response(status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
                  request: requests.PreparedRequest | None = None) -> requests.Response:
    """A requests.Response built by hand, as a server would have sent it."""
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers = CaseInsensitiveDict(headers or {})
    if request is not None:
        response.request = request
    response.url = (request.url if request else None) or ""
    return response


class FakeAdapter(BaseAdapter):
    """Records every request and answers with ``handler(request)``."""

    def __init__(self, handler: Callable[[requests.PreparedRequest], requests.Response]) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        response = self.handler(request)
        response.request = request
        response.url = request.url
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def make_response() -> Callable[..., requests.Response]:
    """Build a requests.Response by hand: make_response(status, body, headers)."""
    return _make_response


@pytest.fixture
def fake_server() -> Callable[[requests.Session, Callable], FakeAdapter]:
    """Mount a FakeAdapter on a session for http:// and https:// URLs."""

    def mount(session: requests.Session, handler: Callable) -> FakeAdapter:
        adapter = FakeAdapter(handler)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return adapter

    return mount


def _make_dicom(study_uid: str | None = None, series_uid: str | None = None, patient_name: str = "Test",
                patient_id: str = "PID-1", rows: int = 4, columns: int = 4) -> bytes:
    """A small synthetic 8-bit greyscale image as Part 10 bytes (fresh UIDs unless given)."""
    ds = pydicom.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.Modality = "OT"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = np.arange(rows * columns, dtype=np.uint8).tobytes()
    return to_part10(ds, ExplicitVRLittleEndian)


@pytest.fixture
def make_dicom() -> Callable[..., bytes]:
    """make_dicom(study_uid=None, series_uid=None, patient_name=..., patient_id=...) -> bytes."""
    return _make_dicom
