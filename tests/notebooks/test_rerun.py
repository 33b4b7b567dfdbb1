"""The notebooks can be run again and again, in any order, against one server.

Each notebook is executed twice in a row, then all of them in reverse order, with nbclient (its
exercise solutions loaded into their cells: tools/check_server.py)
against one emulator (fixture ``kernel_env``); a cell that raises (a failed assert included) fails the test.
"""

import pytest

from tests.notebooks.lesson_files import execute
from tests.support.lessons import lesson_paths

# Runs lessons in a kernel: left out by `make test-fast`.
pytestmark = pytest.mark.notebook_run

NOTEBOOKS = {path.stem: path for path in lesson_paths()}
LESSONS = list(NOTEBOOKS)


@pytest.mark.parametrize("name", LESSONS)
def test_runs_twice_in_a_row(name, kernel_env):
    # The second run meets whatever the first left behind (leftovers would fail its asserts).
    execute(NOTEBOOKS[name], kernel_env)
    execute(NOTEBOOKS[name], kernel_env)


def test_all_run_in_reverse_order(kernel_env):
    for name in reversed(LESSONS):
        execute(NOTEBOOKS[name], kernel_env)
