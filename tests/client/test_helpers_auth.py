"""BearerAuth and the credentials: tokens are fetched once, reused while fresh, renewed in time."""

import jwt
import pytest
import requests
from azure.core.credentials import AccessToken

from helpers.auth import (DICOM_SCOPE, REFRESH_MARGIN, BearerAuth, EmulatorCredential,
                          StaticTokenCredential)


class FakeCredential:
    """Hands out token-1, token-2, ... each valid for ``lifetime`` seconds from the fake clock."""

    def __init__(self, clock: "FakeClock", lifetime: int = 3600) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.calls.append(scopes)
        return AccessToken(f"token-{len(self.calls)}", int(self.clock() + self.lifetime))


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def authorization(auth: BearerAuth) -> str:
    request = requests.Request("GET", "https://dicom.example/v2/studies").prepare()
    value = auth(request).headers["Authorization"]
    assert isinstance(value, str)  # requests types header values as str | bytes; BearerAuth sets a str
    return value


def test_first_request_fetches_a_token_for_the_dicom_scope() -> None:
    clock = FakeClock()
    credential = FakeCredential(clock)

    assert authorization(BearerAuth(credential, clock=clock)) == "Bearer token-1"
    assert credential.calls == [(DICOM_SCOPE,)]
    assert DICOM_SCOPE == "https://dicom.healthcareapis.azure.com/.default"


def test_fresh_token_is_reused() -> None:
    clock = FakeClock()
    credential = FakeCredential(clock)
    auth = BearerAuth(credential, clock=clock)

    headers = [authorization(auth)]
    clock.now += 3600 - REFRESH_MARGIN - 1  # still more than the margin left
    headers.append(authorization(auth))

    assert headers == ["Bearer token-1", "Bearer token-1"]
    assert len(credential.calls) == 1


def test_token_close_to_expiry_is_renewed_before_it_expires() -> None:
    clock = FakeClock()
    credential = FakeCredential(clock)
    auth = BearerAuth(credential, clock=clock)

    authorization(auth)
    clock.now += 3600 - REFRESH_MARGIN + 1  # inside the margin, not yet expired
    renewed = authorization(auth)
    clock.now += 10
    reused = authorization(auth)

    assert (renewed, reused) == ("Bearer token-2", "Bearer token-2")
    assert len(credential.calls) == 2


def test_expired_token_is_renewed() -> None:
    clock = FakeClock()
    credential = FakeCredential(clock)
    auth = BearerAuth(credential, clock=clock)

    authorization(auth)
    clock.now += 7200

    assert authorization(auth) == "Bearer token-2"


def test_custom_scope_is_passed_to_the_credential() -> None:
    clock = FakeClock()
    credential = FakeCredential(clock)

    authorization(BearerAuth(credential, scope="api://other/.default", clock=clock))

    assert credential.calls == [("api://other/.default",)]


def test_static_token_credential_never_asks_for_renewal() -> None:
    auth = BearerAuth(StaticTokenCredential("abc.def.ghi"))

    assert authorization(auth) == "Bearer abc.def.ghi"
    with pytest.raises(ValueError):
        StaticTokenCredential("")


def test_emulator_credential_signs_with_the_data_dir_secret(tmp_path) -> None:
    from mock_server.tokens import AUDIENCE, load_secret

    token = EmulatorCredential(tmp_path, role="reader", expires_in=120).get_token(DICOM_SCOPE)

    claims = jwt.decode(token.token, load_secret(tmp_path), algorithms=["HS256"], audience=AUDIENCE)
    assert claims["roles"] == ["DICOM Data Reader"]
    assert claims["exp"] == token.expires_on
    assert claims["exp"] - claims["iat"] == 120
