"""Bearer-token authentication shaped like Azure's: HS256 JWTs signed with a secret in the data dir.

Azure checks Microsoft Entra tokens; the emulator checks tokens it minted itself (``make_token``),
with the same audience and data-plane role claims, so clients exercise the same header and the same
401/403 behaviour.
"""

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from .errors import DicomError

AUDIENCE = "https://dicom.healthcareapis.azure.com"
OWNER_ROLE = "DICOM Data Owner"
READER_ROLE = "DICOM Data Reader"
ROLES = {"owner": OWNER_ROLE, "reader": READER_ROLE}
SECRET_FILE = "token-secret"
_ALGORITHM = "HS256"


def load_secret(data_dir: Path) -> bytes:
    """The signing secret of ``data_dir``, created (mode 0600) on first use."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    try:
        # O_EXCL: the server and a token command may race to create it; one wins, both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
            f.flush()
            os.fsync(f.fileno())
    if path.stat().st_mode & 0o077:  # an existing secret others can read (or a umask that widened it)
        os.chmod(path, 0o600)
    for _ in range(50):
        secret = path.read_text().strip()
        if secret:
            return secret.encode()
        time.sleep(0.01)  # the creator has not written it yet
    raise RuntimeError(f"{path} is empty; delete it and try again")


def make_token(data_dir: Path, role: str = "owner", expires_in: int = 3600) -> tuple[str, int]:
    """A JWT the emulator using ``data_dir`` accepts: (token, expiry as Unix seconds)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}, not {role!r}")
    now = int(time.time())
    expires_on = now + int(expires_in)
    claims = {"aud": AUDIENCE, "iat": now, "exp": expires_on, "roles": [ROLES[role]]}
    return jwt.encode(claims, load_secret(data_dir), algorithm=_ALGORITHM), expires_on


@dataclass(frozen=True)
class Principal:
    roles: frozenset[str]

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


def authenticate(authorization: str | None, secret: bytes) -> Principal:
    """Check an Authorization header; raise a 401 DicomError when it is missing or invalid."""
    if not authorization:
        raise _unauthorized()
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], audience=AUDIENCE,
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
    return Principal(frozenset(r for r in roles if isinstance(r, str)))


def authorize(principal: Principal, write: bool) -> None:
    """403 when the token lacks the data-plane role the action needs (Azure's UnauthorizedDicomAction)."""
    if not (principal.can_write if write else principal.can_read):
        raise DicomError(403, "The principal does not have permission to perform the requested action.")
