"""Fixtures for the emulator tests: synthetic instances, clients with other credentials, own emulators."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.sessions import EmulatorSession
from tests.support.part10 import Instance, build_instance
from tests.support.stow import stow
from mock_server.launcher import Emulator, start_emulator


@pytest.fixture
def make_instance() -> Callable[..., Instance]:
    return build_instance


@pytest.fixture
def stored(emulator_client: EmulatorSession) -> Callable[..., Instance]:
    """Store a fresh synthetic instance (same arguments as ``build_instance``) and return it."""

    def store(**kwargs: Any) -> Instance:  # build_instance's keywords
        instance = build_instance(**kwargs)
        response = stow(emulator_client, [instance.data])
        assert response.status_code == 200, response.text
        return instance

    return store


@pytest.fixture(scope="session")
def reader_client(emulator_session: Callable[..., requests.Session]) -> requests.Session:
    return emulator_session(role="reader")


@pytest.fixture(scope="session")
def v1_client(emulator_session: Callable[..., requests.Session]) -> requests.Session:
    return emulator_session(version="v1")


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    """Start emulators private to one test (on tmp_path unless given a data dir); all stopped afterwards."""
    started: list[Emulator] = []

    def start(data_dir: Path | None = None, **kwargs: Any) -> Emulator:  # start_emulator's keywords
        emu = start_emulator(data_dir or tmp_path / "data", **kwargs)
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()
