"""Start the local DICOM service emulator in the background when nothing answers yet.

The emulator started here outlives the notebook that started it, so every notebook shares one;
stop it with ``kill $(cat .emulator-data/emulator.pid)`` (or whichever data dir you configured).
"""

import subprocess
import sys
import time
from pathlib import Path

import requests

from .config import Config

LOG_NAME = "emulator.log"
PID_NAME = "emulator.pid"


def answers(url: str) -> bool:
    """True if an HTTP server answers at ``url`` (any status: without a token the emulator says 401)."""
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def ensure_emulator(config: Config, timeout: float = 30.0) -> int | None:
    """Make sure the emulator answers at ``config.url``; start it if not.

    Returns the process id of the emulator it started, or None if one was already answering.
    """
    if answers(config.url):
        return None
    data_dir = Path(config.emulator_data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "mock_server", "--host", "127.0.0.1",
               "--port", str(config.emulator_port), "--data-dir", str(data_dir)]
    with open(data_dir / LOG_NAME, "ab") as log:
        # A new session, so the emulator keeps running when this kernel restarts or exits.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(config.url):
            (data_dir / PID_NAME).write_text(f"{process.pid}\n")
            return process.pid
        if process.poll() is not None:
            # Another notebook may have started one on the same port a moment before us.
            if answers(config.url):
                return None
            break
        time.sleep(0.2)
    else:
        process.kill()
        process.wait()
    log_tail = (data_dir / LOG_NAME).read_text(errors="replace").splitlines()[-10:]
    raise RuntimeError(f"The emulator did not start answering at {config.url}. "
                       f"Command: {' '.join(command)}\nLast lines of {data_dir / LOG_NAME}:\n"
                       + "\n".join(log_tail))
