"""Run the notebooks under nbval against a fresh emulator.

nbval starts one kernel per notebook while it collects, before any fixture runs, so the emulator
is started in ``pytest_sessionstart`` and handed to the kernels through the environment they
inherit.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SANITIZE_FILE = REPO / "tests" / "notebooks" / "nbval_sanitize.cfg"

_state: dict = {}


def pytest_configure(config: pytest.Config) -> None:
    # nbval opens the sanitize file relative to the working directory; make it work from anywhere.
    given = getattr(config.option, "nbval_sanitize_with", None)
    if given and not Path(given).exists() and (REPO / given).exists():
        config.option.nbval_sanitize_with = str(REPO / given)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not session.config.getoption("nbval", default=False):
        return
    from mock_server.launcher import start_emulator
    from tests.support.kernels import emulator_kernel_env

    import matplotlib.font_manager  # noqa: F401 - builds the font cache now, not on a kernel's stderr

    data_dir = Path(tempfile.mkdtemp(prefix="nbval-emulator-"))
    emulator = start_emulator(data_dir=data_dir, port=0)
    # The kernels inherit this process's environment: it becomes theirs (no DICOMWEB_* of the user's).
    saved = {name: value for name, value in os.environ.items() if name.startswith("DICOMWEB_")}
    _state.update(emulator=emulator, data_dir=data_dir, saved=saved)
    for name in saved:
        del os.environ[name]
    os.environ.update({name: value for name, value in emulator_kernel_env(emulator).items()
                       if name.startswith("DICOMWEB_")})


def pytest_sessionfinish(session: pytest.Session) -> None:
    emulator = _state.pop("emulator", None)
    if emulator is None:
        return
    emulator.stop()
    for name in [name for name in os.environ if name.startswith("DICOMWEB_")]:
        del os.environ[name]
    os.environ.update(_state.pop("saved"))
    shutil.rmtree(_state.pop("data_dir"), ignore_errors=True)
