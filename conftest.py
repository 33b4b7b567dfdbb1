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
# Variables a user may have set for their own server: the notebooks under test must not see them.
FOREIGN_VARIABLES = ("DICOMWEB_TOKEN", "DICOMWEB_EMULATOR_PORT")

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

    import matplotlib.font_manager  # noqa: F401 - builds the font cache now, not on a kernel's stderr

    data_dir = Path(tempfile.mkdtemp(prefix="nbval-emulator-"))
    emulator = start_emulator(data_dir=data_dir, port=0)
    environment = {
        "DICOMWEB_URL": emulator.base_url("v2"),
        "DICOMWEB_AUTH": "emulator",
        "DICOMWEB_SERVER": "azure",
        "DICOMWEB_EMULATOR_DATA_DIR": str(data_dir),
    }
    _state.update(emulator=emulator, data_dir=data_dir,
                  saved={name: os.environ.get(name) for name in (*environment, *FOREIGN_VARIABLES)})
    for name in FOREIGN_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(environment)


def pytest_sessionfinish(session: pytest.Session) -> None:
    emulator = _state.pop("emulator", None)
    if emulator is None:
        return
    emulator.stop()
    for name, value in _state.pop("saved").items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(_state.pop("data_dir"), ignore_errors=True)
