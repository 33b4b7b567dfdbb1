"""The command line: start-up banner, free ports, the loopback warning rule, and the launcher."""

import signal
import subprocess
import sys

import pytest
import requests

from mock_server import BANNER, DEFAULT_DATA_DIR, DEFAULT_PORT
from mock_server.__main__ import is_loopback
from mock_server.launcher import start_emulator


def test_defaults():
    assert DEFAULT_PORT == 8765
    assert DEFAULT_DATA_DIR.name == ".emulator-data"
    assert (DEFAULT_DATA_DIR.parent / "mock_server").is_dir()


def test_banner_lists_the_base_urls(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "mock_server", "--port", "0", "--data-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline().rstrip("\n")
        assert first.startswith(f"{BANNER} http://127.0.0.1:")
        root = first[len(BANNER) + 1:]
        port = int(root.rsplit(":", 1)[1])
        assert port not in (0, DEFAULT_PORT)
        assert process.stdout.readline().rstrip("\n") == f"  {root}/v1"
        assert process.stdout.readline().rstrip("\n") == f"  {root}/v2"
        assert requests.get(f"{root}/v2/changefeed").status_code == 401  # up, and guarded
    finally:
        process.terminate()
        process.wait(30)
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "WARNING" not in process.stderr.read()


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True),
                                           ("::1", True), ("[::1]", True), ("0.0.0.0", False), ("::", False),
                                           ("192.168.1.10", False), ("example.org", False)])
def test_only_loopback_hosts_skip_the_warning(host, loopback):
    assert is_loopback(host) is loopback


def test_launcher_context_manager_stops_the_process(tmp_path):
    with start_emulator(tmp_path) as emu:
        assert emu.root_url.startswith("http://127.0.0.1:")
        assert emu.base_url("v1") == emu.root_url + "/v1"
        assert emu.base_url() == emu.root_url + "/v2"
        assert emu.data_dir == tmp_path.resolve()
        token = emu.token("reader")
        assert requests.get(f"{emu.base_url()}/changefeed", headers={"Authorization": f"Bearer {token}"}
                            ).status_code == 200
    assert emu.process.poll() is not None
    emu.stop()  # a second stop is harmless


def test_help_mentions_the_options():
    out = subprocess.run([sys.executable, "-m", "mock_server", "--help"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    for option in ("--host", "--port", "--data-dir", "--in-memory"):
        assert option in out
