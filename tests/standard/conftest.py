"""Fixtures for the standard (PS3.18) tests, run against both the emulator and a real Orthanc.

``dicomweb_server`` is parametrized over "emulator" (the ``emulator_client`` fixture of
tests/conftest.py) and "orthanc" (the shared peer, fixture ``orthanc`` of tests/conftest.py).
``new_study`` gives a fresh synthetic study and removes it afterwards; ``stored_study`` also
stores it first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
import requests

from tests.standard.departures import departs
from tests.standard.synthetic_study import Instance, Study, make_study

DICOM_JSON = "application/dicom+json"


@dataclass
class DicomWebServer:
    """A DICOMweb origin server under test: its name, base URL and an authenticated session."""

    name: str
    base: str
    session: requests.Session
    rest_url: str | None = None  # Orthanc's own REST API, used only to clean up

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def departs(self, key: str) -> bool:
        """True if this server is recorded in departures.DEPARTURES as breaking rule ``key``."""
        return departs(self.name, key)

    def get(self, path: str, accept: str | None, **kwargs) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        return self.session.get(self.url(path), headers=headers, timeout=30, **kwargs)

    def store(self, instances: list[Instance], study_uid: str | None = None) -> requests.Response:
        """STOW-RS: one multipart/related; type="application/dicom" request with every instance."""
        body, content_type = multipart_related([i.data for i in instances])
        path = f"studies/{study_uid}" if study_uid else "studies"
        return self.session.post(self.url(path), data=body, timeout=60,
                                 headers={"Content-Type": content_type, "Accept": DICOM_JSON})

    def delete_study(self, study_uid: str) -> None:
        """Remove a study, whether or not it is there (DICOMweb DELETE, or Orthanc's REST API)."""
        if self.rest_url is None:
            response = self.session.delete(self.url(f"studies/{study_uid}"), timeout=30)
            assert response.status_code in (204, 404), response.text
            return
        lookup = self.session.post(f"{self.rest_url}/tools/lookup", data=study_uid, timeout=30)
        assert lookup.status_code == 200, lookup.text
        for match in lookup.json():
            if match["Type"] == "Study":
                response = self.session.delete(f"{self.rest_url}{match['Path']}", timeout=30)
                assert response.status_code == 200, response.text


def multipart_related(parts: list[bytes]) -> tuple[bytes, str]:
    """A PS3.18 STOW body: each part carries only ``Content-Type: application/dicom``."""
    boundary = uuid.uuid4().hex
    chunks = []
    for part in parts:
        chunks += [f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode(), part, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f'multipart/related; type="application/dicom"; boundary={boundary}'


@pytest.fixture(params=["emulator", "orthanc"])
def dicomweb_server(request) -> DicomWebServer:
    if request.param == "emulator":
        client = request.getfixturevalue("emulator_client")
        return DicomWebServer("emulator", client.base.rstrip("/"), client)
    peer = request.getfixturevalue("orthanc")
    session = requests.Session()
    request.addfinalizer(session.close)
    return DicomWebServer("orthanc", peer.dicomweb_url, session, rest_url=peer.rest_url)


@pytest.fixture
def new_study(dicomweb_server):
    """A fresh synthetic study (not stored); whatever of it gets stored is deleted afterwards."""
    study = make_study()
    yield study
    dicomweb_server.delete_study(study.uid)


@pytest.fixture
def stored_study(dicomweb_server, new_study) -> Study:
    response = dicomweb_server.store(list(new_study.instances))
    assert response.status_code == 200, response.text
    return new_study
