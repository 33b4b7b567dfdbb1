"""The HTTP session the emulator tests talk through."""

import requests


class EmulatorSession(requests.Session):
    """A session with a bearer token whose ``base`` is one API version's base URL (no trailing slash)."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__()
        self.base = base
        self.headers["Authorization"] = f"Bearer {token}"
