"""Stopping what a test started with `make` (`make lab`, `make viewer`): its process group, then the
emulator it left running in the background (binder/start detaches it, as it does for a learner)."""

import os
import signal
import subprocess
from pathlib import Path


def stop_make(process: subprocess.Popen, emulator_data_dir: Path) -> None:
    """Stop ``make``'s process group (started with ``start_new_session``) and the emulator it started."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)
    pid_file = emulator_data_dir / "emulator.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
