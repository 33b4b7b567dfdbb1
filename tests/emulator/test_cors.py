"""CORS as Azure's CorsMiddleware answers: preflights before authentication, headers on every answer
(401s included) for an allowed origin, nothing for others; ``--cors-origin`` and the environment variable."""

import pytest
import requests

from mock_server.cors import ENV_VAR

PAGE = "http://localhost:5173"


def preflight(url: str, origin: str = PAGE, method: str = "GET",
              headers: str | None = "authorization,accept") -> requests.Response:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return requests.options(url, headers=request_headers, timeout=30)


def test_preflight_is_204_without_a_token(emulator, stored):
    inst = stored(frames=2)
    response = preflight(f"{emulator.base_url('v2')}/{inst.path}/frames/1")
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Vary"] == "Origin"
    # ASP.NET Core leaves simple methods (GET) and simple headers (Accept) out of the Allow lists.
    assert response.headers["Access-Control-Allow-Headers"] == "authorization"
    assert "Access-Control-Allow-Methods" not in response.headers
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_for_delete_names_the_method(emulator):
    response = preflight(f"{emulator.base_url('v1')}/studies/1.2.3", origin="http://127.0.0.1:8888",
                         method="DELETE", headers="Authorization")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8888"
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization"


@pytest.mark.parametrize("path", ["v2/studies", "v3/studies", "nowhere"])
def test_every_answer_carries_the_origin_even_401_and_404(emulator, path):
    response = requests.get(f"{emulator.root_url}/{path}", headers={"Origin": PAGE}, timeout=30)
    assert response.status_code in (401, 404)
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Vary"] == "Origin"
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_authorized_answer_carries_the_origin(emulator_client, stored):
    inst = stored()
    response = emulator_client.get(f"{emulator_client.base}/{inst.path}/metadata",
                                   headers={"Origin": "http://localhost", "Accept": "application/dicom+json"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost"


@pytest.mark.parametrize("origin", ["http://example.org", "https://localhost:5173", "http://localhost.example.org",
                                    "http://127.0.0.2:80", "null"])
def test_other_origins_get_no_cors_headers(emulator_client, origin):
    response = preflight(f"{emulator_client.base}/studies", origin=origin)
    assert response.status_code == 204
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    response = emulator_client.get(f"{emulator_client.base}/changefeed", headers={"Origin": origin})
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_no_origin_no_cors_headers(emulator_client):
    response = emulator_client.get(f"{emulator_client.base}/changefeed")
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]
    assert "Vary" not in response.headers


def test_cors_origin_option_replaces_the_default(own_emulator):
    emu = own_emulator(extra_args=["--cors-origin", "https://viewer.example", "--cors-origin", "http://a.test:*"])
    url = f"{emu.base_url('v2')}/studies"
    assert preflight(url, origin="https://viewer.example").headers["Access-Control-Allow-Origin"] == \
        "https://viewer.example"
    assert preflight(url, origin="http://a.test:9000").headers["Access-Control-Allow-Origin"] == "http://a.test:9000"
    assert "Access-Control-Allow-Origin" not in preflight(url, origin=PAGE).headers


def test_cors_origin_none_switches_cors_off(own_emulator):
    emu = own_emulator(extra_args=["--cors-origin", "none"])
    response = preflight(f"{emu.base_url('v2')}/studies")
    assert response.status_code == 405  # no CORS middleware: OPTIONS is just an unserved method
    response = requests.get(f"{emu.base_url('v2')}/studies", headers={"Origin": PAGE}, timeout=30)
    assert response.status_code == 401
    assert "Access-Control-Allow-Origin" not in response.headers


def test_environment_variable_sets_the_origins(own_emulator, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "https://one.example, https://two.example")
    emu = own_emulator()
    url = f"{emu.base_url('v2')}/studies"
    assert preflight(url, origin="https://two.example").headers["Access-Control-Allow-Origin"] == "https://two.example"
    assert "Access-Control-Allow-Origin" not in preflight(url, origin=PAGE).headers


def test_any_origin_is_answered_with_a_star(own_emulator):
    emu = own_emulator(extra_args=["--cors-origin", "*"])
    response = requests.get(f"{emu.base_url('v2')}/studies", headers={"Origin": "https://x.example"}, timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Vary" not in response.headers
