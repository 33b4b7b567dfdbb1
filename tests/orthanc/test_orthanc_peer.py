"""tools/orthanc_peer.py: install, loopback-only listening, start/status/stop, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.support import orthanc_session


ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "orthanc_peer.py"
LISTEN = "0A"


def listening_addresses(port: int) -> list[str]:
    """Local addresses of every TCP socket listening on ``port`` (IPv4 and IPv6), read from /proc."""
    found = []
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            address, port_hex = fields[1].split(":")
            if fields[3] == LISTEN and int(port_hex, 16) == port:
                assert len(address) == width
                found.append(_decode_address(address))
    return found


def _decode_address(hex_address: str) -> str:
    if len(hex_address) == 8:
        # /proc prints the IPv4 address as a little-endian 32-bit word.
        return ".".join(str(b) for b in reversed(bytes.fromhex(hex_address)))
    words = [bytes.fromhex(hex_address[i:i + 8])[::-1] for i in range(0, 32, 8)]
    return ":".join(b"".join(words)[i:i + 2].hex() for i in range(0, 16, 2))


def test_fixture_never_skips_when_orthanc_can_be_installed(request, peer_tool):
    """As root (CI) the fixture installs and starts Orthanc; it may skip only when it truly cannot."""
    reason = orthanc_session.unavailable_reason()
    if peer_tool.can_install() or not peer_tool.missing_packages():
        assert reason is None
        try:
            peer = request.getfixturevalue("orthanc")
        except pytest.skip.Exception as exc:
            pytest.fail(f"the orthanc fixture skipped although Orthanc can run here: {exc}")
        assert peer_tool.missing_packages() == []
        assert requests.get(peer.dicomweb_url + "/studies", timeout=10).status_code == 200
    else:
        # Not root and not installed: the one accepted skip, with a message saying how to install.
        assert reason is not None and "apt-get install" in reason and "orthanc-dicomweb" in reason
        with pytest.raises(pytest.skip.Exception, match="Orthanc peer unavailable"):
            request.getfixturevalue("orthanc")


def test_peer_listens_on_loopback_only(orthanc):
    addresses = listening_addresses(orthanc.port)
    assert addresses == ["127.0.0.1"]


def test_peer_serves_dicomweb_and_rest(orthanc):
    studies = requests.get(orthanc.dicomweb_url + "/studies", headers={"Accept": "application/dicom+json"},
                           timeout=10)
    assert studies.status_code == 200
    assert studies.headers["Content-Type"].startswith("application/dicom+json")
    plugins = requests.get(orthanc.rest_url + "/plugins", timeout=10)
    assert plugins.status_code == 200
    assert "dicom-web" in plugins.json()
    assert orthanc.dicomweb_url == f"http://127.0.0.1:{orthanc.port}/dicom-web"


def test_install_left_no_system_orthanc_running(orthanc, peer_tool):
    """The packages' own service (ports 8042/4242 with /etc/orthanc) must not be running."""
    assert peer_tool._system_orthanc_pids() == []


def test_stop_ends_exactly_the_process_it_started(orthanc, peer_tool, tmp_path):
    second = peer_tool.start(tmp_path / "second")
    assert second.pid != orthanc.pid
    assert peer_tool.status(tmp_path / "second").pid == second.pid
    assert listening_addresses(second.port) == ["127.0.0.1"]

    second.stop()

    assert peer_tool.status(tmp_path / "second") is None
    assert not (tmp_path / "second" / "orthanc.pid").exists()
    assert second.process.returncode is not None
    # The session's peer is untouched.
    assert requests.get(orthanc.dicomweb_url + "/studies", timeout=10).status_code == 200


def test_stale_pid_file_never_kills_another_process(peer_tool, tmp_path):
    """A pid file naming a process that is not this directory's Orthanc is ignored."""
    (tmp_path / "orthanc.pid").write_text(f"{os.getpid()}\n")
    (tmp_path / "orthanc.port").write_text("8042\n")
    assert peer_tool.status(tmp_path) is None
    assert peer_tool.stop(tmp_path) is False
    assert not (tmp_path / "orthanc.pid").exists()


def test_explicit_busy_port_is_refused(orthanc, peer_tool, tmp_path):
    with pytest.raises(peer_tool.OrthancUnavailable, match=f"port {orthanc.port} is already in use"):
        peer_tool.start(tmp_path / "busy", port=orthanc.port)
    assert not (tmp_path / "busy" / "orthanc.pid").exists()


