"""Start the local DICOM service emulator in the background when it is not running yet.

The emulator started here outlives the notebook that started it, so every notebook shares one;
stop it with ``kill $(cat .emulator-data/emulator.pid)`` (or whichever data dir you configured).
Starting and recognising it is ``mock_server.launcher``'s job, the one launcher of the project.
"""

from pathlib import Path
from urllib.parse import urlsplit

import requests

from mock_server.launcher import PortAnswer, probe, start_emulator

from .config import Config

LOG_NAME = "emulator.log"
PID_NAME = "emulator.pid"


class PortInUseError(RuntimeError):
    """Another program, not the emulator, listens on the emulator's port."""


def port_in_use_message(url: str, port: int, answer: PortAnswer) -> str:
    """What to tell a learner whose emulator port is held by something else, with the fix."""
    other = 8766 if port != 8766 else 8767
    return (f"Port {port} is held by another program, not the DICOM service emulator: {answer.description} "
            f"(at {url}). Stop that program, or run the emulator on another port: "
            f"DICOMWEB_EMULATOR_PORT={other} make lab (in Python, set DICOMWEB_EMULATOR_PORT={other} "
            "before helpers.connect()).")


def answers(url: str) -> bool:
    """True if an HTTP server answers at ``url`` (any status: without a token the emulator says 401)."""
    try:
        requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return True


def ensure_emulator(config: Config, timeout: float = 30.0) -> int | None:
    """Make sure the emulator answers at ``config.url``; start it if nothing listens there.

    Returns the process id of the emulator it started, or None if one was already answering.
    Raises PortInUseError when another program holds the port.
    """
    parts = urlsplit(config.url)
    root_url = f"{parts.scheme}://{parts.netloc}"
    answer = probe(root_url)
    if answer is None:
        data_dir = Path(config.emulator_data_dir)
        try:
            emulator = start_emulator(data_dir, port=config.emulator_port, log_path=data_dir / LOG_NAME,
                                      timeout=timeout)
        except RuntimeError:
            # Another notebook may have started one on the same port a moment before us.
            answer = probe(root_url)
            if answer is None:
                raise
        else:
            (data_dir / PID_NAME).write_text(f"{emulator.pid}\n")
            return emulator.pid
    if answer.is_emulator:
        return None
    raise PortInUseError(port_in_use_message(config.url, config.emulator_port, answer))
