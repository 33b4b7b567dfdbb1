"""load_config: environment variables to URL, auth mode and server flavor."""

from pathlib import Path

import pytest

import mock_server
from helpers.config import ConfigError, load_config

AZURE = "https://ws-dicom.dicom.azurehealthcareapis.com/v2"
ORTHANC = "http://127.0.0.1:8042/dicom-web"


@pytest.mark.parametrize("env, url, auth, server", [
    ({}, "http://127.0.0.1:8765/v2", "emulator", "azure"),
    ({"DICOMWEB_EMULATOR_PORT": "9001"}, "http://127.0.0.1:9001/v2", "emulator", "azure"),
    ({"DICOMWEB_URL": AZURE}, AZURE, "azure", "azure"),
    ({"DICOMWEB_URL": AZURE + "/"}, AZURE, "azure", "azure"),
    ({"DICOMWEB_URL": AZURE, "DICOMWEB_TOKEN": "t"}, AZURE, "azure", "azure"),
    ({"DICOMWEB_URL": ORTHANC}, ORTHANC, "none", "generic"),
    ({"DICOMWEB_URL": ORTHANC, "DICOMWEB_SERVER": "orthanc"}, ORTHANC, "none", "orthanc"),
    ({"DICOMWEB_URL": ORTHANC, "DICOMWEB_TOKEN": "t"}, ORTHANC, "token", "generic"),
    ({"DICOMWEB_URL": "https://pacs.example/dicomweb", "DICOMWEB_AUTH": "azure"},
     "https://pacs.example/dicomweb", "azure", "generic"),
    ({"DICOMWEB_URL": "http://127.0.0.1:9100/v1", "DICOMWEB_AUTH": "emulator"},
     "http://127.0.0.1:9100/v1", "emulator", "azure"),
    ({"DICOMWEB_AUTH": "none"}, "http://127.0.0.1:8765/v2", "none", "azure"),
    ({"DICOMWEB_URL": AZURE, "DICOMWEB_SERVER": "Generic", "DICOMWEB_AUTH": "TOKEN",
      "DICOMWEB_TOKEN": "t"}, AZURE, "token", "generic"),
    # Empty variables count as unset.
    ({"DICOMWEB_URL": "", "DICOMWEB_AUTH": " ", "DICOMWEB_SERVER": ""},
     "http://127.0.0.1:8765/v2", "emulator", "azure"),
])
def test_configuration_matrix(env: dict, url: str, auth: str, server: str) -> None:
    config = load_config(env)

    assert (config.url, config.auth, config.server) == (url, auth, server)


def test_emulator_defaults_come_from_mock_server() -> None:
    config = load_config({})

    assert config.emulator_port == mock_server.DEFAULT_PORT
    assert config.emulator_data_dir == mock_server.DEFAULT_DATA_DIR
    assert config.starts_emulator
    assert config.token is None


def test_emulator_port_follows_an_explicit_emulator_url(tmp_path: Path) -> None:
    config = load_config({"DICOMWEB_URL": "http://localhost:9100/v2", "DICOMWEB_AUTH": "emulator",
                          "DICOMWEB_EMULATOR_DATA_DIR": str(tmp_path)})

    assert config.emulator_port == 9100
    assert config.emulator_data_dir == tmp_path
    assert config.starts_emulator


def test_relative_data_dir_is_made_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert load_config({"DICOMWEB_EMULATOR_DATA_DIR": "emu"}).emulator_data_dir == tmp_path / "emu"


@pytest.mark.parametrize("env", [
    {"DICOMWEB_URL": AZURE},
    {"DICOMWEB_URL": "https://emulator.example/v2", "DICOMWEB_AUTH": "emulator"},  # not loopback
    {"DICOMWEB_AUTH": "none"},
])
def test_emulator_is_started_only_for_local_emulator_auth(env: dict) -> None:
    assert not load_config(env).starts_emulator


def test_token_is_kept_only_in_token_mode() -> None:
    assert load_config({"DICOMWEB_URL": ORTHANC, "DICOMWEB_TOKEN": "t"}).token == "t"
    assert load_config({"DICOMWEB_URL": AZURE, "DICOMWEB_TOKEN": "t"}).token is None


@pytest.mark.parametrize("env, message", [
    ({"DICOMWEB_AUTH": "basic"}, "DICOMWEB_AUTH='basic' is not valid; use one of: emulator, azure"),
    ({"DICOMWEB_SERVER": "dcm4chee"}, "DICOMWEB_SERVER='dcm4chee' is not valid"),
    ({"DICOMWEB_URL": ORTHANC, "DICOMWEB_AUTH": "token"}, "needs the token in DICOMWEB_TOKEN"),
    ({"DICOMWEB_URL": "ws-dicom.dicom.azurehealthcareapis.com/v2"}, "is not an http(s) URL"),
    ({"DICOMWEB_URL": "ftp://host/v2"}, "is not an http(s) URL"),
    ({"DICOMWEB_URL": "http:///v2"}, "is not an http(s) URL"),
    ({"DICOMWEB_URL": "http://host:99999/v2"}, "DICOMWEB_URL='http://host:99999/v2'"),
    ({"DICOMWEB_URL": "http://host/v2?x=1"}, "must not have a query"),
    ({"DICOMWEB_URL": "http://127.0.0.1/v2", "DICOMWEB_AUTH": "emulator"}, "needs the emulator's port"),
    ({"DICOMWEB_EMULATOR_PORT": "eighty"}, "is not a port number"),
    ({"DICOMWEB_EMULATOR_PORT": "70000"}, "is not a port number"),
])
def test_bad_values_give_a_clear_error(env: dict, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(env)

    assert message in str(error.value)
