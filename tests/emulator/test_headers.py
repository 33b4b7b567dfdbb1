"""Response headers that would tell a client it is not talking to Azure."""

import requests


def test_responses_name_no_server_software(emulator_client: requests.Session) -> None:
    response = emulator_client.get(f"{emulator_client.base}/changefeed")
    assert response.status_code == 200
    assert "server" not in {name.lower() for name in response.headers}


def test_unauthenticated_responses_name_no_server_software(emulator_client: requests.Session) -> None:
    response = requests.get(f"{emulator_client.base}/studies")
    assert response.status_code == 401
    assert "server" not in {name.lower() for name in response.headers}
