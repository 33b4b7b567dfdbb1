"""Bearer-token authentication shaped like Azure's: checking the HS256 JWTs of ``tokens.py``.

Azure checks Microsoft Entra tokens; the emulator checks tokens it minted itself
(``tokens.make_token``), with the same audience and data-plane role claims, so clients exercise the
same header and the same 401/403 behaviour.
"""

import time
from dataclasses import dataclass
from typing import Any

import jwt

from .errors import DicomError
from .tokens import ALGORITHM, AUDIENCE, OWNER_ROLE, PARTITION_CLAIM, READER_ROLE


@dataclass(frozen=True)
class Principal:
    roles: frozenset[str]
    # The emulator's own restriction to one data partition (tokens.PARTITION_CLAIM); None: any, as on Azure.
    partition: str | None = None

    @property
    def can_read(self) -> bool:
        return bool(self.roles & {OWNER_ROLE, READER_ROLE})

    @property
    def can_write(self) -> bool:
        return OWNER_ROLE in self.roles


def _unauthorized(description: str | None = None) -> DicomError:
    # ASP.NET's JwtBearer handler: empty body; error details only when a token was presented.
    if description is None:
        challenge = "Bearer"
    else:
        challenge = f'Bearer error="invalid_token", error_description="{description}"'
    return DicomError(401, headers={"WWW-Authenticate": challenge})


@dataclass(frozen=True)
class _Verified:
    """A token whose signature and audience checked out, and the times between which it stays valid."""

    principal: Principal
    not_before: int  # its nbf or iat, whichever is later (PyJWT rejects a token before either)
    expires: int  # its exp: valid while now < exp


# A client sends the same token with every request; checking its HMAC signature again each time was about
# a tenth of the event loop's work for a small read. A token already verified is only checked against the
# clock (the same comparisons PyJWT makes); anything else, and a cached token outside its times, is decoded
# in full, so every 401 comes from the full check with its own description.
_verified: dict[tuple[bytes, str], _Verified] = {}
_MAX_VERIFIED = 4096


def authenticate(authorization: str | None, secret: bytes) -> Principal:
    """Check an Authorization header; raise a 401 DicomError when it is missing or invalid."""
    if not authorization:
        raise _unauthorized()
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    known = _verified.get((secret, token))
    if known is not None and known.not_before <= time.time() < known.expires:
        return known.principal
    principal, claims = _decode(token, secret)
    if len(_verified) >= _MAX_VERIFIED:
        _verified.clear()
    _verified[(secret, token)] = _Verified(principal, max(int(claims.get("nbf", 0)), int(claims.get("iat", 0))),
                                           int(claims["exp"]))
    return principal


def _decode(token: str, secret: bytes) -> tuple[Principal, dict[str, Any]]:
    """Verify ``token`` in full (signature, audience, times); its principal and claims, or a 401."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=AUDIENCE,
                            options={"require": ["exp", "aud"]}, leeway=0)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The token is expired") from None
    except jwt.InvalidAudienceError:
        raise _unauthorized("The audience is invalid") from None
    except jwt.InvalidSignatureError:
        raise _unauthorized("The signature is invalid") from None
    except jwt.PyJWTError:
        raise _unauthorized("The token is malformed") from None
    roles = claims.get("roles")
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, list):
        roles = []
    partition = claims.get(PARTITION_CLAIM)
    return Principal(frozenset(r for r in roles if isinstance(r, str)),
                     partition if isinstance(partition, str) else None), claims


def authorize_partition(principal: Principal, name: str) -> None:
    """403 when the token is restricted to another data partition: the emulator's rule, not Azure's."""
    if principal.partition is not None and principal.partition.lower() != name.lower():
        raise DicomError(403, f"This token is restricted to the data partition '{principal.partition}' "
                              "(an emulator-only restriction of classroom tokens; Azure's roles do not restrict "
                              "a token to a partition).")


def authorize(principal: Principal, write: bool) -> None:
    """403 when the token lacks the data-plane role the action needs (Azure's UnauthorizedDicomAction)."""
    if not (principal.can_write if write else principal.can_read):
        raise DicomError(403, "Authorization failed.")  # DicomCoreResource.Forbidden
