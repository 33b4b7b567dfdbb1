"""The ``orthanc`` fixture: a real Orthanc + DICOMweb plugin on 127.0.0.1, shared by the session."""

import importlib.util
import sys
from pathlib import Path

import pytest

_SESSION_MODULE = "dicomweb_tutorial_orthanc_session"


def _orthanc_session():
    if _SESSION_MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(_SESSION_MODULE, Path(__file__).with_name("orthanc_session.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[_SESSION_MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[_SESSION_MODULE]


orthanc_session = _orthanc_session()


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    """The running peer; skipped only when Orthanc is missing and cannot be installed (not root)."""
    peer = orthanc_session.acquire(tmp_path_factory)
    yield peer
    orthanc_session.release()


@pytest.fixture(scope="session")
def peer_tool():
    """The tools/orthanc_peer.py module."""
    return orthanc_session.tool()
