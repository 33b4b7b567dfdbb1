"""Start the emulator in the background (a ``python -m mock_server`` subprocess) from tests or notebooks."""

import atexit
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import requests

from . import DEFAULT_DATA_DIR
from .__main__ import BANNER
from .auth import make_token

_STARTUP_TIMEOUT = 60.0


class Emulator:
    """A running emulator process; ``stop()`` it (or use ``with``) when done."""

    def __init__(self, process: subprocess.Popen, root_url: str, data_dir: Path) -> None:
        self.process = process
        self.root_url = root_url
        self.data_dir = data_dir

    @property
    def pid(self) -> int:
        return self.process.pid

    def base_url(self, version: str = "v2") -> str:
        return f"{self.root_url}/{version}"

    def token(self, role: str = "owner", expires_in: int = 3600) -> str:
        return make_token(self.data_dir, role, expires_in)[0]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process (gracefully, then forcibly); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Emulator({self.root_url}, pid={self.pid}, data_dir={str(self.data_dir)!r})"


def _read_lines(stream: IO[str], lines: "queue.Queue[str | None]") -> None:
    # Keep reading until EOF so the child never blocks on a full pipe.
    for line in stream:
        lines.put(line)
    lines.put(None)


def start_emulator(data_dir: Path | None = None, port: int = 0, in_memory: bool = False,
                   host: str = "127.0.0.1", extra_args: list[str] | None = None) -> Emulator:
    """Start the emulator and wait until it answers. ``data_dir`` defaults to ``DEFAULT_DATA_DIR``;
    ``port=0`` picks a free port. The process is stopped when this Python process exits."""
    data_dir = Path(data_dir if data_dir is not None else DEFAULT_DATA_DIR).resolve()
    cmd = [sys.executable, "-m", "mock_server", "--host", host, "--port", str(port), "--data-dir", str(data_dir)]
    if in_memory:
        cmd.append("--in-memory")
    cmd += extra_args or []
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                               cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
    root_url = None
    while root_url is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        if line is None:
            break
        if line.startswith(BANNER):
            root_url = line[len(BANNER):].strip()
    if root_url is None:
        process.kill()
        process.wait()
        raise RuntimeError(f"the emulator did not start (exit code {process.returncode}); "
                           f"command: {' '.join(cmd)}")
    emulator = Emulator(process, root_url, data_dir)
    atexit.register(emulator.stop)
    # The banner is printed once the socket accepts; one request confirms the app answers.
    while True:
        try:
            requests.get(f"{root_url}/v2/changefeed/latest", timeout=5)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                emulator.stop()
                raise RuntimeError("the emulator stopped answering during start-up") from None
            time.sleep(0.05)
    return emulator
