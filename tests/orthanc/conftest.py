"""Fixtures of the Orthanc peer's own tests; the ``orthanc`` fixture itself is in tests/conftest.py."""

from types import ModuleType

import pytest

from tools import orthanc_peer


@pytest.fixture(scope="session")
def peer_tool() -> ModuleType:
    """The tools/orthanc_peer.py module."""
    return orthanc_peer
