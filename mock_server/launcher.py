"""Start the emulator (a ``python -m mock_server`` subprocess), and recognise one that is running.

The project's one launcher: ``helpers.connect()`` and ``binder/start`` (through ``helpers.emulator``),
the tests, ``tests/notebooks/regenerate.py`` and the benchmarks all start the emulator here. Clients
import it, so it loads no server module: the subprocess does (README.md, "What a client may import").
"""

import atexit
import functools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import requests

from . import BANNER, DEFAULT_DATA_DIR
from .tokens import make_token

STARTUP_TIMEOUT = 60.0
PROBE_PATH = "/v2/changefeed/latest"
"""What ``probe`` asks for: a cheap authenticated read, sent without a token."""


@dataclass(frozen=True)
class PortAnswer:
    """How the program listening at a root URL answered ``GET /v2/changefeed/latest`` without a token."""

    description: str
    is_emulator: bool


def probe(root_url: str, timeout: float = 2.0) -> PortAnswer | None:
    """Who listens at ``root_url`` (``http://host:port``): None when nothing accepts connections.

    The emulator answers an unauthenticated request as Azure does: 401, ``WWW-Authenticate: Bearer``,
    an empty body, and no ``Server`` header (it names no server software, nor does Azure). A web
    server, JupyterLab or an Orthanc left on the port answers otherwise.
    """
    parts = urlsplit(root_url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout):
            pass
    except OSError:
        return None
    try:
        response = requests.get(root_url.rstrip("/") + PROBE_PATH, timeout=timeout, allow_redirects=False)
    except requests.RequestException as error:
        return PortAnswer(f"it accepts connections but gave no HTTP answer ({type(error).__name__})", False)
    server = response.headers.get("Server")
    is_emulator = (response.status_code == 401 and response.headers.get("WWW-Authenticate") == "Bearer"
                   and server is None and not response.content)
    description = f"it answered GET {PROBE_PATH} with {response.status_code} {response.reason}"
    if server:
        description += f", Server: {server}"
    return PortAnswer(description, is_emulator)


def emulator_command(data_dir: Path, port: int = 0, host: str = "127.0.0.1", in_memory: bool = False,
                     extra_args: list[str] | None = None) -> list[str]:
    """The command line that serves ``data_dir`` on ``host:port`` (``port=0``: a free port)."""
    command = [sys.executable, "-m", "mock_server", "--host", host, "--port", str(port),
               "--data-dir", str(data_dir)]
    if in_memory:
        command.append("--in-memory")
    return command + (extra_args or [])


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


def _collect(stream: IO[str], lines: list[str]) -> None:
    # Keep reading until EOF so the child never blocks on a full pipe.
    for line in stream:
        lines.append(line)


def _read_from(path: Path, offset: int) -> str:
    with open(path, "rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def _banner_root(output: str) -> str | None:
    for line in output.splitlines():
        if line.startswith(BANNER):
            return line[len(BANNER):].strip()
    return None


def start_emulator(data_dir: Path | None = None, port: int = 0, in_memory: bool = False,
                   host: str = "127.0.0.1", extra_args: list[str] | None = None,
                   log_path: Path | None = None, timeout: float = STARTUP_TIMEOUT) -> Emulator:
    """Start the emulator and wait until it answers as the emulator.

    ``data_dir`` defaults to ``DEFAULT_DATA_DIR``; ``port=0`` picks a free port. Without
    ``log_path`` the emulator is a child of this process, stopped when it exits. With ``log_path``
    its output is appended to that file and it runs in its own session, so it outlives this process
    (how ``helpers.connect()`` starts the emulator that every notebook then shares).
    """
    data_dir = Path(data_dir if data_dir is not None else DEFAULT_DATA_DIR).resolve()
    command = emulator_command(data_dir, port, host, in_memory, extra_args)
    cwd = Path(__file__).resolve().parent.parent
    reader: threading.Thread | None = None
    output: Callable[[], str]
    process: subprocess.Popen[str] | subprocess.Popen[bytes]
    if log_path is None:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                                   cwd=cwd)
        lines: list[str] = []
        reader = threading.Thread(target=_collect, args=(process.stdout, lines), daemon=True)
        reader.start()
        output = functools.partial("".join, lines)
    else:
        log_path = Path(log_path)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            start = log.tell()
            # A new session, so the emulator keeps running when this kernel restarts or exits.
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True)
        output = functools.partial(_read_from, log_path, start)

    deadline = time.monotonic() + timeout
    root_url = _banner_root(output())
    while root_url is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        root_url = _banner_root(output())
    if root_url is None:
        if process.poll() is None:
            process.kill()
        process.wait()
        if reader is not None:
            reader.join(1)  # the last lines the child wrote before it exited
        tail = "\n".join(output().splitlines()[-10:])
        raise RuntimeError(f"the emulator did not start (exit code {process.returncode}); "
                           f"command: {' '.join(command)}" + (f"\nits last lines:\n{tail}" if tail else ""))
    emulator = Emulator(process, root_url, data_dir)
    if log_path is None:
        atexit.register(emulator.stop)
    # The banner is printed once the socket accepts; one request confirms the app answers.
    while True:
        answer = probe(root_url)
        if answer is not None and answer.is_emulator:
            return emulator
        if process.poll() is not None or time.monotonic() > deadline:
            emulator.stop()
            raise RuntimeError(f"the emulator at {root_url} stopped answering during start-up"
                               + (f" ({answer.description})" if answer else ""))
        time.sleep(0.05)
