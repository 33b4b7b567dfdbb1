"""Authentication and authorization, and API-version routing, as Azure does them."""

import subprocess
import sys
import time
import uuid

import jwt
import pytest
import requests

from tests.emulator.emulator_testlib import PLAIN
from tests.support.part10 import build_instance
from tests.support.stow import DICOM_JSON, multipart
from mock_server.tokens import AUDIENCE, load_secret, make_token

ROUTES = [  # (method, path relative to the base URL) covering every route family
    ("POST", "studies"),
    ("GET", "studies"),
    ("GET", "studies/1.2.3"),
    ("GET", "studies/1.2.3/metadata"),
    ("GET", "studies/1.2.3/series/4.5/instances/6.7/frames/1"),
    ("GET", "studies/1.2.3/series/4.5/instances/6.7/rendered"),
    ("DELETE", "studies/1.2.3"),
    ("GET", "changefeed"),
]


@pytest.mark.parametrize("method,path", ROUTES)
def test_no_token_is_401_with_bearer_challenge(emulator, method, path):
    response = requests.request(method, f"{emulator.base_url()}/{path}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.content == b""


def _claims(**overrides):
    now = int(time.time())
    claims = {"aud": AUDIENCE, "iat": now, "exp": now + 600, "roles": ["DICOM Data Owner"]}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize("case,description", [
    ("bad-signature", "The signature is invalid"),
    ("wrong-audience", "The audience is invalid"),
    ("expired", "The token is expired"),
    ("garbage", "The token is malformed"),
    ("no-exp", "The token is malformed"),
    ("alg-none", "The token is malformed"),
])
def test_invalid_token_is_401_with_invalid_token_error(emulator, case, description):
    secret = load_secret(emulator.data_dir)
    token = {
        "bad-signature": lambda: jwt.encode(_claims(), b"another-secret-of-sufficient-length!", algorithm="HS256"),
        "wrong-audience": lambda: jwt.encode(_claims(aud="https://example.org"), secret, algorithm="HS256"),
        "expired": lambda: jwt.encode(_claims(exp=int(time.time()) - 5), secret, algorithm="HS256"),
        "garbage": lambda: "not.a.jwt",
        "no-exp": lambda: jwt.encode(_claims(exp=None), secret, algorithm="HS256"),
        "alg-none": lambda: jwt.encode(_claims(), None, algorithm="none"),
    }[case]()
    response = requests.get(f"{emulator.base_url()}/studies/1.2.3/metadata",
                            headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{description}"')
    assert response.content == b""


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token-without-scheme"])
def test_non_bearer_authorization_is_401(emulator, header):
    response = requests.get(f"{emulator.base_url()}/changefeed", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.content == b""


def test_scheme_is_case_insensitive(emulator):
    response = requests.get(f"{emulator.base_url()}/changefeed",
                            headers={"Authorization": f"bearer {emulator.token()}"})
    assert response.status_code == 200


def test_reader_can_read_but_not_store_or_delete(reader_client, stored):
    instance = stored()
    body, content_type = multipart([build_instance().data])
    response = reader_client.post(f"{reader_client.base}/studies", data=body,
                                  headers={"Content-Type": content_type, "Accept": DICOM_JSON})
    assert response.status_code == 403
    assert response.headers["Content-Type"] == PLAIN
    assert response.text == "Authorization failed."
    response = reader_client.delete(f"{reader_client.base}/studies/{instance.study}")
    assert response.status_code == 403
    assert response.headers["Content-Type"] == PLAIN
    response = reader_client.get(f"{reader_client.base}/{instance.path}/metadata", headers={"Accept": DICOM_JSON})
    assert response.status_code == 200
    assert response.json()[0]["00080018"]["Value"] == [instance.sop]


def test_reader_cannot_store_even_with_bad_body(reader_client):
    # The role is decided before the body is read, but after [Consumes] (415) and the Accept filter (406).
    response = reader_client.post(f"{reader_client.base}/studies", data=b"junk",
                                  headers={"Content-Type": "application/dicom", "Accept": DICOM_JSON})
    assert response.status_code == 403
    response = reader_client.post(f"{reader_client.base}/studies", data=b"junk",
                                  headers={"Content-Type": "text/plain", "Accept": "text/html"})
    assert response.status_code == 415
    assert response.content == b""


def test_token_without_dicom_role_is_403(emulator):
    token = jwt.encode(_claims(roles=["Some Other Role"]), load_secret(emulator.data_dir), algorithm="HS256")
    response = requests.get(f"{emulator.base_url()}/changefeed", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.headers["Content-Type"] == PLAIN


def test_make_token_claims(emulator):
    token, expires_on = make_token(emulator.data_dir, "reader", expires_in=120)
    claims = jwt.decode(token, load_secret(emulator.data_dir), algorithms=["HS256"], audience=AUDIENCE)
    assert claims["roles"] == ["DICOM Data Reader"]
    assert claims["exp"] == expires_on
    assert 110 <= claims["exp"] - claims["iat"] <= 120
    assert (emulator.data_dir / "token-secret").stat().st_mode & 0o777 == 0o600


def test_make_token_rejects_unknown_role(tmp_path):
    with pytest.raises(ValueError, match="role"):
        make_token(tmp_path, "admin")


def test_default_token_has_entra_claims_with_synthetic_ids(emulator):
    # What a DICOM-service token from Microsoft Entra ID (v1 endpoint) carries, as lesson 01 decodes it.
    owner, _ = make_token(emulator.data_dir)
    reader, _ = make_token(emulator.data_dir, "reader")
    claims = jwt.decode(owner, load_secret(emulator.data_dir), algorithms=["HS256"], audience=AUDIENCE)
    reader_claims = jwt.decode(reader, options={"verify_signature": False})

    assert {"aud", "iss", "tid", "oid", "roles", "exp", "nbf", "iat", "uti", "ver"} <= set(claims)
    assert claims["iss"] == f"https://sts.windows.net/{claims['tid']}/"
    assert str(uuid.UUID(claims["tid"])) == claims["tid"] and str(uuid.UUID(claims["oid"])) == claims["oid"]
    assert claims["nbf"] == claims["iat"] <= claims["exp"] - 3600
    # One tenant per data dir, one identity per role; a fresh token ID each time.
    assert reader_claims["tid"] == claims["tid"] and reader_claims["oid"] != claims["oid"]
    again = jwt.decode(make_token(emulator.data_dir)[0], options={"verify_signature": False})
    assert (again["oid"], again["tid"]) == (claims["oid"], claims["tid"]) and again["uti"] != claims["uti"]
    for token in (owner, make_token(emulator.data_dir, shape="minimal")[0]):
        response = requests.get(f"{emulator.base_url()}/changefeed", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200


def test_minimal_token_has_only_the_checked_claims(tmp_path):
    token, _ = make_token(tmp_path, shape="minimal")
    assert set(jwt.decode(token, options={"verify_signature": False})) == {"aud", "iat", "exp", "roles"}
    with pytest.raises(ValueError, match="shape"):
        make_token(tmp_path, shape="b2c")


def test_token_not_yet_valid_is_401(emulator):
    token = jwt.encode(_claims(nbf=int(time.time()) + 600), load_secret(emulator.data_dir), algorithm="HS256")
    response = requests.get(f"{emulator.base_url()}/changefeed", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_token_command_prints_an_accepted_token(emulator):
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "token", "--data-dir", str(emulator.data_dir), "--role", "reader",
         "--expires-in", "60"], capture_output=True, text=True, timeout=60, check=True)
    token = result.stdout.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["roles"] == ["DICOM Data Reader"]
    assert claims["iss"].startswith("https://sts.windows.net/")  # Entra-shaped unless told otherwise
    response = requests.get(f"{emulator.base_url()}/changefeed", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_command_minimal_claims(emulator):
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "token", "--data-dir", str(emulator.data_dir), "--claims", "minimal"],
        capture_output=True, text=True, timeout=60, check=True)
    assert set(jwt.decode(result.stdout.strip(), options={"verify_signature": False})) == {
        "aud", "iat", "exp", "roles"}


@pytest.mark.parametrize("path", ["/studies", "/v3/studies", "/v1.1/studies", "/v2.0-beta/studies", "/", "/v2",
                                  "/v2/no-such-route", "/studies/1.2.3/metadata"])
def test_unknown_version_or_route_is_404_with_empty_body(emulator_client, emulator, path):
    response = emulator_client.get(emulator.root_url + path, headers={"Accept": DICOM_JSON})
    assert response.status_code == 404
    assert response.content == b""


def test_unknown_method_is_405_with_empty_body(emulator_client):
    response = emulator_client.put(f"{emulator_client.base}/studies/1.2.3")
    assert response.status_code == 405
    assert response.content == b""


def test_v1_and_v2_both_route(emulator, emulator_client):
    instance = build_instance()
    for version in ("v1", "v2"):
        body, content_type = multipart([build_instance(study=instance.study).data])
        response = emulator_client.post(f"{emulator.base_url(version)}/studies", data=body,
                                        headers={"Content-Type": content_type, "Accept": DICOM_JSON})
        assert response.status_code == 200
        url = response.json()["00081199"]["Value"][0]["00081190"]["Value"][0]
        assert url.startswith(f"{emulator.root_url}/{version}/studies/{instance.study}/series/")
