"""helpers.portable: Azure's path on Azure; elsewhere the portable one, with a line saying so."""

import os
import signal

import pytest
import requests

from helpers import checks, portable
from helpers.client import DicomWeb, make_session
from helpers.config import load_config

ORTHANC = {"DICOMWEB_URL": "http://127.0.0.1:8042/dicom-web", "DICOMWEB_SERVER": "orthanc",
           "DICOMWEB_AUTH": "none"}
AZURE = {"DICOMWEB_URL": "https://ws-dicom.dicom.azurehealthcareapis.com/v2", "DICOMWEB_AUTH": "none"}


def make_client(env: dict) -> DicomWeb:
    config = load_config(env)
    return DicomWeb(config, make_session(config))


def answer(make_response, status: int) -> requests.Response:
    return make_response(status, b"", {}, request=requests.Request("GET", "http://x/studies").prepare())


def test_expect_azure_checks_azure_and_only_reports_elsewhere(capsys, make_response) -> None:
    with pytest.raises(checks.CheckFailed):
        portable.expect_azure(make_client(AZURE), answer(make_response, 200), 406)
    portable.expect_azure(make_client(ORTHANC), answer(make_response, 200), 406)
    assert capsys.readouterr().out == (
        "This orthanc server answers 200 OK; Azure answers 406 (Azure-only behaviour, not checked here).\n")


def test_auth_probe_is_the_change_feed_on_azure_and_a_search_elsewhere(capsys) -> None:
    assert portable.auth_probe(make_client(AZURE)).path == "changefeed"
    assert capsys.readouterr().out == ""
    probe = portable.auth_probe(make_client(ORTHANC))
    assert probe.path.startswith("studies") and probe.headers == {"Accept": "application/dicom+json"}
    assert "no change feed (Azure-only)" in capsys.readouterr().out


def test_server_with_keeps_a_server_that_has_the_feature(capsys) -> None:
    client = make_client(AZURE)
    assert portable.server_with(client, "delete") is client
    assert capsys.readouterr().out == ""


def test_server_with_starts_a_private_emulator_otherwise(capsys) -> None:
    emulator = portable.server_with(make_client(ORTHANC), "changefeed")
    try:
        assert "has no change feed (Azure-only): this lesson runs against a private local emulator" \
            in capsys.readouterr().out
        assert emulator.flavor == "azure" and emulator.base_url.startswith("http://127.0.0.1:")
        assert not emulator.base_url.startswith("http://127.0.0.1:8765/")  # never the learner's port
        r = emulator.session.get(emulator.url("changefeed"))
        checks.expect(r, 200, content_type="application/json", count=0)
    finally:
        if emulator.emulator_pid:
            os.kill(emulator.emulator_pid, signal.SIGTERM)
