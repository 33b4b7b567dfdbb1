"""Fixtures of the notebook tests: one fresh emulator that the executed notebooks share."""

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.kernels import emulator_kernel_env


@pytest.fixture(scope="session")
def kernel_env() -> Iterator[dict[str, str]]:
    """Environment for the kernels: one fresh emulator shared by every notebook run."""
    from mock_server.launcher import start_emulator

    with tempfile.TemporaryDirectory(prefix="notebook-emulator-") as data_dir:
        with start_emulator(data_dir=Path(data_dir), port=0) as emulator:
            yield emulator_kernel_env(emulator)
