"""The environment of a lesson's kernel (nbval's, nbclient's, JupyterLab's, a subprocess standing in for one).

The lessons choose their server only through the DICOMWEB_* variables (helpers/config.py), so a kernel gets
the test's server and none of the DICOMWEB_* settings of the user running the tests (their own token,
partition or emulator port would otherwise leak into the run).
"""

import os
from collections.abc import Mapping
from pathlib import Path

from mock_server.launcher import Emulator


def kernel_env(url: str, auth: str, server: str | None = None, data_dir: Path | str | None = None,
               base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without its DICOMWEB_* variables, plus the server given."""
    env = {key: value for key, value in (os.environ if base is None else base).items()
           if not key.startswith("DICOMWEB_")}
    env.update(DICOMWEB_URL=url, DICOMWEB_AUTH=auth)
    if server is not None:
        env["DICOMWEB_SERVER"] = server
    if data_dir is not None:
        env["DICOMWEB_EMULATOR_DATA_DIR"] = str(data_dir)
    return env


def emulator_kernel_env(emulator: Emulator, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """A kernel on ``emulator``'s v2 API as a learner's is: emulator tokens, Azure's behaviour, its data dir."""
    return kernel_env(emulator.base_url("v2"), "emulator", "azure", emulator.data_dir, base)