def test_command_line_start_status_stop(orthanc, tmp_path):
    peer_dir = tmp_path / "cli"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(TOOL), *args, str(peer_dir)], capture_output=True, text=True,
                              timeout=120)

    started = run("start")
    assert started.returncode == 0, started.stderr
    url = next(line.split()[-1] for line in started.stdout.splitlines() if "DICOMweb:" in line)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/dicom-web")
    try:
        assert requests.get(url + "/studies", timeout=10).status_code == 200
        again = run("start")
        assert again.returncode == 0 and url in again.stdout  # idempotent: same peer
        running = run("status")
        assert running.returncode == 0 and url in running.stdout
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0 and stopped.stdout.strip() == "stopped"
    after = run("status")
    assert after.returncode == 1 and after.stdout.strip() == "not running"


def test_missing_packages_without_root_is_a_clear_error(peer_tool, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(peer_tool, "ORTHANC_BINARY", tmp_path / "no-such-Orthanc")
    monkeypatch.setattr(peer_tool, "is_root", lambda: False)

    with pytest.raises(peer_tool.OrthancUnavailable) as error:
        peer_tool.start(tmp_path / "peer")
    message = str(error.value)
    assert "missing Debian package(s): orthanc" in message
    assert "not running as root" in message
    assert "apt-get install -y --no-install-recommends orthanc orthanc-dicomweb" in message

    assert peer_tool.main(["start", str(tmp_path / "peer")]) == 2
    assert "apt-get install" in capsys.readouterr().err
    assert not (tmp_path / "peer" / "orthanc.pid").exists()


def test_missing_packages_skip_the_fixture_with_that_message(peer_tool, monkeypatch, tmp_path):
    monkeypatch.setattr(peer_tool, "DICOMWEB_PLUGIN", tmp_path / "no-such-plugin.so")
    monkeypatch.setattr(peer_tool, "is_root", lambda: False)
    reason = orthanc_session.unavailable_reason()
    assert reason.startswith("Orthanc peer unavailable: Debian package(s) orthanc-dicomweb not installed")


def test_without_a_compiler_start_refuses_unless_allowed(peer_tool, monkeypatch, tmp_path):
    monkeypatch.setattr(peer_tool.shutil, "which", lambda name: None)
    with pytest.raises(peer_tool.OrthancUnavailable, match="no C compiler"):
        peer_tool.start(tmp_path / "peer", install=False)
    assert not (tmp_path / "peer" / "orthanc.pid").exists()
    assert peer_tool._build_shim(tmp_path, allow_all_interfaces=True) is None


def _fake_apt_get(directory: Path, policy: Path, exit_code: int = 0) -> Path:
    """An apt-get stand-in that records its arguments and whether policy-rc.d forbids services then."""
    log = directory / "apt-get.log"
    script = directory / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "args: $*" >> "{log}"\n'
        f'if [ -x "{policy}" ]; then "{policy}"; echo "policy-rc.d exit: $?" >> "{log}"; '
        f'else echo "policy-rc.d absent" >> "{log}"; fi\n'
        f"exit {exit_code}\n")
    script.chmod(0o755)
    return log


def test_install_runs_apt_get_with_services_held_back(peer_tool, monkeypatch, tmp_path):
    """Missing packages as root: apt-get update, then install, with a temporary policy-rc.d (exit 101)."""
    policy = tmp_path / "policy-rc.d"
    log = _fake_apt_get(tmp_path, policy)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(peer_tool, "POLICY_RC_D", policy)
    monkeypatch.setattr(peer_tool, "is_root", lambda: True)
    answers = iter([["orthanc", "orthanc-dicomweb"], []])  # missing before apt-get, present after
    monkeypatch.setattr(peer_tool, "missing_packages", lambda: next(answers))

    peer_tool.ensure_installed()

    assert log.read_text().splitlines() == [
        "args: -o DPkg::Lock::Timeout=300 update",
        "policy-rc.d exit: 101",
        "args: -o DPkg::Lock::Timeout=300 install -y --no-install-recommends orthanc orthanc-dicomweb",
        "policy-rc.d exit: 101",
    ]
    assert not policy.exists()  # the temporary policy is removed again


def test_failed_install_is_a_clear_error(peer_tool, monkeypatch, tmp_path):
    policy = tmp_path / "policy-rc.d"
    _fake_apt_get(tmp_path, policy, exit_code=100)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(peer_tool, "POLICY_RC_D", policy)
    monkeypatch.setattr(peer_tool, "is_root", lambda: True)
    monkeypatch.setattr(peer_tool, "missing_packages", lambda: ["orthanc"])

    with pytest.raises(peer_tool.OrthancUnavailable, match="update failed with exit code 100"):
        peer_tool.ensure_installed()
    assert not policy.exists()
