"""Response headers that would tell a client it is not talking to Azure."""

import requests

from tests.support.sessions import EmulatorSession


def test_responses_name_no_server_software(emulator_client: EmulatorSession) -> None:
    response = emulator_client.get(f"{emulator_client.base}/changefeed")
    assert response.status_code == 200
    assert "server" not in {name.lower() for name in response.headers}


def test_unauthenticated_responses_name_no_server_software(emulator_client: EmulatorSession) -> None:
    response = requests.get(f"{emulator_client.base}/studies")
    assert response.status_code == 401
    assert "server" not in {name.lower() for name in response.headers}


SUPPORTED = "1.0-prerelease, 1, 2"  # ApiVersionsConvention's versions, as ReportApiVersions writes them


def test_answers_of_a_matched_action_report_the_supported_versions(emulator_client, reader_client) -> None:
    base = emulator_client.base
    for response in (emulator_client.get(f"{base}/changefeed"),  # 200
                     emulator_client.get(f"{base}/studies", params={"limit": "0"}),  # 400
                     emulator_client.get(f"{base}/studies/1.2.3/metadata",  # 404
                                         headers={"Accept": "application/dicom+json"}),
                     reader_client.delete(f"{base}/studies/1.2.3")):  # 403
        assert response.headers["api-supported-versions"] == SUPPORTED, response.status_code
        assert "api-deprecated-versions" not in response.headers


def test_no_version_report_before_an_action_is_reached(emulator_client) -> None:
    unauthenticated = requests.get(f"{emulator_client.base}/changefeed")
    assert unauthenticated.status_code == 401  # the authorization filter answers before action filters
    unknown = emulator_client.get(emulator_client.base.rsplit("/", 1)[0] + "/v3/changefeed")
    assert unknown.status_code == 404
    for response in (unauthenticated, unknown):
        assert "api-supported-versions" not in response.headers


def test_prerelease_and_minor_version_segments_are_served(emulator_client) -> None:
    root = emulator_client.base.rsplit("/", 1)[0]
    # v1.0-prerelease and v1.0 are version 1 (its change feed defaults to 10 entries), v2.0 is version 2.
    for segment, version in (("v1.0-prerelease", 1), ("V1.0-Prerelease", 1), ("v1.0", 1), ("v2.0", 2)):
        response = emulator_client.get(f"{root}/{segment}/changefeed", params={"limit": "101"})
        assert response.status_code == (400 if version == 1 else 200), segment
        assert response.headers["api-supported-versions"] == SUPPORTED


def test_json_answers_carry_the_utf8_charset(emulator_client, stored) -> None:
    inst = stored()
    for path in ("studies", f"{inst.path}/metadata"):
        response = emulator_client.get(f"{emulator_client.base}/{path}", params={"StudyInstanceUID": inst.study}
                                       if path == "studies" else None, headers={"Accept": "application/dicom+json"})
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/dicom+json; charset=utf-8"


def test_stow_accept_is_checked_before_the_role(reader_client) -> None:
    # Azure's AcceptContentFilter is an action filter; the role is checked later, in the handler.
    url = f"{reader_client.base}/studies"
    headers = {"Content-Type": 'multipart/related; type="application/dicom"; boundary=x'}
    refused = reader_client.post(url, data=b"--x--\r\n", headers={**headers, "Accept": "text/html"})
    assert refused.status_code == 406
    assert refused.content == b""
    forbidden = reader_client.post(url, data=b"--x--\r\n", headers={**headers, "Accept": "application/dicom+json"})
    assert forbidden.status_code == 403
    assert forbidden.text == "Authorization failed."
