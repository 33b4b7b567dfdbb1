"""Minting the emulator's bearer tokens: HS256 JWTs signed with the secret in the data dir.

Clients import this module (``helpers.auth.EmulatorCredential``, tests, the stand-in Azure CLI of
``tests/notebooks/test_azure_path.py``), so it needs PyJWT only: no Starlette, no server module.
The server's checks of these tokens live in ``auth.py``.
"""

import hashlib
import os
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

AUDIENCE = "https://dicom.healthcareapis.azure.com"
"""The DICOM service's audience (Azure's ``aud`` for every DICOM service, whatever its URL)."""
OWNER_ROLE = "DICOM Data Owner"
READER_ROLE = "DICOM Data Reader"
ROLES = {"owner": OWNER_ROLE, "reader": READER_ROLE}
SECRET_FILE = "token-secret"
ALGORITHM = "HS256"
PARTITION_CLAIM = "emulator_partition"
"""The emulator's own claim (not Azure's): a token carrying it may use that one data partition only.
Azure's roles grant a token every partition; the classroom tokens carry this claim, so that one
learner's requests never reach another learner's partition."""
CLAIM_SHAPES = ("entra", "minimal")
"""``entra``: the claims Microsoft Entra ID puts in a DICOM-service token (the default);
``minimal``: only what the emulator checks (``aud``, ``iat``, ``exp``, ``roles``)."""


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


def _synthetic_id(secret: bytes, name: str) -> str:
    # A GUID that stays the same for one data dir (so a learner sees one tenant and one user per
    # role across runs) and is derived from nothing real: a hash of the secret, never the secret.
    digest = hashlib.sha256(secret).hexdigest()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:dicom-emulator:{digest}:{name}"))


def entra_claims(secret: bytes, role: str, now: int, expires_on: int) -> dict[str, Any]:
    """The claims of a Microsoft Entra ID v1 access token for the DICOM service, with synthetic IDs.

    ``iss`` names the tenant as Entra's v1 endpoint does (``https://sts.windows.net/<tid>/``);
    ``oid`` is the signed-in identity's object ID, ``uti`` the token's own ID; ``nbf`` and ``iat``
    are the issue time. On Azure, data-plane roles come from role assignments; the emulator reads
    them from ``roles``, as Microsoft's open-source server does (SecurityModule.cs maps "roles").
    """
    tenant = _synthetic_id(secret, "tenant")
    return {"aud": AUDIENCE, "iss": f"https://sts.windows.net/{tenant}/", "iat": now, "nbf": now,
            "exp": expires_on, "oid": _synthetic_id(secret, f"oid:{role}"), "tid": tenant,
            "roles": [ROLES[role]], "uti": secrets.token_urlsafe(16), "ver": "1.0"}


def make_token(data_dir: Path, role: str = "owner", expires_in: int = 3600,
               shape: str = "entra", partition: str | None = None) -> tuple[str, int]:
    """A JWT the emulator using ``data_dir`` accepts: (token, expiry as Unix seconds).

    ``partition``: restrict the token to that data partition (``PARTITION_CLAIM``, the emulator's
    restriction: Azure has none).
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {sorted(ROLES)}, not {role!r}")
    if shape not in CLAIM_SHAPES:
        raise ValueError(f"shape must be one of {list(CLAIM_SHAPES)}, not {shape!r}")
    secret = load_secret(data_dir)
    now = int(time.time())
    expires_on = now + int(expires_in)
    if shape == "entra":
        claims = entra_claims(secret, role, now, expires_on)
    else:
        claims = {"aud": AUDIENCE, "iat": now, "exp": expires_on, "roles": [ROLES[role]]}
    if partition is not None:
        claims[PARTITION_CLAIM] = partition
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_on
