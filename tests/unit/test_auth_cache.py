"""mock_server.auth, in process: a token verified once is trusted only within its times.

The emulator keeps the tokens it has verified so a client's repeated token is not HMAC-checked on
every request; these tests move the clock to show that a kept token still expires, that a token not
yet valid is never kept, and that a changed token or secret is checked in full.
"""

import time

import jwt
import pytest

from mock_server import auth
from mock_server.errors import DicomError
from mock_server.tokens import ALGORITHM, AUDIENCE, OWNER_ROLE

SECRET = b"unit-test-secret-of-thirty-two-bytes!"


def bearer(secret: bytes = SECRET, **claims: object) -> str:
    now = int(time.time())
    payload = {"aud": AUDIENCE, "iat": now, "exp": now + 60, "roles": [OWNER_ROLE], **claims}
    return "Bearer " + jwt.encode(payload, secret, algorithm=ALGORITHM)


def description(header: str, secret: bytes = SECRET) -> str:
    with pytest.raises(DicomError) as caught:
        auth.authenticate(header, secret)
    assert caught.value.status == 401
    return caught.value.headers["WWW-Authenticate"]


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    auth._verified.clear()


def test_a_kept_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    header = bearer()
    assert auth.authenticate(header, SECRET).can_write
    assert auth.authenticate(header, SECRET).can_write  # now from the cache
    later = time.time() + 61
    monkeypatch.setattr(auth.time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _clock_at(later))
    assert 'error_description="The token is expired"' in description(header)


def test_a_token_not_yet_valid_is_not_kept() -> None:
    header = bearer(nbf=int(time.time()) + 30)
    for _ in range(2):
        assert 'error_description="The token is malformed"' in description(header)  # PyJWT's ImmatureSignatureError
    assert not auth._verified


def test_another_secret_or_a_changed_signature_is_checked_in_full() -> None:
    header = bearer()
    auth.authenticate(header, SECRET)
    assert 'error_description="The signature is invalid"' in description(header, b"another-secret-of-thirty-two-byte")
    assert 'error_description="The signature is invalid"' in description(header[:-2] + ("AA" if header[-2:] != "AA"
                                                                                          else "BB"))


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_MAX_VERIFIED", 3)
    for n in range(7):
        auth.authenticate(bearer(jti=str(n)), SECRET)
    assert len(auth._verified) <= 3


def _clock_at(moment: float) -> type:
    """A stand-in for PyJWT's ``datetime`` whose ``now`` is ``moment``."""
    from datetime import datetime, timezone

    class Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return datetime.fromtimestamp(moment, tz=timezone.utc)
    return Clock
