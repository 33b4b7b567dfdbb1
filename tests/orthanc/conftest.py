"""Fixtures of the Orthanc peer's own tests; the ``orthanc`` fixture itself is in tests/conftest.py."""

import sys

import pytest

orthanc_session = sys.modules["dicomweb_tutorial_orthanc_session"]


@pytest.fixture(scope="session")
def peer_tool():
    """The tools/orthanc_peer.py module."""
    return orthanc_session.tool()
