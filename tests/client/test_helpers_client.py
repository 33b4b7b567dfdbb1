"""DicomWeb, make_session and cleanup.delete_study, against fake transports."""

import json

import pytest
import requests

from helpers import client as client_module
from helpers.auth import BearerAuth, EmulatorCredential, StaticTokenCredential
from helpers.cleanup import delete_study
from helpers.client import AZURE_FEATURES, DicomWeb, LiteralQuerySession, make_session
from helpers.config import load_config

ORTHANC = "http://127.0.0.1:8042/dicom-web"
AZURE = "https://ws-dicom.dicom.azurehealthcareapis.com/v2"


def make_client(env: dict) -> DicomWeb:
    config = load_config(env)
    return DicomWeb(config, make_session(config))


def test_url_joins_paths_to_the_base() -> None:
    client = make_client({})

    assert client.base_url == "http://127.0.0.1:8765/v2"
    assert client.url("studies") == "http://127.0.0.1:8765/v2/studies"
    assert client.url("/studies/1.2/series") == "http://127.0.0.1:8765/v2/studies/1.2/series"


def test_repr_names_url_auth_and_flavor() -> None:
    assert repr(make_client({})) == (
        "DicomWeb(base_url='http://127.0.0.1:8765/v2', auth='emulator', flavor='azure')")


@pytest.mark.parametrize("env, expected", [
    ({}, True),
    ({"DICOMWEB_URL": ORTHANC, "DICOMWEB_SERVER": "orthanc"}, False),
    ({"DICOMWEB_URL": "https://pacs.example/dicomweb"}, False),
])
def test_azure_only_features(env: dict, expected: bool) -> None:
    client = make_client(env)

    assert {feature: client.supports(feature) for feature in AZURE_FEATURES} == \
        dict.fromkeys(AZURE_FEATURES, expected)


def test_unknown_feature_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown feature 'wildcards'"):
        make_client({}).supports("wildcards")


def test_session_auth_follows_the_mode(tmp_path, monkeypatch) -> None:
    class FakeAzureCredential:
        def get_token(self, *scopes, **kwargs):
            raise AssertionError("not called while building the session")

    monkeypatch.setattr(client_module, "azure_credential", FakeAzureCredential)

    emulator = make_session(load_config({"DICOMWEB_EMULATOR_DATA_DIR": str(tmp_path)})).auth
    azure = make_session(load_config({"DICOMWEB_URL": AZURE})).auth
    token = make_session(load_config({"DICOMWEB_URL": ORTHANC, "DICOMWEB_TOKEN": "tok"})).auth
    anonymous = make_session(load_config({"DICOMWEB_URL": ORTHANC})).auth

    assert isinstance(emulator, BearerAuth) and isinstance(emulator.credential, EmulatorCredential)
    assert emulator.credential.data_dir == tmp_path
    assert isinstance(azure, BearerAuth) and isinstance(azure.credential, FakeAzureCredential)
    assert isinstance(token, BearerAuth) and isinstance(token.credential, StaticTokenCredential)
    assert anonymous is None


def test_orthanc_session_sends_wildcards_and_commas_literally(fake_server, make_response) -> None:
    client = make_client({"DICOMWEB_URL": ORTHANC, "DICOMWEB_SERVER": "orthanc"})
    assert isinstance(client.session, LiteralQuerySession)
    server = fake_server(client.session, lambda request: make_response(200, b"[]"))

    client.session.get(client.url("studies"), params={
        "PatientName": "D?e*", "StudyInstanceUID": "1.2,1.3", "StudyDescription": "a&b=c%"})

    assert server.requests[0].url == (
        ORTHANC + "/studies?PatientName=D?e*&StudyInstanceUID=1.2,1.3&StudyDescription=a%26b%3Dc%25")


def test_other_sessions_percent_encode_as_usual(fake_server, make_response) -> None:
    client = make_client({"DICOMWEB_URL": AZURE, "DICOMWEB_AUTH": "none"})
    server = fake_server(client.session, lambda request: make_response(200, b"[]"))

    client.session.get(client.url("studies"), params={"PatientName": "Doe*"})

    assert server.requests[0].url == AZURE + "/studies?PatientName=Doe%2A"


@pytest.mark.parametrize("status", [204, 404])
def test_delete_study_on_azure_accepts_deleted_or_absent(fake_server, make_response, status) -> None:
    client = make_client({"DICOMWEB_URL": AZURE, "DICOMWEB_AUTH": "none"})
    server = fake_server(client.session, lambda request: make_response(status))

    delete_study(client, "1.2.3")

    assert [(r.method, r.url) for r in server.requests] == [("DELETE", AZURE + "/studies/1.2.3")]


def test_delete_study_reports_a_server_without_delete(fake_server, make_response) -> None:
    client = make_client({"DICOMWEB_URL": "https://pacs.example/dicomweb"})
    fake_server(client.session, lambda request: make_response(405, b"not allowed"))

    with pytest.raises(RuntimeError, match="returned 405.*may not support DICOMweb DELETE"):
        delete_study(client, "1.2.3")


def test_delete_study_on_orthanc_uses_its_rest_api(fake_server, make_response) -> None:
    client = make_client({"DICOMWEB_URL": ORTHANC, "DICOMWEB_SERVER": "orthanc"})

    def orthanc(request: requests.PreparedRequest) -> requests.Response:
        if (request.url or "").endswith("/tools/lookup"):
            found = [{"ID": "abc", "Path": "/studies/abc", "Type": "Study"}]
            return make_response(200, json.dumps(found).encode(), {"Content-Type": "application/json"})
        return make_response(200, b'{"RemainingAncestor": null}')

    server = fake_server(client.session, orthanc)

    delete_study(client, "1.2.3")

    assert [(r.method, r.url, r.body) for r in server.requests] == [
        ("POST", "http://127.0.0.1:8042/tools/lookup", "1.2.3"),
        ("DELETE", "http://127.0.0.1:8042/studies/abc", None)]


def test_delete_study_on_orthanc_when_absent_deletes_nothing(fake_server, make_response) -> None:
    client = make_client({"DICOMWEB_URL": ORTHANC, "DICOMWEB_SERVER": "orthanc"})
    server = fake_server(client.session, lambda request: make_response(200, b"[]"))

    delete_study(client, "1.2.3")

    assert [r.method for r in server.requests] == ["POST"]


def test_delete_study_on_orthanc_needs_the_dicom_web_root() -> None:
    client = make_client({"DICOMWEB_URL": "http://127.0.0.1:8042/dicomweb", "DICOMWEB_SERVER": "orthanc"})

    with pytest.raises(ValueError, match="ending in /dicom-web"):
        delete_study(client, "1.2.3")
