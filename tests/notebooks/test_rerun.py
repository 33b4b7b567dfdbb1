"""The notebooks can be run again and again, in any order, against one server.

Each notebook is executed twice in a row, then all of them in reverse order, with nbclient
against one emulator; a cell that raises (a failed assert included) fails the test.
"""

import os
import tempfile
from pathlib import Path

import pytest

from lesson_files import execute, lesson_paths

NOTEBOOKS = {path.stem: path for path in lesson_paths()}
LESSONS = list(NOTEBOOKS)


@pytest.fixture(scope="module")
def kernel_env():
    """Environment for the kernels: one fresh emulator shared by every run in this module."""
    from mock_server.launcher import start_emulator

    with tempfile.TemporaryDirectory(prefix="rerun-emulator-") as data_dir:
        with start_emulator(data_dir=Path(data_dir), port=0) as emulator:
            env = {key: value for key, value in os.environ.items()
                   if key not in ("DICOMWEB_TOKEN", "DICOMWEB_EMULATOR_PORT")}
            env.update(DICOMWEB_URL=emulator.base_url("v2"), DICOMWEB_AUTH="emulator",
                       DICOMWEB_SERVER="azure", DICOMWEB_EMULATOR_DATA_DIR=data_dir)
            yield env


@pytest.mark.parametrize("name", LESSONS)
def test_runs_twice_in_a_row(name, kernel_env):
    # The second run meets whatever the first left behind (leftovers would fail its asserts).
    execute(NOTEBOOKS[name], kernel_env)
    execute(NOTEBOOKS[name], kernel_env)


def test_all_run_in_reverse_order(kernel_env):
    for name in reversed(LESSONS):
        execute(NOTEBOOKS[name], kernel_env)
