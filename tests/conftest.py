"""Session fixtures shared by the whole test tree: one emulator and one Orthanc peer on loopback."""

import socket
from collections.abc import Callable, Iterator

import pytest

from mock_server.launcher import Emulator, start_emulator
from tests.support import orthanc_session
from tests.support.sessions import EmulatorSession
from tools.orthanc_peer import OrthancPeer


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """``free_port()``: a TCP port on 127.0.0.1 that nothing listens on right now."""
    return _free_port


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator on 127.0.0.1 (free port) with a temporary data dir; stopped at the end of the session."""
    with start_emulator(tmp_path_factory.mktemp("emulator-data")) as emu:
        yield emu


@pytest.fixture(scope="session")
def emulator_session(emulator: Emulator) -> Iterator[Callable[..., EmulatorSession]]:
    """``emulator_session(role="owner", version="v2")``: a session with that role's token, whose
    ``.base`` is the emulator's base URL for that version (no trailing slash); closed at the end."""
    sessions: list[EmulatorSession] = []

    def make(role: str = "owner", version: str = "v2") -> EmulatorSession:
        session = EmulatorSession(emulator.base_url(version), emulator.token(role))
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture(scope="session")
def emulator_client(emulator_session: Callable[..., EmulatorSession]) -> EmulatorSession:
    """A session with an owner token; ``.base`` is the emulator's v2 base URL (no trailing slash)."""
    return emulator_session()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that need Chromium or the Orthanc peer, by the fixtures they use (`make test-fast`
    deselects them); tests/standard asks for Orthanc through its ``dicomweb_server`` parameter."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        if "chromium" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "orthanc" in fixtures or (callspec is not None and callspec.params.get("dicomweb_server") == "orthanc"):
            item.add_marker(pytest.mark.orthanc)


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancPeer]:
    """The shared Orthanc peer (``.dicomweb_url``, ``.rest_url``); skipped only when Orthanc is
    missing and cannot be installed (not root)."""
    peer = orthanc_session.start_peer(tmp_path_factory.mktemp("orthanc-peer"))
    yield peer
    peer.stop()
