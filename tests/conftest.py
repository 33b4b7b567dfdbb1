"""Session fixtures shared by the whole test tree: one emulator on a free loopback port."""

from collections.abc import Iterator

import pytest
import requests

from mock_server.launcher import Emulator, start_emulator


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """An emulator on 127.0.0.1 (free port) with a temporary data dir; stopped at the end of the session."""
    with start_emulator(tmp_path_factory.mktemp("emulator-data")) as emu:
        yield emu


@pytest.fixture(scope="session")
def emulator_client(emulator: Emulator) -> Iterator[requests.Session]:
    """A session with an owner token; ``.base`` is the emulator's v2 base URL (no trailing slash)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emulator.token()}"
    session.base = emulator.base_url("v2")
    yield session
    session.close()
