"""Bearer-token authentication for requests, with azure-identity style credentials.

Every credential here has ``get_token(*scopes) -> AccessToken(token, expires_on)``, the same
method azure-identity's credentials have, so ``BearerAuth`` works with any of them.
"""

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from azure.core.credentials import AccessToken
from requests import PreparedRequest
from requests.auth import AuthBase

from mock_server.tokens import make_token  # PyJWT only: no server module (mock_server/README.md)

# The DICOM service's audience plus "/.default": "whatever roles I was granted on it".
DICOM_SCOPE = "https://dicom.healthcareapis.azure.com/.default"
# Fetch a new token when the current one has less than this many seconds left.
REFRESH_MARGIN = 300


class TokenCredential(Protocol):
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken: ...


class EmulatorCredential:
    """Tokens the local emulator accepts, signed with the secret in its data directory."""

    def __init__(self, data_dir: Path, role: str = "owner", expires_in: int = 3600) -> None:
        self.data_dir = Path(data_dir)
        self.role = role
        self.expires_in = expires_in

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token, expires_on = make_token(self.data_dir, role=self.role, expires_in=self.expires_in)
        return AccessToken(token, expires_on)


class StaticTokenCredential:
    """A token you already have (e.g. from ``az account get-access-token``)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("StaticTokenCredential needs a non-empty token")
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        # It cannot be renewed: claim it never expires and let the server say 401 when it does.
        return AccessToken(self._token, 2**63 - 1)


def azure_credential() -> TokenCredential:
    """azure-identity's DefaultAzureCredential (Azure CLI login, managed identity, environment...).

    Its chain follows azure-identity's ``AZURE_TOKEN_CREDENTIALS`` variable: ``AzureCliCredential``
    keeps only ``az login`` (what tests/notebooks/test_azure_path.py sets), ``dev`` the developer tools.
    """
    from azure.identity import DefaultAzureCredential  # slow to import; only needed for Azure

    return DefaultAzureCredential()


class BearerAuth(AuthBase):
    """Adds ``Authorization: Bearer <token>`` to each request, renewing the token before it expires."""

    def __init__(self, credential: TokenCredential, scope: str = DICOM_SCOPE,
                 clock: Callable[[], float] = time.time) -> None:
        self.credential = credential
        self.scope = scope
        self._clock = clock
        self._token: AccessToken | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """The current token, fetched anew if it is missing or within REFRESH_MARGIN of expiring."""
        with self._lock:
            if self._token is None or self._token.expires_on - self._clock() < REFRESH_MARGIN:
                self._token = self.credential.get_token(self.scope)
            return self._token.token

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request
