"""Fixtures of the notebook tests: one fresh emulator that the executed notebooks share."""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def kernel_env() -> Iterator[dict[str, str]]:
    """Environment for the kernels: one fresh emulator shared by every notebook run."""
    from mock_server.launcher import start_emulator

    with tempfile.TemporaryDirectory(prefix="notebook-emulator-") as data_dir:
        with start_emulator(data_dir=Path(data_dir), port=0) as emulator:
            env = {key: value for key, value in os.environ.items()
                   if key not in ("DICOMWEB_TOKEN", "DICOMWEB_EMULATOR_PORT")}
            env.update(DICOMWEB_URL=emulator.base_url("v2"), DICOMWEB_AUTH="emulator",
                       DICOMWEB_SERVER="azure", DICOMWEB_EMULATOR_DATA_DIR=data_dir)
            yield env
